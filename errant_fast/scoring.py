"""`errant_parallel` + `errant_compare` on files, with errant_compare's own functions doing the scoring."""

from __future__ import annotations

import contextlib
import io
from argparse import Namespace
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from errant.commands import compare_m2

from errant_fast.annotator import LoadedAnnotator, load_annotator
from errant_fast.cache import Cache
from errant_fast.edits import Options, SystemM2, system_m2


class ErrantInputError(ValueError):
    """Input files that errant would misread; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class ErrantResult:
    tp: int
    fp: int
    fn: int
    precision: float  # rounded to 4 places, as errant_compare prints them
    recall: float
    f: float
    categories: dict[str, list[int]]  # per error type [TP, FP, FN], at the --cat level (all types if none)
    text: str  # errant_compare's output, byte for byte
    system: SystemM2


def read_lines(path: Path) -> list[str]:
    """Lines split on "\\n" only (a stray "\\r" stays inside its line), without a UTF-8 BOM.

    Raises:
        ErrantInputError: missing, unreadable or not UTF-8.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise ErrantInputError(f"{path}: no such file.") from e
    except IsADirectoryError as e:
        raise ErrantInputError(f"{path} is a folder; give a file.") from e
    except OSError as e:
        raise ErrantInputError(f"{path}: cannot read ({e.strerror}).") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ErrantInputError(f"{path}, line {line}: not UTF-8 ({e.reason}); save the file as UTF-8.") from e
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def read_gold(path: Path) -> list[str]:
    """The gold's M2 blocks as errant_compare splits them.

    Raises:
        ErrantInputError: missing, unreadable, empty, or a block without its `S` line.
    """
    blocks = "\n".join(read_lines(path)).strip().split("\n\n")
    if blocks == [""]:
        raise ErrantInputError(f"{path}: empty; give an M2 file (S lines, A lines, blank line between).")
    line = 1
    for block in blocks:
        if not block.startswith("S "):
            raise ErrantInputError(
                f"{path}, line {line}: an M2 block must start with an `S ` line, not {block[:40]!r} "
                "(are the blocks separated by one blank line?)."
            )
        for edit in block.split("\n")[1:]:
            if not edit.startswith("A ") or len(edit.split("|||")) != 6:
                raise ErrantInputError(
                    f"{path}: sentence {block[:60]!r} has a line that is not an `A` edit "
                    f"(A start end|||type|||correction|||REQUIRED|||-NONE-|||annotator): {edit[:60]!r}."
                )
        line += block.count("\n") + 2
    return blocks


def compare_args(cat: int | None, single: bool, beta: float) -> Namespace:
    """errant_compare's parsed arguments for span-based correction (its default)."""
    if cat not in (None, 1, 2, 3):
        raise ErrantInputError(f"--cat {cat}: choose 1 (operation), 2 (main type) or 3 (both).")
    if not beta > 0:
        raise ErrantInputError(f"--beta {beta}: the F-score weight must be positive (0.5 gives F0.5).")
    return Namespace(
        hyp=None, ref=None, beta=float(beta), verbose=False, dt=False, ds=False, cs=False, cse=False,
        single=single, multi=False, filt=[], cat=cat,
    )  # fmt: skip


def compare(hyp_blocks: list[str], ref_blocks: list[str], args: Namespace) -> tuple[Counter, dict]:
    """errant_compare's main loop over blocks instead of files."""
    best_dict = Counter({"tp": 0, "fp": 0, "fn": 0})
    best_cats: dict = {}
    for sent_id, sent in enumerate(zip(hyp_blocks, ref_blocks, strict=True)):
        hyp_dict = compare_m2.process_edits(compare_m2.simplify_edits(sent[0]), args)
        ref_dict = compare_m2.process_edits(compare_m2.simplify_edits(sent[1]), args)
        original_sentence = sent[0][2:].split("\nA")[0]
        count_dict, cat_dict = compare_m2.evaluate_edits(
            hyp_dict, ref_dict, best_dict, sent_id, original_sentence, args
        )
        best_dict += Counter(count_dict)
        best_cats = compare_m2.merge_dict(best_cats, cat_dict)
    return best_dict, best_cats


def score_files(
    system: Path | str,
    gold_m2: Path | str,
    source: Path | str | None = None,
    cat: int | None = None,
    single: bool = False,
    beta: float = 0.5,
    options: Options | None = None,
    annotator: LoadedAnnotator | None = None,
    processes: int | None = None,
    use_cache: bool = True,
) -> ErrantResult:
    """Score a system output (one sentence per line) against an ERRANT gold M2, as
    `errant_parallel -orig SOURCE -cor SYSTEM` then `errant_compare -hyp ... -ref GOLD_M2` would.

    The source defaults to the gold's `S` lines. `annotator` defaults to load_annotator(). `processes`:
    forked workers [every CPU this process may use]; pass 1 from a multi-threaded program (a training
    loop computing rewards), where forking is unsafe. `use_cache` False: nothing read or written on disk.

    Raises:
        ErrantInputError: a missing or unreadable file, line counts that differ, an empty source line
            (errant_parallel would drop it and misalign every later sentence), a bad --cat or --beta.
    """
    options = options or Options()
    args = compare_args(cat, single, beta)
    system, gold_m2 = Path(system), Path(gold_m2)
    ref_blocks = read_gold(gold_m2)
    if source is None:
        source_name = f"{gold_m2} (its S lines)"
        sources = [block.split("\n")[0][2:] for block in ref_blocks]
    else:
        source_name = str(source)
        sources = read_lines(Path(source))
    outputs = read_lines(system)
    for name, lines in ((source_name, sources), (str(system), outputs)):
        if len(lines) != len(ref_blocks):
            raise ErrantInputError(
                f"{name} has {len(lines)} lines but {gold_m2} has {len(ref_blocks)} sentences: "
                "give one line per gold sentence, in the gold's order."
            )
    for i, line in enumerate(sources):
        if not line.strip():
            raise ErrantInputError(
                f"{source_name}, line {i + 1}: empty source sentence. errant_parallel skips it, so every "
                "later sentence would be compared with the wrong gold; remove it from all three files."
            )
    loaded = annotator or load_annotator()
    cache = Cache(sources, loaded.model, options.tok, options.lev, options.merge) if use_cache else None
    hyp = system_m2(sources, outputs, loaded, options, processes, cache)
    best, cats = compare(hyp.blocks, ref_blocks, args)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        compare_m2.print_results(best, dict(cats), args)
    p, r, f = compare_m2.computeFScore(best["tp"], best["fp"], best["fn"], args.beta)
    categories = compare_m2.processCategories(cats, cat) if cat else cats
    return ErrantResult(best["tp"], best["fp"], best["fn"], p, r, f, categories, out.getvalue(), hyp)
