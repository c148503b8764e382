"""Crash safety and trust: atomic, hashed checkpoints; resuming only a good one of the same run; a clean stop
on SIGTERM/SIGINT or when training diverges.

A checkpoint is never half-written under its real name. Every process writes into
`<run>/.tmp-checkpoint-<step>`; then the main process syncs every file to disk, writes the completion
marker `checkpoint_complete.json` (the step, and the size and SHA-256 of every file), renames the folder to
`<run>/checkpoint-<step>` and, last, points `<run>/latest_checkpoint` at it. A process killed at any moment
leaves either a complete checkpoint or a folder without a valid marker, which is never resumed from. A
resume re-hashes the checkpoint it picks: one whose files changed on disk is skipped by `auto` (for the
newest good one) and refused when named. Each checkpoint and saved model holds the `run_args.json` it was
trained with; `auto` resumes only a checkpoint of the same run (ftkit.integrity.run_identity).

Several nodes: when the output folder is shared, global rank 0 seals and publishes, and its marker lists the
files of every node. When each node has its own disk at that path (found out by a probe file, see
output_is_node_local), each node's local rank 0 seals and publishes what its node wrote, and `auto` resumes
the newest step that is complete and good on every node, agreed over the process group.

Exit codes of the training entry points when training stops early (one table, here):
    3                 training diverged: the loss or gradient norm was NaN/inf on --max_non_finite_steps
                      consecutive steps; nothing was written from the non-finite weights. Lower
                      --learning_rate, or resume from the last checkpoint before the divergence.
    75 (EX_TEMPFAIL)  first SIGTERM/SIGINT: the current step finished (with several processes, the next
                      one, on every node), checkpoint-<step> was written; run the same command again to
                      resume.
    128 + signal      a second signal, more than a second after the first: exited at once (SIGINT 130,
                      SIGTERM 143); nothing more was written.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState
from transformers.trainer_pt_utils import LengthGroupedSampler
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, SaveStrategy

from ftkit.args import CheckpointArguments, ConfigurationError
from ftkit.integrity import (
    HASH,
    hash_files,
    identity_differences,
    non_finite_parameters,
    read_run_arguments,
    resume_differences,
    write_run_arguments,
)
from ftkit.run_files import LATEST_POINTER, MARKER, STAGING_PREFIX, STOPPED_RECORD

logger = logging.getLogger(__name__)

EXIT_STOPPED_BY_SIGNAL = 75  # sysexits.h EX_TEMPFAIL: "temporary failure, the user is invited to retry"
EXIT_DIVERGED = 3
TRAINER_STATE = "trainer_state.json"
VISIBLE_WAIT_S = 60.0  # a shared filesystem may show another node's new files late
_CHECKPOINT_NAME = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


class TrainingStopped(Exception):
    """Training stopped before its end; `exit_code` is the entry point's exit status (module docstring)."""

    exit_code = 1


class StoppedBySignal(TrainingStopped):
    """Training stopped early on SIGTERM/SIGINT after writing a checkpoint; running again resumes it."""

    exit_code = EXIT_STOPPED_BY_SIGNAL


class TrainingDiverged(TrainingStopped):
    """The loss or gradient norm stayed non-finite; nothing was saved from the non-finite weights."""

    exit_code = EXIT_DIVERGED


