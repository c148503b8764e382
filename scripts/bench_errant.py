"""Time ERRANT's own CLI against errant_fast on BEA-2019 dev outputs, and check they agree.

Usage:
    python scripts/bench_errant.py [--data ../shared/gec-data/pillars-of-gec] [--cold T5-11B]
        [--warm CTC-Copy] [--processes N]

The CLI is what its users run: `errant_parallel -orig SRC -cor SYSTEM -out HYP.m2` then `errant_compare
-hyp HYP.m2 -ref GOLD`, two new processes each paying its imports and errant_parallel its model load
(errant_fast.reference's command lines), timed wall to wall. Ours is timed two ways:
- as a command, `scripts/errant_score.py SYSTEM GOLD --source SRC`, a new process likewise;
- as a library call, errant_fast.score_files in this process (imports already paid, model loaded per
  call), as eval_gec.sh's results step calls it; beside it the CLI's own code in this process likewise
  (errant_fast.reference: ERRANT's two main functions, its model loaded per call), so that each way of
  ours has its like on ERRANT's side.
Each way has its own cache folder ($XDG_CACHE_HOME): the --cold output is scored with it empty (a set's
first output), then the --warm output with what the first left (another system's output of the set),
then the cold output's "next checkpoint": that output with a tenth of its lines replaced by the warm
output's (where the two differ), with the cache the cold scoring left, as each further checkpoint of a
run is scored; its CLI blocks are the two CLI runs' blocks of those lines. The command's printed table is
checked against errant_compare's, the library call's M2 blocks against errant_parallel's, edit by edit.
Prints wall and CPU seconds (CPU: the process and its children) and the ratios to the CLI's wall; the
last line, both commands' wall seconds (X the CLI's mean over the two outputs):
    errant seconds: cli X, ours cold Y, warm Z
Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from errant_fast import find_model, reference, score_files
from errant_fast.scoring import read_lines

REPO = Path(__file__).resolve().parents[1]

DATA = REPO.parent / "shared" / "gec-data" / "pillars-of-gec"


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(run):
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = run()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def command(argv: list[str], cache: Path | None = None) -> str:
    """What `argv` prints, run with `cache` as XDG_CACHE_HOME."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)} if cache else None
    return subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout


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
    processes = [] if args.processes is None else ["--processes", str(args.processes)]
    print(
        f"cli: errant_parallel then errant_compare, two new processes (ERRANT 3.0.2, {find_model()}); "
        "ours: scripts/errant_score.py, one new process, and score_files in this process"
    )
    same = True
    cli_times, ours, library, logic = [], {}, {}, {}
    cli_blocks, cli_texts = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        caches = {way: tmp / way for way in ("command", "library")}

        def score(kind, system, blocks, text, cli_wall, logic_wall=None):
            """Ours both ways on `system`, its lines printed; returns the two walls and whether they agree."""
            out, wall, cpu = timed(
                lambda: command(
                    [sys.executable, str(REPO / "scripts" / "errant_score.py"), str(system), str(gold),
                     "--source", str(source), *processes],
                    caches["command"],
                )
            )  # fmt: skip
            agree = out == text
            print(
                f"  ours {kind}, errant_score.py: {wall:.1f} s (cpu {cpu:.1f}); "
                f"{'same' if agree else 'DIFFERENT'} table"
            )
            lib_wall, lib_agree = run_library(
                kind, system, gold, source, args.processes, blocks, text, caches["library"]
            )
            ratios = f"errant_score.py {cli_wall / wall:.1f}x, library call {cli_wall / lib_wall:.1f}x"
            if logic_wall is not None:
                ratios += f"; library call to the cli's code in this process {logic_wall / lib_wall:.1f}x"
            print(f"  ratio to the cli: {ratios}")
            return wall, lib_wall, agree and lib_agree

        for kind, name in (("cold", args.cold), ("warm", args.warm)):
            system = args.data / "system_preds" / "single_systems" / f"{name}___bea-dev.txt"
            hyp_m2 = tmp / f"{name}.m2"

            def cli(system=system, hyp_m2=hyp_m2):
                command(reference.errant_parallel_command(source, system, hyp_m2))
                return command(reference.errant_compare_command(hyp_m2, gold))

            def cli_logic(system=system, hyp_m2=tmp / f"{name}.logic.m2"):
                reference.errant_parallel(source, system, hyp_m2)
                return reference.errant_compare(hyp_m2, gold)

            cli_texts[kind], cli_wall, cli_cpu = timed(cli)
            cli_times.append(cli_wall)
            cli_blocks[kind] = hyp_m2.read_text(encoding="utf-8").strip().split("\n\n")
            print(f"{name}:\n  cli: {cli_wall:.1f} s (cpu {cli_cpu:.1f})")
            logic_text, logic[kind], logic_cpu = timed(cli_logic)
            same &= logic_text == cli_texts[kind]
            print(f"  cli's code in this process: {logic[kind]:.1f} s (cpu {logic_cpu:.1f})")
            ours[kind], library[kind], agree = score(
                kind, system, cli_blocks[kind], cli_texts[kind], cli_wall, logic[kind]
            )
            same &= agree
            if kind == "cold":
                for cache in caches.values():
                    shutil.copytree(cache, cache.with_name(f"{cache.name}_after_cold"))
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
        for cache in caches.values():
            shutil.rmtree(cache)
            cache.with_name(f"{cache.name}_after_cold").rename(cache)
        name = f"{args.cold} with {len(changed)} lines from {args.warm}"
        print(f"{name} (the cold run's next checkpoint; cli: its mean over the two outputs):")
        wall, lib_wall, agree = score(
            "next checkpoint", mixed, mixed_blocks, reference.errant_compare(mixed_m2, gold), cli_mean
        )
        same &= agree
    print(
        f"library call seconds: ours cold {library['cold']:.1f}, warm {library['warm']:.1f}; "
        f"ratios {cli_times[0] / library['cold']:.1f}x, {cli_times[1] / library['warm']:.1f}x to the cli, "
        f"{logic['cold'] / library['cold']:.1f}x, {logic['warm'] / library['warm']:.1f}x to its code in this "
        "process"
    )
    print(f"errant seconds: cli {cli_mean:.1f}, ours cold {ours['cold']:.1f}, warm {ours['warm']:.1f}")
    return 0 if same else 1


def run_library(kind, system, gold, source, processes, cli_blocks, cli_text, cache) -> tuple[float, bool]:
    """score_files on `system`, timed and checked against the CLI's blocks and table; prints its line."""
    with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": str(cache)}):
        result, wall, cpu = timed(lambda: score_files(system, gold, source=source, processes=processes))
    differing = sum(a != b for a, b in zip(cli_blocks, result.system.blocks, strict=True))
    agree = result.text == cli_text and differing == 0
    s = result.system
    print(
        f"  ours {kind}, library call: {wall:.1f} s (cpu {cpu:.1f}); TP {result.tp} FP {result.fp} "
        f"FN {result.fn} P {result.precision} R {result.recall} F0.5 {result.f}; "
        f"{'same' if agree else 'DIFFERENT'} figures, {differing} of {len(cli_blocks)} sentences' edits "
        f"differ; {s.unchanged} unchanged, {s.cached} from the cache, {s.annotated} annotated, "
        f"{s.sources_parsed} sources parsed"
    )
    return wall, agree


if __name__ == "__main__":
    sys.exit(main())
