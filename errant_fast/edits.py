"""The system side of `errant_parallel -orig SRC -cor SYS`: its M2 blocks, computed the fast way.

errant_parallel parses every source sentence, writes a noop edit where the output is the source, and
otherwise parses the output and runs `Annotator.annotate`. Here the same calls make the same blocks, but:
- spaCy runs over batches of the pre-tokenised `Doc`s errant's `Annotator.parse` builds, in several
  forked processes, with the same annotations in less time (FastAnnotator.pipe: errant_fast.ruler's
  attribute ruler, the lemmatizer's word index as sets);
- parsed source sentences are kept on disk (errant_fast.cache): the source of a set never changes;
- a sentence whose output an earlier scoring already annotated takes that result from the cache: edits
  are a function of the two token sequences, the model and the options, all in the cache key;
- the alignment is FastAlignment (errant_fast.alignment).
"""

from __future__ import annotations

import gc
import itertools
import logging
import math
import multiprocessing
import multiprocessing.pool
import os
from dataclasses import dataclass, field

from errant.commands.parallel_to_m2 import noop_edit
from spacy.tokens import Doc

from errant_fast.annotator import LoadedAnnotator
from errant_fast.cache import Cache, StoredParses, deserialise, serialise

logger = logging.getLogger(__name__)

# Sentences per nlp.pipe batch and per task sent to a process (see split): small batches parsed fastest
# here.
CHUNK = 64


@dataclass(frozen=True)
class Options:
    """errant_parallel's flags that change the edits."""

    tok: bool = False  # -tok: word-tokenise with spaCy instead of splitting on spaces
    lev: bool = False  # -lev: standard Levenshtein alignment
    merge: str = "rules"  # -merge: rules | all-split | all-merge | all-equal


@dataclass(frozen=True)
class SystemM2:
    blocks: list[str] = field(repr=False)  # one M2 block per sentence, exactly as errant_parallel writes it
    unchanged: int  # outputs equal to their source: noop, nothing parsed
    cached: int  # edits taken from the cache
    annotated: int  # outputs parsed and annotated now
    sources_parsed: int  # source sentences parsed now (not in the cache)


def is_unchanged(source: str, output: str, tok: bool) -> bool:
    """errant_parallel's test `orig.text.strip() == cor` without parsing: the text of the source `Doc`
    is its words joined by spaces (pre-tokenised) or the source itself (-tok)."""
    return (source.strip() if tok else " ".join(source.split())) == output.strip()


class _Job:
    """Parse and annotate lists of (index, source, output or None); run in the parent or forked workers."""

    def __init__(self, loaded: LoadedAnnotator, options: Options, stored: StoredParses):
        self.annotator = loaded.annotator
        self.options = options
        self.stored = stored

    def parse(self, texts: list[str]) -> list[Doc]:
        nlp = self.annotator.nlp
        # The inputs errant's Annotator.parse gives nlp: a Doc of the space-split words, or the text (-tok).
        inputs = (
            nlp.make_doc(text.strip()) if self.options.tok else Doc(nlp.vocab, text.split()) for text in texts
        )
        return self.annotator.pipe(inputs, batch_size=CHUNK)

    def run(self, items: list[tuple[int, str, str | None]]) -> tuple[list[tuple[int, str, str]], tuple, dict]:
        """The edits of the items with an output, the sources parsed here (serialise's segment) and the
        stored segments found damaged here (StoredParses.damaged)."""
        sources = self.stored.get([i for i, _, _ in items], self.annotator.nlp.vocab)
        missing = [(i, source) for i, source, _ in items if i not in sources]
        parsed = dict(zip([i for i, _ in missing], self.parse([s for _, s in missing]), strict=True))
        sources.update(parsed)
        to_annotate = [(i, output) for i, _, output in items if output is not None]
        outputs = self.parse([output for _, output in to_annotate])
        edits = []
        for (i, output), cor in zip(to_annotate, outputs, strict=True):
            found = self.annotator.annotate(sources[i], cor, self.options.lev, self.options.merge)
            edits.append((i, output, "".join("\n" + edit.to_m2(0) for edit in found)))
        return edits, serialise(parsed), self.stored.damaged


_worker_job: _Job | None = None


