"""The preference stages' data: reading it, checked line by line, and encoding it as SFT data is encoded.

Preference pairs `{"prompt", "chosen", "rejected"}` (JSONL) and GEC data with gold edits (JSONL
`source`/`target`, or an M2 file) are read as ftkit.data reads SFT data; a DataError names file and line.
`prompt` is the input text, as `source` is for SFT: `build_prompt` applies --prompt_template, so a model is
tuned with the prompts it was finetuned with (`--prompt_template none` keeps it as is).

Prompts and answers are encoded by ftkit.data (encode_prompts, encode_clm), as for SFT: the DPO and RM
pairs and the GRPO prompts generated from. So a model is tuned on the very token sequences an SFT model was
trained on: TRL would tokenise prompt + answer as one string (which can split the answer's first word
differently) and a templated prompt with the tokenizer's special tokens (a second BOS after a chat
template's).
"""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset
from transformers import PreTrainedTokenizerBase

from ftkit.data import (
    EXAMPLE_ROW,
    IGNORE_INDEX,
    DataError,
    encode_clm,
    encode_prompts,
    is_json_lines,
    json_rows,
    log_truncation,
    read_lines,
)
from ftkit.rewards import dump_gold_edits, gold_edits
from ftkit.templates import build_prompt
from m2scorer import GoldSentence, M2FormatError, load_gold

PAIR_EXAMPLE = '{"prompt": "He go home .", "chosen": "He goes home .", "rejected": "He go home ."}'


def read_preference_pairs(path: str | Path, max_samples: int | None = None) -> dict[str, list[str]]:
    """Read `{"prompt", "chosen", "rejected"}` JSONL (other keys are ignored); return the three columns.

    Raises:
        DataError: unreadable JSON, a missing or non-string field, chosen == rejected, or an empty file.
    """
    lines = read_lines(path)
    if not is_json_lines(path, lines):
        raise DataError(f"{path}: preference pairs must be JSON lines, one object like {PAIR_EXAMPLE}.")
    columns: dict[str, list[str]] = {"prompt": [], "chosen": [], "rejected": []}
    for where, row in json_rows(path, lines, PAIR_EXAMPLE):
        for name in columns:
            if not isinstance(row.get(name), str):
                problem = "no" if name not in row else "a non-string"
                raise DataError(
                    f'{where}: {problem} "{name}" field. Every preference row needs string "prompt", '
                    f'"chosen" and "rejected" fields, like {PAIR_EXAMPLE}.'
                )
        if row["chosen"] == row["rejected"]:
            raise DataError(f'{where}: "chosen" and "rejected" are the same text, so the pair says nothing.')
        for name in columns:
            columns[name].append(row[name])
        if max_samples is not None and len(columns["prompt"]) >= max_samples:
            break
    return columns


def read_gold_sentences(path: str | Path, max_samples: int | None = None) -> list[GoldSentence]:
    """Source sentences with gold edits, for GRPO: JSONL `source`/`target` (edits from their diff) or M2.

    Raises:
        DataError: a file without gold edits (plain text, JSONL lines without "target", M2 without "A"
            lines), malformed JSON or M2, or an empty file.
    """
    path = Path(path)
    if path.suffix.lower() == ".m2":
        try:
            sentences = load_gold(path)  # a line that is not UTF-8 is named by its number
            data = path.read_bytes()
        except M2FormatError as e:
            raise DataError(str(e)) from None
        except OSError as e:
            raise DataError(
                f"{path}: cannot be read ({e.strerror}). Check the path and its permissions."
            ) from None
        # A sentence without 'A' lines reads as a noop, so the lines themselves tell whether there are any.
        if not any(line.startswith(b"A ") for line in data.splitlines()):
            raise DataError(
                f"{path}: no 'A' lines, so no gold edits: GRPO rewards a correction by its F0.5 against "
                "them. "
                "Annotate the file (a noop 'A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0' for a correct "
                "sentence)."
            )
        return sentences[:max_samples]
    lines = read_lines(path)
    if not is_json_lines(path, lines):
        raise DataError(
            f'{path}: GRPO needs gold edits to compute its reward: give JSONL with "source" and "target" '
            "on every line (edits are derived from their difference) or an .m2 file; plain text has none."
        )
    sentences = []
    for where, row in json_rows(path, lines, EXAMPLE_ROW):
        if not isinstance(row.get("source"), str):
            raise DataError(f'{where}: no string "source" field.')
        if not isinstance(row.get("target"), str):
            raise DataError(
                f'{where}: no string "target" field, so no gold edits: GRPO rewards a correction by its F0.5 '
                'against the edits from "source" to "target". Give every line a target (the source itself '
                "when it is correct), or an .m2 file."
            )
        sentences.append(GoldSentence(row["source"], gold_edits(row["source"], row["target"])))
        if max_samples is not None and len(sentences) >= max_samples:
            break
    return sentences


