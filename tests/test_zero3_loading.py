"""ZeRO-3 loading by scatter (ftkit.loading.load_zero3_model): several processes load a checkpoint, gather
every weight back and compare it with the file, bit for bit; every process's buffers and logits equal a
plain `from_pretrained` load's.

This file is also the processes' program: run by the deepspeed launcher, it loads the model as finetune.py
does and writes, from every rank, the gathered weights, its buffers and its logits on a fixed input (or
the loading error) for the test to compare.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import REPO, run_deepspeed
from ftkit.frameworks import framework_of
from ftkit.modeling import load_config

LOGITS = "logits of the fixed input"  # the key of a rank's logits beside its tensors' names


def convert(*argv: str) -> int:
    """scripts/convert_checkpoint.py; imported here, since only pytest puts scripts/ on the path."""
    from ftkit.commands.convert_checkpoint import main

    return main(list(argv))


def checkpoint_weights(folder: Path) -> dict[str, torch.Tensor]:
    state = {}
    for path in sorted(folder.glob("*.safetensors")):
        state.update(load_file(path))
    return state


def model_inputs(config) -> dict[str, torch.Tensor]:
    """A fixed input for the logits comparison (an encoder-decoder also gets decoder inputs)."""
    ids = (torch.arange(8) * 7 + 3)[None] % config.vocab_size
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if framework_of(config).encoder_decoder:
        inputs["decoder_input_ids"] = ids[:, :5]
    return inputs


def load_in_processes(model: Path, out: Path, nproc: int = 2) -> dict:
    """Run this file under ZeRO-3 with `nproc` processes; what loading reported, with each rank's tensors
    ("ranks": its gathered parameters, its buffers and LOGITS) and rank 0's as "weights"."""
    out.mkdir()
    run_deepspeed(
        ["--model", str(model), "--out", str(out)], nproc=nproc, script="tests/test_zero3_loading.py"
    )
    report = json.loads((out / "report.json").read_text())
    if "error" not in report:
        report["ranks"] = [load_file(out / f"rank{rank}.safetensors") for rank in range(nproc)]
        report["weights"] = {k: v for k, v in report["ranks"][0].items() if k != LOGITS}
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


def assert_same_as_from_pretrained(folder: Path, report: dict) -> None:
    """On every rank, each parameter and buffer (persistent or not) and the logits on a fixed input equal
    those of the model `from_pretrained` loads without ZeRO-3, in the same dtype and attention."""
    config = load_config(str(folder))
    plain = framework_of(config).auto_model.from_pretrained(
        folder, dtype=getattr(torch, report["dtype"]), attn_implementation=report["attn_implementation"]
    )
    plain.eval()
    expected = {name: p.detach() for name, p in plain.named_parameters(remove_duplicate=False)}
    expected |= dict(plain.named_buffers())  # the non-persistent ones too
    with torch.no_grad():
        logits = plain(**model_inputs(config)).logits
    for rank, tensors in enumerate(report["ranks"]):
        assert tensors.keys() - {LOGITS} == expected.keys(), f"rank {rank}"
        different = [name for name, tensor in expected.items() if not torch.equal(tensor, tensors[name])]
        assert not different, f"rank {rank}: tensors that differ from from_pretrained's: {different}"
        torch.testing.assert_close(tensors[LOGITS], logits, msg=lambda m, r=rank: f"rank {r}'s logits: {m}")


@pytest.mark.slow
def test_sharded_untied_model_loads_exactly(tiny_model, tmp_path):
    """LLaMA in 100 KB shards (the index path), over 3 processes: tensors whose size is no multiple of 3
    need DeepSpeed's padding."""
    assert convert(str(tiny_model("llama")), str(tmp_path / "sharded"), "--max_shard_size", "100KB") == 0
    checkpoint = checkpoint_weights(tmp_path / "sharded")
    assert len(list((tmp_path / "sharded").glob("*.safetensors"))) > 1
    assert any(tensor.numel() % 3 for tensor in checkpoint.values()), "nothing exercises the padding"

    report = load_in_processes(tmp_path / "sharded", tmp_path / "out", nproc=3)

    assert_loaded_exactly(checkpoint, report)
    assert_same_as_from_pretrained(tmp_path / "sharded", report)


