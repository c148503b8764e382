"""TRL's SFTTrainer on prompt/completion data, as its documentation sets it up for completion-only loss.

The prompt/completion pairs are tokenised as the careful HF script tokenises them (hf_trainer.py) and given
to SFTTrainer as `input_ids` + `completion_mask`, which it trains on with its own collator (completion-only
loss, dynamic padding, or one padding-free row per batch with --padding_free true). TRL's text path
tokenises prompt + completion as one string, which merges the completion's first word with the prompt's
last newline differently (one token more or less per example), so the token counts would not match the
other systems'.

    python scripts/bench_peers/trl_sft.py --model DIR --train_file prompt_completion.jsonl \\
        --output_dir OUT [SFTConfig flags, e.g. --padding_free true --deepspeed ds_configs/zero2.json]
"""

from __future__ import annotations

import sys

from hf_trainer import load_model, parse_known_args, tokenized_dataset
from measure import Clock
from transformers import AutoTokenizer, HfArgumentParser
from trl import SFTConfig, SFTTrainer


def main(argv: list[str]) -> None:
    args, rest = parse_known_args(argv)
    (config,) = HfArgumentParser(SFTConfig).parse_args_into_dataclasses(
        # SFTConfig's defaults turn on gradient checkpointing and bf16: the race runs every system with
        # the same precision and without recomputation (the bench passes --bf16 to all when asked).
        ["--train_sampling_strategy", "group_by_length", "--gradient_checkpointing", "false",
         "--bf16", "false", "--completion_only_loss", "true", *rest]
    )  # fmt: skip
    if config.padding_free and not config.packing:
        config.max_length = None  # TRL's requirement: it cannot cut a padding-free row per example
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = load_model(args)
    tokenized = tokenized_dataset(args.train_file, tokenizer)
    dataset = tokenized.map(
        lambda row: {"completion_mask": [int(t != -100) for t in row["labels"]]}, remove_columns=["labels"]
    )
    clock = Clock(config.output_dir)
    trainer = SFTTrainer(
        model=model, args=config, train_dataset=dataset, processing_class=tokenizer, callbacks=[clock]
    )
    clock.dataset = trainer.train_dataset
    trainer.train()
    trainer.save_model()


if __name__ == "__main__":
    main(sys.argv[1:])
