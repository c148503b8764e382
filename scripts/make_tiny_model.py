"""Build a tiny random-initialised model of a family, with a tokenizer trained on the fly.

Tests and the CPU demo use these models: they exercise the real `from_pretrained` loading paths of
each family without any download.

The qwen2 family copies Qwen2's tokenizer design: byte-level BPE (any text, Chinese included, encodes
without <unk>), `<|endoftext|>` as EOS and pad, no BOS, `<|im_start|>`/`<|im_end|>` special tokens and the
ChatML chat template of Qwen2-Instruct.

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
from pathlib import Path

import sentencepiece as spm
import torch
from tokenizers import ByteLevelBPETokenizer, Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    BloomConfig,
    GPT2Config,
    GPT2Tokenizer,
    LlamaConfig,
    LlamaTokenizer,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2Tokenizer,
    T5Config,
    T5Tokenizer,
)
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ftkit.templates import TEMPLATES  # noqa: E402

FAMILIES = ("t5", "gpt2", "bloom", "llama", "qwen2")
QWEN2_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
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
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "data" / "sample" / "train.jsonl"


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


def train_sentencepiece(lines: list[str], out_file: Path, vocab_size: int, **special_ids: int) -> None:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=vocab_size,
        # A small corpus may not support the requested size; take what it gives.
        hard_vocab_limit=False,
        character_coverage=1.0,
        minloglevel=2,
        **special_ids,
    )
    out_file.write_bytes(model.getvalue())


def make_qwen2_tokenizer(lines: list[str], vocab_size: int) -> Qwen2Tokenizer:
    """Byte-level BPE trained with Qwen2's normaliser and pre-tokeniser, loaded as a Qwen2Tokenizer."""
    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=QWEN2_SPECIALS,
        # All 256 bytes, so text with characters the corpus lacks still encodes.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(lines, trainer)
    model = json.loads(bpe.to_str())["model"]
    tokenizer = Qwen2Tokenizer(
        vocab=model["vocab"],
        merges=[tuple(merge) for merge in model["merges"]],
        extra_special_tokens=QWEN2_SPECIALS[1:],
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def make_tokenizer(family: str, lines: list[str], vocab_size: int):
    if family == "qwen2":
        return make_qwen2_tokenizer(lines, vocab_size)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if family == "t5":
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
        if family == "llama":
            # The transformers 5 Llama tokenizer is a BPE backend: its sentencepiece model must be BPE too.
            train_sentencepiece(
                lines,
                folder / "tokenizer.model",
                vocab_size,
                model_type="bpe",
                unk_id=0,
                bos_id=1,
                eos_id=2,
                pad_id=-1,
            )
            return LlamaTokenizer.from_pretrained(folder, add_bos_token=True)
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


def make_config(family: str, tokenizer, hidden: int, layers: int, heads: int):
    vocab = len(tokenizer)
    if family == "t5":
        return T5Config(
            vocab_size=vocab,
            d_model=hidden,
            d_kv=hidden // heads,
            d_ff=hidden * 4,
            num_layers=layers,
            num_heads=heads,
            feed_forward_proj="gated-gelu",
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.pad_token_id,
        )
    common = dict(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if family == "gpt2":
        return GPT2Config(
            vocab_size=vocab, n_embd=hidden, n_layer=layers, n_head=heads, n_positions=512, **common
        )
    if family == "bloom":
        return BloomConfig(vocab_size=vocab, hidden_size=hidden, n_layer=layers, n_head=heads, **common)
    if family == "qwen2":
        # Grouped-query attention and tied embeddings, as in the small Qwen2 models (0.5B, 1.5B).
        return Qwen2Config(
            vocab_size=vocab,
            hidden_size=hidden,
            intermediate_size=hidden * 4,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            num_key_value_heads=max(1, heads // 2),
            max_position_embeddings=512,
            tie_word_embeddings=True,
            **common,
        )
    return LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=512,
        **common,
    )


def make_tiny_model(
    family: str,
    out: Path,
    corpus: Path = DEFAULT_CORPUS,
    vocab_size: int = 1000,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    seed: int = 0,
) -> Path:
    """Write a tiny `family` model and its tokenizer to `out` with `save_pretrained`; return `out`."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {FAMILIES}")
    lines = [line for line in corpus_lines(corpus) if line.strip()]
    tokenizer = make_tokenizer(family, lines, vocab_size)
    config = make_config(family, tokenizer, hidden, layers, heads)
    torch.manual_seed(seed)
    auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    model = auto.from_config(config)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


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
    )
    print(f"wrote tiny {args.family} model to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
