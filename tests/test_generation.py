"""Generation: batched greedy search (decoder-only prompts padded on the left, encoder inputs on the right)
equals generating each input alone; generation stops and text ends at every stop token; --do_predict writes
one prediction per input, in input order, and logs its settings, its progress in sentences and the outputs
that ran to the length limit."""

import json
import logging
import re
from collections import Counter

import pytest
import torch
from datasets import Dataset
from transformers import GenerationConfig, Seq2SeqTrainingArguments

import finetune
from conftest import EVAL_SAMPLE
from ftkit import training
from ftkit.args import ConfigurationError, check_output_file
from ftkit.data import PaddingCollator, encode_clm, encode_dataset, encode_seq2seq
from ftkit.frameworks import CLM, SEQ2SEQ, framework_of
from ftkit.generation import (
    MIN_SHARED_PREFIX,
    GenerationSettings,
    at_length_limit,
    decode,
    generate_one,
    generate_releasing_finished,
    generation_kwargs,
    shared_prefix_length,
    stop_token_ids,
)
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.prediction_files import prediction_stats_path
from ftkit.training import build_trainer, predict

SOURCES = EVAL_SAMPLE.joinpath("source.txt").read_text(encoding="utf-8").splitlines()[:7]
WORDS = " ".join(EVAL_SAMPLE.joinpath("source.txt").read_text(encoding="utf-8").split()).split()
# 24 inputs of 1 to 47 words (prompts of about 10 to 60 tokens), so that every batch mixes lengths.
VARIED = [" ".join(WORDS[7 * i : 7 * i + 1 + 2 * i]) for i in range(24)]
KWARGS = generation_kwargs(num_beams=1, max_new_tokens=12)


@pytest.fixture(scope="module")
def chaotic_model(tiny_model, tmp_path_factory):
    """chaotic_model(family) -> (folder, framework) of a tiny model whose every output token depends on
    the whole context: a fresh tiny model repeats one token, which would hide padding and order errors."""
    built = {}

    def get(family):
        if family not in built:
            path = str(tiny_model(family))
            framework = framework_of(load_config(path))
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
    outputs = []
    for ids in framework.encode({"source": sources}, tokenizer, "gec", 256, 256)["input_ids"]:
        generated = model.generate(torch.tensor([ids]), **KWARGS)
        outputs.append(framework.new_tokens(generated, len(ids))[0])
    return outputs


def prediction_trainer(model, tokenizer, framework, tmp_path, batch_size=8):
    args = Seq2SeqTrainingArguments(
        str(tmp_path), per_device_eval_batch_size=batch_size, predict_with_generate=True, use_cpu=True
    )
    return build_trainer(model, tokenizer, args, framework)


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
        until_eos(row, tokenizer.eos_token_id) for row in one_at_a_time(model, tokenizer, CLM, SOURCES)
    ]
    assert batched == expected
    assert len({tuple(ids) for ids in expected}) == len(SOURCES), "equal outputs would not show a mix-up"


@pytest.mark.parametrize("family", ["gpt2", "bloom", "llama", "t5"])
def test_releasing_finished_rows_gives_the_ids_of_one_generate_call(chaotic_model, family):
    """Rows released as they end; a decoder-only prompt template's preamble (an encoder's whole input)
    computed once for all rows."""
    path, framework = chaotic_model(family)
    model, tokenizer = load(path, framework)
    prompts = framework.encode({"source": SOURCES}, tokenizer, "gec", 256, 256)["input_ids"]
    collate = PaddingCollator(tokenizer, padding_side=framework.generation_padding_side)
    batch = collate([{"input_ids": ids} for ids in prompts])
    if not framework.encoder_decoder:
        assert shared_prefix_length(batch["input_ids"], batch["attention_mask"]) >= MIN_SHARED_PREFIX
    # A random model never writes EOS: let tokens that rows write midway end them, at different steps.
    written = framework.new_tokens(model.generate(**batch, **KWARGS), batch["input_ids"].shape[1])
    ends_on = [tokenizer.eos_token_id, int(written[0, 1]), int(written[3, 5])]
    model.generation_config.eos_token_id = ends_on

    expected = framework.new_tokens(model.generate(**batch, **KWARGS), batch["input_ids"].shape[1])
    released = generate_releasing_finished(model, batch["input_ids"], batch["attention_mask"], KWARGS, 2)

    ends = {next((i for i, t in enumerate(r.tolist()) if t in ends_on), None) for r in expected}
    assert len(ends) > 2, "rows ending at one step would not test their release"
    assert torch.equal(released, expected)


