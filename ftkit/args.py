"""Command-line arguments and the one place where they are checked against each other and the model."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser, PretrainedConfig, Seq2SeqTrainingArguments

from ftkit.templates import DEFAULT_TEMPLATE, TEMPLATES

FRAMEWORKS = ("seq2seq", "clm")
# T5 was pretrained in bfloat16; its activations overflow the fp16 range (inf/NaN losses).
FP16_UNSAFE_MODEL_TYPES = {"t5", "mt5", "umt5", "longt5", "switch_transformers"}


class ConfigurationError(ValueError):
    """Arguments that cannot work together; the message says what to change."""


@dataclass
class ModelArguments:
    model_name_or_path: str = field(
        metadata={"help": "Local model folder (save_pretrained layout) or a Hugging Face hub id."}
    )
    framework: str | None = field(
        default=None,
        metadata={
            "help": "seq2seq (encoder-decoder, e.g. FLAN-T5) or clm (decoder-only, e.g. GPT2/BLOOM/LLaMA). "
            "Default: derived from the model config's is_encoder_decoder.",
            "choices": FRAMEWORKS,
        },
    )
    tokenizer_name: str | None = field(
        default=None, metadata={"help": "Tokenizer folder or id, if not the model's own."}
    )
    trust_remote_code: bool = field(
        default=False,
        metadata={"help": "Run modelling code shipped with the checkpoint. Only for checkpoints you trust."},
    )


@dataclass
class DataArguments:
    train_file: str | None = field(
        default=None, metadata={"help": 'Training data: JSONL, one {"source", "target"} object per line.'}
    )
    validation_file: str | None = field(default=None, metadata={"help": "Validation data, as --train_file."})
    test_file: str | None = field(
        default=None,
        metadata={
            "help": "Inputs for --do_predict: JSONL (target optional) or plain text, one source per line."
        },
    )
    prompt_template: str = field(
        default=DEFAULT_TEMPLATE,
        metadata={"help": "Prompt template name.", "choices": sorted(TEMPLATES)},
    )
    max_source_length: int = field(
        default=256, metadata={"help": "Longest prompt in tokens; longer prompts are truncated."}
    )
    max_target_length: int = field(
        default=256,
        metadata={
            "help": "Longest target in tokens (EOS included); also the generation limit in new tokens "
            "unless --generation_max_length is set."
        },
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Use the first N training examples."}
    )
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Use the first N validation examples."}
    )
    max_predict_samples: int | None = field(default=None, metadata={"help": "Predict the first N inputs."})
    predictions_file: str | None = field(
        default=None,
        metadata={
            "help": "Where --do_predict writes one prediction per input line. "
            "Default: <output_dir>/generated_predictions.txt"
        },
    )
    preprocessing_num_workers: int | None = field(
        default=None, metadata={"help": "Processes for tokenisation (datasets.map num_proc)."}
    )


def parse_args(
    argv: list[str] | None = None,
) -> tuple[ModelArguments, DataArguments, Seq2SeqTrainingArguments]:
    """Parse flags, or a single .json file holding the same names."""
    argv = sys.argv[1:] if argv is None else argv
    parser = HfArgumentParser((ModelArguments, DataArguments, Seq2SeqTrainingArguments))
    if len(argv) == 1 and argv[0].endswith(".json"):
        return parser.parse_json_file(json_file=Path(argv[0]).resolve())
    return parser.parse_args_into_dataclasses(args=argv)


def validate_args(
    model_args: ModelArguments,
    data_args: DataArguments,
    training_args: Seq2SeqTrainingArguments,
    config: PretrainedConfig,
) -> str:
    """Check the arguments against each other and the model config; return the framework to use.

    Raises:
        ConfigurationError: a contradiction, with the fix in the message.
    """
    inferred = "seq2seq" if config.is_encoder_decoder else "clm"
    if model_args.framework not in (None, inferred):
        raise ConfigurationError(
            f"--framework {model_args.framework} contradicts the model: {model_args.model_name_or_path} is a "
            f"{'encoder-decoder' if config.is_encoder_decoder else 'decoder-only'} model "
            f"({config.model_type}), which trains as {inferred}. Pass --framework {inferred} or leave it out."
        )
    if training_args.fp16 and config.model_type in FP16_UNSAFE_MODEL_TYPES:
        raise ConfigurationError(
            f"--fp16 with {config.model_type} ({model_args.model_name_or_path}): T5-family models were "
            "pretrained in bfloat16 and their activations overflow fp16 (losses become inf/NaN). "
            "Use --bf16 (Ampere or newer GPUs) or full fp32 (no precision flag)."
        )
    wanted = (
        ("--do_train", training_args.do_train, "--train_file", data_args.train_file),
        ("--do_eval", training_args.do_eval, "--validation_file", data_args.validation_file),
        ("--do_predict", training_args.do_predict, "--test_file", data_args.test_file),
    )
    for action, on, flag, path in wanted:
        if on and path is None:
            raise ConfigurationError(f"{action} needs {flag}.")
        if on and not Path(path).is_file():
            raise ConfigurationError(f"{flag} {path}: no such file.")
    if not (training_args.do_train or training_args.do_eval or training_args.do_predict):
        raise ConfigurationError("nothing to do: pass at least one of --do_train, --do_eval, --do_predict.")
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != training_args.world_size:
        raise ConfigurationError(
            f"{launched} processes were launched but the Trainer sees {training_args.world_size}: on a "
            "machine without GPUs, pass --use_cpu so every process joins the run."
        )
    # Prediction means generation; evaluation without metrics still computes the loss only.
    training_args.predict_with_generate = training_args.predict_with_generate or training_args.do_predict
    return inferred
