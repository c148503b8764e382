"""ftkit/commands/m2_to_jsonl.py (scripts/m2_to_jsonl.py): M2 corpora to {"source", "target"} rows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ftkit.commands.m2_to_jsonl import apply_edits, detokenize, main
from m2scorer import parse_m2

REPO = Path(__file__).resolve().parents[1]

DATA = Path(os.environ.get("GEC_DATA", REPO.parent / "shared" / "gec-data"))
CONLL14 = DATA / "conll14-test" / "noalt" / "official-2014.combined.m2"

M2 = """S He go to school .
A 1 2|||SVA|||goes|||REQUIRED|||-NONE-|||0
A 3 3|||ArtOrDet|||the||a|||REQUIRED|||-NONE-|||1
A 1 2|||SVA|||went|||REQUIRED|||-NONE-|||1

S This is fine .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||1

S I like the the cat .

S It is a apple .
A 2 3|||ArtOrDet|||an|||REQUIRED|||-NONE-|||0
A 0 1|||Pron|||-NONE-|||REQUIRED|||-NONE-|||1
"""


def convert(tmp_path: Path, *flags: str, text: str = M2) -> list[dict[str, str]]:
    gold, out = tmp_path / "gold.m2", tmp_path / "out" / "train.jsonl"
    gold.write_text(text, encoding="utf-8")
    assert main([str(gold), str(out), *flags]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_one_annotator_every_sentence_kept(tmp_path):
    assert convert(tmp_path) == [
        {"source": "He go to school .", "target": "He goes to school ."},
        {"source": "This is fine .", "target": "This is fine ."},  # noop
        {"source": "I like the the cat .", "target": "I like the the cat ."},  # no A line at all
        {"source": "It is a apple .", "target": "It is an apple ."},
    ]
    # annotator 1: first alternative of "the||a"; -NONE- deletes
    assert [r["target"] for r in convert(tmp_path, "--annotator", "1")] == [
        "He went to the school .",
        "This is fine .",
        "I like the the cat .",
        "is a apple .",
    ]


def test_all_annotators_one_row_each(tmp_path):
    rows = convert(tmp_path, "--annotator", "all")
    assert len(rows) == 8
    assert [r["target"] for r in rows[:2]] == ["He goes to school .", "He went to the school ."]
    # a sentence nobody corrected is one unchanged row per annotator
    assert rows[4] == rows[5] == {"source": "I like the the cat .", "target": "I like the the cat ."}


def test_edits_sharing_an_offset():
    gold = parse_m2(
        "S a b c\nA 1 1|||X|||x|||REQUIRED|||-NONE-|||0\nA 1 2|||Y|||B|||REQUIRED|||-NONE-|||0\n"
        "A 3 3|||Z|||y|||REQUIRED|||-NONE-|||0\nA 3 3|||Z|||z|||REQUIRED|||-NONE-|||0\n"
    )[0]
    assert apply_edits(gold.source, gold.edits[0]) == "a x B c y z"


def test_detokenize():
    assert (
        detokenize('He said , " I do n\'t know . " ( really ) $ 5 .')
        == 'He said, "I don\'t know." (really) $5.'
    )
    assert detokenize("It 's John 's book : 50 % off !") == "It's John's book: 50% off!"
    assert detokenize("well - known") == "well - known"
    assert (
        detokenize("我 想 告诉 您 ， 前 几 天 用 iPhone 12 拍 的 。") == "我想告诉您，前几天用iPhone 12拍的。"
    )


def test_detokenize_flag(tmp_path):
    rows = convert(
        tmp_path, "--detokenize", text="S He do n't go .\nA 1 3|||V|||does not|||REQUIRED|||-NONE-|||0\n"
    )
    assert rows == [{"source": "He don't go.", "target": "He does not go."}]


def test_errors_exit_2(tmp_path, capsys):
    gold = tmp_path / "gold.m2"
    gold.write_text(M2, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main([str(gold), str(out), "--annotator", "2"]) == 2
    assert "no edits by annotator 2; the file has annotators 0, 1" in capsys.readouterr().err
    gold.write_text("S a b\nA 0 x|||S|||c|||REQUIRED|||-NONE-|||0\n", encoding="utf-8")
    assert main([str(gold), str(out)]) == 2
    assert f"{gold}:2: malformed A line" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit) as exc:
        main([str(gold), str(out), "--annotator", "first"])
    assert exc.value.code == 2
    assert "expected an annotator id (0, 1, ...) or 'all', not 'first'" in capsys.readouterr().err


# Lines (0-based) where the derived file, made by applying edits right to left in file order, reverses two
# insertions at one offset; we keep the annotator's order, as the official scorer reads them.
REVERSED_INSERTIONS = {
    0: {53: ("but this is not certain", "but is this not certain")},
    1: {
        19: ("members who have got", "members have who got"),
        606: ("inform them of this", "inform of them this"),
    },
}


@pytest.mark.skipif(not CONLL14.is_file(), reason=f"CoNLL-2014 gold not found at {CONLL14} (set GEC_DATA)")
@pytest.mark.parametrize("annotator", [0, 1])
def test_round_trip_conll14_gold(tmp_path, annotator):
    out = tmp_path / "conll14.jsonl"
    assert main([str(CONLL14), str(out), "--annotator", str(annotator)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    derived = (
        (DATA / "derived" / f"conll14.gold{annotator}_applied.txt").read_text(encoding="utf-8").splitlines()
    )
    assert len(rows) == len(derived) == 1312
    assert [r["source"] for r in rows] == [s.source for s in parse_m2(CONLL14.read_text(encoding="utf-8"))]
    for i, (row, line) in enumerate(zip(rows, derived, strict=True)):
        if i in REVERSED_INSERTIONS[annotator]:
            ours, theirs = REVERSED_INSERTIONS[annotator][i]
            assert ours in row["target"] and row["target"].replace(ours, theirs) == line
        else:
            assert row["target"] == line, i


def test_chinese_corpus_converts_without_the_scoring_warning(tmp_path, caplog):
    text = "S 我 在 北京 工作 了 。\nA 4 5|||R|||-NONE-|||REQUIRED|||-NONE-|||0\n"
    with caplog.at_level("WARNING"):
        rows = convert(tmp_path, "--detokenize", text=text)
    assert rows == [{"source": "我在北京工作了。", "target": "我在北京工作。"}]
    assert not [r for r in caplog.records if r.name.startswith("m2scorer")]
