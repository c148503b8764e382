"""Generate the bundled synthetic GEC data sets, English and Chinese (train/valid JSONL, test text + M2).

Sentences come from a small grammar (subject, verb, object or place, time adverbial) over a closed
vocabulary, tokenised with spaces like CoNLL data (`He goes to the park .`). Each correct sentence is
the target; the source gets 0-2 injected errors whose edits are known exactly, so the test set has a
gold M2 file without any annotation tool. The data is built to be learnable by a ~1-3M parameter model
in a few CPU minutes: short sentences, a few hundred word types, and every misspelling drawn from a
fixed per-word table, so the same word is always misspelt in one of the same two ways.

Output is byte-identical for the same flags (seeded `random.Random`, no unsorted set iteration), whatever
PYTHONHASHSEED is. The test split is generated first and the other splits skip its sentences, so test
and valid do not change when --train-size does.

With --lang zh the sentences are Chinese (data/sample_zh, data/eval/sample_zh): words from a small grammar
with 0-2 errors of NLPCC-2018's types: S (one character replaced by a confusable one: 的/地/得, 在/再, 做/作,
已/以 and homophones or look-alikes), M (missing 在/得/了) and R (redundant 是 or 了). The gold M2 is
word-segmented like NLPCC-2018's and is scored on characters (m2scorer --char_level; the test folder's
dataset.json says so); JSONL and text files are unsegmented, as a Chinese model reads and writes them.

Usage:
    python scripts/make_synthetic_gec.py [--out-dir data] [--seed 13] [--train-size 6000] \
        [--valid-size 200] [--test-size 200]
    python scripts/make_synthetic_gec.py --lang zh        # --train-size defaults to 3000
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_SEED = 13
DEFAULT_TRAIN_SIZE = 6000
DEFAULT_ZH_TRAIN_SIZE = 3000
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


def _error_count(rng: random.Random) -> int:
    r = rng.random()
    return 0 if r < CORRECT_SHARE else 2 if r < CORRECT_SHARE + TWO_ERROR_SHARE else 1


def _inject(
    target: tuple[str, ...],
    candidates: Sequence[_Corruption],
    weights: dict[str, float],
    n_errors: int,
    rng: random.Random,
) -> Example:
    """Apply up to `n_errors` candidates, apart from each other, each of a type drawn by `weights`."""
    chosen: list[_Corruption] = []
    for _ in range(n_errors):
        by_type: dict[str, list[_Corruption]] = {}
        for c in candidates:
            if all(_apart(c, other) for other in chosen):
                by_type.setdefault(c.type, []).append(c)
        if not by_type:
            break
        types = [t for t in weights if t in by_type]
        kind = rng.choices(types, weights=[weights[t] for t in types])[0]
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


def corrupt(tokens: Sequence[Token], typos: dict[str, tuple[str, ...]], rng: random.Random) -> Example:
    """Inject 0-2 errors into a correct sentence; the edits map the source back to it exactly."""
    n_errors = _error_count(rng)
    candidates = _corruptions(tokens, typos, rng)
    return _inject(tuple(word for word, _ in tokens), candidates, ERROR_WEIGHTS, n_errors, rng)


# --- Chinese (--lang zh) -------------------------------------------------------------------------------
# Sentences are lists of words, segmented the way NLPCC-2018's gold is (PKUNLP style: punctuation and
# function words such as 的/地/得/了/在 are words of their own). The model reads and writes them unsegmented.
# Error types are NLPCC-2018's: S (wrong character: a word with one character replaced), M (missing
# word), R (redundant word). W (word order) is not generated.
# Weights among the types a sentence has a site for; S sites are nearly everywhere, M and R sites in about
# half and a third of the sentences, so the drawn mix (about S 70%, M 21%, R 7%) leans to S as NLPCC-2018's
# does (S 49%, M 27%, R 21%).
ZH_ERROR_WEIGHTS = {"S": 0.4, "M": 0.3, "R": 0.3}
ZH_MIN_CHARS = 5
ZH_MAX_CHARS = 20

# Characters learners (and pinyin input methods) confuse: same or similar sound, or similar shape.
# Every character of the grammar listed here can be replaced by one of its confusions.
ZH_CONFUSIONS = {
    "的": "地得",  # de: attributive / adverbial / complement particles
    "地": "的得",
    "得": "的地",
    "在": "再",  # zài: "at" / "again"
    "再": "在",
    "做": "作",  # zuò
    "作": "做",
    "已": "以",  # yǐ
    "以": "已",
    "候": "侯",  # hòu, similar shape
    "题": "提",  # tí
    "健": "建",  # jiàn
    "像": "象",  # xiàng
    "喝": "渴",  # similar shape
    "渴": "喝",
    "很": "狠",  # hěn
    "近": "进",  # jìn
    "步": "部",  # bù
    "园": "圆",  # yuán
    "篮": "蓝",  # lán
    "炼": "练",  # liàn
    "馆": "管",  # guǎn
    "饭": "反",  # fàn / fǎn
}

ZH_PRONOUNS = ["我", "你", "他", "她", "我们", "你们", "他们"]
ZH_PEOPLE = ["老师", "学生", "妈妈", "爸爸", "哥哥", "妹妹", "小王", "同学们"]
ZH_OWNED = ["朋友", "同学", "老师", "妈妈", "哥哥", "妹妹"]
ZH_TIMES = ["今天", "明天", "昨天", "每天", "周末", "晚上", "早上", "下午"]
ZH_LATER = ["明天", "以后", "下午", "晚上", "周末"]
ZH_PLACES = [("学校",), ("家里",), ("公园",), ("图书馆",), ("商店",), ("食堂",), ("教室",), ("学校", "附近")]
# Verb (+ object) phrases.
ZH_ACTIVITIES = [
    ("做", "作业"),
    ("看", "书"),
    ("写", "作文"),
    ("打", "篮球"),
    ("喝", "水"),
    ("吃", "饭"),
    ("做", "饭"),
    ("学习", "汉语"),
    ("买", "东西"),
    ("唱", "歌"),
    ("讨论", "问题"),
    ("锻炼", "身体"),
    ("复习", "课文"),
    ("看", "电影"),
    ("听", "音乐"),
    ("散步",),
    ("跑步",),
    ("工作",),
    ("休息",),
]
ZH_MANNER = ["认真", "高兴", "慢慢", "安静", "努力", "开心"]  # before 地
ZH_ADJECTIVES = ["高兴", "累", "忙", "健康", "渴", "饿", "开心", "认真"]
# Verb + 得 + 很 + complement.
ZH_COMPLEMENTS = {
    "跑": ["快", "慢"],
    "唱": ["好", "好听"],
    "写": ["好", "认真", "快"],
    "说": ["流利", "好", "快"],
    "来": ["早", "晚"],
    "睡": ["早", "晚", "好"],
    "学": ["好", "认真", "快"],
    "做": ["好", "快", "认真"],
}

# Token tags: which errors besides S a word admits.
ZH_OMITTABLE = "omittable"  # 在 before a place, complement 得, final 了: dropping it is an M error
ZH_PREDICATE = "predicate"  # 很 before an adjective predicate: 是 inserted before it is an R error
ZH_ONGOING = "ongoing"  # last word after 正在: 了 added after it is an R error


def _zh_time(rng: random.Random, p: float) -> list[Token]:
    return [(rng.choice(ZH_TIMES), None)] if rng.random() < p else []


def _zh_activity(rng: random.Random) -> list[Token]:
    return [(word, None) for word in rng.choice(ZH_ACTIVITIES)]


def _zh_place(rng: random.Random) -> list[Token]:
    return [("在", ZH_OMITTABLE)] + [(word, None) for word in rng.choice(ZH_PLACES)]


def zh_sentence(rng: random.Random) -> list[Token]:
    """One correct Chinese sentence as (word, tag) pairs, ending in 。 or ？."""
    if rng.random() < 0.3:
        subject = [(rng.choice(ZH_PRONOUNS + ["小王"]), None), ("的", None), (rng.choice(ZH_OWNED), None)]
    else:
        subject = [(rng.choice(ZH_PRONOUNS + ZH_PEOPLE), None)]
    end = [("。", None)]
    r = rng.random()
    if r < 0.22:  # 我 每天 在 图书馆 看 书 。
        body = _zh_time(rng, 0.6) + _zh_place(rng) + _zh_activity(rng)
    elif r < 0.36:  # 他 认真 地 做 作业 。
        body = _zh_time(rng, 0.4) + [(rng.choice(ZH_MANNER), None), ("地", None)] + _zh_activity(rng)
    elif r < 0.50:  # 她 跑 得 很 快 。
        verb = rng.choice(list(ZH_COMPLEMENTS))
        body = [(verb, None), ("得", ZH_OMITTABLE), ("很", None), (rng.choice(ZH_COMPLEMENTS[verb]), None)]
    elif r < 0.62:  # 我 今天 很 累 。
        body = _zh_time(rng, 0.6) + [("很", ZH_PREDICATE), (rng.choice(ZH_ADJECTIVES), None)]
    elif r < 0.72:  # 他们 已经 吃 饭 了 。
        body = [("已经", None)] + _zh_activity(rng) + [("了", ZH_OMITTABLE)]
    elif r < 0.80:  # 我们 明天 再 讨论 问题 吧 。
        body = [(rng.choice(ZH_LATER), None), ("再", None)] + _zh_activity(rng) + [("吧", None)]
    elif r < 0.88:  # 我 可以 在 教室 喝 水 吗 ？
        body = [("可以", None)] + _zh_place(rng) + _zh_activity(rng) + [("吗", None)]
        end = [("？", None)]
    elif r < 0.94:  # 妈妈 正在 做 饭 。
        activity = _zh_activity(rng)
        body = [("正在", None)] + activity[:-1] + [(activity[-1][0], ZH_ONGOING)]
    else:  # 他 跑步 的 时候 很 开心 。
        body = _zh_activity(rng) + [("的", None), ("时候", None), ("很", ZH_PREDICATE)]
        body += [(rng.choice(ZH_ADJECTIVES), None)]
    return subject + body + end


def _zh_corruptions(tokens: Sequence[Token], rng: random.Random) -> list[_Corruption]:
    out = []
    for i, (word, tag) in enumerate(tokens):
        one = (i, i + 1)
        positions = [k for k, char in enumerate(word) if char in ZH_CONFUSIONS]
        if positions:
            k = rng.choice(positions)
            wrong = word[:k] + rng.choice(ZH_CONFUSIONS[word[k]]) + word[k + 1 :]
            out.append(_Corruption("S", i, i + 1, (wrong,), one))
        if tag == ZH_OMITTABLE:
            out.append(_Corruption("M", i, i + 1, (), one))
        elif tag == ZH_PREDICATE:
            # "我是很累": learners carry the copula over from English and nominal predicates.
            out.append(_Corruption("R", i, i, ("是",), (i - 1, i + 1)))
        elif tag == ZH_ONGOING:
            # "他正在做饭了": a completed-action 了 on an action in progress.
            out.append(_Corruption("R", i + 1, i + 1, ("了",), (i, i + 2)))
    return out


def chinese_example(rng: random.Random) -> Example | None:
    """One corrupted Chinese sentence, or None when it is too short or too long (in characters)."""
    tokens = zh_sentence(rng)
    if not ZH_MIN_CHARS <= sum(len(word) for word, _ in tokens) <= ZH_MAX_CHARS:
        return None
    n_errors = _error_count(rng)
    candidates = _zh_corruptions(tokens, rng)
    return _inject(tuple(word for word, _ in tokens), candidates, ZH_ERROR_WEIGHTS, n_errors, rng)


def english_example(rng: random.Random, typos: dict[str, tuple[str, ...]]) -> Example | None:
    """One corrupted English sentence, or None when the grammar's draw is too short or too long."""
    tokens = sentence(rng)
    if not MIN_TOKENS <= len(tokens) <= MAX_TOKENS:
        return None
    return corrupt(tokens, typos, rng)


