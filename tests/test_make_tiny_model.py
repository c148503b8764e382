"""Tests for scripts/make_tiny_model.py's qwen2 family: a Qwen2-style tokenizer (byte-level BPE, ChatML) and
a model that loads through the toolkit like a real Qwen2 checkpoint."""

import json

import pytest
import torch
from make_tiny_model import CHATML_TEMPLATE, make_tiny_model
from transformers import AutoTokenizer, Qwen2Tokenizer

from conftest import REPO
from ftkit.modeling import load_config, load_model, load_tokenizer

SAMPLE_ZH = REPO / "data" / "sample_zh"


@pytest.fixture(scope="module")
def qwen2(tmp_path_factory):
    return make_tiny_model("qwen2", tmp_path_factory.mktemp("qwen2"), corpus=SAMPLE_ZH / "valid.jsonl")


def test_tokenizer_is_qwen2s_with_its_special_tokens(qwen2):
    tokenizer = AutoTokenizer.from_pretrained(qwen2)
    assert isinstance(tokenizer, Qwen2Tokenizer)
    assert tokenizer.bos_token is None
    assert tokenizer.eos_token == tokenizer.pad_token == "<|endoftext|>"
    for special in ("<|im_start|>", "<|im_end|>", "<|endoftext|>"):
        assert len(tokenizer(special, add_special_tokens=False)["input_ids"]) == 1, special
    config = json.loads((qwen2 / "config.json").read_text())
    assert config["model_type"] == "qwen2" and config["eos_token_id"] == tokenizer.eos_token_id
    assert config["num_key_value_heads"] < config["num_attention_heads"]  # grouped-query attention


@pytest.mark.parametrize(
    "text",
    [
        "他们已经吃饭了。",
        "我可以在教室喝水吗？",
        "龘靐齉：语料里没有的字 and English, 123 ✓",  # characters the corpus never had: bytes
        "Correct the grammar:\n他跑很快。\nCorrected:\n",
    ],
)
def test_byte_level_bpe_round_trips_any_text(qwen2, text):
    tokenizer = AutoTokenizer.from_pretrained(qwen2)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text


def test_corpus_words_become_few_tokens(qwen2):
    tokenizer = AutoTokenizer.from_pretrained(qwen2)
    sentence = "我们明天再讨论问题吧。"
    # Byte fallback alone would be 3 tokens per character; BPE trained on the corpus merges them.
    assert len(tokenizer(sentence)["input_ids"]) <= len(sentence)


def test_chat_template_is_chatml(qwen2):
    tokenizer = AutoTokenizer.from_pretrained(qwen2)
    assert tokenizer.chat_template == CHATML_TEMPLATE
    messages = [{"role": "user", "content": "改正：他跑很快。"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n改正：他跑很快。<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert tokenizer.apply_chat_template(messages, tokenize=False) == (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
    )


def test_model_loads_through_the_toolkit_and_computes_a_loss(qwen2):
    tokenizer = load_tokenizer(str(qwen2))
    model = load_model(str(qwen2), "clm", load_config(str(qwen2)), tokenizer, dtype=torch.float32)
    batch = tokenizer(["他跑得很快。"], return_tensors="pt")
    loss = model(**batch, labels=batch["input_ids"]).loss
    # A random model is near-uniform over the vocabulary.
    assert abs(loss.item() - torch.log(torch.tensor(float(len(tokenizer)))).item()) < 0.5
