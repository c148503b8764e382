"""Generation settings and decoding, shared by --do_predict and the interactive tool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerBase

from ftkit.data import IGNORE_INDEX


def generation_kwargs(num_beams: int | None, max_new_tokens: int) -> dict[str, Any]:
    """Keyword arguments for `model.generate`: deterministic search, bounded in new tokens.

    `max_new_tokens` (not `max_length`) so the limit means the same for clm, whose output starts with
    the prompt, as for seq2seq.
    """
    return {"num_beams": num_beams or 1, "max_new_tokens": max_new_tokens, "do_sample": False}


def decode(tokenizer: PreTrainedTokenizerBase, token_ids: np.ndarray | list[list[int]]) -> list[str]:
    """Decode generated ids (new tokens only) to one single-line string per row."""
    # The Trainer pads rows of different batches with IGNORE_INDEX, which is no token.
    token_ids = [np.where(np.asarray(row) == IGNORE_INDEX, tokenizer.pad_token_id, row) for row in token_ids]
    # No clean-up: GEC text is tokenised ("a cat ."), and merging " ." into "." would change the edits.
    texts = tokenizer.batch_decode(token_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    return [" ".join(text.splitlines()).strip() for text in texts]


def write_lines(path: str | Path, lines: list[str]) -> None:
    """Write one line per item, atomically: a reader never sees a half-written predictions file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    partial.replace(path)