def generate_split(
    rng: random.Random,
    size: int,
    seen: set[str],
    draw: Callable[[random.Random], Example | None],
    separator: str = " ",
) -> list[Example]:
    """`size` examples from `draw` whose source and target sentences are all absent from `seen` (updated).

    Sentences are compared as the model sees them: tokens joined with `separator`.

    Raises:
        ValueError: if the grammar cannot supply that many distinct sentences.
    """
    examples: list[Example] = []
    for _ in range(50 * size + 1000):
        if len(examples) == size:
            return examples
        example = draw(rng)
        if example is None:
            continue
        source, target = separator.join(example.source), separator.join(example.target)
        if source in seen or target in seen:
            continue
        seen.update((source, target))
        examples.append(example)
    if len(examples) == size:
        return examples
    raise ValueError(f"the grammar gave only {len(examples)} new sentences of {size}; ask for fewer")


def to_m2(example: Example, noop: bool = True) -> str:
    """One M2 paragraph (no trailing blank line).

    A correct sentence gets the noop edit (CoNLL/BEA style) or, with `noop` False, no edit line at all
    (NLPCC-2018 style).
    """
    lines = ["S " + " ".join(example.source)]
    if not example.edits and noop:
        lines.append("A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0")
    for e in example.edits:
        correction = " ".join(e.correction) or "-NONE-"
        lines.append(f"A {e.start} {e.end}|||{e.type}|||{correction}|||REQUIRED|||-NONE-|||0")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Language:
    """What differs between the English and the Chinese data set."""

    sample_dir: str  # under --out-dir; the test split goes to eval/<sample_dir>
    train_size: int  # default --train-size
    separator: str  # between words in JSONL and text files: " " (tokenised) or "" (raw Chinese)
    noop: bool  # noop edit lines for correct sentences in gold.m2
    error_weights: dict[str, float]
    unit: str  # what lengths are counted in
    legend: str
    readme_train: str
    readme_test: str


