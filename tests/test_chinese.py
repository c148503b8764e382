"""Chinese GEC end to end: a tiny Qwen2 trains on data/sample_zh under DeepSpeed, predicts the test set, and
the predictions are scored on characters, as data/eval/sample_zh/dataset.json asks."""

import json

import pytest

from conftest import REPO, run_deepspeed
from m2scorer import Result, score_files

pytestmark = pytest.mark.slow
SAMPLE_ZH = REPO / "data" / "sample_zh"
EVAL_ZH = REPO / "data" / "eval" / "sample_zh"


@pytest.fixture(scope="module")
def tiny_qwen2(tmp_path_factory):
    from make_tiny_model import make_tiny_model

    return make_tiny_model("qwen2", tmp_path_factory.mktemp("tiny-qwen2"), corpus=SAMPLE_ZH / "train.jsonl")


def test_tiny_qwen2_trains_predicts_and_scores_on_characters(tiny_qwen2, tmp_path):
    run_deepspeed(
        [
            "--deepspeed",
            str(REPO / "ds_configs" / "zero2.json"),
            "--model_name_or_path",
            str(tiny_qwen2),
            "--train_file",
            str(SAMPLE_ZH / "train.jsonl"),
            "--output_dir",
            str(tmp_path),
            "--do_train",
            "--max_steps",
            "12",
            "--per_device_train_batch_size",
            "16",
            "--learning_rate",
            "3e-3",
            "--logging_steps",
            "1",
            "--save_strategy",
            "no",
            "--do_predict",
            "--test_file",
            str(EVAL_ZH / "source.txt"),
            "--per_device_eval_batch_size",
            "100",
            "--generation_max_length",
            "24",
        ]
    )
    history = json.loads((tmp_path / "trainer_state.json").read_text())["log_history"]
    losses = [row["loss"] for row in history if "loss" in row]
    assert len(losses) == 12
    # Random init: about ln(vocab size) = 6.9; twelve steps take it below 6.2.
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.5, losses

    predictions = tmp_path / "generated_predictions.txt"
    lines = predictions.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(EVAL_ZH.joinpath("source.txt").read_text(encoding="utf-8").splitlines())
    assert json.loads(EVAL_ZH.joinpath("dataset.json").read_text(encoding="utf-8"))["char_level"]
    # A dozen steps teach little: the figures are not checked, only that character scoring runs.
    result = score_files(predictions, EVAL_ZH / "gold.m2", char_level=True)
    assert isinstance(result, Result) and 0.0 <= result.f <= 1.0
