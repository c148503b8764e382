"""Generate the bundled synthetic English GEC data set (train/valid JSONL, test text + M2).

Sentences come from a small grammar (subject, verb, object or place, time adverbial) over a closed
vocabulary, tokenised with spaces like CoNLL data (`He goes to the park .`). Each correct sentence is
the target; the source gets 0-2 injected errors whose edits are known exactly, so the test set has a
gold M2 file without any annotation tool. The data is built to be learnable by a ~1-3M parameter model
in a few CPU minutes: short sentences, a few hundred word types, and every misspelling drawn from a
fixed per-word table, so the same word is always misspelt in one of the same two ways.

Output is byte-identical for the same flags (seeded `random.Random`, no unsorted set iteration), whatever
PYTHONHASHSEED is. The test split is generated first and the other splits skip its sentences, so test
and valid do not change when --train-size does.

Usage:
    python scripts/make_synthetic_gec.py [--out-dir data] [--seed 13] [--train-size 6000] \
        [--valid-size 200] [--test-size 200]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_SEED = 13
DEFAULT_TRAIN_SIZE = 6000
DEFAULT_VALID_SIZE = 200
DEFAULT_TEST_SIZE = 200

# Target length in tokens, final "." included.
MIN_TOKENS = 5
MAX_TOKENS = 12

# Share of sentences with 0 and with 2 errors; the rest get 1.
CORRECT_SHARE = 0.35
TWO_ERROR_SHARE = 0.20

# ERRANT type names, so the M2 file reads like BEA-2019 gold. Where a sentence lacks a site for a type
# (no a/an, no place phrase), the weight goes to the types it has; spelling and agreement always exist.
ERROR_WEIGHTS = {
    "R:SPELL": 0.28,  # misspelling from the per-word table
    "R:VERB:SVA": 0.34,  # subject-verb agreement: he go, they goes, I is, she do not
    "R:DET": 0.12,  # a <-> an
    "M:DET": 0.10,  # "the" missing in a place or time phrase, where the grammar always has one
    "U:DET": 0.06,  # "the the"
    "R:NOUN:NUM": 0.10,  # singular noun after two/three/many/some/these
}

TYPOS_PER_WORD = 2
# Real-world misspellings for words the grammar uses; other words get rule-based typos.
CLASSIC_TYPOS = {
    "beautiful": "beatiful",
    "friend": "freind",
    "friends": "freinds",
    "library": "libary",
    "receive": "recieve",
    "receives": "recieves",
    "their": "thier",
    "wednesday": "wensday",
    "usually": "usualy",
    "always": "allways",
    "tomorrow": "tommorow",
    "interesting": "intresting",
    "neighbor": "nieghbor",
    "neighbors": "nieghbors",
    "morning": "mornig",
    "evening": "evenning",
    "children": "childern",
    "every": "evrey",
    "sometimes": "somtimes",
    "hospital": "hospitel",
}

PRONOUNS = {"I": "1sg", "you": "pl", "he": "3sg", "she": "3sg", "we": "pl", "they": "pl"}

# (singular, plural)
PEOPLE = [
    ("boy", "boys"),
    ("girl", "girls"),
    ("teacher", "teachers"),
    ("doctor", "doctors"),
    ("student", "students"),
    ("farmer", "farmers"),
    ("friend", "friends"),
    ("brother", "brothers"),
    ("sister", "sisters"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("artist", "artists"),
    ("engineer", "engineers"),
    ("uncle", "uncles"),
    ("aunt", "aunts"),
    ("neighbor", "neighbors"),
    ("nurse", "nurses"),
]
PEOPLE_ADJ = ["old", "young", "tall", "kind", "angry", "happy", "little"]

THINGS = {
    "food": [
        ("apple", "apples"),
        ("orange", "oranges"),
        ("egg", "eggs"),
        ("cake", "cakes"),
        ("sandwich", "sandwiches"),
        ("banana", "bananas"),
        ("onion", "onions"),
        ("cookie", "cookies"),
    ],
    "text": [
        ("book", "books"),
        ("letter", "letters"),
        ("story", "stories"),
        ("newspaper", "newspapers"),
        ("message", "messages"),
        ("email", "emails"),
    ],
    "object": [
        ("car", "cars"),
        ("bike", "bikes"),
        ("phone", "phones"),
        ("box", "boxes"),
        ("bag", "bags"),
        ("key", "keys"),
        ("umbrella", "umbrellas"),
        ("window", "windows"),
        ("door", "doors"),
        ("chair", "chairs"),
        ("table", "tables"),
        ("cup", "cups"),
        ("shirt", "shirts"),
        ("hat", "hats"),
        ("picture", "pictures"),
        ("ball", "balls"),
        ("house", "houses"),
    ],
    "animal": [("dog", "dogs"), ("cat", "cats"), ("horse", "horses"), ("bird", "birds")],
}
THING_ADJ = {
    "food": ["big", "small", "fresh", "sweet", "red", "green", "expensive", "cheap"],
    "text": ["long", "short", "old", "new", "interesting", "beautiful", "funny"],
    "object": ["big", "small", "old", "new", "red", "blue", "green", "heavy", "empty", "expensive", "ugly"],
    "animal": ["big", "small", "old", "young", "beautiful", "ugly", "funny"],
}

# base -> (third person singular, object kinds); "people" objects are PEOPLE noun phrases.
TRANSITIVE = {
    "eat": ("eats", ["food"]),
    "cook": ("cooks", ["food"]),
    "buy": ("buys", ["food", "text", "object", "animal"]),
    "sell": ("sells", ["food", "object", "animal"]),
    "want": ("wants", ["food", "text", "object", "animal"]),
    "need": ("needs", ["food", "object"]),
    "like": ("likes", ["food", "text", "object", "animal", "people"]),
    "have": ("has", ["food", "text", "object", "animal"]),
    "find": ("finds", ["text", "object", "animal"]),
    "carry": ("carries", ["food", "object"]),
    "bring": ("brings", ["food", "text", "object"]),
    "read": ("reads", ["text"]),
    "write": ("writes", ["text"]),
    "receive": ("receives", ["text"]),
    "open": ("opens", ["object", "text"]),
    "fix": ("fixes", ["object"]),
    "wash": ("washes", ["object", "animal"]),
    "clean": ("cleans", ["object"]),
    "draw": ("draws", ["object", "animal", "people"]),
    "watch": ("watches", ["animal", "people"]),
    "visit": ("visits", ["people"]),
    "help": ("helps", ["people"]),
    "call": ("calls", ["people"]),
    "meet": ("meets", ["people"]),
    "teach": ("teaches", ["people"]),
    "miss": ("misses", ["people"]),
}
PLACES_TO = ["school", "park", "market", "library", "station", "beach", "office", "hospital", "bank", "zoo"]
# base -> (third person singular, [(preposition, places)])
INTRANSITIVE = {
    "go": ("goes", [("to", PLACES_TO)]),
    "walk": ("walks", [("to", PLACES_TO)]),
    "run": ("runs", [("to", PLACES_TO)]),
    "drive": ("drives", [("to", PLACES_TO)]),
    "work": ("works", [("at", ["hospital", "bank", "office", "school", "library", "station", "market"])]),
    "live": ("lives", [("near", ["park", "school", "station", "beach", "river", "market"])]),
    "swim": ("swims", [("in", ["river", "lake", "sea", "pool"])]),
    "play": ("plays", [("in", ["park", "garden", "yard"])]),
    "sit": ("sits", [("on", ["bench", "sofa", "floor", "grass"])]),
    "wait": ("waits", [("for", ["bus", "train"])]),
    "sleep": ("sleeps", [("in", ["garden", "tent", "room"])]),
}
BE_PLACES = [
    ("at", ["park", "school", "station", "beach", "office", "hospital", "bank", "zoo", "market"]),
    ("in", ["garden", "kitchen", "city", "village", "room"]),
]
BE_ADJ = ["happy", "tired", "hungry", "busy", "late", "angry", "ready", "sick", "sad", "thirsty", "bored"]
BE = {"1sg": "am", "3sg": "is", "pl": "are"}

FREQUENCY = ["always", "often", "usually", "never", "sometimes"]
# Time phrases; "the" inside them may go missing (M:DET), as in place phrases.
TIME = [
    ("every", "day"),
    ("every", "morning"),
    ("every", "week"),
    ("on", "Sundays"),
    ("on", "Wednesday"),
    ("at", "night"),
    ("in", "the", "morning"),
    ("in", "the", "evening"),
    ("after", "school"),
    ("after", "work"),
    ("today",),
    ("tomorrow",),
    ("again",),
]
BE_TIME = [("today",), ("now",), ("again",), ("every", "morning"), ("in", "the", "evening")]

POSSESSIVES = ["my", "your", "his", "her", "our", "their"]
QUANTIFIERS = ["two", "three", "many", "some", "these"]

# Token tags: which errors a token admits besides spelling.
VERB = "verb"  # finite verb agreeing with the subject
ARTICLE = "article"  # a / an
THE = "the"
THE_FIXED = "the-fixed"  # "the" the grammar always has in this phrase, so its absence is an error
COUNTED = "counted"  # plural noun after a quantifier

Token = tuple[str, str | None]


@dataclass(frozen=True)
class Edit:
    """One gold edit, in source token offsets; an empty correction is a deletion."""

    start: int
    end: int
    type: str
    correction: tuple[str, ...]


@dataclass(frozen=True)
class Example:
    source: tuple[str, ...]
    target: tuple[str, ...]
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class _Corruption:
    """Replace target[start:end] with `wrong`; `block` is the target span no other error may touch."""

    type: str
    start: int
    end: int
    wrong: tuple[str, ...]
    block: tuple[int, int]


def _vocabulary() -> list[str]:
    words = {"a", "an", "the", "not", "do", "does", "very", *PRONOUNS, *BE.values(), *POSSESSIVES}
    words.update(["this", *QUANTIFIERS, *PEOPLE_ADJ, *BE_ADJ, *FREQUENCY])
    for pair in PEOPLE:
        words.update(pair)
    for pairs in THINGS.values():
        for pair in pairs:
            words.update(pair)
    for adjs in THING_ADJ.values():
        words.update(adjs)
    for base, (third, _) in TRANSITIVE.items():
        words.update((base, third))
    for base, (third, phrases) in INTRANSITIVE.items():
        words.update((base, third))
        for prep, places in phrases:
            words.add(prep)
            words.update(places)
    for prep, places in BE_PLACES:
        words.add(prep)
        words.update(places)
    for phrase in TIME + BE_TIME:
        words.update(w.lower() for w in phrase)
    return sorted(words)


def _rule_typos(word: str) -> list[str]:
    """Typos that keep the first letter: adjacent swap, dropped letter, doubled consonant."""
    out = []
    for i in range(1, len(word) - 1):
        if word[i] != word[i + 1]:
            out.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    for i in range(1, len(word)):
        out.append(word[:i] + word[i + 1 :])
    for i in range(1, len(word)):
        if word[i] not in "aeiouy":
            out.append(word[:i] + word[i] + word[i:])
    return sorted(set(out))


def build_typo_table(vocabulary: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Map each word of 4+ letters to TYPOS_PER_WORD fixed misspellings.

    The table does not depend on --seed: a word's misspellings are a property of the data set design,
    and seeding per word keeps them (nearly always) stable when the vocabulary grows. No misspelling
    is a word of the grammar or another word's misspelling, so every one has a single correction.
    """
    known = set(vocabulary)
    taken: set[str] = set()
    table = {}
    for word in vocabulary:
        if len(word) < 4:
            continue
        rng = random.Random(f"typo/{word}")
        candidates = [c for c in _rule_typos(word) if c not in known and c not in taken]
        rng.shuffle(candidates)
        classic = CLASSIC_TYPOS.get(word)
        chosen = ([classic] if classic else []) + [c for c in candidates if c != classic]
        table[word] = tuple(chosen[:TYPOS_PER_WORD])
        taken.update(table[word])
    return table


