"""Reading GEC data, encoding it for seq2seq or clm, and padding batches.

A seq2seq model reads the prompt and predicts the target (encode_seq2seq); a clm model reads prompt + target
+ EOS and is trained on the target tokens only (encode_clm). Each Framework (ftkit.frameworks) names its own.
"""

from __future__ import annotations

import codecs
import copy
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datasets import Dataset
from transformers import DataCollatorForSeq2Seq, DataCollatorWithFlattening, PreTrainedTokenizerBase

from ftkit.templates import TemplateError, build_prompt, uses_chat_template

if TYPE_CHECKING:  # ftkit.frameworks names this module's encoders
    from ftkit.frameworks import Framework

logger = logging.getLogger(__name__)

# Label value the loss ignores (torch.nn.CrossEntropyLoss's default ignore_index).
IGNORE_INDEX = -100


class DataError(ValueError):
    """Input data that cannot be used; the message names the file, line and fix."""


EXAMPLE_ROW = '{"source": "He go home .", "target": "He goes home ."}'
# Suffixes (in any case) of files read as JSON lines; other files are JSON lines when their first line is.
JSON_SUFFIXES = (".json", ".jsonl")
# A \uD800-\uDFFF escape: JSON allows a lone one, UTF-8 (and the tokenizer) cannot hold it.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file, without their line ends and without a leading byte-order mark.

    Lines end at "\n" only ("\r\n" is one line end): a lone "\r" is part of its line, so an input line is
    always one example, as it is for any line-oriented tool.

    Raises:
        DataError: the file cannot be read, or a line is not UTF-8 (the message names the line).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise DataError(
            f"{path}: cannot be read ({e.strerror}). Check the path and its permissions."
        ) from None
    raw_lines = data.removeprefix(codecs.BOM_UTF8).split(b"\n")
    if raw_lines[-1] == b"":  # the end of the last line, not a line
        raw_lines.pop()
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        raw = raw.removesuffix(b"\r")
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise DataError(
                f"{path}:{number}: not valid UTF-8 (byte 0x{raw[e.start]:02x}, byte {e.start + 1} of the "
                "line). Save the file as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)."
            ) from None
    return lines


def is_json_lines(path: str | Path, lines: list[str]) -> bool:
    """Whether a file is JSON lines: its name ends in .json/.jsonl (any case), or its first non-blank line
    is a JSON object (no source sentence is)."""
    if Path(path).suffix.lower() in JSON_SUFFIXES:
        return True
    first = next((line for line in lines if line.strip()), "")
    if not first.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def json_rows(path: str | Path, lines: list[str], example: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) for every non-blank line of JSON lines; `where` is "path:line" for messages.

    Raises:
        DataError: a line that is not a JSON object or holds a lone surrogate escape, or no rows at all;
            `example` shows a good line.
    """
    rows = []
    for number, line in enumerate(lines, start=1):
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
        if SURROGATE_ESCAPE.search(line):
            try:
                json.dumps(row, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError as e:
                raise DataError(
                    f"{where}: a lone surrogate escape ({e.object[e.start]!r}) is no character. A character "
                    "beyond U+FFFF is escaped as a pair (\\ud83d\\ude00) or written as itself: fix or remove "
                    "the escape."
                ) from None
        rows.append((where, row))
    if not rows:
        raise DataError(f"{path}: no examples. Give at least one line like {example}.")
    return rows


def read_jsonl_rows(path: str | Path, example: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) for every non-blank line of a JSONL file; `where` is "path:line" for messages.

    Raises:
        DataError: an unreadable file or line (see read_lines), a line that is not a JSON object, or no rows
            at all; `example` shows a good line.
    """
    return json_rows(path, read_lines(path), example)


