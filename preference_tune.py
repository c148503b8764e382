"""Preference and RL tuning of a (finetuned) decoder-only model, on TRL: reward model, DPO, GRPO on M2 F0.5.

Stages (SFT is finetune.py; these start from its output, with the same --prompt_template):
    rm    a reward model: a one-output head on the model, trained on {"prompt", "chosen", "rejected"} JSONL;
          eval_accuracy is the share of validation pairs it ranks right.
    dpo   DPO from an SFT checkpoint against a frozen reference (the starting model; with --use_peft, the base
          model with the adapter off). Variants through TRL's --loss_type: ipo, hinge, robust, ...
    grpo  online RL: sampled corrections of each source are rewarded by their sentence-level F0.5 against
          the gold edits (m2scorer), optionally plus a reward model. Data: JSONL source/target, or .m2.

Usage (DeepSpeed on CPU as on GPUs; train.sh does this with STAGE=rm|dpo|grpo):
    deepspeed --num_gpus 1 preference_tune.py --stage dpo --deepspeed ds_configs/zero2.json \\
        --model_name_or_path outputs/tiny-llama-sample --train_file data/preference_sample/train.jsonl \\
        --output_dir outputs/tiny-llama-dpo --do_train --max_steps 100 --learning_rate 5e-5 --use_cpu
    python preference_tune.py args.json     # the same names, as one JSON object (with "stage")
"""

from __future__ import annotations

import logging
import sys

import transformers

from ftkit.args import parse_preference_args
from ftkit.checkpointing import resolve_resume_checkpoint
from ftkit.cli import run_entry_point, setup_logging
from ftkit.frameworks import CLM
from ftkit.integrity import run_arguments, template_for
from ftkit.loading import init_distributed_if_launched
from ftkit.modeling import load_config, load_model, load_tokenizer, weights_dtype
from ftkit.preference_data import (
    encode_preference_dataset,
    grpo_dataset,
    read_gold_sentences,
    read_preference_pairs,
)
from ftkit.preference_training import build_preference_trainer, load_reward_model, lora_config
from ftkit.rewards import RewardModelScorer, m2_f05_reward
from ftkit.training import evaluate_and_save, log_run_setup, train_and_save
from ftkit.validation import validate_preference_args

logger = logging.getLogger("preference_tune")


def run(argv: list[str] | None = None) -> None:
    model_args, pref_args, lora_args, training_args, checkpoint_args = parse_preference_args(argv)
    stage = pref_args.stage
    setup_logging("preference_tune", training_args.should_log, training_args.get_process_log_level())
    init_distributed_if_launched(bool(training_args.deepspeed))

    config = load_config(model_args.model_name_or_path, model_args.trust_remote_code)
    validate_preference_args(model_args, pref_args, training_args, config)
    pref_args.prompt_template = template_for(model_args.model_name_or_path, pref_args.prompt_template)
    logger.info("prompt template: %s", pref_args.prompt_template)
    run_args = run_arguments(CLM.name, model_args, pref_args, lora_args, training_args, checkpoint_args)
    resume_from = resolve_resume_checkpoint(
        training_args.output_dir,
        training_args.resume_from_checkpoint,
        checkpoint_args.cleanup_partial_checkpoints,
        run_args=run_args,
        overwrite_other_run=checkpoint_args.overwrite_output_dir,
    )
    tokenizer = load_tokenizer(
        model_args.tokenizer_name or model_args.model_name_or_path, model_args.trust_remote_code
    )

    # Read and check every input before anything is loaded or written.
    splits = {}
    for split, path, limit in (
        ("train", pref_args.train_file, pref_args.max_train_samples),
        ("eval", pref_args.validation_file if training_args.do_eval else None, pref_args.max_eval_samples),
    ):
        if path is None:
            continue
        if stage == "grpo":
            sentences = read_gold_sentences(path, limit)
            splits[split] = grpo_dataset(
                sentences, pref_args.prompt_template, tokenizer, pref_args.max_source_length
            )
        else:
            splits[split] = encode_preference_dataset(
                read_preference_pairs(path, limit),
                stage,
                tokenizer,
                pref_args.prompt_template,
                pref_args.max_source_length,
                pref_args.max_target_length,
            )
        logger.info("%s data: %d rows from %s", split, len(splits[split]), path)

    # The reward head (rm) and LoRA weights are initialised at random: the same --seed, the same start.
    transformers.set_seed(training_args.seed)
    dtype = weights_dtype(True, bool(training_args.deepspeed), training_args.bf16, training_args.fp16)
    if stage == "rm":
        model = load_reward_model(
            model_args.model_name_or_path, config, tokenizer, dtype, model_args.trust_remote_code
        )
    else:
        model = load_model(
            model_args.model_name_or_path, CLM, config, tokenizer, dtype, model_args.trust_remote_code
        )
    ref_model = None
    if stage == "dpo" and not pref_args.use_peft:
        # The frozen reference: the starting model itself, loaded as the policy is.
        ref_model = load_model(
            model_args.model_name_or_path, CLM, config, tokenizer, dtype, model_args.trust_remote_code
        )
    reward_funcs = None
    if stage == "grpo":
        reward_funcs = [m2_f05_reward]
        if pref_args.reward_model_name_or_path:
            path = pref_args.reward_model_name_or_path
            rm_tokenizer = load_tokenizer(path, model_args.trust_remote_code)
            reward_model = load_reward_model(path, load_config(path), rm_tokenizer, "auto")
            reward_funcs.append(
                RewardModelScorer(
                    reward_model,
                    rm_tokenizer,
                    pref_args.max_source_length,
                    pref_args.max_target_length,
                    training_args.device,
                )
            )

    trainer = build_preference_trainer(
        stage,
        model,
        tokenizer,
        training_args,
        splits["train"],
        splits.get("eval"),
        ref_model=ref_model,
        reward_funcs=reward_funcs,
        peft_config=lora_config(lora_args, stage) if pref_args.use_peft else None,
    )
    log_run_setup(training_args, trainer.model)  # after PEFT wrapping: the trainable share is the adapter's
    trainer.track_run(run_args, checkpoint_args.max_non_finite_steps)
    train_and_save(trainer, resume_from)
    if training_args.do_eval:
        evaluate_and_save(trainer)


def main(argv: list[str] | None = None) -> int:
    return run_entry_point(run, argv)


if __name__ == "__main__":
    sys.exit(main())
