"""Loading the tokenizer and model: the one place that branches on seq2seq vs clm."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

logger = logging.getLogger(__name__)


class ModelLoadError(OSError):
    """A model that cannot be found or read; the message says where we looked."""


def load_config(name_or_path: str, trust_remote_code: bool = False) -> PretrainedConfig:
    """Load a model config from a folder or hub id.

    Raises:
        ModelLoadError: the path does not exist, or the id cannot be resolved (no network, private repo...).
    """
    # Hub ids are "name" or "org/name"; anything else is meant as a local folder.
    looks_like_path = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if looks_like_path and not Path(name_or_path).expanduser().exists():
        raise ModelLoadError(
            f"model path {name_or_path} does not exist. Pass a folder written by save_pretrained "
            "(config.json, weights, tokenizer files) or a hub id such as google/flan-t5-base."
        )
    try:
        return AutoConfig.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        where = "folder" if Path(name_or_path).exists() else "hub id"
        raise ModelLoadError(
            f"cannot load a model config from {where} {name_or_path!r}: {e}\n"
            "A folder needs config.json; a hub id needs network access (or a cache: HF_HOME) and, "
            "with HF_HUB_OFFLINE=1, a cached copy."
        ) from None


def load_tokenizer(
    name_or_path: str, framework: str, trust_remote_code: bool = False
) -> PreTrainedTokenizerBase:
    """Load the tokenizer; decoder-only models get a pad token (EOS when they have none)."""
    tokenizer = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    if tokenizer.pad_token_id is None:
        # GPT2/LLaMA ship without a pad token. Padded positions are masked in attention and loss, so any
        # id works; EOS adds no new embedding row.
        tokenizer.pad_token = tokenizer.eos_token
        logger.info("tokenizer has no pad token; using EOS (%r)", tokenizer.eos_token)
    # Right padding for training; generation batches are padded on the left by their collator.
    tokenizer.padding_side = "right"
    return tokenizer


def weights_dtype(training: bool, deepspeed: bool, bf16: bool, fp16: bool) -> torch.dtype | str:
    """The dtype to load weights in.

    Training with the plain Trainer needs fp32 weights (autocast computes in 16 bits, the optimizer
    updates fp32). DeepSpeed keeps its own fp32 master copy and casts the model itself, so it loads the
    checkpoint's own dtype ("auto"): a bf16 checkpoint is never upcast in CPU memory. Prediction loads
    the requested 16-bit dtype directly.
    """
    if training:
        return "auto" if deepspeed else torch.float32
    return torch.bfloat16 if bf16 else torch.float16 if fp16 else "auto"


def load_model(
    name_or_path: str,
    framework: str,
    config: PretrainedConfig,
    tokenizer: PreTrainedTokenizerBase,
    dtype: torch.dtype | str = "auto",
    trust_remote_code: bool = False,
) -> PreTrainedModel:
    """Load the model for `framework`.

    Under DeepSpeed ZeRO-3 the Trainer's arguments have already registered the DeepSpeed config, so
    `from_pretrained` builds the model partitioned across processes.
    """
    auto = AutoModelForSeq2SeqLM if framework == "seq2seq" else AutoModelForCausalLM
    model = auto.from_pretrained(
        name_or_path, config=config, dtype=dtype, trust_remote_code=trust_remote_code
    )
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    if framework == "clm":
        model.config.pad_token_id = tokenizer.pad_token_id
    return model


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """Return (trainable, total) parameter counts; under ZeRO-3 counts the full (unpartitioned) sizes."""
    trainable = total = 0
    for parameter in model.parameters():
        # ZeRO-3 leaves a 0-element placeholder; ds_numel is the real size.
        n = getattr(parameter, "ds_numel", parameter.numel())
        total += n
        if parameter.requires_grad:
            trainable += n
    return trainable, total