@pytest.mark.slow
def test_tied_bf16_model_loads_exactly(tiny_model, tmp_path):
    """GPT-2 ties its LM head to the token embeddings, and its checkpoint holds the embeddings once."""
    assert convert(str(tiny_model("gpt2")), str(tmp_path / "bf16"), "--dtype", "bfloat16") == 0
    checkpoint = checkpoint_weights(tmp_path / "bf16")
    assert "lm_head.weight" not in checkpoint

    report = load_in_processes(tmp_path / "bf16", tmp_path / "out")

    assert_loaded_exactly(checkpoint, report)
    assert report["tied"] == {"lm_head.weight": "transformer.wte.weight"}
    assert_same_as_from_pretrained(tmp_path / "bf16", report)


@pytest.mark.slow
def test_encoder_decoder_with_a_persistent_buffer_loads_exactly(tiny_model, tmp_path):
    """BART: its embeddings tied four ways, and final_logits_bias a persistent buffer, which rank 0
    broadcasts whole (not scattered). Random, so that a rank the broadcast missed would hold other values
    (a new BART's is zeros)."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_model("bart"))
    torch.manual_seed(0)
    model.final_logits_bias.normal_()
    model.save_pretrained(tmp_path / "bart")
    AutoTokenizer.from_pretrained(tiny_model("bart")).save_pretrained(tmp_path / "bart")
    checkpoint = checkpoint_weights(tmp_path / "bart")
    assert checkpoint["final_logits_bias"].count_nonzero() > 0

    report = load_in_processes(tmp_path / "bart", tmp_path / "out")

    assert_loaded_exactly(checkpoint, report)
    assert_same_as_from_pretrained(tmp_path / "bart", report)


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
    """Load `model` as finetune.py does under ZeRO-3, then write from every rank each weight gathered, its
    buffers and its logits on the fixed input (model_inputs)."""
    import deepspeed
    import torch.distributed as dist

    from ftkit.args import parse_args
    from ftkit.loading import CheckpointMismatchError, init_distributed_if_launched
    from ftkit.modeling import load_model, load_tokenizer, transformers_model_class, zero3_weight_map

    argv = ["--model_name_or_path", model, "--output_dir", str(out / "run"), "--do_train", "--use_cpu"]
    training_args = parse_args([*argv, "--deepspeed", str(REPO / "ds_configs" / "zero3.json")])[2]
    init_distributed_if_launched(bool(training_args.deepspeed))
    config = load_config(model)
    framework = framework_of(config)
    model_class = transformers_model_class(framework.auto_model, config)
    report = {"scattered": zero3_weight_map(model, model_class, None) is not None}
    try:
        loaded = load_model(model, framework, config, load_tokenizer(model), dtype="auto")
    except CheckpointMismatchError as e:
        failed = torch.tensor([1])
        dist.all_reduce(failed)
        if dist.get_rank() == 0:
            (out / "report.json").write_text(json.dumps({"error": str(e), "ranks_failed": int(failed)}))
        return
    tensors = {}
    for name, parameter in loaded.named_parameters(remove_duplicate=False):
        with deepspeed.zero.GatheredParameters(parameter):
            tensors[name] = parameter.data.clone()
    # Buffers are not partitioned: each rank's own, as its forward pass uses them.
    tensors |= {name: buffer.clone() for name, buffer in loaded.named_buffers()}
    with deepspeed.zero.GatheredParameters(list(loaded.parameters())), torch.no_grad():
        tensors[LOGITS] = loaded(**model_inputs(config)).logits
    save_file(tensors, out / f"rank{dist.get_rank()}.safetensors")
    report["tied"] = dict(loaded.all_tied_weights_keys)
    report["dtype"] = str(next(iter(tensors.values())).dtype).removeprefix("torch.")
    report["attn_implementation"] = loaded.config._attn_implementation
    if dist.get_rank() == 0:
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
