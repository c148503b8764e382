"""Trainer construction, run logging and ordered prediction."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset
from peft import PeftModel
from torch.utils.data import DataLoader, SequentialSampler
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
    ProgressCallback,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
)
from transformers.integrations import is_deepspeed_zero3_enabled

from ftkit.adapters import is_prompt_learning
from ftkit.checkpointing import CrashSafeCheckpointMixin, process_layout
from ftkit.data import PaddingCollator, TargetLogitsCollator, packing_collator
from ftkit.frameworks import Framework, framework_of
from ftkit.generation import (
    at_length_limit,
    decode,
    generate_releasing_finished,
    releases_finished_rows,
    stop_token_ids,
)
from ftkit.prediction_files import write_lines
from ftkit.throughput import CountsThroughput, count_parameters

logger = logging.getLogger(__name__)


class GecTrainer(CrashSafeCheckpointMixin, CountsThroughput, Seq2SeqTrainer):
    """A Seq2SeqTrainer whose generated ids hold only new tokens, for decoder-only models too.

    Checkpoints are written atomically, SIGTERM/SIGINT stop it cleanly (ftkit.checkpointing), and its training
    logs carry throughput figures (ftkit.throughput).
    """

    def __init__(self, *args: Any, framework: Framework, train_collator: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.framework = framework
        self.train_collator = train_collator or self.data_collator  # training batches only
        self.progress: PredictionProgress | None = None  # set by predict()

    def get_train_dataloader(self) -> DataLoader:
        collator, self.data_collator = self.data_collator, self.train_collator
        try:
            return super().get_train_dataloader()
        finally:
            self.data_collator = collator

    def _get_eval_sampler(self, eval_dataset):
        # With train_sampling_strategy group_by_length the Trainer would shuffle evaluation batches by
        # length too; predict() needs rows in dataset order (it sorts them by length itself).
        return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        """Trainer._save, writing the weights as safetensors shards of at most --save_shard_size, and with
        --save_on_each_node on each node's local rank 0.

        Trainer._save calls `save_pretrained` without a shard size (so transformers' default applies), and
        `save_pretrained` writes on global rank 0 alone whatever `is_main_process` says, so the other nodes'
        node-local disks got no weights. The rest stays as the Trainer does it: which
        ranks write, the consolidated 16-bit state dict it is given under ZeRO-3, the tokenizer and the
        arguments. This serves the final model and checkpoint-N.
        """
        model = self.accelerator.unwrap_model(self.model, keep_torch_compile=False)
        overrides: dict[str, Any] = {}
        if isinstance(model, PreTrainedModel):
            shard_size = getattr(self.args, "save_shard_size", None)
            if shard_size is not None:
                overrides["save_pretrained"] = functools.partial(
                    model.save_pretrained, max_shard_size=shard_size
                )
            if self.args.save_on_each_node and hasattr(model, "should_save_on_this_rank"):
                overrides["should_save_on_this_rank"] = lambda is_main_process: is_main_process
        vars(model).update(overrides)
        try:
            super()._save(output_dir, state_dict)
        finally:
            for name in overrides:
                delattr(model, name)  # the class's method again

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None, **gen_kwargs):
        gen_kwargs = gen_kwargs or getattr(self, "_gen_kwargs", {})  # what predict() was given
        if (
            self.args.predict_with_generate
            and not prediction_loss_only
            and "labels" not in inputs
            and releases_finished_rows(self.model, gen_kwargs, is_deepspeed_zero3_enabled())
        ):
            inputs = self._prepare_inputs(inputs)
            generated = generate_releasing_finished(
                self.model, inputs["input_ids"], inputs["attention_mask"], gen_kwargs
            )
            self._count_predicted(inputs, generated)
            return None, generated, None
        loss, generated, labels = super().prediction_step(
            model, inputs, prediction_loss_only, ignore_keys=ignore_keys, **gen_kwargs
        )
        # Seq2SeqTrainer writes the default max_length (20) into the model's generation config after each
        # batch; generate would then warn on every later batch that max_new_tokens overrides it.
        self.model.generation_config.max_length = None
        if generated is not None and self.args.predict_with_generate:
            # With left padding every decoder-only prompt ends at the same column, so one slice strips them.
            generated = self.framework.new_tokens(generated, inputs["input_ids"].shape[1])
            self._count_predicted(inputs, generated)
        return loss, generated, labels

    def _count_predicted(self, inputs: dict[str, Any], generated: torch.Tensor) -> None:
        if self.progress is not None:
            self.progress.update(generated, int(inputs["attention_mask"].sum()))


def build_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    training_args: Seq2SeqTrainingArguments,
    framework: Framework,
    train_dataset: Dataset | None = None,
    eval_dataset: Dataset | None = None,
    packing: bool = False,
) -> GecTrainer:
    """A trainer with padded (or, with `packing`, padding-free) batches and throughput in its logs.

    Its training batches of a decoder-only model get their logits computed from the first target position on
    (ftkit.data.keep_target_logits, where computes_target_logits_only): the same loss, without the output
    projection over the prompts. Evaluation and prediction batches stay whole.
    """
    if packing:
        # A KV cache, useless in training, would also hide the packed examples' boundaries from the mask.
        model.config.use_cache = False
        collator = packing_collator(model.config._attn_implementation.startswith("flash"))
    else:
        collator = PaddingCollator(tokenizer, padding_side="right")
    train_collator = TargetLogitsCollator(collator) if computes_target_logits_only(model) else collator
    return GecTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=collator,
        train_collator=train_collator,
        framework=framework,
    )


def computes_target_logits_only(model: torch.nn.Module) -> bool:
    """Whether training batches of `model` can have their logits cut to the target positions
    (ftkit.data.keep_target_logits): a decoder-only transformers model whose forward takes logits_to_keep,
    bare or with a LoRA-style adapter (prompt-learning adapters prepend tokens, and labels, of their own)."""
    if is_prompt_learning(model):
        return False
    if isinstance(model, PeftModel):
        model = model.get_base_model()
    if not isinstance(model, PreTrainedModel) or framework_of(model.config).encoder_decoder:
        return False
    return "logits_to_keep" in inspect.signature(model.forward).parameters


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
    """The job's nodes (each one's host, global and local ranks), the batch and parameter counts of a
    training run; a run that only evaluates or predicts logs the parameters it runs (predict() logs its own
    batch and generation settings). A collective with a process group: every process calls it."""
    nodes = process_layout()
    for index, node in enumerate(nodes):
        hosts = sorted({host for _, _, host in node})
        logger.info(
            "node %d of %d: host %s, global ranks %s, local ranks %s",
            index,
            len(nodes),
            ", ".join(hosts),
            _span([rank for rank, _, _ in node]),
            _span([local for _, local, _ in node]),
        )
    trainable, total = count_parameters(model)
    if not training_args.do_train:
        logger.info("parameters: %s", f"{total:,}")
        return
    per_device = training_args.per_device_train_batch_size
    accumulation = training_args.gradient_accumulation_steps
    world = training_args.world_size
    logger.info(
        "world size %d (%s), per-device batch %d, gradient accumulation %d: global batch = %d x %d x %d = %d",
        world,
        " + ".join(str(len(node)) for node in nodes) + f" processes on {len(nodes)} node(s)",
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


def _span(numbers: list[int]) -> str:
    """'0-3' for consecutive numbers, else '0, 2, 5'."""
    if numbers == list(range(numbers[0], numbers[0] + len(numbers))) and len(numbers) > 1:
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(map(str, numbers))


# Seconds between progress lines while predicting: a prediction that takes minutes says where it is, one
# that takes seconds logs its summary only.
PROGRESS_SECONDS = 30.0


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


class PredictionProgress:
    """Sentences predicted so far, counted as each batch's generation ends and logged every `interval`
    seconds on the main process: the share done, sentences/s, an ETA and the outputs at the length limit.

    With several processes each generates every world_size-th batch; the main process scales its own counts
    by world_size. Rows are predicted longest first and a batch's time grows with its length, so the ETA is
    the elapsed time scaled by the source tokens left, not by the sentences left.
    """

    def __init__(
        self,
        sentences: int,
        source_tokens: int,
        world_size: int,
        max_new_tokens: int,
        stop_ids: list[int],
        log: bool,
        interval: float,
    ) -> None:
        self.sentences, self.source_tokens, self.world_size = sentences, source_tokens, world_size
        self.max_new_tokens, self.stop_ids, self.log, self.interval = max_new_tokens, stop_ids, log, interval
        self.done = self.tokens_done = self.at_limit = 0
        self.started = self.last_log = time.perf_counter()

    def update(self, generated: torch.Tensor, source_tokens: int) -> None:
        self.done += generated.shape[0] * self.world_size
        self.tokens_done += source_tokens * self.world_size
        self.at_limit += int(at_length_limit(generated.cpu(), self.stop_ids, self.max_new_tokens).sum())
        now = time.perf_counter()
        if self.log and now - self.last_log >= self.interval:
            self.last_log = now
            done = min(self.done, self.sentences)
            elapsed = now - self.started
            share = min(self.tokens_done / max(self.source_tokens, 1), 1.0)
            logger.info(
                "predicted %d/%d sentences (%.0f%%), %.1f sentences/s, ETA %s; %d at the %d-token limit",
                done,
                self.sentences,
                100 * done / self.sentences,
                done / elapsed,
                _duration(elapsed / share - elapsed) if share > 0 else "unknown",
                self.at_limit * self.world_size,
                self.max_new_tokens,
            )


def predict(
    trainer: GecTrainer,
    dataset: Dataset,
    gen_kwargs: dict[str, Any],
    stats_path: str | Path | None = None,
) -> list[str]:
    """Generate for every row of an encoded dataset; return the decoded outputs in dataset order.

    Rows are generated longest first: batches of similar length waste little on padding, and a batch
    that does not fit in memory fails at the start, not after an hour. Generation stops, and the text ends,
    at the first of `stop_token_ids`. Progress is logged in sentences (PredictionProgress); the summary
    counts the outputs that ran to max_new_tokens without a stop token, and the main process writes it to
    `stats_path` as JSON (`prediction_stats_path` of the predictions file: eval_gec.sh's table reads it).
    """
    lengths = np.array([len(ids) for ids in dataset["input_ids"]])
    order = np.argsort(-lengths, kind="stable")
    tokenizer = trainer.processing_class
    stop_ids = stop_token_ids(tokenizer, trainer.model.generation_config)
    max_new_tokens, beams = gen_kwargs["max_new_tokens"], gen_kwargs.get("num_beams") or 1
    args = trainer.args
    main_process = trainer.is_world_process_zero()
    if main_process:
        logger.info(
            "predicting %d sentences: per-device batch %d x %d process(es), %s, at most %d new tokens",
            len(dataset),
            args.per_device_eval_batch_size,
            args.world_size,
            f"beam search with {beams} beams" if beams > 1 else "greedy search",
            max_new_tokens,
        )
    collator = trainer.data_collator
    trainer.data_collator = PaddingCollator(tokenizer, padding_side=trainer.framework.generation_padding_side)
    # The Trainer's bar counts batches as they end; PredictionProgress counts sentences.
    bar = trainer.pop_callback(ProgressCallback)
    trainer.progress = PredictionProgress(
        len(dataset),
        int(lengths.sum()),
        args.world_size,
        max_new_tokens,
        stop_ids,
        main_process,
        PROGRESS_SECONDS,
    )
    try:
        output = trainer.predict(dataset.select(order), **{**gen_kwargs, "eos_token_id": stop_ids})
    finally:
        trainer.data_collator = collator
        seconds = time.perf_counter() - trainer.progress.started
        trainer.progress = None
        if bar is not None:
            trainer.add_callback(bar)
    # Multi-process evaluation pads the last batch with repeats; keep one prediction per row.
    generated = output.predictions[: len(dataset)]
    at_limit = int(at_length_limit(generated, stop_ids, max_new_tokens).sum())
    texts = decode(tokenizer, generated, stop_ids)
    in_order = [""] * len(dataset)
    for position, text in zip(order, texts, strict=True):
        in_order[position] = text
    if main_process:
        logger.info(
            "predicted %d sentences in %s (%.1f sentences/s); %s",
            len(dataset),
            _duration(seconds),
            len(dataset) / max(seconds, 1e-9),
            f"{at_limit} ran to the limit of {max_new_tokens} new tokens without a stop token (a repetition "
            "loop, or a limit too low for them: --generation_max_length, MAX_NEW_TOKENS in eval_gec.sh)"
            if at_limit
            else f"none ran to the limit of {max_new_tokens} new tokens",
        )
        if stats_path is not None:
            stats = {
                "sentences": len(dataset),
                "at_length_limit": at_limit,
                "max_new_tokens": max_new_tokens,
                "num_beams": beams,
                "seconds": round(seconds, 3),
            }
            write_lines(stats_path, [json.dumps(stats)])
    return in_order
