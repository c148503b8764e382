"""Reading GEC data, encoding it for seq2seq or clm, and padding batches.

Encoding keeps the one seq2seq/clm difference in data: a seq2seq model reads the prompt and predicts the
target; a clm model reads prompt + target + EOS and is trained on the target tokens only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import DataCollatorWithFlattening, PreTrainedTokenizerBase

from ftkit.templates import build_prompt, uses_chat_template

# Label value the loss ignores (torch.nn.CrossEntropyLoss's default ignore_index).
IGNORE_INDEX = -100


class DataError(ValueError):
    """Input data that cannot be used; the message names the file, line and fix."""


EXAMPLE_ROW = '{"source": "He go home .", "target": "He goes home ."}'


def read_jsonl_rows(path: str | Path, example: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) for every non-blank line of a JSONL file; `where` is "path:line" for messages.

    Raises:
        DataError: a line that is not a JSON object, or no rows at all; `example` shows a good line.
    """
    rows = []
    with Path(path).open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(
                    f"{where}: not valid JSON ({e.msg} at column {e.colno}). Each line must be one object "
                    f"like {example}."
                ) from None
            if not isinstance(row, dict):
                raise DataError(f"{where}: not a JSON object. Each line must be one object like {example}.")
            rows.append((where, row))
    if not rows:
        raise DataError(f"{path}: no examples. Give at least one line like {example}.")
    return rows


def read_examples(path: str | Path, require_target: bool) -> dict[str, list[str]]:
    """Read `{"source", "target"}` JSONL, or (when no target is required) plain text, one source per line.

    Returns columns: {"source": [...]} plus "target" when the file has targets.

    Raises:
        DataError: unreadable JSON, a line without `source`/`target`, non-string fields, or an empty file.
    """
    path = Path(path)
    if path.suffix != ".jsonl":
        if require_target:
            raise DataError(
                f"{path}: training and validation data must be JSONL, one object like {EXAMPLE_ROW}."
            )
        sources = [line.rstrip("\r\n") for line in path.open(encoding="utf-8")]
        if not sources:
            raise DataError(f"{path}: no examples. Give one source sentence per line.")
        return {"source": sources}
    sources: list[str] = []
    targets: list[str] = []
    for where, row in read_jsonl_rows(path, EXAMPLE_ROW):
        if not isinstance(row.get("source"), str):
            raise DataError(
                f'{where}: no string "source" field. Each line must be one object like {EXAMPLE_ROW}.'
            )
        sources.append(row["source"])
        target = row.get("target")
        if target is not None and not isinstance(target, str):
            raise DataError(f'{where}: "target" must be a string.')
        if target is None and (require_target or targets):
            raise DataError(
                f'{where}: no "target" field; every line of a training or validation file needs one.'
            )
        if target is not None:
            if len(targets) != len(sources) - 1:
                raise DataError(f'{where}: has a "target" but earlier lines do not; give all or none.')
            targets.append(target)
    return {"source": sources, "target": targets} if targets else {"source": sources}


def load_dataset_file(path: str | Path, require_target: bool, max_samples: int | None = None) -> Dataset:
    columns = read_examples(path, require_target)
    if max_samples is not None:
        columns = {name: values[:max_samples] for name, values in columns.items()}
    return Dataset.from_dict(columns)


def encode_prompts(
    sources: list[str], tokenizer: PreTrainedTokenizerBase, template: str, max_source_length: int
) -> dict[str, list[list[int]]]:
    """Tokenise the prompts built from `sources`: input_ids and attention_mask only (no token_type_ids,
    which some tokenizers add and decoder-only models reject)."""
    prompts = [build_prompt(source, template, tokenizer) for source in sources]
    # Chat-template prompts already hold their special tokens (BOS, <|im_start|>...).
    encoded = tokenizer(
        prompts,
        max_length=max_source_length,
        truncation=True,
        add_special_tokens=not uses_chat_template(template),
    )
    return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}


