"""train.sh: environment variables map to finetune.py flags; the embedded demo runs end to end."""

import os
import shlex

import pytest

from conftest import REPO, free_port, run_command


def train_sh(env, *args, check=True):
    result = run_command(["bash", str(REPO / "train.sh"), *args], 900, cwd=REPO, env={**os.environ, **env})
    if check and result.returncode != 0:
        pytest.fail(
            f"train.sh failed ({result.returncode}):\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
        )
    return result


def flag(command, name):
    return command[command.index(name) + 1]


def test_dry_run_maps_every_variable(tmp_path):
    (tmp_path / "ckpts" / "google_flan_t5_xl").mkdir(parents=True)
    (tmp_path / "data" / "v1").mkdir(parents=True)
    (tmp_path / "data" / "v1" / "train.jsonl").write_text('{"source": "a", "target": "b"}\n')
    (tmp_path / "data" / "v1" / "valid.jsonl").write_text('{"source": "a", "target": "b"}\n')
    env = dict(
        DRY_RUN="1",
        MODEL_NAME="google_flan_t5_xl",
        CKPT_ROOT=str(tmp_path / "ckpts"),
        DATA_VER="v1",
        DATA_ROOT=str(tmp_path / "data"),
        OUTPUT_ROOT=str(tmp_path / "out"),
        RESULT_DIR="run1",
        BATCH="4",
        GRADIENT_ACCUMULATION_STEPS="2",
        TRAIN_STEPS="30",
        SAVE_STEPS="10",
        LR="5e-5",
        FRAMEWORK="seq2seq",
        DS_CONFIG="ds_configs/zero3.json",
        NUM_GPUS="2",
        MASTER_PORT="29555",
        MORE_PARA="--bf16 --prompt_template flan",
    )
    command = shlex.split(train_sh(env, "--save_total_limit", "2").stdout)

    assert command[0] == "deepspeed"
    assert flag(command, "--num_gpus") == "2" and flag(command, "--master_port") == "29555"
    assert flag(command, "--model_name_or_path") == str(tmp_path / "ckpts" / "google_flan_t5_xl")
    assert flag(command, "--train_file") == str(tmp_path / "data" / "v1" / "train.jsonl")
    assert flag(command, "--validation_file") == str(tmp_path / "data" / "v1" / "valid.jsonl")
    assert flag(command, "--output_dir") == str(tmp_path / "out" / "run1")
    assert flag(command, "--per_device_train_batch_size") == "4"
    assert flag(command, "--gradient_accumulation_steps") == "2"
    assert flag(command, "--max_steps") == "30" and flag(command, "--save_steps") == "10"
    assert flag(command, "--learning_rate") == "5e-5" and flag(command, "--framework") == "seq2seq"
    assert flag(command, "--deepspeed") == "ds_configs/zero3.json"
    assert flag(command, "--prompt_template") == "flan" and "--bf16" in command
    # Extra arguments come last, so they override what train.sh set.
    assert command[-2:] == ["--save_total_limit", "2"]
    assert not (tmp_path / "out").exists(), "a dry run must not write anything"


def test_model_name_falls_back_to_a_path_then_a_hub_id(tmp_path):
    env = dict(DRY_RUN="1", CKPT_ROOT=str(tmp_path), OUTPUT_ROOT=str(tmp_path / "out"))
    command = shlex.split(train_sh({**env, "MODEL_NAME": "org/some-model"}).stdout)
    assert flag(command, "--model_name_or_path") == "org/some-model"
    assert flag(command, "--output_dir") == str(tmp_path / "out" / "org_some-model-sample")


def test_hostfile_replaces_num_gpus(tmp_path):
    hostfile = tmp_path / "hosts"
    hostfile.write_text("node1 slots=8\nnode2 slots=8\n")
    command = shlex.split(train_sh(dict(DRY_RUN="1", MODEL_NAME="gpt2", HOSTFILE=str(hostfile))).stdout)
    assert flag(command, "--hostfile") == str(hostfile) and "--num_gpus" not in command


@pytest.mark.parametrize(
    "more_para, words",
    [
        ("--bf16 --run_name 'lang8 base'", ["--bf16", "--run_name", "lang8 base"]),
        ("--run_name \"a  b\" --x='c d' e\\ f", ["--run_name", "a  b", "--x=c d", "e f"]),
        ("  --a\tit\\'s  ", ["--a", "it's"]),
        # Split, never run: a command substitution stays two words of text.
        ("--run_name $(touch pwned) `touch pwned`", ["--run_name", "$(touch", "pwned)", "`touch", "pwned`"]),
        ("", []),
    ],
)
def test_more_para_is_split_as_the_shell_splits_words(tmp_path, more_para, words):
    env = dict(DRY_RUN="1", MODEL_NAME="gpt2", OUTPUT_ROOT=str(tmp_path), MORE_PARA=more_para)
    result = run_command(
        ["bash", str(REPO / "train.sh"), "--last"], 60, cwd=tmp_path, env={**os.environ, **env}
    )
    assert result.returncode == 0, result.stderr
    command = shlex.split(result.stdout)
    # MORE_PARA's words come just before train.sh's own arguments.
    assert command[len(command) - 1 - len(words) :] == [*words, "--last"]
    assert command[-2 - len(words)] in ("--use_cpu", "500")  # what train.sh set before them
    assert not (tmp_path / "pwned").exists()


def test_more_para_with_an_open_quote_is_a_clear_error():
    result = train_sh(dict(DRY_RUN="1", MODEL_NAME="gpt2", MORE_PARA="--run_name 'lang8 base"), check=False)
    assert result.returncode == 2
    assert 'MORE_PARA="--run_name \'lang8 base": No closing quotation' in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_missing_data_version_is_a_clear_error(tmp_path):
    result = train_sh(dict(MODEL_NAME="gpt2", DATA_VER="nope", DATA_ROOT=str(tmp_path)), check=False)
    assert result.returncode == 2 and f"no training data at {tmp_path}/nope/train.jsonl" in result.stderr


@pytest.mark.slow
def test_demo_trains_saves_checkpoints_and_scores(tmp_path):
    result = train_sh(
        dict(OUTPUT_ROOT=str(tmp_path), TRAIN_STEPS="20", SAVE_STEPS="10", MASTER_PORT=str(free_port()))
    )
    run = tmp_path / "tiny-llama-sample"
    assert (run / "checkpoint-10" / "model.safetensors").is_file()
    assert (run / "checkpoint-20" / "model.safetensors").is_file()
    predictions = (run / "generated_predictions.txt").read_text(encoding="utf-8").splitlines()
    sources = (REPO / "data" / "eval" / "sample" / "source.txt").read_text(encoding="utf-8").splitlines()
    assert len(predictions) == len(sources)
    assert "F_0.5" in result.stdout and f"checkpoints: {run}/checkpoint-<step>" in result.stdout
