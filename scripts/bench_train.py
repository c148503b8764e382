"""Training speed race: finetune.py against the toolkits a user would pick instead, under the same engine.

Every system trains the same decoder-only model on the same examples (the first steps x batch_size of
--data, one epoch), with the same prompt text, tokens, batch size, learning rate, seed and steps, each run
in a fresh process, once without DeepSpeed and once under the deepspeed launcher with --deepspeed_config
(ZeRO-2 by default). The systems (--peers picks families or single systems; default: every installed one):
    ours                      finetune.py with its defaults (length-grouped, dynamically padded batches)
    hf                        the careful HF Trainer script (scripts/bench_peers/hf_trainer.py): the same
                              tokenisation, DataCollatorForSeq2Seq dynamic padding, length grouping
    trl                       TRL SFTTrainer on prompt/completion ids, length grouping (trl_sft.py)
    trl_padding_free          the same with padding_free=True
    llamafactory              LLaMA-Factory (the release LLAMAFACTORY pins) with its defaults (gradient
                              checkpointing on, random order), from its own virtualenv (--make_peer_venvs
                              creates it: it pins other versions)
    llamafactory_tuned        LLaMA-Factory without gradient checkpointing, length grouping
    llamafactory_packing      LLaMA-Factory with packing + neat_packing (rows of at most 256 tokens)
LLaMA-Factory reads the data as alpaca rows with a template registered from ours (bench_peers/
llamafactory_run.py), so its tokens equal ours. The harness checks that every system trained on the same
token counts per example (packed ones: the same total) and says so; a difference fails the run.

Rounds alternate the systems (this machine's speed drifts between identical runs); figures are medians of
--repeats rounds. Throughput is the examples' non-padding tokens over the time from the first training step
after a log to the next log, summed (what ftkit.throughput counts for ours; bench_peers/measure.py counts
the same window for the peers: set-up, model loading and DeepSpeed initialisation are not in it). Each
trained model's loss on --eval_samples held-out examples (those after the training ones) is printed; ours'
must be within --loss_tolerance (relative) of the careful HF script's under the same engine, else exit 1.

Usage:
    python scripts/bench_train.py --model outputs/cache/tiny-llama-h128 --data data/sample/train.jsonl
    python scripts/bench_train.py --model DIR --data FILE --peers hf,trl --engines deepspeed --bf16 \\
        --steps 40 --batch_size 32 --learning_rate 1e-4 --ours_flags "--packing"
    python scripts/bench_train.py --make_peer_venvs ...      # first creates outputs/peer_venvs/llamafactory

--data is JSONL with source/target, or plain text (one source per line) with --targets (aligned lines) or
else target = source. Flags the bench does not know are passed to every system as TrainingArguments
(LLaMA-Factory: as keys of its config, `--use_liger_kernel true` -> use_liger_kernel: true).

The output ends with one line per engine:
    non-padding tokens/s vs best peer, ENGINE: ours X, best peer Y (NAME), ratio Z
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from datasets import Dataset
from transformers import AutoConfig, PreTrainedTokenizerBase

from ftkit.data import IGNORE_INDEX, PaddingCollator, encode_dataset, read_examples
from ftkit.frameworks import CLM, framework_of
from ftkit.modeling import load_model, load_tokenizer
from ftkit.templates import DEFAULT_TEMPLATE, TEMPLATES, build_prompt

REPO = Path(__file__).resolve().parents[1]
PEERS_DIR = REPO / "scripts" / "bench_peers"

ENGINES = ("plain", "deepspeed")
LLAMAFACTORY = "llamafactory==0.9.5"
LLAMAFACTORY_DEEPSPEED = "deepspeed==0.16.4"  # the version its README recommends (it ships no extra for it)
# The project's torch: the peer venv installs it first (pip's local wheel, CPU build here) and keeps it.
PEER_TORCH = "torch==2.13.0"
RESULTS = "bench_results.json"  # bench_peers/measure.py's file


@dataclass(frozen=True)
class System:
    name: str
    family: str  # ours, hf, trl, llamafactory
    label: str
    flags: tuple[str, ...] = ()  # extra flags (LLaMA-Factory: config keys)
    packed: bool = False  # trains on packed rows: only the total token count compares


SYSTEMS = (
    System("ours", "ours", "finetune.py (defaults)"),
    System("hf", "hf", "careful HF Trainer: DataCollatorForSeq2Seq, length grouping"),
    System("trl", "trl", "TRL SFTTrainer (prompt/completion), length grouping"),
    System("trl_padding_free", "trl", "TRL SFTTrainer, padding_free=True", ("--padding_free", "true")),
    System("llamafactory", "llamafactory", "LLaMA-Factory 0.9.5, defaults"),
    System(
        "llamafactory_tuned",
        "llamafactory",
        "LLaMA-Factory, no gradient checkpointing, length grouping",
        ("--disable_gradient_checkpointing", "true", "--train_sampling_strategy", "group_by_length"),
    ),
    System(
        "llamafactory_packing",
        "llamafactory",
        "LLaMA-Factory, packing + neat_packing",
        (
            "--disable_gradient_checkpointing",
            "true",
            "--packing",
            "true",
            "--neat_packing",
            "true",
            "--cutoff_len",
            "256",
        ),
        packed=True,
    ),  # fmt: skip
)


@dataclass
class Run:
    system: System
    engine: str
    output_dir: Path
    tokens_per_second: float = 0.0
    held_out_loss: float | None = None
    counts: dict[str, list[int]] = field(default_factory=dict)


def peer_python(venvs: Path, family: str) -> Path:
    """The interpreter that runs a family: the project's, or LLaMA-Factory's own virtualenv's."""
    return venvs / "llamafactory" / "bin" / "python" if family == "llamafactory" else Path(sys.executable)