def read_examples(path: str | Path, require_target: bool) -> dict[str, list[str]]:
    """Read `{"source", "target"}` JSON lines, or (when no target is required) plain text, one source per
    line (see read_lines and is_json_lines).

    Returns columns: {"source": [...]} plus "target" when the file has targets.

    Raises:
        DataError: an unreadable file, a line without `source`/`target`, non-string fields, targets on some
            lines only, or an empty file.
    """
    lines = read_lines(path)
    if not is_json_lines(path, lines):
        if require_target:
            raise DataError(
                f"{path}: training and validation data must be JSON lines, one object like {EXAMPLE_ROW}."
            )
        if not lines:
            raise DataError(f"{path}: no examples. Give one source sentence per line.")
        return {"source": lines}
    sources: list[str] = []
    targets: list[str | None] = []
    with_target = without_target = None  # the first line of each kind
    for where, row in json_rows(path, lines, EXAMPLE_ROW):
        if not isinstance(row.get("source"), str):
            raise DataError(
                f'{where}: no string "source" field. Each line must be one object like {EXAMPLE_ROW}.'
            )
        target = row.get("target")
        if target is not None and not isinstance(target, str):
            raise DataError(f'{where}: "target" must be a string.')
        if target is None and require_target:
            raise DataError(
                f'{where}: no "target" field; every line of a training or validation file needs one.'
            )
        if target is None:
            without_target = without_target or where
        else:
            with_target = with_target or where
        sources.append(row["source"])
        targets.append(target)
    if with_target and without_target:
        raise DataError(
            f'{path}: some lines have a "target" ({with_target}) and some have none ({without_target}). '
            "Prediction reads the sources only, but a mix is usually two files joined: give every line a "
            "target or none."
        )
    return {"source": sources, "target": targets} if with_target else {"source": sources}


def load_dataset_file(path: str | Path, require_target: bool, max_samples: int | None = None) -> Dataset:
    """The examples of a file (read_examples), the first `max_samples` of them when given.

    Training and validation rows with an empty source or target are used as they are, with a warning that
    counts them.
    """
    columns = read_examples(path, require_target)
    if max_samples is not None:
        columns = {name: values[:max_samples] for name, values in columns.items()}
    if require_target:
        warn_empty_rows(path, columns)
    return Dataset.from_dict(columns)


def warn_empty_rows(path: str | Path, columns: dict[str, list[str]]) -> None:
    empty = {name: sum(not text.strip() for text in texts) for name, texts in columns.items()}
    if any(empty.values()):
        both = sum(
            not s.strip() and not t.strip() for s, t in zip(columns["source"], columns["target"], strict=True)
        )
        logger.warning(
            "%s: of %d examples, %d have an empty source, %d an empty target, %d both. They are trained on "
            "as they are (an empty target teaches the model to answer nothing); remove them if they are "
            "not meant to be there.",
            path,
            len(columns["source"]),
            empty["source"],
            empty["target"],
            both,
        )


def encode_prompts(
    sources: list[str], tokenizer: PreTrainedTokenizerBase, template: str, max_source_length: int
) -> dict[str, list[list[int]] | list[int]]:
    """Tokenise the prompts built from `sources`: input_ids and attention_mask (no token_type_ids, which some
    tokenizers add and decoder-only models reject), and `prompt_length`, each prompt's length before a cut.

    A prompt longer than `max_source_length` tokens is built again from the longest start of its source that
    fits: the template around the source (the instruction, and the answer cue `Corrected:` or the chat
    template's assistant header that the answer follows) stays whole, and every prompt is tokenised as one
    text, as TRL tokenises a GRPO prompt.

    Raises:
        TemplateError: the template alone, with an empty source, is longer than `max_source_length`.
    """
    # Chat-template prompts already hold their special tokens (BOS, <|im_start|>...).
    add_special_tokens = not uses_chat_template(template)

    def encode(texts: list[str]) -> list[list[int]]:
        prompts = [build_prompt(text, template, tokenizer) for text in texts]
        return tokenizer(prompts, add_special_tokens=add_special_tokens)["input_ids"]

    input_ids = encode(sources)
    lengths = [len(ids) for ids in input_ids]
    for row, length in enumerate(lengths):
        if length > max_source_length:
            input_ids[row] = fit_source(sources[row], encode, max_source_length, template)
    return {
        "input_ids": input_ids,
        "attention_mask": [[1] * len(ids) for ids in input_ids],
        "prompt_length": lengths,
    }


