"""scripts/check_readme.py: the README's figures agree with the files and code they come from, and the check
fails when one of them is changed."""

import os
from pathlib import Path

import pytest
from check_readme import check, check_commands, chunks, main

from conftest import REPO

README = REPO / "README.md"
DATA = Path(os.environ.get("GEC_DATA", REPO.parent / "shared" / "gec-data"))


def test_the_readme_figures_agree_with_their_sources():
    assert check(README, DATA) == []


# (text in the README, the same text with one figure changed, what the problem names)
CHANGES = [
    ("| ZeRO-2 | 11.9 GiB |", "| ZeRO-2 | 12.9 GiB |", "ZeRO-2: README 12.9 GiB, script 11.9 GiB"),
    ("313 GiB for 7B", "300 GiB for 7B", "300 GiB for 7B: the script gives 312.9 GiB"),
    (
        "gives 0.5000 / 0.5000 / 0.5000",
        "gives 0.6000 / 0.5000 / 0.5000",
        "3.2: README 0.6000 / 0.5000 / 0.5000",
    ),
    ("0.9753 / 0.9794 / 0.9761", "0.9753 / 0.9794 / 0.9762", "derived/nlpcc18.gold0_applied.txt: README"),
    ("13 of the 146 pairs", "12 of the 146 pairs", "the reference tables give 13 of 146"),
    ("`Precision   : 0.3971`", "`Precision   : 0.3972`", "OFFICIAL gives 0.3971"),
    ("| T5-11B | 3815 |", "| T5-11B | 3816 |", "T5-11B: table ['3816'"),
    ("SFT demo's 0.8977", "SFT demo's 0.9319", "the demo's row gives F0.5 0.8977"),
    (
        "\n## Where things go\n",
        "\n## Where things go\n\nA 7B model loads in 42.0 s.\n",
        "42.0 s: no command beside",
    ),
]


@pytest.mark.parametrize(("text", "changed", "problem"), CHANGES, ids=[c[2][:30] for c in CHANGES])
def test_a_changed_figure_is_reported_at_its_line(tmp_path, text, changed, problem):
    readme = README.read_text(encoding="utf-8")
    assert readme.count(text) == 1, f"the README no longer has {text!r} once: update this test"
    changed_readme = readme.replace(text, changed)
    copy = tmp_path / "README.md"
    copy.write_text(changed_readme, encoding="utf-8")
    line = changed_readme[: changed_readme.index(changed) + len(changed.rstrip())].count("\n") + 1
    problems = check(copy, None)
    assert [p for p in problems if p.startswith(f"README.md:{line}: ") and problem in p], problems


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("## A\n\nIt took 4.2 s.\n", 1),
        ("## A\n\nIt took 4.2 s (`python x.py --n 3`).\n", 0),
        ("## A\n\n`python x.py` prints:\n\n```\nspeed 3.1 GB/s\n```\n", 0),
        ("## A\n\n```\nspeed 3.1 GB/s\n```\n", 1),
        ("## A\n\nIts lines (an illustration, not a measurement):\n\n```\n5.3 sentences/s\n```\n", 0),
        ("## A\n\nA 69 MB buffer (source: `deepspeed/shm.cpp`).\n", 0),
        ("## Speed (`python x.py`)\n\n| x | 4.2 s |\n", 0),
        ("## A\n\n`python x.py`\n\n## B\n\nIt took 4.2 s.\n", 1),
        ("## A\n\nTrain with `--lora_dropout 0.05` and `--save_shard_size 5GB`.\n", 0),
    ],
)
def test_a_figure_needs_a_command_beside_it(text, problems):
    assert len(check_commands(chunks(text))) == problems


@pytest.mark.skipif(not DATA.is_dir(), reason=f"shared GEC data not found at {DATA} (set GEC_DATA)")
def test_a_quoted_line_of_the_gec_data_is_checked(tmp_path):
    readme = README.read_text(encoding="utf-8")
    copy = tmp_path / "README.md"
    copy.write_text(readme.replace("line 6652 `A 19 202`", "line 6653 `A 19 202`"), encoding="utf-8")
    assert any("nlpcc18.gold.m2 line 6653" in p for p in check(copy, DATA))


def test_exit_codes(tmp_path, capsys):
    assert main(["--readme", str(README), "--data", str(DATA)]) == 0
    copy = tmp_path / "README.md"
    copy.write_text(README.read_text(encoding="utf-8").replace("SFT demo's 0.8977", "SFT demo's 0.1"))
    assert main(["--readme", str(copy), "--data", str(tmp_path / "none")]) == 1
    assert "the demo's row gives F0.5" in capsys.readouterr().out
    assert main(["--readme", str(tmp_path / "missing.md")]) == 2
