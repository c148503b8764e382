import json
import logging
import os

import pytest
import torch
from datasets import Dataset
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from tokenizers.processors import TemplateProcessing
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from conftest import SAMPLE
from ftkit.data import (
    IGNORE_INDEX,
    DataError,
    PaddingCollator,
    encode_clm,
    encode_dataset,
    encode_seq2seq,
    keep_target_logits,
    load_dataset_file,
    read_examples,
)
from ftkit.frameworks import CLM, SEQ2SEQ
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.templates import TEMPLATES, TemplateError, build_prompt


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_reads_jsonl_and_skips_blank_lines(tmp_path):
    rows = [
        json.dumps({"source": "He go .", "target": "He goes ."}),
        "",
        json.dumps({"source": "Hi", "target": "Hi"}),
    ]
    assert read_examples(write(tmp_path / "a.jsonl", rows), require_target=True) == {
        "source": ["He go .", "Hi"],
        "target": ["He goes .", "Hi"],
    }


def test_plain_text_is_one_source_per_line_for_prediction(tmp_path):
    assert read_examples(write(tmp_path / "a.txt", ["He go .", "", "b"]), require_target=False) == {
        "source": ["He go .", "", "b"]
    }


def test_jsonl_without_targets_is_fine_for_prediction(tmp_path):
    rows = [json.dumps({"source": "a"}), json.dumps({"source": "b"})]
    assert read_examples(write(tmp_path / "a.jsonl", rows), require_target=False) == {"source": ["a", "b"]}


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"source": "a", "target": "b"}', '{"source": "a", "target": '], r"a\.jsonl:2: not valid JSON"),
        (['{"src": "a", "target": "b"}'], r"a\.jsonl:1: no string \"source\" field"),
        (['{"source": "a"}'], r"a\.jsonl:1: no \"target\" field"),
        (['{"source": "a", "target": 3}'], r"a\.jsonl:1: \"target\" must be a string"),
        ([], r"a\.jsonl: no examples"),
    ],
)
def test_bad_training_data_names_file_and_line(tmp_path, lines, message):
    with pytest.raises(DataError, match=message):
        read_examples(write(tmp_path / "a.jsonl", lines), require_target=True)


