"""The bookkeeping behind eval_gec.sh: check its inputs, score predictions, keep the results table and plot.

Usage (eval_gec.sh calls these; each prints its answer on stdout, errors on stderr with exit status 2):
    python scripts/eval_results.py steps RUN_DIR STEP... | all      sealed checkpoint steps to evaluate
    python scripts/eval_results.py datasets DATA_ROOT [NAME...]     dataset names (default: all there)
    python scripts/eval_results.py template RUN_DIR                 prompt template the run trained with
    python scripts/eval_results.py done RUN_DIR --step S --dataset D --settings TEXT
                                                                    exit 0 when already evaluated so
    python scripts/eval_results.py record RUN_DIR --step S --dataset D --data_dir DIR --settings TEXT
        --started T0 --finished T1                                  score predictions, update table + plot
    python scripts/eval_results.py table RUN_DIR                    print the Markdown table

Files in RUN_DIR:
    checkpoint-S/predictions/D.txt  predictions for dataset D (one line per line of D's source.txt)
    checkpoint-S/predictions/D.stats.json   finetune.py's summary of them: how many ran to the length
                                    limit (max_new_tokens without a stop token), the "at limit" column
    eval_results.tsv, eval_results.md   one row per (step, dataset); a rerun replaces its row
    eval_results_types.tsv          ERRANT sets: TP/FP/FN per main error type (errant_compare -cat 2) per
                                    (step, dataset); eval_results.md shows their F0.5 beside the main table
    eval_results.png                F0.5 against step per dataset, beside the training loss

Each set's dataset.json names its metric (scripts/prepare_eval_set.py writes it): "m2" (the M2 scorer on
words), "m2_char" (on characters: Chinese) or "errant" (ERRANT, span-based correction, as BEA-2019
is reported). A dataset.json without "metric" means m2, or m2_char where it says `"char_level": true`.
Only checkpoints with their completion marker are evaluated: a checkpoint still being written, or left
half-written by a killed run, is skipped with a message.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from errant_fast.cli import keep_pytorch_out
from ftkit.prediction_files import STATS_SUFFIX
from ftkit.run_files import MARKER, RUN_ARGS
from m2scorer import M2FormatError, score_files

TABLE = "eval_results.tsv"
TYPES_TABLE = "eval_results_types.tsv"
MARKDOWN = "eval_results.md"
PLOT = "eval_results.png"
CHECKPOINT = re.compile(r"checkpoint-(\d+)")
METRICS = ("m2", "m2_char", "errant")


class EvalError(ValueError):
    """Missing or inconsistent inputs; the message says what exists and what to do."""


@dataclass
class Row:
    step: int
    dataset: str
    metric: str
    sentences: int
    precision: float
    recall: float
    f05: float
    predict_seconds: float
    sentences_per_second: float
    settings: str
    # Outputs that ran to max_new_tokens without a stop token (runaway repetitions, or a limit too low);
    # None where the predictions have no summary (written before it existed, or not by finetune.py).
    at_limit: int | None = None


@dataclass
class TypeRow:
    step: int
    dataset: str
    type: str
    tp: int
    fp: int
    fn: int


def predictions_path(run_dir: Path, step: int, dataset: str) -> Path:
    return run_dir / f"checkpoint-{step}" / "predictions" / f"{dataset}.txt"


def checkpoint_steps(run_dir: Path) -> list[int]:
    if not run_dir.is_dir():
        return []
    steps = [int(m.group(1)) for p in run_dir.iterdir() if p.is_dir() and (m := CHECKPOINT.fullmatch(p.name))]
    return sorted(steps)


def resolve_steps(run_dir: Path, wanted: list[str]) -> list[int]:
    """Turn STEP arguments ("500", "all") into checkpoint steps that exist.

    Raises:
        EvalError: no run folder, no checkpoints, or a step without its checkpoint (the message lists
            the checkpoints there are).
    """
    if not run_dir.is_dir():
        parent = run_dir.parent
        runs = sorted(p.name for p in parent.iterdir() if checkpoint_steps(p)) if parent.is_dir() else []
        raise EvalError(
            f"no run folder {run_dir} (RESULT_DIR={run_dir.name}). "
            + (f"Runs in {run_dir.parent}: {' '.join(runs)}" if runs else f"{run_dir.parent} holds no runs.")
        )
    existing = checkpoint_steps(run_dir)
    if not existing:
        raise EvalError(f"no checkpoint-N folders in {run_dir}; train with SAVE_STEPS set (train.sh).")
    if not wanted:
        raise EvalError("give the steps to evaluate, e.g. 500, several, or all.")
    if wanted == ["all"]:
        steps = existing
    else:
        steps = []
        for item in wanted:
            if not item.isdigit():
                raise EvalError(f"step {item!r} is not a number; give steps like 500 1000, or all.")
            if int(item) not in existing:
                raise EvalError(
                    f"no checkpoint-{item} in {run_dir}. Checkpoints there: {' '.join(map(str, existing))}"
                )
            steps.append(int(item))
        steps = list(dict.fromkeys(steps))
    unsealed = [s for s in steps if not (run_dir / f"checkpoint-{s}" / MARKER).is_file()]
    for step in unsealed:
        print(
            f"skip: {run_dir / f'checkpoint-{step}'} has no {MARKER}: it is still being written "
            "or its run was killed while saving it",
            file=sys.stderr,
        )
    steps = [s for s in steps if s not in unsealed]
    if not steps:
        raise EvalError(
            f"no complete checkpoint to evaluate among checkpoint-{'/'.join(map(str, unsealed))}."
        )
    return steps


def available_datasets(data_root: Path) -> list[str]:
    eval_root = data_root / "eval"
    if not eval_root.is_dir():
        return []
    return sorted(
        p.name for p in eval_root.iterdir() if (p / "source.txt").is_file() and (p / "gold.m2").is_file()
    )


def resolve_datasets(data_root: Path, wanted: list[str]) -> list[str]:
    """Dataset names to evaluate: the ones given, or every set under DATA_ROOT/eval.

    Raises:
        EvalError: a name without its folder (the message lists the sets there and how to add one).
    """
    from ftkit.commands.prepare_eval_set import KNOWN_SETS

    existing = available_datasets(data_root)
    if not wanted:
        if not existing:
            raise EvalError(f"no evaluation sets (NAME/source.txt, NAME/gold.m2) under {data_root / 'eval'}.")
        return existing
    for name in wanted:
        if name not in existing:
            how = f"python scripts/prepare_eval_set.py {name} --m2 GOLD.m2"
            if name in KNOWN_SETS:
                how += f" (its usual file: {' or '.join(KNOWN_SETS[name].gold_names)})"
            raise EvalError(
                f"no dataset {name!r}: {data_root / 'eval' / name} lacks source.txt or gold.m2. "
                f"Sets under {data_root / 'eval'}: {' '.join(existing) or 'none'}. "
                f"Standard sets prepare_eval_set.py knows: {' '.join(KNOWN_SETS)}. Add one with: {how}"
            )
    return list(dict.fromkeys(wanted))


def run_template(run_dir: Path) -> str:
    """The prompt template recorded in the run's run_args.json, or "" when there is none."""
    try:
        return json.loads((run_dir / RUN_ARGS).read_text(encoding="utf-8")).get("prompt_template", "")
    except (OSError, ValueError):
        return ""


