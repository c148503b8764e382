"""The arguments checked against each other, the model's config and the machine: the one cross-field
validation of every entry point (finetune.py, preference_tune.py, interactive_generate.py).

Each value on its own is checked earlier, as the flags are parsed (ftkit.args.check_values); what needs the
model's config (its framework, its model type) or several arguments at once is checked here, after the
config is read and before a dataset is tokenised or a model loaded.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import PretrainedConfig, Seq2SeqTrainingArguments
from transformers.utils import is_flash_attn_2_available

from ftkit.args import (
    ConfigurationError,
    DataArguments,
    ModelArguments,
    PeftArguments,
    PreferenceArguments,
)
from ftkit.frameworks import CLM, Framework, framework_of

# T5 was pretrained in bfloat16; its activations overflow the fp16 range (inf/NaN losses).
FP16_UNSAFE_MODEL_TYPES = {"t5", "mt5", "umt5", "longt5", "switch_transformers"}
# Decoder-only families whose packed loss equals the padded loss (checked with 2-layer random models, sdpa
# and eager): they build the attention mask from per-example position_ids. OPT (positions from the attention
# mask) and BLOOM (ALiBi) do not, and their packed losses differ.
PACKING_MODEL_TYPES = {
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "gemma", "gemma2", "gemma3_text", "phi",
    "phi3", "gpt2", "gpt_bigcode", "gpt_neox", "olmo", "olmo2", "granite", "stablelm", "smollm3", "cohere",
    "starcoder2",
}  # fmt: skip
# Each action's input file, by the attribute name of both its flags (--do_train, --train_file).
INPUT_FILES = (("do_train", "train_file"), ("do_eval", "validation_file"), ("do_predict", "test_file"))


def resolve_framework(requested: str | None, config: PretrainedConfig, model: str | Path) -> Framework:
    """The framework of the model at `model`, which --framework (`requested`, None when not given) must agree
    with.

    Raises:
        ConfigurationError: --framework names the other framework.
    """
    framework = framework_of(config)
    if requested not in (None, framework.name):
        raise ConfigurationError(
            f"--framework {requested} contradicts the model: {model} is {framework.description} "
            f"({config.model_type}), which runs as {framework.name}. Pass --framework {framework.name} or "
            "leave it out."
        )
    return framework


def check_input_files(training_args: transformers.TrainingArguments, data_args: Any) -> None:
    """Each action that is on (--do_train, --do_eval, --do_predict) has its file flag, and each file given
    exists. `data_args` is any arguments object with some of train_file, validation_file, test_file; an
    action whose file it has no flag for is not checked (preference stages do not predict).

    Raises:
        ConfigurationError: a missing flag or file.
    """
    for action, file in INPUT_FILES:
        if not hasattr(data_args, file):
            continue
        path = getattr(data_args, file)
        if getattr(training_args, action) and path is None:
            raise ConfigurationError(f"--{action} needs --{file}.")
        if path is not None and not Path(path).is_file():
            raise ConfigurationError(f"--{file} {path}: no such file.")


def check_launch(training_args: transformers.TrainingArguments) -> None:
    """Every launched process joins the run.

    Raises:
        ConfigurationError: the Trainer sees fewer processes than were launched.
    """
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != training_args.world_size:
        raise ConfigurationError(
            f"{launched} processes were launched but the Trainer sees {training_args.world_size}: on a "
            "machine without GPUs, pass --use_cpu so every process joins the run."
        )


def validate_args(
    model_args: ModelArguments,
    data_args: DataArguments,
    training_args: Seq2SeqTrainingArguments,
    config: PretrainedConfig,
    peft_args: PeftArguments | None = None,
) -> Framework:
    """finetune.py's arguments against each other and the model config; the framework to use.

    Raises:
        ConfigurationError: a contradiction, with the fix in the message.
    """
    model = model_args.model_name_or_path
    framework = resolve_framework(model_args.framework, config, model)
    if training_args.fp16 and config.model_type in FP16_UNSAFE_MODEL_TYPES:
        raise ConfigurationError(
            f"--fp16 with {config.model_type} ({model}): T5-family models were "
            "pretrained in bfloat16 and their activations overflow fp16 (losses become inf/NaN). "
            "Use --bf16 (Ampere or newer GPUs) or full fp32 (no precision flag)."
        )
    if data_args.packing and framework is not CLM:
        raise ConfigurationError(
            f"--packing is for decoder-only (clm) models; {model} is {framework.name}. "
            "Drop --packing: its batches are length-grouped (--train_sampling_strategy group_by_length), "
            "which already leaves little padding."
        )
    if data_args.packing and config.model_type not in PACKING_MODEL_TYPES:
        raise ConfigurationError(
            f"--packing with {config.model_type}: its attention cannot keep packed examples apart "
            "(positions or ALiBi biases come from the attention mask), so the loss would change. Drop "
            f"--packing (length-grouped batches are the default). Packing works for: "
            f"{', '.join(sorted(PACKING_MODEL_TYPES))}."
        )
    if model_args.attn_implementation == "flash_attention_2":
        if not is_flash_attn_2_available():
            raise ConfigurationError(
                "--attn_implementation flash_attention_2 needs a CUDA GPU and the flash-attn package "
                "(pip install flash-attn --no-build-isolation). Use sdpa, or leave the flag out for the "
                "fastest available."
            )
        if not (training_args.bf16 or training_args.fp16):
            raise ConfigurationError(
                "--attn_implementation flash_attention_2 computes in bf16/fp16 only: add --bf16 "
                "(or --fp16), or use sdpa."
            )
    check_input_files(training_args, data_args)
    if not (training_args.do_train or training_args.do_eval or training_args.do_predict):
        raise ConfigurationError("nothing to do: pass at least one of --do_train, --do_eval, --do_predict.")
    check_launch(training_args)
    if peft_args is not None:
        validate_peft_args(peft_args, data_args)
    # Prediction means generation; evaluation without metrics still computes the loss only.
    training_args.predict_with_generate = training_args.predict_with_generate or training_args.do_predict
    return framework


def validate_peft_args(peft_args: PeftArguments, data_args: DataArguments) -> None:
    """The PEFT part of validate_args.

    Raises:
        ConfigurationError: a contradiction, with the fix in the message.
    """
    kind = peft_args.finetuning_type
    if peft_args.quantization_bit is not None:
        if kind != "lora":
            raise ConfigurationError(
                f"--quantization_bit {peft_args.quantization_bit} freezes the base weights in "
                f"{peft_args.quantization_bit} bits, so only adapters can train: add --finetuning_type lora "
                f"(QLoRA), not {kind}."
            )
        if not torch.cuda.is_available():
            raise ConfigurationError(
                f"--quantization_bit {peft_args.quantization_bit} (QLoRA) needs a CUDA GPU: bitsandbytes "
                "quantizes on the GPU. On this machine drop --quantization_bit (plain --finetuning_type lora "
                "trains the same adapters on full-precision weights)."
            )
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ConfigurationError(
                f"--quantization_bit {peft_args.quantization_bit} needs the bitsandbytes package: "
                "pip install bitsandbytes"
            )
    if peft_args.prompt_tuning_init_text is not None and kind != "prompt_tuning":
        raise ConfigurationError(
            f"--prompt_tuning_init_text is for --finetuning_type prompt_tuning, not {kind}: drop it."
        )
    if kind in ("prompt_tuning", "prefix_tuning", "p_tuning"):
        if data_args.packing:
            raise ConfigurationError(
                f"--packing with --finetuning_type {kind}: the virtual tokens are prepended once per row, "
                "so every packed example after the first would lose them. Drop --packing, or use lora/full."
            )


def validate_preference_args(
    model_args: ModelArguments,
    pref_args: PreferenceArguments,
    training_args: transformers.TrainingArguments,
    config: PretrainedConfig,
) -> None:
    """preference_tune.py's arguments against each other and the model config.

    Raises:
        ConfigurationError: a contradiction, with the fix in the message.
    """
    model = model_args.model_name_or_path
    framework = resolve_framework(model_args.framework, config, model)
    if framework is not CLM:
        raise ConfigurationError(
            f"--stage {pref_args.stage} needs a decoder-only (clm) model; {model} is {config.model_type}, "
            f"{framework.description}. TRL trains rm/dpo/grpo on causal LMs only: tune "
            f"{framework.description} with finetune.py (SFT), or pick a decoder-only model."
        )
    if not training_args.do_train:
        raise ConfigurationError(
            "preference_tune.py trains: pass --do_train (and --do_eval with --validation_file to evaluate)."
        )
    check_input_files(training_args, pref_args)
    if pref_args.reward_model_name_or_path and pref_args.stage != "grpo":
        raise ConfigurationError(
            "--reward_model_name_or_path is a GRPO reward; for rm and dpo the pairs are the signal."
        )
    if pref_args.reward_model_name_or_path and not Path(pref_args.reward_model_name_or_path).is_dir():
        raise ConfigurationError(
            f"--reward_model_name_or_path {pref_args.reward_model_name_or_path}: no such folder (train one "
            "with --stage rm)."
        )
    if (
        pref_args.stage == "grpo"
        and training_args.load_best_model_at_end
        and training_args.metric_for_best_model in ("loss", "eval_loss")
    ):
        raise ConfigurationError(
            "--load_best_model_at_end for grpo needs --metric_for_best_model reward: GRPO's evaluation loss "
            "is about 0 whatever the policy, so it is not logged."
        )
    check_launch(training_args)
