"""Counts, precision/recall/F and the choice of annotator, as in the official M2 scorer."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .align import (
    COMPAT_3_2,
    EditGraph,
    GoldEdit,
    SystemEdit,
    best_edit_sequence,
    build_edit_graph,
    count_matches,
)
from .reader import GoldSentence, check_aligned, load_gold, load_hypotheses, to_chars

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counts:
    """Edit counts: system edits that match gold, system edits proposed, gold edits."""

    correct: int = 0
    proposed: int = 0
    gold: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.correct + other.correct, self.proposed + other.proposed, self.gold + other.gold)


@dataclass(frozen=True)
class Result:
    """Corpus figures. ``f`` is F_beta."""

    correct: int
    proposed: int
    gold: int
    precision: float
    recall: float
    f: float
    beta: float = 0.5


@dataclass(frozen=True)
class AnnotatorScore:
    annotator: int
    system_edits: list[SystemEdit]
    gold_edits: list[GoldEdit]
    correct_edits: list[SystemEdit]

    @property
    def counts(self) -> Counts:
        return Counts(len(self.correct_edits), len(self.system_edits), len(self.gold_edits))


@dataclass(frozen=True)
class SentenceScore:
    """Per-sentence outcome: the chosen annotator's counts, and every annotator's details."""

    counts: Counts
    annotator: int
    per_annotator: list[AnnotatorScore] = field(default_factory=list)
    graph: EditGraph | None = None  # kept only when asked for (it can be large)


def check_beta(beta: float) -> float:
    """``beta`` itself, if it is a finite number > 0.

    Raises:
        ValueError: it is not (F_beta weighs recall beta times as much as precision; 0.5 is the GEC norm).
    """
    if not 0 < beta < float("inf"):
        raise ValueError(
            f"beta must be a finite number > 0, not {beta!r} (F_beta weighs recall beta times as much as "
            "precision; GEC reports F_0.5)"
        )
    return beta


def precision_recall_f(counts: Counts, beta: float = 0.5) -> tuple[float, float, float]:
    """Corpus P, R, F_beta with the official conventions: P = 1 with nothing proposed, R = 1 with no gold
    edits, F = 0 when P and R are both 0."""
    p = counts.correct / counts.proposed if counts.proposed else 1.0
    r = counts.correct / counts.gold if counts.gold else 1.0
    denom = beta * beta * p + r
    f = (1.0 + beta * beta) * p * r / denom if denom else 0.0
    return p, r, f


def counts_f(counts: Counts, beta: float = 0.5) -> float:
    """F_beta straight from the counts, 1 when there is nothing to find and nothing proposed: the official
    scorer's formula for choosing an annotator (and its verbose lines). Kept apart from the corpus F of
    precision_recall_f because the official scorer computes the two so, and ties and last digits follow."""
    denom = beta * beta * counts.gold + counts.proposed
    if denom == 0:
        return 1.0 if counts.correct == 0 else 0.0
    return (1 + beta * beta) * counts.correct / denom


def score_sentence(
    hypothesis: str,
    source: str,
    gold_edits_by_annotator: Mapping[int, Sequence[GoldEdit]],
    *,
    running: Counts = Counts(),  # noqa: B008 -- frozen dataclass, safe as a default
    beta: float = 0.5,
    max_unchanged_words: int = 2,
    ignore_whitespace_casing: bool = False,
    char_level: bool = False,
    compat: str = COMPAT_3_2,
    keep_graph: bool = False,
    graph: EditGraph | None = None,
) -> SentenceScore:
    """Score one hypothesis against one source sentence and its gold edits.

    The annotator chosen is the one that maximises F_beta of ``running`` (the counts of the sentences
    before this one; zero for a lone sentence) plus this sentence, then the most correct edits, then the
    smallest ``proposed + beta^2 * gold``; earlier annotator ids win remaining ties.
    ``source`` and the gold edits must already be character-level when ``char_level`` is set (as
    ``load_gold(..., char_level=True)`` returns them); the hypothesis is converted here.
    ``compat`` is the official version to reproduce, ``"3.2"`` (the release) or ``"master"``; they differ
    on insertions at the start of a sentence (see :mod:`m2scorer.align`).
    ``graph`` may pass the :func:`build_edit_graph` of this (source, hypothesis) pair, built with the same
    ``max_unchanged_words`` and ``compat``, to score one output against several golds without rebuilding it.
    """
    check_beta(beta)
    if char_level:
        hypothesis = to_chars(hypothesis)
    hyp_tokens = hypothesis.split()
    src_tokens = source.split()
    if hyp_tokens == src_tokens:
        graph = None
    elif graph is None:
        graph = build_edit_graph(src_tokens, hyp_tokens, max_unchanged_words, compat)
    annotators = gold_edits_by_annotator or {0: []}
    sqbeta = beta * beta
    best = None
    best_key = (-1.0, -1, float("inf"))
    details = []
    for annotator in sorted(annotators):
        gold = list(annotators[annotator])
        # an unchanged hypothesis has only unchanged-word arcs, hence no edits
        system = best_edit_sequence(graph, gold) if graph is not None else []
        if ignore_whitespace_casing:
            system = [e for e in system if e[2].replace(" ", "").lower() != e[3].replace(" ", "").lower()]
        ann = AnnotatorScore(annotator, system, gold, count_matches(system, gold))
        details.append(ann)
        total = running + ann.counts
        f = counts_f(total, beta)
        cost = total.proposed + sqbeta * total.gold
        if (
            best_key[0] < f
            or (best_key[0] == f and best_key[1] < total.correct)
            or (best_key[0] == f and best_key[1] == total.correct and best_key[2] > cost)
        ):
            best_key = (f, total.correct, cost)
            best = ann
    assert best is not None  # the first annotator always beats the initial key
    return SentenceScore(best.counts, best.annotator, details, graph if keep_graph else None)


def iter_sentence_scores(
    hypotheses: Sequence[str],
    gold: Sequence[GoldSentence],
    *,
    beta: float = 0.5,
    max_unchanged_words: int = 2,
    ignore_whitespace_casing: bool = False,
    char_level: bool = False,
    compat: str = COMPAT_3_2,
    keep_graph: bool = False,
) -> Iterator[SentenceScore]:
    """Score a corpus sentence by sentence; each annotator choice depends on the sentences before it."""
    check_aligned(hypotheses, gold)
    running = Counts()
    for hyp, sent in zip(hypotheses, gold, strict=True):
        score = score_sentence(
            hyp,
            sent.source,
            sent.edits,
            running=running,
            beta=beta,
            max_unchanged_words=max_unchanged_words,
            ignore_whitespace_casing=ignore_whitespace_casing,
            char_level=char_level,
            compat=compat,
            keep_graph=keep_graph,
        )
        running = running + score.counts
        yield score


def result_from_counts(counts: Counts, beta: float = 0.5) -> Result:
    p, r, f = precision_recall_f(counts, beta)
    return Result(counts.correct, counts.proposed, counts.gold, p, r, f, beta)


def score_corpus(
    hypotheses: Sequence[str],
    gold: Sequence[GoldSentence],
    *,
    beta: float = 0.5,
    max_unchanged_words: int = 2,
    ignore_whitespace_casing: bool = False,
    char_level: bool = False,
    compat: str = COMPAT_3_2,
) -> Result:
    """Score system output against gold parsed by :func:`load_gold` (same ``char_level`` for both).

    Raises:
        M2FormatError: the numbers of hypotheses and gold sentences differ.
    """
    total = Counts()
    for score in iter_sentence_scores(
        hypotheses,
        gold,
        beta=beta,
        max_unchanged_words=max_unchanged_words,
        ignore_whitespace_casing=ignore_whitespace_casing,
        char_level=char_level,
        compat=compat,
    ):
        total = total + score.counts
    return result_from_counts(total, beta)


def score_files(
    system_path: str | Path,
    gold_path: str | Path,
    *,
    beta: float = 0.5,
    max_unchanged_words: int = 2,
    ignore_whitespace_casing: bool = False,
    char_level: bool = False,
    compat: str = COMPAT_3_2,
) -> Result:
    """Score a system output file against an M2 gold file.

    Raises:
        M2FormatError: bad input (encoding, malformed M2, empty gold, different sentence counts).
    """
    gold = load_gold(gold_path, char_level=char_level)
    hypotheses = load_hypotheses(system_path)
    check_aligned(hypotheses, gold, str(system_path), str(gold_path))
    logger.debug("scoring %s against %s (%d sentences)", system_path, gold_path, len(gold))
    return score_corpus(
        hypotheses,
        gold,
        beta=beta,
        max_unchanged_words=max_unchanged_words,
        ignore_whitespace_casing=ignore_whitespace_casing,
        char_level=char_level,
        compat=compat,
    )


def format_result(result: Result, beta: float | None = None) -> str:
    """The official scorer's three output lines."""
    beta = result.beta if beta is None else beta
    return (
        f"Precision   : {result.precision:.4f}\n"
        f"Recall      : {result.recall:.4f}\n"
        f"F_{beta:.1f}       : {result.f:.4f}\n"
    )