def encode_seq2seq(
    batch: dict[str, list[str]],
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    max_source_length: int,
    max_target_length: int,
) -> dict[str, list[list[int]]]:
    encoded = encode_prompts(batch["source"], tokenizer, template, max_source_length)
    if "target" in batch:
        encoded["labels"] = tokenizer(
            text_target=batch["target"], max_length=max_target_length, truncation=True
        )["input_ids"]
    return encoded


def encode_clm(
    batch: dict[str, list[str]],
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    max_source_length: int,
    max_target_length: int,
) -> dict[str, list[list[int]]]:
    """Encode prompt and target separately and concatenate, so the loss mask is exact.

    Without a target (prediction) the prompt alone is returned; generation continues it.
    """
    prompts = encode_prompts(batch["source"], tokenizer, template, max_source_length)
    if "target" not in batch:
        return prompts
    prompt_ids = prompts["input_ids"]
    target_ids = tokenizer(
        batch["target"], add_special_tokens=False, max_length=max_target_length - 1, truncation=True
    )["input_ids"]
    input_ids, labels = [], []
    for prompt, target in zip(prompt_ids, target_ids, strict=True):
        answer = target + [tokenizer.eos_token_id]
        input_ids.append(prompt + answer)
        labels.append([IGNORE_INDEX] * len(prompt) + answer)
    return {"input_ids": input_ids, "attention_mask": [[1] * len(ids) for ids in input_ids], "labels": labels}


ENCODERS = {"seq2seq": encode_seq2seq, "clm": encode_clm}


def encode_dataset(
    dataset: Dataset,
    framework: str,
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    max_source_length: int,
    max_target_length: int,
    num_proc: int | None = None,
) -> Dataset:
    """Tokenise a `source`(/`target`) dataset; the result has only model inputs (and labels)."""
    return dataset.map(
        ENCODERS[framework],
        batched=True,
        num_proc=num_proc,
        remove_columns=dataset.column_names,
        fn_kwargs=dict(
            tokenizer=tokenizer,
            template=template,
            max_source_length=max_source_length,
            max_target_length=max_target_length,
        ),
        desc="Tokenising",
    )


@dataclass
class PaddingCollator:
    """Pad `input_ids`/`attention_mask` with the pad token and `labels` with IGNORE_INDEX, on one side.

    clm batches are padded on the right for training (positions start at 0 as in pretraining) and on the
    left for generation (every prompt ends at the last column, where generation appends).
    """

    tokenizer: PreTrainedTokenizerBase
    padding_side: str = "right"
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        labels = [feature["labels"] for feature in features] if "labels" in features[0] else None
        inputs = [{k: v for k, v in feature.items() if k != "labels"} for feature in features]
        batch = self.tokenizer.pad(
            inputs,
            padding=True,
            pad_to_multiple_of=self.pad_to_multiple_of,
            padding_side=self.padding_side,
            return_tensors="pt",
        )
        if labels is not None:
            width = max(len(label) for label in labels)
            if self.pad_to_multiple_of:
                width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of
            padded = [
                label + [IGNORE_INDEX] * (width - len(label))
                if self.padding_side == "right"
                else [IGNORE_INDEX] * (width - len(label)) + label
                for label in labels
            ]
            batch["labels"] = torch.tensor(padded, dtype=torch.long)
        return dict(batch)


def packing_collator(flash_attention: bool = False) -> DataCollatorWithFlattening:
    """Padding-free clm batches that give the same loss as padded ones.

    A batch becomes one row: its examples concatenated, position ids restarting at 0 for each, no padding.
    transformers builds a block-diagonal causal mask from those position ids (sdpa, eager) or passes the
    example boundaries to the varlen kernel (`flash_attention`), so no token attends to another example.
    Each example's first label becomes IGNORE_INDEX (encode_clm already masks it: it is a prompt token), so
    no example is trained to predict the next one's first token.
    """
    return DataCollatorWithFlattening(separator_id=IGNORE_INDEX, return_flash_attn_kwargs=flash_attention)