def installed(family: str, venvs: Path) -> bool:
    if family in ("ours", "hf"):
        return True
    if family == "trl":
        return importlib.util.find_spec("trl") is not None
    return peer_python(venvs, family).exists()


def make_peer_venv(venvs: Path) -> None:
    """LLaMA-Factory's virtualenv: the project's torch first (constrained, so no dependency replaces it with
    another build), then LLaMA-Factory with its own pins and the DeepSpeed it recommends."""
    venv = venvs / "llamafactory"
    if peer_python(venvs, "llamafactory").exists():
        print(f"{venv}: exists (delete it to rebuild)", flush=True)
        return
    venvs.mkdir(parents=True, exist_ok=True)
    constraints = venvs / "constraints.txt"
    constraints.write_text(PEER_TORCH + "\n")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    print(f"creating {venv} ({PEER_TORCH}, {LLAMAFACTORY}, {LLAMAFACTORY_DEEPSPEED}; minutes)", flush=True)
    for command in (
        [sys.executable, "-m", "venv", str(venv)],
        [*pip, PEER_TORCH],
        [*pip, "-c", str(constraints), LLAMAFACTORY, LLAMAFACTORY_DEEPSPEED],
        # torchvision's PyPI build needs CUDA torch: on the CPU build it fails to import, and transformers
        # with it. LLaMA-Factory's text SFT does not use it.
        [str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", "torchvision"],
    ):
        if subprocess.run(command).returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed; remove {venv} and try again")
    if not torch.cuda.is_available():
        # torchaudio's PyPI build holds CUDA-only extensions, and LLaMA-Factory imports torchaudio at start-up
        # (for audio data, unused here): without them it imports as a build without extensions.
        for library in venv.glob("lib/python*/site-packages/torchaudio/lib/*.so"):
            library.unlink()


def select_systems(names: str | None, venvs: Path) -> list[System]:
    """ours plus the named peers (families or systems); by default every installed one."""
    if names is None:
        return [s for s in SYSTEMS if installed(s.family, venvs)]
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    known = {s.name for s in SYSTEMS} | {s.family for s in SYSTEMS}
    if unknown := [name for name in wanted if name not in known]:
        raise SystemExit(f"--peers: unknown {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    chosen = [s for s in SYSTEMS if s.name == "ours" or s.name in wanted or s.family in wanted]
    if missing := sorted({s.family for s in chosen if not installed(s.family, venvs)}):
        raise SystemExit(
            f"--peers: {', '.join(missing)} not installed (LLaMA-Factory: add --make_peer_venvs to create "
            f"{venvs / 'llamafactory'}; TRL: pip install trl)"
        )
    return chosen


def read_pairs(data: Path, targets: Path | None) -> tuple[list[str], list[str]]:
    if data.suffix == ".jsonl":
        columns = read_examples(data, require_target=True)
        return columns["source"], columns["target"]
    sources = [line.strip() for line in data.read_text(encoding="utf-8").splitlines()]
    if targets is None:
        return sources, sources
    aligned = [line.strip() for line in targets.read_text(encoding="utf-8").splitlines()]
    if len(aligned) != len(sources):
        raise SystemExit(f"--targets {targets} has {len(aligned)} lines, --data {data} has {len(sources)}")
    return sources, aligned


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def write_data(work: Path, sources: list[str], targets: list[str], tokenizer) -> dict[str, Path]:
    """The training examples in each system's format: ours (source/target), prompt/completion (the prompt
    built by our template: HF and TRL), and an alpaca dataset folder for LLaMA-Factory."""
    pairs = list(zip(sources, targets, strict=True))
    lf_dir = work / "llamafactory_data"
    lf_dir.mkdir(parents=True, exist_ok=True)
    (lf_dir / "gec.json").write_text(
        json.dumps([{"instruction": s, "input": "", "output": t} for s, t in pairs], ensure_ascii=False)
    )
    (lf_dir / "dataset_info.json").write_text(json.dumps({"gec": {"file_name": "gec.json"}}))
    return {
        "ours": write_jsonl(work / "train.jsonl", [{"source": s, "target": t} for s, t in pairs]),
        "prompt_completion": write_jsonl(
            work / "prompt_completion.jsonl",
            [{"prompt": build_prompt(s, DEFAULT_TEMPLATE, tokenizer), "completion": t} for s, t in pairs],
        ),
        "llamafactory": lf_dir,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flag_pairs(flags: list[str]) -> dict[str, object]:
    """`--name value` / `--name` (true) flags as config keys, values parsed as JSON where they are."""
    config: dict[str, object] = {}
    i = 0
    while i < len(flags):
        name = flags[i].removeprefix("--")
        if i + 1 < len(flags) and not flags[i + 1].startswith("--"):
            value: object = flags[i + 1]
            try:
                value = json.loads(flags[i + 1])
            except ValueError:
                pass
            i += 2
        else:
            value, i = True, i + 1
        config[name] = value
    return config


def command(
    system: System, engine: str, args: argparse.Namespace, files: dict[str, Path], out: Path, extra: list[str]
) -> list[str]:
    """The command line of one run, under the deepspeed launcher for engine `deepspeed`."""
    python = peer_python(args.peer_venvs, system.family)
    training = [
        "--per_device_train_batch_size", str(args.batch_size), "--learning_rate", str(args.learning_rate),
        "--seed", str(args.seed), "--save_strategy", "no", "--logging_steps", str(max(1, args.steps // 10)),
        "--report_to", "none", *([] if torch.cuda.is_available() else ["--use_cpu"]),
        *(["--bf16"] if args.bf16 else []), *extra,
        *(["--deepspeed", str(args.deepspeed_config)] if engine == "deepspeed" else []),
    ]  # fmt: skip
    # A packed run trains the examples once in fewer, fuller rows; the others take exactly one epoch's steps.
    length = ["--num_train_epochs", "1"] if system.packed else ["--max_steps", str(args.steps)]
    attn = ["--attn_implementation", args.attn_implementation] if args.attn_implementation else []
    if system.family == "ours":
        script = [str(REPO / "finetune.py"), "--model_name_or_path", str(args.model), "--train_file",
                  str(files["ours"]), "--output_dir", str(out), "--do_train", *length, *training, *attn,
                  *args.ours_flags.split()]  # fmt: skip
    elif system.family in ("hf", "trl"):
        peer = PEERS_DIR / ("hf_trainer.py" if system.family == "hf" else "trl_sft.py")
        script = [str(peer), "--model", str(args.model), "--train_file", str(files["prompt_completion"]),
                  "--output_dir", str(out), *length, *training, *attn, *system.flags]  # fmt: skip
    else:
        config = {
            "model_name_or_path": str(args.model), "stage": "sft", "do_train": True,
            "finetuning_type": "full", "dataset": "gec", "dataset_dir": str(files["llamafactory"]),
            "template": "ftkit_gec",
            "ftkit_prompt_template": TEMPLATES[DEFAULT_TEMPLATE], "output_dir": str(out),
            "overwrite_output_dir": True, "overwrite_cache": True,
            **({"flash_attn": "fa2" if "flash" in args.attn_implementation else args.attn_implementation}
               if args.attn_implementation else {}),
            **flag_pairs(length + training + list(system.flags)),
        }  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        config_path = out.parent / f"{out.name}.llamafactory.json"
        config_path.write_text(json.dumps(config, indent=2))
        script = [str(PEERS_DIR / "llamafactory_run.py"), str(config_path)]
    if engine == "deepspeed":
        launcher = python.parent / "deepspeed"
        return [str(launcher), "--num_gpus", "1", "--master_port", str(free_port()), *script]
    return [str(python), *script]


def run_env(system: System, venvs: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The deepspeed launcher does not set OMP_NUM_THREADS: two threads per process on a busy small machine
    # made steps many times slower (STACK-NOTES).
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", DISABLE_VERSION_CHECK="1")
    if not torch.cuda.is_available():
        env.setdefault("DS_ACCELERATOR", "cpu")
    if system.family == "llamafactory":
        # Its DeepSpeed builds its own JIT ops: keep them apart from the project's.
        env["TORCH_EXTENSIONS_DIR"] = str(venvs / "llamafactory" / "torch_extensions")
    return env


def execute(cmd: list[str], log: Path, env: dict[str, str]) -> None:
    with log.open("w") as out:
        result = subprocess.run(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-4000:]
        raise SystemExit(f"{' '.join(cmd)} failed ({result.returncode}); end of {log}:\n{tail}")


def example_counts(dataset: Dataset) -> dict[str, list[int]]:
    return {
        "input_tokens": [len(ids) for ids in dataset["input_ids"]],
        "trained_tokens": [sum(t != IGNORE_INDEX for t in ids) for ids in dataset["labels"]],
    }


def count_mismatch(reference: dict[str, list[int]], counts: dict[str, list[int]], packed: bool) -> str | None:
    """Why `counts` (a run's tokens per example) differ from `reference` (ours), or None when they match.
    A packed run holds rows of several examples: only the totals compare."""
    for key in ("input_tokens", "trained_tokens"):
        ours, theirs = reference[key], counts.get(key)
        if theirs is None:
            return f"no {key} recorded"
        if packed:
            if sum(theirs) != sum(ours):
                return f"{key}: {sum(theirs)} in all, ours {sum(ours)}"
            continue
        if len(theirs) != len(ours):
            return f"{len(theirs)} examples, ours {len(ours)}"
        for row, (a, b) in enumerate(zip(theirs, ours, strict=True)):
            if a != b:
                return f"{key} of example {row}: {a}, ours {b}"
    return None


@torch.no_grad()
def held_out_loss(path: Path, tokenizer: PreTrainedTokenizerBase, dataset: Dataset) -> float:
    """Mean loss per target token of the model in `path` on `dataset`."""
    model = load_model(str(path), CLM, AutoConfig.from_pretrained(path), tokenizer, torch.float32)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).eval()
    collator = PaddingCollator(tokenizer)
    total = count = 0.0
    for start in range(0, len(dataset), 16):
        batch = collator([dict(row) for row in dataset.select(range(start, min(start + 16, len(dataset))))])
        n = (batch["labels"][:, 1:] != IGNORE_INDEX).sum().item()
        total += model(**{k: v.to(device) for k, v in batch.items()}).loss.item() * n
        count += n
    return total / count


def read_run(run: Run, real_tokens: int) -> None:
    if run.system.family == "ours":
        result = json.loads((run.output_dir / "train_results.json").read_text())
        run.tokens_per_second = result["train_nonpad_tokens_per_second"]
        return
    result = json.loads((run.output_dir / RESULTS).read_text())
    run.counts = {key: result[key] for key in ("input_tokens", "trained_tokens") if key in result}
    run.tokens_per_second = real_tokens / result["seconds"]


def device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"CPU ({os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})"


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )  # fmt: skip
    parser.add_argument("--model", type=Path, required=True, help="decoder-only model folder")
    parser.add_argument("--data", type=Path, required=True, help="JSONL (source/target) or plain text")
    parser.add_argument("--targets", type=Path, help="targets for plain-text --data, aligned by line")
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps of each run [200]")
    parser.add_argument("--batch_size", type=int, default=16, help="[16]")
    parser.add_argument("--learning_rate", type=float, default=3e-3, help="[3e-3]")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds; medians [3]")
    parser.add_argument(
        "--peers", help="comma-separated families (hf, trl, llamafactory) or systems [every installed one]"
    )
    parser.add_argument(
        "--engines", default="plain,deepspeed", help="plain (no DeepSpeed), deepspeed (the launcher) [both]"
    )
    parser.add_argument("--deepspeed_config", type=Path, default=REPO / "ds_configs" / "zero2.json")
    parser.add_argument("--bf16", action="store_true", help="every system trains in bf16 (GPU)")
    parser.add_argument(
        "--attn_implementation", help="for every system (sdpa, eager, flash_attention_2) [each one's default]"
    )
    parser.add_argument("--ours_flags", default="", help='extra finetune.py flags, e.g. "--packing"')
    parser.add_argument("--eval_samples", type=int, default=64, help="held-out examples for the loss check")
    parser.add_argument(
        "--loss_tolerance", type=float, default=0.05,
        help="largest relative gap of ours' held-out loss to the careful HF script's, medians [0.05]",
    )  # fmt: skip
    parser.add_argument("--output_dir", type=Path, help="keep every run here [a temporary folder]")
    parser.add_argument("--peer_venvs", type=Path, default=REPO / "outputs" / "peer_venvs")
    parser.add_argument(
        "--make_peer_venvs", action="store_true", help="create LLaMA-Factory's virtualenv in --peer_venvs"
    )
    args, extra = parser.parse_known_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if unknown := [e for e in engines if e not in ENGINES]:
        parser.error(f"--engines: unknown {', '.join(unknown)}; choose from plain, deepspeed")
    args.engines = engines
    return args, extra


def main(argv: list[str] | None = None) -> int:
    args, extra = parse(sys.argv[1:] if argv is None else argv)
    if framework_of(AutoConfig.from_pretrained(args.model)) is not CLM:
        raise SystemExit(f"{args.model}: the race is for decoder-only models (TRL's and LLaMA-Factory's SFT)")
    if args.make_peer_venvs:
        make_peer_venv(args.peer_venvs)
    systems = select_systems(args.peers, args.peer_venvs)
    sources, targets = read_pairs(args.data, args.targets)
    n = args.steps * args.batch_size
    if len(sources) < n:
        raise SystemExit(
            f"{args.data} has {len(sources)} examples; {args.steps} steps x {args.batch_size} need {n}"
        )
    held_out = slice(n, n + args.eval_samples) if len(sources) > n else slice(args.eval_samples)
    tokenizer = load_tokenizer(str(args.model))
    encode = lambda s, t: encode_dataset(  # noqa: E731
        Dataset.from_dict({"source": s, "target": t}), CLM, tokenizer, DEFAULT_TEMPLATE, 256, 256
    )
    reference = example_counts(encode(sources[:n], targets[:n]))
    held_out_set = encode(sources[held_out], targets[held_out])
    real_tokens = sum(reference["input_tokens"])
    load_before = load_average()

    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.output_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        files = write_data(work, sources[:n], targets[:n], tokenizer)
        for repeat in range(args.repeats):
            for engine in args.engines:
                for system in systems:
                    out = work / "runs" / f"{system.name}-{engine}-{repeat}"
                    log = out.parent / f"{out.name}.log"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    print(
                        f"round {repeat + 1}/{args.repeats}: {system.name}, {engine}; log {log}", flush=True
                    )
                    cmd = command(system, engine, args, files, out, extra)
                    execute(cmd, log, run_env(system, args.peer_venvs))
                    run = Run(system, engine, out)
                    read_run(run, real_tokens)
                    run.held_out_loss = held_out_loss(out, tokenizer, held_out_set)
                    runs.append(run)
    return report(args, systems, runs, reference, real_tokens, len(held_out_set), load_before)


def report(args, systems, runs, reference, real_tokens, held_out_n, load_before) -> int:
    def label(engine: str) -> str:
        return "no DeepSpeed" if engine == "plain" else f"DeepSpeed {args.deepspeed_config.stem}"

    status = 0
    mismatches = [
        f"{run.system.name} ({run.engine}): {why}"
        for run in runs
        if run.system.family != "ours" and (why := count_mismatch(reference, run.counts, run.system.packed))
    ]
    n = len(reference["input_tokens"])
    print(f"model: {args.model}; device: {device_name()}; load average before {load_before}, "
          f"after {load_average()}")  # fmt: skip
    print(f"data: {args.data}: the first {n} examples, {args.steps} steps x batch {args.batch_size}, "
          f"lr {args.learning_rate}, {args.repeats} alternating rounds (medians); held-out loss on "
          f"{held_out_n} examples")  # fmt: skip
    if mismatches:
        status = 1
        print("token counts DIFFER: " + "; ".join(mismatches))
    else:
        print(f"token counts: every system trained on the same {real_tokens} tokens "
              f"({sum(reference['trained_tokens'])} of them trained on), equal for each of the {n} examples "
              "(packed systems: equal totals)")  # fmt: skip
    print()
    print("| system | engine | non-pad tokens/s | runs | ÷ ours, same engine | held-out loss |")
    print("| --- | --- | --- | --- | --- | --- |")
    medians: dict[tuple[str, str], tuple[float, float]] = {}
    for engine in args.engines:
        for system in systems:
            mine = [r for r in runs if r.system is system and r.engine == engine]
            speed = statistics.median(r.tokens_per_second for r in mine)
            loss = statistics.median(r.held_out_loss for r in mine)
            medians[system.name, engine] = speed, loss
    for engine in args.engines:
        ours = medians["ours", engine][0]
        for system in systems:
            speed, loss = medians[system.name, engine]
            mine = [r for r in runs if r.system is system and r.engine == engine]
            each = " / ".join(f"{r.tokens_per_second:,.0f}" for r in mine)
            print(
                f"| {system.label} | {label(engine)} | {speed:,.0f} | {each} | {speed / ours:.2f} "
                f"| {loss:.4f} |"
            )
    print()
    for engine in args.engines:
        ours_speed, ours_loss = medians["ours", engine]
        if ("hf", engine) in medians:
            hf_loss = medians["hf", engine][1]
            gap = abs(ours_loss - hf_loss) / hf_loss
            close = gap <= args.loss_tolerance
            status |= not close
            verdict = "close" if close else "NOT close"
            print(
                f"held-out loss, {label(engine)}: ours {ours_loss:.4f}, careful HF script {hf_loss:.4f}: "
                f"{verdict} ({100 * gap:.2f}%, tolerance {100 * args.loss_tolerance:.0f}%)"
            )
    for engine in args.engines:
        ours_speed = medians["ours", engine][0]
        peers = [(medians[s.name, engine][0], s.name) for s in systems if s.family != "ours"]
        if peers:
            best, name = max(peers)
            print(f"non-padding tokens/s vs best peer, {label(engine)}: ours {ours_speed:.0f}, "
                  f"best peer {best:.0f} ({name}), ratio {ours_speed / best:.2f}")  # fmt: skip
    return status


if __name__ == "__main__":
    sys.exit(main())
