"""Host memory of each process while a job of several "nodes" on this machine loads one checkpoint under
ZeRO-3, as finetune.py loads it (ftkit.loading.load_zero3_model: global rank 0 reads, every rank receives
its own partition).

Each node is its own deepspeed launcher (`--no_ssh --node_rank R --master_addr 127.0.0.1`), as on a
cluster. Every process reports its resident memory after start-up (imports, process group) and, once every
rank has loaded, its peak resident memory (VmHWM: memory-mapped checkpoint pages included) and the
anonymous memory the load left it holding (RssAnon after minus before: its partitions).

Usage:
    python scripts/bench_load_memory.py --make_model /tmp/llama-1g     # once: random LLaMA, 1.08 GB bf16
    python scripts/multinode_load_memory.py --model /tmp/llama-1g --nodes 2 --nproc 2

Prints one row per process and the machine's peak MemTotal - MemAvailable during the run, minus the level
before the launch.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 1024**2
REPORT = "MEMORY "


def status_bytes(*fields: str) -> dict[str, int]:
    lines = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    values = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in lines if line.endswith(" kB")}
    return {name: values.get(name, 0) for name in fields}


def worker(model_dir: str, scratch: Path) -> None:
    """Load `model_dir` as finetune.py does under ZeRO-3 on the CPU; print this process's memory."""
    from types import SimpleNamespace

    import torch
    import torch.distributed as dist

    from ftkit.args import parse_args
    from ftkit.frameworks import CLM
    from ftkit.loading import init_distributed_if_launched
    from ftkit.modeling import load_config, load_model, weights_dtype

    config = load_config(model_dir)
    bf16 = config.dtype == torch.bfloat16
    argv = [
        "--model_name_or_path",
        model_dir,
        "--output_dir",
        str(scratch / "run"),
        "--do_train",
        "--use_cpu",
    ]
    argv += ["--deepspeed", str(REPO / "ds_configs" / "zero3.json")] + ["--bf16"] * bf16
    training_args = parse_args(argv)[2]  # holds the DeepSpeed config that makes ZeRO-3 loading apply
    init_distributed_if_launched(True)
    before = status_bytes("VmRSS", "RssAnon")
    dist.barrier()
    # Loading reads the tokenizer's pad id only; a random checkpoint has no tokenizer.
    tokenizer = SimpleNamespace(pad_token_id=config.pad_token_id or 0)
    model = load_model(model_dir, CLM, config, tokenizer, weights_dtype(True, True, bf16, False))
    with torch.no_grad():  # a memory-mapped tensor is only read when first touched
        for parameter in model.parameters():
            getattr(parameter, "ds_tensor", parameter).sum()
    dist.barrier()
    after = status_bytes("VmRSS", "VmHWM", "RssAnon")
    row = {
        "rank": dist.get_rank(),
        "node": int(os.environ.get("CROSS_RANK", "0")),
        "local_rank": int(os.environ["LOCAL_RANK"]),
        "rss_before_mib": before["VmRSS"] / MIB,
        "peak_rss_mib": after["VmHWM"] / MIB,
        "rss_after_mib": after["VmRSS"] / MIB,
        "anon_held_mib": (after["RssAnon"] - before["RssAnon"]) / MIB,
    }
    print(REPORT + json.dumps(row), flush=True)
    dist.barrier()
    del model, training_args


def machine_used() -> int:
    info = {}
    for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
        name, _, rest = line.partition(":")
        info[name] = int(rest.split()[0]) * 1024
    return info["MemTotal"] - info["MemAvailable"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", type=Path, required=True, help="checkpoint folder (save_pretrained layout)"
    )
    parser.add_argument("--nodes", type=int, default=2, help="nodes, each its own launcher")
    parser.add_argument("--nproc", type=int, default=2, help="processes per node")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--local_rank", type=int, help=argparse.SUPPRESS)  # passed by the deepspeed launcher
    args = parser.parse_args(argv)
    if args.worker:
        worker(str(args.model), args.scratch)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        hostfile = Path(scratch) / "hostfile"
        hostfile.write_text("".join(f"node{n} slots={args.nproc}\n" for n in range(args.nodes)))
        port = free_port()
        env = {**os.environ, "OMP_NUM_THREADS": "1", "DS_ACCELERATOR": "cpu", "HF_HUB_OFFLINE": "1"}
        baseline = machine_used()
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], machine_used())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        launches = [
            subprocess.Popen(
                [
                    "deepspeed",
                    "--hostfile",
                    str(hostfile),
                    "--no_ssh",
                    "--node_rank",
                    str(node),
                    "--master_addr",
                    "127.0.0.1",
                    "--master_port",
                    str(port),
                    __file__,
                    "--worker",
                    "--model",
                    str(args.model),
                    "--scratch",
                    scratch,
                ],  # fmt: skip
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
            )
            for node in range(args.nodes)
        ]
        outputs = [launch.communicate()[0] for launch in launches]
        done.set()
        sampler.join()
    if any(launch.returncode for launch in launches):
        for output in outputs:
            print(output[-4000:], file=sys.stderr)
        return 1
    rows = sorted(
        (json.loads(line[len(REPORT) :]) for output in outputs for line in output.splitlines()
         if line.startswith(REPORT)),
        key=lambda row: row["rank"],
    )  # fmt: skip
    size = sum(p.stat().st_size for p in args.model.glob("*.safetensors")) / MIB
    print(f"checkpoint {size:.0f} MiB; {args.nodes} nodes x {args.nproc} processes, ZeRO-3")
    print("| node | local rank | global rank | RSS before load | peak RSS | RSS after | anon held (MiB) |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['node']} | {row['local_rank']} | {row['rank']} | {row['rss_before_mib']:.0f} | "
            f"{row['peak_rss_mib']:.0f} | {row['rss_after_mib']:.0f} | {row['anon_held_mib']:.0f} |"
        )
    print(f"machine in use, peak minus before the launch: {(peak[0] - baseline) / MIB:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
