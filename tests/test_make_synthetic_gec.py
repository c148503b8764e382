"""Tests for scripts/make_synthetic_gec.py: determinism, the bundled data, gold edits, rates, no leakage.

English (the default) and Chinese (--lang zh) data sets.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from m2scorer import load_gold, score_files

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
ZH_FILES = [
    "sample_zh/train.jsonl",
    "sample_zh/valid.jsonl",
    "sample_zh/README.md",
    "eval/sample_zh/source.txt",
    "eval/sample_zh/target.txt",
    "eval/sample_zh/gold.m2",
    "eval/sample_zh/README.md",
    "eval/sample_zh/dataset.json",
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


@pytest.fixture(scope="module")
def generated_zh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gec_zh")
    assert gen.main(["--lang", "zh", "--out-dir", str(out)]) == 0
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


@pytest.mark.parametrize("lang, files", [("en", FILES), ("zh", ZH_FILES)])
def test_independent_of_hash_seed(tmp_path: Path, lang: str, files: list[str]) -> None:
    outputs = []
    for hash_seed in ["1", "2"]:
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, str(SCRIPT), "--lang", lang, "--out-dir", str(out), *SMALL],
            env=env,
            check=True,
            capture_output=True,
        )
        outputs.append([(out / name).read_bytes() for name in files])
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


# --- Chinese (--lang zh) ---


def test_zh_deterministic_and_equal_to_bundled_data(generated_zh: Path, tmp_path: Path) -> None:
    assert gen.main(["--lang", "zh", "--out-dir", str(tmp_path)]) == 0
    for name in ZH_FILES:
        made = (generated_zh / name).read_bytes()
        assert made == (tmp_path / name).read_bytes(), name
        assert made == (REPO / "data" / name).read_bytes(), f"data/{name} is stale: rerun the script"


def test_zh_gold_edits_turn_source_into_target(generated_zh: Path) -> None:
    eval_dir = generated_zh / "eval" / "sample_zh"
    paragraphs = _read_m2(eval_dir / "gold.m2")
    sources = (eval_dir / "source.txt").read_text(encoding="utf-8").splitlines()
    targets = (eval_dir / "target.txt").read_text(encoding="utf-8").splitlines()
    assert len(paragraphs) == len(sources) == len(targets) == 200
    for (words, edits), source_line, target_line in zip(paragraphs, sources, targets, strict=True):
        # Segmented gold, unsegmented model input and output.
        assert "".join(words) == source_line and " " not in source_line + target_line
        assert "".join(apply_edits(words, edits)) == target_line
        assert (source_line == target_line) == (not edits)  # NLPCC style: no noop line
    # The same edits re-expressed in characters, as the char-level scorer reads them.
    for sentence, target_line in zip(load_gold(eval_dir / "gold.m2", char_level=True), targets, strict=True):
        chars = sentence.source.split()
        for start, end, _, corrections in sorted(sentence.edits.get(0, []), reverse=True):
            chars[start:end] = corrections[0].split()
        assert "".join(chars) == target_line


def test_zh_char_level_scores_of_target_and_source(generated_zh: Path) -> None:
    eval_dir = generated_zh / "eval" / "sample_zh"
    perfect = score_files(eval_dir / "target.txt", eval_dir / "gold.m2", char_level=True)
    assert (perfect.precision, perfect.recall, perfect.f) == (1.0, 1.0, 1.0)
    unchanged = score_files(eval_dir / "source.txt", eval_dir / "gold.m2", char_level=True)
    assert unchanged.proposed == 0 and unchanged.recall == 0.0
    assert json.loads((eval_dir / "dataset.json").read_text(encoding="utf-8"))["char_level"] is True


def test_zh_sizes_rates_and_types(generated_zh: Path) -> None:
    train = _read_jsonl(generated_zh / "sample_zh" / "train.jsonl")
    valid = _read_jsonl(generated_zh / "sample_zh" / "valid.jsonl")
    assert (len(train), len(valid)) == (3000, 200)
    assert all(list(row) == ["source", "target"] for row in train + valid)
    assert not any(" " in row["source"] + row["target"] for row in train + valid)
    unchanged = sum(row["source"] == row["target"] for row in train) / len(train)
    assert 0.30 <= unchanged <= 0.40
    lengths = [len(row["target"]) for row in train]
    assert min(lengths) >= gen.ZH_MIN_CHARS and max(lengths) <= gen.ZH_MAX_CHARS
    paragraphs = _read_m2(generated_zh / "eval" / "sample_zh" / "gold.m2")
    types = [etype for _, edits in paragraphs for _, _, etype, _ in edits]
    assert set(types) == {"S", "M", "R"}
    assert types.count("S") > types.count("M") > types.count("R")


def test_zh_no_test_sentence_in_train_and_no_wrong_sentence_is_right(generated_zh: Path) -> None:
    eval_dir = generated_zh / "eval" / "sample_zh"
    test_sources = (eval_dir / "source.txt").read_text(encoding="utf-8").splitlines()
    test_targets = (eval_dir / "target.txt").read_text(encoding="utf-8").splitlines()
    rows = _read_jsonl(generated_zh / "sample_zh" / "train.jsonl")
    rows += _read_jsonl(generated_zh / "sample_zh" / "valid.jsonl")
    test = set(test_sources + test_targets)
    assert not test & {row["source"] for row in rows}
    assert not test & {row["target"] for row in rows}
    # A corrupted sentence is never another example's correct sentence: each source has one correction.
    pairs = [(row["source"], row["target"]) for row in rows]
    pairs += list(zip(test_sources, test_targets, strict=True))
    wrong = {source for source, target in pairs if source != target}
    assert not wrong & {target for _, target in pairs}


def test_zh_confusions_are_other_characters() -> None:
    for char, confusions in gen.ZH_CONFUSIONS.items():
        assert len(char) == 1 and confusions and char not in confusions
