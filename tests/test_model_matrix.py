"""The model matrix: every family of scripts/make_tiny_model.py through training, prediction, saving, LoRA,
truncation and the preference prompts, as a user runs them with the flags FAMILIES gives for that family.

Where each part runs (FAMILIES says which families, so the README's table cannot drift from this file):
  training     finetune.py under the deepspeed launcher with ZeRO-2 (slow: a launch each family). The trained
               model feeds the tests below.
  prediction   finetune.py --do_predict in process, 24 inputs of 2-60 tokens: one batch of 24 and one at a
               time (from an untrained model at 10x scale, whose output depends on the input); the trained
               folder, reloaded, and the model straight after training.
  LoRA         finetune.py --finetuning_type lora with the family's --lora_target, in process; then the
               adapter folder, merged, gives the same logits.
  truncation   ftkit.data.encode_dataset, in process.
  preference   ftkit.preference_data's DPO and GRPO encodings against SFT's (decoder-only families).
  ZeRO-3       prediction in two processes (synced generation) for the families marked zero3 (slow), from
               the 10x model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from make_tiny_model import FAMILIES, make_tiny_model, supported_models_table

import finetune
from conftest import REPO, SAMPLE, run_deepspeed
from ftkit.adapters import merge_adapter
from ftkit.data import IGNORE_INDEX, PaddingCollator, encode_dataset, keep_target_logits, load_dataset_file
from ftkit.frameworks import CLM, FRAMEWORKS, Framework
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.preference_data import encode_preference_dataset, grpo_dataset, read_gold_sentences
from ftkit.training import computes_target_logits_only

ZERO2 = REPO / "ds_configs" / "zero2.json"
ZERO3 = REPO / "ds_configs" / "zero3.json"
MAX_NEW_TOKENS = "12"
MAX_SOURCE_LENGTH = "256"  # the alpaca template alone is 150 tokens with the tiny llama's vocabulary


def template(family: str) -> str:
    """The family's template when it has an answer cue to keep (chat, gec, alpaca), else gec."""
    return FAMILIES[family].template if FAMILIES[family].template in ("chat", "alpaca") else "gec"


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    """24 inputs from 1 to 40 words (about 2 to 60 tokens), in one test file."""
    words = " ".join(
        json.loads(line)["source"]
        for line in (SAMPLE / "train.jsonl").read_text(encoding="utf-8").splitlines()
    ).split()
    lines = [" ".join(words[7 * i : 7 * i + 1 + round(39 * i / 23)]) for i in range(24)]
    path = tmp_path_factory.mktemp("matrix-inputs") / "source.txt"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def tiny_models(tmp_path_factory, weight_scale: float):
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            folder = tmp_path_factory.mktemp(f"matrix-{family}-x{weight_scale:g}")
            built[family] = make_tiny_model(family, folder, SAMPLE / "train.jsonl", weight_scale=weight_scale)
        return built[family]

    return get


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """models(family) -> a tiny model at its initialisation's scale, to train."""
    return tiny_models(tmp_path_factory, 1)


@pytest.fixture(scope="module")
def sharp_models(tmp_path_factory):
    """sharp_models(family) -> a tiny model at 10x that scale, to predict with: its greedy output depends on
    the input (at 1x, and after a few training steps, most rows get the same words or EOS at once)."""
    return tiny_models(tmp_path_factory, 10)


def predict(model: Path, family: str, sources: Path, batch_size: int, out: Path) -> list[str]:
    """finetune.py --do_predict's lines for `sources`, in process."""
    path = out / f"predictions-batch{batch_size}.txt"
    argv = [
        "--model_name_or_path", str(model), "--output_dir", str(out / f"run-batch{batch_size}"), "--use_cpu",
        "--prompt_template", template(family), "--max_source_length", MAX_SOURCE_LENGTH,
        *predict_argv(sources, batch_size, path), *remote_code_flag(family),
    ]  # fmt: skip
    assert finetune.main(argv) == 0
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def sharp_predictions(sharp_models, sources, tmp_path_factory):
    """sharp_predictions(family) -> the sharp model's predictions for the 24 sources in one batch."""
    done: dict[str, list[str]] = {}

    def get(family: str) -> list[str]:
        if family not in done:
            out = tmp_path_factory.mktemp(f"sharp-predictions-{family}")
            done[family] = predict(sharp_models(family), family, sources, 24, out)
        return done[family]

    return get


def train_argv(model: Path, output_dir: Path, family: str, *extra: str) -> list[str]:
    return [
        "--model_name_or_path", str(model), "--train_file", str(SAMPLE / "train.jsonl"),
        "--max_train_samples", "64", "--per_device_train_batch_size", "8", "--max_steps", "8",
        "--learning_rate", "2e-3", "--output_dir", str(output_dir), "--do_train", "--save_strategy", "no",
        "--prompt_template", template(family), "--max_source_length", MAX_SOURCE_LENGTH,
        "--max_target_length", "64", *remote_code_flag(family), *extra,
    ]  # fmt: skip


