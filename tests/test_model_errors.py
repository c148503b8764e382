"""A model or tokenizer that cannot be loaded stops finetune.py with a message naming the file and the fix
(exit 2), before any data is tokenised or weight is read."""

import shutil
from functools import partial

import pytest

import finetune
from conftest import SAMPLE, assert_fails_cleanly

fails_cleanly = partial(assert_fails_cleanly, finetune.main)


def train_args(model, run_dir, *extra):
    return [
        "--model_name_or_path", str(model), "--train_file", str(SAMPLE / "train.jsonl"),
        "--output_dir", str(run_dir), "--do_train", "--max_steps", "1", "--use_cpu", *extra,
    ]  # fmt: skip


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_model("llama"), folder)
    return folder


def test_folder_without_tokenizer_files(model_copy, run_dir, capsys):
    for file in model_copy.iterdir():
        if file.name.startswith(("tokenizer", "special_tokens")):
            file.unlink()
    fails_cleanly(
        train_args(model_copy, run_dir),
        run_dir,
        capsys,
        f"{model_copy} has no tokenizer files",
        "--tokenizer_name",
    )


@pytest.mark.parametrize(
    "name, message",
    [
        ("/no/such/tokenizer", "tokenizer path /no/such/tokenizer does not exist"),
        ("no-org/no-model", "no-org/no-model"),
    ],
)
def test_bad_tokenizer_name(model_copy, run_dir, capsys, name, message):
    fails_cleanly(
        train_args(model_copy, run_dir, "--tokenizer_name", name),
        run_dir,
        capsys,
        message,
        "--tokenizer_name",
    )


@pytest.mark.parametrize(
    "size, problem",
    [(0, "empty or cut short (0 bytes)"), (100, "cut short inside its header"), (-1000, "cut short:")],
)
def test_broken_safetensors_is_named(model_copy, run_dir, capsys, monkeypatch, size, problem):
    weights = model_copy / "model.safetensors"
    with weights.open("r+b") as f:
        f.truncate(size if size >= 0 else weights.stat().st_size + size)
    # Before the data is read: a broken checkpoint costs no tokenising.
    monkeypatch.setattr(finetune, "load_dataset_file", lambda *a: pytest.fail("data read before the check"))
    fails_cleanly(
        train_args(model_copy, run_dir), run_dir, capsys, f"weights file {weights} is {problem}", "copy"
    )


def test_shard_named_by_the_index_but_missing(model_copy, run_dir, capsys):
    (model_copy / "model.safetensors.index.json").write_text(
        '{"metadata": {}, "weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors"}}'
    )
    fails_cleanly(
        train_args(model_copy, run_dir), run_dir, capsys, "model-00002-of-00002.safetensors is missing"
    )
