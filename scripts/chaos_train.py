"""Kill a tiny DeepSpeed training run with SIGKILL at random moments, resume each time, check nothing is lost.

Each launch runs finetune.py under the deepspeed launcher with `--resume_from_checkpoint auto`, as train.sh
does, and is killed (the whole process group: launcher and every rank) either at a random moment of start-up,
at a random moment of training, or while a checkpoint is being written. After the kills one last launch
runs to the target step. A kill is survived when the next launch resumed from the newest complete
checkpoint on disk at the moment of the kill and every checkpoint folder then on disk loaded. At the end the
per-step losses are compared with an uninterrupted run of the same command and seed.

With --corrupt, after each kill one file of a random complete checkpoint is damaged in place (bits flipped,
a block zeroed, or the file cut short); the next launch must then resume from the newest checkpoint that
is still good, and name the damaged one when it was newer.

Usage:
    python scripts/chaos_train.py [--kills 10] [--max_steps 200] [--save_steps 5] [--seed 0] \\
        [--ds_config ds_configs/zero2.json] [--nproc 1] [--work_dir DIR] [--corrupt]

The last line printed is `kills survived: K/N, final step S, loss diff D`; the exit status is 0 when every
kill was survived, the target step was reached and D <= --tolerance.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ftkit.checkpointing import TRAINER_STATE, checkpoint_problem, checkpoint_step, scan_checkpoints
from ftkit.run_files import MARKER, STAGING_PREFIX

REPO = Path(__file__).resolve().parents[1]

# Losses of a resumed run are bit-identical to the uninterrupted run's: fp32 weights and optimizer state
# are restored exactly, the data order and RNG states too, and one CPU thread per process computes in the
# same order. 1e-6 only leaves room for rounding in the JSON log, as tests/test_training.py does.
DEFAULT_TOLERANCE = 1e-6
KILL_MODES = ("checkpoint write", "training", "checkpoint write", "start-up")
DAMAGES = ("bit flips", "zeroed block", "truncation")
# A launch of the tiny run takes about a minute on 2 CPU cores; one still running after this is hung.
LAUNCH_TIMEOUT_S = 900
RESUMED = re.compile(r"resuming from \S*checkpoint-(\d+) \(step \d+\)")
FRESH = "starting fresh at step 0"


class CheckpointLoadError(RuntimeError):
    """A checkpoint folder that is incomplete or does not load."""


def check_checkpoint_loads(folder: str | Path) -> int:
    """Load everything a resume reads from `folder`; return its step.

    Raises:
        CheckpointLoadError: no valid completion marker, a file whose hash differs from it, or a file that
            does not load.
    """
    from transformers import AutoModelForCausalLM, TrainerState

    folder = Path(folder)
    if problem := checkpoint_problem(folder):
        raise CheckpointLoadError(f"{folder}: {problem}")
    step = checkpoint_step(folder)
    try:
        state = TrainerState.load_from_json(str(folder / TRAINER_STATE))
        AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        for path in sorted(folder.rglob("*.pt")) + sorted(folder.rglob("*.pth")):
            torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # any failure to load is what this check reports
        raise CheckpointLoadError(f"{folder}: {type(e).__name__}: {e}") from e
    if state.global_step != step:
        raise CheckpointLoadError(f"{folder}: trainer state is at step {state.global_step}, not {step}")
    return step


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Launch:
    """One deepspeed launch in its own process group, its output collected by a thread.

    A launch still running after `timeout_s` is killed (every rank) and marked `timed_out`: a hung rank must
    fail the check, never stall it.
    """

    command: list[str]
    log_path: Path
    timeout_s: float = LAUNCH_TIMEOUT_S
    lines: list[str] = field(default_factory=list)
    first_step: threading.Event = field(default_factory=threading.Event)
    timed_out: bool = False

    def __post_init__(self) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.watchdog = threading.Timer(self.timeout_s, self._expire)
        self.watchdog.daemon = True
        self.watchdog.start()

    def _expire(self) -> None:
        if self.running():
            self.timed_out = True
            self.kill()

    def _read(self) -> None:
        with open(self.log_path, "w", encoding="utf-8") as log:
            for line in self.process.stdout:
                self.lines.append(line)
                log.write(line)
                if "'loss':" in line:
                    self.first_step.set()

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.wait()

    def wait(self, timeout: float | None = None) -> int:
        returncode = self.process.wait(timeout=timeout)
        self.reader.join()
        self.watchdog.cancel()
        return returncode

    def resumed_step(self) -> int | None | str:
        """The step this launch resumed from, None if it started fresh, "unknown" if it did not say yet."""
        for line in self.lines:
            if match := RESUMED.search(line):
                return int(match.group(1))
            if FRESH in line:
                return None
        return "unknown"


def training_command(args: argparse.Namespace, model: Path, output_dir: Path, final: bool) -> list[str]:
    command = [
        "deepspeed", "--num_gpus", str(args.nproc), "--master_port", str(free_port()),
        str(REPO / "finetune.py"), "--use_cpu", "--deepspeed", str(args.ds_config),
        "--model_name_or_path", str(model), "--train_file", str(REPO / "data" / "sample" / "train.jsonl"),
        "--max_train_samples", "64", "--per_device_train_batch_size", "8", "--output_dir", str(output_dir),
        "--do_train", "--max_steps", str(args.max_steps), "--save_steps", str(args.save_steps),
        "--save_total_limit", "3", "--learning_rate", "2e-3", "--logging_steps", "1",
        "--seed", str(args.seed), "--disable_tqdm", "true", "--resume_from_checkpoint", "auto",
    ]  # fmt: skip
    return command + (["--cleanup_partial_checkpoints", "true"] if final else [])


def losses(output_dir: Path) -> dict[int, float]:
    history = json.loads((output_dir / TRAINER_STATE).read_text())["log_history"]
    return {row["step"]: row["loss"] for row in history if "loss" in row}


def staging_folders(output_dir: Path) -> set[tuple[str, int]]:
    """(name, inode) of the folders being written or deleted: a new pair is a new write."""
    found = set()
    try:
        for entry in os.scandir(output_dir):
            if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
                found.add((entry.name, entry.inode()))
    except FileNotFoundError:
        pass
    return found


def kill_at_random(launch: Launch, mode: str, output_dir: Path, rng: random.Random, startup_s: float) -> bool:
    """Kill `launch` at a random moment of the given kind; return whether a checkpoint write was cut short."""
    earlier = staging_folders(output_dir)  # left by earlier kills
    if mode == "start-up":
        deadline = launch.started + rng.uniform(0, startup_s)
        while launch.running() and time.monotonic() < deadline:
            time.sleep(0.01)
    elif mode == "training":
        while launch.running() and not launch.first_step.wait(0.05):
            pass
        deadline = time.monotonic() + rng.uniform(0, 1.0)
        while launch.running() and time.monotonic() < deadline:
            time.sleep(0.01)
    else:  # the n-th checkpoint write of this launch, at a random moment within it
        writes_to_skip, seen = rng.randrange(3), set(earlier)
        while launch.running():
            new = staging_folders(output_dir) - seen
            if any(name.startswith(f"{STAGING_PREFIX}checkpoint-") for name, _ in new):
                if writes_to_skip == 0:
                    time.sleep(rng.uniform(0, 0.05))
                    break
                writes_to_skip -= 1
            seen |= new
            time.sleep(0.002)
    launch.kill()
    return bool(staging_folders(output_dir) - earlier)


def corrupt_at_random(folder: Path, rng: random.Random) -> str:
    """Damage one random file of `folder` in place; return what was done to which file."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER)
    path, damage = rng.choice(files), rng.choice(DAMAGES)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        if damage == "truncation":
            f.truncate(rng.randrange(size))
        elif damage == "zeroed block":
            f.seek(rng.randrange(size))
            f.write(bytes(min(64 * 1024, size)))
            f.truncate(size)
        else:
            for _ in range(8):
                f.seek(offset := rng.randrange(size))
                byte = f.read(1)[0]
                f.seek(offset)
                f.write(bytes([byte ^ (1 << rng.randrange(8))]))
    return f"{damage} in {path.relative_to(folder.parent)}"


