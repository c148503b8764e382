"""Shared code of the toolkit's entry points (finetune.py, preference_tune.py, interactive_generate.py,
scripts/). Each module has one job; a module imports only those on the lines below its own (and m2scorer;
data names frameworks' type for type checkers only):

    cli, commands/          running an entry point; the user tools behind scripts/ and the console scripts
    training, preference_training
                            Trainer construction, ordered prediction, run logging; preference tuning (RM,
                            DPO, GRPO) on TRL
    checkpointing, throughput, generation, preference_data
                            crash-safe checkpoints and resume; tokens/s and MFU; generation settings and
                            decoding; preference pairs and GRPO gold sentences
    rewards                 GRPO's rewards: a sentence's M2 F0.5, a reward model's score
    modeling                tokenizer and model loading
    adapters                PEFT adapters
    loading, memory         ZeRO-3 partitioned loading; allocator settings and host-memory logs
    validation              the arguments checked against each other and the model config
    args, integrity         argument dataclasses, their parsing and per-value checks; content hashes, run
                            identity and arguments, finite weights
    frameworks              what differs between encoder-decoder (seq2seq) and decoder-only (clm) models
    data                    data reading, encoding, collating
    templates, run_files, prediction_files
                            prompt templates; the names of a run folder's files (no torch); prediction files
                            and their summaries
"""
