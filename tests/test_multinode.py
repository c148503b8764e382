"""Two "nodes" on this machine, each started as its own deepspeed launcher with the scheduler variables
(`--no_ssh --node_rank R --master_addr 127.0.0.1`), as on a cluster.

Node-local disks are a mount namespace per node (`unshare -m` and a bind mount): both nodes see the output
folder at the same path, each its own folder. The fast tests run the node agreements of
ftkit.checkpointing in processes of one gloo group, each process a node with its own working folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch.distributed as dist
import torch.multiprocessing as mp
from chaos_train import Launch, check_checkpoint_loads

from conftest import EVAL_SAMPLE, REPO, SAMPLE, free_port, run_command
from ftkit.checkpointing import (
    EXIT_STOPPED_BY_SIGNAL,
    GracefulStop,
    output_is_node_local,
    resolve_resume_checkpoint,
    scan_checkpoints,
)
from ftkit.run_files import MARKER

NEEDS_ROOT = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="node-local disks need root for unshare -m"
)


# ---- The agreements, in one gloo group of "nodes" (fast) ----


def _as_node(rank: int, nodes: list[int], folders: list[Path], port: int, work: str, results) -> None:
    node, local_rank = nodes[rank], nodes[:rank].count(nodes[rank])
    os.environ.update(LOCAL_RANK=str(local_rank), RANK=str(rank), WORLD_SIZE=str(len(nodes)))
    os.chdir(folders[node])  # one relative output path, another folder on each "node"
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=len(nodes))
    try:
        results[rank] = globals()[work](rank, node, local_rank)
    except Exception as e:  # the test fails with it
        results[rank] = f"{type(e).__name__}: {e}"
    finally:
        dist.destroy_process_group()


def run_as_nodes(tmp_path: Path, work: str, layout: tuple[int, ...] = (2, 1)) -> list:
    """work(rank, node, local_rank) in the processes of one gloo group, `layout[n]` of them on node n, which
    works in tmp_path/node<n>; their results in rank order."""
    nodes = [node for node, count in enumerate(layout) for _ in range(count)]
    folders = [tmp_path / f"node{node}" for node in range(len(layout))]
    for folder in folders:
        folder.mkdir()
    with mp.Manager() as manager:
        results = manager.dict()
        arguments = (nodes, folders, free_port(), work, results)
        mp.start_processes(_as_node, args=arguments, nprocs=len(nodes), start_method="fork")
        return [results[rank] for rank in range(len(nodes))]


def _checkpoint(run: Path, step: int) -> None:
    from ftkit.checkpointing import publish

    staging = run / f".tmp-checkpoint-{step}"
    staging.mkdir(parents=True)
    (staging / "weights.bin").write_bytes(bytes([step]) * 64)
    publish(staging, run / f"checkpoint-{step}", step)


def _resume_agreement(rank: int, node: int, local_rank: int):
    run = Path("out")
    node_local = output_is_node_local(run)
    for step in (2, 4, 6) if node == 0 else (2, 4):  # node 1 was killed before it published step 6
        if local_rank == 0:
            _checkpoint(run, step)
    if node == 1:
        (run / "checkpoint-4" / "weights.bin").write_bytes(b"\0" * 64)  # corrupt on node 1 only
    return node_local, resolve_resume_checkpoint(run, "auto")


def _signal_on_one_node(rank: int, node: int, local_rank: int):
    from transformers import TrainerControl, TrainerState

    args = None  # GracefulStop reads the process group, not the arguments
    stop, state, control = GracefulStop(), TrainerState(), TrainerControl()
    stop.on_train_begin(args, state, control)
    stopped_at = None
    for step in range(1, 10):
        if node == 1 and step == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # during step 3, on node 1 only
        state.global_step = step
        stop.on_step_end(args, state, control)
        if control.should_training_stop:
            stopped_at = step
            break
    stop.on_train_end(args, state, control)
    return stopped_at, stop.signal_name


def test_resume_picks_the_newest_step_good_on_every_node(tmp_path):
    """Node 0 has checkpoints 2, 4, 6; node 1 has 2 and 4 (killed before publishing 6), and its 4 is
    corrupt: both resume from checkpoint-2."""
    results = run_as_nodes(tmp_path, "_resume_agreement")
    assert results == [(True, "out/checkpoint-2")] * 3, results
    assert (tmp_path / "node0" / "out" / "checkpoint-6").is_dir()  # nothing deleted by the agreement


def _shared_output(rank: int, node: int, local_rank: int):
    return output_is_node_local(Path("..") / "node0" / "out")


def test_a_folder_every_node_sees_is_shared(tmp_path):
    assert run_as_nodes(tmp_path, "_shared_output") == [False] * 3
    assert not (tmp_path / "node0" / "out").exists()  # the probe leaves no folder behind


def test_sigterm_on_one_node_stops_every_node_one_step_later(tmp_path):
    """The request is read one step end after it was sent (no wait on the device): both stop at step 4."""
    assert run_as_nodes(tmp_path, "_signal_on_one_node") == [(4, None), (4, None), (4, "SIGTERM")]


# ---- Two launchers, as on two nodes (slow) ----


class Nodes:
    """One job of `len(disks)` nodes x `nproc` processes, each node its own deepspeed launcher; with
    `mount`, each node sees its own disk (one of `disks`) at that path."""

    def __init__(
        self, tmp_path: Path, name: str, nproc: int, args: list[str], disks=(None, None), mount=None
    ):
        hostfile = tmp_path / f"{name}.hostfile"
        hostfile.write_text("".join(f"node{n} slots={nproc}\n" for n in range(len(disks))))
        port = free_port()
        self.launches = []
        for node, disk in enumerate(disks):
            command = [
                "deepspeed", "--hostfile", str(hostfile), "--no_ssh", "--node_rank", str(node),
                "--master_addr", "127.0.0.1", "--master_port", str(port), str(REPO / "finetune.py"),
                "--use_cpu", *args,
            ]  # fmt: skip
            if disk is not None:
                disk.mkdir(parents=True, exist_ok=True)
                mounted = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
                command = ["unshare", "-m", "sh", "-c", mounted, "node", str(disk), str(mount), *command]
            self.launches.append(Launch(command, tmp_path / f"{name}-node{node}.log", timeout_s=600))

    def wait(self) -> list[int]:
        return [launch.wait(timeout=600) for launch in self.launches]

    def output(self, node: int) -> str:
        return "".join(self.launches[node].lines)

    def kill(self) -> None:
        for launch in self.launches:
            launch.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def train_args(model: Path, output_dir: Path, ds_config: str, max_steps: int, save_steps: int) -> list[str]:
    return [
        "--deepspeed", str(REPO / "ds_configs" / ds_config), "--model_name_or_path", str(model),
        "--train_file", str(SAMPLE / "train.jsonl"), "--max_train_samples", "64",
        "--per_device_train_batch_size", "2", "--output_dir", str(output_dir), "--do_train",
        "--max_steps", str(max_steps), "--save_steps", str(save_steps), "--learning_rate", "2e-3",
        "--logging_steps", "1", "--seed", "0", "--disable_tqdm", "true", "--resume_from_checkpoint", "auto",
    ]  # fmt: skip


def step_losses(output_dir: Path) -> dict[int, float]:
    history = json.loads((output_dir / "trainer_state.json").read_text())["log_history"]
    return {row["step"]: row["loss"] for row in history if "loss" in row}


def one_node(nproc: int, args: list[str]) -> subprocess.CompletedProcess:
    command = ["deepspeed", "--num_gpus", str(nproc), "--master_port", str(free_port()),
               str(REPO / "finetune.py"), "--use_cpu", *args]  # fmt: skip
    result = run_command(command, 600, cwd=REPO)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return result


@pytest.mark.slow
@pytest.mark.parametrize("ds_config", ["zero2.json", "zero3.json"])
def test_two_nodes_of_two_train_as_one_node_of_four(tiny_model, tmp_path, ds_config):
    """Same seed and data order: the same per-step losses; the shared folder's marker lists every rank's
    files, and the start-up log names both nodes."""
    model = tiny_model("llama")
    one_node(4, train_args(model, tmp_path / "one", ds_config, max_steps=3, save_steps=3))
    with Nodes(tmp_path, "two", 2, train_args(model, tmp_path / "two", ds_config, 3, 3)) as nodes:
        assert nodes.wait() == [0, 0], nodes.output(0)[-5000:] + nodes.output(1)[-5000:]
    one, two = step_losses(tmp_path / "one"), step_losses(tmp_path / "two")
    assert list(two) == [1, 2, 3] and two == pytest.approx(one, abs=1e-5), (one, two)
    listed = json.loads((tmp_path / "two" / "checkpoint-3" / MARKER).read_text())["files"]
    assert {f"rng_state_{rank}.pth" for rank in range(4)} <= set(listed)
    log = nodes.output(0)
    assert "node 0 of 2: host" in log and "global ranks 2-3, local ranks 0-1" in log
    assert "world size 4 (2 + 2 processes on 2 node(s))" in log and "global batch = 2 x 1 x 4 = 8" in log


def node_disks(tmp_path: Path) -> tuple[tuple[Path, Path], Path]:
    """Two node-local disks and the path where each node sees its own."""
    mount = tmp_path / "out"
    mount.mkdir()
    return (tmp_path / "disk0", tmp_path / "disk1"), mount


def wait_for(condition, nodes: Nodes, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        running = all(launch.running() for launch in nodes.launches)
        assert running and time.monotonic() < deadline, (
            f"{what}:\n{nodes.output(0)[-3000:]}{nodes.output(1)[-3000:]}"
        )
        time.sleep(0.02)


@NEEDS_ROOT
@pytest.mark.slow
def test_node_local_disks_killed_then_resumed_reach_the_uninterrupted_losses(tiny_model, tmp_path):
    """ZeRO-3, 2 nodes x 1 process, each its own disk at one path: both SIGKILLed after checkpoint-4,
    node 1's newest checkpoint removed as if it had been killed before publishing it; the relaunch resumes
    from the newest step complete on both and ends with the uninterrupted run's per-step losses."""
    model = tiny_model("llama")
    one_node(2, train_args(model, tmp_path / "reference", "zero3.json", max_steps=10, save_steps=2))
    disks, mount = node_disks(tmp_path)
    args = train_args(model, mount, "zero3.json", max_steps=10, save_steps=2)
    with Nodes(tmp_path, "killed", 1, args, disks, mount) as nodes:
        wait_for(lambda: all((disk / "checkpoint-4").is_dir() for disk in disks), nodes, "no checkpoint-4")
        nodes.kill()
    assert not (disks[0] / "model.safetensors").exists(), "killed too late: the run had finished"
    assert not any(mount.iterdir()), "the nodes wrote outside their own disks"
    for disk in disks:  # each node published its own copy, with its own rank's files
        assert {p.name for p in scan_checkpoints(disk).complete} >= {"checkpoint-2", "checkpoint-4"}
    newest = [scan_checkpoints(disk).complete[-1] for disk in disks]
    shutil.rmtree(newest[1])
    expected = min(int(newest[0].name.split("-")[1]), int(newest[1].name.split("-")[1]) - 2)
    with Nodes(tmp_path, "resumed", 1, args, disks, mount) as nodes:
        assert nodes.wait() == [0, 0], nodes.output(0)[-5000:] + nodes.output(1)[-5000:]
    assert f"resuming from {mount}/checkpoint-{expected} (step {expected})" in nodes.output(0)
    reference, resumed = step_losses(tmp_path / "reference"), step_losses(disks[0])
    assert list(resumed) == list(range(1, 11)) and resumed == pytest.approx(reference, abs=1e-5)
    for disk in disks:  # --save_on_each_node: each node holds the final model and tokenizer
        assert (disk / "model.safetensors").is_file() and (disk / "tokenizer.json").is_file()


