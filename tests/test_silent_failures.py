"""Never silently wrong (issue 12): a corrupt checkpoint, a diverged run, two runs in one folder, changed
arguments, a full disk. Each case stops with its exit code and a message that names the cause, and leaves
every file that existed before as it was.

One tiny llama run (module fixture) writes checkpoint-2 and checkpoint-4; each case copies it and breaks it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import finetune
import preference_tune
from conftest import REPO, SAMPLE
from ftkit.checkpointing import EXIT_DIVERGED, publish
from ftkit.integrity import identity_differences, template_for


def train_argv(model: Path, output_dir: Path, *extra: str) -> list[str]:
    return [
        "--model_name_or_path", str(model), "--train_file", str(SAMPLE / "train.jsonl"),
        "--max_train_samples", "16", "--per_device_train_batch_size", "4", "--output_dir", str(output_dir),
        "--do_train", "--max_steps", "4", "--save_steps", "2", "--logging_steps", "1", "--use_cpu",
        "--report_to", "none", "--disable_tqdm", "true", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tiny_model, tmp_path_factory) -> Path:
    """A finished run: checkpoint-2, checkpoint-4 and the final model, trained with --prompt_template flan."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert finetune.main(train_argv(tiny_model("llama"), run, "--prompt_template", "flan")) == 0
    return run


def folder_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def flip_bits(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 64 * 1024, 4096):
        data[offset % len(data)] ^= 0x10
    path.write_bytes(bytes(data))


