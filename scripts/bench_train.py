"""Training speed: the plain HF Trainer script a user would write vs finetune.py with its defaults.

Both train the same model on the same examples (the first steps x batch_size of --data, one epoch each)
with the same batch size, learning rate, seed and number of steps, each in a fresh process:
    baseline  HF Trainer + default_data_collator, every example padded to --max_length (256, the length
              limit finetune.py uses by default; "auto": the smallest power of two that holds every
              example), examples in file order; the same token ids as ours
    ours      finetune.py with its defaults: length-grouped batches padded to their longest example, the
              fastest attention implementation, throughput logged by ftkit.throughput
Throughput is the non-padding tokens of those examples (attention_mask == 1, plus non-ignored labels for
seq2seq) over the time from the run's first training step to its end (the time ftkit.throughput counts;
model loading and DeepSpeed set-up excluded; train_runtime, which includes set-up, is printed too).
The losses must be close: each trained model's loss on the same held-out examples (the --eval_samples
after the training ones) within --loss_tolerance (relative); exit status 1 otherwise. The mean training
loss of each run is printed too.

Usage:
    python scripts/bench_train.py --model outputs/cache/tiny-llama --data data/sample/train.jsonl --steps 100
    python scripts/bench_train.py --model DIR --data conll14/INPUT --targets conll14/CAMB --steps 100
    python scripts/bench_train.py --model DIR --data FILE --steps 200 --bf16 --deepspeed ds_configs/zero2.json

--data is JSONL with source/target, or plain text (one source per line) with --targets (aligned lines) or
else target = source. Flags the bench does not know are passed to both runs as TrainingArguments.

The last line reads `non-padding tokens/s: baseline X, ours Y, ratio Z`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import (  # noqa: E402
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    HfArgumentParser,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    default_data_collator,
)

from ftkit.data import IGNORE_INDEX, PaddingCollator, encode_dataset, read_examples  # noqa: E402
from ftkit.modeling import load_model, load_tokenizer  # noqa: E402
from ftkit.templates import DEFAULT_TEMPLATE, build_prompt  # noqa: E402
from ftkit.throughput import ModelFlops, peak_flops, peak_memory_gib  # noqa: E402


class StepTimer(TrainerCallback):
    """Seconds from the start of the first training step to the end of training."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.seconds = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        if self.start is None:
            self.start = time.perf_counter()

    def on_train_end(self, args, state, control, **kwargs):
        self.seconds = time.perf_counter() - self.start


def run_baseline(argv: list[str]) -> None:
    """The plain script: HF Trainer, every example padded to one max_length, examples in file order.

    It trains on the same token ids as finetune.py (prompt and target encoded separately, EOS appended,
    loss on the target only), so the two runs differ only in batching and their losses compare.
    """
    parser = argparse.ArgumentParser()
    for flag in ("--model", "--train_file", "--output_dir", "--max_length"):
        parser.add_argument(flag, required=True)
    args, training_flags = parser.parse_known_args(argv)
    (training_args,) = HfArgumentParser(TrainingArguments).parse_args_into_dataclasses(
        ["--output_dir", args.output_dir, "--train_sampling_strategy", "sequential", *training_flags]
    )
    config = AutoConfig.from_pretrained(args.model)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    rows = [json.loads(line) for line in Path(args.train_file).read_text(encoding="utf-8").splitlines()]
    prompts = [build_prompt(row["source"], DEFAULT_TEMPLATE) for row in rows]
    targets = [row["target"] for row in rows]
    auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    model = auto.from_pretrained(args.model)

    if config.is_encoder_decoder:
        sources = tokenizer(prompts)["input_ids"]
        answers = tokenizer(text_target=targets)["input_ids"]
    else:
        prompt_ids = tokenizer(prompts)["input_ids"]
        target_ids = tokenizer(targets, add_special_tokens=False)["input_ids"]
        sources = [p + t + [tokenizer.eos_token_id] for p, t in zip(prompt_ids, target_ids, strict=True)]
        answers = [
            [IGNORE_INDEX] * len(p) + t + [tokenizer.eos_token_id]
            for p, t in zip(prompt_ids, target_ids, strict=True)
        ]
    longest = max(len(ids) for ids in sources + answers)
    # "auto": the smallest power of two that truncates nothing, the strongest fixed length there is.
    max_length = 2 ** math.ceil(math.log2(longest)) if args.max_length == "auto" else int(args.max_length)

    def pad(ids: list[int], value: int) -> list[int]:
        return ids[:max_length] + [value] * (max_length - len(ids))

    data = {
        "input_ids": [pad(ids, tokenizer.pad_token_id) for ids in sources],
        "attention_mask": [pad([1] * len(ids), 0) for ids in sources],
        "labels": [pad(ids, IGNORE_INDEX) for ids in answers],
    }
    dataset = Dataset.from_dict(dict(data))
    timer = StepTimer()  # measurement only: the time ours' ThroughputCallback counts
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=dataset,
        data_collator=default_data_collator,
        callbacks=[timer],
    )
    metrics = trainer.train().metrics
    trainer.save_model()
    mask_tokens = sum(map(sum, data["attention_mask"]))
    label_tokens = sum(t != IGNORE_INDEX for ids in data["labels"] for t in ids)
    seq2seq = config.is_encoder_decoder
    result = {
        **metrics,
        "max_length": max_length,
        "tokens": len(rows) * max_length * (2 if seq2seq else 1),
        "encoder_real": mask_tokens if seq2seq else 0,
        "decoder_real": label_tokens if seq2seq else mask_tokens,
        "peak_memory_gib": peak_memory_gib(training_args.device),
        "step_seconds": timer.seconds,
    }
    Path(args.output_dir, "bench_results.json").write_text(json.dumps(result, indent=2) + "\n")


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


