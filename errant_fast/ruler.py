"""spaCy's AttributeRuler with its effect looked up per kind of token instead of matched token by token.

The ruler (en_core_web_sm's maps tags to POS and morphology, and fixes lemmas of some words) runs a
Matcher of all its patterns over every Doc, then, in pattern order, sets the attributes of each matched
token. `FastAttributeRuler` gives every token the same values:

- where any pattern of two or more tokens matches the Doc, it simply runs the real ruler on that Doc;
- otherwise only one-token patterns match, and whether one matches a token depends on that token alone:
  on its TAG, DEP and IS_SPACE and, through LOWER, only on whether its lower-case form is one that a
  pattern names (literally, in IN or NOT_IN) or one that a REGEX finds; every other form meets every
  LOWER test alike. So every token with the same `kind` (below) is matched by the same patterns, in the
  same order, and the values they set are constants. The real ruler on a one-token Doc of the first such
  token (its word, tag and dependency label) gives them; they are stored per kind and copied to the rest.

The one-token Doc starts as the ruler finds tokens here: the components before it (tok2vec, tagger,
parser) set tags and dependencies, never POS, morphology or lemmas. Models whose patterns use anything
else (other attributes, quantifiers, lexical attributes set) get the real ruler for every Doc.
`tests/test_errant_score.py` checks the annotations against the real ruler's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from spacy.matcher import Matcher
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc, Token

_MATCHED = {"LOWER", "TAG", "DEP", "IS_SPACE"}  # the token attributes the one-token patterns may test
_LOWER_TESTS = {"IN", "NOT_IN", "REGEX"}
_SET = {"TAG", "DEP", "POS", "MORPH", "LEMMA"}  # the attributes the patterns may set (not lexical ones)
_BEFORE = ["tok2vec", "tagger", "parser"]  # the components that may run before the ruler


def fast_ruler(ruler: AttributeRuler, before: list[str]):
    """A FastAttributeRuler for `ruler`, or `ruler` itself where its patterns or the components
    `before` it are not those FastAttributeRuler is exact for."""
    multi, words, regexes = [], set(), []
    for number, rule in enumerate(ruler.patterns):
        if not set(rule["attrs"]) <= _SET or not set(before) <= set(_BEFORE):
            return ruler
        for pattern in rule["patterns"]:
            if len(pattern) > 1:
                multi.append((str(number), pattern))
                continue
            (token,) = pattern
            if not set(token) <= _MATCHED:
                return ruler
            lower = token.get("LOWER")
            if isinstance(lower, dict):
                if not set(lower) <= _LOWER_TESTS:
                    return ruler
                words.update(lower.get("IN", []), lower.get("NOT_IN", []))
                if "REGEX" in lower:
                    regexes.append(re.compile(lower["REGEX"]))
            elif lower is not None:
                words.add(lower)
    return FastAttributeRuler(ruler, multi, words, regexes)


class FastAttributeRuler:
    def __init__(self, ruler: AttributeRuler, multi, words: set[str], regexes: list[re.Pattern]):
        self.ruler = ruler
        self.vocab = ruler.vocab
        self.multi = Matcher(ruler.vocab)
        for key, pattern in multi:
            self.multi.add(key, [pattern])
        self.words = words
        self.regexes = regexes
        self.named: dict[int, bool] = {}  # lower-case form -> does a LOWER test single it out
        self.values: dict[tuple, dict[str, object]] = {}  # kind -> the attributes the ruler changes

    def kind(self, token: Token) -> tuple:
        lower = token.lower
        named = self.named.get(lower)
        if named is None:
            text = token.lower_
            named = self.named[lower] = text in self.words or any(rx.search(text) for rx in self.regexes)
        return (lower if named else None, token.is_space, token.tag, token.dep)

    def changes(self, token: Token) -> dict[str, object]:
        """The attributes the real ruler changes on a one-token Doc of `token` (word, tag, dependency)."""
        one = Doc(self.vocab, words=[token.text], tags=[token.tag_], deps=[token.dep_], heads=[0])[0]
        before = {attr: getattr(one, attr) for attr in ("tag", "dep", "pos", "lemma")}
        self.ruler(one.doc)
        found = {attr: getattr(one, attr) for attr, value in before.items() if getattr(one, attr) != value}
        if one.has_morph():
            found["morph"] = one.morph
        return found

    def pipe(self, docs: Iterable[Doc], batch_size: int) -> Iterator[Doc]:
        return map(self, docs)

    def __call__(self, doc: Doc) -> Doc:
        if self.multi(doc, allow_missing=True):
            return self.ruler(doc)
        for token in doc:
            kind = self.kind(token)
            found = self.values.get(kind)
            if found is None:
                found = self.values[kind] = self.changes(token)
            for attr, value in found.items():
                setattr(token, attr, value)
        return doc