def fit_source(
    source: str, encode: Callable[[list[str]], list[list[int]]], max_source_length: int, template: str
) -> list[int]:
    """The prompt ids of the longest start of `source` whose prompt fits in `max_source_length` tokens, found
    by bisection on characters; `encode` gives the prompt ids of a list of sources."""
    fits, too_long = 0, len(source)  # source[:fits] fits, source[:too_long] does not
    best = encode([""])[0]
    if len(best) > max_source_length:
        raise TemplateError(
            f"--max_source_length {max_source_length} is shorter than the prompt template {template!r} "
            f"itself ({len(best)} tokens with an empty source). Give a larger --max_source_length, or a "
            "shorter template (--prompt_template none)."
        )
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        ids = encode([source[:middle]])[0]
        if len(ids) <= max_source_length:
            fits, best = middle, ids
        else:
            too_long = middle
    return best


def encode_seq2seq(
    batch: dict[str, list[str]],
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    max_source_length: int,
    max_target_length: int,
) -> dict[str, list[list[int]] | list[int]]:
    encoded = encode_prompts(batch["source"], tokenizer, template, max_source_length)
    if "target" in batch:
        labels = tokenizer(text_target=batch["target"])["input_ids"]
        encoded["target_length"] = [len(ids) for ids in labels]
        for row, ids in enumerate(labels):
            if len(ids) > max_target_length:  # cut by the tokenizer, which keeps its EOS
                labels[row] = tokenizer(
                    text_target=batch["target"][row], max_length=max_target_length, truncation=True
                )["input_ids"]
        encoded["labels"] = labels
    return encoded


def encode_clm(
    batch: dict[str, list[str]],
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    max_source_length: int,
    max_target_length: int,
) -> dict[str, list[list[int]] | list[int]]:
    """Encode prompt and target separately and concatenate, so the loss mask is exact.

    Without a target (prediction) the prompt alone is returned; generation continues it.
    """
    encoded = encode_prompts(batch["source"], tokenizer, template, max_source_length)
    if "target" not in batch:
        return encoded
    target_ids = tokenizer(batch["target"], add_special_tokens=False)["input_ids"]
    input_ids, labels = [], []
    for prompt, target in zip(encoded["input_ids"], target_ids, strict=True):
        answer = target[: max_target_length - 1] + [tokenizer.eos_token_id]
        input_ids.append(prompt + answer)
        labels.append([IGNORE_INDEX] * len(prompt) + answer)
    return {
        "input_ids": input_ids,
        "attention_mask": [[1] * len(ids) for ids in input_ids],
        "labels": labels,
        "prompt_length": encoded["prompt_length"],
        "target_length": [len(ids) + 1 for ids in target_ids],
    }


# Columns the encoders add for log_truncation: lengths in tokens before a cut (EOS included).
LENGTH_COLUMNS = ("prompt_length", "target_length")