def encode_preference_dataset(
    pairs: dict[str, list[str]],
    stage: str,
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    max_source_length: int,
    max_target_length: int,
) -> Dataset:
    """Tokenised pairs in the layout TRL's trainers take as already processed: each prompt + answer + EOS
    encoded by `ftkit.data.encode_clm`, as SFT encodes a source + target.

    dpo: prompt_ids, chosen_ids, rejected_ids (answers only); rm: chosen_ids, rejected_ids (prompt + answer).
    """
    encoded = {
        name: encode_clm(
            {"source": pairs["prompt"], "target": pairs[name]},
            tokenizer,
            template,
            max_source_length,
            max_target_length,
        )
        for name in ("chosen", "rejected")
    }
    # Cut prompts are counted once (both answers share them); cut answers for each column.
    for answer, name, lengths in (
        ("chosen", "prompts and chosen answers", ("prompt_length", "target_length")),
        ("rejected", "rejected answers", ("target_length",)),
    ):
        counted = Dataset.from_dict({key: encoded[answer][key] for key in lengths})
        log_truncation(counted, name, max_source_length, max_target_length)
    if stage == "rm":
        return Dataset.from_dict({f"{name}_ids": encoded[name]["input_ids"] for name in encoded})
    # The prompt's tokens are the labels the loss ignores; both answers share the prompt.
    prompt_lengths = [labels.count(IGNORE_INDEX) for labels in encoded["chosen"]["labels"]]
    columns = {
        "prompt_ids": [ids[:n] for ids, n in zip(encoded["chosen"]["input_ids"], prompt_lengths, strict=True)]
    }
    for name in encoded:
        columns[f"{name}_ids"] = [
            ids[n:] for ids, n in zip(encoded[name]["input_ids"], prompt_lengths, strict=True)
        ]
    return Dataset.from_dict(columns)


def grpo_dataset(
    sentences: list[GoldSentence], template: str, tokenizer: PreTrainedTokenizerBase, max_source_length: int
) -> Dataset:
    """Columns of GRPO's rows: prompt (the templated text, which TRL requires), prompt_ids (the prompt as
    `ftkit.data.encode_prompts` encodes it for SFT, which GecGRPOTrainer generates from), and source and
    gold_edits (JSON) for the reward functions."""
    sources = [s.source for s in sentences]
    encoded = encode_prompts(sources, tokenizer, template, max_source_length)
    log_truncation(
        Dataset.from_dict({"prompt_length": encoded["prompt_length"]}), "GRPO prompts", max_source_length, 0
    )  # no targets: 0 is never read
    return Dataset.from_dict(
        {
            "prompt": [build_prompt(source, template, tokenizer) for source in sources],
            "prompt_ids": encoded["input_ids"],
            "source": sources,
            "gold_edits": [dump_gold_edits(s.edits) for s in sentences],
        }
    )
