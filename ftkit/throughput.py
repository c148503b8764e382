"""Training throughput: tokens/s, samples/s, padding fraction, MFU and peak memory in every training log, for
every stage (SFT, reward model, DPO, GRPO): each toolkit trainer counts through `CountsThroughput`.

Definitions (one process; under several processes counts are summed over ranks at log time):
    tokens          every position the model computes: input_ids (and, for seq2seq, labels: the decoder's
                    inputs), padding included; GRPO: prompt_ids and completion_ids. DPO and reward-model
                    batches hold the chosen and the rejected sequences, each a row.
    non-padding     attention_mask == 1 (a packed batch has no mask and no padding), plus labels != -100
                    for seq2seq; GRPO: prompt_mask and completion_mask
    samples         rows, or examples in a packed row (position_ids == 0)
    MFU             model FLOPs of the non-padding tokens per second / (peak bf16/fp16 dense FLOP/s of the
                    detected GPU x processes). Model FLOPs per token = 6 x matmul parameters + 12 x layers x
                    width x context (PaLM, appendix B), context = mean example length. Padding, recomputation
                    (gradient checkpointing), a slower-than-peak dtype, DPO's reference-model forward passes
                    and GRPO's generation count as lost utilisation. Only on GPUs in GPU_PEAK_FLOPS; on CPU
                    tokens/s are the figure.
    peak memory     GPU: torch.cuda.max_memory_allocated; CPU: the process's peak resident set size.

Training time runs from the first step after a log to the next log, so evaluation and checkpointing
between logs are not counted against throughput.

The parameter counts the run logs (count_parameters) and the FLOPs count full sizes, under ZeRO-3 and 4-bit
quantization too.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any

import torch
from peft import PeftModel
from transformers import PreTrainedModel, TrainerCallback

from ftkit.data import IGNORE_INDEX
from ftkit.frameworks import framework_of

logger = logging.getLogger(__name__)

# Peak dense bf16/fp16 tensor-core FLOP/s per GPU (vendor datasheets, no sparsity), matched against
# torch.cuda.get_device_name in this order (first match wins: "H100 PCIe" before "H100").
GPU_PEAK_FLOPS = (
    ("H100 PCIe", 756e12),
    ("H100", 989e12),
    ("H200", 989e12),
    ("A100", 312e12),
    ("V100", 125e12),
)

# Counter slots: encoder tokens (all, non-padding), decoder tokens (all, non-padding), samples.
ENC_ALL, ENC_REAL, DEC_ALL, DEC_REAL, SAMPLES = range(5)


def peak_flops(device: torch.device | str) -> float | None:
    """Peak bf16/fp16 dense FLOP/s of one `device`, or None (CPU, or a GPU not in GPU_PEAK_FLOPS)."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((flops for key, flops in GPU_PEAK_FLOPS if key in name), None)


def peak_memory_gib(device: torch.device | str) -> float:
    """Peak memory so far: allocated GPU memory on CUDA, else the process's peak resident set size."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return rss / (2**30 if sys.platform == "darwin" else 2**20)


def parameter_size(parameter: torch.nn.Parameter) -> int:
    """The number of values `parameter` holds, also where ZeRO-3 partitions it or bitsandbytes packs it."""
    # ZeRO-3 leaves a 0-element placeholder; ds_numel is the real size.
    n = getattr(parameter, "ds_numel", parameter.numel())
    if parameter.__class__.__name__ == "Params4bit":
        n *= 2 * parameter.element_size()  # two 4-bit values per byte of its storage dtype
    return n


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts, full sizes under ZeRO-3 and 4-bit quantization too; an adapter
    model counts with PEFT's own get_nb_trainable_parameters, which sizes parameters the same way."""
    if isinstance(model, PeftModel):
        return model.get_nb_trainable_parameters()
    sizes = [(parameter_size(p), p.requires_grad) for p in model.parameters()]
    return sum(n for n, trainable in sizes if trainable), sum(n for n, _ in sizes)


