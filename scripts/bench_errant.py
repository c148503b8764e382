"""Time ERRANT's own CLI logic against errant_fast on BEA-2019 dev outputs, and check they agree.

Usage:
    python scripts/bench_errant.py [--data ../shared/gec-data/pillars-of-gec] [--cold T5-11B]
        [--warm CTC-Copy] [--processes N]

In one process: for the --cold output, errant_parallel + errant_compare (errant_fast.reference: ERRANT's
code, model loading included) then errant_score with an empty cache (the first output of a set); for the
--warm output, the CLI again, then errant_score with the cache the first left (another system's
output of the set). Then the cold output's "next checkpoint": that output with a tenth of its lines
replaced by the warm output's (where the two differ), scored with the cache the cold scoring left, as
each further checkpoint of a run is; its CLI blocks are the two CLI runs' blocks of those lines. Each
errant_score run also checks its M2 blocks against the CLI's, edit by edit, and its printed table
against errant_compare's. Prints wall and CPU seconds (CPU: this process and its workers) and the
ratios; the last line:
    errant seconds: cli X, ours cold Y, warm Z
with X the CLI's mean over the two outputs. Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from errant_fast import reference, score_files  # noqa: E402
from errant_fast.scoring import read_lines  # noqa: E402

DATA = REPO.parent / "shared" / "gec-data" / "pillars-of-gec"


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(run):
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = run()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="pillars-of-gec folder [%(default)s]")
    parser.add_argument("--cold", default="T5-11B", help="system scored first, with an empty cache")
    parser.add_argument("--warm", default="CTC-Copy", help="system scored next, with the cache")
    parser.add_argument("--processes", type=int, help="errant_score's worker processes [its default]")
    args = parser.parse_args(argv)
    gold = args.data / "evaluation_sets" / "bea-dev.m2"
    source = args.data / "evaluation_sets" / "bea-dev.txt"
    if not gold.is_file():
        print(
            f"bench_errant.py: error: no {gold}; give the pillars-of-gec folder with --data.", file=sys.stderr
        )
        return 2
    same = True
    cli_times = []
    ours = {}
    cli_blocks = {}
    with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, {"XDG_CACHE_HOME": tmp}):
        tmp = Path(tmp)
        for kind, system_name in (("cold", args.cold), ("warm", args.warm)):
            system = args.data / "system_preds" / "single_systems" / f"{system_name}___bea-dev.txt"
            hyp_m2 = tmp / f"{system_name}.m2"

            def cli(system=system, hyp_m2=hyp_m2):
                reference.errant_parallel(source, system, hyp_m2)
                return reference.errant_compare(hyp_m2, gold)

            cli_text, cli_wall, cli_cpu = timed(cli)
            cli_times.append(cli_wall)
            cli_blocks[kind] = hyp_m2.read_text(encoding="utf-8").strip().split("\n\n")
            wall, cpu, agree = run_ours(system_name, system, gold, source, args, cli_blocks[kind], cli_text)
            if kind == "cold":
                shutil.copytree(tmp / "errant_fast", tmp / "after_cold" / "errant_fast")
            same &= agree
            ours[kind] = wall
            print(
                f"  cli {cli_wall:.1f} s (cpu {cli_cpu:.1f}); ours {kind} {wall:.1f} s (cpu {cpu:.1f}): "
                f"{cli_wall / wall:.1f}x wall, {cli_cpu / cpu:.1f}x cpu"
            )
        cli_mean = sum(cli_times) / len(cli_times)
        # The next checkpoint of the cold run: its output with a tenth of the lines changed (taken from the
        # warm output where the two differ), scored with the cache the cold scoring left.
        cold_lines = read_lines(args.data / "system_preds" / "single_systems" / f"{args.cold}___bea-dev.txt")
        warm_lines = read_lines(args.data / "system_preds" / "single_systems" / f"{args.warm}___bea-dev.txt")
        differing = [i for i, (a, b) in enumerate(zip(cold_lines, warm_lines, strict=True)) if a != b]
        changed = set(differing[:: max(1, round(len(differing) / (len(cold_lines) / 10)))])
        mixed = tmp / "next_checkpoint.txt"
        mixed.write_text(
            "".join((warm_lines if i in changed else cold_lines)[i] + "\n" for i in range(len(cold_lines))),
            encoding="utf-8",
        )
        mixed_blocks = [cli_blocks["warm" if i in changed else "cold"][i] for i in range(len(cold_lines))]
        mixed_m2 = tmp / "next_checkpoint.m2"
        mixed_m2.write_text("\n\n".join(mixed_blocks) + "\n\n", encoding="utf-8")
        with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": str(tmp / "after_cold")}):
            name = f"{args.cold} with {len(changed)} lines from {args.warm}"
            cli_text = reference.errant_compare(mixed_m2, gold)
            wall, cpu, agree = run_ours(name, mixed, gold, source, args, mixed_blocks, cli_text)
        same &= agree
        print(
            f"  ours, the cold run's next checkpoint: {wall:.1f} s (cpu {cpu:.1f}): {cli_mean / wall:.1f}x "
            "the cli's mean wall"
        )
    print(f"errant seconds: cli {cli_mean:.1f}, ours cold {ours['cold']:.1f}, warm {ours['warm']:.1f}")
    return 0 if same else 1


def run_ours(name, system, gold, source, args, cli_blocks, cli_text) -> tuple[float, float, bool]:
    """errant_score on `system`, timed and checked against the CLI's blocks and table; prints its line."""
    result, wall, cpu = timed(lambda: score_files(system, gold, source=source, processes=args.processes))
    differing = sum(a != b for a, b in zip(cli_blocks, result.system.blocks, strict=True))
    agree = result.text == cli_text and differing == 0
    s = result.system
    print(
        f"{name}: TP {result.tp} FP {result.fp} FN {result.fn} P {result.precision} "
        f"R {result.recall} F0.5 {result.f}; {'same' if agree else 'DIFFERENT'} figures, "
        f"{differing} of {len(cli_blocks)} sentences' edits differ; {s.unchanged} unchanged, "
        f"{s.cached} from the cache, {s.annotated} annotated, {s.sources_parsed} sources parsed"
    )
    return wall, cpu, agree


if __name__ == "__main__":
    sys.exit(main())
