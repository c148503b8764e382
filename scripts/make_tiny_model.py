"""Build a tiny random-initialised model of a family, with a tokenizer trained on the fly.

Tests and the CPU demo use these models: they exercise the real `from_pretrained` loading paths of
each family without any download. Each family copies its real checkpoints' architecture options (tied or
untied head, gated activations, grouped-query attention, fused projections) and tokenizer conventions:
tokenizer class, BOS/EOS/pad tokens (and whether a pad token exists at all), who adds BOS (the tokenizer, its
post-processor or the chat template), the chat template with its end-of-turn token, and the generation
config's EOS ids. FAMILIES says which checkpoints each copies and the flags a real one wants (the README's
"Supported models" table is generated from it: `supported_models_table`).

Usage:
    python scripts/make_tiny_model.py --family t5 --out cache/tiny-t5 [--corpus data/sample/train.jsonl]
    python scripts/make_tiny_model.py --family qwen2 \
        --out cache/tiny-qwen2 --corpus data/sample_zh/train.jsonl
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sentencepiece as spm
import torch
from tiny_glm import TinyGLMConfig, TinyGLMForCausalLM
from tokenizers import (
    ByteLevelBPETokenizer,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from transformers import (
    BartConfig,
    BloomConfig,
    GemmaConfig,
    GemmaTokenizer,
    GPT2Config,
    GPT2Tokenizer,
    LlamaConfig,
    LlamaTokenizer,
    MBartConfig,
    MBartTokenizer,
    MistralConfig,
    MT5Config,
    Phi3Config,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2Tokenizer,
    Qwen3Config,
    RobertaTokenizer,
    T5Config,
    T5Tokenizer,
)
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

from ftkit.frameworks import framework_of
from ftkit.templates import TEMPLATES


@dataclass(frozen=True)
class Family:
    """A model family: the checkpoints it copies, the flags a real one wants with ftkit, and where
    tests/test_model_matrix.py trains it (the README's "Supported models" table is built from these)."""

    framework: str  # seq2seq or clm
    like: str  # the real checkpoints whose design the tiny model copies
    precision: str  # the precision flag for a real checkpoint on a GPU (and why, after a semicolon)
    template: str  # --prompt_template for a real checkpoint
    lora_target: str  # --lora_target: the family's attention projections
    zero3: bool = False  # the matrix predicts with it under ZeRO-3 in two processes
    remote_code: bool = False  # its modeling code is in the folder: it loads with --trust_remote_code


T5_PRECISION = "--bf16; T5 overflows in fp16"
FAMILIES: dict[str, Family] = {
    "t5": Family("seq2seq", "T5 (tied head)", T5_PRECISION, "gec", "q,v"),
    "t5v11": Family(
        "seq2seq",
        "T5 v1.1, FLAN-T5 (gated-GELU, untied head)",
        T5_PRECISION,
        "flan",
        "q,v",
        zero3=True,
    ),
    "mt5": Family("seq2seq", "mT5 (multilingual SentencePiece)", T5_PRECISION, "gec", "q,v"),
    "bart": Family("seq2seq", "BART", "--bf16 or --fp16", "gec", "q_proj,v_proj"),
    "mbart": Family("seq2seq", "mBART-cc25 (language codes)", "--bf16 or --fp16", "gec", "q_proj,v_proj"),
    "gpt2": Family("clm", "GPT-2 (no pad token)", "--bf16 or --fp16", "gec", "c_attn"),
    "bloom": Family("clm", "BLOOM", "--bf16", "gec", "query_key_value"),
    "llama": Family("clm", "LLaMA-2 (SentencePiece BPE)", "--bf16", "alpaca", "q_proj,v_proj"),
    "llama3": Family(
        "clm", "Llama-3 Instruct (byte-level BPE, `<|eot_id|>`)", "--bf16", "chat", "q_proj,v_proj"
    ),
    "mistral": Family("clm", "Mistral-7B-Instruct v0.2 (`[INST]`)", "--bf16", "chat", "q_proj,v_proj"),
    "qwen2": Family("clm", "Qwen2 / Qwen2.5-Instruct (ChatML)", "--bf16", "chat", "q_proj,v_proj"),
    "qwen3": Family(
        "clm",
        "Qwen3 (ChatML, `<|im_end|>` as EOS)",
        "--bf16",
        "chat",
        "q_proj,v_proj",
        zero3=True,
    ),
    "gemma": Family(
        "clm",
        "Gemma-it (`<end_of_turn>`)",
        "--bf16; activations overflow in fp16",
        "chat",
        "q_proj,v_proj",
    ),
    "phi3": Family("clm", "Phi-3-mini-instruct (fused `qkv_proj`)", "--bf16", "chat", "qkv_proj"),
    "remote": Family(
        "clm",
        "ChatGLM / GLM-4 remote code (`--trust_remote_code`)",
        "--bf16",
        "chat",
        "query_key_value",
        remote_code=True,
    ),
}

QWEN2_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
QWEN3_SPECIALS = [*QWEN2_SPECIALS, "<think>", "</think>"]
# Qwen2-Instruct's chat template (ChatML, with its default system prompt), without tool calling.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# Qwen3's: ChatML without a default system prompt; thinking switched off opens the answer with an empty
# think block (without tool calling and reasoning-content parsing).
QWEN3_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% if enable_thinking is defined and enable_thinking is false %}"
    "{{ '<think>\n\n</think>\n\n' }}"
    "{% endif %}"
    "{% endif %}"
)
LLAMA3_SPECIALS = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
]
# Llama-3-Instruct's: the template writes BOS itself, each turn ends with <|eot_id|>.
LLAMA3_TEMPLATE = (
    "{% for message in messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    " + message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
    "{{ content }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
# Llama-3's pre-tokeniser split (tiktoken's cl100k pattern).
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s+(?!\S)|\s+"
)
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}"
    "{% endfor %}"
)
GEMMA_SPECIALS = ["<start_of_turn>", "<end_of_turn>"]
GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}{% set role = 'model' %}"
    "{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)
