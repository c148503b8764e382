"""Score a GEC system output with ERRANT 3.0.2: errant_parallel + errant_compare's figures, fast.

Usage:
    errant-score SYSTEM_FILE GOLD_M2 [--source SRC] [--cat 1|2|3] [--single] [--beta B]
        [-lev] [-merge rules|all-split|all-merge|all-equal] [-tok] [--processes N] [--no_cache]
    (or python scripts/errant_score.py ..., the same command from a checkout)

SYSTEM_FILE holds one tokenised sentence per line, in the order of GOLD_M2 (an ERRANT M2 file, e.g.
BEA-2019 dev); the source sentences are GOLD_M2's `S` lines unless --source is given. The output is
errant_compare's, character for character. Same as
    errant_parallel -orig SRC -cor SYSTEM_FILE -out hyp.m2 [-lev] [-merge M] [-tok]
    errant_compare -hyp hyp.m2 -ref GOLD_M2 [-cat N] [-single] [-b B]
Exit status 0, or 2 on bad input (the message names the file and line).
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="errant-score", description=__doc__.split("\n\n")[0])
    parser.add_argument("system", type=Path, help="system output, one tokenised sentence per line")
    parser.add_argument("gold", type=Path, help="ERRANT gold M2")
    parser.add_argument("--source", type=Path, help="source sentences, one per line [GOLD's S lines]")
    parser.add_argument(
        "--cat", "-cat", type=int, choices=[1, 2, 3], help="per-type tables, as errant_compare"
    )
    parser.add_argument("--single", "-single", action="store_true", help="only edits of 0 or 1 token a side")
    parser.add_argument("--beta", "-b", type=float, default=0.5, help="F-score beta [0.5]")
    parser.add_argument("-lev", action="store_true", help="standard Levenshtein alignment (errant_parallel)")
    parser.add_argument(
        "-merge", choices=["rules", "all-split", "all-merge", "all-equal"], default="rules",
        help="edit merging (errant_parallel) [rules]",
    )  # fmt: skip
    parser.add_argument("-tok", action="store_true", help="word-tokenise SYSTEM and the source with spaCy")
    parser.add_argument("--processes", type=int, help="worker processes [the CPUs this process may use]")
    parser.add_argument("--no_cache", action="store_true", help="neither read nor write the parse cache")
    return parser


def main(argv: list[str] | None = None) -> int:
    """errant-score's work in this process (safe in any process: tests, other tools); the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.processes is not None and args.processes < 1:
        print(f"errant-score: error: --processes {args.processes}: give 1 or more.", file=sys.stderr)
        return 2
    # Here, not above: command() keeps PyTorch out before spaCy (imported by these) is.
    from errant_fast.annotator import ModelNotFoundError
    from errant_fast.edits import Options
    from errant_fast.scoring import ErrantInputError, score_files

    try:
        result = score_files(
            args.system,
            args.gold,
            source=args.source,
            cat=args.cat,
            single=args.single,
            beta=args.beta,
            options=Options(tok=args.tok, lev=args.lev, merge=args.merge),
            processes=args.processes,
            use_cache=not args.no_cache,
        )
    except (ErrantInputError, ModelNotFoundError) as e:
        print(f"errant-score: error: {e}", file=sys.stderr)
        return 2
    print(result.text, end="")
    return 0


def keep_pytorch_out() -> None:
    """Make `import torch` fail in this process, for a command that scores with ERRANT and uses nothing else
    PyTorch serves: spaCy's thinc imports PyTorch whenever it is installed (much of errant-score's start),
    though spaCy's English pipeline computes with numpy alone. Call it before spaCy is imported, and only in
    such a command's own process: a library user may import PyTorch later."""
    sys.modules.setdefault("torch", None)


def command() -> int:
    """The errant-score process (the console script; scripts/errant_score.py): main() on its command line,
    with two settings that are right only for a process that scores once and exits, so never made by
    importing errant_fast or calling main().

    - No PyTorch (keep_pytorch_out).
    - No garbage collection: each full collection walks every object of spaCy's model and of the parses,
      and a forked worker's would copy every page it touches (the collector writes to what it visits);
      what a collection would free here is freed at exit anyway. The collector's last walk, at exit,
      skips it all (frozen). Threshold 0, not gc.disable(): spaCy's msgpack loader (srsly) switches the
      collector back on after each load.
    """
    keep_pytorch_out()
    gc.set_threshold(0)
    try:
        return main()
    finally:
        gc.freeze()