def remote_code_flag(family: str) -> list[str]:
    return ["--trust_remote_code"] if FAMILIES[family].remote_code else []


def load(path: Path, family: str):
    """(tokenizer, fp32 model) of a folder of `family`, as ftkit loads them."""
    trust = FAMILIES[family].remote_code
    tokenizer = load_tokenizer(str(path), trust)
    config = load_config(str(path), trust)
    model = load_model(
        str(path), FRAMEWORKS[FAMILIES[family].framework], config, tokenizer, torch.float32, trust
    )
    return tokenizer, model.eval()


def predict_argv(sources: Path, batch_size: int, predictions: Path) -> list[str]:
    return [
        "--do_predict", "--test_file", str(sources), "--per_device_eval_batch_size", str(batch_size),
        "--generation_max_length", MAX_NEW_TOKENS, "--predictions_file", str(predictions),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def trained(models, sources, tmp_path_factory):
    """trained(family) -> (folder of the model trained 8 steps, its predictions straight after training)."""
    runs: dict[str, tuple[Path, Path]] = {}

    def get(family: str) -> tuple[Path, Path]:
        if family not in runs:
            out = tmp_path_factory.mktemp(f"trained-{family}")
            after_training = out.parent / f"{out.name}-predictions.txt"
            argv = train_argv(models(family), out, family, *predict_argv(sources, 24, after_training))
            run_deepspeed(["--deepspeed", str(ZERO2), *argv])
            runs[family] = out, after_training
        return runs[family]

    return get


def fixed_batch_loss(path: Path, family: str) -> float:
    tokenizer, model = load(path, family)
    framework = FRAMEWORKS[FAMILIES[family].framework]
    dataset = encode_dataset(
        load_dataset_file(SAMPLE / "train.jsonl", True, 16), framework, tokenizer, template(family), 256, 64
    )
    with torch.no_grad():
        return model(**PaddingCollator(tokenizer)([dict(row) for row in dataset])).loss.item()


def weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(path / "model.safetensors")


@pytest.mark.slow  # a deepspeed launch per family
@pytest.mark.parametrize("family", FAMILIES)
def test_training_lowers_the_loss_and_changes_every_parameter(models, trained, family):
    out, _ = trained(family)
    before, after = weights(models(family)), weights(out)
    _, model = load(out, family)
    buffers = {name for name, _ in model.named_buffers()}  # BART's final_logits_bias is not trained
    unchanged = [
        name for name in before.keys() - buffers if name in after and torch.equal(before[name], after[name])
    ]
    assert not unchanged, f"parameters that did not change: {unchanged}"
    assert fixed_batch_loss(out, family) < fixed_batch_loss(models(family), family) - 0.1


@pytest.mark.parametrize("family", [f for f in FAMILIES if FAMILIES[f].framework == "clm"])
def test_target_logits_only_give_the_whole_batchs_loss_and_gradients(models, family):
    """Training computes a decoder-only batch's logits from its first target on (keep_target_logits) where
    the family's forward takes logits_to_keep: each family's own loss function must then give the loss and
    gradients of the whole batch."""
    tokenizer, model = load(models(family), family)
    if not computes_target_logits_only(model):
        pytest.skip(f"{family}: training computes every logit (no logits_to_keep)")
    dataset = encode_dataset(
        load_dataset_file(SAMPLE / "train.jsonl", True, 8), CLM, tokenizer, template(family), 256, 64
    )
    batch = PaddingCollator(tokenizer)([dict(row) for row in dataset])
    cut = keep_target_logits(batch)
    assert cut["logits_to_keep"] < batch["input_ids"].shape[1]  # the batch was cut
    results = []
    for inputs in (batch, cut):
        model.zero_grad()
        loss = model(**inputs).loss
        loss.backward()
        results.append((loss.item(), [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    (full_loss, full_grads), (cut_loss, cut_grads) = results
    assert cut_loss == pytest.approx(full_loss, rel=1e-5)
    for full, part in zip(full_grads, cut_grads, strict=True):
        torch.testing.assert_close(part, full, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_batched_equals_single_greedy_predictions(sharp_models, sharp_predictions, sources, tmp_path, family):
    batched = sharp_predictions(family)
    single = predict(sharp_models(family), family, sources, 1, tmp_path)
    assert len(batched) == 24
    assert len(set(batched)) >= 12, "predictions that hardly depend on the input test nothing"
    differ = [i for i in range(24) if batched[i] != single[i]]
    assert not differ, f"rows whose prediction depends on the batch: {differ}"


@pytest.mark.slow  # it needs the ZeRO-2 run
@pytest.mark.parametrize("family", FAMILIES)
def test_saved_and_reloaded_predicts_as_in_memory(trained, sources, tmp_path, family):
    out, after_training = trained(family)
    assert (
        predict(out, family, sources, 24, tmp_path) == after_training.read_text(encoding="utf-8").splitlines()
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_lora_trains_and_merges_to_the_same_logits(models, tmp_path, family):
    lora = FAMILIES[family].lora_target
    argv = train_argv(models(family), tmp_path, family, "--use_cpu", "--finetuning_type", "lora")
    assert finetune.main([*argv, "--lora_target", lora, "--max_steps", "3"]) == 0
    tokenizer, adapted = load(tmp_path, family)
    framework = FRAMEWORKS[FAMILIES[family].framework]
    lora_b = [p for name, p in adapted.named_parameters() if "lora_B" in name]
    assert lora_b and all(p.abs().sum() > 0 for p in lora_b), "LoRA's B matrices start at 0 and must train"
    batch = tokenizer(["he go to school .", "She have two cat ."], return_tensors="pt", padding=True)
    if framework.encoder_decoder:
        batch["decoder_input_ids"] = torch.full((2, 3), adapted.config.decoder_start_token_id)
    with torch.no_grad():
        expected = adapted(**batch).logits
        merged = merge_adapter(adapted)
        torch.testing.assert_close(merged(**batch).logits, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_long_source_keeps_the_answer_cue(models, family):
    tokenizer = load_tokenizer(str(models(family)), FAMILIES[family].remote_code)
    framework = FRAMEWORKS[FAMILIES[family].framework]
    rows = {"source": ["word " * 200 + "end", "short one"], "target": ["fixed", "fixed"]}
    full = encode_dataset(Dataset.from_dict(rows), framework, tokenizer, template(family), 10**6, 64)
    limit = len(prompt_ids(full[1], framework)) + 8  # room for a few source tokens
    cut = encode_dataset(Dataset.from_dict(rows), framework, tokenizer, template(family), limit, 64)
    long, short = (prompt_ids(row, framework) for row in full)
    # The answer cue (Corrected:, the assistant header...) is what every prompt ends with.
    cue = next(long[-n:] for n in range(1, len(short) + 1) if long[-n - 1] != short[-n - 1])
    assert len(cue) >= 2
    cut_long, cut_short = (prompt_ids(row, framework) for row in cut)
    assert len(cut_long) <= limit < len(long)
    assert cut_long[-len(cue) :] == cue
    assert cut_short == short


def prompt_ids(row: dict, framework: Framework) -> list[int]:
    if framework.encoder_decoder:
        return row["input_ids"]
    return row["input_ids"][: row["labels"].count(IGNORE_INDEX)]


@pytest.mark.parametrize("family", [name for name, f in FAMILIES.items() if f.framework == "clm"])
def test_sft_prompts_are_dpo_and_grpo_prompts_token_for_token(models, tmp_path, family):
    tokenizer = load_tokenizer(str(models(family)), FAMILIES[family].remote_code)
    gold = tmp_path / "gold.jsonl"
    rows = [
        {"source": "he go to school .", "target": "He goes to school ."},
        {"source": "a b", "target": "a b"},
    ]
    gold.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    sft = encode_dataset(Dataset.from_list(rows), CLM, tokenizer, template(family), 256, 64)
    sft_prompts = [prompt_ids(row, CLM) for row in sft]
    pairs = {
        "prompt": [r["source"] for r in rows],
        "chosen": [r["target"] for r in rows],
        "rejected": ["x", "y"],
    }
    dpo = encode_preference_dataset(pairs, "dpo", tokenizer, template(family), 256, 64)
    grpo = grpo_dataset(read_gold_sentences(gold), template(family), tokenizer, 256)
    assert dpo["prompt_ids"] == sft_prompts
    assert grpo["prompt_ids"] == sft_prompts
    for prompt in sft_prompts:
        if tokenizer.bos_token_id is not None:
            assert prompt.count(tokenizer.bos_token_id) <= 1, "double BOS"


@pytest.mark.slow
@pytest.mark.parametrize("family", [name for name, f in FAMILIES.items() if f.zero3])
def test_zero3_prediction_in_two_processes_equals_one_process(
    sharp_models, sharp_predictions, sources, tmp_path, family
):
    predictions = tmp_path / "zero3.txt"
    run_deepspeed(
        [
            "--deepspeed",
            str(ZERO3),
            "--model_name_or_path",
            str(sharp_models(family)),
            "--output_dir",
            str(tmp_path / "run"),
            "--prompt_template",
            template(family),
            "--max_source_length",
            MAX_SOURCE_LENGTH,
            *predict_argv(sources, 5, predictions),
        ],  # fmt: skip
        nproc=2,
    )
    assert predictions.read_text(encoding="utf-8").splitlines() == sharp_predictions(family)


def test_readme_table_is_the_families_table():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    if "## Supported models" not in readme:
        pytest.skip("README has no Supported models section yet (the lead merges it)")
    assert supported_models_table() in readme
