"""spaCy's rule lemmatizer with its work done once per kind of token instead of once per token.

`Lemmatizer.__call__` gives every token whose lemma is unset (every token with `overwrite`) the first of
`rule_lemmatize(token)`. That reads the token's text, its POS and, through `is_base_form` (the base
class's or English's), its morphology, and the lookup tables, nothing else: spaCy caches its result under
exactly (orth, pos, morph key). So `FastLemmatizer` reads those three of a whole Doc as one array, calls
the real `rule_lemmatize` once per triple it has not met, and writes the lemmas back with one
`Doc.from_array`, the same lemma for every token, without building a `Token` per token. Other modes and
other lemmatizer classes keep spaCy's own. `tests/test_errant_score.py` checks the lemmas against spaCy's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.attrs import LEMMA, MORPH, ORTH, POS
from spacy.lang.en.lemmatizer import EnglishLemmatizer
from spacy.pipeline import Lemmatizer
from spacy.tokens import Doc


def fast_lemmatizer(lemmatizer):
    """A FastLemmatizer for a rule lemmatizer of spaCy's own classes, else `lemmatizer` itself."""
    if type(lemmatizer) in (Lemmatizer, EnglishLemmatizer) and lemmatizer.mode == "rule":
        return FastLemmatizer(lemmatizer)
    return lemmatizer


class FastLemmatizer:
    def __init__(self, lemmatizer: Lemmatizer):
        self.lemmatizer = lemmatizer
        self.lemmas: dict[tuple[int, int, int], int] = {}  # (orth, pos, morph) -> lemma
        self.checked = False

    def pipe(self, docs: Iterable[Doc], batch_size: int) -> Iterator[Doc]:
        return map(self, docs)

    def __call__(self, doc: Doc) -> Doc:
        if not self.checked:
            # spaCy's lemmatizer checks its tables on its first Doc (an error naming a missing one).
            self.checked = True
            return self.lemmatizer(doc)
        rows = doc.to_array([ORTH, POS, MORPH, LEMMA])
        lemmas = rows[:, 3].copy()
        strings = doc.vocab.strings
        for i, (orth, pos, morph, lemma) in enumerate(rows.tolist()):
            if self.lemmatizer.overwrite or lemma == 0:
                found = self.lemmas.get((orth, pos, morph))
                if found is None:
                    found = strings.add(self.lemmatizer.rule_lemmatize(doc[i])[0])
                    self.lemmas[(orth, pos, morph)] = found
                lemmas[i] = found
        return doc.from_array([LEMMA], lemmas[:, None])
