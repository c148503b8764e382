"""Prediction files: one output line per input, written atomically, and the summary beside each."""

from __future__ import annotations

from pathlib import Path

# Beside a predictions file: how many sentences, how many ran to the length limit, with which settings.
# scripts/eval_results.py reads it into the results table (a test keeps its copy of the suffix equal).
STATS_SUFFIX = ".stats.json"


def prediction_stats_path(predictions_file: str | Path) -> Path:
    """`conll14.txt` -> `conll14.stats.json`: where predict() writes the summary of a predictions file."""
    return Path(predictions_file).with_suffix(STATS_SUFFIX)


def write_lines(path: str | Path, lines: list[str]) -> None:
    """Write one line per item, atomically: a reader never sees a half-written predictions file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    partial.replace(path)