class NoSpaceLeft(ConfigurationError):
    """A checkpoint did not fit on the output folder's device; its partial copy was removed."""


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
    """Sync every file of `folder` to disk, then write and sync its completion marker (sizes and hashes).

    Files written by other processes are synced and hashed here too: fsync flushes a file whatever process
    wrote it, and they were just written, so they are hashed from the page cache.
    """
    sizes = _file_sizes(folder)
    for relative in sizes:
        _fsync(folder / relative)
    for sub in [p for p in folder.rglob("*") if p.is_dir()]:
        _fsync(sub)
    hashes = hash_files(folder, sizes)
    files = {name: {"size": size, HASH: hashes[name]} for name, size in sizes.items()}
    marker = {"step": step, "files": files, "sealed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with open(folder / MARKER, "w", encoding="utf-8") as f:
        json.dump(marker, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    _fsync(folder)


def device_of(path: str | Path) -> str:
    """'<device> (mounted on <mount point>)' for the filesystem holding `path`, for disk-full messages."""
    mount = Path(path).resolve()
    while not os.path.ismount(mount):
        mount = mount.parent
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            device, point = line.split()[:2]
            if point == str(mount):
                return f"{device} (mounted on {mount})"
    except OSError:
        pass
    return str(mount)


def is_disk_full(error: BaseException, folder: Path) -> bool:
    """Whether a failed write ran out of space: ENOSPC, or (torch.save's C++ writer says only "iostream
    error") almost no space left on the folder's device."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        return shutil.disk_usage(folder).free < 16 << 20
    except OSError:
        return False


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


def _marker(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MARKER).read_text(encoding="utf-8"))


def _listed_size(entry: dict[str, Any] | int) -> int:
    return entry["size"] if isinstance(entry, dict) else entry  # markers of older versions: sizes only


def is_complete(folder: str | Path) -> bool:
    """True if `folder` holds a valid marker for its step and every file the marker lists, at its size."""
    folder = Path(folder)
    try:
        marker = _marker(folder)
        if marker["step"] != checkpoint_step(folder):
            return False
        return _size_problem(folder, marker["files"]) is None
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _size_problem(folder: Path, listed: dict[str, Any]) -> str | None:
    """The first file of a marker's list that is missing or not the size it was sealed with, said."""
    for name, entry in listed.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != _listed_size(entry):
            return (
                f"{name} is {path.stat().st_size} bytes, not the {_listed_size(entry)} it was sealed with: "
                "cut short or overwritten, corrupt"
            )
    return None


def checkpoint_problem(folder: str | Path) -> str | None:
    """Why a checkpoint must not be resumed from (no valid marker; a file missing, cut short or changed
    since it was sealed), naming the file; None when every file has the content it was sealed with."""
    folder = Path(folder)
    try:
        marker = _marker(folder)
        step, listed = marker["step"], dict(marker["files"])
    except FileNotFoundError:
        return f"no {MARKER}: half-written, or not written by this toolkit"
    except (OSError, ValueError, KeyError, TypeError) as e:
        return f"its {MARKER} is unreadable ({type(e).__name__}: {e}): half-written"
    if checkpoint_step(folder) not in (None, step):  # a copy under another name keeps its marker
        return f"its {MARKER} is for step {step}"
    if problem := _size_problem(folder, listed):
        return problem
    hashed = {name: entry[HASH] for name, entry in listed.items() if isinstance(entry, dict)}
    if not hashed:
        logger.warning("%s: its %s has no hashes (an older version): only sizes checked", folder, MARKER)
    for name, digest in hash_files(folder, hashed).items():
        if digest != hashed[name]:
            return f"{name} changed since it was written (its {HASH} differs from {MARKER}'s): corrupt"
    return None


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


# ---- Several nodes ----


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _rank() -> int:
    return torch.distributed.get_rank() if _distributed() else 0


def _local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))  # set by the deepspeed launcher and torchrun alike


def _gather(value: Any) -> list[Any]:
    """Every process's `value`, in rank order (a collective with a process group)."""
    if not _distributed():
        return [value]
    values: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(values, value)
    return values


def process_layout() -> list[list[tuple[int, int, str]]]:
    """The job's nodes, each a list of its processes' (global rank, local rank, host name). A collective.

    Launchers number a node's processes consecutively from local rank 0, so each local rank 0 starts a node;
    host names alone would not tell two "nodes" on one machine apart.
    """
    nodes: list[list[tuple[int, int, str]]] = []
    for rank, (local_rank, host) in enumerate(_gather((_local_rank(), socket.gethostname()))):
        if local_rank == 0 or not nodes:
            nodes.append([])
        nodes[-1].append((rank, local_rank, host))
    return nodes


_NODE_LOCAL: dict[str, bool] = {}  # output folder -> answer of output_is_node_local, asked once per folder
PROBE_WAIT_S = 2.0  # an NFS client may cache "no such file" for a moment after another node created it


def output_is_node_local(run_dir: str | Path) -> bool:
    """Whether the nodes of this job see different folders at `run_dir` (node-local disks), not one shared
    folder. A collective; False with one node.

    Global rank 0 writes a probe file there and each node's local rank 0 looks for it: the only test that
    holds for every filesystem and mount layout. Asked once per folder, at the start of training.
    """
    key = str(Path(run_dir).resolve())
    if key not in _NODE_LOCAL:
        if len(process_layout()) == 1:
            _NODE_LOCAL[key] = False
        else:
            seen = [answer for answer in _gather(_sees_probe(Path(run_dir))) if answer is not None]
            _NODE_LOCAL[key] = not all(seen)
    return _NODE_LOCAL[key]


