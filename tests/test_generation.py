"""Generation: batched left-padded greedy search equals generating each input alone, and --do_predict
writes one prediction per input, in input order."""

import pytest
import torch

import finetune
from conftest import EVAL_SAMPLE
from ftkit.data import PaddingCollator, encode_clm, encode_seq2seq
from ftkit.generation import (
    MIN_SHARED_PREFIX,
    decode,
    generate_releasing_finished,
    generation_kwargs,
    shared_prefix_length,
)
from ftkit.modeling import load_config, load_model, load_tokenizer

SOURCES = EVAL_SAMPLE.joinpath("source.txt").read_text(encoding="utf-8").splitlines()[:7]
KWARGS = generation_kwargs(num_beams=1, max_new_tokens=12)


@pytest.fixture(scope="module")
def chaotic_model(tiny_model, tmp_path_factory):
    """chaotic_model(family) -> (folder, framework) of a tiny model whose every output token depends on
    the whole context: a fresh tiny model repeats one token, which would hide padding and order errors."""
    built = {}

    def get(family):
        if family not in built:
            path = str(tiny_model(family))
            framework = "seq2seq" if family == "t5" else "clm"
            tokenizer = load_tokenizer(path)
            model = load_model(path, framework, load_config(path), tokenizer)
            torch.manual_seed(0)
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.add_(torch.randn_like(parameter) * 0.5)
            out = tmp_path_factory.mktemp(f"chaotic-{family}")
            model.save_pretrained(out)
            tokenizer.save_pretrained(out)
            built[family] = (str(out), framework)
        return built[family]

    return get


def load(path, framework):
    tokenizer = load_tokenizer(path)
    return load_model(path, framework, load_config(path), tokenizer).eval(), tokenizer


def one_at_a_time(model, tokenizer, framework, sources):
    """Generate for each source alone: no padding anywhere."""
    encode = encode_clm if framework == "clm" else encode_seq2seq
    outputs = []
    for ids in encode({"source": sources}, tokenizer, "gec", 256, 256)["input_ids"]:
        generated = model.generate(torch.tensor([ids]), **KWARGS)
        outputs.append(generated[0, len(ids) :] if framework == "clm" else generated[0])
    return outputs


def until_eos(ids, eos_token_id):
    ids = ids.tolist()
    return ids[: ids.index(eos_token_id)] if eos_token_id in ids else ids


@pytest.mark.parametrize("family", ["gpt2", "bloom", "llama"])
def test_batched_left_padded_greedy_equals_single(chaotic_model, family):
    model, tokenizer = load(*chaotic_model(family))
    prompts = encode_clm({"source": SOURCES}, tokenizer, "gec", 256, 256)["input_ids"]
    assert len({len(ids) for ids in prompts}) > 1, "inputs of one length would not test padding"

    batch = PaddingCollator(tokenizer, padding_side="left")([{"input_ids": ids} for ids in prompts])
    generated = model.generate(**batch, **KWARGS)[:, batch["input_ids"].shape[1] :]

    batched = [until_eos(row, tokenizer.eos_token_id) for row in generated]
    expected = [
        until_eos(row, tokenizer.eos_token_id) for row in one_at_a_time(model, tokenizer, "clm", SOURCES)
    ]
    assert batched == expected
    assert len({tuple(ids) for ids in expected}) == len(SOURCES), "equal outputs would not show a mix-up"


@pytest.mark.parametrize("family", ["gpt2", "bloom", "llama"])
def test_releasing_finished_rows_gives_the_ids_of_one_generate_call(chaotic_model, family):
    """Rows released as they end, and the prompt template's preamble computed once for all rows."""
    model, tokenizer = load(*chaotic_model(family))
    prompts = encode_clm({"source": SOURCES}, tokenizer, "gec", 256, 256)["input_ids"]
    batch = PaddingCollator(tokenizer, padding_side="left")([{"input_ids": ids} for ids in prompts])
    width = batch["input_ids"].shape[1]
    assert shared_prefix_length(batch["input_ids"], batch["attention_mask"]) >= MIN_SHARED_PREFIX
    # A random model never writes EOS: let tokens that rows write midway end them, at different steps.
    written = model.generate(**batch, **KWARGS)[:, width:]
    ends_on = [tokenizer.eos_token_id, int(written[0, 1]), int(written[3, 5])]
    model.generation_config.eos_token_id = ends_on

    expected = model.generate(**batch, **KWARGS)
    released = generate_releasing_finished(model, batch["input_ids"], batch["attention_mask"], KWARGS, 2)

    ends = {next((i for i, t in enumerate(r.tolist()) if t in ends_on), None) for r in expected[:, width:]}
    assert len(ends) > 2, "rows ending at one step would not test their release"
    assert torch.equal(released, expected[:, width:])


@pytest.mark.parametrize("family", ["llama", "t5"])
def test_do_predict_writes_one_line_per_input_in_order(chaotic_model, tmp_path, family):
    path, framework = chaotic_model(family)
    # Different lengths, so length-sorted batches reorder them; an empty line still gets its line.
    sources = SOURCES + ["", SOURCES[0]]
    test_file = tmp_path / "test.txt"
    test_file.write_text("".join(s + "\n" for s in sources), encoding="utf-8")
    predictions = tmp_path / "preds" / "out.txt"
    assert (
        finetune.main(
            [
                "--model_name_or_path",
                path,
                "--test_file",
                str(test_file),
                "--output_dir",
                str(tmp_path / "run"),
                "--do_predict",
                "--per_device_eval_batch_size",
                "3",
                "--generation_max_length",
                "12",
                "--predictions_file",
                str(predictions),
                "--use_cpu",
            ]
        )
        == 0
    )

    model, tokenizer = load(path, framework)
    expected = decode(
        tokenizer, [ids.tolist() for ids in one_at_a_time(model, tokenizer, framework, sources)]
    )
    written = predictions.read_text(encoding="utf-8")
    assert written == "".join(line + "\n" for line in expected)
    assert len(set(expected)) >= len(SOURCES) - 1, "equal outputs would not show a mix-up"
