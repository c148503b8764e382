"""Peak host memory while N processes load one checkpoint: each on its own (naive) vs finetune.py's way.

Usage:
    python scripts/bench_load_memory.py --make_model /tmp/llama-1g     # once: random LLaMA, 1.08 GB bf16
    python scripts/bench_load_memory.py --model /tmp/llama-1g --nproc 4 --zero 3

Both ways run in one invocation, one after the other, each from a cold page cache where this user may
drop it (root):
  naive  every process calls `from_pretrained(path)` into its own CPU memory (then moves the model to its
         GPU, when there is one; on the CPU it copies each memory-mapped weight, as the first optimizer step
         of a training process would);
  ours   every process loads as finetune.py does: the training arguments (--deepspeed with the ZeRO stage,
         --bf16 for a bf16 checkpoint) register the DeepSpeed config, the process group is joined, then
         `ftkit.modeling.load_model`.

Two measures, sampled while the workers load, each minus its level once every worker has started (imports
done, process group joined) and nothing is loaded:
  processes  the workers' own anonymous and shared memory, the sum of their PSS: a page shared between
             processes counts once, and the page cache (clean file pages, the memory-mapped checkpoint
             included) does not count, since the kernel reclaims it whenever memory is short. The last
             line uses it by default (--measure processes).
  machine    MemTotal - MemAvailable from /proc/meminfo, every 20 ms: the same accounting for the whole
             machine, so everything else on it adds noise: memory that other processes free while the
             workers load lowers it (on a small VM it ended below the workers' own figure). Printed beside
             the other on every line as a cross-check.

Figures are multiples of the checkpoint's size on disk: `peak` is the highest level during loading, `held`
the level once every process has loaded (what the loaded models hold), `overhead` = peak - held. With
ZeRO-0/1/2 on CPU every process holds a full replica by design, so there the last line compares the
overhead; with ZeRO-3, or when the processes load onto GPUs, it compares the peak. The last line reads
``peak host memory / checkpoint size: naive X, ours Y``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

GIB = 1024**3
SAMPLE_SECONDS = 0.02
SAMPLES_PER_SECOND = int(1 / SAMPLE_SECONDS)
SETTLE_MAX_SECONDS = 20
SETTLED_BYTES = 32 * 1024**2  # a 1-second median that fell less than this since the last one has settled
HOLD_SECONDS = 1.0  # how long the loaded processes stay alive, for the `held` level


def checkpoint_bytes(model_dir: Path) -> int:
    return sum(p.stat().st_size for p in model_dir.iterdir() if p.suffix in (".safetensors", ".bin"))


def make_model(out: Path, hidden: int, layers: int, vocab: int) -> None:
    """Write a random-initialised LLaMA in bf16 (hidden 2048, 8 layers, vocab 32000: 1.08 GB)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        hidden_size=hidden,
        intermediate_size=hidden * 11 // 4,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 128,
        num_key_value_heads=hidden // 128,
        vocab_size=vocab,
        tie_word_embeddings=False,
        dtype="bfloat16",
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM._from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(out)
    print(f"wrote {out}: {checkpoint_bytes(out) / 1e9:.2f} GB")


# ---- the workers: one process each, launched with the torchrun environment ----


def worker(way: str, model_dir: str, device: str, scratch: Path) -> None:
    """Set up (imports, arguments, process group), wait for "go", load, then hold the model until EOF."""
    import torch

    rank = int(os.environ["RANK"])
    if way == "naive":
        from transformers import AutoModelForCausalLM

        def load() -> torch.nn.Module:
            model = AutoModelForCausalLM.from_pretrained(model_dir)
            if device == "cuda":
                model.to(f"cuda:{int(os.environ['LOCAL_RANK']) % torch.cuda.device_count()}")
            else:
                # transformers 5 leaves a checkpoint in its own dtype memory-mapped: the page cache, which
                # is not counted, until a weight is written. A training process writes every weight at its
                # first optimizer step; its private copies are what this way costs.
                for parameter in model.parameters():
                    parameter.data = parameter.data.clone()
            return model
    else:
        from types import SimpleNamespace

        from ftkit.args import parse_args
        from ftkit.frameworks import framework_of
        from ftkit.loading import init_distributed_if_launched, load_device_map
        from ftkit.modeling import load_config, load_model, weights_dtype

        config = load_config(model_dir)
        bf16 = config.dtype == torch.bfloat16
        argv = ["--model_name_or_path", model_dir, "--output_dir", str(scratch / "run"), "--do_train"]
        argv += ["--deepspeed", str(scratch / "ds_config.json")]
        argv += ["--use_cpu"] if device == "cpu" else []
        argv += ["--bf16"] if bf16 else []
        training_args = parse_args(argv)[2]
        init_distributed_if_launched(True)
        framework = framework_of(config)
        # Loading reads the tokenizer's pad id only; a random checkpoint has no tokenizer.
        tokenizer = SimpleNamespace(pad_token_id=config.pad_token_id or 0)

        def load() -> torch.nn.Module:
            dtype = weights_dtype(True, True, bf16, False)
            device_map = load_device_map(training_args.device)
            return load_model(model_dir, framework, config, tokenizer, dtype, device_map=device_map)

    (scratch / f"ready-{rank}").touch()
    sys.stdin.readline()
    started = time.perf_counter()
    model = load()
    with torch.no_grad():
        # Read every weight once: a memory-mapped tensor is only read from disk when first touched.
        for parameter in model.parameters():
            getattr(parameter, "ds_tensor", parameter).sum()
    seconds = time.perf_counter() - started
    (scratch / f"loaded-{rank}.json").write_text(json.dumps({"seconds": seconds}))
    sys.stdin.read()  # hold the model until the parent has measured what it holds
    del model


