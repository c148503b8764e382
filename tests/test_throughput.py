"""Throughput: length-grouped batches by default, tokens/s, padding and MFU in the logs, the benchmark."""

import json
import re

import bench_train
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, Seq2SeqTrainingArguments

import finetune
from conftest import SAMPLE
from ftkit.args import ConfigurationError, DataArguments, parse_args
from ftkit.data import encode_dataset, load_dataset_file
from ftkit.frameworks import CLM, SEQ2SEQ
from ftkit.modeling import fastest_attn_implementation, load_config, load_model, load_tokenizer
from ftkit.templates import DEFAULT_TEMPLATE
from ftkit.throughput import ModelFlops, ThroughputCallback, peak_flops
from ftkit.training import build_trainer, computes_target_logits_only
from ftkit.validation import validate_args


def base_args(model, out):
    return [
        "--model_name_or_path",
        str(model),
        "--train_file",
        str(SAMPLE / "train.jsonl"),
        "--output_dir",
        str(out),
        "--do_train",
        "--use_cpu",
    ]


def test_training_batches_are_grouped_by_length_unless_asked_otherwise(tmp_path):
    assert parse_args(base_args("m", tmp_path))[2].train_sampling_strategy == "group_by_length"
    chosen = parse_args(base_args("m", tmp_path) + ["--train_sampling_strategy", "random"])
    assert chosen[2].train_sampling_strategy == "random"


def test_logs_carry_throughput_figures_for_reporting_too(tiny_model, tmp_path):
    path, run = tiny_model("t5"), tmp_path / "run"
    argv = base_args(path, run) + [
        "--max_train_samples", "32", "--max_steps", "4", "--per_device_train_batch_size", "8",
        "--train_sampling_strategy", "sequential", "--logging_steps", "2", "--report_to", "tensorboard",
        "--save_strategy", "no",
    ]  # fmt: skip
    assert finetune.main(argv) == 0

    # Batches of 8 rows in file order: each computes 8 x (longest source + longest target) positions, of
    # which the rows' own lengths are not padding.
    data = encode_dataset(
        load_dataset_file(SAMPLE / "train.jsonl", True, 32),
        SEQ2SEQ,
        load_tokenizer(str(path)),
        DEFAULT_TEMPLATE,
        DataArguments.max_source_length,
        DataArguments.max_target_length,
    )
    sources, targets = [len(ids) for ids in data["input_ids"]], [len(ids) for ids in data["labels"]]
    every, real = [], []
    for start in range(0, 32, 8):
        rows = slice(start, start + 8)
        every.append(8 * (max(sources[rows]) + max(targets[rows])))
        real.append(sum(sources[rows]) + sum(targets[rows]))
    history = json.loads((run / "trainer_state.json").read_text())["log_history"]
    steps = [row for row in history if "loss" in row]
    assert [row["step"] for row in steps] == [2, 4]
    for row, batches in zip(steps, (slice(0, 2), slice(2, 4)), strict=True):
        share = sum(real[batches]) / sum(every[batches])
        assert row["padding_fraction"] == round(1 - share, 4) > 0
        assert row["nonpad_tokens_per_second"] == pytest.approx(share * row["tokens_per_second"], abs=0.2)
        assert row["samples_per_second"] > 0 and row["peak_memory_gib"] > 0
        assert "mfu" not in row  # CPU: no peak FLOP/s to compare against
    final = json.loads((run / "train_results.json").read_text())
    share = sum(real) / sum(every)
    assert final["train_padding_fraction"] == round(1 - share, 4)
    assert final["train_nonpad_tokens_per_second"] == pytest.approx(
        share * final["train_tokens_per_second"], abs=0.2
    )
    assert final["train_peak_memory_gib"] >= max(row["peak_memory_gib"] for row in steps)

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = run.rglob("events.out.tfevents*")
    tags = EventAccumulator(str(events)).Reload().Tags()["scalars"]
    assert {"train/nonpad_tokens_per_second", "train/padding_fraction", "train/peak_memory_gib"} <= set(tags)


