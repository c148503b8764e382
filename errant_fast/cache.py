"""On-disk cache of a set's source parses and of edits already extracted, per source text and settings.

Files live in $XDG_CACHE_HOME/errant_fast (default ~/.cache/errant_fast), named by a hash of everything
their content depends on: the source sentences, the spaCy model and version, the spaCy and ERRANT versions
and the options. A changed gold or model gets new files; nothing is ever reused across them. Files are
replaced atomically, so concurrent scorers never read a half-written one (the last writer wins).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zlib
from collections.abc import Iterable
from pathlib import Path

import errant
import spacy
from spacy.attrs import ORTH
from spacy.tokens import Doc, DocBin

logger = logging.getLogger(__name__)

FORMAT = 1  # bump when what is stored changes


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "errant_fast"


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:32]


class Cache:
    def __init__(
        self, sources: list[str], model: str, tok: bool, lev: bool, merge: str, root: Path | None = None
    ):
        self.root = root or cache_root()
        versions = f"errant_fast {FORMAT} errant {errant.__version__} spacy {spacy.__version__} model {model}"
        source_key = _digest(versions, f"tok={tok}", "\n".join(sources))
        self.sources_path = self.root / f"{source_key}.sources.spacy"
        self.edits_path = self.root / f"{_digest(source_key, f'lev={lev}', f'merge={merge}')}.edits.json"
        self._segments: list[tuple[list[int], bytes]] = []  # the stored parses, as load_sources read them

    def _read(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            logger.warning("errant cache %s unreadable (%s): recomputing", path, e)
            return None

    def _write(self, path: Path, data: bytes) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
            partial.write_bytes(data)
            partial.replace(path)
        except OSError as e:
            logger.warning("errant cache %s not written (%s): the next scoring recomputes it", path, e)

    def load_sources(self) -> StoredParses:
        """The stored parses (a damaged file left out with a warning, its sentences parsed again)."""
        self._segments = []
        data = self._read(self.sources_path)
        if data is not None:
            try:
                header, blobs = data.split(b"\n", 1)
                offset = 0
                for indices, size in json.loads(header):
                    self._segments.append((indices, blobs[offset : offset + size]))
                    offset += size
                if offset != len(blobs):
                    raise ValueError(f"{len(blobs)} bytes of parses where the header lists {offset}")
            except ValueError as e:
                self.sources_damaged(e)
                self._segments = []
        return StoredParses(list(self._segments))

    def sources_damaged(self, error: Exception | str) -> None:
        logger.warning("errant cache %s damaged (%s): reparsing", self.sources_path, error)

    def add_sources(self, segments: list[tuple[list[int], bytes]], dropped: set[int] = frozenset()) -> None:
        """Store `segments` (serialise's output) beside the segments load_sources found, less those
        numbered `dropped` (found damaged: their sentences are among `segments` now)."""
        self._segments = [seg for k, seg in enumerate(self._segments) if k not in dropped] + segments
        header = json.dumps([[indices, len(blob)] for indices, blob in self._segments]).encode()
        self._write(self.sources_path, header + b"\n" + b"".join(blob for _, blob in self._segments))

    def load_edits(self) -> dict[tuple[int, str], str]:
        data = self._read(self.edits_path)
        if data is None:
            return {}
        try:
            return {(i, output): lines for i, output, lines in json.loads(data)}
        except ValueError as e:
            logger.warning("errant cache %s damaged (%s): annotating again", self.edits_path, e)
            return {}

    def save_edits(self, edits: dict[tuple[int, str], str]) -> None:
        rows = [[i, output, lines] for (i, output), lines in edits.items()]
        self._write(self.edits_path, json.dumps(rows, ensure_ascii=False).encode("utf-8"))


class StoredParses:
    """A cache file's source parses, rebuilt into Docs only for the sentences a process needs, in that
    process: rebuilding costs about a third of parsing, and most sentences of a scoring need no source
    parse (unchanged outputs, edits from the cache)."""

    def __init__(self, segments: list[tuple[list[int], bytes]]):
        self.segments = segments
        self.where = {i: (k, p) for k, (indices, _) in enumerate(segments) for p, i in enumerate(indices)}
        self.docs: dict[int, Doc] = {}
        self.bins: dict[int, DocBin] = {}  # segment number -> its DocBin, read here
        self.damaged: dict[int, str] = {}  # segment number -> what is wrong with it

    def get(self, needed: Iterable[int], vocab) -> dict[int, Doc]:
        """The stored parses of the `needed` sentences that have one; a damaged segment's sentences have
        none (they are parsed again) and it goes into `damaged`."""
        needed = list(needed)
        for i in needed:
            if i in self.docs or i not in self.where:
                continue
            k, position = self.where[i]
            if k in self.damaged:
                continue
            if k not in self.bins:
                indices, data = self.segments[k]
                try:
                    self.bins[k] = read(data, len(indices), vocab)
                except (ValueError, zlib.error) as e:
                    self.damaged[k] = str(e)
                    continue
            self.docs[i] = rebuild(self.bins[k], position, vocab)
        return {i: self.docs[i] for i in needed if i in self.docs}


def serialise(docs: dict[int, Doc]) -> tuple[list[int], bytes]:
    """Sentence numbers and a DocBin of their parses (every annotation ERRANT reads: tags, POS, lemmas,
    dependencies; no user data, categories or spans: msgpack-ing user data per Doc cost more than the
    parse)."""
    stored = DocBin(store_user_data=False)
    for doc in docs.values():
        stored.add(doc)
    return list(docs), stored.to_bytes()


def read(data: bytes, count: int, vocab) -> DocBin:
    """serialise's DocBin of `count` parses, its strings added to `vocab`.

    Raises:
        ValueError: damaged data, or another number of parses.
    """
    stored = DocBin().from_bytes(data)
    if len(stored) != count:
        raise ValueError(f"{count} sentence numbers for {len(stored)} parses")
    for string in stored.strings:
        vocab.strings.add(string)
    return stored


def rebuild(stored: DocBin, position: int, vocab) -> Doc:
    """The Doc at `position` of `stored` (read's), as `DocBin.get_docs` rebuilds each of them: from the
    same words, spaces and annotation arrays (serialise stores no categories, spans or user data, the
    rest of what get_docs restores). get_docs rebuilds every Doc of a DocBin and makes a lexeme of each
    string in it; here only the Docs needed are rebuilt, and the strings are only added to the vocab's
    string store (a lexeme is made when a word needs one, from the string alone, so it is the same)."""
    tokens = stored.tokens[position]
    spaces = None if stored.flags[position].get("has_unknown_spaces") else stored.spaces[position]
    doc = Doc(vocab, words=tokens[:, stored.attrs.index(ORTH)], spaces=spaces)
    return doc.from_array(stored.attrs, tokens)


def deserialise(serialised: tuple[list[int], bytes], vocab) -> dict[int, Doc]:
    """serialise's segment back to its sentence numbers and Docs."""
    indices, data = serialised
    stored = read(data, len(indices), vocab)
    return {i: rebuild(stored, position, vocab) for position, i in enumerate(indices)}
