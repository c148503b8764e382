"""The preference stages on TRL: reward model (rm), DPO and its variants (dpo), GRPO against the M2 metric.
Their models, their LoRA config and TRL's RewardTrainer, DPOTrainer and GRPOTrainer with the toolkit's
crash-safe checkpoints and throughput figures; their data is ftkit.preference_data's, GRPO's rewards
ftkit.rewards'.

Only decoder-only (clm) models: TRL trains DPO and GRPO policies as causal LMs, and the reward model is a
sequence-classification head on a decoder-only model.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from datasets import Dataset
from peft import LoraConfig, TaskType
from transformers import (
    AutoModelForSequenceClassification,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TrainingArguments,
)
from trl import DPOTrainer, GRPOTrainer, RewardTrainer

from ftkit import adapters
from ftkit.args import LoraArguments
from ftkit.checkpointing import CrashSafeCheckpointMixin
from ftkit.frameworks import CLM
from ftkit.memory import log_load
from ftkit.throughput import CountsThroughput


def load_reward_model(
    name_or_path: str,
    config: PretrainedConfig,
    tokenizer: PreTrainedTokenizerBase,
    dtype: torch.dtype | str = "auto",
    trust_remote_code: bool = False,
) -> PreTrainedModel:
    """A decoder-only model with a one-output sequence-classification head (new unless the folder has one)."""
    config.num_labels = 1
    config.pad_token_id = tokenizer.pad_token_id  # the head reads the last non-pad token
    started = time.perf_counter()
    model = AutoModelForSequenceClassification.from_pretrained(
        name_or_path, config=config, dtype=dtype, trust_remote_code=trust_remote_code
    )
    log_load(name_or_path, time.perf_counter() - started)
    return model


def lora_config(args: LoraArguments, stage: str) -> LoraConfig:
    """The PEFT LoraConfig for --use_peft (ftkit.adapters, as finetune.py's); the reward head stays fully
    trainable."""
    return adapters.lora_config(
        args.lora_r,
        args.lora_alpha,
        args.lora_dropout,
        args.lora_target,
        task_type=TaskType.SEQ_CLS if stage == "rm" else CLM.peft_task_type,
        modules_to_save=["score"] if stage == "rm" else None,
    )


class GecRewardTrainer(CrashSafeCheckpointMixin, CountsThroughput, RewardTrainer):
    """TRL's RewardTrainer with the toolkit's atomic checkpoints, clean stop on SIGTERM/SIGINT and throughput
    figures."""


class GecDPOTrainer(CrashSafeCheckpointMixin, CountsThroughput, DPOTrainer):
    """TRL's DPOTrainer on pairs tokenised by `encode_preference_dataset`, with crash-safe checkpoints and
    throughput figures."""

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        # TRL re-tokenises prompt + answer as one string; ours are already encoded as SFT encodes them.
        if "prompt_ids" in dataset.column_names:
            return dataset
        return super()._prepare_dataset(dataset, processing_class, args, dataset_name)


class GecGRPOTrainer(CrashSafeCheckpointMixin, CountsThroughput, GRPOTrainer):
    """TRL's GRPOTrainer generating from the prompts as SFT encodes them (grpo_dataset's prompt_ids), with
    crash-safe checkpoints and throughput figures, and without an evaluation loss."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # TRL hands _tokenize_prompts the prompt texts only. A prompt's text is its source in the template, so
        # it names the one encoding of that source.
        self.prompt_ids = {
            prompt: ids
            for dataset in (self.train_dataset, self.eval_dataset)
            if dataset is not None
            for prompt, ids in zip(dataset["prompt"], dataset["prompt_ids"], strict=True)
        }

    def _tokenize_prompts(self, prompts: list):
        # TRL tokenises the text again, with the tokenizer's special tokens: a second BOS after a chat
        # template's own, and no cut at --max_source_length.
        return [self.prompt_ids[prompt] for prompt in prompts], None, {}

    def evaluation_loop(self, *args: Any, metric_key_prefix: str = "eval", **kwargs: Any):
        output = super().evaluation_loop(*args, metric_key_prefix=metric_key_prefix, **kwargs)
        # The loss weights each completion by its advantage, its reward less the mean of its prompt's group:
        # without a policy update it is about 0 whatever the policy (-0.0 when a group's rewards are equal).
        # The rewards (eval_reward) measure the policy.
        output.metrics.pop(f"{metric_key_prefix}_loss", None)
        return output


def build_preference_trainer(
    stage: str,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    training_args: TrainingArguments,
    train_dataset: Dataset,
    eval_dataset: Dataset | None = None,
    ref_model: PreTrainedModel | None = None,
    reward_funcs: list[Any] | None = None,
    peft_config: LoraConfig | None = None,
):
    """The stage's TRL trainer. dpo: `ref_model` None means TRL's choice (the adapter switched off with
    PEFT, else a copy loaded from the policy's path); grpo: `reward_funcs` are called with the completions."""
    common = dict(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    if stage == "rm":
        return GecRewardTrainer(**common)
    if stage == "dpo":
        return GecDPOTrainer(ref_model=ref_model, **common)
    return GecGRPOTrainer(reward_funcs=reward_funcs, **common)