def _sees_probe(run_dir: Path) -> bool | None:
    """Whether this process (a node's local rank 0; None for the others) sees global rank 0's probe file."""
    created = not run_dir.exists()
    probe = [f"{STAGING_PREFIX}node-probe-{os.getpid()}-{time.time_ns()}"]
    torch.distributed.broadcast_object_list(probe, src=0)
    path = run_dir / probe[0]
    if _rank() == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        path.write_text("written by global rank 0 to find out whether other nodes see this folder\n")
    torch.distributed.barrier()
    seen = None
    if _local_rank() == 0:
        deadline = time.monotonic() + PROBE_WAIT_S
        while not (seen := path.exists()) and time.monotonic() < deadline:
            time.sleep(0.1)
    torch.distributed.barrier()
    if _rank() == 0:
        path.unlink()
        if created:
            run_dir.rmdir()  # a run that fails before training leaves no folder behind
    return seen


def _on_leaders(leads: bool, work: Callable[[], Any]) -> list[Any]:
    """work() on the processes that lead an output folder (`leads`), each leader's answer in rank order, or
    the first leader's ConfigurationError, on every process."""
    outcome = None
    if leads:
        try:
            outcome = ("ok", work())
        except ConfigurationError as e:
            outcome = ("error", str(e))
    outcomes = [o for o in _gather(outcome) if o is not None]
    for kind, value in outcomes:
        if kind == "error":
            raise ConfigurationError(value)
    return [value for _, value in outcomes]


def _wait_until_visible(staging: Path, listed: list[dict[str, int] | None]) -> None:
    """Wait until this process sees every file that each node's local rank 0 saw in `staging` (a shared
    folder), so that the marker lists every rank's part.

    Raises:
        ConfigurationError: a file another node wrote is still missing here after VISIBLE_WAIT_S.
    """
    wanted = {name for files in listed if files for name in files}
    deadline = time.monotonic() + VISIBLE_WAIT_S
    while missing := sorted(name for name in wanted if not (staging / name).is_file()):
        if time.monotonic() > deadline:
            raise ConfigurationError(
                f"{staging}: {len(missing)} file(s) that other nodes wrote there are not visible on global "
                f"rank 0 after {VISIBLE_WAIT_S:.0f} s ({', '.join(missing[:3])}...): the output folder is "
                "not one shared folder for every node. Give every node the same shared --output_dir, or "
                "each node its own local disk at that path."
            )
        time.sleep(0.2)


def _write_deepspeed_tag(staging: Path) -> None:
    """Write the `latest` file that DeepSpeed resumes from into a node's copy of a checkpoint: DeepSpeed
    writes it on global rank 0 alone, even with checkpoint.use_node_local_storage."""
    tags = [folder.name for folder in staging.glob("global_step*") if folder.is_dir()]
    if len(tags) == 1 and not (staging / "latest").exists():
        (staging / "latest").write_text(tags[0])


def _other_run(folder: Path, run_args: dict[str, Any] | None) -> list[str]:
    """How the run that wrote `folder` differs from this one (empty: the same run, or unknown)."""
    saved = read_run_arguments(folder)
    if not run_args or not saved or "identity" not in saved:
        return []  # written by an older version, or by a caller that passes no arguments
    return identity_differences(saved["identity"], run_args["identity"])


def _check_resume_arguments(checkpoint: Path, run_args: dict[str, Any] | None) -> None:
    """Refuse a resume whose arguments the checkpoint would override; report those that take effect."""
    saved = read_run_arguments(checkpoint)
    if not run_args or not saved:
        return
    overridden, taking_effect = resume_differences(saved, run_args)
    if overridden:
        raise ConfigurationError(
            f"resuming {checkpoint} with arguments that differ from those it was trained with (its "
            f"run_args.json), which the checkpoint would override: {'; '.join(overridden)}. Resume with the "
            "checkpoint's values, or start a new run from its weights: --model_name_or_path "
            f"{checkpoint} --output_dir <another folder>."
        )
    if taking_effect:
        logger.warning(
            "resuming %s with arguments that differ from those it was trained with; these take effect: %s",
            checkpoint.name,
            "; ".join(taking_effect),
        )