def _article(next_word: str) -> str:
    # No word in the grammar starts with a vowel letter but a consonant sound ("useful", "hour").
    return "an" if next_word[0] in "aeiou" else "a"


def _noun_phrase(
    rng: random.Random, noun: tuple[str, str], adjs: Sequence[str], plural: bool, adj_p: float
) -> list[Token]:
    adj = [(rng.choice(adjs), None)] if rng.random() < adj_p else []
    head = noun[1] if plural else noun[0]
    words = adj + [(head, None)]
    if plural:
        r = rng.random()
        if r < 0.4:
            return [(rng.choice(QUANTIFIERS), None)] + adj + [(head, COUNTED)]
        if r < 0.65:
            return [(rng.choice(POSSESSIVES), None)] + words
        if r < 0.85:
            return [("the", THE)] + words
        return words
    r = rng.random()
    if r < 0.45:
        return [(_article(words[0][0]), ARTICLE)] + words
    if r < 0.7:
        return [("the", THE)] + words
    if r < 0.9:
        return [(rng.choice(POSSESSIVES), None)] + words
    return [("this", None)] + words


def _subject(rng: random.Random) -> tuple[list[Token], str]:
    if rng.random() < 0.4:
        pronoun = rng.choice(list(PRONOUNS))
        return [(pronoun, None)], PRONOUNS[pronoun]
    plural = rng.random() < 0.5
    phrase = _noun_phrase(rng, rng.choice(PEOPLE), PEOPLE_ADJ, plural, adj_p=0.2)
    return phrase, "pl" if plural else "3sg"


