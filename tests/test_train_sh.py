"""train.sh: environment variables map to finetune.py flags; the embedded demo runs end to end."""

import json
import os
import shlex
import shutil

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


def test_run_folder_is_named_after_a_local_model_folder(tmp_path):
    (tmp_path / "outputs" / "tiny-llama-sample").mkdir(parents=True)
    (tmp_path / "data" / "preference_sample").mkdir(parents=True)
    (tmp_path / "data" / "preference_sample" / "train.jsonl").write_text("{}\n")
    env = dict(DRY_RUN="1", CKPT_ROOT=str(tmp_path / "ckpts"), OUTPUT_ROOT=str(tmp_path / "out"))
    env.update(STAGE="dpo", DATA_ROOT=str(tmp_path / "data"), DATA_VER="preference_sample")
    for name in (
        "outputs/tiny-llama-sample",
        "./outputs/tiny-llama-sample/",
        str(tmp_path / "outputs/tiny-llama-sample"),
    ):
        result = run_command(
            ["bash", str(REPO / "train.sh")], 60, cwd=tmp_path, env={**os.environ, **env, "MODEL_NAME": name}
        )
        assert result.returncode == 0 and result.stderr == "", result.stderr
        command = shlex.split(result.stdout)
        assert flag(command, "--model_name_or_path") == name
        assert flag(command, "--output_dir") == str(
            tmp_path / "out" / "tiny-llama-sample-preference_sample-dpo"
        )


@pytest.mark.parametrize(
    "name, warning",
    [
        ("google_flan_t5_xl", "no hub id; a hub id is org/name, e.g. google/flan-t5-xl"),
        ("outputs/tiny-lama-sample", "MODEL_NAME=outputs/tiny-lama-sample: no such folder"),
        ("./tiny-llama", "MODEL_NAME=./tiny-llama: no such folder"),
        ("gpt2", None),
        ("google/flan-t5-xl", None),
        ("no-such-org/model", None),
    ],
)
def test_dry_run_warns_of_a_model_name_that_is_no_folder_or_hub_id(tmp_path, name, warning):
    (tmp_path / "outputs").mkdir()
    env = dict(DRY_RUN="1", MODEL_NAME=name, CKPT_ROOT=str(tmp_path / "ckpts"), OUTPUT_ROOT=str(tmp_path))
    result = run_command(["bash", str(REPO / "train.sh")], 60, cwd=tmp_path, env={**os.environ, **env})
    assert result.returncode == 0 and flag(shlex.split(result.stdout), "--model_name_or_path") == name
    if warning is None:
        assert result.stderr == ""
    else:
        assert result.stderr.startswith("train.sh: warning: ") and warning in result.stderr


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
    predictions = (run / "checkpoint-20" / "predictions" / "sample.txt").read_text(encoding="utf-8")
    sources = (REPO / "data" / "eval" / "sample" / "source.txt").read_text(encoding="utf-8").splitlines()
    assert len(predictions.splitlines()) == len(sources)
    assert f"checkpoints: {run}/checkpoint-<step>" in result.stdout
    assert "| 20 | sample | m2 | 200 |" in result.stdout  # eval_gec.sh's table
    assert f"RESULT_DIR={run} standard_eval_datasets all" in result.stdout


@pytest.mark.slow
def test_a_data_version_with_a_test_set_is_scored_with_its_metric(tiny_model, tmp_path):
    # DATA_VER=zh with data/eval/zh, scored on characters as its dataset.json says (sample_zh's first rows).
    data = tmp_path / "data"
    (data / "zh").mkdir(parents=True)
    rows = (REPO / "data" / "sample_zh" / "train.jsonl").read_text(encoding="utf-8").splitlines()[:64]
    (data / "zh" / "train.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    shutil.copytree(REPO / "data" / "eval" / "sample_zh", data / "eval" / "zh")
    for name, keep in (("source.txt", "\n"), ("gold.m2", "\n\n")):
        path = data / "eval" / "zh" / name
        path.write_text(keep.join(path.read_text(encoding="utf-8").split(keep)[:5]) + keep, encoding="utf-8")
    env = dict(MODEL_NAME=str(tiny_model("llama")), RESULT_DIR="zh-run", DATA_ROOT=str(data), DATA_VER="zh")
    env.update(OUTPUT_ROOT=str(tmp_path / "out"), TRAIN_STEPS="2", SAVE_STEPS="2", BATCH="4")
    result = train_sh({**env, "MAX_NEW_TOKENS": "8", "MASTER_PORT": str(free_port())})
    run = tmp_path / "out" / "zh-run"
    assert "| 2 | zh | m2_char | 5 |" in result.stdout
    assert (run / "eval_results.tsv").is_file()
    assert f"RESULT_DIR={run} standard_eval_datasets all" in result.stdout


@pytest.mark.slow
def test_a_signal_to_the_whole_job_checkpoints_and_exits_75(tiny_model, tmp_path, monkeypatch):
    """Ctrl-C or SLURM's scancel signals every process, the deepspeed launcher's too: the launcher exits 1
    after the rank has checkpointed, and train.sh says 75 (resume), as a signal to the ranks alone gives."""
    import signal
    import time

    from chaos_train import Launch

    env = dict(MODEL_NAME=str(tiny_model("llama")), OUTPUT_ROOT=str(tmp_path), RESULT_DIR="run")
    env.update(TRAIN_STEPS="500", SAVE_STEPS="1000", BATCH="4", MASTER_PORT=str(free_port()))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    launch = Launch(["bash", str(REPO / "train.sh")], tmp_path / "launch.log", timeout_s=600)
    try:
        deadline = time.monotonic() + 300
        while sum("'loss':" in line for line in launch.lines) < 3:
            assert launch.running() and time.monotonic() < deadline, "".join(launch.lines[-50:])
            time.sleep(0.05)
        os.killpg(launch.process.pid, signal.SIGTERM)
        assert launch.wait(timeout=300) == 75, "".join(launch.lines[-50:])
    finally:
        launch.kill()
    output = "".join(launch.lines)
    record = json.loads((tmp_path / "run" / "stopped_by_signal.json").read_text())
    assert (tmp_path / "run" / record["checkpoint"] / "checkpoint_complete.json").is_file()
    assert f"stopped on a signal with a checkpoint ({json.dumps(record)})" in output