def test_releasing_finished_rows_keeps_a_forced_eos_at_the_limit(chaotic_model):
    """BART's generation config forces EOS at the length limit: at the end of the last stretch only."""
    model, tokenizer = load(*chaotic_model("bart"))
    assert model.generation_config.forced_eos_token_id is not None, "nothing forced would test nothing"
    prompts = encode_seq2seq({"source": SOURCES}, tokenizer, "gec", 256, 256)["input_ids"]
    batch = PaddingCollator(tokenizer, padding_side="right")([{"input_ids": ids} for ids in prompts])

    expected = SEQ2SEQ.new_tokens(model.generate(**batch, **KWARGS), batch["input_ids"].shape[1])
    released = generate_releasing_finished(model, batch["input_ids"], batch["attention_mask"], KWARGS, 2)

    assert torch.equal(released, expected)


@pytest.mark.parametrize("family", ["llama", "t5"])
def test_do_predict_writes_one_line_per_input_in_order(chaotic_model, tmp_path, caplog, family):
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
    # What prediction runs with, not the training batch (--per_device_train_batch_size, default 8).
    assert "global batch" not in caplog.text and "trainable" not in caplog.text
    assert (
        "predicting 9 sentences: per-device batch 3 x 1 process(es), greedy search, at most 12 new tokens"
        in (caplog.text)
    )


@pytest.mark.parametrize("family", ["bart", "t5", "llama"])
def test_batched_prediction_equals_one_at_a_time(chaotic_model, tmp_path, family):
    """BART's encoder takes positions from arange: padded on the left, a row's output would depend on the
    lengths of the rows in its batch."""
    path, framework = chaotic_model(family)
    model, tokenizer = load(path, framework)
    dataset = encode_dataset(Dataset.from_dict({"source": VARIED}), framework, tokenizer, "gec", 256, 256)
    batched = predict(prediction_trainer(model, tokenizer, framework, tmp_path), dataset, KWARGS)
    expected = decode(tokenizer, one_at_a_time(model, tokenizer, framework, VARIED))
    assert batched == expected
    assert len(set(expected)) > len(VARIED) // 2, "equal outputs would not show a mix-up"