def word_tokenizer(special_tokens: str) -> PreTrainedTokenizerFast:
    """A tokenizer with one id per word of VOCAB, adding `special_tokens` ("[BOS] $A", "$A [EOS]"): expected
    ids are literals, independent of how the tiny models' tokenizers are trained."""
    backend = Tokenizer(WordLevel({word: i for i, word in enumerate(VOCAB)}, unk_token="[UNK]"))
    backend.pre_tokenizer = Whitespace()
    backend.post_processor = TemplateProcessing(
        single=special_tokens, special_tokens=[("[BOS]", 2), ("[EOS]", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", bos_token="[BOS]", eos_token="[EOS]"
    )


VOCAB = "[UNK] [PAD] [BOS] [EOS] He go goes to school . She is happy".split()
X = IGNORE_INDEX  # a label the loss ignores


def test_clm_labels_mask_exactly_the_prompt_and_end_with_eos():
    batch = {
        "source": ["He go to school .", "She is happy ."],
        "target": ["He goes to school .", "She is happy ."],
    }
    encoded = encode_clm(
        batch, word_tokenizer("[BOS] $A"), "none", max_source_length=64, max_target_length=64
    )
    # The prompt with its BOS, the target without one, then EOS; the loss sees the target and EOS only.
    assert encoded == {
        "input_ids": [[2, 4, 5, 7, 8, 9, 4, 6, 7, 8, 9, 3], [2, 10, 11, 12, 9, 10, 11, 12, 9, 3]],
        "attention_mask": [[1] * 12, [1] * 10],
        "labels": [[X, X, X, X, X, X, 4, 6, 7, 8, 9, 3], [X, X, X, X, X, 10, 11, 12, 9, 3]],
        "prompt_length": [6, 5],
        "target_length": [6, 5],
    }


def test_clm_cuts_the_source_and_the_target_and_keeps_eos():
    batch = {"source": ["He go to school ."], "target": ["He goes to school ."]}
    encoded = encode_clm(batch, word_tokenizer("[BOS] $A"), "none", max_source_length=4, max_target_length=3)
    assert encoded["input_ids"] == [[2, 4, 5, 7, 4, 6, 3]]  # "He go to", "He goes" + EOS
    assert encoded["labels"] == [[X, X, X, X, 4, 6, 3]]
    assert (encoded["prompt_length"], encoded["target_length"]) == ([6], [6])  # before the cut


def test_clm_prediction_encodes_the_prompt_only():
    encoded = encode_clm({"source": ["He go ."]}, word_tokenizer("[BOS] $A"), "none", 64, 64)
    assert encoded == {"input_ids": [[2, 4, 5, 9]], "attention_mask": [[1, 1, 1, 1]], "prompt_length": [4]}


def test_seq2seq_encodes_the_prompt_and_cuts_the_target_keeping_eos():
    batch = {"source": ["He go ."], "target": ["He goes to school ."]}
    encoded = encode_seq2seq(batch, word_tokenizer("$A [EOS]"), "none", 64, 3)
    assert encoded == {
        "input_ids": [[4, 5, 9, 3]],
        "attention_mask": [[1, 1, 1, 1]],
        "prompt_length": [4],
        "target_length": [6],
        "labels": [[4, 6, 3]],
    }


def test_seq2seq_encodes_prompt_and_target_with_eos(tiny_model):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model("t5"))
    encoded = encode_seq2seq({"source": ["He go ."], "target": ["He goes ."]}, tokenizer, "flan", 64, 64)
    assert tokenizer.decode(encoded["input_ids"][0]) == build_prompt("He go .", "flan") + "</s>"
    assert encoded["labels"][0][-1] == tokenizer.eos_token_id


def test_gpt2_pad_token_falls_back_to_eos(tiny_model):
    tokenizer = load_tokenizer(str(tiny_model("gpt2")))
    assert tokenizer.pad_token_id == tokenizer.eos_token_id is not None


@pytest.mark.parametrize("side", ["left", "right"])
def test_collator_pads_inputs_and_labels_on_one_side(tiny_model, side):
    tokenizer = load_tokenizer(str(tiny_model("llama")))
    features = [
        {"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [-100, 6, 7]},
        {"input_ids": [8], "attention_mask": [1], "labels": [8]},
    ]
    batch = PaddingCollator(tokenizer, padding_side=side)(features)
    pad = tokenizer.pad_token_id
    expected_ids = [[8, pad, pad], [1, 0, 0], [8, IGNORE_INDEX, IGNORE_INDEX]]
    if side == "left":
        expected_ids = [row[::-1] for row in expected_ids]
    assert batch["input_ids"][1].tolist() == expected_ids[0]
    assert batch["attention_mask"][1].tolist() == expected_ids[1]
    assert batch["labels"][1].tolist() == expected_ids[2]
    assert batch["labels"][0].tolist() == [-100, 6, 7]


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_target_logits_only_give_the_loss_of_the_whole_batch(tiny_model, family):
    path = str(tiny_model(family))
    tokenizer = load_tokenizer(path)
    model = load_model(path, CLM, load_config(path), tokenizer, torch.float32).eval()
    rows = encode_dataset(load_dataset_file(SAMPLE / "train.jsonl", True, 8), CLM, tokenizer, "gec", 256, 256)
    batch = PaddingCollator(tokenizer)([dict(row) for row in rows])
    cut = keep_target_logits(batch)

    # From one column before the earliest target token of any row: each row's first target is predicted.
    first_target = int((batch["labels"] != IGNORE_INDEX).int().argmax(dim=1).min())
    width = batch["labels"].shape[1]
    assert cut["logits_to_keep"] == width - first_target + 1 == cut["labels"].shape[1]
    assert cut["input_ids"] is batch["input_ids"]
    with torch.no_grad():
        full, kept = model(**batch), model(**cut)
    assert kept.logits.shape[1] == cut["logits_to_keep"] < full.logits.shape[1]
    assert kept.loss.item() == pytest.approx(full.loss.item(), rel=1e-6)


def test_a_batch_trained_from_its_first_tokens_is_not_cut():
    batch = {
        "input_ids": torch.ones(2, 3, dtype=torch.long),
        "labels": torch.tensor([[-100, 4, 5], [6, 7, 8]]),
    }
    assert keep_target_logits(batch) is batch
    nothing = {"input_ids": torch.ones(1, 3, dtype=torch.long), "labels": torch.full((1, 3), IGNORE_INDEX)}
    assert keep_target_logits(nothing) is nothing


@pytest.mark.parametrize("name", ["a.json", "a.JSONL", "a.Json", "a.txt"])
def test_json_lines_are_recognised_by_any_case_of_the_suffix_or_by_content(tmp_path, name):
    rows = [json.dumps({"source": "He go .", "target": "He goes ."}), json.dumps({"source": "Hi"})]
    path = write(tmp_path / name, rows[:1])
    assert read_examples(path, require_target=True) == {"source": ["He go ."], "target": ["He goes ."]}
    path = write(tmp_path / name, [json.dumps({"source": "Hi"})])
    assert read_examples(path, require_target=False) == {"source": ["Hi"]}


def test_text_that_is_not_a_json_object_stays_text(tmp_path):
    lines = ["{not json} he go .", '"a quoted line"', "[1, 2]"]
    assert read_examples(write(tmp_path / "a.txt", lines), require_target=False) == {"source": lines}


def test_lines_end_at_newline_only_and_a_bom_is_dropped(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfHe go .\r\nA lone\rreturn\nlast")
    assert read_examples(path, require_target=False) == {"source": ["He go .", "A lone\rreturn", "last"]}
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"source": "a", "target": "b"}\r\n{"source": "c\\rd", "target": "e"}\n')
    assert read_examples(path, require_target=True) == {"source": ["a", "c\rd"], "target": ["b", "e"]}


@pytest.mark.parametrize("name", ["a.txt", "a.jsonl"])
def test_invalid_utf8_names_the_line(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b'{"source": "a", "target": "b"}\n{"source": "caf\xe9", "target": "b"}\n')
    with pytest.raises(DataError, match=rf"{name}:2: not valid UTF-8 \(byte 0xe9, byte 16 of the line\)"):
        read_examples(path, require_target=False)


def test_a_lone_surrogate_escape_is_a_clear_error(tmp_path):
    pair = json.dumps({"source": "a \U0001f600", "target": "b"})  # escaped as \ud83d\ude00: fine
    lone = '{"source": "a \\ud800 b", "target": "b"}'
    path = write(tmp_path / "a.jsonl", [pair, lone])
    with pytest.raises(DataError, match=r"a\.jsonl:2: a lone surrogate escape \('\\ud800'\)"):
        read_examples(path, require_target=True)


def test_a_folder_or_unreadable_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match=r"cannot be read \(Is a directory\)"):
        read_examples(tmp_path, require_target=False)
    if os.geteuid() == 0:
        pytest.skip("root reads files without read permission")
    path = write(tmp_path / "a.jsonl", ['{"source": "a", "target": "b"}'])
    path.chmod(0)
    with pytest.raises(DataError, match=r"a\.jsonl: cannot be read \(Permission denied\)"):
        read_examples(path, require_target=True)


@pytest.mark.parametrize("first_has_target", [True, False])
def test_a_test_file_with_targets_on_some_lines_gets_its_own_message(tmp_path, first_has_target):
    rows = [json.dumps({"source": "a", "target": "b"}), json.dumps({"source": "c"})]
    path = write(tmp_path / "a.jsonl", rows if first_has_target else rows[::-1])
    with pytest.raises(DataError) as error:
        read_examples(path, require_target=False)
    message = str(error.value)
    assert 'some lines have a "target"' in message and "a target or none" in message
    assert "a.jsonl:1" in message and "a.jsonl:2" in message
    assert "training" not in message


def test_empty_training_rows_are_counted_in_a_warning(tmp_path, caplog):
    rows = [
        json.dumps({"source": "a", "target": "b"}),
        json.dumps({"source": " ", "target": ""}),
        json.dumps({"source": "", "target": "c"}),
    ]
    path = write(tmp_path / "a.jsonl", rows)
    with caplog.at_level(logging.WARNING, logger="ftkit.data"):
        assert len(load_dataset_file(path, require_target=True)) == 3
    assert "of 3 examples, 2 have an empty source, 1 an empty target, 1 both" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ftkit.data"):
        load_dataset_file(path, require_target=True, max_samples=1)
        load_dataset_file(write(tmp_path / "test.txt", ["a", ""]), require_target=False)
    assert "empty" not in caplog.text, "an empty line of a test file is an input like any other"


LONG_SOURCE = " ".join(["He go to school and she like cats ."] * 12)


def template_parts(template, tokenizer):
    """The prompt text before and after the source."""
    marker = "XSOURCEX"
    before, after = build_prompt(marker, template, tokenizer).split(marker)
    return before, after


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_a_long_source_is_cut_and_the_template_kept_whole(tiny_model, template):
    tokenizer = load_tokenizer(str(tiny_model("qwen2")))  # byte-level BPE: decoding gives the text back
    before, after = template_parts(template, tokenizer)
    limit = len(encode_clm({"source": [""]}, tokenizer, template, 256, 256)["input_ids"][0]) + 20
    encoded = encode_clm({"source": [LONG_SOURCE], "target": ["He goes ."]}, tokenizer, template, limit, 64)
    target = tokenizer("He goes .", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = encoded["input_ids"][0]
    assert ids[-len(target) :] == target and encoded["labels"][0][-len(target) :] == target
    prompt = tokenizer.decode(ids[: -len(target)])
    assert len(ids) - len(target) <= limit
    assert prompt.startswith(before) and prompt.endswith(after)
    kept = prompt[len(before) : len(prompt) - len(after)]
    assert 20 <= len(kept) < len(LONG_SOURCE) and LONG_SOURCE.startswith(kept)
    # Prediction encodes the same prompt.
    assert (
        encode_clm({"source": [LONG_SOURCE]}, tokenizer, template, limit, 64)["input_ids"][0]
        == ids[: -len(target)]
    )


def test_seq2seq_cut_keeps_the_answer_cue_and_eos(tiny_model):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model("t5"))
    encoded = encode_seq2seq({"source": [LONG_SOURCE], "target": ["He goes ."]}, tokenizer, "gec", 32, 64)
    assert len(encoded["input_ids"][0]) == 32
    assert tokenizer.decode(encoded["input_ids"][0]).endswith("Corrected:</s>")


def test_a_template_longer_than_max_source_length_is_a_clear_error(tiny_model):
    tokenizer = load_tokenizer(str(tiny_model("gpt2")))
    with pytest.raises(
        TemplateError, match="--max_source_length 4 is shorter than the prompt template 'gec'"
    ):
        encode_clm({"source": [LONG_SOURCE]}, tokenizer, "gec", 4, 64)


@pytest.mark.parametrize("framework, family", [(CLM, "gpt2"), (SEQ2SEQ, "t5")])
def test_truncated_rows_are_counted_in_the_log(tiny_model, caplog, framework, family):
    tokenizer = load_tokenizer(str(tiny_model(family)))
    dataset = Dataset.from_dict(
        {"source": ["He go .", LONG_SOURCE, LONG_SOURCE + " more"], "target": ["a", "b", LONG_SOURCE]}
    )
    prompts = framework.encode({"source": dataset["source"]}, tokenizer, "gec", 1024, 1024)
    with caplog.at_level(logging.WARNING, logger="ftkit.data"):
        encoded = encode_dataset(dataset, framework, tokenizer, "gec", 48, 16, name="train.jsonl")
    assert encoded.column_names == ["input_ids", "attention_mask", "labels"]
    assert "train.jsonl: 2 of 3 prompts longer than --max_source_length 48 tokens" in caplog.text
    assert "train.jsonl: 1 of 3 targets longer than --max_target_length 16 tokens" in caplog.text
    assert f"(the longest: {max(len(ids) for ids in prompts['input_ids'])})" in caplog.text
