"""PEFT adapters on peft: building their configs, wrapping a model for training, loading and merging them.

  Types     lora (low-rank updates of linear layers; with --quantization_bit, QLoRA on a 4/8-bit base),
            prompt_tuning (learned input embeddings), prefix_tuning (learned per-layer keys/values),
            p_tuning (virtual-token embeddings from a small prompt encoder).
  Saving    A PeftModel saves adapter_config.json + adapter_model.safetensors only; the config names the
            base model (base_model_name_or_path). The Trainer's checkpoints and final save do the same.
  Loading   ftkit.modeling.load_config/load_tokenizer/load_model accept an adapter folder anywhere a model
            folder is accepted (finetune.py --do_predict, eval_gec.sh, interactive_generate.py) and load the
            base model + adapter: `read_adapter_config` detects the folder, `load_adapter` attaches it.
  Merging   `merge_adapter` folds LoRA into the base weights (scripts/merge_adapter.py); prompt-learning
            adapters are inputs, not weight updates, and cannot be merged.

Under DeepSpeed ZeRO-3 the base model is already partitioned when it is wrapped; the adapter weights are
created whole and partitioned by the DeepSpeed engine with the rest.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from peft import (
    LoraConfig,
    PeftConfig,
    PeftModel,
    PeftType,
    PrefixTuningConfig,
    PromptEncoderConfig,
    PromptTuningConfig,
    PromptTuningInit,
    get_peft_model,
    prepare_model_for_kbit_training,
)
from transformers import BitsAndBytesConfig, PreTrainedModel

from ftkit.args import PeftArguments
from ftkit.frameworks import Framework

logger = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"


def read_adapter_config(path: str | Path) -> dict[str, Any] | None:
    """The adapter_config.json of a PEFT adapter folder, or None when `path` is not one."""
    config = Path(path).expanduser() / ADAPTER_CONFIG
    if not config.is_file():
        return None
    return json.loads(config.read_text(encoding="utf-8"))


def lora_config(
    r: int,
    alpha: int,
    dropout: float,
    target: str,
    task_type: str,
    modules_to_save: list[str] | None = None,
) -> LoraConfig:
    """LoRA on `target`: "all-linear" (every linear layer but the output layer) or comma-separated names."""
    return LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=target if target == "all-linear" else [t.strip() for t in target.split(",")],
        task_type=task_type,
        modules_to_save=modules_to_save,
    )


def build_peft_config(args: PeftArguments, framework: Framework, tokenizer_name_or_path: str) -> PeftConfig:
    """The peft config for --finetuning_type (not full); `tokenizer_name_or_path` reads
    --prompt_tuning_init_text."""
    task_type = framework.peft_task_type
    kind = args.finetuning_type
    if kind == "lora":
        return lora_config(args.lora_r, args.lora_alpha, args.lora_dropout, args.lora_target, task_type)
    if kind == "prompt_tuning":
        init: dict[str, Any] = {}
        if args.prompt_tuning_init_text is not None:
            init = dict(
                prompt_tuning_init=PromptTuningInit.TEXT,
                prompt_tuning_init_text=args.prompt_tuning_init_text,
                tokenizer_name_or_path=tokenizer_name_or_path,
            )
        return PromptTuningConfig(task_type=task_type, num_virtual_tokens=args.num_virtual_tokens, **init)
    if kind == "prefix_tuning":
        return PrefixTuningConfig(task_type=task_type, num_virtual_tokens=args.num_virtual_tokens)
    if kind == "p_tuning":
        return PromptEncoderConfig(task_type=task_type, num_virtual_tokens=args.num_virtual_tokens)
    raise ValueError(f"no adapter for --finetuning_type {kind}")


def quantization_config(bits: int | None, compute_dtype: torch.dtype) -> BitsAndBytesConfig | None:
    """bitsandbytes settings for QLoRA: 4-bit NF4 with double quantization (the QLoRA paper's), or 8-bit."""
    if bits is None:
        return None
    if bits == 4:
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute_dtype,
        )
    return BitsAndBytesConfig(load_in_8bit=True)


def wrap_for_training(
    model: PreTrainedModel | PeftModel,
    args: PeftArguments,
    framework: Framework,
    tokenizer_name_or_path: str,
    gradient_checkpointing: bool = False,
) -> PreTrainedModel | PeftModel:
    """The model to train: itself for full finetuning, else wrapped in a new adapter (base weights frozen).

    A model loaded from an adapter folder (with is_trainable) keeps training that adapter.
    """
    if isinstance(model, PeftModel):
        logger.info("training the loaded %s adapter further", model.peft_config["default"].peft_type.value)
        return model
    if args.finetuning_type == "full":
        return model
    if args.quantization_bit is not None:
        # Casts norms to fp32 and makes the inputs require grads, as activation checkpointing needs.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    elif gradient_checkpointing:
        # Checkpointed blocks whose inputs need no grad would give the frozen base's adapters none.
        model.enable_input_require_grads()
    return get_peft_model(model, build_peft_config(args, framework, tokenizer_name_or_path))


def is_prompt_learning(model: torch.nn.Module) -> bool:
    """Whether `model` runs a prompt-learning adapter (prompt, prefix or p-tuning): one that prepends virtual
    tokens of its own (and labels for them) to every input, instead of changing weights."""
    peft_config = getattr(model, "active_peft_config", None)
    return peft_config is not None and peft_config.is_prompt_learning


def load_adapter(model: PreTrainedModel, adapter_path: str | Path, is_trainable: bool = False) -> PeftModel:
    """Attach the adapter saved in `adapter_path` to its base `model`; frozen unless `is_trainable`."""
    return PeftModel.from_pretrained(model, str(adapter_path), is_trainable=is_trainable)


def merge_adapter(model: PeftModel) -> PreTrainedModel:
    """The base model with the LoRA adapter folded into its weights (same outputs, no adapter).

    Raises:
        ValueError: the adapter is prompt learning, which changes the inputs, not the weights.
    """
    peft_type = model.peft_config[model.active_adapter].peft_type
    if peft_type != PeftType.LORA:
        raise ValueError(
            f"only LoRA adapters merge into the weights; a {peft_type.value} adapter learns virtual tokens "
            "fed with every input. Load the adapter folder directly instead (finetune.py --do_predict, "
            "interactive_generate.py)."
        )
    return model.merge_and_unload()
