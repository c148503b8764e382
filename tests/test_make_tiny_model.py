"""Tests for scripts/make_tiny_model.py's qwen2 family: a Qwen2-style tokenizer (byte-level BPE, ChatML) and
a model that loads through the toolkit like a real Qwen2 checkpoint."""

import json

import pytest
import torch
from make_tiny_model import CHATML_TEMPLATE, make_tiny_model
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, Qwen2Tokenizer

from conftest import REPO
from ftkit.frameworks import CLM
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
    model = load_model(str(qwen2), CLM, load_config(str(qwen2)), tokenizer, dtype=torch.float32)
    batch = tokenizer(["他跑得很快。"], return_tensors="pt")
    loss = model(**batch, labels=batch["input_ids"]).loss
    # A random model is near-uniform over the vocabulary.
    assert abs(loss.item() - torch.log(torch.tensor(float(len(tokenizer)))).item()) < 0.5


# family -> (BOS the tokenizer adds, EOS, pad or None, text of the chat prompt for "U", its end-of-turn token)
CONVENTIONS = {
    "bart": ("<s>", "</s>", "<pad>", None, None),
    "llama3": (
        "<|begin_of_text|>",
        "<|end_of_text|>",
        None,
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "<|eot_id|>",
    ),
    "qwen3": (
        None,
        "<|im_end|>",
        "<|endoftext|>",
        "<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n",
        None,
    ),
    "mistral": ("<s>", "</s>", None, "<s>[INST] U [/INST]", None),
    "gemma": (
        "<bos>",
        "<eos>",
        "<pad>",
        "<bos><start_of_turn>user\nU<end_of_turn>\n<start_of_turn>model\n",
        "<end_of_turn>",
    ),
    "phi3": (None, "<|endoftext|>", "<|endoftext|>", "<|user|>\nU<|end|>\n<|assistant|>\n", "<|end|>"),
    "t5v11": (None, "</s>", "<pad>", None, None),
    "mt5": (None, "</s>", "<pad>", None, None),
    "mbart": (None, "</s>", "<pad>", None, None),
}


@pytest.fixture(scope="module")
def family_model(tmp_path_factory):
    built = {}

    def get(family):
        if family not in built:
            built[family] = make_tiny_model(family, tmp_path_factory.mktemp(family))
        return built[family]

    return get


@pytest.mark.parametrize("family", CONVENTIONS)
def test_tokenizer_keeps_the_familys_conventions(family_model, family):
    bos, eos, pad, chat_prompt, end_of_turn = CONVENTIONS[family]
    folder = family_model(family)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert (tokenizer.eos_token, tokenizer.pad_token) == (eos, pad)
    ids = tokenizer("he go to school.\nYes")["input_ids"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert (tokens[0] == bos) if bos else tokenizer.bos_token_id not in ids
    assert tokenizer.unk_token_id not in ids
    # T5's and mBART's SentencePiece normalisation turns newlines into spaces, as their real tokenizers do.
    assert ("\nYes" in tokenizer.decode(ids)) == (family not in ("t5v11", "mt5", "mbart"))
    if chat_prompt is None:
        assert not tokenizer.chat_template
    else:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": "U"}], tokenize=False, add_generation_prompt=True
        )
        assert text == chat_prompt
        assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text
    generation = json.loads((folder / "generation_config.json").read_text())
    if end_of_turn is not None:
        # Real checkpoints list the end of turn among the generation config's EOS ids.
        assert tokenizer.convert_tokens_to_ids(end_of_turn) in generation["eos_token_id"]
        assert len(tokenizer(end_of_turn, add_special_tokens=False)["input_ids"]) == 1


def test_mbart_wraps_source_and_target_with_the_language_code(family_model):
    folder = family_model("mbart")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    code = tokenizer.convert_tokens_to_ids("en_XX")
    assert tokenizer("a b")["input_ids"][-2:] == [tokenizer.eos_token_id, code]
    assert tokenizer(text_target="a b")["input_ids"][-2:] == [tokenizer.eos_token_id, code]
    assert json.loads((folder / "config.json").read_text())["decoder_start_token_id"] == code


@pytest.mark.parametrize("family, tied", [("t5", True), ("t5v11", False), ("mt5", False)])
def test_t5_ties_its_head_and_v11_and_mt5_do_not(family_model, tiny_model, family, tied):
    folder = tiny_model("t5") if family == "t5" else family_model(family)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder)
    assert (model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()) == tied
    assert getattr(model.config, "scale_decoder_outputs", False) == tied