@dataclass(frozen=True)
class ModelFlops:
    """What a model's training FLOPs per token depend on: matmul parameters per stack, layers and width."""

    encoder_params: int  # 0 for decoder-only models
    decoder_params: int
    encoder_layers: int
    decoder_layers: int
    width: int

    @classmethod
    def of(cls, model: PreTrainedModel) -> ModelFlops:
        config = model.config
        encoder_decoder = framework_of(config).encoder_decoder
        embedding = model.get_input_embeddings().weight
        output = model.get_output_embeddings()
        # An embedding lookup does no multiply-adds; the output projection (tied or not) does.
        lookup = 0 if output is not None and output.weight is embedding else parameter_size(embedding)
        matmul = sum(parameter_size(p) for p in model.parameters()) - lookup
        encoder = 0
        if encoder_decoder:
            encoder = sum(parameter_size(p) for p in model.get_encoder().parameters() if p is not embedding)
        layers = getattr(config, "num_hidden_layers", 0) or 0
        return cls(
            encoder_params=encoder,
            decoder_params=matmul - encoder,
            encoder_layers=layers if encoder_decoder else 0,
            decoder_layers=getattr(config, "num_decoder_layers", None) or layers,
            width=getattr(config, "hidden_size", 0) or 0,
        )

    def training_flops(self, encoder_tokens: float, decoder_tokens: float, samples: float) -> float:
        """Forward + backward FLOPs for `samples` examples holding these non-padding token counts."""
        if samples <= 0:
            return 0.0
        source_len, target_len = encoder_tokens / samples, decoder_tokens / samples
        dense = 6 * (self.encoder_params * encoder_tokens + self.decoder_params * decoder_tokens)
        # Scores and weighted sum, 2 x 2 x width FLOPs per key and layer, x3 for the backward pass;
        # decoder tokens of a seq2seq model also attend to the source (cross-attention).
        keys = (
            self.encoder_layers * source_len * encoder_tokens
            + self.decoder_layers * (target_len + source_len) * decoder_tokens
        )
        return dense + 12 * self.width * keys