def test_counts_real_tokens_padding_and_packed_examples():
    callback = ThroughputCallback()
    callback._encoder_decoder = True
    callback.count(
        {
            "input_ids": torch.ones(2, 5, dtype=torch.long),
            "attention_mask": torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]),
            "labels": torch.tensor([[7, 8, -100], [7, 8, 9]]),
        }
    )
    assert callback._counts.tolist() == [10, 8, 6, 5, 2]  # encoder all/real, decoder all/real, samples

    callback = ThroughputCallback()
    callback.count(
        {
            "input_ids": torch.ones(1, 9, dtype=torch.long),
            "position_ids": torch.tensor([[0, 1, 2, 0, 1, 0, 1, 2, 3]]),
        }
    )
    assert callback._counts.tolist() == [0, 0, 9, 9, 3]

    callback = ThroughputCallback()  # GRPO: prompts padded on the left, completions on the right
    callback.count(
        {
            "prompt_ids": torch.ones(2, 3, dtype=torch.long),
            "prompt_mask": torch.tensor([[0, 1, 1], [1, 1, 1]]),
            "completion_ids": torch.ones(2, 4, dtype=torch.long),
            "completion_mask": torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]]),
        }
    )
    assert callback._counts.tolist() == [0, 0, 14, 11, 2]


@pytest.mark.parametrize(
    "name, flops",
    [
        ("NVIDIA H100 80GB HBM3", 989e12),
        ("NVIDIA H100 PCIe", 756e12),
        ("NVIDIA A100-SXM4-40GB", 312e12),
        ("Tesla V100-SXM2-16GB", 125e12),
        ("NVIDIA GeForce RTX 3090", None),
    ],
)
def test_peak_flops_by_gpu_name(monkeypatch, name, flops):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)
    assert peak_flops("cuda:0") == flops
    assert peak_flops("cpu") is None


@pytest.mark.parametrize("tied", [False, True])
def test_model_flops_count_matmul_parameters_and_attention(tied):
    config = LlamaConfig(
        vocab_size=1000, hidden_size=64, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, tie_word_embeddings=tied,
    )  # fmt: skip
    flops = ModelFlops.of(LlamaForCausalLM(config))
    # Per layer: q, k, v, o 4 x 64 x 64, MLP 3 x 64 x 256, two norms 2 x 64; the final norm 64; the output
    # projection 1000 x 64 (the input embedding is a lookup: not counted, unless it is the output projection).
    assert flops == ModelFlops(
        encoder_params=0, decoder_params=2 * (16384 + 49152 + 128) + 64 + 64000, encoder_layers=0,
        decoder_layers=2, width=64,
    )  # fmt: skip
    # 10 examples of 30 tokens: 6 x 195,392 per token plus 12 x 2 layers x 64 x 30 keys for attention.
    assert flops.training_flops(0, 300, 10) == 300 * (6 * 195392 + 12 * 2 * 64 * 30) == 365529600

    callback = ThroughputCallback()
    callback._flops, callback._peak = flops, 1e9
    figures = callback._figures(torch.tensor([0, 0, 400.0, 300.0, 10]), seconds=2.0, world_size=1)
    assert figures["padding_fraction"] == 0.25 and figures["nonpad_tokens_per_second"] == 150
    assert figures["mfu"] == round(365529600 / 2 / 1e9, 4) == 0.1828


def test_attention_implementation_is_selectable_and_defaults_to_the_fastest(tiny_model, tmp_path):
    path = str(tiny_model("llama"))
    config, tokenizer = load_config(path), load_tokenizer(path)
    assert fastest_attn_implementation(CLM, config, half_precision=True) is None  # no CUDA here: SDPA
    assert load_model(path, CLM, config, tokenizer).config._attn_implementation == "sdpa"
    eager = load_model(path, CLM, load_config(path), tokenizer, attn_implementation="eager")
    assert eager.config._attn_implementation == "eager"
    args = parse_args(base_args(path, tmp_path) + ["--attn_implementation", "flash_attention_2", "--bf16"])
    with pytest.raises(ConfigurationError, match="flash_attention_2 needs a CUDA GPU"):
        validate_args(args[0], args[1], args[2], config)