PHI3_SPECIALS = ["<|endoftext|>", "<|assistant|>", "<|end|>", "<|user|>", "<|system|>"]
PHI3_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"
)
GLM_SPECIALS = ["<|endoftext|>", "[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>"]
# GLM-4's: the prompt starts with [gMASK]<sop>, the model ends its turn with <|user|> (or <|endoftext|>).
GLM_TEMPLATE = (
    "[gMASK]<sop>{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
# mBART-cc25's: the source ends with </s> and the language code; so does the target, which the model's own
# shift_tokens_right turns into a decoder input that starts with the code.
MBART_LANGUAGE = "en_XX"
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "data" / "sample" / "train.jsonl"
CHINESE_CORPUS = DEFAULT_CORPUS.parents[1] / "sample_zh" / "train.jsonl"


def corpus_lines(path: Path) -> Iterator[str]:
    """Yield the texts of a JSONL (`source`/`target`) or plain-text corpus, then the prompt templates."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            if path.suffix == ".jsonl":
                row = json.loads(line)
                yield row["source"]
                yield row.get("target", "")
            else:
                yield line.rstrip("\n")
    # Template words must be in the vocabulary, or every prompt is a string of <unk>s.
    for template in TEMPLATES.values():
        yield template.replace("{source}", "")


def train_sentencepiece(lines: list[str], out_file: Path, vocab_size: int, **options) -> None:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=vocab_size,
        # A small corpus may not support the requested size; take what it gives.
        hard_vocab_limit=False,
        character_coverage=1.0,
        minloglevel=2,
        **options,
    )
    out_file.write_bytes(model.getvalue())


def train_byte_level_bpe(lines: list[str], vocab_size: int, specials: list[str], split: str) -> Tokenizer:
    """Byte-level BPE with a regex pre-split (Qwen2's or Llama-3's), special tokens first in the vocab."""
    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(split), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        # All 256 bytes, so text with characters the corpus lacks still encodes.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(lines, trainer)
    return bpe


def vocab_and_merges(bpe: Tokenizer) -> tuple[dict[str, int], list[tuple[str, str]]]:
    model = json.loads(bpe.to_str())["model"]
    return model["vocab"], [tuple(merge) for merge in model["merges"]]


def make_qwen_tokenizer(family: str, lines: list[str], vocab_size: int) -> Qwen2Tokenizer:
    """Byte-level BPE trained with Qwen2's normaliser and pre-tokeniser, loaded as a Qwen2Tokenizer.

    qwen2: `<|endoftext|>` is EOS and pad, ChatML with a default system prompt. qwen3: `<|im_end|>` is EOS
    (the end of an assistant turn), `<|endoftext|>` pad. Neither has a BOS.
    """
    specials = QWEN2_SPECIALS if family == "qwen2" else QWEN3_SPECIALS
    vocab, merges = vocab_and_merges(train_byte_level_bpe(lines, vocab_size, specials, PRETOKENIZE_REGEX))
    eos = "<|endoftext|>" if family == "qwen2" else "<|im_end|>"
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        eos_token=eos,
        pad_token="<|endoftext|>",
        extra_special_tokens=[token for token in specials[1:] if token != eos],
    )
    tokenizer.chat_template = CHATML_TEMPLATE if family == "qwen2" else QWEN3_TEMPLATE
    return tokenizer


def make_llama3_tokenizer(lines: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Llama-3's design: byte-level BPE with a tiktoken-style split, no pad token, and BOS added by the
    tokenizer.json post-processor (not by the tokenizer class). EOS is `<|end_of_text|>` as in the base model
    and the first Instruct release; the chat template ends turns with `<|eot_id|>` and writes BOS itself."""
    bpe = train_byte_level_bpe(lines, vocab_size, LLAMA3_SPECIALS, LLAMA3_SPLIT)
    bos = LLAMA3_SPECIALS[0]
    bpe.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, bpe.token_to_id(bos))]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=bos,
        eos_token="<|end_of_text|>",
        extra_special_tokens=LLAMA3_SPECIALS[2:],
    )
    tokenizer.chat_template = LLAMA3_TEMPLATE
    return tokenizer