class ThroughputCallback(TrainerCallback):
    """Adds throughput figures to every training log, and whole-run figures (train_*) to the final metrics.

    The trainer calls `count(inputs)` on every micro-batch. Counts stay on the device (no synchronisation
    per step) and are read, and summed over processes, only when the trainer logs. Put this callback before
    the reporting callbacks (tensorboard, wandb), which then record its figures too.
    """

    def __init__(self) -> None:
        self._counts: torch.Tensor | None = None
        self._interval_start: float | None = None
        self._total_counts = torch.zeros(5, dtype=torch.float64)
        self._total_seconds = 0.0
        self._flops: ModelFlops | None = None
        self._peak: float | None = None
        self._encoder_decoder = False
        self._device = torch.device("cpu")

    def count(self, inputs: dict[str, Any]) -> None:
        if "completion_ids" in inputs:  # GRPO: the prompts and the sampled completions, each with its mask
            for ids, mask in (("prompt_ids", "prompt_mask"), ("completion_ids", "completion_mask")):
                self._count_tokens(inputs[ids], inputs[mask], DEC_ALL)
            self._counts[SAMPLES] += inputs["completion_ids"].shape[0]
            return
        input_ids = inputs["input_ids"]
        mask = inputs.get("attention_mask")
        position_ids = inputs.get("position_ids")
        self._count_tokens(input_ids, mask, ENC_ALL if self._encoder_decoder else DEC_ALL)
        counts = self._counts
        if mask is None and position_ids is not None:
            counts[SAMPLES] += (position_ids == 0).sum()  # a packed row: one example per restart
        else:
            counts[SAMPLES] += input_ids.shape[0]
        labels = inputs.get("labels")
        if self._encoder_decoder and labels is not None:
            counts[DEC_ALL] += labels.numel()
            counts[DEC_REAL] += (labels != IGNORE_INDEX).sum()

    def _count_tokens(self, ids: torch.Tensor, mask: torch.Tensor | None, base: int) -> None:
        if self._counts is None:
            self._counts = torch.zeros(5, dtype=torch.int64, device=ids.device)
        self._counts[base] += ids.numel()
        self._counts[base + 1] += mask.sum() if mask is not None else ids.numel()

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._device = args.device
        self._peak = peak_flops(args.device)
        if model is not None:
            self._encoder_decoder = framework_of(model.config).encoder_decoder
            self._flops = ModelFlops.of(model)
        if args.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(args.device)
        if self._peak is None and args.device.type == "cuda" and state.is_world_process_zero:
            logger.info(
                "no peak FLOP/s known for %s: MFU is not logged (see ftkit.throughput.GPU_PEAK_FLOPS)",
                torch.cuda.get_device_name(args.device),
            )

    def on_step_begin(self, args, state, control, **kwargs):
        if self._interval_start is None:
            self._interval_start = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        # Every process logs at the same steps, so the all-reduces below pair up.
        if logs is None or not ("loss" in logs or "train_runtime" in logs):
            return  # evaluation logs
        final = "train_runtime" in logs
        counts, seconds, peak_memory = self._close_interval(args.world_size)
        prefix = "train_" if final else ""
        if final:
            counts, seconds = self._total_counts, self._total_seconds
        figures = self._figures(counts, seconds, args.world_size)
        if final:
            del figures["samples_per_second"]  # the trainer's own train_samples_per_second stays
        figures["peak_memory_gib"] = round(peak_memory, 3)
        figures = {prefix + name: value for name, value in figures.items()}
        logs.update(figures)
        # The trainer appended its copy of `logs` to the history before calling the callbacks.
        if state.log_history and state.log_history[-1].get("step") == state.global_step:
            state.log_history[-1].update(figures)
        if final and state.is_world_process_zero:
            logger.info(
                "throughput: %.0f tokens/s (%.0f non-padding), padding %.1f%%, %s, peak memory %.2f GiB",
                figures["train_tokens_per_second"],
                figures["train_nonpad_tokens_per_second"],
                100 * figures["train_padding_fraction"],
                f"MFU {100 * figures['train_mfu']:.1f}%" if "train_mfu" in figures else "MFU n/a",
                peak_memory,
            )

    def _close_interval(self, world_size: int) -> tuple[torch.Tensor, float, float]:
        """Counts and seconds since the last log (summed over processes); peak memory (max over them)."""
        seconds = time.perf_counter() - self._interval_start if self._interval_start is not None else 0.0
        self._interval_start = None
        counts = self._counts if self._counts is not None else torch.zeros(5, dtype=torch.int64)
        self._counts = None
        memory = torch.tensor([peak_memory_gib(self._device)], dtype=torch.float64)
        if world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            counts = counts.to(self._device)
            memory = memory.to(self._device)
            torch.distributed.all_reduce(counts)
            torch.distributed.all_reduce(memory, op=torch.distributed.ReduceOp.MAX)
        counts = counts.cpu().to(torch.float64)
        self._total_counts += counts
        self._total_seconds += seconds
        return counts, seconds, memory.item()

    def _figures(self, counts: torch.Tensor, seconds: float, world_size: int) -> dict[str, float]:
        enc_all, enc_real, dec_all, dec_real, samples = counts.tolist()
        every, real = enc_all + dec_all, enc_real + dec_real
        seconds = max(seconds, 1e-9)
        figures = {
            "tokens_per_second": round(every / seconds, 1),
            "nonpad_tokens_per_second": round(real / seconds, 1),
            "samples_per_second": round(samples / seconds, 3),
            "padding_fraction": round(1 - real / every, 4) if every else 0.0,
        }
        if self._peak is not None and self._flops is not None:
            flops = self._flops.training_flops(enc_real, dec_real, samples)
            figures["mfu"] = round(flops / seconds / (self._peak * world_size), 4)
        return figures


class CountsThroughput:
    """Mixin for every trainer of the toolkit (SFT's and TRL's): a ThroughputCallback, first among the
    callbacks so the figures it adds to each log reach the reporting ones (tensorboard, wandb), counting
    each training micro-batch as the loss sees it (GRPO's completions exist only from there on).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.throughput = ThroughputCallback()
        self.callback_handler.callbacks.insert(0, self.throughput)

    def compute_loss(self, model, inputs, *args: Any, **kwargs: Any):
        if model.training:  # evaluation computes losses too
            self.throughput.count(inputs)
        return super().compute_loss(model, inputs, *args, **kwargs)