def _object(rng: random.Random, kinds: Sequence[str]) -> list[Token]:
    kind = rng.choice(kinds)
    plural = rng.random() < 0.4
    if kind == "people":
        return _noun_phrase(rng, rng.choice(PEOPLE), PEOPLE_ADJ, plural, adj_p=0.2)
    return _noun_phrase(rng, rng.choice(THINGS[kind]), THING_ADJ[kind], plural, adj_p=0.3)


def _place(prep: str, place: str) -> list[Token]:
    return [(prep, None), ("the", THE_FIXED), (place, None)]


def _time(rng: random.Random, phrases: Sequence[tuple[str, ...]], p: float) -> list[Token]:
    if rng.random() >= p:
        return []
    return [(w, THE_FIXED if w == "the" else None) for w in rng.choice(phrases)]


def _finite(base: str, third: str, person: str) -> Token:
    return (third if person == "3sg" else base, VERB)


def sentence(rng: random.Random) -> list[Token]:
    """One correct sentence as (token, tag) pairs, first word capitalised, ending in "."."""
    subject, person = _subject(rng)
    r = rng.random()
    # "She often walks to the park every day" reads oddly: a frequency adverb rules out a time phrase.
    frequency = [(rng.choice(FREQUENCY), None)] if rng.random() < 0.2 else []
    time_p = 0.0 if frequency else 0.45
    if r < 0.40:
        base = rng.choice(list(TRANSITIVE))
        third, kinds = TRANSITIVE[base]
        body = frequency + [_finite(base, third, person)] + _object(rng, kinds) + _time(rng, TIME, time_p)
    elif r < 0.65:
        base = rng.choice(list(INTRANSITIVE))
        third, phrases = INTRANSITIVE[base]
        prep, places = rng.choice(phrases)
        body = frequency + [_finite(base, third, person)] + _place(prep, rng.choice(places))
        body += _time(rng, TIME, time_p)
    elif r < 0.77:
        very = [("very", None)] if rng.random() < 0.2 else []
        body = [(BE[person], VERB)] + very + [(rng.choice(BE_ADJ), None)] + _time(rng, BE_TIME, 0.6)
    elif r < 0.85:
        prep, places = rng.choice(BE_PLACES)
        body = [(BE[person], VERB)] + _place(prep, rng.choice(places)) + _time(rng, BE_TIME, 0.4)
    else:
        base = rng.choice(list(TRANSITIVE))
        _, kinds = TRANSITIVE[base]
        body = [_finite("do", "does", person), ("not", None), (base, None)] + _object(rng, kinds)
        body += _time(rng, TIME, 0.3)
    tokens = subject + body + [(".", None)]
    first, tag = tokens[0]
    tokens[0] = (first[0].upper() + first[1:], tag)
    return tokens


