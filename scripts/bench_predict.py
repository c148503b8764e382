"""Prediction speed: ftkit's prediction vs a plain `model.generate` loop and a careful one.

All three run the same model on the same inputs with the same batch size, beams and generation settings:
- plain: what a first script does, file-order batches generated one after another;
- careful: what a user who read the generation docs writes, batches sorted by length (decoder-only prompts
  padded on the left), one `generate` call each, input order restored;
- ours: what `finetune.py --do_predict` runs (`ftkit.training.predict`: length-sorted batches through the
  Trainer, finished rows released, the prompts' shared prefix computed once, input order restored).
The outputs must be identical (exit status 1 otherwise). The ways take turns, `--repeats` times, and each
reports its median time, so that a burst of other load on the machine falls on all alike.

Usage:
    python scripts/bench_predict.py --model_name_or_path outputs/tiny-llama-sample \\
        --inputs ../shared/gec-data/conll14-submissions/INPUT [--limit 500] [--batch_size 32] \\
        [--num_beams 1] [--repeats 3]

The last line reads `sentences/s: plain X, careful Y, ours Z; ours/plain A, ours/careful B`.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import transformers
from datasets import Dataset
from transformers import PreTrainedModel, PreTrainedTokenizerBase, Seq2SeqTrainingArguments

from ftkit.args import DataArguments
from ftkit.data import PaddingCollator, encode_dataset, read_examples
from ftkit.frameworks import Framework, framework_of
from ftkit.generation import decode, generation_kwargs
from ftkit.modeling import load_config, load_model, load_tokenizer, weights_dtype
from ftkit.templates import DEFAULT_TEMPLATE, TEMPLATES
from ftkit.training import GecTrainer, build_trainer, predict


@dataclass(frozen=True)
class Generator:
    """One `generate` call on a padded batch and the answers decoded, as both hand-written loops make it
    (decoded as ours is, so that the texts compare)."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    framework: Framework
    gen_kwargs: dict

    def __call__(self, batch: dict[str, torch.Tensor]) -> list[str]:
        generated = self.model.generate(**batch, **self.gen_kwargs)
        answers = self.framework.new_tokens(generated, batch["input_ids"].shape[1])
        return decode(self.tokenizer, answers.tolist())


def plain_loop(generate: Generator, dataset: Dataset, batch_size: int) -> list[str]:
    """What a first script does: batches in file order, generated one after another (decoder-only prompts
    padded on the left, encoder inputs on the right, as generation needs)."""
    collate = PaddingCollator(generate.tokenizer, padding_side=generate.framework.generation_padding_side)
    outputs: list[str] = []
    with torch.inference_mode():
        for start in range(0, len(dataset), batch_size):
            rows = dataset.select(range(start, min(start + batch_size, len(dataset))))
            batch = {k: v.to(generate.model.device) for k, v in collate(list(rows)).items()}
            outputs.extend(generate(batch))
    return outputs


def careful_loop(generate: Generator, dataset: Dataset, batch_size: int) -> list[str]:
    """What the generation docs teach: sort the inputs by length so a batch holds little padding, pad
    decoder-only prompts on the left, one `generate` call per batch, then put the outputs back in input
    order."""
    prompts = list(dataset["input_ids"])
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    outputs = [""] * len(prompts)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = generate.tokenizer.pad(
                {"input_ids": [prompts[i] for i in rows]},
                padding_side=generate.framework.generation_padding_side,
                return_tensors="pt",
            ).to(generate.model.device)
            for row, text in zip(rows, generate(batch), strict=True):
                outputs[row] = text
    return outputs


def prediction_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    framework: Framework,
    batch_size: int,
    bf16: bool,
    scratch: str,
) -> GecTrainer:
    """The Trainer `finetune.py --do_predict` builds (its construction is not part of the timing)."""
    training_args = Seq2SeqTrainingArguments(
        output_dir=scratch,
        per_device_eval_batch_size=batch_size,
        predict_with_generate=True,
        use_cpu=not torch.cuda.is_available(),
        bf16=bf16,
        report_to="none",
        disable_tqdm=True,
    )
    return build_trainer(model, tokenizer, training_args, framework)


def median_times(
    repeats: int, ways: dict[str, Callable[[], list[str]]]
) -> dict[str, tuple[list[str], list[float]]]:
    """Run each way `repeats` times, taking turns, so that a burst of other load on the machine falls on all
    alike; return each way's result and its times."""
    timed: dict[str, tuple[list[str], list[float]]] = {name: ([], []) for name in ways}
    for _ in range(repeats):
        for name, fn in ways.items():
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            start = time.perf_counter()
            result = fn()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            timed[name] = (result, [*timed[name][1], time.perf_counter() - start])
    return timed


