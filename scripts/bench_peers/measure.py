"""Benchmark instrumentation added to every peer's trainer (not part of the scripts a user writes).

`Clock` times the window ftkit.throughput times for finetune.py (from the first step after a log to the
next log, summed), and records the token counts of the examples the trainer was given, so the harness
checks every system trained on the same tokens. It imports only transformers: LLaMA-Factory runs it in
its own virtualenv.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from transformers import TrainerCallback

IGNORE_INDEX = -100
RESULTS = "bench_results.json"


def example_counts(dataset) -> dict[str, list[int]]:
    """Tokens per example (row, when packed): the real ones (attention_mask != 0: a packed row's mask holds
    example numbers and 0 for padding) and those trained on (labels != -100, or completion_mask)."""
    if "attention_mask" in dataset.column_names:
        inputs = [sum(1 for m in mask if m) for mask in dataset["attention_mask"]]
    else:
        inputs = [len(ids) for ids in dataset["input_ids"]]
    if "labels" in dataset.column_names:
        trained = [sum(t != IGNORE_INDEX for t in ids) for ids in dataset["labels"]]
    elif "completion_mask" in dataset.column_names:
        trained = [sum(mask) for mask in dataset["completion_mask"]]
    else:
        trained = inputs
    return {"input_tokens": inputs, "trained_tokens": trained}


class Clock(TrainerCallback):
    """Seconds of training steps (as ThroughputCallback counts them) and the training examples' token counts,
    written to OUTPUT_DIR/bench_results.json at the end of training (main process)."""

    def __init__(self, output_dir: str | Path, dataset=None) -> None:
        self.output_dir = Path(output_dir)
        self.dataset = dataset  # the trainer's processed dataset when the callback list is fixed before it
        self.seconds = 0.0
        self._start: float | None = None
        self._counts: dict[str, list[int]] = {}

    def on_train_begin(self, args, state, control, train_dataloader=None, **kwargs):
        dataset = self.dataset if self.dataset is not None else getattr(train_dataloader, "dataset", None)
        if dataset is not None and hasattr(dataset, "column_names"):
            self._counts = example_counts(dataset)

    def on_step_begin(self, args, state, control, **kwargs):
        if self._start is None:
            self._start = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is None or not ("loss" in logs or "train_runtime" in logs):
            return
        if self._start is not None:
            self.seconds += time.perf_counter() - self._start
            self._start = None
        if "train_runtime" in logs and state.is_world_process_zero:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            result = {
                "seconds": self.seconds,
                "steps": state.global_step,
                "train_loss": logs.get("train_loss"),
                "train_runtime": logs["train_runtime"],
                **self._counts,
            }
            (self.output_dir / RESULTS).write_text(json.dumps(result) + "\n")
