"""The tests' launcher (conftest.run_command): an interrupted test leaves no process of its command."""

import signal
import subprocess
import sys
import time

from conftest import REPO


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_ctrl_c_kills_the_commands_whole_process_group(tmp_path):
    # A launcher (bash) and its rank (sleep), as deepspeed and the finetune.py it starts.
    pid_file = tmp_path / "rank.pid"
    launcher = f"sleep 300 & echo $! > {pid_file}; wait"
    script = f"from conftest import run_command; run_command(['bash', '-c', {launcher!r}], 600)"
    # `python -c` imports from its working folder: tests/, where conftest is.
    pytest_process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO / "tests", stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not pid_file.is_file() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline and pytest_process.poll() is None, pytest_process.stderr.read()
        time.sleep(0.1)
    rank = int(pid_file.read_text())
    assert running(rank)

    pytest_process.send_signal(signal.SIGINT)
    assert "KeyboardInterrupt" in pytest_process.communicate(timeout=60)[1]
    deadline = time.monotonic() + 10
    while running(rank) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(rank), f"the command's process {rank} still runs after Ctrl-C"