def count_lines(path: Path) -> int:
    """Lines as finetune.py reads them: a last line without a newline still counts."""
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def dataset_metric(data_dir: Path) -> str:
    """The metric dataset.json names (see the module docstring); m2 without a dataset.json.

    Raises:
        EvalError: dataset.json is not JSON or names another metric.
    """
    path = data_dir / "dataset.json"
    if not path.is_file():
        return "m2"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise EvalError(f"{path}: not valid JSON ({e}); rewrite it with scripts/prepare_eval_set.py.") from e
    metric = info.get("metric") or ("m2_char" if info.get("char_level") else "m2")
    if metric not in METRICS:
        raise EvalError(f"{path}: metric {metric!r} is not one of {', '.join(METRICS)}.")
    return metric


def read_table(run_dir: Path) -> list[Row]:
    path = run_dir / TABLE
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        types = {field.name: field.type for field in fields(Row)}
        convert = {"int": int, "float": float, "str": str, "int | None": lambda v: int(v) if v else None}
        # Tables written before the metric column held M2 scores only; before at_limit, no count of it.
        return [
            Row(**{k: convert[types[k]](v) for k, v in {"metric": "m2", "at_limit": "", **row}.items()})
            for row in reader
        ]


def read_types(run_dir: Path) -> list[TypeRow]:
    path = run_dir / TYPES_TABLE
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return [
            TypeRow(int(r["step"]), r["dataset"], r["type"], int(r["tp"]), int(r["fp"]), int(r["fn"]))
            for r in csv.DictReader(f, delimiter="\t")
        ]


