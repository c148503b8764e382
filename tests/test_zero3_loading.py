"""ZeRO-3 loading by scatter (ftkit.loading.load_zero3_model): several processes load a checkpoint, gather
every weight back and compare it with the file, bit for bit.

This file is also the two processes' program: run by the deepspeed launcher, it loads the model as
finetune.py does and writes the gathered weights (or the loading error) for the test to compare.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import REPO, run_deepspeed


def convert(*argv: str) -> int:
    """scripts/convert_checkpoint.py; imported here, since only pytest puts scripts/ on the path."""
    from convert_checkpoint import main

    return main(list(argv))


def checkpoint_weights(folder: Path) -> dict[str, torch.Tensor]:
    state = {}
    for path in sorted(folder.glob("*.safetensors")):
        state.update(load_file(path))
    return state


def load_in_processes(model: Path, out: Path, nproc: int = 2) -> dict:
    """Run this file under ZeRO-3 with `nproc` processes; the gathered weights and what loading reported."""
    out.mkdir()
    run_deepspeed(
        ["--model", str(model), "--out", str(out)], nproc=nproc, script="tests/test_zero3_loading.py"
    )
    report = json.loads((out / "report.json").read_text())
    if "error" not in report:
        report["weights"] = load_file(out / "gathered.safetensors")
    return report


def assert_loaded_exactly(checkpoint: dict[str, torch.Tensor], report: dict) -> None:
    """Every tensor of the checkpoint is in the loaded model, bit for bit; a tied copy the checkpoint
    leaves out equals the tensor it is tied to."""
    assert report["scattered"], "the model was not loaded by scatter"
    loaded = report["weights"]
    assert checkpoint.keys() <= loaded.keys()
    different = [name for name, tensor in checkpoint.items() if not torch.equal(tensor, loaded[name])]
    assert not different, f"tensors that differ from the checkpoint: {different}"
    for tied, source in report["tied"].items():
        assert torch.equal(loaded[tied], loaded[source])


@pytest.mark.slow
def test_sharded_untied_model_loads_exactly(tiny_model, tmp_path):
    """LLaMA in 100 KB shards (the index path), over 3 processes: tensors whose size is no multiple of 3
    need DeepSpeed's padding."""
    assert convert(str(tiny_model("llama")), str(tmp_path / "sharded"), "--max_shard_size", "100KB") == 0
    checkpoint = checkpoint_weights(tmp_path / "sharded")
    assert len(list((tmp_path / "sharded").glob("*.safetensors"))) > 1
    assert any(tensor.numel() % 3 for tensor in checkpoint.values()), "nothing exercises the padding"

    assert_loaded_exactly(checkpoint, load_in_processes(tmp_path / "sharded", tmp_path / "out", nproc=3))


@pytest.mark.slow
def test_tied_bf16_model_loads_exactly(tiny_model, tmp_path):
    """GPT-2 ties its LM head to the token embeddings, and its checkpoint holds the embeddings once."""
    assert convert(str(tiny_model("gpt2")), str(tmp_path / "bf16"), "--dtype", "bfloat16") == 0
    checkpoint = checkpoint_weights(tmp_path / "bf16")
    assert "lm_head.weight" not in checkpoint

    report = load_in_processes(tmp_path / "bf16", tmp_path / "out")

    assert_loaded_exactly(checkpoint, report)
    assert report["tied"] == {"lm_head.weight": "transformer.wte.weight"}


@pytest.mark.slow
def test_checkpoint_missing_a_weight_fails_on_every_rank(tiny_model, tmp_path):
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (incomplete / name).write_text((tiny_model("gpt2") / name).read_text())
    weights = load_file(tiny_model("gpt2") / "model.safetensors")
    del weights["transformer.h.0.mlp.c_fc.weight"]
    save_file(weights, incomplete / "model.safetensors", metadata={"format": "pt"})

    report = load_in_processes(incomplete, tmp_path / "out")

    assert "missing ['transformer.h.0.mlp.c_fc.weight']" in report["error"]
    assert report["ranks_failed"] == 2


# ---- the launched processes' program ----


def load_and_gather(model: str, out: Path) -> None:
    """Load `model` as finetune.py does under ZeRO-3, then write every weight gathered (rank 0)."""
    import deepspeed
    import torch.distributed as dist
    from transformers import AutoModelForCausalLM

    from ftkit.args import parse_args
    from ftkit.loading import CheckpointMismatchError, init_distributed_if_launched
    from ftkit.modeling import (
        load_config,
        load_model,
        load_tokenizer,
        transformers_model_class,
        zero3_weight_map,
    )

    argv = ["--model_name_or_path", model, "--output_dir", str(out / "run"), "--do_train", "--use_cpu"]
    training_args = parse_args([*argv, "--deepspeed", str(REPO / "ds_configs" / "zero3.json")])[2]
    init_distributed_if_launched(bool(training_args.deepspeed))
    config = load_config(model)
    model_class = transformers_model_class(AutoModelForCausalLM, config)
    report = {"scattered": zero3_weight_map(model, model_class, None) is not None}
    try:
        loaded = load_model(model, "clm", config, load_tokenizer(model), dtype="auto")
    except CheckpointMismatchError as e:
        failed = torch.tensor([1])
        dist.all_reduce(failed)
        if dist.get_rank() == 0:
            (out / "report.json").write_text(json.dumps({"error": str(e), "ranks_failed": int(failed)}))
        return
    weights = {}
    for name, parameter in loaded.named_parameters(remove_duplicate=False):
        with deepspeed.zero.GatheredParameters(parameter):
            weights[name] = parameter.data.clone()
    report["tied"] = dict(loaded.all_tied_weights_keys)
    if dist.get_rank() == 0:
        save_file(weights, out / "gathered.safetensors")
        (out / "report.json").write_text(json.dumps(report))


if __name__ == "__main__":
    from ftkit.cli import exit_process

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--local_rank", type=int)  # set by the deepspeed launcher
    parser.add_argument("--use_cpu", action="store_true")  # set by run_deepspeed
    args = parser.parse_args()
    load_and_gather(args.model, args.out)
    exit_process(0)
