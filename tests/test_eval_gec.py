"""eval_gec.sh end to end on a tiny run and the bundled sample set: predictions, results table, plot, skipping
work already done; its errors; and the scoring helper (scripts/eval_results.py)."""

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest
from eval_results import EvalError, Row, dataset_metric, write_table
from eval_results import main as eval_results_main

from conftest import EVAL_SAMPLE, REPO, run_command
from ftkit.checkpointing import seal
from ftkit.run_files import MARKER

SAMPLE_SIZE = len(EVAL_SAMPLE.joinpath("source.txt").read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module")
def run_dir(tiny_model, tmp_path_factory):
    """A run folder as train.sh leaves it: checkpoint-2 and checkpoint-4 (a tiny LLaMA) and the Trainer's
    log history."""
    run = tmp_path_factory.mktemp("outputs") / "tiny-run"
    for step in (2, 4):
        shutil.copytree(tiny_model("llama"), run / f"checkpoint-{step}")
        seal(run / f"checkpoint-{step}", step)
    log = [{"step": s, "loss": 5.0 / s} for s in (1, 2, 3, 4)] + [{"step": 4, "eval_loss": 1.5}]
    (run / "trainer_state.json").write_text(json.dumps({"log_history": log}))
    (run / "run_args.json").write_text(json.dumps({"prompt_template": "gec"}))
    return run


def eval_gec(*steps, **variables):
    """Source eval_gec.sh in a fresh bash, call standard_eval_datasets, then show the shell survived."""
    script = f'source "{REPO}/eval_gec.sh"; standard_eval_datasets {" ".join(steps)}; echo "shell rc=$?"'
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **variables}
    result = run_command(["bash", "-c", script], 600, env=env)
    assert "shell rc=" in result.stdout, result.stderr  # an error ends the function, never the user's shell
    return result