def make_glm_tokenizer(lines: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """GLM-4's conventions: byte-level BPE, `[gMASK]<sop>` before every text (its post-processor), no BOS,
    `<|endoftext|>` as EOS and pad."""
    bpe = train_byte_level_bpe(lines, vocab_size, GLM_SPECIALS, PRETOKENIZE_REGEX)
    prefix = [(token, bpe.token_to_id(token)) for token in ("[gMASK]", "<sop>")]
    bpe.post_processor = processors.TemplateProcessing(
        single="[gMASK] <sop> $A", pair="[gMASK] <sop> $A $B", special_tokens=prefix
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=GLM_SPECIALS[1:],
    )
    tokenizer.chat_template = GLM_TEMPLATE
    return tokenizer


def make_bart_tokenizer(lines: list[str], vocab_size: int) -> RobertaTokenizer:
    """BART's: GPT-2's byte-level BPE with fairseq's special ids (<s> 0, <pad> 1, </s> 2, <unk> 3, <mask>
    last), `<s> X </s>` around every text, no prefix space."""
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(lines, vocab_size=vocab_size, special_tokens=["<s>", "<pad>", "</s>", "<unk>"])
    vocab, merges = vocab_and_merges(bpe)
    vocab["<mask>"] = len(vocab)
    return RobertaTokenizer(vocab=vocab, merges=merges, add_prefix_space=False)


def make_sentencepiece_tokenizer(family: str, lines: list[str], vocab_size: int, folder: Path):
    """Families whose tokenizer is a SentencePiece model, saved where their tokenizer class looks for it."""
    if family in ("t5", "t5v11", "mt5"):
        if family == "mt5":
            lines = lines + [text for text in corpus_lines(CHINESE_CORPUS) if text.strip()]
        train_sentencepiece(
            lines,
            folder / "spiece.model",
            vocab_size,
            model_type="unigram",
            pad_id=0,
            eos_id=1,
            unk_id=2,
            bos_id=-1,
        )
        return T5Tokenizer.from_pretrained(folder, extra_ids=0)
    if family == "mbart":
        # fairseq's ids (<s> 0, <pad> 1, </s> 2, <unk> 3) come from MBartTokenizer, not from the model file.
        train_sentencepiece(lines, folder / "sentencepiece.bpe.model", vocab_size, model_type="unigram")
        return MBartTokenizer.from_pretrained(folder, src_lang=MBART_LANGUAGE, tgt_lang=MBART_LANGUAGE)
    if family == "gemma":
        train_sentencepiece(
            lines,
            folder / "tokenizer.model",
            vocab_size,
            model_type="bpe",
            byte_fallback=True,
            pad_id=0,
            eos_id=1,
            bos_id=2,
            unk_id=3,
            pad_piece="<pad>",
            eos_piece="<eos>",
            bos_piece="<bos>",
            user_defined_symbols=GEMMA_SPECIALS,
        )
        tokenizer = GemmaTokenizer.from_pretrained(folder, add_bos_token=True)
        tokenizer.add_special_tokens({"extra_special_tokens": GEMMA_SPECIALS})
        tokenizer.chat_template = GEMMA_TEMPLATE
        return tokenizer
    # LLaMA-2, Mistral and Phi-3: the transformers 5 Llama tokenizer is a BPE backend, so is its model file.
    specials = PHI3_SPECIALS if family == "phi3" else []
    if family == "mistral":
        lines = [*lines, "[INST] [/INST]"]  # plain text in Mistral's template: its characters must be pieces
    train_sentencepiece(
        lines,
        folder / "tokenizer.model",
        vocab_size,
        model_type="bpe",
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        # LLaMA-2's own settings: text kept as is (newlines too), unknown characters as bytes.
        byte_fallback=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        split_digits=True,
        **({"user_defined_symbols": specials} if specials else {}),
    )
    if family == "phi3":
        # Phi-3-mini-instruct: no BOS added, <|endoftext|> as EOS and pad, turns ended by <|end|>.
        tokenizer = LlamaTokenizer.from_pretrained(
            folder, add_bos_token=False, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
        )
        tokenizer.add_special_tokens({"extra_special_tokens": PHI3_SPECIALS[1:]})
        tokenizer.chat_template = PHI3_TEMPLATE
        return tokenizer
    tokenizer = LlamaTokenizer.from_pretrained(folder, add_bos_token=True)
    if family == "mistral":
        tokenizer.chat_template = MISTRAL_TEMPLATE
    return tokenizer


def make_tokenizer(family: str, lines: list[str], vocab_size: int):
    if family in ("qwen2", "qwen3"):
        return make_qwen_tokenizer(family, lines, vocab_size)
    if family == "llama3":
        return make_llama3_tokenizer(lines, vocab_size)
    if family == "bart":
        return make_bart_tokenizer(lines, vocab_size)
    if family == "remote":
        return make_glm_tokenizer(lines, vocab_size)
    if family not in ("gpt2", "bloom"):
        with tempfile.TemporaryDirectory() as tmp:
            return make_sentencepiece_tokenizer(family, lines, vocab_size, Path(tmp))
    bpe = ByteLevelBPETokenizer()
    if family == "gpt2":
        # GPT-2 has no pad token: the toolkit's EOS fallback is exercised on purpose.
        specials = ["<|endoftext|>"]
        bpe.train_from_iterator(lines, vocab_size=vocab_size, special_tokens=specials)
        return GPT2Tokenizer(
            tokenizer_object=bpe, bos_token=specials[0], eos_token=specials[0], unk_token=specials[0]
        )
    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    bpe.train_from_iterator(lines, vocab_size=vocab_size, special_tokens=specials)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )


