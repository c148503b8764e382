"""Running an entry point: its logging set up once, input errors a message and an exit code, never a
traceback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import torch
import transformers

from ftkit.args import ConfigurationError
from ftkit.checkpointing import StoppedBySignal
from ftkit.data import DataError
from ftkit.loading import CheckpointMismatchError
from ftkit.modeling import ModelLoadError
from ftkit.templates import TemplateError

# Errors whose message tells the user what to fix; anything else is a bug and keeps its traceback.
USER_ERRORS = (CheckpointMismatchError, ConfigurationError, DataError, ModelLoadError, TemplateError)


def run_entry_point(run: Callable[[list[str] | None], None], argv: list[str] | None = None) -> int:
    """Call `run(argv)`; return 0, 2 after an input error, or the stop code after SIGTERM/SIGINT."""
    try:
        run(argv)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except StoppedBySignal as e:
        print(f"stopped: {e}", file=sys.stderr)
        return e.exit_code
    finally:
        # Left to interpreter shutdown, the process group's threads were torn down in any order: a rank of a
        # two-process ZeRO-3 run on CPU aborted after its work was done ("terminate called without an
        # active exception"), failing the launch. PyTorch asks for this call before a normal exit.
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return 0


def setup_logging(entry_point: str, is_main_process: bool, transformers_level: int) -> None:
    """The run summary (the entry point's logger and ftkit's) at INFO on the main process; transformers at
    its --log_level."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    for name in (entry_point, "ftkit"):
        logging.getLogger(name).setLevel(logging.INFO if is_main_process else logging.WARNING)
    # Load time and host memory differ between processes: every process logs its own.
    logging.getLogger("ftkit.loading").setLevel(logging.INFO)
    transformers.utils.logging.set_verbosity(transformers_level)