def test_standard_eval_datasets_end_to_end(run_dir):
    variables = dict(
        OUTPUT_ROOT=str(run_dir.parent), RESULT_DIR=run_dir.name, DATASETS="sample", BATCH="64",
        MAX_NEW_TOKENS="6",
    )  # fmt: skip
    first = eval_gec("all", **variables)
    assert "shell rc=0" in first.stdout, first.stdout[-3000:] + first.stderr[-3000:]

    for step in (2, 4):
        predictions = run_dir / f"checkpoint-{step}" / "predictions" / "sample.txt"
        assert len(predictions.read_text(encoding="utf-8").splitlines()) == SAMPLE_SIZE
    with (run_dir / "eval_results.tsv").open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert [(r["step"], r["dataset"], r["sentences"]) for r in rows] == [
        ("2", "sample", str(SAMPLE_SIZE)),
        ("4", "sample", str(SAMPLE_SIZE)),
    ]
    for row in rows:
        assert 0 <= float(row["f05"]) <= 1 and float(row["predict_seconds"]) > 0
        assert float(row["sentences_per_second"]) > 0
        assert "max_new_tokens=6" in row["settings"] and "template=gec" in row["settings"]
    table = (run_dir / "eval_results.md").read_text()
    assert table.startswith(
        "| step | dataset | metric | sentences | P | R | F0.5 | predict s | sentences/s |"
    )
    assert table in first.stdout  # printed at the end
    assert (run_dir / "eval_results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # A rerun skips what is done.
    tsv = (run_dir / "eval_results.tsv").read_text()
    again = eval_gec("2", "4", **variables)
    assert "shell rc=0" in again.stdout
    assert again.stdout.count("skip: step") == 2 and "== step" not in again.stdout
    assert (run_dir / "eval_results.tsv").read_text() == tsv

    # Other settings are not "done"; FORCE=1 redoes it anyway, replacing its row.
    done = ["done", str(run_dir), "--step", "4", "--dataset", "sample", "--settings"]
    assert eval_results_main([*done, rows[1]["settings"]]) == 0
    assert eval_results_main([*done, rows[1]["settings"].replace("=6", "=3")]) == 1
    forced = eval_gec("4", **variables, FORCE="1")
    assert "== step 4, sample" in forced.stdout and "shell rc=0" in forced.stdout
    with (run_dir / "eval_results.tsv").open() as f:
        assert len(list(csv.DictReader(f, delimiter="\t"))) == 2


def test_dry_run_prints_the_commands(run_dir):
    result = eval_gec(
        "4", OUTPUT_ROOT=str(run_dir.parent), RESULT_DIR=run_dir.name, DATASETS="sample", BEAM="4",
        BATCH="128", MORE_PARA="--bf16 --max_source_length 128", FRAMEWORK="clm", DRY_RUN="1",
        CUDA_VISIBLE_DEVICES="",
    )  # fmt: skip
    assert "shell rc=0" in result.stdout, result.stderr
    command = result.stdout.splitlines()[0]
    assert command.startswith("python ") and "/finetune.py --do_predict" in command
    for part in ("--generation_num_beams 4", "--per_device_eval_batch_size 128", "--use_cpu", "--bf16",
                 "--max_source_length 128", "--framework clm", "--prompt_template gec",
                 f"--predictions_file {run_dir}/checkpoint-4/predictions/sample.txt"):  # fmt: skip
        assert part in command
    # Several processes: the deepspeed launcher.
    result = eval_gec(
        "4", OUTPUT_ROOT=str(run_dir.parent), RESULT_DIR=run_dir.name, DATASETS="sample", NUM_GPUS="2",
        DS_CONFIG="ds_configs/zero3.json", DRY_RUN="1", MASTER_PORT="29555",
    )  # fmt: skip
    command = result.stdout.splitlines()[0]
    assert command.startswith("deepspeed --num_gpus 2 --master_port 29555 ")
    assert "--deepspeed ds_configs/zero3.json" in command


def test_result_dir_may_be_a_path_from_the_current_folder(run_dir):
    relative = f"./{run_dir.parent.name}/{run_dir.name}"
    script = f'source "{REPO}/eval_gec.sh"; RESULT_DIR={relative} standard_eval_datasets 4'
    env = {**os.environ, "DRY_RUN": "1", "DATASETS": "sample", "CUDA_VISIBLE_DEVICES": ""}
    result = run_command(["bash", "-c", script], 120, cwd=run_dir.parent.parent, env=env)
    assert result.returncode == 0, result.stderr
    assert f"--predictions_file {relative}/checkpoint-4/predictions/sample.txt" in result.stdout


@pytest.mark.parametrize(
    "steps, variables, message",
    [
        (["700"], {}, "no checkpoint-700 in"),
        (["4"], {"DATASETS": "conll14"}, "python scripts/prepare_eval_set.py conll14 --m2"),
        (["4"], {"RESULT_DIR": "no-such-run"}, "Runs in"),
        (["4"], {"RESULT_DIR": ""}, "set RESULT_DIR"),
        ([], {}, "usage: standard_eval_datasets STEP..."),
    ],
)
def test_errors_list_what_exists(run_dir, steps, variables, message):
    variables = {"OUTPUT_ROOT": str(run_dir.parent), "RESULT_DIR": run_dir.name, **variables}
    result = eval_gec(*steps, **variables)
    assert "shell rc=2" in result.stdout
    assert message in result.stderr
    if steps == ["700"]:
        assert "Checkpoints there: 2 4" in result.stderr
    if variables.get("DATASETS") == "conll14":
        assert "Sets under" in result.stderr and "sample" in result.stderr
        assert "conll14 bea19dev nlpcc18" in result.stderr


def test_prediction_count_must_match_the_source(tmp_path, capsys):
    data_dir = tmp_path / "data" / "eval" / "sample"
    shutil.copytree(EVAL_SAMPLE, data_dir)
    predictions = tmp_path / "run" / "checkpoint-1" / "predictions" / "sample.txt"
    predictions.parent.mkdir(parents=True)
    predictions.write_text("only one line\n")
    argv = ["record", str(tmp_path / "run"), "--step", "1", "--dataset", "sample",
            "--data_dir", str(data_dir), "--started", "0", "--finished", "1"]  # fmt: skip
    assert eval_results_main(argv) == 2
    assert f"has 1 lines but {data_dir / 'source.txt'} has {SAMPLE_SIZE}" in capsys.readouterr().err
    assert not (tmp_path / "run" / "eval_results.tsv").exists()


def test_char_level_sets_are_scored_on_characters(tmp_path, capsys):
    data_dir = tmp_path / "zh"
    data_dir.mkdir()
    # Segmented gold; the system output is unsegmented and fixes the one error (的 -> 得).
    (data_dir / "gold.m2").write_text("S 他 跑 的 很 快 。\nA 2 3|||S|||得|||REQUIRED|||-NONE-|||0\n\n")
    (data_dir / "source.txt").write_text("他跑的很快。\n")
    predictions = tmp_path / "run" / "checkpoint-1" / "predictions" / "zh.txt"
    predictions.parent.mkdir(parents=True)
    predictions.write_text("他跑得很快。\n")
    argv = ["record", str(tmp_path / "run"), "--step", "1", "--dataset", "zh", "--data_dir", str(data_dir),
            "--started", "0", "--finished", "2"]  # fmt: skip
    (data_dir / "dataset.json").write_text(json.dumps({"char_level": True}))
    assert eval_results_main(argv) == 0
    assert "P 1.0000 R 1.0000 F0.5 1.0000" in capsys.readouterr().out
    (data_dir / "dataset.json").write_text(json.dumps({"char_level": False}))
    assert eval_results_main(argv) == 0  # word level: one unsegmented "word" differs entirely
    assert "F0.5 1.0000" not in capsys.readouterr().out


def test_the_markdown_file_is_the_table_that_is_printed(tmp_path, capsys):
    """Both read the stored TSV: a time on a rounding edge (5.1499 s, stored as 5.15) reads alike in both."""
    row = Row(2, "sample", "m2", 200, 0.5, 0.5, 0.5, 5.1499, 38.8357, "beams=default")
    write_table(tmp_path, [row])
    assert eval_results_main(["table", str(tmp_path)]) == 0
    markdown_file = (tmp_path / "eval_results.md").read_text(encoding="utf-8")
    assert "| 5.2 | 38.8 |" in markdown_file
    assert markdown_file in capsys.readouterr().out


def test_unsealed_checkpoints_are_skipped(tmp_path, capsys):
    run = tmp_path / "run"
    for step in (2, 4, 6):
        (run / f"checkpoint-{step}").mkdir(parents=True)
        (run / f"checkpoint-{step}" / "model.safetensors").write_bytes(b"weights")
    for step in (2, 6):
        seal(run / f"checkpoint-{step}", step)  # checkpoint-4: still being written, or its run was killed
    assert eval_results_main(["steps", str(run), "all"]) == 0
    out = capsys.readouterr()
    assert out.out.split() == ["2", "6"]
    assert f"skip: {run / 'checkpoint-4'} has no {MARKER}" in out.err
    assert eval_results_main(["steps", str(run), "4", "6"]) == 0
    assert capsys.readouterr().out.split() == ["6"]
    assert eval_results_main(["steps", str(run), "4"]) == 2
    assert "no complete checkpoint to evaluate among checkpoint-4" in capsys.readouterr().err


def test_dataset_metric_reads_old_and_new_dataset_json(tmp_path):
    assert dataset_metric(tmp_path) == "m2"  # no dataset.json
    for info, metric in [({"char_level": True}, "m2_char"), ({"char_level": False}, "m2"),
                         ({"metric": "errant", "char_level": False}, "errant")]:  # fmt: skip
        (tmp_path / "dataset.json").write_text(json.dumps(info))
        assert dataset_metric(tmp_path) == metric
    (tmp_path / "dataset.json").write_text(json.dumps({"metric": "gleu"}))
    with pytest.raises(EvalError, match="metric 'gleu' is not one of m2, m2_char, errant"):
        dataset_metric(tmp_path)


def test_errant_sets_get_errant_rows_and_a_per_type_table(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data_dir = tmp_path / "en"
    data_dir.mkdir()
    (data_dir / "gold.m2").write_text(
        "S He go to school .\nA 1 2|||R:VERB:SVA|||goes|||REQUIRED|||-NONE-|||0\n\n"
        "S I like the cats .\nA 2 3|||U:DET||||||REQUIRED|||-NONE-|||0\n\n"
    )
    (data_dir / "source.txt").write_text("He go to school .\nI like the cats .\n")
    (data_dir / "dataset.json").write_text(json.dumps({"metric": "errant", "char_level": False}))
    run = tmp_path / "run"
    for step, output in (
        (1, "He goes to school .\nI like the cats .\n"),
        (2, "He goes to school .\nI like cats .\n"),
    ):
        predictions = run / f"checkpoint-{step}" / "predictions" / "en.txt"
        predictions.parent.mkdir(parents=True)
        predictions.write_text(output)
        argv = ["record", str(run), "--step", str(step), "--dataset", "en", "--data_dir", str(data_dir),
                "--started", "0", "--finished", "1"]  # fmt: skip
        if step == 1:
            assert eval_results_main(argv) == 0
        else:  # as eval_gec.sh runs it: a command that keeps PyTorch out of ERRANT's spaCy
            done = subprocess.run([sys.executable, str(REPO / "scripts" / "eval_results.py"), *argv],
                                  capture_output=True, text=True)  # fmt: skip
            assert done.returncode == 0, done.stderr
    assert "P 1.0000 R 1.0000 F0.5 1.0000" in done.stdout  # step 2 makes both gold edits
    with (run / "eval_results.tsv").open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert [(r["step"], r["metric"], r["precision"], r["recall"]) for r in rows] == [
        ("1", "errant", "1.0000", "0.5000"), ("2", "errant", "1.0000", "1.0000"),
    ]  # fmt: skip
    with (run / "eval_results_types.tsv").open() as f:
        types = {
            (r["step"], r["type"]): (r["tp"], r["fp"], r["fn"]) for r in csv.DictReader(f, delimiter="\t")
        }
    assert types == {("1", "VERB:SVA"): ("1", "0", "0"), ("1", "DET"): ("0", "0", "1"),
                     ("2", "VERB:SVA"): ("1", "0", "0"), ("2", "DET"): ("1", "0", "0")}  # fmt: skip
    markdown = (run / "eval_results.md").read_text()
    assert "| 1 | en | errant | 2 | 1.0000 | 0.5000 |" in markdown
    assert "| type | gold | step 1 | step 2 |" in markdown
    assert "| DET | 1 | 0.0000 | 1.0000 |" in markdown and "| VERB:SVA | 1 | 1.0000 | 1.0000 |" in markdown