@NEEDS_ROOT
@pytest.mark.slow
def test_sigterm_to_one_nodes_ranks_stops_both_nodes_at_one_step(tiny_model, tmp_path):
    """ZeRO-2, node-local disks: only node 1's rank is signalled (a scheduler pre-empting one machine);
    both nodes exit 75 after checkpointing the same step, one step after the signalled one, and the same
    command run again resumes it on both."""
    disks, mount = node_disks(tmp_path)
    args = train_args(tiny_model("llama"), mount, "zero2.json", max_steps=60, save_steps=1000)
    with Nodes(tmp_path, "signalled", 1, args, disks, mount) as nodes:
        wait_for(lambda: nodes.output(0).count("'loss':") >= 3, nodes, "no third step")
        (rank,) = [
            p
            for p in psutil.Process(nodes.launches[1].process.pid).children(recursive=True)
            if "--local_rank=0" in p.cmdline()
        ]
        rank.send_signal(signal.SIGTERM)
        assert nodes.wait() == [EXIT_STOPPED_BY_SIGNAL] * 2
    (signalled,) = {int(step) for step in re.findall(r"SIGTERM during step (\d+)", nodes.output(1))}
    (stopped,) = re.findall(r"stop requested: saving checkpoint-(\d+)", nodes.output(0))
    assert int(stopped) == signalled + 1
    for disk in disks:
        assert [p.name for p in scan_checkpoints(disk).complete] == [f"checkpoint-{stopped}"]
        assert check_checkpoint_loads(disk / f"checkpoint-{stopped}") == int(stopped)
    with Nodes(tmp_path, "resumed", 1, args, disks, mount) as nodes:
        assert nodes.wait() == [0, 0], nodes.output(0)[-5000:] + nodes.output(1)[-5000:]
    assert f"resuming from {mount}/checkpoint-{stopped} (step {stopped})" in nodes.output(0)
    assert list(step_losses(disks[0])) == list(range(1, 61))


