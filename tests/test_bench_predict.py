"""Sorted-batch prediction (ftkit.training.predict, as --do_predict runs it) returns the same outputs in the
same order as a plain loop over model.generate in file order; the benchmark script reports both speeds."""

import re

import pytest
import torch
from bench_predict import main, plain_loop, prediction_trainer
from datasets import Dataset

from conftest import EVAL_SAMPLE
from ftkit.data import encode_dataset
from ftkit.generation import generation_kwargs
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.training import predict


@pytest.fixture(scope="module")
def chaotic_llama(tiny_model, tmp_path_factory):
    """A tiny LLaMA whose outputs depend on the whole input (a fresh one repeats a token for any input,
    which would hide a mix-up of rows)."""
    path = str(tiny_model("llama"))
    tokenizer = load_tokenizer(path)
    model = load_model(path, "clm", load_config(path), tokenizer)
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.5)
    out = tmp_path_factory.mktemp("chaotic-llama")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


@pytest.fixture
def inputs(tmp_path):
    """Sample sentences of mixed lengths, in an order that length sorting changes."""
    sources = EVAL_SAMPLE.joinpath("source.txt").read_text(encoding="utf-8").splitlines()[:30]
    sources = [" ".join([s] * (1 + i % 4)) for i, s in enumerate(sources)]
    path = tmp_path / "inputs.txt"
    path.write_text("".join(s + "\n" for s in sources), encoding="utf-8")
    return sources, path


@pytest.mark.parametrize("num_beams", [1, 2])
def test_sorted_batches_equal_the_plain_loop_in_order(chaotic_llama, inputs, tmp_path, num_beams):
    sources, _ = inputs
    tokenizer = load_tokenizer(chaotic_llama)
    model = load_model(chaotic_llama, "clm", load_config(chaotic_llama), tokenizer).eval()
    dataset = encode_dataset(Dataset.from_dict({"source": sources}), "clm", tokenizer, "gec", 256, 8)
    lengths = [len(ids) for ids in dataset["input_ids"]]
    assert lengths != sorted(lengths, reverse=True), (
        "inputs already in length order would not test reordering"
    )
    kwargs = generation_kwargs(num_beams, 8)

    plain = plain_loop(model, tokenizer, "clm", dataset, 7, kwargs)
    ours = predict(prediction_trainer(model, tokenizer, "clm", 7, False, str(tmp_path)), dataset, kwargs)
    assert ours == plain
    assert len(set(plain)) > len(sources) // 2, "equal outputs would not show a mix-up"


def test_benchmark_reports_both_speeds(chaotic_llama, inputs, capsys):
    _, path = inputs
    argv = ["--model_name_or_path", chaotic_llama, "--inputs", str(path), "--limit", "20",
            "--batch_size", "8", "--max_new_tokens", "6"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert "outputs identical: 20/20 lines" in out
    assert re.fullmatch(r"sentences/s: plain [\d.]+, ours [\d.]+, ratio [\d.]+", out[-1])
