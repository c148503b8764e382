"""Turn an M2 corpus (FCE, W&I+LOCNESS, NUCLE, Lang-8 as released for BEA-2019, ...) into training rows.

Usage (from a clone; installed, `ftkit-m2-to-jsonl` takes the same arguments):
    python scripts/m2_to_jsonl.py GOLD.m2 OUT.jsonl [--annotator N|all] [--detokenize]

Each sentence becomes one ``{"source": ..., "target": ...}`` JSON line: the target is the S line with the
chosen annotator's edits applied (first alternative of ``a||b``, ``-NONE-`` deletes, ``noop`` and ``-1 -1``
edits change nothing). A sentence the annotator did not correct is kept, target = source, as the corpora
mean it: a correct sentence is a training example too. ``--annotator all`` writes one row per annotator of
the file for every sentence, in annotator order. The file is read with the project's M2 reader, so a
malformed line stops the conversion with its file and line (exit 2).

``--detokenize`` undoes the corpora's tokenisation on both sides, by simple rules (see ``detokenize``):
for data whose model reads and writes plain text. Without it, rows keep the tokens, as the M2 scorer and
ERRANT score them.

Then point train.sh at the folder: ``DATA_VER=<folder under DATA_ROOT> bash train.sh`` reads its
``train.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from m2scorer import GoldSentence
from m2scorer.align import GoldEdit
from m2scorer.reader import read_m2


def apply_edits(source: str, edits: Sequence[GoldEdit]) -> str:
    """The source tokens with ``edits`` applied, right to left, so that each edit's offsets still index the
    source when it is applied.

    Of edits with the same start, the one that ends later goes first, so an insertion lands before a
    substitution at its offset (``13 13 .`` and ``13 14 Although`` give ``. Although``); insertions at one
    offset read in file order (``15 15 who``, ``15 15 have`` give ``who have``), the order in which the
    official scorer matches them. Edits past the sentence were dropped by the reader, with a warning.
    """
    tokens = source.split()
    ordered = sorted(((e[0], e[1], i) for i, e in enumerate(edits) if e[0] >= 0), reverse=True)
    for start, end, i in ordered:
        tokens[start:end] = edits[i][3][0].split()
    return " ".join(tokens)


# Tokens that attach to the token before them: closing punctuation and English clitics.
_NO_SPACE_BEFORE = re.compile(r"^(?:[.,;:!?%)\]}…]+|'(?:s|re|ve|ll|d|m)|n't)$", re.IGNORECASE)
# Tokens that attach to the token after them.
_NO_SPACE_AFTER = re.compile(r"^[(\[{$£€]$")
# Scripts written without spaces: CJK ideographs, kana, CJK and full-width punctuation.
_UNSPACED = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def detokenize(text: str) -> str:
    """Plain text from space-separated tokens (PTB/spaCy style, as in the BEA-2019 corpora).

    No space before closing punctuation (``. , ; : ! ? % ) ] }``) and clitics (``n't 's 're 've 'll 'd
    'm``), none after opening brackets and currency signs; straight double quotes alternate opening and
    closing; no space next to CJK characters (Chinese and Japanese corpora are segmented for M2 only).
    Everything else keeps its space (``well - known`` stays as it is). Not an exact inverse of any
    tokeniser: use it for training data, never for text that is scored.
    """
    out = ""
    quote_open = False
    attach_next = False
    for token in text.split():
        attach = not out or attach_next or bool(_NO_SPACE_BEFORE.match(token))
        attach_next = bool(_NO_SPACE_AFTER.match(token))
        if token == '"':
            attach = attach or quote_open  # a closing quote attaches before, an opening one after
            attach_next = not quote_open
            quote_open = not quote_open
        if out and (_UNSPACED.match(token[0]) or _UNSPACED.match(out[-1])):
            attach = True
        out += token if attach else " " + token
    return out


def annotators_of(sentences: Sequence[GoldSentence]) -> list[int]:
    return sorted({a for s in sentences for a in s.edits})


def rows(sentences: Sequence[GoldSentence], annotator: int | None, detok: bool) -> Iterator[dict[str, str]]:
    """One row per sentence for ``annotator``, or per sentence and annotator of the file for None."""
    chosen = annotators_of(sentences) if annotator is None else [annotator]
    for sentence in sentences:
        for a in chosen:
            target = apply_edits(sentence.source, sentence.edits.get(a, []))
            source = " ".join(sentence.source.split())
            if detok:
                source, target = detokenize(source), detokenize(target)
            yield {"source": source, "target": target}


def _annotator(text: str) -> int | None:
    if text == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an annotator id (0, 1, ...) or 'all', not {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path, help="M2 file")
    parser.add_argument("out", type=Path, help="JSON lines to write")
    parser.add_argument(
        "--annotator",
        type=_annotator,
        default=0,
        help="whose edits to apply: an annotator id, or 'all' for one row per annotator [0]",
    )
    parser.add_argument(
        "--detokenize", action="store_true", help="plain text instead of space-separated tokens"
    )
    args = parser.parse_args(argv)
    try:
        sentences = read_m2(args.gold)
        known = annotators_of(sentences)
        if args.annotator is not None and args.annotator not in known:
            raise ValueError(
                f"{args.gold}: no edits by annotator {args.annotator}; the file has annotators "
                f"{', '.join(map(str, known))} (--annotator N or all)"
            )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        count = changed = 0
        with args.out.open("w", encoding="utf-8") as f:
            for row in rows(sentences, args.annotator, args.detokenize):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
                changed += row["source"] != row["target"]
    except (ValueError, OSError) as e:  # M2FormatError is a ValueError
        print(f"m2_to_jsonl.py: error: {e}", file=sys.stderr)
        return 2
    print(f"{args.out}: {count} rows ({changed} corrected) from {len(sentences)} sentences of {args.gold}")
    return 0
