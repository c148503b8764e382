"""Shared fixtures: tiny models of each family (built once per session) and a finetune.py launcher."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
EVAL_SAMPLE = REPO / "data" / "eval" / "sample"
SHM = Path("/dev/shm")

# Offline and single-threaded: a hub lookup fails at once, and two-process CPU runs do not oversubscribe.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """tiny_model(family) -> folder of a tiny random model of that family (built once per session)."""
    from make_tiny_model import make_tiny_model

    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = make_tiny_model(
                family, tmp_path_factory.mktemp(f"tiny-{family}"), corpus=SAMPLE / "train.jsonl"
            )
        return built[family]

    return get


@pytest.fixture
def run_dir(tmp_path):
    """An output folder that already holds a result, which a failing run must leave alone."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("earlier result")
    return out


def assert_fails_cleanly(main, argv, run_dir, capsys, *messages):
    """`main(argv)` exits 2 with each message and no traceback, and leaves run_dir as it was."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    for message in messages:
        assert message in err
    assert "Traceback" not in err
    assert sorted(p.name for p in run_dir.iterdir()) == ["keep.txt"]
    assert (run_dir / "keep.txt").read_text() == "earlier result"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_command(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run(capture_output=True, text=True) in a new process group, all of it killed on timeout
    and on Ctrl-C.

    Killing only the deepspeed launcher (what subprocess.run does) leaves its ranks running: a hung rank
    would then hold the CPUs for the rest of the session. A timeout fails the test with the output so far.
    The group is a session of its own, so a Ctrl-C at the terminal reaches only pytest: without the kill
    here, the ranks of an interrupted test would train on after pytest has exited.
    """
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            pytest.fail(
                f"{' '.join(command)} timed out after {timeout} s:\n{stdout[-6000:]}\n{stderr[-6000:]}"
            )
        except BaseException:
            with contextlib.suppress(ProcessLookupError):  # the group may have ended already
                os.killpg(process.pid, signal.SIGKILL)
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def run_deepspeed(
    args: list[str], nproc: int = 1, timeout: int = 600, script: str = "finetune.py"
) -> subprocess.CompletedProcess:
    """Run an entry point (finetune.py by default) under the deepspeed launcher on CPU; fail the test with
    its output if it fails."""
    command = [
        "deepspeed",
        "--num_gpus",
        str(nproc),
        "--master_port",
        str(free_port()),
        str(REPO / script),
        "--use_cpu",
        *args,
    ]
    shm_before = set(SHM.glob("deepspeed*"))
    result = run_command(command, timeout, cwd=REPO)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout[-6000:]}\n"
            f"{result.stderr[-6000:]}"
        )
    # DeepSpeed's CPU shared-memory all-reduce leaves a buffer per process there unless removed (ftkit.args).
    assert set(SHM.glob("deepspeed*")) <= shm_before, "the run left DeepSpeed buffers in /dev/shm"
    return result
