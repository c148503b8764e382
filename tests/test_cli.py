"""How an entry point's process ends."""

from __future__ import annotations

import os
import sys

import pytest

from conftest import REPO, free_port, run_command
from ftkit.args import ConfigurationError
from ftkit.checkpointing import StoppedBySignal, TrainingDiverged
from ftkit.cli import exit_process, run_entry_point

# A one-process group (the launch of a rank, without a launcher), then exit_process(5). An atexit handler
# and an object destroyed at interpreter shutdown each leave a file.
RANK_SCRIPT = """
import atexit, os, sys
from pathlib import Path
import torch.distributed as dist
from ftkit.cli import exit_process

out = Path(sys.argv[1])
atexit.register((out / "atexit").touch)

class AtShutdown:
    def __del__(self):
        (out / "shutdown").touch()

at_shutdown = AtShutdown()
dist.init_process_group("gloo", rank=0, world_size=1)
exit_process(5)
"""


def test_without_a_process_group_it_is_sys_exit():
    with pytest.raises(SystemExit) as exited:
        exit_process(3)
    assert exited.value.code == 3


def test_a_rank_runs_its_atexit_handlers_and_skips_the_interpreter_shutdown(tmp_path):
    """The shutdown is where gloo's threads made a rank abort after its work was done (ftkit.cli)."""
    (tmp_path / "rank.py").write_text(RANK_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
    result = run_command([sys.executable, str(tmp_path / "rank.py"), str(tmp_path)], timeout=120, env=env)
    assert result.returncode == 5, result.stderr[-3000:]
    assert (tmp_path / "atexit").exists()
    assert not (tmp_path / "shutdown").exists()


@pytest.mark.parametrize("stop, code", [(StoppedBySignal, 75), (TrainingDiverged, 3)])
def test_an_early_stop_is_its_exit_code_and_a_message(stop, code, capsys):
    def run(argv):
        raise stop("at step 7")

    assert run_entry_point(run) == code
    err = capsys.readouterr().err
    assert "stopped: at step 7" in err and "Traceback" not in err


def test_an_input_error_is_exit_code_2(capsys):
    def run(argv):
        raise ConfigurationError("--max_steps 0: give at least 1")

    assert run_entry_point(run) == 2
    assert capsys.readouterr().err == "error: --max_steps 0: give at least 1\n"
