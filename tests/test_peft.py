"""PEFT adapters (ftkit.adapters): only adapter weights train, adapters save alone, reload and merge exactly.

In-process checks cover every --finetuning_type on tiny T5 (seq2seq) and LLaMA (clm); launcher runs cover
LoRA and prompt tuning under ZeRO-2 on both, LoRA under ZeRO-3, each predicting again from the saved
adapter folder.
"""

import json

import pytest
import torch
from safetensors.torch import load_file

import finetune
import interactive_generate
from conftest import EVAL_SAMPLE, REPO, SAMPLE, run_deepspeed
from ftkit.adapters import merge_adapter as merge_into_weights
from ftkit.adapters import wrap_for_training
from ftkit.args import PeftArguments
from ftkit.commands import merge_adapter
from ftkit.data import PaddingCollator, encode_dataset, load_dataset_file
from ftkit.frameworks import CLM, SEQ2SEQ
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.throughput import count_parameters

FRAMEWORK = {"t5": SEQ2SEQ, "llama": CLM}
TYPES = ("lora", "prompt_tuning", "prefix_tuning", "p_tuning")


def load(path, framework):
    tokenizer = load_tokenizer(str(path))
    model = load_model(str(path), framework, load_config(str(path)), tokenizer, dtype=torch.float32)
    return model, tokenizer


def batch_of(tokenizer, framework, n=8, targets=True, padding_side="right"):
    dataset = load_dataset_file(SAMPLE / "train.jsonl", True, n)
    if not targets:
        dataset = dataset.remove_columns("target")
    encoded = encode_dataset(dataset, framework, tokenizer, "gec", 64, 64)
    return PaddingCollator(tokenizer, padding_side)([dict(row) for row in encoded])


def trained_adapter(path, framework, finetuning_type, steps=3):
    """(model, tokenizer, weights before training) after a few AdamW steps on 8 examples with a new adapter.

    The weights before are the base model's and the fresh adapter's, by their names in the wrapped model.
    """
    model, tokenizer = load(path, framework)
    args = PeftArguments(finetuning_type=finetuning_type, num_virtual_tokens=4)
    model = wrap_for_training(model, args, framework, str(path))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    batch = batch_of(tokenizer, framework)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(steps):
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval(), tokenizer, before


def greedy(model, tokenizer, framework):
    batch = batch_of(tokenizer, framework, n=4, targets=False, padding_side="left")
    with torch.no_grad():
        return model.generate(**batch, max_new_tokens=6, do_sample=False).tolist()


@pytest.mark.parametrize("finetuning_type", TYPES)
@pytest.mark.parametrize("family", ["t5", "llama"])
def test_only_adapter_parameters_train(tiny_model, family, finetuning_type):
    model, _, before = trained_adapter(tiny_model(family), FRAMEWORK[family], finetuning_type)
    after = dict(model.named_parameters())
    trainable = {n for n, p in after.items() if p.requires_grad}
    assert trainable
    changed = {n for n, p in after.items() if not torch.equal(p, before[n])}
    # Every adapter weight moved (LoRA's B starts at zero; A follows from step 2), no base weight did.
    assert changed == trainable, f"base weights changed: {changed - trainable}; stuck: {trainable - changed}"
    counted, total = count_parameters(model)
    assert counted == sum(after[n].numel() for n in trainable)
    assert total == sum(p.numel() for p in after.values())
    assert 0 < counted < total / 2  # r=16 on a tiny model is a large share; on real models well under 1%


@pytest.mark.parametrize("finetuning_type", TYPES)
def test_saved_adapter_reloads_with_the_same_predictions(tiny_model, tmp_path, finetuning_type):
    family = "llama" if finetuning_type in ("lora", "prefix_tuning") else "t5"
    path, framework = tiny_model(family), FRAMEWORK[family]
    model, tokenizer, _ = trained_adapter(path, framework, finetuning_type)
    model.save_pretrained(tmp_path)
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in tmp_path.iterdir()}
    assert not (tmp_path / "model.safetensors").exists()
    assert json.loads((tmp_path / "adapter_config.json").read_text())["base_model_name_or_path"] == str(path)

    # The loaders take the adapter folder as a model folder: config and tokenizer come from the base.
    assert load_config(str(tmp_path)).model_type == family
    reloaded, reloaded_tokenizer = load(tmp_path, framework)
    reloaded.eval()
    batch = batch_of(tokenizer, framework)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**batch).logits, model(**batch).logits, atol=1e-5, rtol=1e-5)
    assert greedy(reloaded, reloaded_tokenizer, framework) == greedy(model, tokenizer, framework)

    # The REPL loads the adapter folder as well.
    args = interactive_generate.build_parser().parse_args(["--model_name_or_path", str(tmp_path)])
    session = interactive_generate.load_session(args, tmp_path / "scratch")
    with torch.no_grad():
        torch.testing.assert_close(session.model(**batch).logits, model(**batch).logits, atol=1e-5, rtol=1e-5)


