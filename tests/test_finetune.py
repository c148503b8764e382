"""finetune.py in one process without DeepSpeed: bad input fails clearly, runs record what they did."""

import json
import logging
import os
from functools import partial

import pytest
import wandb

import finetune
from conftest import SAMPLE, assert_fails_cleanly

fails_cleanly = partial(assert_fails_cleanly, finetune.main)


def train_args(model, train_file, run_dir, *extra):
    return [
        "--model_name_or_path",
        str(model),
        "--train_file",
        str(train_file),
        "--output_dir",
        str(run_dir),
        "--do_train",
        "--max_steps",
        "2",
        "--use_cpu",
        *extra,
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"source": "a", "target": "b"}\n{"source": "a", "target": "b"\n', "train.jsonl:2: not valid JSON"),
        ('{"source": "a", "target": "b"}\n{"text": "a"}\n', 'train.jsonl:2: no string "source" field'),
        ("", "train.jsonl: no examples"),
    ],
)
def test_bad_training_file(tiny_model, tmp_path, run_dir, capsys, content, message):
    train_file = tmp_path / "train.jsonl"
    train_file.write_text(content)
    fails_cleanly(train_args(tiny_model("llama"), train_file, run_dir), run_dir, capsys, message)


def test_missing_model_path(tmp_path, run_dir, capsys):
    fails_cleanly(
        train_args(tmp_path / "no-such-model", SAMPLE / "train.jsonl", run_dir),
        run_dir,
        capsys,
        "no-such-model does not exist",
    )


def test_framework_contradicting_the_model(tiny_model, run_dir, capsys):
    fails_cleanly(
        train_args(tiny_model("t5"), SAMPLE / "train.jsonl", run_dir, "--framework", "clm"),
        run_dir,
        capsys,
        "--framework clm contradicts the model",
        "Pass --framework seq2seq",
    )


def test_fp16_with_t5_explains_the_overflow(tiny_model, run_dir, capsys):
    fails_cleanly(
        train_args(tiny_model("t5"), SAMPLE / "train.jsonl", run_dir, "--fp16"),
        run_dir,
        capsys,
        "overflow fp16",
        "Use --bf16",
    )


def test_run_records_arguments_and_reports_to_tensorboard_and_wandb(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    # No console capture: its stdout hook outlives wandb.teardown() and logs an error on every later print.
    monkeypatch.setenv("WANDB_CONSOLE", "off")
    run = tmp_path / "run"
    argv = train_args(
        tiny_model("gpt2"),
        SAMPLE / "train.jsonl",
        run,
        "--max_train_samples",
        "16",
        "--logging_steps",
        "1",
        "--report_to",
        "all",
        "--framework",
        "clm",
    )
    try:
        assert finetune.main(argv) == 0
    finally:
        wandb.teardown()  # else the run and its wandb-core service live as long as the test session

    recorded = json.loads((run / "run_args.json").read_text())
    assert recorded["framework"] == "clm"
    assert recorded["model_name_or_path"] == str(tiny_model("gpt2"))
    assert recorded["max_steps"] == 2 and recorded["prompt_template"] == "gec"
    events = [
        name for _, _, files in os.walk(run) for name in files if name.startswith("events.out.tfevents")
    ]
    assert events, "no tensorboard event file"
    assert list((tmp_path / "wandb").glob("offline-run-*")), "no offline wandb run"


def test_prediction_uses_the_template_the_model_was_trained_with(tiny_model, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="finetune")
    run = tmp_path / "run"
    train = train_args(tiny_model("llama"), SAMPLE / "train.jsonl", run, "--prompt_template", "flan")
    assert finetune.main([*train, "--max_train_samples", "8"]) == 0
    test_file = tmp_path / "test.txt"
    test_file.write_text("He go home .\n")
    predict = tmp_path / "predict"
    argv = [
        "--model_name_or_path",
        str(run),
        "--test_file",
        str(test_file),
        "--output_dir",
        str(predict),
        "--do_predict",
        "--generation_max_length",
        "4",
        "--use_cpu",
    ]
    assert finetune.main(argv) == 0
    assert "prompt template: flan" in caplog.text
    assert not (predict / "run_args.json").exists()  # only a run that trains writes one
    caplog.clear()
    assert finetune.main([*argv, "--prompt_template", "none"]) == 0
    assert "prompt template: none" in caplog.text
