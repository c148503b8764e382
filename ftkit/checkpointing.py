"""Crash safety: atomic checkpoints, resuming from the newest complete one, a clean stop on SIGTERM/SIGINT.

A checkpoint is never half-written under its real name. Every process writes into
`<run>/.tmp-checkpoint-<step>`; then the main process syncs every file to disk, writes the completion
marker `checkpoint_complete.json` (the step and the size of every file), renames the folder to
`<run>/checkpoint-<step>` and, last, points `<run>/latest_checkpoint` at it. A process killed at any moment
leaves either a complete checkpoint or a folder without a valid marker, which is never resumed from.

Exit codes of finetune.py when a scheduler (or Ctrl-C) stops it:
    75 (EX_TEMPFAIL)  first SIGTERM/SIGINT: the current step finished, checkpoint-<step> was written; run the
                      same command again to resume.
    128 + signal      a second signal, more than a second after the first: exited at once (SIGINT 130,
                      SIGTERM 143); nothing more was written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState
from transformers.trainer_pt_utils import LengthGroupedSampler
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, SaveStrategy

from ftkit.args import ConfigurationError

logger = logging.getLogger(__name__)

MARKER = "checkpoint_complete.json"
LATEST_POINTER = "latest_checkpoint"
# Folders being written, replaced or deleted; hidden, so `checkpoint-*` globs (HF's rotation) never see them.
STAGING_PREFIX = ".tmp-"
EXIT_STOPPED_BY_SIGNAL = 75  # sysexits.h EX_TEMPFAIL: "temporary failure, the user is invited to retry"
TRAINER_STATE = "trainer_state.json"
_CHECKPOINT_NAME = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


class StoppedBySignal(Exception):
    """Training stopped early on SIGTERM/SIGINT after writing a checkpoint; running again resumes it."""

    exit_code = EXIT_STOPPED_BY_SIGNAL


def checkpoint_step(path: str | Path) -> int | None:
    """The step of a `checkpoint-<step>` folder name; None for any other name."""
    match = _CHECKPOINT_NAME.match(Path(path).name)
    return int(match.group(1)) if match else None


# ---- Writing ----


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_sizes(folder: Path) -> dict[str, int]:
    return {
        path.relative_to(folder).as_posix(): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MARKER
    }


def seal(folder: Path, step: int) -> None:
    """Sync every file of `folder` to disk, then write and sync its completion marker.

    Files written by other processes are synced here too: fsync flushes a file whatever process wrote it.
    """
    files = _file_sizes(folder)
    for relative in files:
        _fsync(folder / relative)
    for sub in [p for p in folder.rglob("*") if p.is_dir()]:
        _fsync(sub)
    marker = {"step": step, "files": files, "sealed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with open(folder / MARKER, "w", encoding="utf-8") as f:
        json.dump(marker, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    _fsync(folder)


def _atomic_write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f"{STAGING_PREFIX}{path.name}")
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
    _fsync(path.parent)


def _remove(folder: Path) -> None:
    """Delete a folder so that a kill half-way never leaves a `checkpoint-<step>` with files missing."""
    doomed = folder.with_name(f"{STAGING_PREFIX}deleting-{folder.name}")
    shutil.rmtree(doomed, ignore_errors=True)
    os.replace(folder, doomed)
    _fsync(folder.parent)
    shutil.rmtree(doomed, ignore_errors=True)


def publish(staging: Path, final: Path, step: int) -> None:
    """Seal `staging`, rename it to `final` (replacing an older copy of the step), then update the pointer."""
    seal(staging, step)
    if final.exists():  # the same step saved again, e.g. after resuming from an earlier checkpoint
        _remove(final)
    os.replace(staging, final)
    _fsync(final.parent)
    _atomic_write_text(final.parent / LATEST_POINTER, final.name + "\n")


# ---- Reading ----


def is_complete(folder: str | Path) -> bool:
    """True if `folder` holds a valid marker for its step and every file the marker lists, at its size."""
    folder = Path(folder)
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        if marker["step"] != checkpoint_step(folder):
            return False
        return all((folder / name).stat().st_size == size for name, size in marker["files"].items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


@dataclass
class CheckpointFolders:
    complete: list[Path] = field(default_factory=list)  # oldest step first
    partial: list[Path] = field(default_factory=list)  # never resumed from


def scan_checkpoints(run_dir: str | Path) -> CheckpointFolders:
    """Sort the checkpoint folders of a run into complete ones and partial ones (no valid marker)."""
    found = CheckpointFolders()
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return found
    for entry in sorted(run_dir.iterdir()):
        if not entry.is_dir():
            continue
        if entry.name.startswith(STAGING_PREFIX):
            found.partial.append(entry)
        elif checkpoint_step(entry) is not None:
            (found.complete if is_complete(entry) else found.partial).append(entry)
    found.complete.sort(key=checkpoint_step)
    return found


def resolve_resume_checkpoint(
    run_dir: str | Path,
    requested: str | None,
    cleanup_partial: bool = False,
    is_main_process: bool = True,
) -> str | None:
    """The checkpoint to resume from, or None to start fresh; logs which.

    `requested` is None (start fresh), "auto" (the newest complete checkpoint in `run_dir`, or fresh if there
    is none) or a checkpoint folder. Folders without a valid completion marker are never picked; they are
    reported, and deleted by the main process when `cleanup_partial` is set.

    Raises:
        ConfigurationError: `requested` is a path that is not a folder.
    """
    found = scan_checkpoints(run_dir)
    if found.partial and is_main_process:
        names = ", ".join(p.name for p in found.partial)
        if cleanup_partial:
            logger.warning(
                "deleting %d partial checkpoint folder(s) in %s: %s",
                len(found.partial),
                run_dir,
                names,
            )
            for folder in found.partial:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            logger.warning(
                "%d partial checkpoint folder(s) in %s, never resumed from (a run was killed while writing "
                "or deleting them): %s. Pass --cleanup_partial_checkpoints to delete them.",
                len(found.partial),
                run_dir,
                names,
            )
    say = logger.info if is_main_process else logger.debug
    if requested == "auto":
        if not found.complete:
            say("no complete checkpoint in %s: starting fresh at step 0", run_dir)
            return None
        newest = found.complete[-1]
        say("resuming from %s (step %d)", newest, checkpoint_step(newest))
        return str(newest)
    if requested:
        if not Path(requested).is_dir():
            raise ConfigurationError(
                f"--resume_from_checkpoint {requested}: no such folder. Pass a checkpoint-<step> folder, or "
                "auto for the newest complete checkpoint in --output_dir."
            )
        if not is_complete(requested):
            logger.warning(
                "%s has no valid %s: it may be half-written (or come from an older version). Resuming from "
                "it because it was named explicitly.",
                requested,
                MARKER,
            )
        say("resuming from %s", requested)
        return requested
    if found.complete:
        say(
            "starting fresh at step 0, although %s holds %d complete checkpoint(s) (newest: %s); pass "
            "--resume_from_checkpoint auto to continue from it",
            run_dir,
            len(found.complete),
            found.complete[-1].name,
        )
    return None


def rotate_checkpoints(run_dir: str | Path, limit: int | None, keep: set[str | Path | None]) -> list[Path]:
    """Delete the oldest complete checkpoints beyond `limit`, never one in `keep`; return those deleted."""
    if not limit or limit <= 0:
        return []
    keep_resolved = {Path(p).resolve() for p in keep if p}
    complete = scan_checkpoints(run_dir).complete
    excess = len(complete) - limit
    deleted = []
    for folder in complete:
        if excess <= 0:
            break
        if folder.resolve() in keep_resolved:
            continue
        _remove(folder)
        deleted.append(folder)
        excess -= 1
    return deleted


# ---- Stopping on a signal ----


class GracefulStop(TrainerCallback):
    """First SIGTERM/SIGINT: finish the current step, checkpoint it, stop. A second: exit at once.

    A duplicate within a second counts as the same request: the deepspeed launcher relays the signal a
    scheduler sends to the whole process group, so each process receives it twice within milliseconds.
    With several processes the request is all-reduced at every step end, so all stop at the same step
    (DeepSpeed's checkpoint is collective: a rank that stopped alone would hang the others).
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)
    REPEAT_WINDOW_S = 1.0

    def __init__(self) -> None:
        self.signal_name: str | None = None  # first signal this process received
        self.stopped_at_step: int | None = None  # the step checkpointed before stopping
        self._received_at: float | None = None
        self._completed_steps = 0
        self._previous: dict[int, Any] = {}

    def on_train_begin(self, args, state, control, **kwargs):
        self._completed_steps = state.global_step
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)

    def on_train_end(self, args, state, control, **kwargs):
        self.restore_handlers()

    def restore_handlers(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        # Only os.write here: print/logging could re-enter a stream the interrupted code is writing.
        name = signal.Signals(signum).name
        now = time.monotonic()
        if self._received_at is None:
            self.signal_name, self._received_at = name, now
            message = (
                f"[pid {os.getpid()}] {name} during step {self._completed_steps + 1}: checkpointing at the "
                f"end of the step, then exiting with code {EXIT_STOPPED_BY_SIGNAL}. Send it again to exit at "
                "once.\n"
            )
            os.write(2, message.encode())
        elif now - self._received_at > self.REPEAT_WINDOW_S:
            os.write(2, f"[pid {os.getpid()}] second {name}: exiting now, without a checkpoint.\n".encode())
            os._exit(128 + signum)

    def on_step_end(self, args, state, control, **kwargs):
        self._completed_steps = state.global_step
        requested = self.signal_name is not None
        if args.world_size > 1 and torch.distributed.is_initialized():
            flag = torch.tensor([int(requested)], device=args.device)
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
            requested = bool(flag.item())
        if requested and self.stopped_at_step is None:
            self.stopped_at_step = state.global_step
            control.should_save = True
            control.should_training_stop = True
            if state.is_world_process_zero:
                logger.warning("stop requested: saving checkpoint-%d and stopping", state.global_step)
        return control


# ---- Data order ----


class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
    """Length-grouped batches in an order drawn from seed + epoch alone.

    transformers' LengthGroupedSampler draws each epoch's order from the global torch RNG, whose state at the
    start of an epoch a resumed run cannot reproduce: a run resumed in its second epoch or later trained on
    other batches than the uninterrupted run.
    """

    def __init__(self, batch_size: int, lengths: list[int], seed: int) -> None:
        super().__init__(batch_size, lengths=lengths, generator=torch.Generator())
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        self.generator.manual_seed(self.seed + self.epoch)
        return super().__iter__()


# ---- The Trainer side ----


class CrashSafeCheckpointMixin:
    """Trainer mixin: atomic checkpoints, rotation sparing the resumed and best ones, stop on SIGTERM/SIGINT.

    Put it before the Trainer class: `class MyTrainer(CrashSafeCheckpointMixin, Seq2SeqTrainer)`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._epoch_seeded_sampler: EpochSeededLengthGroupedSampler | None = None
        super().__init__(*args, **kwargs)
        self.resumed_from: str | None = None
        self.graceful_stop = GracefulStop()
        self.add_callback(self.graceful_stop)

    def train(self, resume_from_checkpoint: str | bool | None = None, *args: Any, **kwargs: Any):
        if resume_from_checkpoint is True or resume_from_checkpoint == "auto":
            # HF's `True` would take the highest checkpoint-<step> even if it is half-written.
            resume_from_checkpoint = resolve_resume_checkpoint(
                self.args.output_dir, "auto", is_main_process=self.args.should_save
            )
        self.resumed_from = resume_from_checkpoint if isinstance(resume_from_checkpoint, str) else None
        try:
            return super().train(resume_from_checkpoint, *args, **kwargs)
        finally:  # also when training fails: a later signal must act as it did before
            self.graceful_stop.restore_handlers()

    def _get_train_sampler(self, train_dataset=None):
        sampler = super()._get_train_sampler(train_dataset)
        if type(sampler) is LengthGroupedSampler:
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            sampler = EpochSeededLengthGroupedSampler(sampler.batch_size, sampler.lengths, seed)
            self._epoch_seeded_sampler = sampler
        return sampler

    def _run_epoch(self, *args: Any, **kwargs: Any):
        if 0 < self.state.max_steps <= self.state.global_step:
            # Resumed from the last step (a finished run started again, as `auto` does): transformers
            # would train one step past --max_steps every time.
            logger.info("step %d reached --max_steps: nothing left to train", self.state.global_step)
            self.control.should_training_stop = True
            return None
        # Set here: accelerate's set_epoch does not reach the sampler through a skip-batches wrapper on
        # several processes, which is exactly the resumed epoch.
        if self._epoch_seeded_sampler is not None:
            self._epoch_seeded_sampler.set_epoch(kwargs["epoch"])
        return super()._run_epoch(*args, **kwargs)

    def raise_if_stopped_by_signal(self) -> None:
        """Raises StoppedBySignal if a signal stopped (or arrived during) the last train()."""
        if self.graceful_stop.signal_name is None and self.graceful_stop.stopped_at_step is None:
            return
        step = self.graceful_stop.stopped_at_step
        where = f"checkpoint-{step} written" if step is not None else "training had already finished"
        raise StoppedBySignal(
            f"stopped by {self.graceful_stop.signal_name or 'a signal on another process'} at step "
            f"{self.state.global_step} ({where}); run the same command with --resume_from_checkpoint auto "
            "to continue"
        )

    def _save_checkpoint(self, model, trial) -> None:
        """Transformers' _save_checkpoint, written into a staging folder and published atomically."""
        run_dir = Path(self._get_output_dir(trial=trial))
        step = self.state.global_step
        final = run_dir / f"{PREFIX_CHECKPOINT_DIR}-{step}"
        staging = run_dir / f"{STAGING_PREFIX}{final.name}"
        if self.args.should_save:
            shutil.rmtree(staging, ignore_errors=True)  # left by a run killed while writing this step
            staging.mkdir(parents=True)
        self.accelerator.wait_for_everyone()

        if self.hp_search_backend is None and trial is None:
            self.store_flos()
        self.save_model(str(staging), _internal_call=True)
        if self.args.save_strategy in (SaveStrategy.STEPS, SaveStrategy.EPOCH, SaveStrategy.BEST) and (
            self.state.best_global_step
        ):
            best = run_dir / f"{PREFIX_CHECKPOINT_DIR}-{self.state.best_global_step}"
            if self.state.best_global_step == step or best.is_dir():
                self.state.best_model_checkpoint = str(best)
        if not self.args.save_only_model:
            self._save_optimizer_and_scheduler(str(staging))
            self._save_scaler(str(staging))
            self._save_rng_state(str(staging))
        if self.args.should_save:
            for callback in self.callback_handler.callbacks + [self.control]:
                if not isinstance(callback, ExportableState):
                    continue
                name = callback.__class__.__name__
                if isinstance(self.state.stateful_callbacks[name], list):
                    self.state.stateful_callbacks[name].append(callback.state())
                else:
                    self.state.stateful_callbacks[name] = callback.state()
            self.state.save_to_json(str(staging / TRAINER_STATE))

        self.accelerator.wait_for_everyone()  # every process has written its files
        if self.args.should_save:
            publish(staging, final, step)
            logger.info("saved %s", final)
        # No process may exit (and make the launcher kill the others) before the checkpoint is published.
        self.accelerator.wait_for_everyone()

        if self.args.push_to_hub:
            self._push_from_checkpoint(str(final))
        if self.args.should_save:
            deleted = rotate_checkpoints(
                run_dir,
                self.args.save_total_limit,
                keep={final, self.resumed_from, self.state.best_model_checkpoint},
            )
            for folder in deleted:
                logger.info("deleted %s (--save_total_limit %d)", folder.name, self.args.save_total_limit)
