"""Prediction speed: a plain loop over `model.generate` in file order vs ftkit's length-sorted batches.

Both run the same model on the same inputs with the same batch size, beams and generation settings; the
plain loop pads each file-order batch (on the left) and generates, ours is what `finetune.py --do_predict`
runs (`ftkit.training.predict`: length-sorted batches through the Trainer, input order restored). The
outputs must be identical (exit status 1 otherwise).

Usage:
    python scripts/bench_predict.py --model_name_or_path outputs/tiny-llama-sample/checkpoint-1500 \\
        --inputs ../shared/gec-data/conll14-submissions/INPUT [--limit 500] [--batch_size 32] \\
        [--num_beams 1] [--repeats 3]

The last line reads `sentences/s: plain X, ours Y, ratio Z`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
import transformers  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import PreTrainedModel, PreTrainedTokenizerBase, Seq2SeqTrainingArguments  # noqa: E402

from ftkit.args import DataArguments  # noqa: E402
from ftkit.data import PaddingCollator, encode_dataset, read_examples  # noqa: E402
from ftkit.generation import decode, generation_kwargs, generation_padding_side, new_tokens  # noqa: E402
from ftkit.modeling import load_config, load_model, load_tokenizer, weights_dtype  # noqa: E402
from ftkit.templates import DEFAULT_TEMPLATE, TEMPLATES  # noqa: E402
from ftkit.training import GecTrainer, build_trainer, predict  # noqa: E402


def plain_loop(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    framework: str,
    dataset: Dataset,
    batch_size: int,
    gen_kwargs: dict,
) -> list[str]:
    """What a first script does: batches in file order, generated one after another (decoder-only prompts
    padded on the left, encoder inputs on the right, as generation needs)."""
    collate = PaddingCollator(tokenizer, padding_side=generation_padding_side(framework))
    outputs: list[str] = []
    with torch.inference_mode():
        for start in range(0, len(dataset), batch_size):
            rows = dataset.select(range(start, min(start + batch_size, len(dataset))))
            batch = {k: v.to(model.device) for k, v in collate(list(rows)).items()}
            generated = model.generate(**batch, **gen_kwargs)
            generated = new_tokens(generated, batch["input_ids"].shape[1], framework)
            outputs.extend(decode(tokenizer, generated.tolist()))
    return outputs


def prediction_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    framework: str,
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


def best_times(repeats: int, ways: dict[str, Callable[[], list[str]]]) -> dict[str, tuple[list[str], float]]:
    """Run each way `repeats` times, taking turns, so that a burst of other load on the machine falls on both
    alike; return each way's result and shortest time (the one least disturbed)."""
    best = {name: ([], float("inf")) for name in ways}
    for _ in range(repeats):
        for name, fn in ways.items():
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            start = time.perf_counter()
            result = fn()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            best[name] = (result, min(best[name][1], time.perf_counter() - start))
    return best


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
        "--repeats", type=int, default=1, help="time each way N times, taking turns; keep the best"
    )
    args = parser.parse_args(argv)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("ftkit").setLevel(logging.WARNING)

    sources = read_examples(args.inputs, require_target=False)["source"][: args.limit]
    config = load_config(args.model_name_or_path)
    framework = "seq2seq" if config.is_encoder_decoder else "clm"
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
        f"{args.model_name_or_path} ({framework}) on {device}: {len(sources)} inputs of "
        f"{min(lengths)}-{max(lengths)} tokens (mean {sum(lengths) / len(lengths):.1f}), "
        f"batch {args.batch_size}, {gen_kwargs}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        trainer = prediction_trainer(model, tokenizer, framework, args.batch_size, args.bf16, scratch)
        # Warm-up (allocator, kernels, lazy imports): neither timing pays for first use.
        warm_up = dataset.select(range(min(2 * args.batch_size, len(dataset))))
        plain_loop(model, tokenizer, framework, warm_up, args.batch_size, gen_kwargs)
        predict(trainer, warm_up, gen_kwargs)
        plain = partial(plain_loop, model, tokenizer, framework, dataset, args.batch_size, gen_kwargs)
        ours = partial(predict, trainer, dataset, gen_kwargs)
        timed = best_times(args.repeats, {"plain": plain, "ours": ours})
        (plain_out, plain_s), (ours_out, ours_s) = timed["plain"], timed["ours"]
        print(f"plain loop: {plain_s:.2f} s (best of {args.repeats})")
        print(f"ours:       {ours_s:.2f} s (best of {args.repeats})")

    differ = [i for i, (a, b) in enumerate(zip(plain_out, ours_out, strict=True)) if a != b]
    for i in differ[:5]:
        print(f"line {i + 1} differs:\n  plain: {plain_out[i]}\n  ours:  {ours_out[i]}")
    print(f"outputs identical: {len(sources) - len(differ)}/{len(sources)} lines")
    plain_rate, ours_rate = len(sources) / plain_s, len(sources) / ours_s
    print(f"sentences/s: plain {plain_rate:.1f}, ours {ours_rate:.1f}, ratio {ours_rate / plain_rate:.2f}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