LANGUAGES = {
    "en": Language(
        sample_dir="sample",
        train_size=DEFAULT_TRAIN_SIZE,
        separator=" ",
        noop=True,
        error_weights=ERROR_WEIGHTS,
        unit="tokens",
        legend=(
            "Error types (ERRANT names): R:SPELL misspelling from a fixed 2-per-word table, R:VERB:SVA "
            "subject-verb agreement, R:DET a/an swapped, M:DET missing `the`, U:DET doubled `the`, "
            "R:NOUN:NUM singular noun after two/three/many/some/these; 0-2 errors per sentence."
        ),
        readme_train=(
            "# Synthetic GEC training data\n\n"
            'Space-tokenised English sentence pairs (`{"source", "target"}` per line) from a small grammar, '
            "for the CPU demo and the tests; the test split is in `../eval/sample/`.\n"
        ),
        readme_test=(
            "# Synthetic GEC test set\n\n"
            "`source.txt` (input), `target.txt` (reference correction) and `gold.m2` (gold edits, one "
            "annotator) for the same sentences, none of which occurs in `../../sample/`.\n"
        ),
    ),
    "zh": Language(
        sample_dir="sample_zh",
        train_size=DEFAULT_ZH_TRAIN_SIZE,
        separator="",
        noop=False,
        error_weights=ZH_ERROR_WEIGHTS,
        unit="characters",
        legend=(
            "Error types (NLPCC-2018 names): S a character replaced by a confusable one "
            f"({'/'.join(ZH_CONFUSIONS)} and their confusions), M missing 在/得/了, R redundant "
            "是 before a 很-adjective predicate or 了 after a 正在 phrase; 0-2 errors per sentence."
        ),
        readme_train=(
            "# Synthetic Chinese GEC training data\n\n"
            'Unsegmented Chinese sentence pairs (`{"source", "target"}` per line, as a model reads and '
            "writes them) from a small grammar, for tests and demos of Chinese models; the test split is "
            "in `../eval/sample_zh/`.\n"
        ),
        readme_test=(
            "# Synthetic Chinese GEC test set\n\n"
            "`source.txt` (input) and `target.txt` (reference correction), unsegmented, and `gold.m2`: "
            "gold edits on word-segmented sentences as in the NLPCC-2018 gold (edit types S/M/R, no line "
            "for a correct sentence), scored on characters (`dataset.json`: `char_level`; "
            "`python m2scorer/m2scorer.py --char_level ...`). None of the sentences occurs in "
            "`../../sample_zh/`.\n"
        ),
    ),
}


