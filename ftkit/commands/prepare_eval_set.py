"""Build a standard evaluation set folder for eval_gec.sh from an M2 gold file.

Usage (from a clone; installed, `ftkit-prepare-eval-set` takes the same arguments):
    python scripts/prepare_eval_set.py conll14 --m2 path/to/official-2014.combined.m2
    python scripts/prepare_eval_set.py nlpcc18 --m2 path/to/NLPCC2018_GEC/   # searched for its usual file
    python scripts/prepare_eval_set.py my_set --m2 my.m2 [--metric m2|m2_char|errant] [--out data/eval/my_set]

Writes <out> (default $DATA_ROOT/eval/NAME, DATA_ROOT defaulting to <repo>/data):
    source.txt    model inputs, one per line: the M2 `S` lines (for Chinese sets with the word segmentation
                  removed, as the model sees raw text)
    gold.m2       the gold file, copied unchanged
    dataset.json  name, sentence count, metric (m2, m2_char or errant; char_level: whether m2_char), where
                  the gold came from
    .gitignore    `*`: evaluation data comes under its own terms and stays out of the repository

Known sets (NAME: usual gold file names; metric):
    conll14:  official-2014.combined.m2 (CoNLL-2014 test, 1,312 sentences, 2 annotators); m2 (words)
    bea19dev: ABCN.dev.gold.bea19.m2, bea-dev.m2 (BEA-2019 dev, ERRANT M2; non-commercial only); errant
    nlpcc18:  gold.01, nlpcc18.gold, nlpcc18.gold.m2 (NLPCC-2018 Chinese test, PKUNLP-segmented); m2_char
Any other NAME needs --m2 (a file); its metric is m2, or m2_char when the gold is mostly Chinese or
Japanese (ideographs, kana): such text is scored on characters, as unsegmented text must be, unless
--no-char_level or --metric says otherwise. --char_level is --metric m2_char.
Exit status 0 on success, 2 on bad input (the message says what to pass).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from m2scorer import M2FormatError
from m2scorer.reader import UNSEGMENTED_SHARE, read_m2, unsegmented_share

METRICS = ("m2", "m2_char", "errant")
# <repo>/data: this file is the clone's (an editable install, as the README sets up).
DEFAULT_DATA_ROOT = Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class KnownSet:
    gold_names: tuple[str, ...]
    metric: str
    description: str


KNOWN_SETS = {
    "conll14": KnownSet(
        ("official-2014.combined.m2",),
        "m2",
        "CoNLL-2014 shared task test set (NUS, release 3.2), annotators 0 and 1",
    ),
    "bea19dev": KnownSet(
        ("ABCN.dev.gold.bea19.m2", "bea-dev.m2"),
        "errant",
        "BEA-2019 shared task dev set (W&I+LOCNESS, ERRANT M2); non-commercial research and education only",
    ),
    "nlpcc18": KnownSet(
        ("gold.01", "nlpcc18.gold", "nlpcc18.gold.m2"),
        "m2_char",
        "NLPCC-2018 shared task 2 Chinese GEC test set, PKUNLP-segmented; scored on characters",
    ),
}
# A space between two tokens survives unsegmentation only where both sides are Latin letters or digits
# ("iPhone 6", "Harry Potter"); between Chinese characters and punctuation it was added by the segmenter.
_KEEP_SPACE = re.compile(r"[0-9A-Za-z]")


def unsegment(tokens: list[str]) -> str:
    """Join word-segmented Chinese tokens back into raw text."""
    text = ""
    for token in tokens:
        if text and _KEEP_SPACE.fullmatch(text[-1]) and _KEEP_SPACE.fullmatch(token[0]):
            text += " "
        text += token
    return text


def find_gold(name: str, m2: Path | None) -> Path:
    """Resolve --m2 to a gold file: a file as given, or a known set's usual file name inside a folder.

    Raises:
        ValueError: nothing usable given or found; the message says what to pass.
    """
    known = KNOWN_SETS.get(name)
    if m2 is None:
        if known is None:
            raise ValueError(
                f"{name!r} is not a known set ({', '.join(KNOWN_SETS)}): pass its gold file with --m2 PATH."
            )
        raise ValueError(
            f"pass the {name} gold with --m2: the file ({' or '.join(known.gold_names)}) or a folder "
            "holding it."
        )
    if m2.is_file():
        return m2
    if not m2.is_dir():
        raise ValueError(f"--m2 {m2}: no such file or folder.")
    if known is None:
        raise ValueError(f"--m2 {m2} is a folder; for a set not in {', '.join(KNOWN_SETS)} pass the file.")
    for gold_name in known.gold_names:
        found = sorted(m2.rglob(gold_name))
        if found:
            return found[0]
    raise ValueError(f"no {' or '.join(known.gold_names)} under {m2}; pass the file with --m2.")


def choose_metric(name: str, sources: list[str], metric: str | None, char_level: bool | None) -> str:
    """The set's metric: --metric, else --char_level, else the known set's, else m2_char for a mostly
    Chinese/Japanese gold (scored on words, a perfect output of other segmentation scores near 0), else m2.

    Raises:
        ValueError: --metric and --char_level disagree, or errant (English only) for a CJK gold.
    """
    cjk = unsegmented_share(sources) >= UNSEGMENTED_SHARE
    if metric and char_level is not None and (metric == "m2_char") != char_level:
        flag = "--char_level" if char_level else "--no-char_level"
        raise ValueError(f"--metric {metric} and {flag} disagree: give one of them.")
    known = KNOWN_SETS.get(name)
    if metric is None:
        if char_level:
            metric = "m2_char"
        elif known and not (char_level is False and known.metric == "m2_char"):
            metric = known.metric
        elif char_level is None and cjk:
            metric = "m2_char"
            print(
                f"{name}: the gold is mostly Chinese/Japanese text: scoring on characters (m2_char); "
                "pass --no-char_level to score its words",
                file=sys.stderr,
            )
        else:
            metric = "m2"
    if cjk and metric == "errant":
        raise ValueError(
            "ERRANT scores English only; this gold is mostly Chinese/Japanese: use --metric m2_char."
        )
    if cjk and metric == "m2":
        print(
            f"{name}: warning: the gold is mostly Chinese/Japanese text scored on words (m2): an output "
            "segmented differently loses correct edits; --char_level scores characters",
            file=sys.stderr,
        )
    return metric


def prepare(
    name: str, gold_path: Path, out: Path, metric: str | None, char_level: bool | None
) -> tuple[int, str]:
    """Write the set's folder; return its sentence count and metric.

    Raises:
        M2FormatError: the gold file is not valid M2.
        ValueError: the metric flags disagree or do not suit the gold (choose_metric).
    """
    # Not load_gold: its warning about CJK text scored on words is choose_metric's decision here.
    sentences = read_m2(gold_path)
    if not sentences:
        raise M2FormatError(f"{gold_path}: no sentences (no `S` lines).")
    metric = choose_metric(name, [s.source for s in sentences], metric, char_level)
    sources = [unsegment(s.source.split()) if metric == "m2_char" else s.source for s in sentences]
    out.mkdir(parents=True, exist_ok=True)
    (out / "source.txt").write_text("".join(line + "\n" for line in sources), encoding="utf-8")
    shutil.copyfile(gold_path, out / "gold.m2")
    known = KNOWN_SETS.get(name)
    info = {
        "name": name,
        "sentences": len(sources),
        "metric": metric,
        "char_level": metric == "m2_char",
        "gold_from": str(gold_path.resolve()),
        "description": known.description if known else "",
    }
    (out / "dataset.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / ".gitignore").write_text("# Evaluation data comes under its own terms: never committed.\n*\n")
    return len(sources), metric


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help=f"dataset name: {', '.join(KNOWN_SETS)} or your own")
    parser.add_argument("--m2", type=Path, help="the gold M2 file, or a folder holding a known set's file")
    parser.add_argument("--out", type=Path, help="output folder [$DATA_ROOT/eval/NAME]")
    parser.add_argument(
        "--metric",
        choices=METRICS,
        help="m2 (words), m2_char (characters), errant (ERRANT, English) [the known set's; for another "
        "set m2_char when the gold is mostly Chinese/Japanese, else m2]",
    )
    parser.add_argument(
        "--char_level",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="segmented Chinese-like text: remove the segmentation from inputs, score characters "
        "(--metric m2_char) [on for nlpcc18 and Chinese/Japanese golds, off otherwise]",
    )
    args = parser.parse_args(argv)
    data_root = Path(os.environ.get("DATA_ROOT") or DEFAULT_DATA_ROOT)
    out = args.out or data_root / "eval" / args.name
    try:
        gold_path = find_gold(args.name, args.m2)
        count, metric = prepare(args.name, gold_path, out, args.metric, args.char_level)
    except (ValueError, OSError) as e:  # M2FormatError is a ValueError
        print(f"prepare_eval_set.py: error: {e}", file=sys.stderr)
        return 2
    how = {
        "m2": "M2 scorer on words",
        "m2_char": "M2 scorer on characters (--char_level)",
        "errant": "ERRANT",
    }
    print(f"{out}: {count} sentences from {gold_path}; scored with {metric} ({how[metric]})")
    return 0