def test_merged_lora_gives_the_same_logits_and_the_script_writes_a_plain_model(tiny_model, tmp_path):
    path = tiny_model("llama")
    model, tokenizer, _ = trained_adapter(path, CLM, "lora")
    model.save_pretrained(tmp_path / "adapter")
    batch = batch_of(tokenizer, CLM)
    with torch.no_grad():
        unmerged = model(**batch).logits
        merged = merge_into_weights(load(tmp_path / "adapter", CLM)[0])(**batch).logits
    torch.testing.assert_close(merged, unmerged, atol=1e-5, rtol=1e-5)

    argv = ["--adapter", str(tmp_path / "adapter"), "--out", str(tmp_path / "merged")]
    assert merge_adapter.main(argv) == 0
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    plain, _ = load(tmp_path / "merged", CLM)
    assert type(plain).__name__ == "LlamaForCausalLM"
    with torch.no_grad():
        torch.testing.assert_close(plain(**batch).logits, unmerged, atol=1e-5, rtol=1e-5)


def test_prompt_learning_adapters_do_not_merge(tiny_model, tmp_path, capsys):
    model, _, _ = trained_adapter(tiny_model("t5"), SEQ2SEQ, "prompt_tuning", steps=1)
    model.save_pretrained(tmp_path / "adapter")
    assert merge_adapter.main(["--adapter", str(tmp_path / "adapter"), "--out", str(tmp_path / "m")]) == 2
    assert "only LoRA adapters merge" in capsys.readouterr().err


def test_quantization_without_a_gpu_is_a_configuration_error(tiny_model, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: QLoRA may run")
    argv = [
        "--model_name_or_path", str(tiny_model("llama")), "--train_file", str(SAMPLE / "train.jsonl"),
        "--output_dir", str(tmp_path / "run"), "--do_train", "--use_cpu",
        "--finetuning_type", "lora", "--quantization_bit", "4",
    ]  # fmt: skip
    assert finetune.main(argv) == 2
    err = capsys.readouterr().err
    assert "--quantization_bit 4 (QLoRA) needs a CUDA GPU" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


# ---- Under DeepSpeed, through finetune.py ----


def train_and_predict(base, run_dir, config, finetuning_type, test_file):
    return run_deepspeed(
        [
            "--deepspeed",
            str(REPO / "ds_configs" / config),
            "--model_name_or_path",
            str(base),
            "--train_file",
            str(SAMPLE / "train.jsonl"),
            "--max_train_samples",
            "32",
            "--test_file",
            str(test_file),
            "--output_dir",
            str(run_dir),
            "--do_train",
            "--do_predict",
            "--max_steps",
            "4",
            "--per_device_train_batch_size",
            "8",
            "--learning_rate",
            "1e-2",
            "--logging_steps",
            "1",
            "--save_strategy",
            "no",
            "--generation_max_length",
            "8",
            "--finetuning_type",
            finetuning_type,
            "--num_virtual_tokens",
            "4",
        ]  # fmt: skip
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "family, finetuning_type, config",
    [
        ("t5", "lora", "zero2.json"),
        ("llama", "lora", "zero2.json"),
        ("t5", "prompt_tuning", "zero2.json"),
        ("llama", "prompt_tuning", "zero2.json"),
        ("llama", "lora", "zero3.json"),
    ],
)
def test_deepspeed_saves_the_adapter_only_and_predicts_the_same_from_it(
    tiny_model, tmp_path, family, finetuning_type, config
):
    test_file = tmp_path / "test.txt"
    test_file.write_text("".join(EVAL_SAMPLE.joinpath("source.txt").read_text().splitlines(True)[:6]))
    run_dir = tmp_path / "run"
    result = train_and_predict(tiny_model(family), run_dir, config, finetuning_type, test_file)

    # The log states the adapter's share of the parameters.
    line = next(line for line in result.stdout.splitlines() if "parameters: trainable" in line)
    share = float(line.split("(trainable ")[1].rstrip("%)"))
    assert 0 < share < 50  # of a tiny model; an adapter is well under 1% of a real one

    assert not (run_dir / "model.safetensors").exists()
    adapter = load_file(run_dir / "adapter_model.safetensors")
    if finetuning_type == "lora":
        assert all(t.abs().sum() > 0 for name, t in adapter.items() if "lora_B" in name)
    else:
        assert list(adapter) == ["prompt_embeddings"]

    # --do_predict from the adapter folder (as eval_gec.sh runs it) gives the in-run predictions.
    reloaded = tmp_path / "reloaded.txt"
    argv = [
        "--model_name_or_path", str(run_dir), "--test_file", str(test_file), "--do_predict", "--use_cpu",
        "--output_dir", str(tmp_path / "predict"), "--predictions_file", str(reloaded),
        "--generation_max_length", "8",
    ]  # fmt: skip
    assert finetune.main(argv) == 0
    assert reloaded.read_text() == (run_dir / "generated_predictions.txt").read_text()
