"""A model or tokenizer that cannot be loaded stops finetune.py with a message naming the file and the fix
(exit 2), before any data is tokenised or weight is read."""

import shutil
from functools import partial

import pytest
import transformers
from huggingface_hub import constants

import finetune
from conftest import SAMPLE, assert_fails_cleanly
from ftkit.modeling import ModelLoadError, check_path_exists, load_config

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


# ---- A name meant as a folder that does not exist: refused at once, with the nearest names ----


@pytest.fixture
def beside_outputs(tmp_path, monkeypatch):
    """A working folder holding outputs/tiny-llama-sample and outputs/cache, online unless a test says."""
    for name in ("tiny-llama-sample", "cache"):
        (tmp_path / "outputs" / name).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return tmp_path


@pytest.mark.parametrize(
    "name",
    ["outputs/tiny-lama-sample", "./outputs/tiny-lama-sample", "outputs/tiny-lama-sample/checkpoint-5"],
)
def test_typo_in_a_relative_folder_is_refused_without_asking_the_hub(beside_outputs, monkeypatch, name):
    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", lambda *a, **k: pytest.fail("hub asked"))
    with pytest.raises(ModelLoadError, match=f"model path {name} does not exist: no such folder") as e:
        load_config(name)
    assert "Nearest existing: outputs/tiny-llama-sample." in str(e.value)


def test_finetune_names_the_nearest_folder_for_a_typo(beside_outputs, run_dir, capsys):
    fails_cleanly(
        train_args("outputs/tiny-lama-sample", run_dir),
        run_dir,
        capsys,
        "model path outputs/tiny-lama-sample does not exist: no such folder",
        "Nearest existing: outputs/tiny-llama-sample",
    )


def test_hub_ids_are_left_to_the_hub_when_online(beside_outputs):
    # "org" is no folder here, so org/name is a hub id; the hub (not this check) answers for it.
    for name in ("gpt2", "org/name"):
        check_path_exists(name, "model path", "config.json", "")


def test_offline_any_name_is_a_folder_unless_the_hub_cache_holds_it(beside_outputs, monkeypatch):
    cache = beside_outputs / "hub"
    snapshot = cache / "models--org--cached" / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (cache / "models--org--cached" / "refs").mkdir()
    (cache / "models--org--cached" / "refs" / "main").write_text("0123abc")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    check_path_exists("org/cached", "model path", "config.json", "")
    with pytest.raises(ModelLoadError, match="no such folder, and HF_HUB_OFFLINE is set") as e:
        check_path_exists("org/cachd", "model path", "config.json", "")
    assert "Nearest existing: org/cached." in str(e.value)
    with pytest.raises(ModelLoadError, match="Nearest existing: outputs.") as e:
        check_path_exists("output", "model path", "config.json", "")
