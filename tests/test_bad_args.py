"""Bad flags and argument files (ftkit.args) stop both training entry points before the model loads: exit
status 2, a message naming the flag or file and the fix, no traceback, the run folder untouched.

The model path does not exist, so a case that got as far as loading would fail with another message.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

import finetune
import preference_tune
from conftest import REPO, SAMPLE, assert_fails_cleanly
from ftkit.args import LAUNCHER_ENV, ConfigurationError, check_deepspeed, parse_args

MODEL = "no-such-model"
ZERO2 = str(REPO / "ds_configs" / "zero2.json")

# (flags, key words of the message): the same for finetune.py and preference_tune.py.
SHARED_CASES = [
    (["--max_train_samples", "-19"], ["--max_train_samples -19", "at least 1", "leave it out for all"]),
    (["--max_eval_samples", "0"], ["--max_eval_samples 0", "at least 1"]),
    (["--max_source_length", "0"], ["--max_source_length 0", "at least 1"]),
    (["--max_target_length", "-1"], ["--max_target_length -1", "at least 1"]),
    (["--max_steps", "0"], ["--max_steps 0", "at least 1", "--num_train_epochs"]),
    (["--max_steps", "-5"], ["--max_steps -5", "leave it out (-1)"]),
    (["--max_steps", "-1", "--num_train_epochs", "0"], ["--num_train_epochs 0", "more than 0"]),
    (["--per_device_train_batch_size", "0"], ["--per_device_train_batch_size 0", "at least 1"]),
    (["--per_device_eval_batch_size", "-2"], ["--per_device_eval_batch_size -2", "at least 1"]),
    (["--gradient_accumulation_steps", "0"], ["--gradient_accumulation_steps 0", "at least 1"]),
    (["--save_steps", "0"], ["--save_steps 0", "above 0"]),
    (["--logging_steps", "-3"], ["--logging_steps -3", "above 0"]),
    (["--learning_rate=-0.5"], ["--learning_rate -0.5", "0 or more"]),
    (["--max_non_finite_steps", "0"], ["--max_non_finite_steps 0", "at least 1"]),
    (["--bf16", "true", "--fp16", "true"], ["--bf16 and --fp16 together", "pick one"]),
    # transformers' own check in TrainingArguments, as a message
    (["--warmup_steps", "-1"], ["warmup_steps >= 0"]),
]
FINETUNE_CASES = [
    (["--max_predict_samples", "0"], ["--max_predict_samples 0", "at least 1"]),
    (["--preprocessing_num_workers", "0"], ["--preprocessing_num_workers 0", "at least 1"]),
    (["--generation_num_beams", "0"], ["--generation_num_beams 0", "1 is greedy"]),
    (["--generation_max_length", "0"], ["--generation_max_length 0", "at least 1"]),
    (["--lora_r", "0"], ["--lora_r 0", "at least 1"]),
    (["--num_virtual_tokens", "0"], ["--num_virtual_tokens 0", "at least 1"]),
]


def finetune_args(run_dir, *extra):
    return [
        "--model_name_or_path",
        MODEL,
        "--train_file",
        str(SAMPLE / "train.jsonl"),
        "--output_dir",
        str(run_dir),
        "--do_train",
        "--use_cpu",
        *extra,
    ]


def dpo_args(run_dir, *extra):
    return ["--stage", "dpo", *finetune_args(run_dir, *extra)]


ENTRY_POINTS = {"finetune": (finetune.main, finetune_args), "dpo": (preference_tune.main, dpo_args)}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("flags, messages", SHARED_CASES, ids=[" ".join(c[0]) for c in SHARED_CASES])
def test_bad_value_of_a_shared_flag(entry, flags, messages, run_dir, capsys):
    main, build = ENTRY_POINTS[entry]
    assert_fails_cleanly(main, build(run_dir, *flags), run_dir, capsys, *messages)


@pytest.mark.parametrize("flags, messages", FINETUNE_CASES, ids=[" ".join(c[0]) for c in FINETUNE_CASES])
def test_bad_value_of_a_finetune_flag(flags, messages, run_dir, capsys):
    assert_fails_cleanly(finetune.main, finetune_args(run_dir, *flags), run_dir, capsys, *messages)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_output_dir_that_is_a_file(entry, run_dir, capsys):
    main, build = ENTRY_POINTS[entry]
    args = build(run_dir / "keep.txt")
    assert_fails_cleanly(main, args, run_dir, capsys, "keep.txt is a file, not a folder", "give a new folder")


def test_predictions_file_that_is_a_folder(run_dir, capsys):
    args = finetune_args(run_dir, "--do_predict", "--test_file", str(SAMPLE / "train.jsonl"))
    assert_fails_cleanly(
        finetune.main,
        args + ["--predictions_file", str(run_dir)],
        run_dir,
        capsys,
        f"--predictions_file {run_dir} is a folder",
        "generated_predictions.txt",
    )


@pytest.fixture
def launched(monkeypatch):
    """The environment the deepspeed launcher gives a rank."""
    for name, value in zip(LAUNCHER_ENV, ("0", "0", "1", "127.0.0.1", "29500"), strict=True):
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_missing_or_malformed_deepspeed_config(entry, tmp_path, run_dir, capsys, launched):
    main, build = ENTRY_POINTS[entry]
    missing = tmp_path / "zero9.json"
    assert_fails_cleanly(
        main,
        build(run_dir, "--deepspeed", str(missing)),
        run_dir,
        capsys,
        f"{missing}: no such file",
        "zero2",
    )
    malformed = tmp_path / "ds.json"
    malformed.write_text('{\n  "zero_optimization": {"stage": 2,}\n}\n')
    assert_fails_cleanly(
        main,
        build(run_dir, "--deepspeed", str(malformed)),
        run_dir,
        capsys,
        f"{malformed}:2:36: not valid JSON",
        "one JSON object",
    )


@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is not None, reason="with mpi4py DeepSpeed finds MPI")
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_deepspeed_without_the_launcher_stops_at_once(entry, run_dir, capsys, monkeypatch):
    """Without the launcher's environment DeepSpeed looks for MPI, after building its ops (minutes with an
    offload config, which builds cpu_adam), and fails on the missing mpi4py."""
    for name in LAUNCHER_ENV:
        monkeypatch.delenv(name, raising=False)
    main, build = ENTRY_POINTS[entry]
    offload = str(REPO / "ds_configs" / "zero2_offload.json")
    assert_fails_cleanly(
        main,
        build(run_dir, "--deepspeed", offload),
        run_dir,
        capsys,
        "--deepspeed without a launcher",
        "RANK, LOCAL_RANK, WORLD_SIZE",
        "deepspeed --num_gpus 1",
    )


def test_a_launched_rank_with_a_good_config_passes(launched):
    check_deepspeed(ZERO2)
    check_deepspeed(json.loads((REPO / "ds_configs" / "zero2.json").read_text()))


@pytest.mark.parametrize(
    "given", ["--lora_target_modules q_proj,v_proj", "--lora-target-modules=q_proj,v_proj", "file"]
)
def test_the_old_name_of_a_renamed_flag_names_the_new_one(given, tmp_path, run_dir, capsys):
    argv = dpo_args(run_dir, *given.split())
    if given == "file":
        path = tmp_path / "args.json"
        path.write_text(json.dumps({**GOOD, "stage": "dpo", "lora_target_modules": "q_proj,v_proj"}))
        argv = [str(path)]
    assert_fails_cleanly(
        preference_tune.main, argv, run_dir, capsys, "--lora_target_modules is now --lora_target"
    )


# ---- An arguments .json file instead of flags ----

GOOD = {
    "model_name_or_path": MODEL,
    "train_file": str(SAMPLE / "train.jsonl"),
    "do_train": True,
    "use_cpu": True,
}


@pytest.mark.parametrize(
    "text, messages",
    [
        ('{\n  "max_steps": 5,\n  "do_train" true\n}', ["args.json:3:14: not valid JSON", "Expecting ':'"]),
        ('["--max_steps", "5"]', ["args.json: the arguments file takes one JSON object, not a list"]),
        (json.dumps({**GOOD, "max_stpes": 5, "lr": 1}), ["unknown keys lr, max_stpes", "flag name"]),
        (json.dumps({**GOOD, "max_steps": "ten"}), ['"max_steps": "ten" is not a whole number']),
        (json.dumps({**GOOD, "max_steps": 5.5}), ['"max_steps": 5.5 is not a whole number']),
        (json.dumps({**GOOD, "do_eval": "yes"}), ['"do_eval": "yes" is not true or false']),
        (json.dumps({**GOOD, "learning_rate": "fast"}), ['"learning_rate": "fast" is not a number']),
        (json.dumps({**GOOD, "framework": "rnn"}), ['"framework": "rnn" is not one of seq2seq, clm']),
        (
            json.dumps({**GOOD, "max_train_samples": -19}),
            ["args.json: --max_train_samples -19: give at least 1"],
        ),
    ],
)
def test_bad_arguments_file(text, messages, tmp_path, run_dir, capsys):
    path = tmp_path / "args.json"
    path.write_text(text.replace('"use_cpu"', f'"output_dir": "{run_dir}", "use_cpu"'))
    assert_fails_cleanly(finetune.main, [str(path)], run_dir, capsys, *messages)


def test_arguments_file_values_reach_the_arguments(tmp_path):
    path = tmp_path / "args.json"
    values = {
        **GOOD,
        "output_dir": str(tmp_path / "run"),
        "max_steps": 7,
        "learning_rate": 1,
        "report_to": ["none"],
    }
    path.write_text(json.dumps(values))
    _, data_args, training_args, _, _ = parse_args([str(path)])
    assert (training_args.max_steps, training_args.learning_rate) == (7, 1)
    assert data_args.train_file == str(SAMPLE / "train.jsonl")
    with pytest.raises(ConfigurationError, match="no such file"):
        parse_args([str(tmp_path / "missing.json")])
