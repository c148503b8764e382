"""The careful HF Trainer script a user would write for GEC finetuning of a decoder-only model.

Prompt and completion are tokenised separately (the prompt with the tokenizer's special tokens, the
completion without, EOS appended) so the loss covers the completion exactly; DataCollatorForSeq2Seq pads
each batch to its longest example (labels with -100), and length grouping keeps that padding small.

    python scripts/bench_peers/hf_trainer.py --model DIR --train_file prompt_completion.jsonl \\
        --output_dir OUT [TrainingArguments flags, e.g. --max_steps 200 --deepspeed ds_configs/zero2.json]

The train file holds {"prompt", "completion"} lines. bench_train.py runs it (under the deepspeed launcher
too); only the `Clock` callback is the benchmark's.
"""

from __future__ import annotations

import argparse
import sys

from datasets import Dataset, load_dataset
from measure import Clock
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorForSeq2Seq,
    HfArgumentParser,
    PreTrainedModel,
    Trainer,
    TrainingArguments,
)


def tokenized_dataset(path: str, tokenizer) -> Dataset:
    """input_ids = prompt + completion + EOS, labels = -100 over the prompt, then the completion + EOS."""

    def tokenize(batch):
        prompts = tokenizer(batch["prompt"])["input_ids"]
        completions = tokenizer(batch["completion"], add_special_tokens=False)["input_ids"]
        input_ids, labels = [], []
        for prompt, completion in zip(prompts, completions, strict=True):
            answer = completion + [tokenizer.eos_token_id]
            input_ids.append(prompt + answer)
            labels.append([-100] * len(prompt) + answer)
        return {"input_ids": input_ids, "attention_mask": [[1] * len(i) for i in input_ids], "labels": labels}

    raw = load_dataset("json", data_files=path, split="train")
    return raw.map(tokenize, batched=True, remove_columns=raw.column_names)


def parse_known_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """The model and data flags (trl_sft.py takes the same); the rest are the trainer's arguments."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--train_file", required=True)
    parser.add_argument("--attn_implementation", default="sdpa")
    return parser.parse_known_args(argv)


def load_model(args: argparse.Namespace) -> PreTrainedModel:
    """The checkpoint in its own dtype, with the attention kernel asked for (trl_sft.py loads it so too)."""
    return AutoModelForCausalLM.from_pretrained(
        args.model, attn_implementation=args.attn_implementation, dtype="auto"
    )


def main(argv: list[str]) -> None:
    args, rest = parse_known_args(argv)
    (training_args,) = HfArgumentParser(TrainingArguments).parse_args_into_dataclasses(
        ["--train_sampling_strategy", "group_by_length", *rest]
    )
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = load_model(args)

    dataset = tokenized_dataset(args.train_file, tokenizer)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=dataset,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
        callbacks=[Clock(training_args.output_dir)],
    )
    trainer.train()
    trainer.save_model()


if __name__ == "__main__":
    main(sys.argv[1:])