def test_training_batches_use_the_target_logits_only_and_give_the_whole_batch_loss(tiny_model, tmp_path):
    path = str(tiny_model("llama"))
    tokenizer = load_tokenizer(path)
    model = load_model(path, CLM, load_config(path), tokenizer, torch.float32)
    data = encode_dataset(load_dataset_file(SAMPLE / "train.jsonl", True, 8), CLM, tokenizer, "gec", 256, 256)
    args = Seq2SeqTrainingArguments(str(tmp_path), use_cpu=True, per_device_train_batch_size=8)
    trainer = build_trainer(model, tokenizer, args, CLM, train_dataset=data)
    (batch,) = trainer.get_train_dataloader()
    # The cut is found on the CPU as the batch is collated: a plain int, no device tensor to wait for.
    assert type(batch["logits_to_keep"]) is int
    whole = trainer.data_collator([dict(row) for row in data])  # evaluation and prediction batches
    assert "logits_to_keep" not in whole
    model.train()
    loss, outputs = trainer.compute_loss(model, batch, return_outputs=True)
    assert outputs.logits.shape[1] == batch["logits_to_keep"] < whole["input_ids"].shape[1]
    with torch.no_grad():
        assert loss.item() == pytest.approx(model(**whole).loss.item(), rel=1e-6)
    t5 = str(tiny_model("t5"))
    assert computes_target_logits_only(model)
    assert not computes_target_logits_only(load_model(t5, SEQ2SEQ, load_config(t5), load_tokenizer(t5)))


def test_bench_train_token_check_names_the_first_differing_example():
    ours = {"input_tokens": [5, 7, 9], "trained_tokens": [2, 3, 4]}
    assert (
        bench_train.count_mismatch(ours, {"input_tokens": [5, 7, 9], "trained_tokens": [2, 3, 4]}, False)
        is None
    )
    one_more = {"input_tokens": [5, 8, 9], "trained_tokens": [2, 3, 4]}
    assert bench_train.count_mismatch(ours, one_more, False) == "input_tokens of example 1: 8, ours 7"
    assert bench_train.count_mismatch(ours, {"input_tokens": [5, 7], "trained_tokens": [2, 3]}, False)
    # Packed rows hold several examples: only the totals compare.
    packed = {"input_tokens": [12, 9], "trained_tokens": [5, 4]}
    assert bench_train.count_mismatch(ours, packed, True) is None
    assert bench_train.count_mismatch(ours, {**packed, "trained_tokens": [5, 5]}, True) == (
        "trained_tokens: 10 in all, ours 9"
    )


def test_bench_train_peers_are_chosen_by_family_or_name_and_must_be_installed(tmp_path):
    names = lambda systems: [s.name for s in systems]  # noqa: E731
    assert names(bench_train.select_systems("hf,trl_padding_free", tmp_path)) == [
        "ours",
        "hf",
        "trl_padding_free",
    ]
    assert names(bench_train.select_systems("trl", tmp_path)) == ["ours", "trl", "trl_padding_free"]
    assert "llamafactory" not in names(bench_train.select_systems(None, tmp_path))  # no venv in tmp_path
    with pytest.raises(SystemExit, match="--make_peer_venvs"):
        bench_train.select_systems("llamafactory", tmp_path)
    with pytest.raises(SystemExit, match="unknown axolotl"):
        bench_train.select_systems("hf,axolotl", tmp_path)


@pytest.mark.slow
def test_bench_train_races_the_peers_on_the_same_tokens(tiny_model, tmp_path, capsys):
    argv = [
        "--model", str(tiny_model("llama")), "--data", str(SAMPLE / "train.jsonl"), "--steps", "2",
        "--batch_size", "4", "--eval_samples", "8", "--repeats", "1", "--engines", "plain",
        "--peers", "hf,trl_padding_free", "--output_dir", str(tmp_path),
    ]  # fmt: skip
    assert bench_train.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("token counts: every system trained on the same") for line in lines)
    assert sum(line.startswith("| ") and "| no DeepSpeed |" in line for line in lines) == 3
    assert re.fullmatch(
        r"non-padding tokens/s vs best peer, no DeepSpeed: "
        r"ours \d+, best peer \d+ \((hf|trl_padding_free)\), ratio \d+\.\d\d",
        lines[-1],
    )
    # The peers recorded the tokens they trained on: the same as ours' encoding, example by example.
    hf = json.loads((tmp_path / "runs" / "hf-plain-0" / "bench_results.json").read_text())
    assert len(hf["input_tokens"]) == 8 and sum(hf["trained_tokens"]) < sum(hf["input_tokens"])