def write_jsonl(path: Path, sources: list[str], targets: list[str]) -> Path:
    lines = (
        json.dumps({"source": s, "target": t}, ensure_ascii=False)
        for s, t in zip(sources, targets, strict=True)
    )
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(command: list[str], log: Path, env: dict[str, str]) -> None:
    with log.open("w") as out:
        result = subprocess.run(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-4000:]
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}); end of {log}:\n{tail}")


@torch.no_grad()
def held_out_loss(
    path: Path, framework: str, tokenizer: PreTrainedTokenizerBase, dataset: Dataset, device: torch.device
) -> float:
    """Mean loss per target token of the model in `path` on `dataset`."""
    model = load_model(str(path), framework, AutoConfig.from_pretrained(path), tokenizer, torch.float32)
    model.to(device).eval()
    collator = PaddingCollator(tokenizer)
    total = count = 0.0
    for start in range(0, len(dataset), 16):
        batch = collator([dict(row) for row in dataset.select(range(start, min(start + 16, len(dataset))))])
        labels = batch["labels"] if framework == "seq2seq" else batch["labels"][:, 1:]
        n = (labels != IGNORE_INDEX).sum().item()
        total += model(**{k: v.to(device) for k, v in batch.items()}).loss.item() * n
        count += n
    return total / count


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["baseline"]:
        run_baseline(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="model folder (save_pretrained layout)")
    parser.add_argument("--data", type=Path, required=True, help="JSONL (source/target) or plain text")
    parser.add_argument("--targets", type=Path, help="targets for plain-text --data, aligned by line")
    parser.add_argument("--steps", type=int, required=True, help="optimizer steps of each run")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--max_length",
        default="256",
        help="the baseline's fixed length: a number [256, finetune.py's default length limit] or auto "
        "(the smallest power of two that holds every example)",
    )
    parser.add_argument("--eval_samples", type=int, default=64, help="held-out examples for the loss check")
    parser.add_argument(
        "--loss_tolerance",
        type=float,
        default=0.1,
        help="largest relative gap of the held-out losses [0.1]. Runs in the same order agree exactly; "
        "length-grouped order ends each mega-batch on its shortest examples, which moved a tiny llama's "
        "held-out loss by 8.5%% after 200 steps at lr 1e-3 (random order: 0.75%%)",
    )
    parser.add_argument("--output_dir", type=Path, help="keep both runs here [a temporary folder]")
    parser.add_argument(
        "--ours_flags", default="", help='extra finetune.py flags for ours only, e.g. "--packing"'
    )
    args, training_flags = parser.parse_known_args(argv)

    sources, targets = read_pairs(args.data, args.targets)
    n = args.steps * args.batch_size
    if len(sources) < n:
        raise SystemExit(
            f"{args.data} has {len(sources)} examples; {args.steps} steps x {args.batch_size} need {n}"
        )
    held_out = (
        slice(n, n + args.eval_samples) if len(sources) >= n + args.eval_samples else slice(args.eval_samples)
    )
    config = AutoConfig.from_pretrained(args.model)
    framework = "seq2seq" if config.is_encoder_decoder else "clm"
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    with tempfile.TemporaryDirectory() as tmp:
        work = args.output_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        train_file = write_jsonl(work / "train.jsonl", sources[:n], targets[:n])
        env = dict(os.environ)
        if "--deepspeed" in training_flags and "RANK" not in env:
            # One process without the launcher (see STACK-NOTES): DeepSpeed reads these instead.
            env.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1")
            env.update(MASTER_PORT=str(free_port()))
        common = [
            "--max_steps", str(args.steps), "--per_device_train_batch_size", str(args.batch_size),
            "--learning_rate", str(args.learning_rate), "--seed", str(args.seed), "--save_strategy", "no",
            "--logging_steps", str(max(1, args.steps // 10)), "--report_to", "none",
            *([] if device.type == "cuda" else ["--use_cpu"]), *training_flags,
        ]  # fmt: skip
        # Ours first: a first run pays any one-off warm-up, which favours the baseline.
        print(f"training ours (finetune.py defaults), log: {work / 'ours.log'}", flush=True)
        ours_dir = work / "ours"
        run(
            [sys.executable, str(REPO / "finetune.py"), "--model_name_or_path", str(args.model),
             "--train_file", str(train_file), "--output_dir", str(ours_dir), "--do_train", *common,
             *args.ours_flags.split()],
            work / "ours.log", env,
        )  # fmt: skip
        print(f"training the baseline (plain Trainer script), log: {work / 'baseline.log'}", flush=True)
        baseline_dir = work / "baseline"
        run(
            [sys.executable, str(Path(__file__).resolve()), "baseline", "--model", str(args.model),
             "--train_file", str(train_file), "--output_dir", str(baseline_dir),
             "--max_length", args.max_length, *common],
            work / "baseline.log", env,
        )  # fmt: skip
        ours = json.loads((ours_dir / "train_results.json").read_text())
        baseline = json.loads((baseline_dir / "bench_results.json").read_text())

        tokenizer = load_tokenizer(str(args.model))
        encoded = encode_dataset(
            Dataset.from_dict({"source": sources[:n], "target": targets[:n]}),
            framework, tokenizer, DEFAULT_TEMPLATE, 256, 256,
        )  # fmt: skip
        held_out_set = encode_dataset(
            Dataset.from_dict({"source": sources[held_out], "target": targets[held_out]}),
            framework, tokenizer, DEFAULT_TEMPLATE, 256, 256,
        )  # fmt: skip
        lengths = [len(ids) for ids in encoded["input_ids"]]
        label_lengths = [len(ids) for ids in encoded["labels"]] if framework == "seq2seq" else []
        ours["encoder_real"], ours["decoder_real"] = (
            (sum(lengths), sum(label_lengths)) if framework == "seq2seq" else (0, sum(lengths))
        )
        ours_real = ours["encoder_real"] + ours["decoder_real"]
        ours["tokens"] = ours_real / (1 - ours["train_padding_fraction"])
        ours["step_seconds"] = ours_real / ours["train_nonpad_tokens_per_second"]
        losses = {
            name: held_out_loss(folder, framework, tokenizer, held_out_set, device)
            for name, folder in (("baseline", baseline_dir), ("ours", ours_dir))
        }
        flops = ModelFlops.of(load_model(str(args.model), framework, config, tokenizer, torch.float32))

    peak = peak_flops(device)
    rows: dict[str, list[str]] = {}
    speed = {}
    for name, result in (("baseline", baseline), ("ours", ours)):
        real = result["encoder_real"] + result["decoder_real"]
        seconds = result["step_seconds"]
        speed[name] = real / seconds
        model_flops = flops.training_flops(result["encoder_real"], result["decoder_real"], n)
        mfu = f"{100 * model_flops / seconds / peak:.1f}%" if peak else "n/a"
        for label, value in (
            ("train_runtime (s)", f"{result['train_runtime']:.2f}"),
            ("step time (s)", f"{seconds:.2f}"),
            ("tokens/s (all)", f"{result['tokens'] / seconds:.0f}"),
            ("non-padding tokens/s", f"{speed[name]:.0f}"),
            ("samples/s", f"{n / seconds:.1f}"),
            ("padding fraction", f"{1 - real / result['tokens']:.3f}"),
            ("MFU", mfu),
            (
                "peak memory (GiB)",
                f"{result.get('peak_memory_gib', result.get('train_peak_memory_gib', 0)):.2f}",
            ),
            ("mean training loss", f"{result['train_loss']:.4f}"),
            ("held-out loss", f"{losses[name]:.4f}"),
        ):
            rows.setdefault(label, []).append(value)

    gap = abs(losses["ours"] - losses["baseline"]) / losses["baseline"]
    close = gap <= args.loss_tolerance
    print(f"model: {args.model} ({config.model_type}, {framework}); device: {device_name(device)}")
    print(
        f"data: {args.data}{f' -> {args.targets}' if args.targets else ''}: the first {n} examples, "
        f"{args.steps} steps x batch {args.batch_size}; held-out loss on {len(held_out_set)} examples"
    )
    print(f"baseline: plain Trainer, padding='max_length' ({baseline['max_length']}), file order")
    print(f"ours: finetune.py defaults (length-grouped batches) {args.ours_flags}".rstrip())
    print(f"flags for both: {' '.join(training_flags) or '-'}")
    print(f"{'':24}{'baseline':>12}{'ours':>12}")
    for label, values in rows.items():
        print(f"{label:24}{values[0]:>12}{values[1]:>12}")
    print(
        f"losses {'close' if close else 'NOT close'}: held-out loss differs by {100 * gap:.2f}% "
        f"(tolerance {100 * args.loss_tolerance:.0f}%)"
    )
    ratio = speed["ours"] / speed["baseline"]
    print(
        f"non-padding tokens/s: baseline {speed['baseline']:.0f}, ours {speed['ours']:.0f}, ratio {ratio:.2f}"
    )
    return 0 if close else 1


if __name__ == "__main__":
    sys.exit(main())
