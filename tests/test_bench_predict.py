"""Sorted-batch prediction (ftkit.training.predict, as --do_predict runs it) returns the same outputs in the
same order as a plain loop over model.generate in file order and as the careful peer (length-sorted batches);
the benchmark script reports the three speeds."""

import re

import pytest
import torch
from bench_predict import Generator, careful_loop, main, plain_loop, prediction_trainer
from datasets import Dataset

from conftest import EVAL_SAMPLE
from ftkit.data import encode_dataset
from ftkit.frameworks import framework_of
from ftkit.generation import generation_kwargs
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.training import predict


@pytest.fixture(scope="module")
def chaotic(tiny_model, tmp_path_factory):
    """chaotic(family) -> folder of a tiny model whose outputs depend on the whole input (a fresh one repeats
    a token for any input, which would hide a mix-up of rows)."""
    built = {}

    def get(family):
        if family not in built:
            path = str(tiny_model(family))
            config = load_config(path)
            tokenizer = load_tokenizer(path)
            model = load_model(path, framework_of(config), config, tokenizer)
            torch.manual_seed(0)
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.add_(torch.randn_like(parameter) * 0.5)
            built[family] = str(tmp_path_factory.mktemp(f"chaotic-{family}"))
            model.save_pretrained(built[family])
            tokenizer.save_pretrained(built[family])
        return built[family]

    return get


@pytest.fixture
def inputs(tmp_path):
    """Sample sentences of mixed lengths, in an order that length sorting changes."""
    sources = EVAL_SAMPLE.joinpath("source.txt").read_text(encoding="utf-8").splitlines()[:30]
    sources = [" ".join([s] * (1 + i % 4)) for i, s in enumerate(sources)]
    path = tmp_path / "inputs.txt"
    path.write_text("".join(s + "\n" for s in sources), encoding="utf-8")
    return sources, path


@pytest.mark.parametrize(("family", "num_beams"), [("llama", 1), ("llama", 2), ("t5", 1)])
def test_sorted_batches_equal_both_loops_in_order(chaotic, inputs, tmp_path, family, num_beams):
    sources, _ = inputs
    path = chaotic(family)
    framework = framework_of(load_config(path))
    tokenizer = load_tokenizer(path)
    model = load_model(path, framework, load_config(path), tokenizer).eval()
    dataset = encode_dataset(Dataset.from_dict({"source": sources}), framework, tokenizer, "gec", 256, 8)
    lengths = [len(ids) for ids in dataset["input_ids"]]
    assert lengths != sorted(lengths, reverse=True), (
        "inputs already in length order would not test reordering"
    )
    kwargs = generation_kwargs(num_beams, 8)

    generate = Generator(model, tokenizer, framework, kwargs)
    plain = plain_loop(generate, dataset, 7)
    careful = careful_loop(generate, dataset, 7)
    trainer = prediction_trainer(model, tokenizer, framework, 7, False, str(tmp_path))
    ours = predict(trainer, dataset, kwargs)
    assert ours == plain
    assert careful == plain
    assert len(set(plain)) > len(sources) // 2, "equal outputs would not show a mix-up"


def test_benchmark_reports_the_three_speeds(chaotic, inputs, capsys):
    _, path = inputs
    argv = ["--model_name_or_path", chaotic("llama"), "--inputs", str(path), "--limit", "20",
            "--batch_size", "8", "--max_new_tokens", "6"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert "outputs identical to plain: 20/20 lines" in out
    assert "outputs identical to careful: 20/20 lines" in out
    assert any(re.fullmatch(r"ours/careful by round: [\d.]+", line) for line in out)
    number = r"[\d.]+"
    assert re.fullmatch(
        rf"sentences/s: plain {number}, careful {number}, ours {number}; "
        rf"ours/plain {number}, ours/careful {number}",
        out[-1],
    )
