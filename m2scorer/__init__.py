"""The project's MaxMatch (M2) scorer for grammatical error correction.

Same figures as the official NUS M2 scorer (Dahlmeier & Ng 2012), release 3.2 by default or its GitHub
master with ``compat="master"`` (see :mod:`m2scorer.align` for how they differ), without its blow-up on
long or unrelated hypotheses. Standalone: imports nothing from the rest of the project.

    >>> from m2scorer import score_files, format_result
    >>> print(format_result(score_files("system.txt", "gold.m2")), end="")  # doctest: +SKIP
"""

from .align import EditGraph, build_edit_graph
from .reader import GoldSentence, M2FormatError, load_gold, load_hypotheses, parse_m2
from .scoring import (
    Counts,
    Result,
    SentenceScore,
    format_result,
    iter_sentence_scores,
    precision_recall_f,
    score_corpus,
    score_files,
    score_sentence,
)

__all__ = [
    "Counts",
    "EditGraph",
    "GoldSentence",
    "M2FormatError",
    "Result",
    "SentenceScore",
    "build_edit_graph",
    "format_result",
    "iter_sentence_scores",
    "load_gold",
    "load_hypotheses",
    "parse_m2",
    "precision_recall_f",
    "score_corpus",
    "score_files",
    "score_sentence",
]
