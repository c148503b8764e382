"""prepare_eval_set.py on the real CoNLL-2014, NLPCC-2018 (and BEA-2019 dev) golds from ../shared/gec-data,
and its error messages. Sets are written to tmp: evaluation data never goes into the repository."""

import json
from pathlib import Path

import pytest

from conftest import REPO
from ftkit.commands.prepare_eval_set import main, unsegment
from m2scorer import score_files

GEC_DATA = REPO.parent / "shared" / "gec-data"
needs_gec_data = pytest.mark.skipif(not GEC_DATA.is_dir(), reason="../shared/gec-data not available")


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@needs_gec_data
def test_conll14_from_its_folder(tmp_path, capsys):
    out = tmp_path / "conll14"
    # A folder is searched for the set's usual file name.
    assert main(["conll14", "--m2", str(GEC_DATA / "conll14-test"), "--out", str(out)]) == 0
    assert "1312 sentences" in capsys.readouterr().out
    # The source side is the S lines: the official CoNLL-2014 input, line for line.
    official_input = [line.rstrip() for line in lines(GEC_DATA / "conll14-submissions" / "INPUT")]
    assert lines(out / "source.txt") == official_input
    gold = GEC_DATA / "conll14-test" / "noalt" / "official-2014.combined.m2"
    assert (out / "gold.m2").read_bytes() == gold.read_bytes()
    info = json.loads((out / "dataset.json").read_text())
    assert info["name"] == "conll14" and info["sentences"] == 1312 and info["char_level"] is False
    assert info["metric"] == "m2"
    assert (out / ".gitignore").read_text().splitlines()[-1] == "*"


@needs_gec_data
def test_nlpcc18_inputs_are_unsegmented_and_scored_on_characters(tmp_path):
    out = tmp_path / "nlpcc18"
    assert main(["nlpcc18", "--m2", str(GEC_DATA / "nlpcc18" / "nlpcc18.gold.m2"), "--out", str(out)]) == 0
    info = json.loads((out / "dataset.json").read_text())
    assert info["sentences"] == 2000 and info["char_level"] is True and info["metric"] == "m2_char"
    sources = lines(out / "source.txt")
    assert len(sources) == 2000
    assert sources[2] == "这样，你就会尝到泰国人死爱的味道。"
    segmented = [line[2:] for line in lines(out / "gold.m2") if line.startswith("S ")]
    # Only the segmentation is gone: the same characters, and spaces only between Latin letters/digits.
    assert [s.replace(" ", "") for s in sources] == [s.replace(" ", "") for s in segmented]
    assert "美术馆叫做“Reina Sopia”在巴塞罗那" in sources[1198]
    # Scored on characters, the unsegmented input scores as the segmented one (the input-as-output baseline).
    baseline = GEC_DATA / "derived" / "nlpcc18.input_as_output.txt"
    ours = score_files(out / "source.txt", out / "gold.m2", char_level=True)
    theirs = score_files(baseline, out / "gold.m2", char_level=True)
    assert (ours.correct, ours.proposed, ours.gold) == (theirs.correct, theirs.proposed, theirs.gold)


@needs_gec_data
def test_bea19dev_errant_m2(tmp_path):
    out = tmp_path / "bea19dev"  # non-commercial data: tmp only, never the repository
    m2 = GEC_DATA / "pillars-of-gec" / "evaluation_sets"
    assert main(["bea19dev", "--m2", str(m2), "--out", str(out)]) == 0
    expected = [line.rstrip() for line in lines(m2 / "bea-dev.txt")]
    assert lines(out / "source.txt") == expected and len(expected) == 4384
    info = json.loads((out / "dataset.json").read_text())
    assert info["metric"] == "errant" and info["char_level"] is False  # scored as BEA-2019 is reported


def test_unsegment_keeps_spaces_between_latin_words_only():
    assert unsegment("我 喜欢 Harry Potter ， 买 了 6 本 。".split()) == "我喜欢Harry Potter，买了6本。"
    assert unsegment(["iPhone", "6", "很", "好"]) == "iPhone 6很好"


def test_own_set_and_default_output_folder(tmp_path, monkeypatch):
    m2 = tmp_path / "mine.m2"
    m2.write_text("S He go home .\nA 1 2|||R:VERB:SVA|||goes|||REQUIRED|||-NONE-|||0\n\nS Fine .\n\n")
    monkeypatch.setenv("DATA_ROOT", str(tmp_path / "data"))
    assert main(["mine", "--m2", str(m2)]) == 0
    out = tmp_path / "data" / "eval" / "mine"
    assert lines(out / "source.txt") == ["He go home .", "Fine ."]
    assert json.loads((out / "dataset.json").read_text())["char_level"] is False


@pytest.mark.parametrize(
    "argv, message",
    [
        (["unknown"], "not a known set"),
        (["conll14"], "pass the conll14 gold with --m2"),
        (["conll14", "--m2", "{tmp}"], "no official-2014.combined.m2 under"),
        (["x", "--m2", "{tmp}/missing.m2"], "no such file or folder"),
        (["x", "--m2", "{tmp}/bad.m2"], "bad.m2:2"),
    ],
)
def test_errors_say_what_to_pass(tmp_path, capsys, argv, message):
    (tmp_path / "bad.m2").write_text("S a b .\nA x y|||broken\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err


CHINESE_GOLD = "S 他 跑 的 很 快 。\nA 2 3|||S|||得|||REQUIRED|||-NONE-|||0\n\nS 我 有 6 本 书 。\n\n"


@pytest.mark.parametrize(
    "flags, metric, note",
    [
        ([], "m2_char", "mostly Chinese/Japanese text: scoring on characters"),
        (["--char_level"], "m2_char", ""),
        (["--no-char_level"], "m2", "warning: the gold is mostly Chinese/Japanese text scored on words"),
        (["--metric", "m2"], "m2", "--char_level scores characters"),
    ],
)
def test_chinese_gold_is_detected(tmp_path, capsys, flags, metric, note):
    m2 = tmp_path / "zh.m2"
    m2.write_text(CHINESE_GOLD, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["my_zh", "--m2", str(m2), "--out", str(out), *flags]) == 0
    info = json.loads((out / "dataset.json").read_text())
    assert (info["metric"], info["char_level"]) == (metric, metric == "m2_char")
    expected = (
        ["他跑的很快。", "我有6本书。"] if metric == "m2_char" else ["他 跑 的 很 快 。", "我 有 6 本 书 。"]
    )
    assert lines(out / "source.txt") == expected
    err = capsys.readouterr().err
    assert note in err
    assert "whitespace-separated tokens" not in err  # the scorer's own warning would contradict the choice


@pytest.mark.parametrize(
    "gold, flags, message",
    [
        (CHINESE_GOLD, ["--metric", "errant"], "ERRANT scores English only"),
        ("S He go .\n\n", ["--metric", "m2", "--char_level"], "--metric m2 and --char_level disagree"),
    ],
)
def test_metric_flags_that_do_not_fit(tmp_path, capsys, gold, flags, message):
    m2 = tmp_path / "gold.m2"
    m2.write_text(gold, encoding="utf-8")
    assert main(["mine", "--m2", str(m2), "--out", str(tmp_path / "out"), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
