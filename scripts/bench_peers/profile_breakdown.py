"""Where a training run's time goes: cumulative seconds of the Trainer loop's parts in cProfile files.

    python -m cProfile -o ours.prof finetune.py --model_name_or_path DIR --train_file FILE --do_train ...
    python -m cProfile -o hf.prof scripts/bench_peers/hf_trainer.py --model DIR --train_file FILE ...
    python scripts/bench_peers/profile_breakdown.py ours.prof hf.prof

Prints a markdown table, one column per file ("-": that part does not exist in that run). cProfile's own
cost inflates the Python-heavy parts (callbacks, collation) more than the tensor work.
"""

from __future__ import annotations

import pstats
import sys

# (row, test on (file, function name)); each cell is the largest cumulative time of a matching function.
PARTS = (
    ("training loop (_inner_training_loop)", lambda f, fn: fn == "_inner_training_loop"),
    ("training_step", lambda f, fn: fn == "training_step" and "transformers/trainer.py" in f),
    ("  compute_loss (forward + loss)", lambda f, fn: fn == "compute_loss" and "trainer.py" in f),
    ("  backward", lambda f, fn: fn == "backward" and "accelerate" in f),
    ("optimizer step", lambda f, fn: fn == "step" and "accelerate/optimizer" in f),
    ("gradient clipping", lambda f, fn: fn == "clip_grad_norm_" and "accelerate" in f),
    ("batch fetch + collation (get_batch_samples)", lambda f, fn: fn == "get_batch_samples"),
    ("  collator", lambda f, fn: fn == "__call__" and ("ftkit/data.py" in f or "data_collator.py" in f)),
    ("callbacks (call_event)", lambda f, fn: fn == "call_event"),
    ("  SIGTERM agreement (GracefulStop)", lambda f, fn: fn == "on_step_end" and "checkpointing" in f),
    ("throughput count per micro-batch", lambda f, fn: fn == "count" and "throughput" in f),
    ("target logits cut (keep_target_logits)", lambda f, fn: fn == "keep_target_logits"),
    ("non-finite guard (_count_non_finite_step)", lambda f, fn: fn == "_count_non_finite_step"),
    ("log/save/evaluate", lambda f, fn: fn == "_maybe_log_save_evaluate" and "transformers/trainer.py" in f),
)


def main(paths: list[str]) -> None:
    stats = [pstats.Stats(path).stats for path in paths]  # type: ignore[attr-defined]
    print("| part (cumulative s) | " + " | ".join(paths) + " |")
    print("| --- |" + " --- |" * len(paths))
    for label, match in PARTS:
        cells = []
        for entries in stats:
            times = [cum for (file, _, name), (_, _, _, cum, _) in entries.items() if match(file, name)]
            cells.append(f"{max(times):.2f}" if times else "-")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
