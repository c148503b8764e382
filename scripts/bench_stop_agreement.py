"""What the per-step agreements of ftkit.checkpointing cost a training step, before and now.

Before 515379f both the stop-signal agreement and the non-finite guard's did a blocking all-reduce of a
flag on the training process group and `.item()` at every step end. Now GracefulStop's all-reduce runs on
the host group (gloo), started at one step end and read at the next, and the guard's (any_process) is a
blocking all-reduce there, with no accelerator tensor. Beside them: no agreement, and GracefulStop alone.

Two processes (gloo, this machine's CPUs) train a small MLP under DistributedDataParallel, so the steps are
as synchronised as real data-parallel steps; rounds alternate the three variants so that a drift in the
machine's load hits each alike. On CPU the training group is gloo too: this shows the blocking wait, not
the accelerator stream an NCCL all-reduce and its `.item()` would also stall on a GPU.

Usage:
    python scripts/bench_stop_agreement.py [--steps 200] [--rounds 3] [--width 512]

Prints one line per variant: `<variant>: median step S ms (+D ms against none)`, medians over every
round's steps, after one warm-up round.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from transformers import TrainerControl, TrainerState

from ftkit.checkpointing import GracefulStop, any_process

VARIANTS = (
    "none",
    "before: stop + guard, blocking on the training group",
    "now: GracefulStop + guard on the host group",
    "now, GracefulStop alone",
)


def blocking_agreement(flag: bool) -> bool:
    """An agreement before 515379f (`any_process` on the training process group)."""
    tensor = torch.tensor([int(flag)])
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def _worker(rank: int, port: int, args: argparse.Namespace, queue) -> None:
    os.environ.update(OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(args.width, args.width), torch.nn.ReLU(), torch.nn.Linear(args.width, args.width)
    )
    model = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch = torch.randn(args.batch_size, args.width)
    stop = GracefulStop()
    state, control = TrainerState(), TrainerControl()
    stop.on_train_begin(None, state, control)
    seconds: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for round_index in range(args.rounds + 1):  # round 0 warms up
        for variant in VARIANTS:
            for _ in range(args.steps):
                started = time.perf_counter()
                loss = model(batch).square().mean()
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                state.global_step += 1
                if variant == VARIANTS[1]:
                    blocking_agreement(False)  # the stop signal
                    blocking_agreement(False)  # the non-finite guard
                elif variant in VARIANTS[2:]:
                    stop.on_step_end(None, state, control)
                    if variant == VARIANTS[2]:
                        any_process(False)
                if round_index:
                    seconds[variant].append(time.perf_counter() - started)
    stop.on_train_end(None, state, control)
    if rank == 0:
        queue.put({variant: statistics.median(values) for variant, values in seconds.items()})
    dist.barrier()
    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per variant and round [200]")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, after a warm-up one [3]")
    parser.add_argument("--width", type=int, default=512, help="the MLP's width (step size) [512]")
    parser.add_argument("--batch_size", type=int, default=16, help="[16]")
    args = parser.parse_args(argv)
    context = mp.get_context("spawn")
    queue = context.SimpleQueue()
    mp.start_processes(_worker, args=(_free_port(), args, queue), nprocs=2, start_method="spawn")
    medians = queue.get()
    for variant in VARIANTS:
        extra = medians[variant] - medians["none"]
        print(f"{variant}: median step {medians[variant] * 1e3:.3f} ms ({extra * 1e3:+.3f} ms against none)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
