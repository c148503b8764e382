"""Build GEC preference pairs from a model's n-best corrections, ranked by sentence-level M2 F0.5.

For each source sentence the model proposes `--num_candidates` corrections (beam search, or sampling with
`--do_sample`); with `--include_source` / `--include_target` the unchanged source and the gold target join
them. Each distinct candidate is scored against the gold edits (the GRPO reward, `sentence_f05`);
the best becomes "chosen" and the worst "rejected", when they differ by at least `--min_margin`. Sentences
whose candidates all score the same give no pair. The output is what `preference_tune.py --stage rm|dpo`
reads: {"prompt", "chosen", "rejected"} JSONL, plus the two scores.

Usage (SFT -> predictions -> pairs -> DPO):
    python scripts/make_preference_data.py --model_name_or_path outputs/tiny-llama-sample \\
        --input_file data/sample/train.jsonl --output_file outputs/data/preference_sample/train.jsonl \\
        --num_candidates 4 --max_samples 1000
Input: JSONL with "source" and "target" (gold edits from their difference) or an M2 file.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import torch

from ftkit.args import DataArguments, count
from ftkit.data import EXAMPLE_ROW, DataError, encode_prompts, read_jsonl_rows
from ftkit.frameworks import CLM
from ftkit.generation import (
    GenerationSettings,
    decode,
    stop_token_ids,
)
from ftkit.integrity import template_for
from ftkit.modeling import ModelLoadError, load_config, load_model, load_tokenizer
from ftkit.prediction_files import write_lines
from ftkit.preference_data import read_gold_sentences
from ftkit.rewards import sentence_f05
from ftkit.templates import DEFAULT_TEMPLATE, TEMPLATES, TemplateError

logger = logging.getLogger("make_preference_data")


def choose_pair(candidates: list[str], scores: list[float], min_margin: float) -> tuple[int, int] | None:
    """(chosen, rejected) indices: the best and the worst candidate, or None if they differ by < min_margin.

    Ties go to the earlier candidate for chosen (the model's own top choice before the references) and to
    the later one for rejected.
    """
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    worst = min(range(len(scores)), key=lambda i: (scores[i], -i))
    if scores[best] - scores[worst] < min_margin or candidates[best] == candidates[worst]:
        return None
    return best, worst


@torch.no_grad()
def n_best(
    model,
    tokenizer,
    prompt_ids: list[list[int]],
    settings: GenerationSettings,
    num_return: int,
    batch_size: int,
) -> list[list[str]]:
    """`num_return` decoded corrections per prompt (token ids, new tokens only), in the model's order."""
    out: list[list[str]] = []
    stop_ids = stop_token_ids(tokenizer, model.generation_config)
    for start in range(0, len(prompt_ids), batch_size):
        rows = [{"input_ids": ids} for ids in prompt_ids[start : start + batch_size]]
        batch = tokenizer.pad(rows, return_tensors="pt", padding_side="left").to(model.device)
        generated = model.generate(
            **batch, num_return_sequences=num_return, eos_token_id=stop_ids, **settings.kwargs()
        )
        texts = decode(tokenizer, generated[:, batch["input_ids"].shape[1] :].tolist(), stop_ids)
        out += [texts[i : i + num_return] for i in range(0, len(texts), num_return)]
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model_name_or_path", required=True, help="a decoder-only model, e.g. an SFT output"
    )
    parser.add_argument("--input_file", required=True, type=Path, help="JSONL source/target, or .m2")
    parser.add_argument("--output_file", required=True, type=Path)
    parser.add_argument(
        "--prompt_template",
        choices=sorted(TEMPLATES),
        help=f"default: the model's own (run_args.json), else {DEFAULT_TEMPLATE}",
    )
    parser.add_argument("--num_candidates", type=count, default=4, help="corrections generated per source")
    parser.add_argument("--do_sample", action="store_true", help="sample candidates instead of beam search")
    parser.add_argument("--temperature", type=float, default=1.0, help="with --do_sample")
    parser.add_argument("--max_new_tokens", type=count, default=64)
    parser.add_argument(
        "--max_source_length",
        type=count,
        default=DataArguments.max_source_length,
        help="longest prompt in tokens, as finetune.py's: a longer source is cut, the template kept whole",
    )
    parser.add_argument("--include_source", action="store_true", help="the unchanged source is a candidate")
    parser.add_argument(
        "--include_target", action="store_true", help="the gold target is a candidate (JSONL)"
    )
    parser.add_argument("--min_margin", type=float, default=0.01, help="least F0.5 gap for a pair")
    parser.add_argument("--max_samples", type=count, help="use the first N sentences")
    parser.add_argument("--batch_size", type=count, default=16)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.INFO)
    try:
        sentences = read_gold_sentences(args.input_file, args.max_samples)
        targets: list[str | None] = [None] * len(sentences)
        if args.include_target:
            if args.input_file.suffix.lower() == ".m2":
                raise DataError(f"{args.input_file}: --include_target needs JSONL with a target per line.")
            rows = read_jsonl_rows(args.input_file, EXAMPLE_ROW)  # read_gold_sentences checked the targets
            targets = [row["target"] for _, row in rows][: len(sentences)]
        config = load_config(args.model_name_or_path)
        tokenizer = load_tokenizer(args.model_name_or_path)
        template = template_for(args.model_name_or_path, args.prompt_template)
        # The prompts as SFT encoded them (a chat template's BOS once, a long source cut, the cue kept).
        prompt_ids = encode_prompts(
            [s.source for s in sentences], tokenizer, template, args.max_source_length
        )["input_ids"]
        model = load_model(args.model_name_or_path, CLM, config, tokenizer, dtype="auto")
    except (DataError, ModelLoadError, TemplateError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device).eval()
    torch.manual_seed(args.seed)
    settings = GenerationSettings(
        max_new_tokens=args.max_new_tokens,
        num_beams=1 if args.do_sample else args.num_candidates,
        do_sample=args.do_sample,
        temperature=args.temperature,
    )
    generated = n_best(model, tokenizer, prompt_ids, settings, args.num_candidates, args.batch_size)

    rows = []
    for sentence, target, hypotheses in zip(sentences, targets, generated, strict=True):
        extra = ([sentence.source] if args.include_source else []) + ([target] if target is not None else [])
        candidates = list(dict.fromkeys(hypotheses + extra))  # distinct, model's order first
        scores = [sentence_f05(c, sentence.source, sentence.edits) for c in candidates]
        pair = choose_pair(candidates, scores, args.min_margin)
        if pair is None:
            continue
        chosen, rejected = pair
        rows.append(
            json.dumps(
                {
                    "prompt": sentence.source,
                    "chosen": candidates[chosen],
                    "rejected": candidates[rejected],
                    "chosen_f05": round(scores[chosen], 4),
                    "rejected_f05": round(scores[rejected], 4),
                }
            )
        )
    write_lines(args.output_file, rows)
    logger.info(
        "%d pairs from %d sentences (template %s, %d candidates each) -> %s",
        len(rows),
        len(sentences),
        template,
        args.num_candidates,
        args.output_file,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