def write_types(run_dir: Path, rows: list[TypeRow]) -> None:
    partial = run_dir / (TYPES_TABLE + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow([field.name for field in fields(TypeRow)])
        for row in sorted(rows, key=lambda r: (r.dataset, r.type, r.step)):
            writer.writerow(asdict(row).values())
    partial.replace(run_dir / TYPES_TABLE)


def markdown(rows: list[Row], types: list[TypeRow]) -> str:
    lines = [
        "| step | dataset | metric | sentences | P | R | F0.5 | predict s | sentences/s | at limit "
        "| settings |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        at_limit = "-" if r.at_limit is None else r.at_limit
        lines.append(
            f"| {r.step} | {r.dataset} | {r.metric} | {r.sentences} | {r.precision:.4f} | {r.recall:.4f} "
            f"| {r.f05:.4f} | {r.predict_seconds:.1f} | {r.sentences_per_second:.1f} | {at_limit} "
            f"| {r.settings} |"
        )
    return (
        "\n".join(lines)
        + "\n"
        + "\nat limit: outputs that ran to max_new_tokens without a stop token (-: not recorded)\n"
        + "".join(types_markdown(types, d) for d in sorted({t.dataset for t in types}))
    )


def types_markdown(types: list[TypeRow], dataset: str) -> str:
    """F0.5 per ERRANT main error type (errant_compare -cat 2) and step: which errors a model fixes."""
    from errant.commands.compare_m2 import computeFScore

    rows = [t for t in types if t.dataset == dataset]
    steps = sorted({t.step for t in rows})
    by_type: dict[str, dict[int, TypeRow]] = {}
    for t in rows:
        by_type.setdefault(t.type, {})[t.step] = t
    lines = [
        "",
        f"{dataset}: F0.5 per error type (ERRANT -cat 2; gold = TP + FN at the last step)",
        "",
        "| type | gold | " + " | ".join(f"step {s}" for s in steps) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in steps) + " |",
    ]
    for name, per_step in sorted(by_type.items()):
        last = per_step[max(per_step)]
        cells = [
            f"{computeFScore(t.tp, t.fp, t.fn, 0.5)[2]:.4f}" if (t := per_step.get(s)) else "" for s in steps
        ]
        lines.append(f"| {name} | {last.tp + last.fn} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(run_dir: Path, rows: list[Row]) -> None:
    rows = sorted(rows, key=lambda r: (r.step, r.dataset))
    partial = run_dir / (TABLE + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow([field.name for field in fields(Row)])
        for row in rows:
            values = asdict(row)
            values["precision"], values["recall"], values["f05"] = (
                f"{row.precision:.4f}",
                f"{row.recall:.4f}",
                f"{row.f05:.4f}",
            )
            values["predict_seconds"] = f"{row.predict_seconds:.2f}"
            values["sentences_per_second"] = f"{row.sentences_per_second:.2f}"
            values["at_limit"] = "" if row.at_limit is None else row.at_limit
            writer.writerow(values.values())
    partial.replace(run_dir / TABLE)
    # From the file, as `table` prints it: the unrounded rows would differ in a last digit now and then
    # (5.1499 s gives 5.1, but its stored 5.15 gives 5.2).
    (run_dir / MARKDOWN).write_text(markdown(read_table(run_dir), read_types(run_dir)), encoding="utf-8")


def is_done(run_dir: Path, step: int, dataset: str, settings: str) -> bool:
    """True when the table has this (step, dataset) with the same settings and its predictions exist."""
    if not predictions_path(run_dir, step, dataset).is_file():
        return False
    rows = read_table(run_dir)
    return any((r.step, r.dataset, r.settings) == (step, dataset, settings) for r in rows)


def prediction_stats(predictions: Path, sentences: int) -> dict | None:
    """The summary finetune.py wrote beside `predictions`, or None (with a note on stderr) when there is none
    or it describes another file (its sentence count differs)."""
    path = predictions.with_suffix(STATS_SUFFIX)
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        print(f"note: {path} is unreadable ({e}); the at-limit count is left out", file=sys.stderr)
        return None
    if not isinstance(stats, dict) or stats.get("sentences") != sentences:
        print(
            f"note: {path} is not the summary of {predictions}; the at-limit count is left out",
            file=sys.stderr,
        )
        return None
    return stats


def score(run_dir: Path, step: int, dataset: str, data_dir: Path, settings: str, seconds: float) -> Row:
    """Score one prediction file and put its row in the table (replacing an earlier one).

    Raises:
        EvalError: the predictions are missing or do not match the source line for line, dataset.json
            is invalid, or ERRANT cannot read the files (or finds no spaCy model).
        M2FormatError: the gold file is not valid M2.
    """
    predictions = predictions_path(run_dir, step, dataset)
    source = data_dir / "source.txt"
    if not predictions.is_file():
        raise EvalError(f"no predictions at {predictions}: the prediction run failed (see its output above).")
    produced, expected = count_lines(predictions), count_lines(source)
    if produced != expected:
        raise EvalError(
            f"{predictions} has {produced} lines but {source} has {expected}: every input needs one "
            "prediction line. Was the prediction run cut short? Rerun with FORCE=1."
        )
    metric = dataset_metric(data_dir)
    stats = prediction_stats(predictions, expected)
    # Scoring takes a while on a large set (or with runaway outputs): say what runs.
    print(
        f"scoring {expected} predictions of step {step} on {dataset} ({metric})", file=sys.stderr, flush=True
    )
    types = [t for t in read_types(run_dir) if (t.step, t.dataset) != (step, dataset)]
    if metric == "errant":
        import errant_fast  # here, not above: spaCy takes seconds to import, and only ERRANT sets need it

        # errant_compare -cat 2: the main error types (DET, VERB:TENSE, ...); the totals are -cat's too.
        try:
            result = errant_fast.score_files(predictions, data_dir / "gold.m2", cat=2)
        except (errant_fast.ErrantInputError, errant_fast.ModelNotFoundError) as e:
            raise EvalError(str(e)) from e
        types += [TypeRow(step, dataset, name, *counts) for name, counts in result.categories.items()]
    else:
        result = score_files(predictions, data_dir / "gold.m2", char_level=metric == "m2_char")
    row = Row(
        step=step,
        dataset=dataset,
        metric=metric,
        sentences=expected,
        precision=result.precision,
        recall=result.recall,
        f05=result.f,
        predict_seconds=seconds,
        sentences_per_second=expected / seconds if seconds > 0 else math.nan,
        settings=settings,
        at_limit=stats["at_length_limit"] if stats is not None else None,
    )
    rows = [r for r in read_table(run_dir) if (r.step, r.dataset) != (step, dataset)]
    if types or (run_dir / TYPES_TABLE).is_file():
        write_types(run_dir, types)
    write_table(run_dir, [*rows, row])
    return row


def training_log(run_dir: Path) -> list[dict]:
    """The Trainer's log history: the run folder's final trainer_state.json, else the latest checkpoint's."""
    candidates = [run_dir / "trainer_state.json"] + [
        run_dir / f"checkpoint-{s}" / "trainer_state.json" for s in reversed(checkpoint_steps(run_dir))
    ]
    for path in candidates:
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8")).get("log_history", [])
            except ValueError:
                continue
    return []


def plot(run_dir: Path, rows: list[Row]) -> Path:
    """Draw F0.5 against step for each dataset, and the training (and validation) loss beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (scores, losses) = plt.subplots(1, 2, figsize=(11, 4))
    for dataset in sorted({r.dataset for r in rows}):
        points = sorted((r.step, r.f05) for r in rows if r.dataset == dataset)
        scores.plot([s for s, _ in points], [f for _, f in points], marker="o", label=dataset)
    scores.set(title=f"F0.5: {run_dir.name}", xlabel="step", ylabel="F0.5")
    scores.grid(alpha=0.3)
    if rows:
        scores.legend()
    log = training_log(run_dir)
    for key, label in (("loss", "training loss"), ("eval_loss", "validation loss")):
        points = [(e["step"], e[key]) for e in log if key in e and "step" in e]
        if points:
            losses.plot([s for s, _ in points], [v for _, v in points], label=label)
    losses.set(title="loss (trainer_state.json)", xlabel="step", ylabel="loss")
    losses.grid(alpha=0.3)
    if log:
        losses.legend()
    else:
        losses.text(0.5, 0.5, "no trainer_state.json", ha="center", va="center", transform=losses.transAxes)
    fig.tight_layout()
    path = run_dir / PLOT
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("steps")
    p.add_argument("run_dir", type=Path)
    p.add_argument("steps", nargs="*")
    p = sub.add_parser("datasets")
    p.add_argument("data_root", type=Path)
    p.add_argument("names", nargs="*")
    p = sub.add_parser("template")
    p.add_argument("run_dir", type=Path)
    for name in ("done", "record"):
        p = sub.add_parser(name)
        p.add_argument("run_dir", type=Path)
        p.add_argument("--step", type=int, required=True)
        p.add_argument("--dataset", required=True)
        p.add_argument("--settings", default="")
    p.add_argument("--data_dir", type=Path, required=True)
    p.add_argument("--started", type=float, required=True, help="prediction start, seconds since the epoch")
    p.add_argument("--finished", type=float, required=True)
    p = sub.add_parser("table")
    p.add_argument("run_dir", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "steps":
            print(" ".join(map(str, resolve_steps(args.run_dir, args.steps))))
        elif args.command == "datasets":
            print(" ".join(resolve_datasets(args.data_root, args.names)))
        elif args.command == "template":
            print(run_template(args.run_dir))
        elif args.command == "done":
            return 0 if is_done(args.run_dir, args.step, args.dataset, args.settings) else 1
        elif args.command == "record":
            started = time.perf_counter()
            row = score(
                args.run_dir,
                args.step,
                args.dataset,
                args.data_dir,
                args.settings,
                args.finished - args.started,
            )
            scoring = time.perf_counter() - started
            plot(args.run_dir, read_table(args.run_dir))
            print(
                f"step {row.step} {row.dataset}: P {row.precision:.4f} R {row.recall:.4f} "
                f"F0.5 {row.f05:.4f}, {row.sentences} sentences in {row.predict_seconds:.1f} s "
                f"({row.sentences_per_second:.1f}/s)"
                + (f", {row.at_limit} at the length limit" if row.at_limit is not None else "")
                + f"; scored in {scoring:.1f} s"
            )
        elif args.command == "table":
            print(markdown(read_table(args.run_dir), read_types(args.run_dir)), end="")
            print(f"(table: {args.run_dir / TABLE}, plot: {args.run_dir / PLOT})")
    except (EvalError, M2FormatError, OSError) as e:
        print(f"eval_gec: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    keep_pytorch_out()  # neither this command nor its ERRANT scoring uses PyTorch
    sys.exit(main())
