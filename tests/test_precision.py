"""Without --bf16/--fp16 every run trains fp32 master weights, whatever the checkpoint's dtype and ZeRO stage.

A bf16 checkpoint trained in bf16 loses every update smaller than its weights' rounding step (about 1e-4
for a weight of 0.02): with a learning rate of 1e-5 its weights would not move at all.
"""

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

import finetune
from conftest import REPO, SAMPLE, run_deepspeed


@pytest.fixture(scope="module")
def bf16_model(tiny_model, tmp_path_factory):
    """The tiny llama saved in bf16, as real checkpoints are."""
    folder = tmp_path_factory.mktemp("tiny-llama-bf16")
    AutoModelForCausalLM.from_pretrained(tiny_model("llama"), dtype=torch.bfloat16).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_model("llama")).save_pretrained(folder)
    return folder


def train_args(model, output_dir, *extra):
    return [
        "--model_name_or_path", str(model), "--train_file", str(SAMPLE / "train.jsonl"),
        "--max_train_samples", "16", "--per_device_train_batch_size", "8", "--max_steps", "2",
        "--learning_rate", "1e-5", "--warmup_steps", "0", "--output_dir", str(output_dir), "--do_train",
        "--save_strategy", "no", *extra,
    ]  # fmt: skip


def assert_trained_in_fp32(checkpoint, output_dir):
    before, after = load_file(checkpoint / "model.safetensors"), load_file(output_dir / "model.safetensors")
    assert {tensor.dtype for tensor in after.values()} == {torch.float32}
    unchanged = [name for name in before if torch.equal(before[name].float(), after[name])]
    assert not unchanged, f"updates lost to bf16 rounding: {unchanged}"


def test_plain_trainer_trains_a_bf16_checkpoint_in_fp32(bf16_model, tmp_path, caplog):
    caplog.set_level("INFO", logger="ftkit")
    assert finetune.main(train_args(bf16_model, tmp_path, "--use_cpu")) == 0
    assert "precision: parameters, master weights and compute in torch.float32" in caplog.text
    assert "weights loaded in torch.float32" in caplog.text
    assert_trained_in_fp32(bf16_model, tmp_path)


@pytest.mark.slow
def test_zero2_trains_a_bf16_checkpoint_in_fp32(bf16_model, tmp_path):
    result = run_deepspeed(
        train_args(bf16_model, tmp_path, "--deepspeed", str(REPO / "ds_configs" / "zero2.json"))
    )
    assert "precision: parameters, master weights and compute in torch.float32" in result.stdout
    assert_trained_in_fp32(bf16_model, tmp_path)
