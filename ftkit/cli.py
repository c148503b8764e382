"""Running an entry point: its logging set up once, input errors a message and an exit code, never a
traceback, and an exit that a rank's communication threads cannot turn into an abort."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import warnings
from collections.abc import Callable
from typing import NoReturn

import torch
import transformers

from ftkit.args import ConfigurationError
from ftkit.checkpointing import TrainingStopped
from ftkit.data import DataError
from ftkit.loading import CheckpointMismatchError
from ftkit.modeling import ModelLoadError
from ftkit.templates import TemplateError

# Errors whose message tells the user what to fix; anything else is a bug and keeps its traceback.
USER_ERRORS = (CheckpointMismatchError, ConfigurationError, DataError, ModelLoadError, TemplateError)


def run_entry_point(run: Callable[[list[str] | None], None], argv: list[str] | None = None) -> int:
    """Call `run(argv)`; return 0, 2 after an input error, or the stop code (ftkit.checkpointing: 75 after
    SIGTERM/SIGINT, 3 after divergence)."""
    try:
        run(argv)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingStopped as e:
        print(f"stopped: {e}", file=sys.stderr)
        return e.exit_code
    return 0


def exit_process(code: int) -> NoReturn:
    """`sys.exit(code)` for a script whose process may be one rank of a launch.

    A process with a process group leaves without the interpreter's shutdown, after running its atexit
    handlers. DeepSpeed keeps references to its process groups, so gloo's worker threads outlive
    destroy_process_group; one still releasing the last collective's tensors when the interpreter shuts down
    needs the GIL, Python ends that thread with pthread_exit, and the unwind calls std::terminate. The rank
    then aborts ("terminate called without an active exception", exit -6) after its work is done, in a
    good share of two-process runs; leaving this way, in none (the README has the counts).
    """
    if not torch.distributed.is_initialized():
        sys.exit(code)
    torch.distributed.destroy_process_group()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def setup_logging(entry_point: str, is_main_process: bool, transformers_level: int) -> None:
    """The run summary (the entry point's logger and ftkit's) at INFO on the main process; transformers at
    its --log_level; warnings that say nothing to the user left out, by their message."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    for name in (entry_point, "ftkit"):
        logging.getLogger(name).setLevel(logging.INFO if is_main_process else logging.WARNING)
    # Load time and host memory differ between processes: every process logs its own.
    logging.getLogger("ftkit.memory").setLevel(logging.INFO)
    transformers.utils.logging.set_verbosity(transformers_level)
    # TRL's DPO and GRPO trainers read transformers' deprecated alias at every evaluation; nothing to change
    # on the user's side.
    warnings.filterwarnings(
        "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
    )
