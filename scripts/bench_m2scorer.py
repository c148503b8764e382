"""Time the project's M2 scorer on every pair of system output and gold in the shared GEC data.

Usage:
    python scripts/bench_m2scorer.py [--data ../shared/gec-data] [--only SUBSTRING] [--compat 3.2|master]

Pairs (each scored from the files, gold loading included in its time):
  CoNLL-2014 team outputs, derived gold-applied outputs, Pillars-of-GEC nucle14 outputs and the source
  itself x the four CoNLL-2014 golds; Pillars-of-GEC BEA-dev outputs x bea-dev.m2; NLPCC-18 derived outputs
  x nlpcc18.gold.m2 at word and character level; the official example files.
Prints one line per pair (system, gold, P, R, F0.5, seconds), then the totals; the last line reads
``total: N pairs in S s (max per file M s)``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from m2scorer import score_files
from m2scorer.align import COMPAT_3_2, COMPATS

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "gec-data"
CONLL_GOLDS = (
    "conll14-test/noalt/official-2014.combined.m2",
    "conll14-test/noalt/official-2014.0.m2",
    "conll14-test/noalt/official-2014.1.m2",
    "conll14-test/alt/official-2014.combined-withalt.m2",
)


def benchmark_pairs(data: Path) -> list[tuple[Path, Path, bool]]:
    """(system, gold, char_level) for every output in ``data`` and the gold it aligns with."""
    pairs: list[tuple[Path, Path, bool]] = []
    example = data / "m2scorer-example"
    pairs += [(example / name, example / "source_gold", False) for name in ("system", "system2")]
    conll_outputs = sorted(p for p in (data / "conll14-submissions").iterdir() if p.suffix != ".md")
    conll_outputs += sorted((data / "derived").glob("conll14.*.txt"))
    conll_outputs += sorted((data / "pillars-of-gec/system_preds").glob("*/*___nucle14_2a.txt"))
    conll_outputs.append(data / "pillars-of-gec/evaluation_sets/nucle14-2a.txt")
    pairs += [(out, data / gold, False) for gold in CONLL_GOLDS for out in conll_outputs]
    bea_gold = data / "pillars-of-gec/evaluation_sets/bea-dev.m2"
    bea_outputs = sorted((data / "pillars-of-gec/system_preds").glob("*/*___bea-dev.txt"))
    bea_outputs.append(data / "pillars-of-gec/evaluation_sets/bea-dev.txt")
    pairs += [(out, bea_gold, False) for out in bea_outputs]
    nlpcc_gold = data / "nlpcc18/nlpcc18.gold.m2"
    for char_level in (False, True):
        pairs += [(out, nlpcc_gold, char_level) for out in sorted((data / "derived").glob("nlpcc18.*.txt"))]
    return [p for p in pairs if p[0].is_file() and p[1].is_file()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("GEC_DATA", DEFAULT_DATA)))
    parser.add_argument("--only", default="", help="only pairs whose system or gold path contains this")
    parser.add_argument("--compat", choices=COMPATS, default=COMPAT_3_2, help="official version to reproduce")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"bench_m2scorer: no data folder at {args.data}", file=sys.stderr)
        return 2
    pairs = [p for p in benchmark_pairs(args.data) if args.only in str(p[0]) or args.only in str(p[1])]
    print(f"{'system':58s} {'gold':36s} {'P':>6s} {'R':>6s} {'F0.5':>6s} {'seconds':>8s}")
    times = []
    for system, gold, char_level in pairs:
        start = time.perf_counter()
        result = score_files(system, gold, char_level=char_level, compat=args.compat)
        seconds = time.perf_counter() - start
        times.append(seconds)
        gold_name = gold.name + (" (char)" if char_level else "")
        print(
            f"{system.name[:58]:58s} {gold_name[:36]:36s} {result.precision:6.4f} {result.recall:6.4f} "
            f"{result.f:6.4f} {seconds:8.2f}",
            flush=True,
        )
    conll = [t for (s, _, _), t in zip(pairs, times, strict=True) if s.parent.name == "conll14-submissions"]
    print(f"CoNLL-2014 team outputs x 4 golds: {len(conll)} pairs in {sum(conll):.1f} s")
    print(f"total: {len(times)} pairs in {sum(times):.1f} s (max per file {max(times, default=0):.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
