"""Tests for scripts/make_synthetic_gec.py: determinism, the bundled data, gold edits, rates, no leakage."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "make_synthetic_gec.py"
FILES = [
    "sample/train.jsonl",
    "sample/valid.jsonl",
    "sample/README.md",
    "eval/sample/source.txt",
    "eval/sample/target.txt",
    "eval/sample/gold.m2",
    "eval/sample/README.md",
]
# Small sizes keep the subprocess runs fast; the committed data is checked at full size once.
SMALL = ["--train-size", "300", "--valid-size", "50", "--test-size", "50"]


def _load_script():
    spec = importlib.util.spec_from_file_location("make_synthetic_gec", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolves string annotations through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_script()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gec")
    assert gen.main(["--out-dir", str(out)]) == 0
    return out


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _read_m2(path: Path) -> list[tuple[list[str], list[tuple[int, int, str, str]]]]:
    paragraphs = []
    for block in path.read_text(encoding="utf-8").strip("\n").split("\n\n"):
        lines = block.split("\n")
        assert lines[0].startswith("S ")
        edits = []
        for line in lines[1:]:
            span, etype, correction, required, comment, annotator = line[2:].split("|||")
            assert (required, comment, annotator) == ("REQUIRED", "-NONE-", "0")
            start, end = map(int, span.split())
            edits.append((start, end, etype, correction))
        paragraphs.append((lines[0][2:].split(" "), edits))
    return paragraphs


def apply_edits(source: list[str], edits: list[tuple[int, int, str, str]]) -> list[str]:
    tokens = list(source)
    # Right to left, so earlier offsets stay valid.
    for start, end, etype, correction in sorted(edits, reverse=True):
        if etype == "noop":
            assert (start, end, correction) == (-1, -1, "-NONE-")
            continue
        tokens[start:end] = [] if correction == "-NONE-" else correction.split(" ")
    return tokens


def test_deterministic_and_equal_to_bundled_data(generated: Path, tmp_path: Path) -> None:
    assert gen.main(["--out-dir", str(tmp_path)]) == 0
    for name in FILES:
        made = (generated / name).read_bytes()
        assert made == (tmp_path / name).read_bytes(), name
        assert made == (REPO / "data" / name).read_bytes(), f"data/{name} is stale: rerun the script"


def test_independent_of_hash_seed(tmp_path: Path) -> None:
    outputs = []
    for hash_seed in ["1", "2"]:
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, str(SCRIPT), "--out-dir", str(out), *SMALL],
            env=env,
            check=True,
            capture_output=True,
        )
        outputs.append([(out / name).read_bytes() for name in FILES])
    assert outputs[0] == outputs[1]


def test_test_split_does_not_depend_on_train_size(generated: Path, tmp_path: Path) -> None:
    assert gen.main(["--out-dir", str(tmp_path), "--train-size", "10"]) == 0
    for name in ["eval/sample/gold.m2", "sample/valid.jsonl"]:
        assert (tmp_path / name).read_bytes() == (generated / name).read_bytes()


def test_gold_edits_turn_source_into_target(generated: Path) -> None:
    eval_dir = generated / "eval" / "sample"
    paragraphs = _read_m2(eval_dir / "gold.m2")
    sources = (eval_dir / "source.txt").read_text(encoding="utf-8").splitlines()
    targets = (eval_dir / "target.txt").read_text(encoding="utf-8").splitlines()
    assert len(paragraphs) == len(sources) == len(targets) == 200
    for (source, edits), source_line, target_line in zip(paragraphs, sources, targets, strict=True):
        assert " ".join(source) == source_line
        assert " ".join(apply_edits(source, edits)) == target_line
        if edits[0][2] == "noop":
            assert len(edits) == 1 and source_line == target_line
        else:
            assert source_line != target_line


def test_error_rates_in_range(generated: Path) -> None:
    eval_dir = generated / "eval" / "sample"
    train = _read_jsonl(generated / "sample" / "train.jsonl")
    valid = _read_jsonl(generated / "sample" / "valid.jsonl")
    paragraphs = _read_m2(eval_dir / "gold.m2")
    assert (len(train), len(valid)) == (6000, 200)
    assert all(list(row) == ["source", "target"] for row in train + valid)

    for rows, low, high in [(train, 0.30, 0.40), (valid, 0.25, 0.45)]:
        unchanged = sum(row["source"] == row["target"] for row in rows) / len(rows)
        assert low <= unchanged <= high
    unchanged = sum(edits[0][2] == "noop" for _, edits in paragraphs) / len(paragraphs)
    assert 0.25 <= unchanged <= 0.45

    edited = [edits for _, edits in paragraphs if edits[0][2] != "noop"]
    assert all(1 <= len(edits) <= 2 for edits in edited)
    assert 1.1 <= sum(map(len, edited)) / len(edited) <= 1.5
    types = {etype for edits in edited for _, _, etype, _ in edits}
    assert {"R:SPELL", "R:VERB:SVA"} <= types <= set(gen.ERROR_WEIGHTS)

    lengths = [len(row["target"].split()) for row in train]
    assert min(lengths) >= gen.MIN_TOKENS and max(lengths) <= gen.MAX_TOKENS
    assert 6 <= sum(lengths) / len(lengths) <= 9
    assert len({w for row in train for w in row["target"].split()}) < 500


def test_no_test_sentence_in_train_or_valid(generated: Path) -> None:
    eval_dir = generated / "eval" / "sample"
    test = set((eval_dir / "source.txt").read_text(encoding="utf-8").splitlines())
    test |= set((eval_dir / "target.txt").read_text(encoding="utf-8").splitlines())
    for split in ["train", "valid"]:
        rows = _read_jsonl(generated / "sample" / f"{split}.jsonl")
        assert not test & {row["source"] for row in rows}, split
        assert not test & {row["target"] for row in rows}, split


def test_misspellings_have_one_correction() -> None:
    vocabulary = gen._vocabulary()
    table = gen.build_typo_table(vocabulary)
    typos = [typo for word in table for typo in table[word]]
    assert all(len(table[word]) == gen.TYPOS_PER_WORD for word in table)
    assert len(typos) == len(set(typos))
    assert not set(typos) & set(vocabulary)
