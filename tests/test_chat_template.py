"""--prompt_template chat: the tokenizer's own chat template, the same in training and prediction."""

import json

import pytest

import finetune
from conftest import SAMPLE
from ftkit.data import IGNORE_INDEX, encode_clm
from ftkit.generation import GenerationSettings
from ftkit.modeling import load_tokenizer
from ftkit.templates import TEMPLATES, TemplateError, build_prompt
from interactive_generate import Session

SOURCE = "He go to school ."
TARGET = "He goes to school ."


@pytest.fixture(scope="module")
def qwen2_tokenizer(tiny_model):
    """The tiny qwen2 family's tokenizer: byte-level BPE with Qwen2-Instruct's ChatML chat template."""
    return load_tokenizer(str(tiny_model("qwen2")))


def test_chat_prompt_is_the_user_turn_of_the_tokenizers_chat_template(qwen2_tokenizer):
    prompt = build_prompt(SOURCE, "chat", qwen2_tokenizer)
    message = TEMPLATES["chat"].replace("{source}", SOURCE)
    assert prompt == qwen2_tokenizer.apply_chat_template(
        [{"role": "user", "content": message}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith(f"<|im_start|>user\n{message}<|im_end|>\n<|im_start|>assistant\n")


def test_training_and_prediction_encode_the_same_chat_prompt(qwen2_tokenizer):
    tokenizer = qwen2_tokenizer
    train = encode_clm({"source": [SOURCE], "target": [TARGET]}, tokenizer, "chat", 256, 256)
    predict = encode_clm({"source": [SOURCE]}, tokenizer, "chat", 256, 256)
    prompt_ids = predict["input_ids"][0]
    # The special tokens come from the template once, not again from the tokenizer.
    expected = tokenizer(build_prompt(SOURCE, "chat", tokenizer), add_special_tokens=False)["input_ids"]
    assert prompt_ids == expected
    assert prompt_ids.count(tokenizer.convert_tokens_to_ids("<|im_start|>")) == 3  # system, user, assistant
    answer = tokenizer(TARGET, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert train["input_ids"][0] == prompt_ids + answer
    assert train["labels"][0] == [IGNORE_INDEX] * len(prompt_ids) + answer

    # The REPL encodes as --do_predict does.
    settings = GenerationSettings(max_new_tokens=8)
    session = Session(None, tokenizer, "clm", "chat", settings, max_source_length=256)
    assert session.encode(SOURCE) == prompt_ids


def test_chat_template_trains_and_predicts_through_finetune(tiny_model, tmp_path):
    test_file = tmp_path / "test.txt"
    test_file.write_text(SOURCE + "\n")
    argv = [
        "--model_name_or_path", str(tiny_model("qwen2")), "--prompt_template", "chat",
        "--train_file", str(SAMPLE / "train.jsonl"), "--max_train_samples", "8",
        "--test_file", str(test_file), "--output_dir", str(tmp_path / "run"),
        "--do_train", "--do_predict", "--max_steps", "1", "--per_device_train_batch_size", "4",
        "--use_cpu", "--save_strategy", "no", "--generation_max_length", "4", "--report_to", "none",
    ]  # fmt: skip
    assert finetune.main(argv) == 0
    assert json.loads((tmp_path / "run" / "run_args.json").read_text())["prompt_template"] == "chat"
    assert len((tmp_path / "run" / "generated_predictions.txt").read_text().splitlines()) == 1


def test_chat_template_without_one_in_the_tokenizer_is_a_clear_error(tiny_model, tmp_path, capsys):
    llama = tiny_model("llama")
    tokenizer = load_tokenizer(str(llama))
    assert not tokenizer.chat_template
    with pytest.raises(TemplateError, match="has none"):
        build_prompt(SOURCE, "chat", tokenizer)
    with pytest.raises(TemplateError, match="needs the tokenizer"):
        build_prompt(SOURCE, "chat")
    argv = [
        "--model_name_or_path", str(llama), "--prompt_template", "chat",
        "--train_file", str(SAMPLE / "train.jsonl"), "--output_dir", str(tmp_path / "run"),
        "--do_train", "--use_cpu",
    ]  # fmt: skip
    assert finetune.main(argv) == 2
    err = capsys.readouterr().err
    assert "--prompt_template chat uses the tokenizer's own chat template" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()
