"""Trainer construction, run logging and ordered prediction."""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np
import torch
from datasets import Dataset
from torch.utils.data import SequentialSampler
from transformers import PreTrainedModel, PreTrainedTokenizerBase, Seq2SeqTrainer, Seq2SeqTrainingArguments
from transformers.integrations import is_deepspeed_zero3_enabled

from ftkit.checkpointing import CrashSafeCheckpointMixin
from ftkit.data import PaddingCollator, packing_collator
from ftkit.generation import (
    decode,
    generate_releasing_finished,
    new_tokens,
    releases_finished_rows,
    stop_token_ids,
)
from ftkit.modeling import count_parameters
from ftkit.throughput import ThroughputCallback

logger = logging.getLogger(__name__)


class GecTrainer(CrashSafeCheckpointMixin, Seq2SeqTrainer):
    """A Seq2SeqTrainer whose generated ids hold only new tokens, for decoder-only models too.

    Checkpoints are written atomically, and SIGTERM/SIGINT stop it cleanly (ftkit.checkpointing).
    """

    def __init__(
        self, *args: Any, framework: str, throughput: ThroughputCallback | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.framework = framework
        self.throughput = throughput
        if throughput is not None:
            # First, so the figures it adds to each log reach the reporting callbacks (tensorboard, wandb).
            self.callback_handler.callbacks.insert(0, throughput)

    def training_step(self, model, inputs, num_items_in_batch=None):
        if self.throughput is not None:
            self.throughput.count(inputs)
        return super().training_step(model, inputs, num_items_in_batch)

    def _get_eval_sampler(self, eval_dataset):
        # With train_sampling_strategy group_by_length the Trainer would shuffle evaluation batches by
        # length too; predict() needs rows in dataset order (it sorts them by length itself).
        return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        """Trainer._save, writing the weights as safetensors shards of at most --save_shard_size.

        Trainer._save calls `save_pretrained` without a shard size (transformers' default is 50GB). The
        rest stays as the Trainer does it: which ranks write, the consolidated 16-bit state dict it is
        given under ZeRO-3, the tokenizer and the arguments. This serves the final model and checkpoint-N.
        """
        shard_size = getattr(self.args, "save_shard_size", None)
        model = self.accelerator.unwrap_model(self.model, keep_torch_compile=False)
        if shard_size is None or not isinstance(model, PreTrainedModel):
            super()._save(output_dir, state_dict)
            return
        model.save_pretrained = functools.partial(model.save_pretrained, max_shard_size=shard_size)
        try:
            super()._save(output_dir, state_dict)
        finally:
            del model.save_pretrained  # the class's method again

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None, **gen_kwargs):
        gen_kwargs = gen_kwargs or getattr(self, "_gen_kwargs", {})  # what predict() was given
        if (
            self.framework == "clm"
            and self.args.predict_with_generate
            and not prediction_loss_only
            and "labels" not in inputs
            and releases_finished_rows(gen_kwargs, is_deepspeed_zero3_enabled())
        ):
            inputs = self._prepare_inputs(inputs)
            generated = generate_releasing_finished(
                self.model, inputs["input_ids"], inputs["attention_mask"], gen_kwargs
            )
            return None, generated, None
        loss, generated, labels = super().prediction_step(
            model, inputs, prediction_loss_only, ignore_keys=ignore_keys, **gen_kwargs
        )
        # Seq2SeqTrainer writes the default max_length (20) into the model's generation config after each
        # batch; generate would then warn on every later batch that max_new_tokens overrides it.
        self.model.generation_config.max_length = None
        if generated is not None and self.args.predict_with_generate:
            # With left padding every decoder-only prompt ends at the same column, so one slice strips them.
            generated = new_tokens(generated, inputs["input_ids"].shape[1], self.framework)
        return loss, generated, labels


def build_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    training_args: Seq2SeqTrainingArguments,
    framework: str,
    train_dataset: Dataset | None = None,
    eval_dataset: Dataset | None = None,
    packing: bool = False,
) -> GecTrainer:
    """A trainer with padded (or, with `packing`, padding-free) batches and throughput in its logs."""
    if packing:
        # A KV cache, useless in training, would also hide the packed examples' boundaries from the mask.
        model.config.use_cache = False
        collator = packing_collator(model.config._attn_implementation.startswith("flash"))
    else:
        collator = PaddingCollator(tokenizer, padding_side="right")
    return GecTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=collator,
        framework=framework,
        throughput=ThroughputCallback(),
    )


def train_and_save(trainer: Seq2SeqTrainer, resume_from: str | None) -> None:
    """Train, then save the final model, metrics and state.

    Raises:
        StoppedBySignal: SIGTERM/SIGINT stopped training after checkpointing; nothing more is saved.
    """
    result = trainer.train(resume_from_checkpoint=resume_from)
    trainer.raise_if_stopped_by_signal()
    trainer.save_model()
    trainer.log_metrics("train", result.metrics)
    trainer.save_metrics("train", result.metrics)
    trainer.save_state()


def evaluate_and_save(trainer: Seq2SeqTrainer) -> None:
    metrics = trainer.evaluate()
    trainer.log_metrics("eval", metrics)
    trainer.save_metrics("eval", metrics)


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
    # Adapters train a small share: 3 significant digits, not 2 decimals (which show 0.00%).
    logger.info(
        "parameters: trainable %s / total %s (trainable %.3g%%)",
        f"{trainable:,}",
        f"{total:,}",
        100 * trainable / max(total, 1),
    )


def predict(trainer: GecTrainer, dataset: Dataset, gen_kwargs: dict[str, Any]) -> list[str]:
    """Generate for every row of an encoded dataset; return the decoded outputs in dataset order.

    Rows are generated longest first: batches of similar length waste little on padding, and a batch
    that does not fit in memory fails at the start, not after an hour. Generation stops, and the text ends,
    at the first of `stop_token_ids`.
    """
    lengths = np.array([len(ids) for ids in dataset["input_ids"]])
    order = np.argsort(-lengths, kind="stable")
    tokenizer = trainer.processing_class
    stop_ids = stop_token_ids(tokenizer, trainer.model.generation_config)
    collator = trainer.data_collator
    # A decoder-only prompt must end at the last column, where generation appends. An encoder's rows must
    # start at column 0: BART/mBART/Marian take positions from arange, so on the left a row's output would
    # depend on the lengths of the rows that share its batch.
    padding_side = "left" if trainer.framework == "clm" else "right"
    trainer.data_collator = PaddingCollator(tokenizer, padding_side=padding_side)
    try:
        output = trainer.predict(dataset.select(order), **{**gen_kwargs, "eos_token_id": stop_ids})
    finally:
        trainer.data_collator = collator
    # Multi-process evaluation pads the last batch with repeats; keep one prediction per row.
    texts = decode(tokenizer, output.predictions[: len(dataset)], stop_ids)
    in_order = [""] * len(dataset)
    for position, text in zip(order, texts, strict=True):
        in_order[position] = text
    return in_order