def load_average() -> str:
    return "load average " + " ".join(f"{load:.2f}" for load in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model_name_or_path", required=True)
    parser.add_argument("--inputs", required=True, help="one source sentence per line")
    parser.add_argument("--limit", type=int, help="use the first N inputs")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--num_beams", type=int, default=None, help="default: as --do_predict (greedy)")
    parser.add_argument(
        "--max_new_tokens", type=int, default=DataArguments.max_target_length, help="default: %(default)s"
    )
    parser.add_argument("--prompt_template", choices=sorted(TEMPLATES), default=DEFAULT_TEMPLATE)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument(
        "--repeats", type=int, default=1, help="time each way N times, taking turns; report the median"
    )
    args = parser.parse_args(argv)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("ftkit").setLevel(logging.WARNING)

    sources = read_examples(args.inputs, require_target=False)["source"][: args.limit]
    config = load_config(args.model_name_or_path)
    framework = framework_of(config)
    tokenizer = load_tokenizer(args.model_name_or_path)
    dtype = weights_dtype(training=False, deepspeed=False, bf16=args.bf16, fp16=False)
    model = load_model(args.model_name_or_path, framework, config, tokenizer, dtype).eval()
    model.to("cuda" if torch.cuda.is_available() else "cpu")
    dataset = encode_dataset(
        Dataset.from_dict({"source": sources}),
        framework,
        tokenizer,
        args.prompt_template,
        DataArguments.max_source_length,
        args.max_new_tokens,
    )
    gen_kwargs = generation_kwargs(args.num_beams, args.max_new_tokens)
    lengths = [len(ids) for ids in dataset["input_ids"]]
    if torch.cuda.is_available():
        device = torch.cuda.get_device_name()
    else:
        device = f"CPU, {torch.get_num_threads()} threads"
    print(
        f"{args.model_name_or_path} ({framework.name}) on {device}: {len(sources)} inputs of "
        f"{min(lengths)}-{max(lengths)} tokens (mean {sum(lengths) / len(lengths):.1f}), "
        f"batch {args.batch_size}, {gen_kwargs}; {load_average()}"
    )
    generate = Generator(model, tokenizer, framework, gen_kwargs)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = prediction_trainer(model, tokenizer, framework, args.batch_size, args.bf16, scratch)
        ways = {
            "plain": partial(plain_loop, generate, batch_size=args.batch_size),
            "careful": partial(careful_loop, generate, batch_size=args.batch_size),
            "ours": partial(predict, trainer, gen_kwargs=gen_kwargs),
        }
        # Warm-up (allocator, kernels, lazy imports): no timing pays for first use.
        warm_up = dataset.select(range(min(2 * args.batch_size, len(dataset))))
        for way in ways.values():
            way(warm_up)
        timed = median_times(args.repeats, {name: partial(way, dataset) for name, way in ways.items()})
    seconds = {name: statistics.median(times) for name, (_, times) in timed.items()}
    for name, (_, times) in timed.items():
        print(f"{name + ':':9s}{seconds[name]:7.2f} s median of {', '.join(f'{t:.2f}' for t in times)}")
    ours_times = timed["ours"][1]
    for name in ("plain", "careful"):
        per_round = ", ".join(f"{t / o:.2f}" for t, o in zip(timed[name][1], ours_times, strict=True))
        print(f"ours/{name} by round: {per_round}")
    print(load_average())

    ours_out = timed["ours"][0]
    differ = 0
    for name in ("plain", "careful"):
        other = timed[name][0]
        lines = [i for i, (a, b) in enumerate(zip(other, ours_out, strict=True)) if a != b]
        for i in lines[:5]:
            print(f"line {i + 1} differs:\n  {name}: {other[i]}\n  ours: {ours_out[i]}")
        print(f"outputs identical to {name}: {len(sources) - len(lines)}/{len(sources)} lines")
        differ += len(lines)
    rate = {name: len(sources) / s for name, s in seconds.items()}
    print(
        f"sentences/s: plain {rate['plain']:.1f}, careful {rate['careful']:.1f}, ours {rate['ours']:.1f}; "
        f"ours/plain {rate['ours'] / rate['plain']:.2f}, ours/careful {rate['ours'] / rate['careful']:.2f}"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
