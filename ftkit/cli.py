"""Running an entry point: input errors become a message and an exit code, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

from ftkit.args import ConfigurationError
from ftkit.checkpointing import StoppedBySignal
from ftkit.data import DataError
from ftkit.modeling import ModelLoadError
from ftkit.templates import TemplateError

# Errors whose message tells the user what to fix; anything else is a bug and keeps its traceback.
USER_ERRORS = (ConfigurationError, DataError, ModelLoadError, TemplateError)


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
    return 0
