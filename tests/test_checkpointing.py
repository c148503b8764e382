"""Crash safety: atomic checkpoints, auto-resume, rotation, the signal stop, and SIGKILL chaos.

The first tests exercise ftkit.checkpointing on folders of small files; the slow ones launch finetune.py
under the deepspeed launcher and signal or kill it.
"""

import argparse
import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import psutil
import pytest
import torch
from chaos_train import Launch, check_checkpoint_loads, training_command
from chaos_train import main as chaos_main
from transformers import TrainerControl, TrainerState, TrainingArguments

from conftest import REPO
from ftkit.args import ConfigurationError
from ftkit.checkpointing import (
    EXIT_STOPPED_BY_SIGNAL,
    EpochSeededLengthGroupedSampler,
    GracefulStop,
    is_complete,
    publish,
    resolve_resume_checkpoint,
    rotate_checkpoints,
    scan_checkpoints,
)
from ftkit.run_files import LATEST_POINTER, MARKER


def write_checkpoint(run_dir, step, files=None):
    """A complete checkpoint-<step>, published the way the Trainer publishes one."""
    staging = run_dir / f".tmp-checkpoint-{step}"
    (staging / "global_step").mkdir(parents=True)
    for name, text in (files or {"model.safetensors": "weights", "global_step/optim.pt": "state"}).items():
        (staging / name).write_text(text)
    publish(staging, run_dir / f"checkpoint-{step}", step)
    return run_dir / f"checkpoint-{step}"


def test_run_file_names_load_without_torch():
    # scripts/eval_results.py reads run folders and must not pay for importing PyTorch.
    code = (
        "import sys, ftkit.run_files; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert loaded.stdout == "[]\n"


def test_publish_renames_a_sealed_folder_and_updates_the_pointer_last(tmp_path):
    final = write_checkpoint(tmp_path, 4)
    assert is_complete(final)
    assert not (tmp_path / ".tmp-checkpoint-4").exists()
    marker = json.loads((final / MARKER).read_text())
    assert marker["step"] == 4
    assert marker["files"] == {
        "global_step/optim.pt": {"size": 5, "sha256": hashlib.sha256(b"state").hexdigest()},
        "model.safetensors": {"size": 7, "sha256": hashlib.sha256(b"weights").hexdigest()},
    }
    assert (tmp_path / LATEST_POINTER).read_text() == "checkpoint-4\n"

    # The same step saved again (after resuming from an earlier checkpoint) replaces the old copy.
    write_checkpoint(tmp_path, 4, {"model.safetensors": "new weights"})
    assert (final / "model.safetensors").read_text() == "new weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-4", LATEST_POINTER]


@pytest.mark.parametrize(
    "damage",
    [
        lambda folder: (folder / MARKER).unlink(),
        lambda folder: (folder / MARKER).write_text('{"step": 4, "fi'),
        lambda folder: (folder / "model.safetensors").write_text("weig"),  # truncated
        lambda folder: (folder / "global_step" / "optim.pt").unlink(),
        lambda folder: folder.rename(folder.with_name("checkpoint-5")),  # marker for another step
    ],
)
def test_a_damaged_checkpoint_is_not_complete(tmp_path, damage):
    damage(write_checkpoint(tmp_path, 4))
    found = scan_checkpoints(tmp_path)
    assert found.complete == [] and len(found.partial) == 1


def test_auto_resumes_from_the_newest_complete_checkpoint_and_reports_partial_ones(tmp_path, caplog):
    for step in (2, 10, 4):
        write_checkpoint(tmp_path, step)
    (tmp_path / "checkpoint-12").mkdir()  # written in place and killed: no marker
    (tmp_path / ".tmp-checkpoint-14").mkdir()  # killed while staging
    caplog.set_level(logging.INFO, logger="ftkit")

    assert resolve_resume_checkpoint(tmp_path, "auto") == str(tmp_path / "checkpoint-10")
    assert "resuming from" in caplog.text and "checkpoint-10 (step 10)" in caplog.text
    assert "2 partial checkpoint folder(s)" in caplog.text and "checkpoint-12" in caplog.text
    assert (tmp_path / "checkpoint-12").exists(), "only --cleanup_partial_checkpoints deletes"

    assert resolve_resume_checkpoint(tmp_path, "auto", cleanup_partial=True) == str(
        tmp_path / "checkpoint-10"
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "checkpoint-10",
        "checkpoint-2",
        "checkpoint-4",
    ]


def test_other_resume_values(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="ftkit")
    assert resolve_resume_checkpoint(tmp_path / "missing", "auto") is None
    assert "starting fresh at step 0" in caplog.text

    write_checkpoint(tmp_path, 3)
    assert resolve_resume_checkpoint(tmp_path, None) is None
    assert "--resume_from_checkpoint auto" in caplog.text  # fresh although a checkpoint exists: say how

    named = tmp_path / "checkpoint-3"
    assert resolve_resume_checkpoint(tmp_path, str(named)) == str(named)
    with pytest.raises(ConfigurationError, match="no such folder"):
        resolve_resume_checkpoint(tmp_path, str(tmp_path / "checkpoint-9"))


def test_rotation_never_deletes_the_resumed_or_the_best_checkpoint(tmp_path):
    folders = {step: write_checkpoint(tmp_path, step) for step in (1, 2, 3, 4, 5, 6)}
    (tmp_path / "checkpoint-7").mkdir()  # partial: not counted, not deleted

    deleted = rotate_checkpoints(tmp_path, 2, keep={folders[6], str(folders[2]), folders[1]})
    assert [p.name for p in deleted] == ["checkpoint-3", "checkpoint-4", "checkpoint-5"]
    left = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert left == ["checkpoint-1", "checkpoint-2", "checkpoint-6", "checkpoint-7"]
    assert rotate_checkpoints(tmp_path, None, keep=set()) == []


