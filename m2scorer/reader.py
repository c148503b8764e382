"""Reading M2 gold files and system output, with the official scorer's exact conventions.

M2 format: a paragraph per sentence, separated by blank lines::

    S <tokenised source>
    A <start> <end>|||<type>|||<correction>[||<alternative>...]|||<required>|||<comment>|||<annotator id>

Offsets are token offsets into the S line; ``-NONE-`` as a correction means "delete"; a ``noop`` edit (or
offsets ``-1 -1``) says that this annotator made no change, which still makes the annotator a candidate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .align import GoldEdit

logger = logging.getLogger(__name__)

BOM = "\ufeff"
# Unsegmented scripts: CJK ideographs (with extension A and compatibility ideographs), kana.
_UNSEGMENTED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"\s")
# Share of such characters in the S lines from which scoring tokens is likely not what the user meant.
UNSEGMENTED_SHARE = 0.5


class M2FormatError(ValueError):
    """Input the scorer cannot score: the message names the file and, where it applies, the line."""


@dataclass(frozen=True)
class GoldSentence:
    """One source sentence and its gold edits, per annotator in ascending id order."""

    source: str
    edits: dict[int, list[GoldEdit]] = field(default_factory=dict)


def _decode(data: bytes, path: str | Path) -> str:
    """UTF-8 text without a leading byte-order mark (editors add one; it is not part of the first token)."""
    try:
        return data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise M2FormatError(f"{path}:{line}: not valid UTF-8 ({err.reason} at byte {err.start})") from None


def to_chars(text: str) -> str:
    """Character tokens: whitespace removed, then every character is a token (for unsegmented text)."""
    return " ".join("".join(text.split()))


def _parse_edit(line: str, path: str | Path, lineno: int, tokens: list[str]) -> tuple[int, GoldEdit]:
    fields = line[2:].split("|||")
    try:
        if len(fields) < 6:
            raise ValueError(f"expected 6 fields separated by '|||', found {len(fields)}")
        offsets = fields[0].split()
        if len(offsets) != 2:
            raise ValueError(f"expected '<start> <end>', found {fields[0]!r}")
        start, end = int(offsets[0]), int(offsets[1])
        annotator = int(fields[5])
    except ValueError as err:
        raise M2FormatError(f"{path}:{lineno}: malformed A line ({err}): {line.rstrip()!r}") from None
    # "-1 -1" (and any noop) means "no edit": the official scorer drops it, the annotator stays a candidate
    if fields[1] == "noop" or (start, end) == (-1, -1):
        start = end = -1
    elif not 0 <= start <= end:
        raise M2FormatError(
            f"{path}:{lineno}: edit offsets {start} {end} are {'negative' if start < 0 else 'reversed'}; "
            f"offsets are token positions 0..{len(tokens)} in the S line with start <= end "
            f"(-1 -1 for a noop): {line.rstrip()!r}"
        )
    elif end > len(tokens):
        # Not an error: the official NLPCC-2018 test gold has one (line 6652), and its published figures
        # are the official scorer's, which drops the edit; so does the block's offset filter below.
        logger.warning(
            "%s:%d: edit offsets %d %d go past the sentence's %d tokens; the edit is dropped, as the "
            "official scorer does; correct its offsets if they are a typo: %r",
            path,
            lineno,
            start,
            end,
            len(tokens),
            line.rstrip(),
        )
    corrections = tuple(c.strip() if c != "-NONE-" else "" for c in fields[2].split("||"))
    # Offsets index the tokens of all S lines of the paragraph joined together (official behaviour).
    original = " ".join(tokens[start:end])
    return annotator, (start, end, original, corrections)


def _char_level_edit(edit: GoldEdit, tokens: list[str]) -> GoldEdit:
    start, end, _, corrections = edit
    if start < 0 or end < 0:
        return edit
    offsets = [0]
    for tok in tokens:
        offsets.append(offsets[-1] + len(tok))

    def to_char(k: int) -> int:
        return offsets[min(k, len(tokens))] + max(0, k - len(tokens))

    chars = "".join(tokens)
    s, e = to_char(start), to_char(end)
    original = " ".join(chars[s:e])
    return (s, e, original, tuple(to_chars(c) for c in corrections))


def parse_m2(text: str, path: str | Path = "<m2>", char_level: bool = False) -> list[GoldSentence]:
    """Parse M2 text. ``char_level`` re-expresses tokens, offsets and corrections in characters."""
    sentences: list[GoldSentence] = []
    paragraph: list[tuple[int, str]] = []

    def flush() -> None:
        first_no, first = paragraph[0]
        if not first.startswith("S "):
            raise M2FormatError(f"{path}:{first_no}: a sentence block must start with 'S ', found {first!r}")
        sources = [line[2:].strip() for _, line in paragraph if line.startswith("S ")]
        tokens = " ".join(sources).split()
        by_annotator: dict[int, list[GoldEdit]] = {}
        after_edit = False
        for lineno, line in paragraph[1:]:
            if line.startswith("S ") and after_edit:
                # Legal for the official scorer (edits would index all the block's S lines joined), but
                # what it means in practice is a file whose sentences lost their blank lines.
                raise M2FormatError(
                    f"{path}:{lineno}: an 'S ' line after 'A ' lines of the same block; sentences in M2 are "
                    "separated by blank lines: add an empty line before each 'S ' line"
                )
            if line.startswith(("S ", "I ")):
                continue
            if not line.startswith("A "):
                raise M2FormatError(f"{path}:{lineno}: expected an 'A ' line, found {line!r}")
            after_edit = True
            annotator, edit = _parse_edit(line, path, lineno, tokens)
            if char_level:
                edit = _char_level_edit(edit, tokens)
            by_annotator.setdefault(annotator, []).append(edit)
        # Several S lines in one block become several sentences; like the official scorer, each keeps the
        # edits that end within its cumulative token count (offsets are not re-based).
        if char_level:
            limits = [len("".join("".join(s.split()) for s in sources[: n + 1])) for n in range(len(sources))]
            sources = [to_chars(s) for s in sources]
        else:
            limits = [len(" ".join(sources[: n + 1]).split()) for n in range(len(sources))]
        for source, limit in zip(sources, limits, strict=True):
            edits = {
                ann: [e for e in by_annotator[ann] if 0 <= e[0] <= limit and 0 <= e[1] <= limit]
                for ann in sorted(by_annotator)
            }
            sentences.append(GoldSentence(source, edits or {0: []}))
        paragraph.clear()

    # splitlines() rather than split("\n"): the official scorer splits on every Unicode line boundary.
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            paragraph.append((lineno, line))
        elif paragraph:
            flush()
    if paragraph:
        flush()
    return sentences


def read_m2(path: str | Path, char_level: bool = False) -> list[GoldSentence]:
    """Read an M2 file (a gold to score against, or a corpus to convert).

    Raises:
        M2FormatError: the file is not UTF-8, is empty, or has a malformed line (file and line named).
        OSError: the file cannot be read.
    """
    sentences = parse_m2(_decode(Path(path).read_bytes(), path), path, char_level=char_level)
    if not sentences:
        raise M2FormatError(f"{path}: empty gold file (no 'S ' sentences)")
    return sentences


def load_gold(path: str | Path, char_level: bool = False) -> list[GoldSentence]:
    """Read an M2 gold file to score against; warns when mostly-CJK text is to be scored on tokens.

    Raises:
        M2FormatError: the file is not UTF-8, is empty, or has a malformed line (file and line named).
        OSError: the file cannot be read.
    """
    sentences = read_m2(path, char_level)
    share = unsegmented_share(s.source for s in sentences)
    if not char_level and share >= UNSEGMENTED_SHARE:
        logger.warning(
            "%s: %.0f%% of the source characters are Chinese or Japanese, scored here as "
            "whitespace-separated tokens, so an output segmented differently from the gold loses correct "
            "edits; use --char_level (char_level=True) unless both files come from the same segmenter",
            path,
            100 * share,
        )
    return sentences


def unsegmented_share(texts: Iterable[str]) -> float:
    """Share of the non-space characters of ``texts`` that are CJK ideographs or kana (0 for no text)."""
    text = "".join(texts)
    total = len(text) - len(_SPACE.findall(text))
    return len(_UNSEGMENTED.findall(text)) / total if total else 0.0


def split_system_lines(data: bytes, path: str | Path = "<system>") -> list[str]:
    """System output: one sentence per line, split at ``\\n`` only, each line stripped (official); a leading
    byte-order mark is dropped (the official scorer keeps it as part of the first token)."""
    lines = data.removeprefix(BOM.encode()).split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    out = []
    for lineno, raw in enumerate(lines, start=1):
        try:
            out.append(raw.decode("utf-8").strip())
        except UnicodeDecodeError as err:
            raise M2FormatError(
                f"{path}:{lineno}: not valid UTF-8 ({err.reason} at byte {err.start} of the line)"
            ) from None
    return out


def load_hypotheses(path: str | Path) -> list[str]:
    """Read a system output file (one tokenised sentence per line).

    Raises:
        M2FormatError: the file is not UTF-8 (line named).
        OSError: the file cannot be read.
    """
    return split_system_lines(Path(path).read_bytes(), path)


def check_aligned(
    hypotheses: Sequence[str],
    gold: Sequence[GoldSentence],
    system_name: str = "system",
    gold_name: str = "gold",
) -> None:
    """Raise M2FormatError unless there is one hypothesis per gold sentence."""
    if len(hypotheses) != len(gold):
        raise M2FormatError(
            f"{system_name} has {len(hypotheses)} lines but {gold_name} has {len(gold)} sentences; "
            "the output needs one line per gold sentence, in the same order (an empty line for an empty "
            "output)"
        )
