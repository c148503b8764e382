"""--trust_remote_code: a checkpoint whose config needs its own code loads only when asked."""

import json

import pytest

import finetune
from conftest import SAMPLE
from ftkit.modeling import ModelLoadError, load_config

CONFIG_CODE = """\
from pathlib import Path

from transformers import PretrainedConfig

Path({marker!r}).write_text("ran")


class TinyRemoteConfig(PretrainedConfig):
    model_type = "tiny_remote"
"""


@pytest.fixture
def remote_code_model(tmp_path):
    """A folder whose config.json maps AutoConfig to a .py file beside it, which leaves a marker when run."""
    folder = tmp_path / "remote-model"
    folder.mkdir()
    marker = tmp_path / "code-ran"
    (folder / "configuration_tiny_remote.py").write_text(CONFIG_CODE.format(marker=str(marker)))
    config = {
        "model_type": "tiny_remote",
        "auto_map": {"AutoConfig": "configuration_tiny_remote.TinyRemoteConfig"},
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder, marker


def test_remote_code_is_refused_without_the_flag_and_never_run(remote_code_model):
    folder, marker = remote_code_model
    with pytest.raises(ModelLoadError) as raised:
        load_config(str(folder))
    message = str(raised.value)
    assert "--trust_remote_code" in message
    assert "runs with your permissions" in message
    assert not marker.exists()


def test_remote_code_runs_with_the_flag(remote_code_model):
    folder, marker = remote_code_model
    config = load_config(str(folder), trust_remote_code=True)
    assert type(config).__name__ == "TinyRemoteConfig"
    assert marker.read_text() == "ran"


def test_finetune_explains_the_risk_and_exits_2(remote_code_model, tmp_path, capsys):
    folder, marker = remote_code_model
    argv = [
        "--model_name_or_path", str(folder), "--train_file", str(SAMPLE / "train.jsonl"),
        "--output_dir", str(tmp_path / "run"), "--do_train", "--use_cpu",
    ]  # fmt: skip
    assert finetune.main(argv) == 2
    err = capsys.readouterr().err
    assert "needs its own Python code to load" in err and "--trust_remote_code" in err
    assert "Traceback" not in err
    assert not marker.exists()


def test_remote_family_ships_its_code_and_needs_the_flag(tiny_model, tmp_path, capsys):
    folder = tiny_model("remote")
    config = json.loads((folder / "config.json").read_text())
    assert config["auto_map"]["AutoModelForCausalLM"] == "tiny_glm.TinyGLMForCausalLM"
    assert (folder / "tiny_glm.py").is_file()
    argv = [
        "--model_name_or_path", str(folder), "--train_file", str(SAMPLE / "train.jsonl"),
        "--output_dir", str(tmp_path / "run"), "--do_train", "--use_cpu", "--max_steps", "1",
    ]  # fmt: skip
    assert finetune.main(argv) == 2
    assert "--trust_remote_code" in capsys.readouterr().err
    assert finetune.main([*argv, "--trust_remote_code"]) == 0
    # The saved model carries the code it needs.
    assert (tmp_path / "run" / "tiny_glm.py").is_file()
