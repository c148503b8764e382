"""--prompt_template chat: the tokenizer's own chat template, the same in training and prediction."""

import json

import pytest
from test_generation import chaotic_model  # noqa: F401 (a fixture)

import finetune
from conftest import SAMPLE
from ftkit.data import IGNORE_INDEX, encode_clm
from ftkit.frameworks import CLM
from ftkit.generation import GenerationSettings, generate_one
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.templates import TemplateError, build_prompt
from interactive_generate import Session

SOURCE = "He go to school ."
TARGET = "He goes to school ."
# Qwen2-Instruct's ChatML template (the tiny qwen2 tokenizer's) around the chat template's user message.
CHAT_PROMPT = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\nCorrect the grammatical errors in this sentence:\nHe go to school .<|im_end|>\n"
    "<|im_start|>assistant\n"
)


@pytest.fixture(scope="module")
def qwen2_tokenizer(tiny_model):
    """The tiny qwen2 family's tokenizer: byte-level BPE with Qwen2-Instruct's ChatML chat template."""
    return load_tokenizer(str(tiny_model("qwen2")))


def test_chat_prompt_is_the_user_turn_of_the_tokenizers_chat_template(qwen2_tokenizer):
    assert build_prompt(SOURCE, "chat", qwen2_tokenizer) == CHAT_PROMPT


def test_training_and_prediction_encode_the_same_chat_prompt(qwen2_tokenizer):
    tokenizer = qwen2_tokenizer
    train = encode_clm({"source": [SOURCE], "target": [TARGET]}, tokenizer, "chat", 256, 256)
    predict = encode_clm({"source": [SOURCE]}, tokenizer, "chat", 256, 256)
    prompt_ids = predict["input_ids"][0]
    assert tokenizer.decode(prompt_ids) == CHAT_PROMPT
    # The template's special tokens are single tokens, each once: none split, none added by the tokenizer.
    tokens = tokenizer.convert_ids_to_tokens(prompt_ids)
    assert [t for t in tokens if t.startswith("<|")] == ["<|im_start|>", "<|im_end|>"] * 2 + ["<|im_start|>"]
    answer = train["input_ids"][0][len(prompt_ids) :]
    assert train["input_ids"][0][: len(prompt_ids)] == prompt_ids
    assert tokenizer.decode(answer) == TARGET + "<|endoftext|>"  # the tokenizer's EOS ends the answer
    assert train["labels"][0] == [IGNORE_INDEX] * len(prompt_ids) + answer

    # The REPL encodes as --do_predict does.
    settings = GenerationSettings(max_new_tokens=8)
    session = Session(None, tokenizer, CLM, "chat", settings, max_source_length=256)
    assert session.encode(SOURCE) == prompt_ids


def said_to(model, tokenizer, template):
    ids = CLM.encode({"source": [SOURCE]}, tokenizer, template, 256, 256)["input_ids"][0]
    return generate_one(model, tokenizer, CLM, ids, GenerationSettings(max_new_tokens=4))


def test_chat_template_trains_and_predicts_through_finetune(chaotic_model, tmp_path):  # noqa: F811
    """From a model whose output depends on its prompt (a fresh tiny model says the same to every prompt)."""
    test_file = tmp_path / "test.txt"
    test_file.write_text(SOURCE + "\n")
    argv = [
        "--model_name_or_path", chaotic_model("qwen2")[0], "--prompt_template", "chat",
        "--train_file", str(SAMPLE / "train.jsonl"), "--max_train_samples", "8",
        "--test_file", str(test_file), "--output_dir", str(tmp_path / "run"),
        "--do_train", "--do_predict", "--max_steps", "1", "--per_device_train_batch_size", "4",
        "--use_cpu", "--save_strategy", "no", "--generation_max_length", "4", "--report_to", "none",
    ]  # fmt: skip
    assert finetune.main(argv) == 0
    assert json.loads((tmp_path / "run" / "run_args.json").read_text())["prompt_template"] == "chat"
    # Predicted from the chat prompt: what the trained model says to it, not to another template's prompt.
    run = str(tmp_path / "run")
    tokenizer = load_tokenizer(run)
    model = load_model(run, CLM, load_config(run), tokenizer).eval()
    said = {template: said_to(model, tokenizer, template) for template in ("chat", "gec")}
    assert said["chat"] != said["gec"]
    assert (tmp_path / "run" / "generated_predictions.txt").read_text() == said["chat"] + "\n"


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
