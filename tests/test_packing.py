"""Packed (padding-free) clm batches: the same loss as padded batches, refused where it would not be."""

import json

import pytest
import torch
from transformers import Seq2SeqTrainingArguments

import finetune
from conftest import SAMPLE
from ftkit.args import ConfigurationError, parse_args
from ftkit.data import IGNORE_INDEX, PaddingCollator, encode_dataset, load_dataset_file
from ftkit.frameworks import CLM
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.training import build_trainer
from ftkit.validation import validate_args


def sample_rows(tokenizer, n=12):
    dataset = encode_dataset(
        load_dataset_file(SAMPLE / "train.jsonl", True, n), CLM, tokenizer, "gec", 256, 256
    )
    return [dict(row) for row in dataset]


@pytest.mark.parametrize("family, attn", [("llama", "sdpa"), ("llama", "eager"), ("gpt2", "sdpa")])
def test_packed_and_padded_batches_give_the_same_loss(tiny_model, tmp_path, family, attn):
    path = str(tiny_model(family))
    tokenizer = load_tokenizer(path)
    model = load_model(path, CLM, load_config(path), tokenizer, torch.float32, attn_implementation=attn)
    trainer = build_trainer(
        model, tokenizer, Seq2SeqTrainingArguments(str(tmp_path), use_cpu=True), CLM, packing=True
    )
    rows = sample_rows(tokenizer)
    packed = trainer.data_collator(rows)
    padded = PaddingCollator(tokenizer)(rows)

    # One row, no padding, positions restarting per example, and no example predicting the next one.
    lengths = [len(row["input_ids"]) for row in rows]
    assert packed["input_ids"].shape == (1, sum(lengths)) and "attention_mask" not in packed
    starts = torch.tensor([0, *torch.tensor(lengths).cumsum(0)[:-1].tolist()])
    assert (packed["position_ids"][0, starts] == 0).all()
    assert (packed["labels"][0, starts] == IGNORE_INDEX).all()
    assert (packed["labels"] != IGNORE_INDEX).sum() == (padded["labels"][:, 1:] != IGNORE_INDEX).sum()

    model.eval()  # gpt2 has dropout
    with torch.no_grad():
        assert model(**packed).loss.item() == pytest.approx(model(**padded).loss.item(), abs=1e-4)


def test_finetune_trains_on_packed_batches(tiny_model, tmp_path):
    run = tmp_path / "run"
    argv = [
        "--model_name_or_path",
        str(tiny_model("llama")),
        "--train_file",
        str(SAMPLE / "train.jsonl"),
        "--max_train_samples",
        "16",
        "--output_dir",
        str(run),
        "--do_train",
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "8",
        "--logging_steps",
        "1",
        "--use_cpu",
        "--packing",
    ]
    assert finetune.main(argv) == 0
    history = json.loads((run / "trainer_state.json").read_text())["log_history"]
    steps = [row for row in history if "loss" in row]
    assert len(steps) == 2
    assert all(row["padding_fraction"] == 0 and row["samples_per_second"] > 0 for row in steps)


@pytest.mark.parametrize(
    "family, message",
    [("t5", "--packing is for decoder-only"), ("bloom", "--packing with bloom")],
)
def test_packing_is_refused_where_it_would_change_the_loss(tiny_model, tmp_path, family, message):
    path = str(tiny_model(family))
    args = parse_args(
        [
            "--model_name_or_path",
            path,
            "--train_file",
            str(SAMPLE / "train.jsonl"),
            "--output_dir",
            str(tmp_path),
            "--do_train",
            "--use_cpu",
            "--packing",
        ]
    )
    with pytest.raises(ConfigurationError, match=message):
        validate_args(args[0], args[1], args[2], load_config(path))
