"""interactive_generate.py: driven through a pseudo-terminal (prompt, settings change, Ctrl-C, Ctrl-D) and a
pipe; its outputs equal --do_predict's; the generation settings both share."""

import json
import os
import shutil
import subprocess
import sys

import pexpect
import pytest

import finetune
import interactive_generate
from conftest import EVAL_SAMPLE, REPO, SAMPLE, run_deepspeed
from ftkit.frameworks import CLM
from ftkit.generation import GenerationSettings, generation_kwargs
from ftkit.integrity import saved_run_args
from ftkit.modeling import load_tokenizer

SOURCES = EVAL_SAMPLE.joinpath("source.txt").read_text(encoding="utf-8").splitlines()[:3]
TOOL = str(REPO / "interactive_generate.py")


@pytest.fixture(scope="module")
def endless_model(tiny_model, tmp_path_factory):
    """A tiny random LLaMA without an EOS token: every generation runs to max_new_tokens, so a long one
    is still streaming when Ctrl-C arrives."""
    out = tmp_path_factory.mktemp("endless-llama")
    shutil.copytree(tiny_model("llama"), out, dirs_exist_ok=True)
    for name in ("config.json", "generation_config.json"):
        path = out / name
        config = json.loads(path.read_text())
        config["eos_token_id"] = None
        path.write_text(json.dumps(config))
    return str(out)