def reported(launch: Launch, name: str) -> bool:
    """Whether the launch said it did not resume from checkpoint `name` (corrupt, or partial when cut)."""
    return any(
        name in line and ("not resuming from" in line or "partial checkpoint folder" in line)
        for line in launch.lines
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--max_steps", type=int, default=200, help="target step")
    parser.add_argument("--save_steps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="training seed and the seed of the kill moments")
    parser.add_argument("--ds_config", type=Path, default=REPO / "ds_configs" / "zero2.json")
    parser.add_argument("--nproc", type=int, default=1, help="processes (ranks) per launch")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, help="largest loss diff")
    parser.add_argument("--work_dir", type=Path, help="default: a new temporary folder")
    parser.add_argument(
        "--corrupt", action="store_true", help="after each kill, damage a file of a random checkpoint"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="chaos-"))
    (work / "logs").mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)

    model = work / "tiny-llama"
    if not (model / "config.json").is_file():
        from make_tiny_model import make_tiny_model

        make_tiny_model("llama", model, corpus=REPO / "data" / "sample" / "train.jsonl")

    reference_dir, chaos_dir = work / "reference", work / "chaos"
    if not (reference_dir / TRAINER_STATE).is_file():
        print(f"uninterrupted reference run -> {reference_dir}", flush=True)
        launch = Launch(
            training_command(args, model, reference_dir, final=False), work / "logs" / "reference.log"
        )
        launch.first_step.wait(600)
        startup_s = time.monotonic() - launch.started
        if launch.wait() != 0:
            hung = f" (hung: killed after {launch.timeout_s:.0f} s)" if launch.timed_out else ""
            print(f"reference run failed{hung}; see {launch.log_path}")
            return 1
        (work / "startup_s").write_text(f"{startup_s}\n")
    startup_s = float((work / "startup_s").read_text())

    survived, failures = 0, []
    pending: list[tuple[int, str]] = []  # kills not judged yet: number, mode
    expected: int | None = None  # the step the next launch must resume from: the newest good checkpoint
    must_report: list[str] = []  # damaged checkpoints newer than that one, which it must name
    skipped_damaged: list[str] = []  # those it named
    corruptions: list[str] = []
    damaged_here: set[str] = set()  # checkpoints this script damaged that no launch has written again

    def judge(launch: Launch) -> None:
        """Were the earlier kills survived? Judged from the next launch that chose where to resume."""
        nonlocal survived
        resumed = launch.resumed_step()
        if resumed == "unknown" and launch.process.returncode == -signal.SIGKILL:
            return  # killed before it chose: the next launch will
        for number, mode in pending:
            if resumed == expected:
                survived += 1
            else:
                failures.append(
                    f"kill {number} ({mode}): newest good checkpoint {expected}, resumed {resumed}"
                )
        for name in must_report:
            if reported(launch, name):
                skipped_damaged.append(name)
            else:
                failures.append(f"{name} was damaged, but not reported: {launch.log_path}")
        pending.clear()
        must_report.clear()

    for number in range(1, args.kills + 1):
        mode = KILL_MODES[(number - 1) % len(KILL_MODES)]
        launch = Launch(
            training_command(args, model, chaos_dir, final=False), work / "logs" / f"kill{number}.log"
        )
        cut_write = kill_at_random(launch, mode, chaos_dir, rng, startup_s)
        judge(launch)
        if launch.timed_out:
            failures.append(f"launch {number} hung: killed after {launch.timeout_s:.0f} s: {launch.log_path}")
        elif launch.process.returncode not in (-signal.SIGKILL, 0):
            failures.append(
                f"launch {number} failed on its own ({launch.process.returncode}): {launch.log_path}"
            )
        found = scan_checkpoints(chaos_dir)
        loads = True
        for folder in found.complete:
            try:
                check_checkpoint_loads(folder)
                damaged_here.discard(folder.name)  # written again since it was damaged
            except CheckpointLoadError as e:
                if folder.name not in damaged_here:
                    loads = False
                    failures.append(f"after kill {number}: {e}")
        damaged = ""
        if args.corrupt and found.complete:
            # The newest half the time: the one the next launch would resume from.
            victim = found.complete[-1] if rng.random() < 0.5 else rng.choice(found.complete)
            damaged_here.add(victim.name)
            corruptions.append(damaged := corrupt_at_random(victim, rng))
            damaged = f"; damaged: {damaged}"
        good = [p for p in found.complete if checkpoint_problem(p) is None]
        expected = checkpoint_step(good[-1]) if good else None
        must_report.extend(
            p.name for p in found.complete if p not in good and checkpoint_step(p) > (expected or 0)
        )
        print(
            f"kill {number}/{args.kills} ({mode}{', cut a checkpoint write' if cut_write else ''}): "
            f"complete {[checkpoint_step(p) for p in found.complete]}, "
            f"partial {[p.name for p in found.partial]}, all complete ones load: {loads}{damaged}",
            flush=True,
        )
        if loads:
            pending.append((number, mode))

    final = Launch(training_command(args, model, chaos_dir, final=True), work / "logs" / "final.log")
    returncode = final.wait()
    judge(final)
    if returncode != 0:
        hung = f", hung: killed after {final.timeout_s:.0f} s" if final.timed_out else ""
        failures.append(f"final launch failed ({returncode}{hung}): {final.log_path}")
    found = scan_checkpoints(chaos_dir)
    for folder in sorted(chaos_dir.glob("checkpoint-*")) + found.partial:
        try:
            check_checkpoint_loads(folder)
        except CheckpointLoadError as e:
            if folder.name not in damaged_here:
                failures.append(f"at the end: {e}")
            else:
                print(f"still damaged on disk, never resumed from: {e}")

    reference, chaos = losses(reference_dir), losses(chaos_dir) if returncode == 0 else {}
    final_step = json.loads((chaos_dir / TRAINER_STATE).read_text())["global_step"] if returncode == 0 else -1
    if sorted(chaos) != sorted(reference):
        failures.append(f"logged steps differ: {sorted(set(reference) ^ set(chaos))}")
    common = sorted(set(chaos) & set(reference))
    diff = abs(chaos[args.max_steps] - reference[args.max_steps]) if args.max_steps in chaos else float("inf")
    worst = max((abs(chaos[s] - reference[s]) for s in common), default=float("inf"))
    for failure in failures:
        print(f"FAILED: {failure}")
    if args.corrupt:
        kinds = ", ".join(f"{d} {sum(c.startswith(d) for c in corruptions)}" for d in DAMAGES)
        print(
            f"checkpoint files damaged: {len(corruptions)} ({kinds}); {len(skipped_damaged)} newer than the "
            "newest good checkpoint, each named by the next launch as it resumed from that one"
        )
    print(f"work folder {work}; largest per-step loss diff {worst:.3g} over {len(common)} steps")
    print(f"kills survived: {survived}/{args.kills}, final step {final_step}, loss diff {diff:.3g}")
    ok = not failures and final_step == args.max_steps and diff <= args.tolerance
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
