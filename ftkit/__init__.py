"""Shared code of the toolkit's entry points (finetune.py, preference_tune.py, interactive_generate.py,
scripts/). Each module has one job; imports point one way only, from the top of this list down:

    cli, preference         running an entry point; preference tuning (RM, DPO, GRPO) on TRL
    training                Trainer construction, ordered prediction, run logging
    checkpointing, throughput, generation
                            crash-safe checkpoints and resume; tokens/s and MFU; generation settings
    modeling                tokenizer and model loading: the one seq2seq/clm branch
    adapters, loading       PEFT adapters; memory-safe loading and its logs
    data, args, integrity   data reading/encoding/collating; argument dataclasses and their validation;
                            content hashes, run identity and arguments, finite weights
    templates               prompt templates
"""
