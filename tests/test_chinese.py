"""Chinese GEC: outputs of the test set scored on characters, as data/eval/sample_zh/dataset.json asks; end to
end, a tiny Qwen2 trains on data/sample_zh under DeepSpeed and predicts the test set."""

import json

import pytest

from conftest import REPO, run_deepspeed
from m2scorer import Result, score_files

SAMPLE_ZH = REPO / "data" / "sample_zh"
EVAL_ZH = REPO / "data" / "eval" / "sample_zh"
GOLD_EDITS = 144  # data/eval/sample_zh/README.md; one annotator


def lines(name):
    return EVAL_ZH.joinpath(name).read_text(encoding="utf-8").splitlines()


def score_chars(outputs, tmp_path):
    system = tmp_path / "system.txt"
    system.write_text("".join(line + "\n" for line in outputs), encoding="utf-8")
    return score_files(system, EVAL_ZH / "gold.m2", char_level=True)


def test_known_unsegmented_outputs_score_their_figures_on_characters(tmp_path):
    sources, targets = lines("source.txt"), lines("target.txt")
    assert json.loads(EVAL_ZH.joinpath("dataset.json").read_text(encoding="utf-8"))["char_level"]
    # The references make every gold edit (the gold's words are segmented, the outputs not).
    assert score_chars(targets, tmp_path) == Result(GOLD_EDITS, GOLD_EDITS, GOLD_EDITS, 1.0, 1.0, 1.0)
    assert score_chars(sources, tmp_path) == Result(0, 0, GOLD_EDITS, 1.0, 0.0, 0.0)
    # Sentence 2's gold edit (的 -> 地) and a wrong one in sentence 1 (得 -> 的), the rest unchanged:
    # P = 1/2, R = 1/144, F0.5 = 1.25 P R / (0.25 P + R) = 0.625 / 19.
    assert (sources[0], sources[1]) == ("你们的老师睡得很好。", "他们周末高兴的听音乐。")
    mixed = score_chars(["你们的老师睡的很好。", "他们周末高兴地听音乐。", *sources[2:]], tmp_path)
    assert (mixed.correct, mixed.proposed, mixed.gold, mixed.precision) == (1, 2, GOLD_EDITS, 0.5)
    assert mixed.recall == pytest.approx(1 / 144) and mixed.f == pytest.approx(0.625 / 19)


@pytest.fixture(scope="module")
def tiny_qwen2(tmp_path_factory):
    from make_tiny_model import make_tiny_model

    return make_tiny_model("qwen2", tmp_path_factory.mktemp("tiny-qwen2"), corpus=SAMPLE_ZH / "train.jsonl")


@pytest.mark.slow
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
    assert len(predictions.read_text(encoding="utf-8").splitlines()) == len(lines("source.txt"))
    # A dozen steps teach little: what the output scores is not checked, only that it scores against the gold.
    assert score_files(predictions, EVAL_ZH / "gold.m2", char_level=True).gold == GOLD_EDITS
