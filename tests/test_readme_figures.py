"""scripts/check_readme.py: the README's figures agree with the files and code they come from, and the check
fails when one of them is changed."""

import os
import re
from pathlib import Path

import pytest
from check_readme import check, check_commands, chunks, main

from conftest import REPO

README = REPO / "README.md"
DATA = Path(os.environ.get("GEC_DATA", REPO.parent / "shared" / "gec-data"))


def test_the_readme_figures_agree_with_their_sources():
    assert check(README, DATA) == []


# (a figure in the README: a pattern whose group is the figure, what the problem says when it changes).
# Patterns, not the figures themselves: a re-measured demo or ERRANT row must not break this test.
FIGURES = [
    (r"\| ZeRO-2 \| ([\d.]+) GiB \|", "ZeRO-2: README"),
    (r"(\d+) GiB for 7B", "GiB for 7B: the script gives"),
    (r"`python -m m2scorer out.txt gold.m2` gives ([\d.]+)", "3.2: README"),
    (
        r"`python -m m2scorer --compat master out.txt gold.m2` gives [\d.]+ / [\d.]+ / ([\d.]+)",
        "master: README",
    ),
    (
        r"`derived/nlpcc18.gold0_applied.txt` \| `nlpcc18/nlpcc18.gold.m2` \| ([\d.]+)",
        "nlpcc18.gold0_applied",
    ),
    (r"(\d+) of the \d+ pairs in all", "the reference tables give"),
    (r"(\d+) of the \d+ BEA-dev system outputs", "the reference tables give"),
    (r"`Precision +: ([\d.]+)`", "OFFICIAL gives"),
    (r"\| T5-11B \| (\d+) \|", "T5-11B: table"),
    (r"SFT demo's ([\d.]+)", "the demo's row gives F0.5"),
    (r"every (\d+) s, the sentences done", "ftkit/training.py has"),
]


def other_figure(figure: str) -> str:
    """The figure with its last digit changed (0.8977 -> 0.8978, 11.9 -> 11.0)."""
    return figure[:-1] + str((int(figure[-1]) + 1) % 10)


@pytest.mark.parametrize(("pattern", "problem"), FIGURES, ids=[f[1][:30] for f in FIGURES])
def test_a_changed_figure_is_reported_at_its_line(tmp_path, pattern, problem):
    readme = README.read_text(encoding="utf-8")
    found = list(re.finditer(pattern, readme))
    assert len(found) == 1, f"{pattern!r} matches the README {len(found)} times: update this test"
    start, end = found[0].span(1)
    copy = tmp_path / "README.md"
    copy.write_text(readme[:start] + other_figure(found[0][1]) + readme[end:], encoding="utf-8")
    line = readme.count("\n", 0, start) + 1
    problems = check(copy, None)
    assert [p for p in problems if p.startswith(f"README.md:{line}: ") and problem in p], problems


def test_a_figure_without_a_command_is_reported(tmp_path):
    readme = README.read_text(encoding="utf-8")
    heading = "\n## Where things go\n"
    copy = tmp_path / "README.md"
    copy.write_text(readme.replace(heading, heading + "\nA 7B model loads in 42.0 s.\n"), encoding="utf-8")
    line = readme.count("\n", 0, readme.index(heading)) + 4  # the heading, a blank line, the paragraph
    assert f"README.md:{line}: 42.0 s: no command beside these figures" in check(copy, None)


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
    copy.write_text(re.sub(r"SFT demo's 0\.\d+", "SFT demo's 0.1", README.read_text(encoding="utf-8")))
    assert main(["--readme", str(copy), "--data", str(tmp_path / "none")]) == 1
    assert "the demo's row gives F0.5" in capsys.readouterr().out
    assert main(["--readme", str(tmp_path / "missing.md")]) == 2
