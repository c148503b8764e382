"""Finetune, evaluate and predict with seq2seq (FLAN-T5...) and clm (GPT2, BLOOM, LLaMA...) models.

Usage (one process; use the deepspeed launcher or train.sh for DeepSpeed and several GPUs):
    python finetune.py --model_name_or_path google/flan-t5-base --train_file data/sample/train.jsonl \\
        --validation_file data/sample/valid.jsonl --test_file data/eval/sample/source.txt \\
        --output_dir outputs/demo --do_train --do_eval --do_predict
    python finetune.py args.json          # the same names, as one JSON object
    python finetune.py ... --finetuning_type lora   # or prompt_tuning, prefix_tuning, p_tuning: saves the
                                                     # adapter only; --model_name_or_path ADAPTER_DIR predicts
"""

from __future__ import annotations

import logging
import os

import torch

from ftkit.adapters import quantization_config, wrap_for_training
from ftkit.args import parse_args
from ftkit.checkpointing import resolve_resume_checkpoint
from ftkit.cli import exit_process, run_entry_point, setup_logging
from ftkit.data import encode_dataset, load_dataset_file
from ftkit.generation import generation_kwargs
from ftkit.integrity import run_arguments, template_for
from ftkit.loading import init_distributed_if_launched, load_device_map
from ftkit.modeling import load_config, load_model, load_tokenizer, weights_dtype
from ftkit.prediction_files import prediction_stats_path, write_lines
from ftkit.training import (
    build_trainer,
    evaluate_and_save,
    log_run_setup,
    predict,
    train_and_save,
)
from ftkit.validation import validate_args

logger = logging.getLogger("finetune")


def run(argv: list[str] | None = None) -> None:
    model_args, data_args, training_args, checkpoint_args, peft_args = parse_args(argv)
    setup_logging("finetune", training_args.should_log, training_args.get_process_log_level())
    init_distributed_if_launched(bool(training_args.deepspeed))

    config = load_config(model_args.model_name_or_path, model_args.trust_remote_code)
    framework = validate_args(model_args, data_args, training_args, config, peft_args)
    data_args.prompt_template = template_for(model_args.model_name_or_path, data_args.prompt_template)
    logger.info("prompt template: %s", data_args.prompt_template)
    # "auto" becomes the newest good checkpoint of this run (or None); half-written, corrupt ones and
    # another run's are reported, never picked.
    resume_from = run_args = None
    if training_args.do_train:
        run_args = run_arguments(
            framework.name, model_args, data_args, training_args, checkpoint_args, peft_args
        )
        resume_from = resolve_resume_checkpoint(
            training_args.output_dir,
            training_args.resume_from_checkpoint,
            checkpoint_args.cleanup_partial_checkpoints,
            run_args=run_args,
            overwrite_other_run=checkpoint_args.overwrite_output_dir,
        )
    tokenizer_path = model_args.tokenizer_name or model_args.model_name_or_path
    tokenizer = load_tokenizer(tokenizer_path, model_args.trust_remote_code)

    # Read every input before anything is written, so bad data fails fast and leaves no half-made run.
    splits = {}
    wanted = (
        ("train", training_args.do_train, data_args.train_file, True, data_args.max_train_samples),
        ("eval", training_args.do_eval, data_args.validation_file, True, data_args.max_eval_samples),
        ("predict", training_args.do_predict, data_args.test_file, False, data_args.max_predict_samples),
    )
    for split, wanted_split, path, require_target, limit in wanted:
        if not wanted_split:
            continue
        dataset = load_dataset_file(path, require_target, limit)
        if split == "predict" and "target" in dataset.column_names:
            dataset = dataset.remove_columns("target")
        with training_args.main_process_first(desc=f"tokenising {split} data"):
            splits[split] = encode_dataset(
                dataset,
                framework,
                tokenizer,
                data_args.prompt_template,
                data_args.max_source_length,
                data_args.max_target_length,
                data_args.preprocessing_num_workers,
                name=str(path),
            )

    model = load_model(
        model_args.model_name_or_path,
        framework,
        config,
        tokenizer,
        weights_dtype(
            training_args.do_train, bool(training_args.deepspeed), training_args.bf16, training_args.fp16
        ),
        model_args.trust_remote_code,
        attn_implementation=model_args.attn_implementation,
        half_precision=training_args.bf16 or training_args.fp16,
        device_map=load_device_map(training_args.device),
        quantization_config=quantization_config(
            peft_args.quantization_bit,
            torch.bfloat16 if training_args.bf16 else torch.float16 if training_args.fp16 else torch.float32,
        ),
        # An adapter folder (adapter_config.json) trains further with --do_train.
        adapter_trainable=training_args.do_train,
    )
    if training_args.do_train:
        model = wrap_for_training(
            model, peft_args, framework, tokenizer_path, training_args.gradient_checkpointing
        )
    log_run_setup(training_args, model)

    trainer = build_trainer(
        model,
        tokenizer,
        training_args,
        framework,
        splits.get("train"),
        splits.get("eval"),
        packing=data_args.packing,
    )
    if training_args.do_train:
        # run_args.json goes into the run folder when training starts, and into every saved folder.
        trainer.track_run(run_args, checkpoint_args.max_non_finite_steps)
        # After SIGTERM/SIGINT or a divergence this raises; eval and predict are skipped.
        train_and_save(trainer, resume_from)
    if training_args.do_eval:
        evaluate_and_save(trainer)
    if training_args.do_predict:
        gen_kwargs = generation_kwargs(
            training_args.generation_num_beams,
            training_args.generation_max_length or data_args.max_target_length,
        )
        path = data_args.predictions_file or os.path.join(
            training_args.output_dir, "generated_predictions.txt"
        )
        predictions = predict(trainer, splits["predict"], gen_kwargs, stats_path=prediction_stats_path(path))
        if trainer.is_world_process_zero():
            write_lines(path, predictions)
            logger.info("wrote %d predictions to %s", len(predictions), path)


def main(argv: list[str] | None = None) -> int:
    return run_entry_point(run, argv)


if __name__ == "__main__":
    exit_process(main())