# ---- the parent: launch, sample, report ----


def meminfo_used() -> int:
    info = {}
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            name, _, rest = line.partition(":")
            info[name] = int(rest.split()[0]) * 1024
    return info["MemTotal"] - info["MemAvailable"]


def own_pss(pids: list[int]) -> int:
    """Sum of the processes' anonymous + shared-memory PSS (file-backed pages left out, as page cache)."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(("Pss_Anon:", "Pss_Shmem:")):
                total += int(line.split()[1]) * 1024
    return total


class Sampler(threading.Thread):
    """Records (time, machine used, workers' PSS) every SAMPLE_SECONDS until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int, int]] = []
        self.pids: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        ticks = 0
        pss = 0
        while not self.stop.is_set():
            if ticks % 5 == 0:  # smaps_rollup walks page tables: every 100 ms is enough
                pss = own_pss(self.pids)
            self.samples.append((time.monotonic(), meminfo_used(), pss))
            ticks += 1
            time.sleep(SAMPLE_SECONDS)

    def settled_level(self) -> float:
        """The machine's used memory once it has stopped falling: memory that a previous run's processes
        freed keeps leaving the figure for seconds after they exit, which would otherwise count as memory
        loading gave back."""
        level = float("inf")
        for _ in range(SETTLE_MAX_SECONDS):
            time.sleep(1.0)
            last_second = self.samples[-SAMPLES_PER_SECOND:]
            previous, level = level, statistics.median(used for _, used, _ in last_second)
            if previous - level < SETTLED_BYTES:
                break
        return level


def drop_page_cache() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_ds_config(path: Path, zero: int) -> None:
    config = json.loads((REPO / "ds_configs" / ("zero3.json" if zero == 3 else "zero2.json")).read_text())
    config["zero_optimization"]["stage"] = zero
    path.write_text(json.dumps(config))


def wait_for(scratch: Path, pattern: str, workers: list[subprocess.Popen], way: str) -> None:
    """Wait until every worker has written a file matching `pattern`; raise with its log if one fails."""
    while len(list(scratch.glob(pattern))) < len(workers):
        failed = [w for w in workers if w.poll() not in (None, 0)]
        if failed:
            rank = workers.index(failed[0])
            tail = (scratch / f"worker-{rank}.log").read_text()[-4000:]
            raise RuntimeError(f"{way} worker {rank} failed ({failed[0].returncode}):\n{tail}")
        time.sleep(0.05)


def measure(way: str, args: argparse.Namespace, device: str) -> dict[str, float]:
    """Run N workers one way; return the figures in bytes and seconds."""
    import torch

    with tempfile.TemporaryDirectory(prefix=f"bench-load-{way}-") as tmp:
        scratch = Path(tmp)
        write_ds_config(scratch / "ds_config.json", args.zero)
        env = dict(
            os.environ,
            WORLD_SIZE=str(args.nproc),
            LOCAL_WORLD_SIZE=str(args.nproc),
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(free_port()),
            OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
            HF_HUB_OFFLINE="1",
        )
        command = [sys.executable, __file__, "--worker", way, "--model", str(args.model)]
        command += ["--zero", str(args.zero), "--device", device, "--scratch", str(scratch)]
        # Several processes may share a GPU (ZeRO-0/1/2 loading needs no collective between them).
        gpus = torch.cuda.device_count() if device == "cuda" else 0
        logs, workers = [], []
        for rank in range(args.nproc):
            log = open(scratch / f"worker-{rank}.log", "w")  # noqa: SIM115 - closed below
            logs.append(log)
            workers.append(
                subprocess.Popen(
                    command,
                    env=dict(env, RANK=str(rank), LOCAL_RANK=str(rank % gpus if gpus else rank)),
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        sampler = Sampler()
        try:
            wait_for(scratch, "ready-*", workers, way)
            # The baseline: every process started, imported and (ours) in its process group; nothing loaded.
            cold = drop_page_cache()
            sampler.pids = [w.pid for w in workers]
            sampler.start()
            baseline = sampler.settled_level()
            pss_baseline = statistics.median(pss for _, _, pss in sampler.samples[-SAMPLES_PER_SECOND:])
            started = time.monotonic()
            for w in workers:
                w.stdin.write(b"go\n")
                w.stdin.flush()
            wait_for(scratch, "loaded-*.json", workers, way)
            loaded = time.monotonic()
            time.sleep(HOLD_SECONDS)
            released = time.monotonic()
        finally:
            for w in workers:
                if w.poll() is None:
                    w.stdin.close()
            for w in workers:
                w.wait(timeout=120)
            for log in logs:
                log.close()
            sampler.stop.set()
            if sampler.is_alive():
                sampler.join()
        during = [s for s in sampler.samples if started <= s[0] <= released]
        holding = [s for s in during if s[0] >= loaded + 0.2]
        seconds = [json.loads(p.read_text())["seconds"] for p in scratch.glob("loaded-*.json")]
    return {
        "cold": cold,
        "peak": max(used for _, used, _ in during) - baseline,
        "held": statistics.median(used for _, used, _ in holding) - baseline,
        "pss_peak": max(pss for _, _, pss in during) - pss_baseline,
        "pss_held": statistics.median(pss for _, _, pss in holding) - pss_baseline,
        "load_seconds": max(seconds),
        "seconds": loaded - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="checkpoint folder (save_pretrained layout)")
    parser.add_argument("--nproc", type=int, default=4, help="processes loading at once")
    parser.add_argument("--zero", type=int, choices=(0, 1, 2, 3), default=3, help="ZeRO stage of ours")
    parser.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto: cuda when there is a GPU"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each way; figures are medians")
    parser.add_argument(
        "--measure",
        choices=("machine", "processes"),
        default="processes",
        help="for the last line: the workers' own memory (PSS; default), or the machine's used memory, "
        "which other programs and the kernel's reclaim disturb",
    )
    parser.add_argument("--make_model", type=Path, help="write a random LLaMA to this folder and exit")
    parser.add_argument("--hidden", type=int, default=2048, help="--make_model: hidden size")
    parser.add_argument("--layers", type=int, default=8, help="--make_model: layers")
    parser.add_argument("--vocab", type=int, default=32000, help="--make_model: vocabulary size")
    parser.add_argument("--worker", choices=("naive", "ours"), help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.make_model:
        make_model(args.make_model, args.hidden, args.layers, args.vocab)
        return 0
    if args.model is None:
        parser.error("--model is required (or --make_model to build one)")
    if args.worker:
        worker(args.worker, str(args.model), args.device, args.scratch)
        return 0

    import torch

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    size = checkpoint_bytes(args.model)
    print(
        f"checkpoint {args.model}: {size / GIB:.2f} GiB on disk; "
        f"{args.nproc} processes, {device}, ZeRO-{args.zero}"
    )
    if device == "cuda" and args.zero == 3 and args.nproc > torch.cuda.device_count():
        parser.error(f"ZeRO-3 needs a GPU per process (NCCL); this machine has {torch.cuda.device_count()}")
    runs: dict[str, list[dict[str, float]]] = {"naive": [], "ours": []}
    for _ in range(args.repeat):  # alternating, so a change in the machine's load hits both alike
        for way in runs:
            runs[way].append(measure(way, args, device))
    results = {way: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for way, rs in runs.items()}
    for way, r in results.items():
        print(
            f"{way:5s}  machine: peak {r['peak'] / size:5.2f}x held {r['held'] / size:5.2f}x "
            f"overhead {(r['peak'] - r['held']) / size:5.2f}x | "
            f"workers' PSS: peak {r['pss_peak'] / size:5.2f}x "
            f"held {r['pss_held'] / size:5.2f}x overhead {(r['pss_peak'] - r['pss_held']) / size:5.2f}x | "
            f"load {r['load_seconds']:.1f} s{'' if r['cold'] else ' (page cache not dropped)'}"
        )
    peak, held = ("peak", "held") if args.measure == "machine" else ("pss_peak", "pss_held")
    if device == "cpu" and args.zero < 3:
        print(
            f"ZeRO-{args.zero} on CPU: every process holds a full replica by design; "
            "the figures below are the loading overhead (peak - held)"
        )
        figures = [(r[peak] - r[held]) / size for r in results.values()]
    else:
        figures = [r[peak] / size for r in results.values()]
    print(f"({args.measure} memory, median of {args.repeat} run(s) each)")
    print(f"peak host memory / checkpoint size: naive {figures[0]:.2f}, ours {figures[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