def generation_eos_ids(family: str, tokenizer) -> list[int] | None:
    """The generation config's EOS ids where a family's real checkpoints list more than the tokenizer's EOS:
    the chat template's end of turn (and, for Qwen3, the document end)."""
    extra = {
        "llama3": ["<|end_of_text|>", "<|eot_id|>"],
        "qwen3": ["<|im_end|>", "<|endoftext|>"],
        "gemma": ["<eos>", "<end_of_turn>"],
        "phi3": ["<|endoftext|>", "<|end|>"],
        "remote": ["<|endoftext|>", "<|user|>"],
    }.get(family)
    return None if extra is None else tokenizer.convert_tokens_to_ids(extra)


def make_config(family: str, tokenizer, hidden: int, layers: int, heads: int):
    vocab = len(tokenizer)
    special = dict(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if family in ("t5", "t5v11", "mt5"):
        config_class = MT5Config if family == "mt5" else T5Config
        return config_class(
            vocab_size=vocab,
            d_model=hidden,
            d_kv=hidden // heads,
            d_ff=hidden * 4,
            num_layers=layers,
            num_heads=heads,
            feed_forward_proj="gated-gelu",
            # The original T5 ties its head (and scales the decoder output); v1.1, FLAN-T5 and mT5 do not.
            tie_word_embeddings=family == "t5",
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.pad_token_id,
        )
    if family in ("bart", "mbart"):
        config_class = BartConfig if family == "bart" else MBartConfig
        return config_class(
            vocab_size=vocab,
            d_model=hidden,
            encoder_layers=layers,
            decoder_layers=layers,
            encoder_attention_heads=heads,
            decoder_attention_heads=heads,
            encoder_ffn_dim=hidden * 4,
            decoder_ffn_dim=hidden * 4,
            max_position_embeddings=512,
            # BART's decoder starts from </s>; mBART-cc25's from the target language code.
            decoder_start_token_id=(
                tokenizer.eos_token_id
                if family == "bart"
                else tokenizer.convert_tokens_to_ids(MBART_LANGUAGE)
            ),
            **special,
        )
    if family == "remote":
        return TinyGLMConfig(
            padded_vocab_size=vocab,
            hidden_size=hidden,
            ffn_hidden_size=hidden * 4,
            num_layers=layers,
            num_attention_heads=heads,
            multi_query_group_num=max(1, heads // 2),
            **special,
        )
    if family == "gpt2":
        return GPT2Config(
            vocab_size=vocab, n_embd=hidden, n_layer=layers, n_head=heads, n_positions=512, **special
        )
    if family == "bloom":
        return BloomConfig(vocab_size=vocab, hidden_size=hidden, n_layer=layers, n_head=heads, **special)
    decoder = dict(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        max_position_embeddings=512,
        **special,
    )
    if family in ("qwen2", "qwen3"):
        # Grouped-query attention and tied embeddings, as in the small Qwen models (0.5B-1.7B).
        config_class = Qwen2Config if family == "qwen2" else Qwen3Config
        extra = {} if family == "qwen2" else {"head_dim": hidden // heads}
        return config_class(
            num_key_value_heads=max(1, heads // 2), tie_word_embeddings=True, **decoder, **extra
        )
    if family == "mistral":
        return MistralConfig(num_key_value_heads=max(1, heads // 2), sliding_window=None, **decoder)
    if family == "gemma":
        # Multi-query attention (as Gemma-2B), GELU-gated MLP, tied embeddings scaled by sqrt(hidden).
        return GemmaConfig(num_key_value_heads=1, head_dim=hidden // heads, **decoder)
    if family == "phi3":
        return Phi3Config(num_key_value_heads=heads, original_max_position_embeddings=512, **decoder)
    return LlamaConfig(num_key_value_heads=heads, **decoder)


def make_tiny_model(
    family: str,
    out: Path,
    corpus: Path = DEFAULT_CORPUS,
    vocab_size: int = 1000,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    seed: int = 0,
    weight_scale: float = 1.0,
) -> Path:
    """Write a tiny `family` model and its tokenizer to `out` with `save_pretrained`; return `out`.

    `weight_scale` multiplies every weight matrix: a random model at its initialisation's scale gives
    nearly the same output for any input (often EOS at once), one at 10x gives confident outputs that
    depend on the input, which tests comparing predictions need.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    lines = [line for line in corpus_lines(corpus) if line.strip()]
    tokenizer = make_tokenizer(family, lines, vocab_size)
    config = make_config(family, tokenizer, hidden, layers, heads)
    torch.manual_seed(seed)
    if FAMILIES[family].remote_code:
        # save_pretrained then copies tiny_glm.py into the folder and names its classes in auto_map.
        TinyGLMConfig.register_for_auto_class()
        TinyGLMForCausalLM.register_for_auto_class("AutoModelForCausalLM")
        model = TinyGLMForCausalLM(config)
    else:
        model = framework_of(config).auto_model.from_config(config)
    if family in ("t5v11", "mt5"):
        # transformers 5 ties T5's head whatever the config says, unless the checkpoint holds a head of its
        # own that differs from the embeddings: as FLAN-T5's and mT5's do.
        model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.lm_head.weight) * hidden**-0.5)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.mul_(weight_scale)
    eos_ids = generation_eos_ids(family, tokenizer)
    if eos_ids is not None:
        model.generation_config.eos_token_id = eos_ids
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def supported_models_table() -> str:
    """The README's "Supported models" table, one row per family (Markdown, `|` escaped in cells)."""
    rows = [
        "| family | framework | copies | matrix runs | precision | `--prompt_template` | `--lora_target` |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, family in FAMILIES.items():
        flag, _, why = family.precision.partition("; ")
        precision = " ".join(f"`{word}`" if word.startswith("--") else word for word in flag.split())
        runs = "ZeRO-2"
        if family.zero3:
            runs += ", ZeRO-3 prediction"
        cells = [
            f"`{name}`",
            family.framework,
            family.like,
            runs,
            precision + (f" ({why})" if why else ""),
            f"`{family.template}`",
            f"`{family.lora_target}`",
        ]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=FAMILIES, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the model into")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="JSONL with source/target, or plain text, to train the tokenizer on",
    )
    parser.add_argument("--vocab_size", type=int, default=1000)
    parser.add_argument("--hidden_size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--weight_scale",
        type=float,
        default=1.0,
        help="multiplies every weight matrix (10: input-dependent outputs)",
    )
    args = parser.parse_args(argv)
    make_tiny_model(
        args.family,
        args.out,
        args.corpus,
        args.vocab_size,
        args.hidden_size,
        args.layers,
        args.heads,
        args.seed,
        args.weight_scale,
    )
    print(f"wrote tiny {args.family} model to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