def resolve_resume_checkpoint(
    run_dir: str | Path,
    requested: str | None,
    cleanup_partial: bool = False,
    run_args: dict[str, Any] | None = None,
    overwrite_other_run: bool = False,
) -> str | None:
    """The checkpoint to resume from, or None to start fresh; logs which and why.

    `requested` is None (start fresh), "auto" (the newest good checkpoint of this run in `run_dir`, or fresh
    if there is none) or a checkpoint folder. A checkpoint is good when its files still have the hashes it
    was sealed with. `run_args` (ftkit.integrity.run_arguments) identifies this run: checkpoints of another
    identity are never resumed, and a fresh start beside them is refused unless `overwrite_other_run`
    (--overwrite_output_dir) deletes them. Folders without a valid completion marker are never picked; they
    are reported, and deleted when `cleanup_partial` is set.

    With a process group, the process that leads the folder decides (it alone hashes, deletes and logs) and
    every process gets its answer. On node-local disks (output_is_node_local) each node's local rank 0 leads
    its own copy, and `auto` picks the newest step that is good on every node.

    Raises:
        ConfigurationError: `requested` is not a folder, or a bad checkpoint or one of another run; `run_dir`
            holds another run's checkpoints; the resume changes arguments the checkpoint overrides.
    """
    run_dir = Path(run_dir)
    node_local = output_is_node_local(run_dir) if _distributed() else False
    leads = _local_rank() == 0 if node_local else _rank() == 0

    def survey() -> str | list[int] | None:
        found = scan_checkpoints(run_dir)
        if found.partial:
            _report_partial(run_dir, found.partial, cleanup_partial)
        # One run per folder: its checkpoints are the only ones `auto` and rotation may ever see.
        found.complete = _refuse_beside_another_run(run_dir, found.complete, run_args, overwrite_other_run)
        if requested and requested != "auto":
            return _explicit(Path(requested), found, run_args)
        if requested is None and found.complete:
            logger.info(
                "starting fresh at step 0, although %s holds %d complete checkpoint(s) (newest: %s); pass "
                "--resume_from_checkpoint auto to continue from it",
                run_dir,
                len(found.complete),
                found.complete[-1].name,
            )
        return [checkpoint_step(folder) for folder in found.complete]

    surveys = _on_leaders(leads, survey)
    if requested and requested != "auto":
        return surveys[0]  # the same folder, checked on every node
    if requested is None:
        return None
    everywhere = set.intersection(*(set(steps) for steps in surveys))
    if not_everywhere := set().union(*surveys) - everywhere:
        if _rank() == 0:
            logger.warning(
                "not resuming from %s: not complete on every node (a node was killed before it published it)",
                ", ".join(f"{PREFIX_CHECKPOINT_DIR}-{step}" for step in sorted(not_everywhere)),
            )
    skipped = []
    for step in sorted(everywhere, reverse=True):
        folder = run_dir / f"{PREFIX_CHECKPOINT_DIR}-{step}"

        def good(folder: Path = folder) -> bool:
            if problem := checkpoint_problem(folder):
                logger.warning("not resuming from %s: %s", folder.name, problem)
                return False
            _check_resume_arguments(folder, run_args)
            return True

        if not all(_on_leaders(leads, good)):
            skipped.append(folder.name)
            continue
        if _rank() == 0:
            if skipped:
                logger.warning(
                    "resuming from %s, the newest good checkpoint (skipped: %s, see above)",
                    folder.name,
                    ", ".join(skipped),
                )
            logger.info("resuming from %s (step %d)", folder, step)
        return str(folder)
    if _rank() == 0:
        reason = "no good checkpoint" if skipped else "no complete checkpoint"
        logger.info("%s in %s: starting fresh at step 0", reason, run_dir)
    return None


def _report_partial(run_dir: Path, partial: list[Path], cleanup: bool) -> None:
    names = ", ".join(p.name for p in partial)
    if cleanup:
        logger.warning("deleting %d partial checkpoint folder(s) in %s: %s", len(partial), run_dir, names)
        for folder in partial:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        logger.warning(
            "%d partial checkpoint folder(s) in %s, never resumed from (a run was killed while writing "
            "or deleting them): %s. Pass --cleanup_partial_checkpoints to delete them.",
            len(partial),
            run_dir,
            names,
        )


def _newest_good(complete: list[Path], but: Path) -> str:
    for folder in reversed(complete):
        if folder.resolve() != but.resolve() and checkpoint_problem(folder) is None:
            return f"the newest good checkpoint is {folder}: pass --resume_from_checkpoint {folder}"
    return "there is no good checkpoint of this run: start fresh (leave --resume_from_checkpoint out)"