def test_length_grouped_order_depends_only_on_seed_and_epoch():
    lengths = list(range(5, 69))
    sampler = EpochSeededLengthGroupedSampler(8, lengths, seed=42)
    sampler.set_epoch(1)
    torch.manual_seed(0)
    first = list(sampler)
    torch.manual_seed(1)  # a resumed run's global RNG is elsewhere
    again = EpochSeededLengthGroupedSampler(8, lengths, seed=42)
    again.set_epoch(1)
    assert list(again) == first
    again.set_epoch(2)
    assert list(again) != first
    assert sorted(first) == list(range(64))


def test_first_signal_stops_at_the_step_end_duplicates_are_one_request_a_later_one_exits(monkeypatch):
    stop = GracefulStop()
    args = TrainingArguments(output_dir="unused", use_cpu=True, report_to=[])
    state, control = TrainerState(), TrainerControl()
    exits = []
    monkeypatch.setattr(os, "_exit", exits.append)
    stop.on_train_begin(args, state, control)
    try:
        stop.on_step_end(args, state, control)
        assert not control.should_save and not control.should_training_stop

        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)  # relayed by the launcher: the same request
        assert stop.signal_name == "SIGTERM" and exits == []
        state.global_step = 7
        stop.on_step_end(args, state, control)
        assert control.should_save and control.should_training_stop and stop.stopped_at_step == 7

        stop._received_at = time.monotonic() - 2 * stop.REPEAT_WINDOW_S
        os.kill(os.getpid(), signal.SIGINT)
        assert exits == [128 + signal.SIGINT]
    finally:
        stop.on_train_end(args, state, control)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


# ---- End to end, under the deepspeed launcher ----


@contextmanager
def signal_run(tiny_model, tmp_path, ds_config, nproc):
    """Start a long run; yield it once it has logged three steps; kill what is left of it at the end."""
    options = argparse.Namespace(
        nproc=nproc, ds_config=REPO / "ds_configs" / ds_config, max_steps=500, save_steps=1000, seed=0
    )
    command = training_command(options, tiny_model("llama"), tmp_path / "run", final=False)
    launch = Launch(command, tmp_path / "launch.log", timeout_s=600)
    try:
        deadline = time.monotonic() + 300
        while sum("'loss':" in line for line in launch.lines) < 3:
            assert launch.running() and time.monotonic() < deadline, "".join(launch.lines[-50:])
            time.sleep(0.05)
        yield launch
    finally:
        launch.kill()


def assert_checkpoint_at_signalled_step(launch, run_dir, steps_later=0):
    """The checkpoint is of the step that was running when the signal came, or with several processes of
    the next one (the stop request is agreed one step end later, ftkit.checkpointing.GracefulStop)."""
    output = "".join(launch.lines)
    signalled = [int(s) for s in re.findall(r"SIGTERM during step (\d+)", output)]
    stopped = re.findall(r"stop requested: saving checkpoint-(\d+)", output)
    assert signalled and len(stopped) == 1, output[-5000:]
    step = int(stopped[0])
    assert step == max(signalled) + steps_later
    found = scan_checkpoints(run_dir)
    assert [p.name for p in found.complete] == [f"checkpoint-{step}"] and found.partial == []
    assert check_checkpoint_loads(run_dir / f"checkpoint-{step}") == step
    assert (run_dir / LATEST_POINTER).read_text() == f"checkpoint-{step}\n"
    assert not (run_dir / "model.safetensors").exists(), "a stopped run must not look finished"


@pytest.mark.slow
def test_sigterm_to_one_rank_checkpoints_the_current_step_and_exits_75(tiny_model, tmp_path):
    """ZeRO-3, two processes: only rank 1 is signalled, yet both stop at one step and rank 0 publishes."""
    with signal_run(tiny_model, tmp_path, "zero3.json", nproc=2) as launch:
        ranks = [
            p
            for p in psutil.Process(launch.process.pid).children(recursive=True)
            if "--local_rank=1" in p.cmdline()
        ]
        assert len(ranks) == 1
        ranks[0].send_signal(signal.SIGTERM)
        assert launch.wait(timeout=300) == EXIT_STOPPED_BY_SIGNAL
    assert_checkpoint_at_signalled_step(launch, tmp_path / "run", steps_later=1)


@pytest.mark.slow
def test_sigterm_to_the_process_group_still_checkpoints(tiny_model, tmp_path):
    """What Ctrl-C or a scheduler does: every process, the launcher's too, gets the signal."""
    with signal_run(tiny_model, tmp_path, "zero2.json", nproc=1) as launch:
        os.killpg(launch.process.pid, signal.SIGTERM)
        # The deepspeed runner dies at once; waiting for the end of its output waits for the rank too.
        launch.wait(timeout=300)
    assert_checkpoint_at_signalled_step(launch, tmp_path / "run")


@pytest.mark.slow
def test_chaos_three_kills_under_zero3(tmp_path, capsys):
    """The chaos script's logic, shortened: three SIGKILLs, then the run ends where an unkilled one does."""
    assert chaos_main(["--kills", "3", "--max_steps", "24", "--save_steps", "3", "--work_dir", str(tmp_path),
                       "--ds_config", str(REPO / "ds_configs" / "zero3.json")]) == 0  # fmt: skip
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"kills survived: 3/3, final step 24, loss diff 0", last), last