def _start_worker(job: _Job) -> None:
    # Forked workers inherit the job (model, cached source parses) without pickling it.
    global _worker_job
    _worker_job = job


def _run_in_worker(items):
    return _worker_job.run(items)


def split(items: list, processes: int) -> list[list]:
    """`items` in order, in tasks of CHUNK but, for several processes, the last `processes * CHUNK` items in
    tasks of a quarter of that: each process takes the next task when it finishes one, so the first to run
    out of tasks waits for the others at most one small task."""
    head = len(items) if processes == 1 else max(0, len(items) - processes * CHUNK)
    bounds = [*range(0, head, CHUNK), *range(head, len(items), CHUNK // 4), len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds)]


def _forked_pool(processes: int, job: _Job) -> multiprocessing.pool.Pool:
    """`processes` forked workers holding `job`.

    The collector is frozen while they fork: a worker's full collections then never walk what it shares
    with this process (the model, the parses), and walking it would also copy every page it touches (the
    collector writes to each object it visits); this process's collector is as before once they exist."""
    frozen = gc.get_freeze_count() > 0  # the caller's own freeze stays
    gc.freeze()
    try:
        return multiprocessing.get_context("fork").Pool(processes, _start_worker, (job,))
    finally:
        if not frozen:
            gc.unfreeze()


def default_processes() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def system_m2(
    sources: list[str],
    outputs: list[str],
    loaded: LoadedAnnotator,
    options: Options | None = None,
    processes: int | None = None,
    cache: Cache | None = None,
) -> SystemM2:
    """The M2 blocks errant_parallel writes for `outputs` against `sources` (equal lengths, no empty
    source: the caller checks). `cache` None: nothing read or written on disk."""
    options = options or Options()
    vocab = loaded.annotator.nlp.vocab
    known_edits = cache.load_edits() if cache else {}
    edits: dict[int, str] = {}
    items = []
    unchanged = cached = 0
    for i, (source, output) in enumerate(zip(sources, outputs, strict=True)):
        output = output.strip()
        if is_unchanged(source, output, options.tok):
            unchanged += 1
        elif (i, output) in known_edits:
            edits[i] = known_edits[(i, output)]
            cached += 1
        else:
            items.append((i, source, output))
    stored = cache.load_sources() if cache else StoredParses([])
    source_docs: dict[int, Doc] = {}
    if options.tok:
        # The S line of -tok holds spaCy's tokens of the source: every source is needed here.
        source_docs = stored.get(range(len(sources)), vocab)
        queued = {i for i, _, _ in items}
        items += [(i, s, None) for i, s in enumerate(sources) if i not in source_docs and i not in queued]
    job = _Job(loaded, options, stored)
    processes = max(1, min(processes or default_processes(), math.ceil(len(items) / CHUNK)))
    chunks = split(items, processes)
    if processes > 1 and "fork" in multiprocessing.get_all_start_methods():
        with _forked_pool(processes, job) as pool:
            results = list(pool.imap_unordered(_run_in_worker, chunks))
    else:
        results = [job.run(chunk) for chunk in chunks]
    new_edits = {}
    new_segments = []
    damaged = dict(stored.damaged)
    for chunk_edits, segment, chunk_damaged in results:
        for i, output, lines in chunk_edits:
            edits[i] = lines
            new_edits[(i, output)] = lines
        if segment[0]:
            new_segments.append(segment)
            if options.tok:
                source_docs.update(deserialise(segment, vocab))
        damaged |= chunk_damaged
    parsed = sum(len(indices) for indices, _ in new_segments)
    if cache:
        for error in damaged.values():  # found here or in a worker: told once, here
            cache.sources_damaged(error)
        if new_segments:
            cache.add_sources(new_segments, set(damaged))
        if new_edits:
            cache.save_edits({**known_edits, **new_edits})
    blocks = []
    for i, source in enumerate(sources):
        words = [t.text for t in source_docs[i]] if options.tok else source.split()
        block = " ".join(["S", *words])
        blocks.append(block + (edits[i] if i in edits else "\n" + noop_edit(0)))
    logger.info(
        "errant: %d outputs unchanged, %d edits from the cache, %d annotated, %d sources parsed",
        unchanged,
        cached,
        len(new_edits),
        parsed,
    )
    return SystemM2(blocks, unchanged, cached, len(new_edits), parsed)