def _agreement_forms() -> dict[str, str]:
    wrong = {"am": "is", "is": "are", "are": "is", "do": "does", "does": "do"}
    for base, (third, *_) in [*TRANSITIVE.items(), *INTRANSITIVE.items()]:
        wrong[base] = third
        wrong[third] = base
    return wrong


AGREEMENT = _agreement_forms()
SINGULAR = {plural: singular for pairs in [PEOPLE, *THINGS.values()] for singular, plural in pairs}


def _match_case(word: str, like: str) -> str:
    return word[0].upper() + word[1:] if like[0].isupper() else word


def _corruptions(
    tokens: Sequence[Token], typos: dict[str, tuple[str, ...]], rng: random.Random
) -> list[_Corruption]:
    out = []
    for i, (word, tag) in enumerate(tokens):
        one = (i, i + 1)
        if word.lower() in typos:
            typo = _match_case(rng.choice(typos[word.lower()]), word)
            out.append(_Corruption("R:SPELL", i, i + 1, (typo,), one))
        if tag == VERB:
            out.append(_Corruption("R:VERB:SVA", i, i + 1, (AGREEMENT[word],), one))
        elif tag == ARTICLE:
            swapped = {"a": "an", "an": "a"}[word.lower()]
            out.append(_Corruption("R:DET", i, i + 1, (_match_case(swapped, word),), one))
        elif tag == COUNTED:
            out.append(_Corruption("R:NOUN:NUM", i, i + 1, (SINGULAR[word],), one))
        if tag == THE_FIXED:
            out.append(_Corruption("M:DET", i, i + 1, (), one))
        if tag in (THE, THE_FIXED):
            # The copy goes after the original so a sentence-initial "The the" keeps its capital; the
            # next word is blocked too, so the deletion never touches another edit.
            out.append(_Corruption("U:DET", i + 1, i + 1, ("the",), (i, i + 2)))
    return out


