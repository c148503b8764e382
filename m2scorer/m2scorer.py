"""Score a system's output against M2 gold edits, with the official NUS M2 scorer's options and output.

Usage:
    python m2scorer/m2scorer.py [-v|--verbose] [--very_verbose] [--max_unchanged_words N] [--beta B]
        [--ignore_whitespace_casing] [--char_level] [--compat 3.2|master] SYSTEM_FILE GOLD_M2
    python -m m2scorer ...            (the same)

Prints ``Precision``, ``Recall`` and ``F_<beta>`` to four decimals. Exit status 0 on success, 2 on bad
usage or bad input (the message names the file and line).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

if not __package__:
    # Run as a file: its own folder is sys.path[0], where this module would shadow the package of the
    # same name. Put the folder above in its place.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from m2scorer.align import COMPAT_3_2, COMPATS  # noqa: E402
from m2scorer.reader import M2FormatError, check_aligned, load_gold, load_hypotheses  # noqa: E402
from m2scorer.scoring import (  # noqa: E402
    Counts,
    SentenceScore,
    check_beta,
    counts_f,
    format_result,
    iter_sentence_scores,
    precision_recall_f,
    result_from_counts,
)


def _beta(text: str) -> float:
    # argparse prints an ArgumentTypeError after "argument --beta:" and exits 2
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    try:
        return check_beta(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="m2scorer",
        description="MaxMatch (M2) scorer: precision, recall and F_beta of system edits against gold edits.",
    )
    parser.add_argument("system_file", help="system output, one tokenised sentence per line")
    parser.add_argument("gold_file", help="source sentences with gold edits, M2 format")
    parser.add_argument("-v", "--verbose", action="store_true", help="print per-sentence edits and counts")
    parser.add_argument("--very_verbose", action="store_true", help="also print each sentence's edit graph")
    parser.add_argument(
        "--max_unchanged_words",
        type=int,
        default=2,
        help="most unchanged words one system edit may span (default 2)",
    )
    parser.add_argument("--beta", type=_beta, default=0.5, help="beta of the F measure, > 0 (default 0.5)")
    parser.add_argument(
        "--ignore_whitespace_casing",
        action="store_true",
        help="ignore system edits that only change whitespace or casing",
    )
    parser.add_argument(
        "--compat",
        choices=COMPATS,
        default=COMPAT_3_2,
        help="official scorer version to reproduce: release 3.2, which the published CoNLL-2014 figures used "
        "(default), or the GitHub master, which matches multi-token insertions at the start of a sentence",
    )
    parser.add_argument(
        "--char_level",
        action="store_true",
        help="score characters, whatever the segmentation of the files (Chinese and other unsegmented text)",
    )
    return parser


def _shrink(edit: tuple[int, int, str, str]) -> tuple[int, int, str, str]:
    """Trim the unchanged words at both ends of an edit, for display (as the official -v does)."""
    start, end, original, correction = edit
    orig, corr = original.split(), correction.split()
    head = 0
    while head < min(len(orig), len(corr)) and orig[head] == corr[head]:
        head += 1
    tail = 0
    while tail < min(len(orig), len(corr)) - head and orig[-1 - tail] == corr[-1 - tail]:
        tail += 1
    return (
        start + head,
        end - tail,
        " ".join(orig[head : len(orig) - tail]),
        " ".join(corr[head : len(corr) - tail]),
    )


def _print_sentence(
    lineno: int,
    source: str,
    hypothesis: str,
    score: SentenceScore,
    running: Counts,
    beta: float,
    very_verbose: bool,
) -> None:
    if very_verbose and score.graph is not None:
        graph = score.graph
        print(f"edit graph    : {len(graph.vertices)} vertices, {len(graph.edge_list)} arcs")
        for key in dict.fromkeys(graph.edge_list):
            kind, edit = graph.arc_edit(key)
            print(f"  arc {kind:4s} {edit} length={graph.length[key]} weight={graph.default_weight[key]:g}")
    for ann in score.per_annotator:
        local = running + ann.counts
        p, r, _ = precision_recall_f(local, beta)
        f = counts_f(local, beta)
        print(">> Annotator:", ann.annotator)
        print("SOURCE        :", source)
        print("HYPOTHESIS    :", hypothesis)
        print("EDIT SEQ      :", [_shrink(e) for e in ann.system_edits])
        print("GOLD EDITS    :", [(s, e, o, list(c)) for s, e, o, c in ann.gold_edits])
        print("CORRECT EDITS :", ann.correct_edits)
        print("# correct     :", local.correct)
        print("# proposed    :", local.proposed)
        print("# gold        :", local.gold)
        print("precision     :", p)
        print("recall        :", r)
        print(f"f_{beta:.1f}         :", f)
        print("-------------------------------------------")
    print(">> Chosen Annotator for line", lineno, ":", score.annotator)
    print("")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # the readers' warnings (a CJK gold scored without --char_level); a no-op where logging is set up
    logging.basicConfig(format="m2scorer: warning: %(message)s", level=logging.WARNING)
    verbose = args.verbose or args.very_verbose
    try:
        gold = load_gold(args.gold_file, char_level=args.char_level)
        hypotheses = load_hypotheses(args.system_file)
        check_aligned(hypotheses, gold, args.system_file, args.gold_file)
    except (M2FormatError, OSError) as err:
        print(f"m2scorer: error: {err}", file=sys.stderr)
        return 2
    total = Counts()
    scores = iter_sentence_scores(
        hypotheses,
        gold,
        beta=args.beta,
        max_unchanged_words=args.max_unchanged_words,
        ignore_whitespace_casing=args.ignore_whitespace_casing,
        char_level=args.char_level,
        compat=args.compat,
        keep_graph=args.very_verbose,
    )
    for lineno, (hyp, sent, score) in enumerate(zip(hypotheses, gold, scores, strict=True), start=1):
        if verbose:
            _print_sentence(lineno, sent.source, hyp, score, total, args.beta, args.very_verbose)
        total = total + score.counts
    result = result_from_counts(total, args.beta)
    if verbose:
        print("CORRECT EDITS  :", result.correct)
        print("PROPOSED EDITS :", result.proposed)
        print("GOLD EDITS     :", result.gold)
        print("P =", result.precision)
        print("R =", result.recall)
        print(f"F_{args.beta:.1f} =", result.f)
    print(format_result(result, args.beta), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
