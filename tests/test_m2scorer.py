"""m2scorer: hand-made cases, CLI behaviour, bad input.

Expected counts of the hand-made cases were obtained from the official NUS M2 scorer 3.2 (run outside
this repository) on the same sentences.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from m2scorer import (
    Counts,
    M2FormatError,
    build_edit_graph,
    format_result,
    iter_sentence_scores,
    load_gold,
    parse_m2,
    score_corpus,
    score_files,
    score_sentence,
)
from m2scorer.m2scorer import main

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "m2scorer"


def one(m2: str, hypothesis: str, **options) -> tuple[Counts, int]:
    score = next(iter_sentence_scores([hypothesis], parse_m2(m2), **options))
    return score.counts, score.annotator


# (gold M2 of one sentence, hypothesis) -> (correct, proposed, gold) and the chosen annotator, as the
# official scorer 3.2 gives them.
HAND_MADE = {
    "insertion": (
        "S He go to school .\nA 1 1|||Vt|||will|||REQUIRED|||-NONE-|||0\n",
        "He will go to school .",
        (1, 1, 1),
        0,
    ),
    "deletion": (
        "S She is a very the tall girl .\nA 4 5|||ArtOrDet|||-NONE-|||REQUIRED|||-NONE-|||0\n",
        "She is a very tall girl .",
        (1, 1, 1),
        0,
    ),
    "multi_token_edit": (
        "S I am go to school .\nA 1 3|||Vt|||was going|||REQUIRED|||-NONE-|||0\n",
        "I was going to school .",
        (1, 1, 1),
        0,
    ),
    "multi_token_hypothesis_split_by_gold": (
        "S I am go to school .\nA 2 3|||Vform|||going|||REQUIRED|||-NONE-|||0\n",
        "I was going to school .",
        (1, 2, 1),
        0,
    ),
    "alternative_corrections": (
        "S The cat sat at mat .\nA 4 4|||ArtOrDet|||the||a|||REQUIRED|||-NONE-|||0\n",
        "The cat sat at a mat .",
        (1, 1, 1),
        0,
    ),
    "noop_annotator_wins_for_unchanged_output": (
        "S The dog .\nA 1 2|||NN|||dogs|||REQUIRED|||-NONE-|||0\n"
        "A -1 -1|||noop|||-NONE-|||-NONE-|||-NONE-|||1\n",
        "The dog .",
        (0, 0, 0),
        1,
    ),
    "second_annotator_chosen": (
        "S Giant otters is an apex predator .\nA 2 3|||SVA|||are|||REQUIRED|||-NONE-|||0\n"
        "A 5 6|||NN|||predators|||REQUIRED|||-NONE-|||0\nA 1 2|||NN|||otter|||REQUIRED|||-NONE-|||1\n",
        "Giant otter is an apex predator .",
        (1, 1, 1),
        1,
    ),
    "empty_hypothesis": (
        "S This is is wrong .\nA 2 3|||Rloc|||-NONE-|||REQUIRED|||-NONE-|||0\n",
        "",
        (1, 3, 1),
        0,
    ),
    "hypothesis_identical_to_source": (
        "S This is is wrong .\nA 2 3|||Rloc|||-NONE-|||REQUIRED|||-NONE-|||0\n",
        "This is is wrong .",
        (0, 0, 1),
        0,
    ),
    "word_order": ("S a b c d e\nA 1 3|||W|||c b|||REQUIRED|||-NONE-|||0\n", "a c b d e", (1, 1, 1), 0),
    "two_insertions_at_one_offset": (
        "S I like cat\nA 2 2|||Det|||the|||REQUIRED|||-NONE-|||0\n"
        "A 2 2|||Adj|||black|||REQUIRED|||-NONE-|||0\n",
        "I like the black cat",
        (2, 2, 2),
        0,
    ),
    "edits_around_three_unchanged_words_stay_apart": (
        "S x a b c y\nA 0 1|||S|||X|||REQUIRED|||-NONE-|||0\nA 4 5|||S|||Y|||REQUIRED|||-NONE-|||0\n",
        "X a b c Y",
        (2, 2, 2),
        0,
    ),
    # The official scan over gold edits does not stop at a match: one system edit, two identical gold
    # edits, two "correct".
    "duplicate_gold_edit_counts_twice": (
        "S He go .\nA 1 2|||V|||goes|||REQUIRED|||-NONE-|||0\nA 1 2|||V|||goes|||REQUIRED|||-NONE-|||0\n",
        "He goes .",
        (2, 1, 2),
        0,
    ),
}


@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_hand_made_counts_match_official(name):
    m2, hypothesis, expected, annotator = HAND_MADE[name]
    counts, chosen = one(m2, hypothesis)
    assert (counts.correct, counts.proposed, counts.gold) == expected
    assert chosen == annotator


def test_unchanged_words_limit_decides_whether_edits_merge():
    m2 = "S a b c\n"
    assert one(m2, "x b y")[0] == Counts(0, 1, 0)  # one edit "a b c -> x b y" (1 unchanged word)
    assert one(m2, "x b y", max_unchanged_words=0)[0] == Counts(0, 2, 0)


def test_ignore_whitespace_casing_drops_case_only_edits():
    m2 = "S the cat sleeps\n"
    assert one(m2, "The cat sleeps")[0] == Counts(0, 1, 0)
    assert one(m2, "The cat sleeps", ignore_whitespace_casing=True)[0] == Counts(0, 0, 0)


def test_char_level_ignores_segmentation():
    m2 = "S 我 喜欢 北京 天安门\nA 1 2|||S|||爱|||REQUIRED|||-NONE-|||0\n"
    gold = parse_m2(m2, char_level=True)
    assert gold[0].source == "我 喜 欢 北 京 天 安 门"
    assert gold[0].edits[0] == [(1, 3, "喜 欢", ("爱",))]
    for hypothesis in ("我 爱 北京 天安门", "我爱北京天安门", "我 爱北 京天安门"):
        result = score_corpus([hypothesis], gold, char_level=True)
        assert (result.correct, result.proposed, result.gold) == (1, 1, 1)
    # word level: a different segmentation is a different token sequence
    assert score_corpus(["我爱北京天安门"], parse_m2(m2)).correct == 0


def test_annotator_choice_uses_cumulative_counts():
    # Sentence 2 alone is best scored with annotator 1 (nothing to find); but with sentence 1's counts
    # before it, the official scorer still maximises the running F, not the sentence's own.
    m2 = (
        "S a b\nA 0 1|||S|||x|||REQUIRED|||-NONE-|||0\n\n"
        "S c d\nA 0 1|||S|||y|||REQUIRED|||-NONE-|||0\nA 1 2|||S|||z|||REQUIRED|||-NONE-|||1\n"
    )
    scores = list(iter_sentence_scores(["x b", "y d"], parse_m2(m2)))
    assert [s.annotator for s in scores] == [0, 0]
    assert scores[1].counts == Counts(1, 1, 1)
    lone = score_sentence("y d", "c d", parse_m2(m2)[1].edits, running=Counts(0, 5, 0))
    assert lone.annotator == 0 and lone.counts == Counts(1, 1, 1)


def test_score_sentence_for_rewards():
    gold = parse_m2("S He go to school .\nA 1 2|||V|||goes|||REQUIRED|||-NONE-|||0\n")[0]
    good = score_sentence("He goes to school .", gold.source, gold.edits)
    bad = score_sentence("She go to school .", gold.source, gold.edits)
    assert good.counts == Counts(1, 1, 1)
    assert bad.counts == Counts(0, 1, 1)
    assert good.per_annotator[0].system_edits == [(1, 2, "go", "goes")]


def test_several_sentences_in_one_block_keep_official_offsets():
    # Offsets index the block's tokens joined; each S line keeps edits ending within its running count.
    m2 = "S a b\nS c d\nA 1 2|||S|||B|||REQUIRED|||-NONE-|||0\nA 3 4|||S|||D|||REQUIRED|||-NONE-|||0\n"
    gold = parse_m2(m2)
    assert [s.source for s in gold] == ["a b", "c d"]
    assert [len(s.edits[0]) for s in gold] == [1, 2]


def test_graph_is_small_for_unrelated_sentences():
    # 40 tokens with nothing in common: every monotone path is optimal, the official closure visits
    # ~V^3 = 4.6e9 triples; ours extends each arc by its base edges.
    src = [f"s{i}" for i in range(40)]
    hyp = [f"h{i}" for i in range(40)]
    graph = build_edit_graph(src, hyp)
    assert len(graph.vertices) == 41 * 41
    counts = score_sentence(" ".join(hyp), " ".join(src), {0: [(0, 1, "s0", ("h0",))]}).counts
    assert counts == Counts(1, 2, 1)


# The gold: insertions before the first source token, where release 3.2 and master differ.
LEADING_INSERTIONS_M2 = (
    "S cat sat on the mat .\nA 0 0|||ArtOrDet|||The big|||REQUIRED|||-NONE-|||0\n\n"
    "S dog ran .\nA 0 0|||ArtOrDet|||The|||REQUIRED|||-NONE-|||0\n\n"
    "S He go to school .\nA 0 1|||Pref|||She|||REQUIRED|||-NONE-|||0\n"
    "A 1 1|||Vm|||will|||REQUIRED|||-NONE-|||0\n"
)
LEADING_INSERTIONS_OUTPUT = ["The big cat sat on the mat .", "The dog ran .", "She will go to school ."]


def test_release_3_2_offsets_of_leading_insertions():
    # Official 3.2 (its own code): a leading two-word insertion reads (0, 1), so it never matches the gold
    # (0, 0) and the cheapest path merges it with "cat"; the leading "She will" path offers "will" at
    # (1, 1), which takes the gold insertion meant for after "She", so "He -> She" is followed by
    # "go -> will go".
    scores = list(iter_sentence_scores(LEADING_INSERTIONS_OUTPUT, parse_m2(LEADING_INSERTIONS_M2)))
    assert [s.per_annotator[0].system_edits for s in scores] == [
        [(0, 1, "cat", "The big cat")],
        [(0, 0, "", "The")],
        [(0, 1, "He", "She"), (1, 2, "go", "will go")],
    ]
    assert [s.counts for s in scores] == [Counts(0, 1, 1), Counts(1, 1, 1), Counts(1, 2, 2)]
    result = score_corpus(LEADING_INSERTIONS_OUTPUT, parse_m2(LEADING_INSERTIONS_M2))
    assert (result.precision, result.recall, result.f) == (0.5, 0.5, 0.5)


def test_master_compat_matches_leading_insertions():
    gold = parse_m2(LEADING_INSERTIONS_M2)
    scores = list(iter_sentence_scores(LEADING_INSERTIONS_OUTPUT, gold, compat="master"))
    assert scores[0].per_annotator[0].system_edits == [(0, 0, "", "The big")]
    result = score_corpus(LEADING_INSERTIONS_OUTPUT, gold, compat="master")
    assert (result.correct, result.proposed, result.gold) == (4, 4, 4)


def test_cli_compat(tmp_path, capsys):
    gold, system = tmp_path / "gold.m2", tmp_path / "system.txt"
    gold.write_text(LEADING_INSERTIONS_M2, encoding="utf-8")
    system.write_text("\n".join(LEADING_INSERTIONS_OUTPUT) + "\n", encoding="utf-8")
    assert main([str(system), str(gold)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "F_0.5       : 0.5000"
    assert main(["--compat", "master", str(system), str(gold)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "F_0.5       : 1.0000"
    with pytest.raises(SystemExit) as exc:
        main(["--compat", "3.3", str(system), str(gold)])
    assert exc.value.code == 2
    with pytest.raises(ValueError, match="compat must be one of 3.2, master"):
        build_edit_graph(["a"], ["b"], compat="3.3")


# ---- example files, CLI -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "expected"),
    [("system", (0.8, 0.8, 0.8)), ("system2", (0.75, 0.6, 0.7143))],
)
def test_official_example(system, expected):
    result = score_files(DATA / system, DATA / "source_gold")
    assert (round(result.precision, 4), round(result.recall, 4), round(result.f, 4)) == expected


def test_cli_prints_official_lines(capsys):
    assert main([str(DATA / "system"), str(DATA / "source_gold")]) == 0
    assert capsys.readouterr().out == "Precision   : 0.8000\nRecall      : 0.8000\nF_0.5       : 0.8000\n"


def test_cli_options(capsys):
    argv = ["--beta", "1.0", "--max_unchanged_words", "3", str(DATA / "system2"), str(DATA / "source_gold")]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines()[2] == "F_1.0       : 0.6667"


def test_cli_verbose_shows_edits_and_choice(capsys):
    assert main(["-v", str(DATA / "system"), str(DATA / "source_gold")]) == 0
    out = capsys.readouterr().out
    assert "EDIT SEQ      : [(0, 1, 'The', 'A'), (3, 4, 'at', 'on'), (4, 4, '', 'the')]" in out
    assert ">> Chosen Annotator for line 2 : 1" in out
    assert out.endswith("F_0.5       : 0.8000\n")
    assert main(["--very_verbose", str(DATA / "system"), str(DATA / "source_gold")]) == 0
    assert "edit graph    :" in capsys.readouterr().out


@pytest.mark.parametrize("how", [["m2scorer/m2scorer.py"], ["-m", "m2scorer"]])
def test_cli_as_script_and_module(how):
    proc = subprocess.run(
        [sys.executable, *how, str(DATA / "system2"), str(DATA / "source_gold")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Precision   : 0.7500\nRecall      : 0.6000\nF_0.5       : 0.7143\n"


def test_format_result():
    result = score_corpus(["A cat sat on the mat ."], load_gold(DATA / "source_gold")[:1])
    assert format_result(result) == "Precision   : 0.6667\nRecall      : 1.0000\nF_0.5       : 0.7143\n"


# ---- bad input ----------------------------------------------------------------------------------


def run_cli(capsys, system: Path, gold: Path) -> tuple[int, str]:
    code = main([str(system), str(gold)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


def test_different_sentence_counts(tmp_path, capsys):
    system = tmp_path / "sys.txt"
    system.write_text("A cat sat on the mat .\nThe dog .\n")
    code, err = run_cli(capsys, system, DATA / "source_gold")
    assert code == 2
    assert "has 2 lines" in err and "has 3 sentences" in err
    with pytest.raises(
        M2FormatError, match="has 2 lines but .* has 3 sentences; the output needs one line per"
    ):
        score_files(system, DATA / "source_gold")


def test_malformed_a_line_names_file_and_line(tmp_path, capsys):
    gold = tmp_path / "gold.m2"
    gold.write_text("S a b\nA 0 1|||S|||x|||REQUIRED|||-NONE-|||0\n\nS c d\nA zero 1|||S|||y|||REQ|||-|||0\n")
    system = tmp_path / "sys.txt"
    system.write_text("x b\nc d\n")
    code, err = run_cli(capsys, system, gold)
    assert code == 2
    assert f"{gold}:5:" in err and "malformed A line" in err


def test_missing_fields_and_stray_lines(tmp_path):
    gold = tmp_path / "gold.m2"
    gold.write_text("S a b\nA 0 1|||S|||x\n")
    with pytest.raises(M2FormatError, match=r"gold.m2:2: malformed A line \(expected 6 fields"):
        load_gold(gold)
    gold.write_text("S a b\nX 0 1\n")
    with pytest.raises(M2FormatError, match=r"gold.m2:2: expected an 'A ' line"):
        load_gold(gold)


def test_non_utf8(tmp_path, capsys):
    system = tmp_path / "sys.txt"
    system.write_bytes(b"A cat sat on the mat .\nThe d\xf6g .\nGiant otters .\n")
    code, err = run_cli(capsys, system, DATA / "source_gold")
    assert code == 2
    assert f"{system}:2: not valid UTF-8" in err
    gold = tmp_path / "gold.m2"
    gold.write_bytes(b"S a b\n\nS c \xff\n")
    code, err = run_cli(capsys, system, gold)
    assert code == 2 and f"{gold}:3: not valid UTF-8" in err


def test_empty_gold(tmp_path, capsys):
    gold = tmp_path / "gold.m2"
    gold.write_text("\n\n")
    code, err = run_cli(capsys, DATA / "system", gold)
    assert code == 2 and "empty gold file" in err


def test_missing_file(tmp_path, capsys):
    code, err = run_cli(capsys, tmp_path / "nope.txt", DATA / "source_gold")
    assert code == 2 and "nope.txt" in err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["only_one_file"])
    assert exc.value.code == 2


# ---- input that used to give a valid-looking but wrong score -----------------------------------


def test_gold_without_blank_lines_is_an_error(tmp_path, capsys):
    # Read as one block, its edits index the S lines joined: a perfect output scored 0.001.
    gold = tmp_path / "gold.m2"
    gold.write_text(
        "S a b\nA 0 1|||S|||x|||REQUIRED|||-NONE-|||0\nS c d\nA 1 2|||S|||y|||REQUIRED|||-NONE-|||0\n"
    )
    system = tmp_path / "sys.txt"
    system.write_text("x b\nc y\n")
    code, err = run_cli(capsys, system, gold)
    assert code == 2
    assert f"{gold}:3:" in err and "add an empty line before each 'S ' line" in err
    # S lines first, then the edits on their joined tokens, is the official multi-sentence block: kept
    assert len(parse_m2("S a b\nS c d\nA 3 4|||S|||D|||REQUIRED|||-NONE-|||0\n")) == 2


def test_byte_order_mark_is_stripped(tmp_path, capsys):
    # With it, the first token of line 1 reads "\ufeffThe", a spurious edit that cost precision.
    gold = tmp_path / "gold.m2"
    gold.write_bytes(b"\xef\xbb\xbfS The cat sit .\nA 2 3|||SVA|||sits|||REQUIRED|||-NONE-|||0\n")
    system = tmp_path / "sys.txt"
    system.write_bytes(b"\xef\xbb\xbfThe cat sits .\n")
    assert run_cli(capsys, system, gold)[0] == 0
    result = score_files(system, gold)
    assert (result.correct, result.proposed, result.gold) == (1, 1, 1)


@pytest.mark.parametrize(
    ("offsets", "problem"), [("2 1", "reversed"), ("-2 1", "negative"), ("-1 0", "negative")]
)
def test_reversed_or_negative_offsets_are_an_error(tmp_path, capsys, offsets, problem):
    gold = tmp_path / "gold.m2"
    gold.write_text(
        f"S a b\nA 0 1|||S|||x|||REQUIRED|||-NONE-|||0\nA {offsets}|||S|||y|||REQUIRED|||-NONE-|||0\n"
    )
    system = tmp_path / "sys.txt"
    system.write_text("x b\n")
    code, err = run_cli(capsys, system, gold)
    assert code == 2
    assert f"{gold}:3: edit offsets {offsets} are {problem}; offsets are token positions 0..2" in err


@pytest.mark.parametrize("offsets", ["1 3", "3 3"])
def test_offsets_past_the_sentence_are_dropped_with_a_warning(tmp_path, caplog, offsets):
    # The official scorer drops them silently (and the NLPCC-2018 test gold has one): same figures, but said.
    gold = tmp_path / "gold.m2"
    gold.write_text(
        f"S a b\nA 0 1|||S|||x|||REQUIRED|||-NONE-|||0\nA {offsets}|||S|||y|||REQUIRED|||-NONE-|||0\n"
    )
    with caplog.at_level("WARNING", logger="m2scorer"):
        sentences = load_gold(gold)
    assert sentences[0].edits == {0: [(0, 1, "a", ("x",))]}
    assert (
        f"{gold}:3: edit offsets {offsets} go past the sentence's 2 tokens; the edit is dropped"
        in caplog.text
    )


def test_noop_edits_keep_their_annotator():
    gold = parse_m2(
        "S a b\nA -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0\nA 0 1|||S|||x|||REQUIRED|||-NONE-|||1\n"
    )
    assert gold[0].edits == {0: [], 1: [(0, 1, "a", ("x",))]}
    assert one("S a b\nA -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0\n", "a b") == (Counts(0, 0, 0), 0)


@pytest.mark.parametrize("beta", ["-1", "0", "nan", "inf"])
def test_beta_must_be_positive(capsys, beta):
    with pytest.raises(SystemExit) as exc:
        main(["--beta", beta, str(DATA / "system"), str(DATA / "source_gold")])
    assert exc.value.code == 2
    assert "argument --beta: beta must be a finite number > 0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="beta must be a finite number > 0"):
        score_files(DATA / "system", DATA / "source_gold", beta=float(beta))


CJK_M2 = "S 我 喜欢 北京 天安门\nA 1 2|||S|||爱|||REQUIRED|||-NONE-|||0\n"


def test_cjk_gold_without_char_level_warns(tmp_path, caplog):
    gold = tmp_path / "gold.m2"
    gold.write_text(CJK_M2, encoding="utf-8")
    with caplog.at_level("WARNING", logger="m2scorer"):
        load_gold(gold)
    assert len(caplog.records) == 1
    assert str(gold) in caplog.text and "100% of the source characters" in caplog.text
    assert "--char_level" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="m2scorer"):
        load_gold(gold, char_level=True)
        load_gold(DATA / "source_gold")
    assert not caplog.records


def test_cjk_warning_reaches_the_cli_user(tmp_path):
    gold, system = tmp_path / "gold.m2", tmp_path / "sys.txt"
    gold.write_text(CJK_M2, encoding="utf-8")
    system.write_text("我爱北京天安门\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "m2scorer", str(system), str(gold)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    assert proc.stderr.startswith(f"m2scorer: warning: {gold}: 100% of the source characters")
    assert "use --char_level" in proc.stderr
    proc = subprocess.run([*cmd, "--char_level"], cwd=REPO, capture_output=True, text=True, check=True)
    assert proc.stderr == "" and proc.stdout.splitlines()[-1] == "F_0.5       : 1.0000"