def _apart(a: _Corruption, b: _Corruption) -> bool:
    # At least one untouched token between two errors keeps their edits separate.
    return a.block[1] < b.block[0] or b.block[1] < a.block[0]


def corrupt(tokens: Sequence[Token], typos: dict[str, tuple[str, ...]], rng: random.Random) -> Example:
    """Inject 0-2 errors into a correct sentence; the edits map the source back to it exactly."""
    target = tuple(word for word, _ in tokens)
    r = rng.random()
    n_errors = 0 if r < CORRECT_SHARE else 2 if r < CORRECT_SHARE + TWO_ERROR_SHARE else 1
    candidates = _corruptions(tokens, typos, rng)
    chosen: list[_Corruption] = []
    for _ in range(n_errors):
        by_type: dict[str, list[_Corruption]] = {}
        for c in candidates:
            if all(_apart(c, other) for other in chosen):
                by_type.setdefault(c.type, []).append(c)
        if not by_type:
            break
        types = [t for t in ERROR_WEIGHTS if t in by_type]
        kind = rng.choices(types, weights=[ERROR_WEIGHTS[t] for t in types])[0]
        chosen.append(rng.choice(by_type[kind]))
    chosen.sort(key=lambda c: c.start)

    source: list[str] = []
    edits = []
    pos = 0
    for c in chosen:
        source.extend(target[pos : c.start])
        start = len(source)
        source.extend(c.wrong)
        edits.append(Edit(start, len(source), c.type, target[c.start : c.end]))
        pos = c.end
    source.extend(target[pos:])
    return Example(tuple(source), target, tuple(edits))


def generate_split(
    rng: random.Random, size: int, typos: dict[str, tuple[str, ...]], seen: set[str]
) -> list[Example]:
    """`size` examples whose source and target sentences are all absent from `seen` (updated).

    Raises:
        ValueError: if the grammar cannot supply that many distinct sentences.
    """
    examples: list[Example] = []
    for _ in range(50 * size + 1000):
        if len(examples) == size:
            return examples
        tokens = sentence(rng)
        if not MIN_TOKENS <= len(tokens) <= MAX_TOKENS:
            continue
        example = corrupt(tokens, typos, rng)
        source, target = " ".join(example.source), " ".join(example.target)
        if source in seen or target in seen:
            continue
        seen.update((source, target))
        examples.append(example)
    if len(examples) == size:
        return examples
    raise ValueError(f"the grammar gave only {len(examples)} new sentences of {size}; ask for fewer")


def to_m2(example: Example) -> str:
    """One M2 paragraph (no trailing blank line); a correct sentence gets the noop edit."""
    lines = ["S " + " ".join(example.source)]
    if not example.edits:
        lines.append("A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0")
    for e in example.edits:
        correction = " ".join(e.correction) or "-NONE-"
        lines.append(f"A {e.start} {e.end}|||{e.type}|||{correction}|||REQUIRED|||-NONE-|||0")
    return "\n".join(lines) + "\n"


def _stats(examples: Sequence[Example]) -> dict:
    types = Counter(e.type for ex in examples for e in ex.edits)
    n = len(examples)
    return {
        "sentences": n,
        "unchanged": sum(not ex.edits for ex in examples) / n,
        "edits": sum(types.values()),
        "types": {t: types[t] for t in ERROR_WEIGHTS},
        "source_tokens": sum(len(ex.source) for ex in examples) / n,
        "target_tokens": sum(len(ex.target) for ex in examples) / n,
    }


