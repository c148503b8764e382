"""What preference stages log: throughput figures in every stage's training logs, at an interval scaled to
the run; GRPO's rewards even in a short run and no evaluation loss; TRL's deprecation noise left out."""

from __future__ import annotations

import json
import logging
import warnings

import pytest

import preference_tune
from conftest import REPO, SAMPLE
from ftkit.args import LOGGING_STEPS
from ftkit.cli import setup_logging

PAIRS = REPO / "data" / "preference_sample"


def stage_run(stage, model, out, *extra):
    train, valid = (SAMPLE / "train.jsonl", SAMPLE / "valid.jsonl")
    if stage != "grpo":
        train, valid = (PAIRS / "train.jsonl", PAIRS / "valid.jsonl")
    grpo = ["--num_generations", "4", "--max_completion_length", "8"] if stage == "grpo" else []
    return [
        "--stage", stage, "--model_name_or_path", str(model), "--train_file", str(train),
        "--validation_file", str(valid), "--output_dir", str(out), "--do_train", "--do_eval",
        "--max_steps", "3", "--max_train_samples", "16", "--max_eval_samples", "4",
        "--per_device_train_batch_size", "4", "--per_device_eval_batch_size", "4", "--save_strategy", "no",
        "--use_cpu", *grpo, *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("stage", ["rm", "dpo", "grpo"])
def test_every_stage_logs_throughput_at_an_interval_scaled_to_the_run(tiny_model, tmp_path, stage):
    out = tmp_path / stage
    assert preference_tune.main(stage_run(stage, tiny_model("llama"), out)) == 0

    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    logs = [row for row in history if "loss" in row]
    # Not TRL's every 10 steps, which logs nothing in a 3-step run: LOGGING_STEPS of 3 steps is every step.
    assert LOGGING_STEPS < 1 and [row["step"] for row in logs] == [1, 2, 3]
    for row in logs:
        assert row["tokens_per_second"] >= row["nonpad_tokens_per_second"] > 0
        assert row["samples_per_second"] > 0 and 0 <= row["padding_fraction"] < 1
        if stage == "grpo":
            assert "reward" in row
    final = json.loads((out / "train_results.json").read_text())
    assert final["train_tokens_per_second"] >= final["train_nonpad_tokens_per_second"] > 0
    evaluated = json.loads((out / "eval_results.json").read_text())
    if stage == "grpo":
        # Advantage-weighted: about 0 whatever the policy; the rewards are the measure.
        assert "eval_loss" not in evaluated and "eval_reward" in evaluated
        assert not any("eval_loss" in row for row in history)
    else:
        assert "eval_loss" in evaluated


def test_a_given_logging_interval_is_kept(tiny_model, tmp_path):
    out = tmp_path / "dpo"
    assert preference_tune.main(stage_run("dpo", tiny_model("llama"), out, "--logging_steps", "2")) == 0
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    assert [row["step"] for row in history if "loss" in row] == [2]


def test_grpo_best_model_by_its_loss_is_refused(tiny_model, tmp_path, capsys):
    argv = stage_run("grpo", tiny_model("llama"), tmp_path / "grpo", "--load_best_model_at_end", "true")
    argv += ["--eval_strategy", "steps", "--save_strategy", "steps", "--eval_steps", "1", "--save_steps", "1"]
    assert preference_tune.main(argv) == 2
    assert "--metric_for_best_model reward" in capsys.readouterr().err


def test_trls_use_of_a_deprecated_alias_is_not_shown():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        setup_logging("preference_tune", True, logging.WARNING)
        warnings.warn(
            "`is_gradient_checkpointing` is deprecated and will be removed in v6. Use "
            "`is_activation_checkpointing` instead.",
            FutureWarning,
            stacklevel=1,
        )
        warnings.warn("`other_thing` is deprecated", FutureWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["`other_thing` is deprecated"]