def _explicit(folder: Path, found: CheckpointFolders, run_args: dict[str, Any] | None) -> str:
    if not folder.is_dir():
        raise ConfigurationError(
            f"--resume_from_checkpoint {folder}: no such folder. Pass a checkpoint-<step> folder, or "
            "auto for the newest complete checkpoint in --output_dir."
        )
    if differences := _other_run(folder, run_args):
        raise ConfigurationError(
            f"--resume_from_checkpoint {folder} is a checkpoint of another run ({'; '.join(differences)}). "
            "Resume it with the arguments and data it was trained with (its run_args.json), or start from "
            f"its weights: --model_name_or_path {folder}."
        )
    if not (folder / MARKER).is_file():
        logger.warning(
            "%s has no %s: it may be half-written (or come from an older version or another tool). "
            "Resuming from it because it was named explicitly.",
            folder,
            MARKER,
        )
    elif problem := checkpoint_problem(folder):
        raise ConfigurationError(
            f"--resume_from_checkpoint {folder}: {problem}; {_newest_good(found.complete, folder)}."
        )
    _check_resume_arguments(folder, run_args)
    logger.info("resuming from %s", folder)
    return str(folder)


def _refuse_beside_another_run(
    run_dir: Path, complete: list[Path], run_args: dict[str, Any] | None, overwrite: bool
) -> list[Path]:
    """This run's checkpoints among `complete`; another run's are refused, or deleted when `overwrite`."""
    others = [(folder, diff) for folder in complete if (diff := _other_run(folder, run_args))]
    if not others:
        return complete
    names = ", ".join(folder.name for folder, _ in others)
    if not overwrite:
        raise ConfigurationError(
            f"--output_dir {run_dir} holds checkpoints of another run ({names}; it differs in "
            f"{'; '.join(others[-1][1])}). Pass another --output_dir, or --overwrite_output_dir to delete "
            "them."
        )
    logger.warning(
        "--overwrite_output_dir: deleting the checkpoints of another run in %s: %s", run_dir, names
    )
    for folder, _ in others:
        _remove(folder)
    return [folder for folder in complete if folder.exists()]


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


_HOST_GROUPS: dict[Any, Any] = {}  # default process group -> its gloo twin (host_group)


def host_group() -> Any:
    """A gloo group of every process, for agreeing on flags the host holds: on NCCL, the collective would
    queue behind the accelerator's work and reading its answer would wait for all of it. None on one
    process. A collective the first time in a process group."""
    if not _distributed() or torch.distributed.get_world_size() == 1:
        return None
    world = torch.distributed.group.WORLD
    if world not in _HOST_GROUPS:
        _HOST_GROUPS[world] = torch.distributed.new_group(backend="gloo")
    return _HOST_GROUPS[world]


def any_process(flag: bool) -> bool:
    """Whether `flag` is set on any process (a collective: every process must call it at the same point), on
    the host group."""
    group = host_group()
    if group is None:
        return flag
    tensor = torch.tensor([int(flag)])
    torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.MAX, group=group)
    return bool(tensor.item())