def _describe(stats: dict) -> str:
    types = ", ".join(f"{t} {c}" for t, c in stats["types"].items())
    return (
        f"{stats['sentences']} sentences, {stats['unchanged']:.1%} unchanged, {stats['edits']} edits "
        f"({types}), {stats['target_tokens']:.1f} tokens per target"
    )


def _command(args: argparse.Namespace) -> str:
    parts = ["python scripts/make_synthetic_gec.py"]
    for flag, value, default in [
        ("--seed", args.seed, DEFAULT_SEED),
        ("--train-size", args.train_size, DEFAULT_TRAIN_SIZE),
        ("--valid-size", args.valid_size, DEFAULT_VALID_SIZE),
        ("--test-size", args.test_size, DEFAULT_TEST_SIZE),
    ]:
        if value != default:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


_ERROR_LEGEND = (
    "Error types (ERRANT names): R:SPELL misspelling from a fixed 2-per-word table, R:VERB:SVA "
    "subject-verb agreement, R:DET a/an swapped, M:DET missing `the`, U:DET doubled `the`, "
    "R:NOUN:NUM singular noun after two/three/many/some/these; 0-2 errors per sentence."
)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _jsonl(examples: Sequence[Example]) -> str:
    rows = [{"source": " ".join(ex.source), "target": " ".join(ex.target)} for ex in examples]
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help="gets sample/{train,valid}.jsonl and eval/sample/{source,target}.txt, gold.m2",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--train-size", type=int, default=DEFAULT_TRAIN_SIZE)
    parser.add_argument("--valid-size", type=int, default=DEFAULT_VALID_SIZE)
    parser.add_argument("--test-size", type=int, default=DEFAULT_TEST_SIZE)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _parser().parse_args(argv)
    if min(args.train_size, args.valid_size, args.test_size) < 1:
        raise ValueError("--train-size, --valid-size and --test-size must be at least 1")

    typos = build_typo_table(_vocabulary())
    seen: set[str] = set()
    splits = {}
    for name, size in [("test", args.test_size), ("valid", args.valid_size), ("train", args.train_size)]:
        splits[name] = generate_split(random.Random(f"{args.seed}/{name}"), size, typos, seen)

    train, valid, test = splits["train"], splits["valid"], splits["test"]
    sample_dir, eval_dir = args.out_dir / "sample", args.out_dir / "eval" / "sample"
    _write(sample_dir / "train.jsonl", _jsonl(train))
    _write(sample_dir / "valid.jsonl", _jsonl(valid))
    _write(eval_dir / "source.txt", "".join(" ".join(ex.source) + "\n" for ex in test))
    _write(eval_dir / "target.txt", "".join(" ".join(ex.target) + "\n" for ex in test))
    # A blank line after every paragraph, as in the CoNLL-2014 and BEA-2019 gold files.
    _write(eval_dir / "gold.m2", "".join(to_m2(ex) + "\n" for ex in test))

    command = _command(args)
    _write(
        sample_dir / "README.md",
        (
            "# Synthetic GEC training data\n\n"
            'Space-tokenised English sentence pairs (`{"source", "target"}` per line) from a small grammar, '
            "for the CPU demo and the tests; the test split is in `../eval/sample/`.\n"
            f"Regenerate (also rewrites `../eval/sample/`): `{command}`\n"
            f"train.jsonl: {_describe(_stats(train))}.\nvalid.jsonl: {_describe(_stats(valid))}.\n"
            f"{_ERROR_LEGEND}\n"
        ),
    )
    _write(
        eval_dir / "README.md",
        (
            "# Synthetic GEC test set\n\n"
            "`source.txt` (input), `target.txt` (reference correction) and `gold.m2` (gold edits, one "
            "annotator) for the same sentences, none of which occurs in `../../sample/`.\n"
            f"Regenerate (also rewrites `../../sample/`): `{command}`\n"
            f"Contents: {_describe(_stats(test))}.\n"
            f"{_ERROR_LEGEND}\n"
        ),
    )

    for name, examples in splits.items():
        stats = _stats(examples)
        logger.info("%s: %s, %.1f tokens per source", name, _describe(stats), stats["source_tokens"])
    everything = [ex for examples in splits.values() for ex in examples]
    target_types = {w for ex in everything for w in ex.target}
    source_types = {w for ex in everything for w in ex.source}
    logger.info("word types: %d in targets, %d in sources", len(target_types), len(source_types))
    logger.info("wrote %s and %s", sample_dir, eval_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
