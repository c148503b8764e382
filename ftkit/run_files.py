"""Names of the files the toolkit writes into a run folder, in a module that imports nothing: scripts that
only read run folders (scripts/eval_results.py) use them without loading PyTorch."""

# A checkpoint's completion marker: its step and the size and hash of every file (ftkit.checkpointing.seal).
MARKER = "checkpoint_complete.json"
# The run folder's pointer to its newest published checkpoint.
LATEST_POINTER = "latest_checkpoint"
# Written into the run folder when a signal stopped training after a checkpoint: train.sh reads it when the
# deepspeed launcher, signalled too (Ctrl-C, SLURM), exits 1 although every rank stopped as asked.
STOPPED_RECORD = "stopped_by_signal.json"
# Folders being written, replaced or deleted; hidden, so `checkpoint-*` globs (HF's rotation) never see them.
STAGING_PREFIX = ".tmp-"
# The arguments a run was trained with, in the run folder, every checkpoint and every saved model.
RUN_ARGS = "run_args.json"