def env():
    return {**os.environ, "TERM": "dumb", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def test_repl_prompt_settings_and_ctrl_c(endless_model):
    child = pexpect.spawn(
        sys.executable,
        [TOOL, "--model_name_or_path", endless_model, "--max_new_tokens", "4"],
        cwd=REPO,
        env=env(),
        encoding="utf-8",
        timeout=60,
    )
    try:
        child.expect_exact("finetune.py --do_predict")  # the banner points to batch prediction
        child.expect_exact(">>> ")

        # A prompt: streamed output, then the prompt again.
        child.sendline(SOURCES[0])
        child.expect_exact(SOURCES[0])  # the terminal's echo
        child.expect_exact(">>> ")
        assert child.before.strip(), "no output for the prompt"

        # A settings change, then a beam-search answer (printed whole, not streamed).
        child.sendline(":set beams 2")
        child.expect_exact("beams 2")
        child.expect_exact(">>> ")
        child.sendline(SOURCES[1])
        child.expect_exact(SOURCES[1])
        child.expect_exact(">>> ")
        assert child.before.strip(), "no output with beam search"

        # Ctrl-C during a long streamed generation stops it, not the program.
        child.sendline(":set beams 1")
        child.expect_exact(">>> ")
        child.sendline(":set max_new_tokens 100000")
        child.expect_exact("max_new_tokens 100000")
        child.expect_exact(">>> ")
        child.sendline(SOURCES[2])
        child.expect_exact(SOURCES[2])
        child.expect(r"\S+ \S+ ")  # streaming has begun: words arrive before the generation ends
        child.sendintr()
        child.expect_exact("[stopped]", timeout=30)
        child.expect_exact(">>> ")
        assert child.isalive()

        # Still works after Ctrl-C; Ctrl-D exits cleanly.
        child.sendline(":show")
        child.expect_exact("max_new_tokens 100000")
        child.expect_exact(">>> ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_pipe_gives_one_line_per_input_equal_to_do_predict(endless_model, tmp_path):
    # A lone "\r" is part of its line, for the REPL as for --do_predict.
    lines = [SOURCES[0], ":set beams 2", SOURCES[1], ":set beams 1", "", SOURCES[2] + "\r" + SOURCES[0]]
    result = subprocess.run(
        [sys.executable, TOOL, "--model_name_or_path", endless_model, "--max_new_tokens", "5"],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=env(),
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "finetune.py --do_predict" in result.stderr
    outputs = result.stdout.splitlines()
    assert len(outputs) == 4  # commands print nothing on stdout; the empty line gets its output line

    # --do_predict with the same limits gives the same text for the greedy inputs.
    test_file = tmp_path / "test.txt"
    test_file.write_text(f"{SOURCES[0]}\n\n{lines[-1]}\n", encoding="utf-8")
    predictions = tmp_path / "predictions.txt"
    argv = ["--model_name_or_path", endless_model, "--test_file", str(test_file), "--do_predict",
            "--output_dir", str(tmp_path / "run"), "--generation_max_length", "5",
            "--predictions_file", str(predictions), "--use_cpu"]  # fmt: skip
    assert finetune.main(argv) == 0
    assert predictions.read_text(encoding="utf-8").splitlines() == [outputs[0], outputs[2], outputs[3]]


def test_refuses_to_run_under_a_distributed_launcher(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert interactive_generate.main(["--model_name_or_path", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "one process" in err and "finetune.py --do_predict --deepspeed ds_configs/zero3.json" in err


def test_bad_model_or_framework_fails_cleanly(tiny_model, tmp_path, capsys):
    assert interactive_generate.main(["--model_name_or_path", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    argv = ["--model_name_or_path", str(tiny_model("llama")), "--framework", "seq2seq"]
    assert interactive_generate.main(argv) == 2
    assert "Pass --framework clm" in capsys.readouterr().err


def test_set_commands_validate_values(tiny_model, tmp_path):
    args = interactive_generate.build_parser().parse_args(["--model_name_or_path", str(tiny_model("llama"))])
    session = interactive_generate.load_session(args, tmp_path)
    run = interactive_generate.run_command
    assert run(session, ":set beams 4") and session.settings.num_beams == 4
    assert run(session, ":set sample on") and session.settings.do_sample
    assert run(session, ":set temperature 0.5") and session.settings.temperature == 0.5
    assert run(session, ":set temperature 0") and session.settings.temperature == 0.5  # rejected
    assert run(session, ":set top_p 2") and session.settings.top_p == 1.0  # rejected
    assert run(session, ":set template flan") and session.template == "flan"
    assert run(session, ":set template nope") and session.template == "flan"
    assert not run(session, ":quit")


def test_one_definition_of_generation_defaults(tiny_model, tmp_path):
    # --do_predict's kwargs and the REPL's start from the same GenerationSettings.
    defaults = interactive_generate.build_parser().parse_args(["--model_name_or_path", "x"])
    assert (
        generation_kwargs(None, defaults.max_new_tokens)
        == GenerationSettings(max_new_tokens=defaults.max_new_tokens, num_beams=defaults.num_beams).kwargs()
    )
    assert generation_kwargs(None, 7) == {"num_beams": 1, "max_new_tokens": 7, "do_sample": False}
    assert GenerationSettings(5, do_sample=True, temperature=0.7).kwargs()["temperature"] == 0.7
    with pytest.raises(ValueError, match="num_beams"):
        GenerationSettings(5, num_beams=0)

    # The prompt template defaults to the one the run was trained with.
    run = tmp_path / "run"
    shutil.copytree(tiny_model("llama"), run / "checkpoint-2")
    (run / "run_args.json").write_text(json.dumps({"prompt_template": "alpaca"}))
    assert saved_run_args(run / "checkpoint-2")["prompt_template"] == "alpaca"
    args = interactive_generate.build_parser().parse_args(["--model_name_or_path", str(run / "checkpoint-2")])
    assert interactive_generate.load_session(args, tmp_path).template == "alpaca"


def test_a_cut_input_is_reported(tiny_model, capsys):
    tokenizer = load_tokenizer(str(tiny_model("llama")))
    session = interactive_generate.Session(None, tokenizer, CLM, "gec", GenerationSettings(4), 40)
    assert len(session.encode(" ".join(SOURCES * 4))) <= 40
    assert "more than --max_source_length 40: the end of the source is cut" in capsys.readouterr().err
    session.encode(SOURCES[0])
    assert capsys.readouterr().err == ""


def pipe(model_path, sources):
    result = subprocess.run(
        [sys.executable, TOOL, "--model_name_or_path", str(model_path), "--max_new_tokens", "5"],
        input="".join(s + "\n" for s in sources),
        capture_output=True,
        text=True,
        env=env(),
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.slow
def test_deepspeed_checkpoint_without_weights_is_consolidated(tiny_model, tmp_path):
    run = tmp_path / "run"
    run_deepspeed(
        [
            "--deepspeed",
            str(REPO / "ds_configs" / "zero2.json"),
            "--model_name_or_path",
            str(tiny_model("llama")),
            "--train_file",
            str(SAMPLE / "train.jsonl"),
            "--max_train_samples",
            "16",
            "--do_train",
            "--per_device_train_batch_size",
            "4",
            "--max_steps",
            "2",
            "--save_steps",
            "2",
            "--output_dir",
            str(run),
        ]  # fmt: skip
    )
    checkpoint = run / "checkpoint-2"
    assert (checkpoint / "latest").is_file()
    # As ZeRO-3 leaves it without stage3_gather_16bit_weights_on_model_save: shards only.
    (checkpoint / "model.safetensors").unlink()
    assert pipe(checkpoint, SOURCES) == pipe(run, SOURCES)  # the run folder holds the same final weights
