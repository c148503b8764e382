"""Checkpoints in and out: sharded saving, conversion to shards, and loading that changes no result.

The unit tests run in this process; the last test launches finetune.py twice with two processes.
"""

import json

import pytest
import torch
from safetensors.torch import load_file

from conftest import REPO, SAMPLE, run_deepspeed
from ftkit.args import parse_args
from ftkit.commands.convert_checkpoint import convert, main
from ftkit.frameworks import CLM, FRAMEWORKS
from ftkit.loading import load_device_map
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.training import build_trainer


def shards(folder):
    return sorted(folder.glob("model-*-of-*.safetensors"))


def weights(folder):
    """Every tensor of a single-file or sharded safetensors checkpoint."""
    files = shards(folder) or [folder / "model.safetensors"]
    state = {}
    for path in files:
        state.update(load_file(path))
    return state


def assert_same(expected, actual):
    assert expected.keys() == actual.keys()
    different = [name for name in expected if not torch.equal(expected[name], actual[name])]
    assert not different, f"tensors that differ: {different}"


def load(path, framework="clm"):
    tokenizer = load_tokenizer(str(path))
    config = load_config(str(path))
    return load_model(str(path), FRAMEWORKS[framework], config, tokenizer, dtype=torch.float32)


def test_trainer_saves_shards_that_reload_to_identical_weights(tiny_model, tmp_path):
    original = load(tiny_model("llama"))
    argv = ["--model_name_or_path", str(tiny_model("llama")), "--output_dir", str(tmp_path / "run")]
    training_args = parse_args([*argv, "--use_cpu", "--save_shard_size", "100KB"])[2]
    trainer = build_trainer(original, load_tokenizer(str(tiny_model("llama"))), training_args, CLM)

    trainer.save_model(str(tmp_path / "saved"))

    index = json.loads((tmp_path / "saved" / "model.safetensors.index.json").read_text())
    assert len(shards(tmp_path / "saved")) > 1
    assert {p.name for p in shards(tmp_path / "saved")} == set(index["weight_map"].values())
    for shard in shards(tmp_path / "saved"):  # at most 100 KB, unless one tensor alone is bigger
        tensors = [name for name, file in index["weight_map"].items() if file == shard.name]
        assert shard.stat().st_size < 110_000 or len(tensors) == 1
    assert_same(original.state_dict(), load(tmp_path / "saved").state_dict())
    assert (tmp_path / "saved" / "tokenizer.json").is_file()


def test_default_shard_size_keeps_a_small_model_in_one_file(tiny_model, tmp_path):
    training_args = parse_args(["--model_name_or_path", "x", "--output_dir", str(tmp_path), "--use_cpu"])[2]
    assert training_args.save_shard_size == "5GB"
    model = load(tiny_model("llama"))
    build_trainer(model, load_tokenizer(str(tiny_model("llama"))), training_args, CLM).save_model()
    assert (tmp_path / "model.safetensors").is_file() and not shards(tmp_path)


@pytest.mark.parametrize("family", ["llama", "t5"])
@pytest.mark.parametrize("layout", ["safetensors", "bin"])
def test_conversion_round_trips(tiny_model, tmp_path, family, layout):
    """Single file -> shards -> single file gives back every tensor; the shards load as the original."""
    source = tiny_model(family)
    if layout == "bin":
        old = tmp_path / "old"
        old.mkdir()
        torch.save(load_file(source / "model.safetensors"), old / "pytorch_model.bin")
        (old / "config.json").write_text((source / "config.json").read_text())
        source = old
    framework = "seq2seq" if family == "t5" else "clm"

    assert main([str(source), str(tmp_path / "sharded"), "--max_shard_size", "100KB"]) == 0
    assert main([str(tmp_path / "sharded"), str(tmp_path / "single")]) == 0

    assert len(shards(tmp_path / "sharded")) > 1
    assert (tmp_path / "sharded" / "config.json").is_file()
    original = weights(tiny_model(family))
    # Tied copies (T5's shared embeddings) are written once; from_pretrained ties them back.
    assert_same(weights(tmp_path / "sharded"), weights(tmp_path / "single"))
    assert weights(tmp_path / "single").keys() <= original.keys()
    assert_same({k: original[k] for k in weights(tmp_path / "single")}, weights(tmp_path / "single"))
    reference = load(tiny_model(family), framework).state_dict()
    if layout == "safetensors":  # a .bin folder has no tokenizer; load the weights with the original's
        assert_same(reference, load(tmp_path / "sharded", framework).state_dict())


def test_conversion_casts_and_rejects_bad_sources(tiny_model, tmp_path, capsys):
    convert(tiny_model("gpt2"), tmp_path / "bf16", dtype="bfloat16")
    assert {t.dtype for t in weights(tmp_path / "bf16").values()} == {torch.bfloat16}

    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), str(tmp_path / "out")]) == 2
    assert "no model.safetensors or pytorch_model.bin" in capsys.readouterr().err
    assert main([str(tiny_model("gpt2")), str(tiny_model("gpt2"))]) == 2


def test_cpu_loads_into_host_memory_and_an_accelerator_loads_straight_onto_it():
    assert load_device_map(torch.device("cpu")) is None
    assert load_device_map(torch.device("cuda", 3)) == {"": torch.device("cuda", 3)}


def first_loss(output_dir):
    history = json.loads((output_dir / "trainer_state.json").read_text())["log_history"]
    return next(row["loss"] for row in history if row.get("step") == 1 and "loss" in row)


@pytest.mark.slow
def test_two_processes_zero3_shards_and_checkpoints(tiny_model, tmp_path):
    """ZeRO-3 over 2 processes, loading 100 KB shards (rank 0 reads, the other receives its partitions), has
    the first-step loss of ZeRO-2 over 2 processes loading the single file with plain from_pretrained;
    its checkpoint-1 and final model are sharded, and its DeepSpeed checkpoint converts to the same weights.
    """
    assert main([str(tiny_model("llama")), str(tmp_path / "sharded"), "--max_shard_size", "100KB"]) == 0

    def train(model, config, output_dir):
        return run_deepspeed(
            [
                "--deepspeed",
                str(REPO / "ds_configs" / config),
                "--model_name_or_path",
                str(model),
                "--train_file",
                str(SAMPLE / "train.jsonl"),
                "--max_train_samples",
                "32",
                "--output_dir",
                str(output_dir),
                "--do_train",
                "--max_steps",
                "1",
                "--per_device_train_batch_size",
                "8",
                "--logging_steps",
                "1",
                "--save_strategy",
                "steps",
                "--save_steps",
                "1",
                "--save_shard_size",
                "100KB",
            ],
            nproc=2,
        )

    result = train(tmp_path / "sharded", "zero3.json", tmp_path / "zero3")
    train(tiny_model("llama"), "zero2.json", tmp_path / "zero2")

    assert first_loss(tmp_path / "zero3") == pytest.approx(first_loss(tmp_path / "zero2"), abs=1e-5)
    assert "rank 1 loaded" in result.stdout  # every process logs its load time and memory
    checkpoint = tmp_path / "zero3" / "checkpoint-1"
    assert len(shards(checkpoint)) > 1 and len(shards(tmp_path / "zero3")) > 1
    assert_same(weights(checkpoint), weights(tmp_path / "zero3"))
    # The DeepSpeed checkpoint's fp32 master weights, consolidated, equal the saved (fp32) model.
    convert(checkpoint, tmp_path / "from_zero")
    assert_same(weights(tmp_path / "from_zero"), {k: v for k, v in weights(checkpoint).items()})