class GracefulStop(TrainerCallback):
    """First SIGTERM/SIGINT: finish the current step, checkpoint it, stop. A second: exit at once.

    A duplicate within a second counts as the same request: the deepspeed launcher relays the signal a
    scheduler sends to the whole process group, so each process receives it twice within milliseconds.
    With several processes (on one node or many) every process must stop at the same step: DeepSpeed's
    checkpoint is collective, a rank that stopped alone would hang the others. So the request is all-reduced
    on the host group (host_group): started at the end of one step and read at the end of the next, so that
    neither the accelerator stream nor the step waits on it. Every process then stops one step after the
    signal, at the same step.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)
    REPEAT_WINDOW_S = 1.0

    def __init__(self) -> None:
        self.signal_name: str | None = None  # first signal this process received
        self.stopped_at_step: int | None = None  # the step checkpointed before stopping
        self.requested_elsewhere = False  # another process was signalled during the last step
        self._received_at: float | None = None
        self._completed_steps = 0
        self._previous: dict[int, Any] = {}
        self._group: Any = None  # host_group(); None on one process
        self._pending: tuple[Any, torch.Tensor] | None = None  # the all-reduce of the last step end

    def on_train_begin(self, args, state, control, **kwargs):
        self._completed_steps = state.global_step
        self._group = host_group()  # every process, at the same point
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)

    def on_train_end(self, args, state, control, **kwargs):
        if self._group is not None:
            # A signal during the last step: every process learns of it and stops as the signalled one does.
            self._read_pending()
            self.requested_elsewhere = (
                any_process(self.signal_name is not None) and self.stopped_at_step is None
            )
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
            step = self._completed_steps + 1
            message = (
                f"[pid {os.getpid()}] {name} during step {step}: checkpointing at the end of step "
                f"{step + (self._group is not None)}, then exiting with code {EXIT_STOPPED_BY_SIGNAL}. Send "
                "it again to exit at once.\n"
            )
            os.write(2, message.encode())
        elif now - self._received_at > self.REPEAT_WINDOW_S:
            os.write(2, f"[pid {os.getpid()}] second {name}: exiting now, without a checkpoint.\n".encode())
            os._exit(128 + signum)

    def _read_pending(self) -> bool:
        """Whether the all-reduce started at the last step end found a request (False if none was started)."""
        if self._pending is None:
            return False
        work, flag = self._pending
        self._pending = None
        work.wait()
        return bool(flag.item())  # a CPU tensor: no device synchronisation

    def on_step_end(self, args, state, control, **kwargs):
        signalled = self.signal_name is not None  # read first: a signal from here on belongs to the next step
        self._completed_steps = state.global_step
        if self._group is None:
            requested = signalled
        else:
            requested = self._read_pending()
            flag = torch.tensor([int(signalled)])
            work = torch.distributed.all_reduce(
                flag, op=torch.distributed.ReduceOp.MAX, group=self._group, async_op=True
            )
            self._pending = (work, flag)
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
    """Trainer mixin: atomic checkpoints of finite weights, rotation sparing the resumed and best ones, the
    run's arguments in every saved folder, a stop on SIGTERM/SIGINT and on divergence.

    Put it before the Trainer class: `class MyTrainer(CrashSafeCheckpointMixin, Seq2SeqTrainer)`, and give it
    the run's arguments with `track_run` before training.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._epoch_seeded_sampler: EpochSeededLengthGroupedSampler | None = None
        super().__init__(*args, **kwargs)
        self.resumed_from: str | None = None
        self.graceful_stop = GracefulStop()
        self.add_callback(self.graceful_stop)
        self.run_args: dict[str, Any] | None = None
        self.max_non_finite_steps = CheckpointArguments.max_non_finite_steps  # the flag's default
        self.diverged_at_step: int | None = None
        self._weights_checked = False
        # Micro-batches of the current optimizer step, counted on the device and read at the step's end.
        self._non_finite_losses: int | torch.Tensor = 0
        self._non_finite_since_log = 0
        self._non_finite_in_a_row = 0
        self._grad_norm: float | torch.Tensor | None = None
        self._checked_step = -1

    def track_run(self, run_args: dict[str, Any], max_non_finite_steps: int) -> None:
        """Write `run_args` (ftkit.integrity.run_arguments) to the run folder when training starts and into
        every checkpoint and saved model; stop after `max_non_finite_steps` (at least 1, checked with the
        flags) non-finite steps in a row."""
        self.run_args, self.max_non_finite_steps = run_args, max_non_finite_steps

    def train(self, resume_from_checkpoint: str | bool | None = None, *args: Any, **kwargs: Any):
        """Trainer.train, resuming only a good checkpoint of this run.

        Raises:
            TrainingDiverged: non-finite steps stopped training, or the weights are not finite at its end.
        """
        self._follow_output_folder(output_is_node_local(self.args.output_dir))
        if resume_from_checkpoint is True or resume_from_checkpoint == "auto":
            # HF's `True` would take the highest checkpoint-<step> even if it is half-written.
            resume_from_checkpoint = resolve_resume_checkpoint(
                self.args.output_dir, "auto", run_args=self.run_args
            )
        self.resumed_from = resume_from_checkpoint if isinstance(resume_from_checkpoint, str) else None
        self._weights_checked = False
        if self.args.should_save:
            (Path(self.args.output_dir) / STOPPED_RECORD).unlink(missing_ok=True)  # of a stop now resumed
        try:
            result = super().train(resume_from_checkpoint, *args, **kwargs)
        finally:  # also when training fails: a later signal must act as it did before
            self.graceful_stop.restore_handlers()
        step = self.state.global_step
        if self.diverged_at_step is not None:
            raise TrainingDiverged(
                f"training diverged: the loss or gradient norm was not finite on "
                f"{self.max_non_finite_steps} steps in a row, up to step {self.diverged_at_step}; no "
                "checkpoint or model was written from the non-finite weights. Lower --learning_rate (or "
                "raise --warmup_steps), then resume from the last checkpoint before the divergence or start "
                "again."
            )
        if names := self._non_finite_weights():
            raise TrainingDiverged(
                f"the weights are not finite after step {step} ({', '.join(names[:3])}...): the final model "
                "was not written. Lower --learning_rate, then resume from the last checkpoint or start again."
            )
        return result

    def _follow_output_folder(self, node_local: bool) -> None:
        """Make every node save what it needs to resume when the output folder is on node-local disks, and
        only global rank 0 write when it is shared: the probe (output_is_node_local) decides, not the flag.

        On node-local disks each node's local rank 0 writes the model, tokenizer and trainer state into its
        own checkpoints and final model (--save_on_each_node), and DeepSpeed writes its model states file per
        node too (checkpoint.use_node_local_storage); each node then seals and publishes its own copy.
        """
        if self.args.save_on_each_node != node_local:
            if self.args.save_on_each_node:
                why = "shared by every node: with it they would all write the same files"
            else:
                why = "not shared between the nodes: without it, the other nodes could not resume"
            if self.args.local_process_index == 0:
                logger.warning(
                    "--output_dir %s is %s; setting --save_on_each_node %s",
                    self.args.output_dir,
                    why,
                    node_local,
                )
            self.args.save_on_each_node = node_local
        plugin = getattr(self.accelerator.state, "deepspeed_plugin", None)
        if node_local and plugin is not None:
            plugin.deepspeed_config.setdefault("checkpoint", {})["use_node_local_storage"] = True

    def _non_finite_weights(self) -> list[str]:
        """Non-finite parameters of this process's copy. A collective: non-empty everywhere if anywhere."""
        names = non_finite_parameters(self.model)
        return names or (["(on another process)"] if any_process(bool(names)) else [])

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        super().save_model(output_dir, _internal_call)
        if self.run_args is not None and self.args.should_save:
            write_run_arguments(output_dir or self.args.output_dir, self.run_args)

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        self._non_finite_losses = self._non_finite_losses + (~torch.isfinite(loss)).any().int()
        return loss

    def _get_grad_norm(self, model, grad_norm=None):
        self._grad_norm = super()._get_grad_norm(model, grad_norm)
        return self._grad_norm

    def _maybe_log_save_evaluate(self, tr_loss, grad_norm, *args: Any, **kwargs: Any):
        # Called after every optimizer step (and again at the epoch's end): before it logs and saves.
        if self.state.global_step != self._checked_step:
            self._checked_step = self.state.global_step
            self._count_non_finite_step()
        return super()._maybe_log_save_evaluate(tr_loss, grad_norm, *args, **kwargs)

    def _count_non_finite_step(self) -> None:
        norm, self._grad_norm = self._grad_norm, None
        # The loss count and the norm are read on the host here, once per optimizer step and not a step late:
        # this step's checkpoint depends on them (a lagged check would let a non-finite checkpoint through).
        # transformers itself reads the norm every step under DeepSpeed.
        # An fp16 step skipped for overflow left the weights as they were: the loss scaler's business.
        bad_norm = norm is not None and not math.isfinite(float(norm))
        bad_norm = bad_norm and not self.accelerator.optimizer_step_was_skipped
        losses, self._non_finite_losses = int(self._non_finite_losses), 0
        self._non_finite_since_log += losses
        if not any_process(bool(losses) or bad_norm):
            self._non_finite_in_a_row = 0
            return
        self._non_finite_in_a_row += 1
        self.control.should_save = False  # the weights after this step may be non-finite
        parts = [f"{losses} micro-batch loss(es)"] * bool(losses) + [f"gradient norm {norm}"] * bad_norm
        what = ", ".join(parts) or "the loss on another process"
        logger.warning(
            "step %d: not finite: %s (%d of --max_non_finite_steps %d in a row); no checkpoint of this step",
            self.state.global_step,
            what,
            self._non_finite_in_a_row,
            self.max_non_finite_steps,
        )
        if self._non_finite_in_a_row >= self.max_non_finite_steps:
            self.diverged_at_step = self.state.global_step
            self.control.should_training_stop = True

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        if "loss" in logs and self._non_finite_since_log and self.args.logging_nan_inf_filter:
            # transformers replaces a NaN/inf loss by the mean of the window's others (0.0 if none): say so.
            logs["non_finite_losses_left_out"] = self._non_finite_since_log
            logger.warning(
                "step %d: the logged loss %s leaves out %d non-finite micro-batch loss(es) "
                "(logging_nan_inf_filter)",
                self.state.global_step,
                logs["loss"],
                self._non_finite_since_log,
            )
        if "loss" in logs:
            self._non_finite_since_log = 0
        super().log(logs, *args, **kwargs)

    def _get_train_sampler(self, train_dataset=None):
        sampler = super()._get_train_sampler(train_dataset)
        if type(sampler) is LengthGroupedSampler:
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            sampler = EpochSeededLengthGroupedSampler(sampler.batch_size, sampler.lengths, seed)
            self._epoch_seeded_sampler = sampler
        return sampler

    def _run_epoch(self, *args: Any, **kwargs: Any):
        if not self._weights_checked:  # the first epoch of this train(): the weights are loaded, it trains
            self._weights_checked = True
            if names := self._non_finite_weights():
                source = self.resumed_from or (self.run_args or {}).get("model_name_or_path", "the model")
                raise ConfigurationError(
                    f"{source} holds non-finite weights (NaN/inf in {', '.join(names[:3])}): training on "
                    "them gives NaN. Resume from an earlier checkpoint or start from another model."
                )
            if self.run_args is not None and self.args.should_save:
                write_run_arguments(self.args.output_dir, self.run_args)  # only a run that trains writes it
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
        stop = self.graceful_stop
        if stop.signal_name is None and stop.stopped_at_step is None and not stop.requested_elsewhere:
            return
        step = self.graceful_stop.stopped_at_step
        where = f"checkpoint-{step} written" if step is not None else "training had already finished"
        if step is not None and self.args.should_save:
            signal_name = stop.signal_name or "a signal on another process"
            record = {"signal": signal_name, "step": step, "checkpoint": f"{PREFIX_CHECKPOINT_DIR}-{step}"}
            _atomic_write_text(Path(self.args.output_dir) / STOPPED_RECORD, json.dumps(record) + "\n")
        raise StoppedBySignal(
            f"stopped by {self.graceful_stop.signal_name or 'a signal on another process'} at step "
            f"{self.state.global_step} ({where}); run the same command with --resume_from_checkpoint auto "
            "to continue"
        )

    def _save_checkpoint(self, model, trial) -> None:
        """Transformers' _save_checkpoint, written into a staging folder and published atomically; never
        of non-finite weights.

        Raises:
            NoSpaceLeft: the output folder's device filled up; the staging folder was removed.
        """
        run_dir = Path(self._get_output_dir(trial=trial))
        step = self.state.global_step
        final = run_dir / f"{PREFIX_CHECKPOINT_DIR}-{step}"
        staging = run_dir / f"{STAGING_PREFIX}{final.name}"
        if names := self._non_finite_weights():
            logger.error("step %d: weights not finite (%s): checkpoint-%d not written", step, names[0], step)
            return
        if self.args.should_save:
            shutil.rmtree(staging, ignore_errors=True)  # left by a run killed while writing this step
            staging.mkdir(parents=True)
        self.accelerator.wait_for_everyone()
        try:
            self._write_checkpoint_files(staging, run_dir, step, trial)
        except Exception as e:
            if not is_disk_full(e, run_dir):
                raise
            if self.args.should_save:
                shutil.rmtree(staging, ignore_errors=True)
            raise NoSpaceLeft(
                f"no space left on {device_of(run_dir)} while writing {final.name} in {run_dir} "
                f"({type(e).__name__}: {e}); the partial {staging.name} was removed. Free space there (e.g. "
                "a lower --save_total_limit) or pass another --output_dir, then resume with "
                "--resume_from_checkpoint auto."
            ) from None

        self.accelerator.wait_for_everyone()  # every process has written its files
        if output_is_node_local(run_dir):
            if self.args.should_save and self.is_deepspeed_enabled:
                _write_deepspeed_tag(staging)
        elif self.args.world_size > 1:
            # A shared folder: its marker lists what every node wrote, as each node's local rank 0 sees it.
            listed = _gather(_file_sizes(staging) if self.args.local_process_index == 0 else None)
            if self.args.should_save:
                _wait_until_visible(staging, listed)
        if self.args.should_save:  # global rank 0; on node-local disks, each node's local rank 0
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

    def _write_checkpoint_files(self, staging: Path, run_dir: Path, step: int, trial: Any) -> None:
        """Every file of checkpoint-<step> (this process's share), as transformers writes them."""
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
