"""Training under DeepSpeed on CPU: losses fall, every parameter moves, checkpoints resume exactly.

Each test launches finetune.py with the deepspeed launcher, as train.sh does.
"""

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from test_generation import chaotic_model, one_at_a_time  # noqa: F401 (a fixture)

from conftest import EVAL_SAMPLE, REPO, SAMPLE, run_deepspeed
from ftkit.data import PaddingCollator, encode_dataset, load_dataset_file
from ftkit.frameworks import FRAMEWORKS
from ftkit.generation import decode
from ftkit.modeling import load_config, load_model, load_tokenizer

pytestmark = pytest.mark.slow
FRAMEWORK = {"t5": "seq2seq", "gpt2": "clm", "bloom": "clm", "llama": "clm"}


def fixed_batch_loss(path, framework):
    """Loss of the model in `path` on the first 16 training examples (which every run trains on)."""
    tokenizer = load_tokenizer(str(path))
    model = load_model(
        str(path), FRAMEWORKS[framework], load_config(str(path)), tokenizer, dtype=torch.float32
    ).eval()
    dataset = encode_dataset(
        load_dataset_file(SAMPLE / "train.jsonl", True, 16), FRAMEWORKS[framework], tokenizer, "gec", 256, 256
    )
    batch = PaddingCollator(tokenizer)([dict(row) for row in dataset])
    with torch.no_grad():
        return model(**batch).loss.item()


def weights(path):
    return load_file(path / "model.safetensors")


def train(tiny_path, output_dir, config, nproc=1, extra=()):
    return run_deepspeed(
        [
            "--deepspeed",
            str(REPO / "ds_configs" / config),
            "--model_name_or_path",
            str(tiny_path),
            "--train_file",
            str(SAMPLE / "train.jsonl"),
            "--max_train_samples",
            "64",
            "--output_dir",
            str(output_dir),
            "--do_train",
            "--max_steps",
            "8",
            "--per_device_train_batch_size",
            "8",
            "--learning_rate",
            "2e-3",
            "--logging_steps",
            "1",
            "--save_strategy",
            "no",
            *extra,
        ],
        nproc=nproc,
    )


def assert_learned(tiny_path, output_dir, framework):
    before, after = weights(tiny_path), weights(output_dir)
    # DeepSpeed's gathered state dict also names tied weights (lm_head = embeddings) separately.
    assert before.keys() <= after.keys()
    unchanged = [name for name in before if torch.equal(before[name], after[name])]
    assert not unchanged, f"parameters that did not change: {unchanged}"
    assert fixed_batch_loss(output_dir, framework) < fixed_batch_loss(tiny_path, framework) - 0.1


@pytest.mark.parametrize("family", ["t5", "gpt2", "bloom", "llama"])
def test_zero2_lowers_loss_and_changes_every_parameter(tiny_model, tmp_path, family):
    train(tiny_model(family), tmp_path, "zero2.json")
    assert_learned(tiny_model(family), tmp_path, FRAMEWORK[family])
    state = json.loads((tmp_path / "trainer_state.json").read_text())
    assert state["global_step"] == 8


# ZeRO-Offload (one process) is tested in test_offload.py.
def test_zero3_one_process(tiny_model, tmp_path):
    train(tiny_model("llama"), tmp_path, "zero3.json")
    assert_learned(tiny_model("llama"), tmp_path, "clm")


def test_zero2_two_processes(tiny_model, tmp_path):
    result = train(tiny_model("llama"), tmp_path, "zero2.json", nproc=2)
    assert "global batch = 8 x 1 x 2 = 16" in result.stdout
    assert_learned(tiny_model("llama"), tmp_path, "clm")


@pytest.mark.parametrize("family", ["t5", "llama"])
def test_zero3_two_processes_trains_and_predicts_in_order(chaotic_model, tmp_path, family):  # noqa: F811
    """From a model whose outputs differ by input (a fresh tiny model says one thing to every input)."""
    start, framework = chaotic_model(family)
    sources = EVAL_SAMPLE.joinpath("source.txt").read_text(encoding="utf-8").splitlines()[:11]
    test_file = tmp_path / "test.txt"
    test_file.write_text("".join(s + "\n" for s in sources), encoding="utf-8")
    result = train(
        start,
        tmp_path,
        "zero3.json",
        nproc=2,
        extra=[
            "--do_predict",
            "--test_file",
            str(test_file),
            "--per_device_eval_batch_size",
            "4",
            "--generation_max_length",
            "12",
        ],
    )
    assert "global batch = 8 x 1 x 2 = 16" in result.stdout
    assert_learned(Path(start), tmp_path, framework.name)
    # 11 inputs over 2 processes x 4 per batch, sorted by length: the last batch is padded with repeats,
    # which must go, and every line must be its own input's prediction.
    tokenizer = load_tokenizer(str(tmp_path))
    model = load_model(str(tmp_path), framework, load_config(str(tmp_path)), tokenizer).eval()
    expected = decode(
        tokenizer, [ids.tolist() for ids in one_at_a_time(model, tokenizer, framework, sources)]
    )
    predictions = (tmp_path / "generated_predictions.txt").read_text(encoding="utf-8").splitlines()
    assert predictions == expected
    assert len(set(expected)) >= len(sources) - 1, "equal outputs would not show a mix-up"


def test_resume_continues_from_the_saved_step_with_the_same_losses(tiny_model, tmp_path):
    extra = ["--save_strategy", "steps", "--save_steps", "4"]
    train(tiny_model("llama"), tmp_path / "full", "zero2.json", extra=extra)
    full = json.loads((tmp_path / "full" / "trainer_state.json").read_text())["log_history"]

    # A run killed after step 4 leaves what the full run left at step 4.
    interrupted = tmp_path / "interrupted"
    shutil.copytree(tmp_path / "full" / "checkpoint-4", interrupted / "checkpoint-4")
    train(
        tiny_model("llama"),
        interrupted,
        "zero2.json",
        extra=extra + ["--resume_from_checkpoint", str(interrupted / "checkpoint-4")],
    )
    resumed = json.loads((interrupted / "trainer_state.json").read_text())["log_history"]

    losses = {row["step"]: row["loss"] for row in full if "loss" in row}
    resumed_losses = {row["step"]: row["loss"] for row in resumed if "loss" in row}
    assert sorted(resumed_losses) == list(range(1, 9))
    assert resumed_losses == pytest.approx(losses, abs=1e-6)
