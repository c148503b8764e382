"""Trainer construction, run logging and ordered prediction."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset
from transformers import PreTrainedModel, PreTrainedTokenizerBase, Seq2SeqTrainer, Seq2SeqTrainingArguments

from ftkit.data import PaddingCollator
from ftkit.generation import decode
from ftkit.modeling import count_parameters

logger = logging.getLogger(__name__)


class GecTrainer(Seq2SeqTrainer):
    """A Seq2SeqTrainer whose generated ids hold only new tokens, for decoder-only models too."""

    def __init__(self, *args: Any, framework: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.framework = framework

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None, **gen_kwargs):
        loss, generated, labels = super().prediction_step(
            model, inputs, prediction_loss_only, ignore_keys=ignore_keys, **gen_kwargs
        )
        # Seq2SeqTrainer writes the default max_length (20) into the model's generation config after each
        # batch; generate would then warn on every later batch that max_new_tokens overrides it.
        self.model.generation_config.max_length = None
        if generated is not None and self.framework == "clm" and self.args.predict_with_generate:
            # A decoder-only model returns prompt + continuation; with left padding every prompt
            # ends at the same column, so one slice strips them all.
            generated = generated[:, inputs["input_ids"].shape[1] :]
        return loss, generated, labels


def build_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    training_args: Seq2SeqTrainingArguments,
    framework: str,
    train_dataset: Dataset | None = None,
    eval_dataset: Dataset | None = None,
) -> GecTrainer:
    return GecTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=PaddingCollator(tokenizer, padding_side="right"),
        framework=framework,
    )


def log_run_setup(training_args: Seq2SeqTrainingArguments, model: torch.nn.Module) -> None:
    trainable, total = count_parameters(model)
    per_device = training_args.per_device_train_batch_size
    accumulation = training_args.gradient_accumulation_steps
    world = training_args.world_size
    logger.info(
        "world size %d, per-device batch %d, gradient accumulation %d: global batch = %d x %d x %d = %d",
        world,
        per_device,
        accumulation,
        per_device,
        accumulation,
        world,
        per_device * accumulation * world,
    )
    logger.info(
        "parameters: trainable %s / total %s (%.2f%%)",
        f"{trainable:,}",
        f"{total:,}",
        100 * trainable / max(total, 1),
    )


def save_run_args(output_dir: str, framework: str, *argument_groups: Any) -> None:
    """Write every resolved argument to <output_dir>/run_args.json, so a run can be repeated exactly."""
    resolved: dict[str, Any] = {"framework": framework}
    for group in argument_groups:
        resolved.update(group.to_dict() if hasattr(group, "to_dict") else asdict(group))
    path = Path(output_dir) / "run_args.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(resolved, indent=2, default=str, sort_keys=True) + "\n", encoding="utf-8")


def predict(trainer: GecTrainer, dataset: Dataset, gen_kwargs: dict[str, Any]) -> list[str]:
    """Generate for every row of an encoded dataset; return the decoded outputs in dataset order.

    Rows are generated longest first: batches of similar length waste little on padding, and a batch
    that does not fit in memory fails at the start, not after an hour.
    """
    lengths = np.array([len(ids) for ids in dataset["input_ids"]])
    order = np.argsort(-lengths, kind="stable")
    collator = trainer.data_collator
    # Every prompt must end at the last column, where generation appends.
    trainer.data_collator = PaddingCollator(trainer.processing_class, padding_side="left")
    try:
        output = trainer.predict(dataset.select(order), **gen_kwargs)
    finally:
        trainer.data_collator = collator
    # Multi-process evaluation pads the last batch with repeats; keep one prediction per row.
    texts = decode(trainer.processing_class, output.predictions[: len(dataset)])
    in_order = [""] * len(dataset)
    for position, text in zip(order, texts, strict=True):
        in_order[position] = text
    return in_order