@pytest.mark.slow
def test_two_node_prediction_equals_one_process_line_for_line(tiny_model, tmp_path):
    """9 inputs over 2 nodes x 1 process (the last batch padded with a repeat): one prediction per input,
    in input order, on global rank 0, as one process predicts them."""
    model = tiny_model("llama")
    test_file = tmp_path / "test.txt"
    test_file.write_text("".join((EVAL_SAMPLE / "source.txt").read_text().splitlines(True)[:9]))
    args = ["--model_name_or_path", str(model), "--do_predict", "--test_file", str(test_file),
            "--per_device_eval_batch_size", "1", "--generation_max_length", "12"]  # fmt: skip
    single = [sys.executable, str(REPO / "finetune.py"), *args, "--output_dir", str(tmp_path / "one")]
    single = run_command(single, 600, cwd=REPO)
    assert single.returncode == 0, single.stderr[-5000:]
    with Nodes(tmp_path, "predict", 1, [*args, "--output_dir", str(tmp_path / "two")]) as nodes:
        assert nodes.wait() == [0, 0], nodes.output(0)[-5000:] + nodes.output(1)[-5000:]
    one = (tmp_path / "one" / "generated_predictions.txt").read_text().splitlines()
    two = (tmp_path / "two" / "generated_predictions.txt").read_text().splitlines()
    assert len(one) == 9 and two == one