@pytest.mark.parametrize("family, beams", [("llama", 1), ("llama", 3), ("t5", 1)])
def test_progress_counts_sentences_and_the_outputs_at_the_length_limit(
    chaotic_model, tmp_path, caplog, monkeypatch, family, beams
):
    path, framework = chaotic_model(family)
    model, tokenizer = load(path, framework)
    # A stop token that some outputs write and others do not: some end early, the rest run to the limit.
    written = Counter(
        t for row in one_at_a_time(model, tokenizer, framework, VARIED) for t in set(row.tolist())
    )
    stop = next(t for t, n in written.most_common() if n <= len(VARIED) * 2 // 3)
    tokenizer.eos_token = tokenizer.convert_ids_to_tokens(stop)
    model.generation_config.eos_token_id = None
    kwargs = generation_kwargs(num_beams=beams, max_new_tokens=12)
    stop_ids = stop_token_ids(tokenizer, model.generation_config)
    prompts = framework.encode({"source": VARIED}, tokenizer, "gec", 256, 256)["input_ids"]
    generated = [model.generate(torch.tensor([ids]), eos_token_id=stop_ids, **kwargs) for ids in prompts]
    alone = [framework.new_tokens(row, len(ids))[0] for row, ids in zip(generated, prompts, strict=True)]
    at_limit = sum(len(row) == 12 and not set(row.tolist()) & set(stop_ids) for row in alone)
    assert 0 < at_limit < len(VARIED), "all or none at the limit would not test the count"

    monkeypatch.setattr(training, "PROGRESS_SECONDS", 0.0)  # a progress line after every batch
    caplog.set_level(logging.INFO, logger="ftkit.training")
    dataset = encode_dataset(Dataset.from_dict({"source": VARIED}), framework, tokenizer, "gec", 256, 256)
    stats = tmp_path / "out.stats.json"
    predict(prediction_trainer(model, tokenizer, framework, tmp_path), dataset, kwargs, stats_path=stats)

    search = f"beam search with {beams} beams" if beams > 1 else "greedy search"
    assert (
        f"predicting 24 sentences: per-device batch 8 x 1 process(es), {search}, at most 12 new tokens"
        in (caplog.text)
    )
    done = [
        int(n)
        for n in re.findall(r"predicted (\d+)/24 sentences \(\d+%\), [\d.]+ sentences/s, ETA ", caplog.text)
    ]
    assert done == [8, 16, 24], "one line per batch of 8, counted when its sentences are done"
    assert f"; {at_limit} ran to the limit of 12 new tokens without a stop token" in caplog.text
    assert json.loads(stats.read_text()) == {
        "sentences": 24,
        "at_length_limit": at_limit,
        "max_new_tokens": 12,
        "num_beams": beams,
        "seconds": pytest.approx(json.loads(stats.read_text())["seconds"]),
    }


def test_progress_eta_follows_the_source_tokens_left(monkeypatch, caplog):
    """Longest inputs run first: after a quarter of the source tokens in 10 s, 30 s are left, whatever the
    share of sentences done. Two processes: the main one counts its own batches twice."""
    clock = iter([100.0, 110.0])
    monkeypatch.setattr(training.time, "perf_counter", lambda: next(clock))
    caplog.set_level(logging.INFO, logger="ftkit.training")
    progress = training.PredictionProgress(40, 400, 2, 4, [2], log=True, interval=5.0)
    progress.update(torch.tensor([[5, 6, 7, 8], [5, 2, 0, 0]]), 50)
    assert "predicted 4/40 sentences (10%), 0.4 sentences/s, ETA 0m30s; 2 at the 4-token limit" in caplog.text


def test_at_length_limit_means_no_stop_token_within_the_limit():
    rows = torch.tensor([[5, 6, 7, 8], [5, 2, 7, 8], [5, 6, -100, -100], [5, 6, 7, 2]])
    assert at_length_limit(rows, [2], 4).tolist() == [True, False, False, False]
    assert at_length_limit(rows, [2], 2).tolist() == [True, False, True, True]
    assert (
        prediction_stats_path("run/predictions/conll14.txt").as_posix()
        == "run/predictions/conll14.stats.json"
    )


def test_stop_tokens_are_the_tokenizers_the_generation_configs_and_the_end_of_turn(tiny_model):
    tokenizer = load_tokenizer(str(tiny_model("qwen2")))
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert tokenizer.eos_token_id != im_end
    config = GenerationConfig(eos_token_id=[7, tokenizer.eos_token_id])
    assert stop_token_ids(tokenizer, config) == [tokenizer.eos_token_id, 7, im_end]
    assert stop_token_ids(tokenizer) == [tokenizer.eos_token_id, im_end]
    llama = load_tokenizer(str(tiny_model("llama")))  # no end-of-turn token: not even its <unk>
    assert stop_token_ids(llama, GenerationConfig(eos_token_id=None)) == [llama.eos_token_id]


def test_decode_cuts_at_the_first_stop_token(tiny_model):
    tokenizer = load_tokenizer(str(tiny_model("qwen2")))
    he, go = tokenizer("He go", add_special_tokens=False)["input_ids"][:2]
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    rows = [[he, im_end, go, go], [he, go, tokenizer.eos_token_id, he], [he, go, -100, -100]]
    assert decode(tokenizer, rows) == ["He", "He go", "He go"]
    assert decode(tokenizer, rows, stop_ids=[go]) == ["He", "He", "He"]


@pytest.fixture
def ends_midway(chaotic_model):
    """A chaotic llama whose tokenizer's EOS is a token it writes midway for SOURCES[0], while its
    generation config knows no EOS: generation must stop on the tokenizer's EOS anyway. Returns the model,
    the tokenizer and the ids written up to that EOS."""
    model, tokenizer = load(*chaotic_model("llama"))
    written = one_at_a_time(model, tokenizer, CLM, SOURCES[:1])[0].tolist()
    stop = next(t for t in written[3:] if t not in written[:3])
    tokenizer.eos_token = tokenizer.convert_ids_to_tokens(stop)
    model.generation_config.eos_token_id = None
    return model, tokenizer, written[: written.index(stop) + 1]


def test_the_repl_stops_streaming_at_the_tokenizers_eos(ends_midway, capsys):
    model, tokenizer, answer = ends_midway
    ids = encode_clm({"source": SOURCES[:1]}, tokenizer, "gec", 256, 256)["input_ids"][0]
    settings = GenerationSettings(max_new_tokens=12)
    text = generate_one(model, tokenizer, CLM, ids, settings, stream=True)
    assert text == decode(tokenizer, [answer])[0]
    # The tokenizer does not know the token made EOS here as special: the stream may show it.
    streamed = capsys.readouterr().out.strip()
    assert streamed in (text, tokenizer.decode(answer).strip()), "the stream went on after EOS"


def test_prediction_stops_at_the_tokenizers_eos(ends_midway, tmp_path):
    model, tokenizer, answer = ends_midway
    dataset = encode_dataset(Dataset.from_dict({"source": SOURCES}), CLM, tokenizer, "gec", 256, 256)
    predictions = predict(prediction_trainer(model, tokenizer, CLM, tmp_path, 4), dataset, KWARGS)
    assert predictions[0] == decode(tokenizer, [answer])[0]


def test_an_output_file_that_cannot_be_written_is_refused(tmp_path):
    """Checked at parse time (ftkit.args), for write_lines at the end of prediction."""
    check_output_file(tmp_path / "new" / "out.txt", "--predictions_file")  # missing folders are made
    with pytest.raises(
        ConfigurationError, match=r"--predictions_file .* is a folder; give the path of a file"
    ):
        check_output_file(tmp_path, "--predictions_file")
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigurationError, match=r"file is a file, so no folder can be made there"):
        check_output_file(tmp_path / "file" / "sub" / "out.txt", "--predictions_file")