def encode_dataset(
    dataset: Dataset,
    framework: Framework,
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    max_source_length: int,
    max_target_length: int,
    num_proc: int | None = None,
    name: str = "data",
) -> Dataset:
    """Tokenise a `source`(/`target`) dataset; the result has only model inputs (and labels).

    Sources and targets that had to be cut are counted in a warning that names the data (`name`).
    """
    encoded = dataset.map(
        framework.encode,
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
    log_truncation(encoded, name, max_source_length, max_target_length)
    return encoded.remove_columns([column for column in LENGTH_COLUMNS if column in encoded.column_names])


def log_truncation(encoded: Dataset, name: str, max_source_length: int, max_target_length: int) -> None:
    """Warn about the rows whose prompt or target was cut: how many, and the longest length."""
    checks = (
        ("prompt_length", "prompts", "--max_source_length", max_source_length,
         "their sources were cut at the end, the template around them kept whole"),
        ("target_length", "targets", "--max_target_length", max_target_length, "cut at the end, EOS kept"),
    )  # fmt: skip
    for column, rows, flag, limit, result in checks:
        if column not in encoded.column_names:
            continue
        lengths = encoded[column]
        cut = [length for length in lengths if length > limit]
        if cut:
            logger.warning(
                "%s: %d of %d %s longer than %s %d tokens (the longest: %d): %s.",
                name, len(cut), len(lengths), rows, flag, limit, max(cut), result,
            )  # fmt: skip


# DataCollatorForSeq2Seq pads on its tokenizer's side, and puts `labels: None` in a batch without labels, on
# which Seq2SeqTrainer.prediction_step asks the model for a loss it has not computed (KeyError: 'loss').
@dataclass
class PaddingCollator(DataCollatorForSeq2Seq):
    """DataCollatorForSeq2Seq (labels padded with IGNORE_INDEX) padding on `padding_side`, and without labels
    in a batch that has none.

    clm batches are padded on the right for training (positions start at 0 as in pretraining) and on the
    left for generation (every prompt ends at the last column, where generation appends).
    """

    label_pad_token_id: int = IGNORE_INDEX
    padding_side: str = "right"

    def __post_init__(self) -> None:
        self.tokenizer = copy.copy(self.tokenizer)  # the side of this use only
        self.tokenizer.padding_side = self.padding_side

    def __call__(self, features: list[dict[str, Any]], return_tensors: str | None = None) -> dict[str, Any]:
        batch = super().__call__(features, return_tensors)
        return {name: value for name, value in batch.items() if value is not None}


@dataclass
class TargetLogitsCollator:
    """`collator`'s training batches cut by keep_target_logits, here on the CPU: finding the cut on the device
    would make the host wait for it (a host-device sync) on every micro-batch."""

    collator: Callable[[list[dict[str, Any]]], dict[str, Any]]

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        return keep_target_logits(self.collator(features))


def keep_target_logits(inputs: dict[str, Any]) -> dict[str, Any]:
    """A clm training batch whose logits (and loss) are computed only from the first target position on.

    The loss needs the logits of the positions that predict a label, but the model computes them (the output
    projection, its fp32 upcast and the softmax) at every position, prompts included. The batch keeps its
    inputs; `logits_to_keep` asks the model for the last columns only, from one before the earliest first
    label of any row, and the labels start at that column too: the model shifts them against those logits
    as it shifts full ones, so every (logit, label) pair, and the loss, is the one of the full batch. A batch
    whose earliest label is in the second column or before is returned as it is.
    """
    labels = inputs["labels"]
    trained = labels != IGNORE_INDEX
    if not trained.any():
        return inputs
    start = int(trained.int().argmax(dim=1)[trained.any(dim=1)].min()) - 1
    if start < 1:
        return inputs
    return {**inputs, "labels": labels[:, start:], "logits_to_keep": labels.shape[1] - start}


def packing_collator(flash_attention: bool = False) -> DataCollatorWithFlattening:
    """Padding-free clm batches that give the same loss as padded ones.

    A batch becomes one row: its examples concatenated, position ids restarting at 0 for each, no padding.
    transformers builds a block-diagonal causal mask from those position ids (sdpa, eager) or passes the
    example boundaries to the varlen kernel (`flash_attention`), so no token attends to another example.
    Each example's first label becomes IGNORE_INDEX (encode_clm already masks it: it is a prompt token), so
    no example is trained to predict the next one's first token.
    """
    return DataCollatorWithFlattening(separator_id=IGNORE_INDEX, return_flash_attn_kwargs=flash_attention)
