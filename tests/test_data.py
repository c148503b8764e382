import json

import pytest
from transformers import AutoTokenizer

from ftkit.data import IGNORE_INDEX, DataError, PaddingCollator, encode_clm, encode_seq2seq, read_examples
from ftkit.modeling import load_tokenizer
from ftkit.templates import build_prompt


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


@pytest.mark.parametrize("family", ["gpt2", "bloom", "llama"])
def test_clm_labels_mask_exactly_the_prompt_and_end_with_eos(tiny_model, family):
    tokenizer = load_tokenizer(str(tiny_model(family)))
    batch = {
        "source": ["He go to school .", "She is happy ."],
        "target": ["He goes to school .", "She is happy ."],
    }
    encoded = encode_clm(batch, tokenizer, "gec", max_source_length=64, max_target_length=64)
    for i, (source, target) in enumerate(zip(batch["source"], batch["target"], strict=True)):
        prompt_ids = tokenizer(build_prompt(source, "gec"))["input_ids"]
        target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
        assert encoded["input_ids"][i] == prompt_ids + target_ids + [tokenizer.eos_token_id]
        assert encoded["labels"][i] == [IGNORE_INDEX] * len(prompt_ids) + target_ids + [
            tokenizer.eos_token_id
        ]


def test_clm_target_truncation_keeps_eos(tiny_model):
    tokenizer = load_tokenizer(str(tiny_model("llama")))
    encoded = encode_clm(
        {"source": ["a"], "target": ["He goes to school every day ."]}, tokenizer, "none", 64, 4
    )
    answer = [label for label in encoded["labels"][0] if label != IGNORE_INDEX]
    assert len(answer) == 4 and answer[-1] == tokenizer.eos_token_id


def test_clm_prediction_encodes_the_prompt_only(tiny_model):
    tokenizer = load_tokenizer(str(tiny_model("gpt2")))
    encoded = encode_clm({"source": ["He go ."]}, tokenizer, "gec", 64, 64)
    assert encoded["input_ids"] == [tokenizer(build_prompt("He go .", "gec"))["input_ids"]]
    assert "labels" not in encoded


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