def zero_block(path: Path) -> None:
    with open(path, "r+b") as f:
        f.seek(path.stat().st_size // 3)
        f.write(bytes(64 * 1024))


def nan_weights_sealed(checkpoint: Path) -> None:
    """Weights NaN, re-sealed: every hash matches, as in a checkpoint written from diverged weights."""
    weights = load_file(checkpoint / "model.safetensors")
    save_file(
        {k: torch.full_like(v, float("nan")) for k, v in weights.items()}, checkpoint / "model.safetensors"
    )
    staging = checkpoint.with_name(".tmp-" + checkpoint.name)
    checkpoint.rename(staging)
    (staging / "checkpoint_complete.json").unlink()
    publish(staging, checkpoint, int(checkpoint.name.split("-")[1]))


@dataclass
class Case:
    name: str
    damage: Callable[[Path], None]  # applied to the copied run folder
    extra: list[str]  # arguments after train_argv's; "{run}" is the run folder
    exit_code: int
    words: list[str]
    absent: list[str] = field(default_factory=list)  # files the failed run must not have written


CASES = [
    Case(
        "explicit resume from a checkpoint with corrupt weights",
        lambda run: flip_bits(run / "checkpoint-4" / "model.safetensors"),
        ["--resume_from_checkpoint", "{run}/checkpoint-4", "--max_steps", "6"],
        2,
        ["checkpoint-4", "model.safetensors", "corrupt", "newest good checkpoint is", "checkpoint-2"],
    ),
    Case(
        "explicit resume from a checkpoint with a corrupt optimizer.pt",
        lambda run: zero_block(run / "checkpoint-4" / "optimizer.pt"),
        ["--resume_from_checkpoint", "{run}/checkpoint-4", "--max_steps", "6"],
        2,
        ["optimizer.pt", "corrupt", "--resume_from_checkpoint {run}/checkpoint-2"],
    ),
    Case(
        "explicit resume from a checkpoint with a truncated optimizer.pt",
        lambda run: os.truncate(run / "checkpoint-4" / "optimizer.pt", 1000),
        ["--resume_from_checkpoint", "{run}/checkpoint-4", "--max_steps", "6"],
        2,
        ["optimizer.pt is 1000 bytes", "cut short", "--resume_from_checkpoint {run}/checkpoint-2"],
    ),
    Case(
        "resume from a sealed checkpoint of non-finite weights",
        lambda run: nan_weights_sealed(run / "checkpoint-4"),
        ["--resume_from_checkpoint", "auto", "--max_steps", "6"],
        2,
        ["checkpoint-4", "non-finite weights", "earlier checkpoint"],
    ),
    Case(
        "fresh start into a folder with another run's checkpoints",
        lambda run: None,
        ["--prompt_template", "alpaca"],
        2,
        ["holds checkpoints of another run", "prompt_template: flan -> alpaca", "--overwrite_output_dir"],
    ),
    Case(
        "auto into a folder with another run's checkpoints (other data)",
        lambda run: None,
        ["--resume_from_checkpoint", "auto", "--train_file", str(SAMPLE / "valid.jsonl")],
        2,
        ["another run", "train_file_sha256", "another --output_dir"],
    ),
    Case(
        "resume with a new learning rate, which the checkpoint overrides",
        lambda run: None,
        ["--resume_from_checkpoint", "auto", "--learning_rate", "1e-2"],
        2,
        ["learning_rate 5e-05 -> 0.01", "LR scheduler restore the checkpoint's rate", "another folder"],
    ),
    Case(
        "divergence: --learning_rate 1e8 into a fresh folder",
        lambda run: shutil.rmtree(run),
        ["--learning_rate", "1e8", "--max_steps", "8", "--save_steps", "1"],
        EXIT_DIVERGED,
        ["diverged", "3 steps in a row, up to step", "no checkpoint or model was written", "--learning_rate"],
        absent=["model.safetensors", "checkpoint-2", "checkpoint-3", "checkpoint-4"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_stops_with_its_code_and_message_and_changes_nothing(
    case, trained, tiny_model, tmp_path, capsys
):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    case.damage(run)
    before = folder_hashes(run) if run.exists() else {}
    capsys.readouterr()

    extra = [arg.replace("{run}", str(run)) for arg in case.extra]
    # The run's own template first: an argument given twice takes its last value.
    assert (
        finetune.main(train_argv(tiny_model("llama"), run, "--prompt_template", "flan", *extra))
        == case.exit_code
    )

    err = capsys.readouterr().err
    for words in case.words:
        assert words.replace("{run}", str(run)) in err, err
    assert "Traceback" not in err
    after = folder_hashes(run) if run.exists() else {}
    changed = [name for name, digest in before.items() if after.get(name) != digest]
    assert not changed, f"{case.name}: changed {changed}"
    for name in case.absent:
        assert not (run / name).exists(), name
    if case.exit_code == EXIT_DIVERGED:
        assert_finite_checkpoints(run)


def assert_finite_checkpoints(run: Path) -> None:
    """Step 1 of a diverging run may still be finite (huge weights, NaN gradients from step 2 on)."""
    for path in run.glob("checkpoint-*/model.safetensors"):
        assert all(torch.isfinite(t).all() for t in load_file(path).values()), path


def test_auto_skips_a_corrupt_checkpoint_for_the_newest_good_one(trained, tiny_model, tmp_path, caplog):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    flip_bits(run / "checkpoint-4" / "model.safetensors")
    argv = train_argv(
        tiny_model("llama"), run, "--prompt_template", "flan", "--resume_from_checkpoint", "auto"
    )
    caplog.set_level(logging.INFO, logger="ftkit")
    assert finetune.main([*argv, "--max_steps", "6"]) == 0
    out = caplog.text
    assert "not resuming from checkpoint-4: model.safetensors changed since it was written" in out
    assert "resuming from checkpoint-2, the newest good checkpoint (skipped: checkpoint-4" in out
    assert "max_steps 4 -> 6 (the LR schedule follows the new length" in out  # differs, and says how
    for path in [run / "model.safetensors", run / "checkpoint-4" / "model.safetensors"]:
        assert all(torch.isfinite(t).all() for t in load_file(path).values())
    history = json.loads((run / "trainer_state.json").read_text())["log_history"]
    assert [row["step"] for row in history if "loss" in row] == [1, 2, 3, 4, 5, 6]  # resumed after step 2


def test_overwrite_output_dir_replaces_another_runs_checkpoints(trained, tiny_model, tmp_path, caplog):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    argv = train_argv(tiny_model("llama"), run, "--prompt_template", "alpaca", "--overwrite_output_dir")
    assert finetune.main([*argv, "--max_steps", "2"]) == 0
    assert "deleting the checkpoints of another run" in caplog.text
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-2"]
    assert json.loads((run / "checkpoint-2" / "run_args.json").read_text())["prompt_template"] == "alpaca"


def test_every_checkpoint_carries_its_arguments_and_a_copy_is_prompted_with_its_template(trained, tmp_path):
    """Issue 13 bug 6: a checkpoint copied away from its run folder keeps its template and framework."""
    copy = tmp_path / "elsewhere" / "my-checkpoint"
    shutil.copytree(trained / "checkpoint-2", copy)
    saved = json.loads((copy / "run_args.json").read_text())
    assert saved["prompt_template"] == "flan" and saved["framework"] == "clm"
    assert "run_args.json" in json.loads((copy / "checkpoint_complete.json").read_text())["files"]
    assert template_for(copy) == "flan"
    assert template_for(trained) == "flan"  # the final model in the run folder too


def test_a_run_that_fails_before_training_leaves_run_args_alone(trained, tiny_model, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": "a", "target": "b"}\n{"source": \n')
    before = folder_hashes(run)
    predict = ["--model_name_or_path", str(run), "--test_file", str(bad), "--output_dir", str(run)]
    assert finetune.main([*predict, "--do_predict", "--use_cpu", "--prompt_template", "alpaca"]) == 2
    argv = train_argv(tiny_model("llama"), run, "--prompt_template", "flan", "--resume_from_checkpoint")
    assert finetune.main([*argv, "auto", "--train_file", str(bad)]) == 2
    assert folder_hashes(run) == before
    assert json.loads((run / "run_args.json").read_text())["prompt_template"] == "flan"


@pytest.fixture
def small_disk(tmp_path):
    """A 2.5 MB tmpfs: the tiny model's first checkpoint (weights and optimizer state) does not fit."""
    mount = tmp_path / "small_disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2500k", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_disk_full_while_checkpointing_names_the_device_and_removes_the_partial_copy(
    small_disk, tiny_model, capsys
):
    run = small_disk / "run"
    run.mkdir()
    (run / "keep.txt").write_text("earlier result")
    assert finetune.main(train_argv(tiny_model("llama"), run)) == 2
    err = capsys.readouterr().err
    assert f"no space left on tmpfs (mounted on {small_disk})" in err and "Traceback" not in err
    assert "the partial .tmp-checkpoint-2 was removed" in err and "--output_dir" in err
    assert sorted(p.name for p in run.iterdir()) == ["keep.txt", "run_args.json"]
    assert (run / "keep.txt").read_text() == "earlier result"


def test_dpo_divergence_stops_preference_tune_too(tiny_model, tmp_path, capsys):
    """The guard lives in the mixin every trainer shares: TRL's DPO trainer stops on it as finetune does."""
    run = tmp_path / "dpo"
    argv = [
        "--stage", "dpo", "--model_name_or_path", str(tiny_model("llama")), "--train_file",
        str(REPO / "data" / "preference_sample" / "train.jsonl"), "--max_train_samples", "16",
        "--output_dir", str(run), "--do_train", "--max_steps", "8", "--save_steps", "1",
        "--per_device_train_batch_size", "4", "--learning_rate", "1e8", "--logging_steps", "1", "--use_cpu",
        "--report_to", "none",
    ]  # fmt: skip
    assert preference_tune.main(argv) == EXIT_DIVERGED
    assert "training diverged" in capsys.readouterr().err
    assert not (run / "model.safetensors").exists()
    assert_finite_checkpoints(run)


def test_an_identity_argument_the_saved_run_did_not_record_is_not_compared():
    saved = {"config_sha256": "a", "lora_r": 8}  # written before the entry point had --lora_target
    assert identity_differences(saved, {**saved, "lora_target": "all-linear"}) == []
    assert identity_differences(saved, {**saved, "lora_r": 16}) == ["lora_r: 8 -> 16"]
    assert identity_differences(
        {**saved, "lora_target": "q_proj"}, {**saved, "lora_target": "all-linear"}
    ) == ["lora_target: q_proj -> all-linear"]
    # Not an argument: a saved run without a training-data hash still differs from one with it.
    assert identity_differences(saved, {**saved, "train_file_sha256": "b"}) == [
        "train_file_sha256: null -> b"
    ]