def _stats(examples: Sequence[Example], language: Language) -> dict:
    types = Counter(e.type for ex in examples for e in ex.edits)
    n = len(examples)

    def length(words: Sequence[str]) -> int:
        return len(language.separator.join(words)) if language.unit == "characters" else len(words)

    return {
        "sentences": n,
        "unchanged": sum(not ex.edits for ex in examples) / n,
        "edits": sum(types.values()),
        "types": {t: types[t] for t in language.error_weights},
        "source_length": sum(length(ex.source) for ex in examples) / n,
        "target_length": sum(length(ex.target) for ex in examples) / n,
    }


def _describe(stats: dict, language: Language) -> str:
    types = ", ".join(f"{t} {c}" for t, c in stats["types"].items())
    return (
        f"{stats['sentences']} sentences, {stats['unchanged']:.1%} unchanged, {stats['edits']} edits "
        f"({types}), {stats['target_length']:.1f} {language.unit} per target"
    )


def _command(args: argparse.Namespace, language: Language) -> str:
    parts = ["python scripts/make_synthetic_gec.py"]
    for flag, value, default in [
        ("--lang", args.lang, "en"),
        ("--seed", args.seed, DEFAULT_SEED),
        ("--train-size", args.train_size, language.train_size),
        ("--valid-size", args.valid_size, DEFAULT_VALID_SIZE),
        ("--test-size", args.test_size, DEFAULT_TEST_SIZE),
    ]:
        if value != default:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _jsonl(examples: Sequence[Example], separator: str) -> str:
    rows = [{"source": separator.join(ex.source), "target": separator.join(ex.target)} for ex in examples]
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help="gets sample/{train,valid}.jsonl and eval/sample/{source,target}.txt, gold.m2 "
        "(sample_zh and eval/sample_zh with --lang zh)",
    )
    parser.add_argument(
        "--lang",
        choices=sorted(LANGUAGES),
        default="en",
        help="en: tokenised English; zh: Chinese with character errors, scored on characters [en]",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--train-size",
        type=int,
        help=f"[{DEFAULT_TRAIN_SIZE}; {DEFAULT_ZH_TRAIN_SIZE} with --lang zh]",
    )
    parser.add_argument("--valid-size", type=int, default=DEFAULT_VALID_SIZE)
    parser.add_argument("--test-size", type=int, default=DEFAULT_TEST_SIZE)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _parser().parse_args(argv)
    language = LANGUAGES[args.lang]
    if args.train_size is None:
        args.train_size = language.train_size
    if min(args.train_size, args.valid_size, args.test_size) < 1:
        raise ValueError("--train-size, --valid-size and --test-size must be at least 1")

    if args.lang == "zh":
        draw = chinese_example
    else:
        typos = build_typo_table(_vocabulary())

        def draw(rng: random.Random) -> Example | None:
            return english_example(rng, typos)

    sep = language.separator
    seen: set[str] = set()
    splits = {}
    for name, size in [("test", args.test_size), ("valid", args.valid_size), ("train", args.train_size)]:
        splits[name] = generate_split(random.Random(f"{args.seed}/{name}"), size, seen, draw, sep)

    train, valid, test = splits["train"], splits["valid"], splits["test"]
    sample_dir = args.out_dir / language.sample_dir
    eval_dir = args.out_dir / "eval" / language.sample_dir
    _write(sample_dir / "train.jsonl", _jsonl(train, sep))
    _write(sample_dir / "valid.jsonl", _jsonl(valid, sep))
    _write(eval_dir / "source.txt", "".join(sep.join(ex.source) + "\n" for ex in test))
    _write(eval_dir / "target.txt", "".join(sep.join(ex.target) + "\n" for ex in test))
    # A blank line after every paragraph, as in the CoNLL-2014, BEA-2019 and NLPCC-2018 gold files.
    _write(eval_dir / "gold.m2", "".join(to_m2(ex, language.noop) + "\n" for ex in test))

    command = _command(args, language)
    _write(
        sample_dir / "README.md",
        (
            f"{language.readme_train}"
            f"Regenerate (also rewrites `../eval/{language.sample_dir}/`): `{command}`\n"
            f"train.jsonl: {_describe(_stats(train, language), language)}.\n"
            f"valid.jsonl: {_describe(_stats(valid, language), language)}.\n"
            f"{language.legend}\n"
        ),
    )
    _write(
        eval_dir / "README.md",
        (
            f"{language.readme_test}"
            f"Regenerate (also rewrites `../../{language.sample_dir}/`): `{command}`\n"
            f"Contents: {_describe(_stats(test, language), language)}.\n"
            f"{language.legend}\n"
        ),
    )
    if args.lang == "zh":
        # The marker scripts/eval_results.py (eval_gec.sh) reads, as scripts/prepare_eval_set.py writes it.
        info = {
            "name": language.sample_dir,
            "sentences": len(test),
            "char_level": True,
            "gold_from": command,
            "description": "synthetic Chinese GEC test set from a small grammar; scored on characters",
        }
        _write(eval_dir / "dataset.json", json.dumps(info, indent=2, ensure_ascii=False) + "\n")

    for name, examples in splits.items():
        stats = _stats(examples, language)
        logger.info(
            "%s: %s, %.1f %s per source",
            name,
            _describe(stats, language),
            stats["source_length"],
            language.unit,
        )
    everything = [ex for examples in splits.values() for ex in examples]
    target_types = {w for ex in everything for w in ex.target}
    source_types = {w for ex in everything for w in ex.source}
    logger.info("word types: %d in targets, %d in sources", len(target_types), len(source_types))
    if args.lang == "zh":
        chars = {c for ex in everything for w in ex.source + ex.target for c in w}
        logger.info("character types: %d", len(chars))
    logger.info("wrote %s and %s", sample_dir, eval_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
