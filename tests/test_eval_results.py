"""scripts/eval_results.py: the "at limit" column, read from the summary finetune.py writes beside its
predictions (outputs that ran to max_new_tokens without a stop token)."""

import json
import re
import shutil

from eval_results import main as eval_results_main
from eval_results import read_table

from conftest import EVAL_SAMPLE
from ftkit.prediction_files import STATS_SUFFIX

SOURCES = EVAL_SAMPLE.joinpath("source.txt").read_text(encoding="utf-8").splitlines()


def record(tmp_path, step, stats=None):
    """Record step `step` of run tmp_path/run on a copy of the sample set (predictions: the sources)."""
    data_dir = tmp_path / "data" / "sample"
    if not data_dir.is_dir():
        shutil.copytree(EVAL_SAMPLE, data_dir)
    predictions = tmp_path / "run" / f"checkpoint-{step}" / "predictions" / "sample.txt"
    predictions.parent.mkdir(parents=True)
    predictions.write_text("".join(s + "\n" for s in SOURCES), encoding="utf-8")
    if stats is not None:
        predictions.with_suffix(STATS_SUFFIX).write_text(json.dumps(stats), encoding="utf-8")
    argv = ["record", str(tmp_path / "run"), "--step", str(step), "--dataset", "sample",
            "--data_dir", str(data_dir), "--started", "0", "--finished", "2"]  # fmt: skip
    return eval_results_main(argv)


def test_outputs_at_the_length_limit_reach_the_table(tmp_path, capsys):
    summary = {"sentences": len(SOURCES), "at_length_limit": 3, "max_new_tokens": 256, "num_beams": 4}
    assert record(tmp_path, 1, summary) == 0
    out, err = capsys.readouterr()
    assert re.search(r", 3 at the length limit; scored in [\d.]+ s", out)
    assert f"scoring {len(SOURCES)} predictions of step 1 on sample (m2)" in err  # said before it runs
    assert record(tmp_path, 2) == 0  # no summary: not recorded, not 0
    assert record(tmp_path, 3, {**summary, "sentences": 5}) == 0  # another file's summary
    assert "is not the summary of" in capsys.readouterr().err

    assert [row.at_limit for row in read_table(tmp_path / "run")] == [3, None, None]
    table = (tmp_path / "run" / "eval_results.md").read_text(encoding="utf-8")
    assert "| sentences/s | at limit | settings |" in table
    rows = [line for line in table.splitlines() if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert [row.split(" | ")[-2] for row in rows] == ["3", "-"]
    assert "at limit: outputs that ran to max_new_tokens without a stop token" in table


def test_a_table_written_before_the_column_still_reads(tmp_path):
    (tmp_path / "eval_results.tsv").write_text(
        "step\tdataset\tmetric\tsentences\tprecision\trecall\tf05\tpredict_seconds\tsentences_per_second\t"
        "settings\n5\tsample\tm2\t200\t0.5\t0.5\t0.5\t2.0\t100.0\tbeams=default\n",
        encoding="utf-8",
    )
    (row,) = read_table(tmp_path)
    assert (row.step, row.at_limit, row.settings) == (5, None, "beams=default")
