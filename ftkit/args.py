"""Command-line arguments of every entry point: the dataclasses, their parsing (flags or one .json file),
and the checks of each value on its own as it is parsed. Checks across arguments and against the model are
ftkit.validation's."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import HfArgumentParser, Seq2SeqTrainingArguments
from trl import DPOConfig, GRPOConfig, RewardConfig

from ftkit.frameworks import FRAMEWORKS
from ftkit.templates import DEFAULT_TEMPLATE, TEMPLATES

ATTN_IMPLEMENTATIONS = ("sdpa", "flash_attention_2", "eager")
# full: every weight; lora: low-rank updates of the linear layers; the rest learn virtual tokens only.
FINETUNING_TYPES = ("full", "lora", "prompt_tuning", "prefix_tuning", "p_tuning")
# The logging interval of every stage when --logging_steps is not given: a share of the run's steps (the
# Trainer reads an interval below 1 so), 50 logs a run whatever its length. A fixed count logs nothing in a
# run shorter than it (GRPO's 10 in a 6-step run) and floods a long one.
LOGGING_STEPS = 0.02
STAGES = ("rm", "dpo", "grpo")


# --max_source_length and --max_target_length of every entry point, in tokens.
MAX_LENGTH = 256


class ConfigurationError(ValueError):
    """Arguments that cannot work together; the message says what to change."""


# Flags that count something, of every arguments class (ours and TRL's): at least 1 when given. None (where
# a flag allows it) keeps its documented meaning, such as "all examples" for --max_train_samples.
COUNT_FLAGS = {
    "max_train_samples": "training examples to use; leave it out for all",
    "max_eval_samples": "validation examples to use; leave it out for all",
    "max_predict_samples": "inputs to predict; leave it out for all",
    "max_source_length": "prompt tokens",
    "max_target_length": "target tokens, EOS included",
    "preprocessing_num_workers": "tokenising processes; leave it out for one",
    "per_device_train_batch_size": "examples per process and step",
    "per_device_eval_batch_size": "examples per process and step",
    "gradient_accumulation_steps": "batches per optimizer step",
    "generation_max_length": "new tokens per prediction",
    "generation_num_beams": "beams; 1 is greedy",
    "num_virtual_tokens": "virtual tokens",
    "lora_r": "the LoRA rank",
    "max_non_finite_steps": "consecutive non-finite steps before the run stops",
    "num_generations": "completions per prompt",
    "max_completion_length": "new tokens per completion",
}
# Intervals in steps (a float below 1 is a share of the run's steps): above 0 when given.
INTERVAL_FLAGS = ("save_steps", "eval_steps", "logging_steps")
# Values that may be 0 but not negative.
NON_NEGATIVE_FLAGS = ("learning_rate", "dataloader_num_workers", "weight_decay", "max_grad_norm")
# What DeepSpeed reads from the environment to join a run; without all of them it looks for MPI (mpi4py).
LAUNCHER_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def check_values(args: Any) -> None:
    """Check each value of an arguments object on its own, whatever its class: counts, intervals, paths, the
    precision and the DeepSpeed config. Runs as the flags are parsed (CheckedArguments), so before any
    file but the DeepSpeed config is read, a process group starts or a model loads.

    Raises:
        ConfigurationError: a value that cannot work, with the fix in the message.
    """
    for name, meaning in COUNT_FLAGS.items():
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise ConfigurationError(f"--{name} {value}: give at least 1 ({meaning}).")
    for name in INTERVAL_FLAGS:
        value = getattr(args, name, None)
        if value is not None and value <= 0:
            raise ConfigurationError(
                f"--{name} {value}: give a number of steps above 0 (below 1: a share of the run's steps)."
            )
    for name in NON_NEGATIVE_FLAGS:
        value = getattr(args, name, None)
        if value is not None and value < 0:
            raise ConfigurationError(f"--{name} {value}: give 0 or more.")
    max_steps = getattr(args, "max_steps", -1)
    if max_steps == 0 or max_steps < -1:
        raise ConfigurationError(
            f"--max_steps {max_steps}: give the number of optimizer steps (at least 1), or leave it out "
            "(-1) to train --num_train_epochs epochs."
        )
    if max_steps == -1 and getattr(args, "num_train_epochs", 1) <= 0:
        raise ConfigurationError(
            f"--num_train_epochs {args.num_train_epochs}: give more than 0 epochs, or --max_steps."
        )
    if getattr(args, "bf16", False) and getattr(args, "fp16", False):
        raise ConfigurationError(
            "--bf16 and --fp16 together: pick one (--bf16 on Ampere or newer GPUs, --fp16 on older ones), "
            "or neither for fp32."
        )
    output_dir = getattr(args, "output_dir", None)
    if output_dir is not None and Path(output_dir).exists() and not Path(output_dir).is_dir():
        raise ConfigurationError(
            f"--output_dir {output_dir} is a file, not a folder: give a new folder or a run folder."
        )
    if getattr(args, "predictions_file", None) is not None:
        check_output_file(args.predictions_file, "--predictions_file")
    if getattr(args, "deepspeed", None):
        check_deepspeed(args.deepspeed)


def count(text: str) -> int:
    """argparse `type` of the scripts' count flags (argparse-based scripts; the dataclasses use COUNT_FLAGS).

    Raises:
        argparse.ArgumentTypeError: not a whole number of at least 1 (argparse exits 2 with the flag's name).
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a whole number of at least 1, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"give at least 1, not {value}")
    return value


def check_output_file(path: str | Path, flag: str) -> None:
    """Check, before any work, that `path` can be written as a file (write_lines creates missing folders).

    Raises:
        ConfigurationError: `path` is a folder, a path above it is a file, or the folder it would be made in
            is not writable; the message names `flag`.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigurationError(
            f"{flag} {path} is a folder; give the path of a file, such as "
            f"{path / 'generated_predictions.txt'}."
        )
    existing = next(folder for folder in path.absolute().parents if folder.exists())
    if not existing.is_dir():
        raise ConfigurationError(f"{flag} {path}: {existing} is a file, so no folder can be made there.")
    writable = path if path.exists() else existing
    if not os.access(writable, os.W_OK):
        raise ConfigurationError(f"{flag} {path}: {writable} is not writable; give a path you can write.")


def check_deepspeed(config: str | dict) -> None:
    """The --deepspeed config is a readable JSON object, and the process was started by a launcher.

    Raises:
        ConfigurationError: a missing or malformed file (file, line and column), or no launcher.
    """
    if isinstance(config, str):
        path = Path(config)
        # transformers also takes the config as a base64 string; a name that looks like a path is a path.
        if not path.is_file() and (config.endswith(".json") or os.sep in config):
            raise ConfigurationError(
                f"--deepspeed {config}: no such file. The repository's configs are ds_configs/zero1.json, "
                "zero2.json, zero3.json and their _offload variants."
            )
        if path.is_file():
            read_json_object(path, "--deepspeed")
    missing = [name for name in LAUNCHER_ENV if name not in os.environ]
    if missing and importlib.util.find_spec("mpi4py") is None:
        raise ConfigurationError(
            f"--deepspeed without a launcher: {', '.join(missing)} not set, so DeepSpeed would look for "
            "MPI and fail on the missing mpi4py (with an offload config, minutes later, after building its "
            "ops). Start the run with the launcher: "
            "deepspeed --num_gpus 1 finetune.py ... (or preference_tune.py, or bash train.sh); for one "
            "process without it, set "
            "RANK=0 LOCAL_RANK=0 WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500."
        )


def read_json_object(path: str | Path, what: str) -> dict[str, Any]:
    """The JSON object in a file.

    Raises:
        ConfigurationError: a missing or unreadable file, invalid JSON (file:line:column), or not an object.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"{what} {path}: no such file.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigurationError(f"{what} {path}: cannot be read ({e}).") from None
    try:
        values = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigurationError(
            f"{path}:{e.lineno}:{e.colno}: not valid JSON ({e.msg}). {what} takes one JSON object, such as "
            '{"key": "value", "number": 1}.'
        ) from None
    if not isinstance(values, dict):
        raise ConfigurationError(f"{path}: {what} takes one JSON object, not a {type(values).__name__}.")
    return values


class CheckedArguments:
    """Mixin for every arguments dataclass of the toolkit (ours and TRL's): its values are checked
    (check_values) when it is built, before a parent's __post_init__ reads the DeepSpeed config or starts
    a process group."""

    def __post_init__(self):
        check_values(self)
        parent = getattr(super(), "__post_init__", None)
        if parent is not None:
            parent()


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
            "choices": tuple(FRAMEWORKS),
        },
    )
    tokenizer_name: str | None = field(
        default=None, metadata={"help": "Tokenizer folder or id, if not the model's own."}
    )
    trust_remote_code: bool = field(
        default=False,
        metadata={"help": "Run modelling code shipped with the checkpoint. Only for checkpoints you trust."},
    )
    attn_implementation: str | None = field(
        default=None,
        metadata={
            "help": "Attention kernel. Default: the fastest the model and machine support: flash_attention_2 "
            "on a CUDA GPU with the flash-attn package (and --bf16/--fp16), else sdpa, else eager.",
            "choices": ATTN_IMPLEMENTATIONS,
        },
    )


@dataclass
class DataArguments(CheckedArguments):
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
    prompt_template: str | None = field(
        default=None,
        metadata={
            "help": "Prompt template name. Default: the one the model was trained with (its run_args.json), "
            f"else {DEFAULT_TEMPLATE}.",
            "choices": sorted(TEMPLATES),
        },
    )
    max_source_length: int = field(
        default=MAX_LENGTH,
        metadata={
            "help": "Longest prompt in tokens; a longer prompt loses the end of its source (the template "
            "stays whole), counted in the log."
        },
    )
    max_target_length: int = field(
        default=MAX_LENGTH,
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
    packing: bool = field(
        default=False,
        metadata={
            "help": "clm only: train on padding-free batches, each batch's examples concatenated into one "
            "row with position ids restarting per example, so no token attends to or predicts another "
            "example (same loss as padded batches). Fastest with flash_attention_2; on CPU/SDPA the "
            "block-diagonal mask spans the whole row, so length-grouped padding is usually faster there."
        },
    )


@dataclass
class CheckpointArguments(CheckedArguments):
    cleanup_partial_checkpoints: bool = field(
        default=False,
        metadata={
            "help": "Delete checkpoint folders without a completion marker (left by a run killed while "
            "writing them) from --output_dir before training. They are never resumed from either way."
        },
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "Delete the checkpoints and saved model of another run found in --output_dir before "
            "training. Without it, a run into a folder that holds another run's checkpoints is refused."
        },
    )
    max_non_finite_steps: int = field(
        default=3,
        metadata={
            "help": "Stop training (exit code 3) when the loss or gradient norm is NaN/inf on this many "
            "consecutive optimizer steps; no checkpoint or model is written from non-finite weights."
        },
    )


@dataclass
class LoraArguments(CheckedArguments):
    """The LoRA options of every entry point that trains (finetune.py --finetuning_type lora,
    preference_tune.py --use_peft)."""

    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator (scale = alpha / r)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA input."})
    lora_target: str = field(
        default="all-linear",
        metadata={
            "help": 'Modules LoRA adapts: "all-linear" (every linear layer but the output layer) or '
            'comma-separated module names such as "q_proj,v_proj" (LLaMA) or "q,v" (T5).'
        },
    )


@dataclass
class PeftArguments(LoraArguments):
    finetuning_type: str = field(
        default="full",
        metadata={
            "help": "full: train every weight. lora: LoRA adapters on --lora_target. prompt_tuning, "
            "prefix_tuning, p_tuning: learn --num_virtual_tokens virtual tokens (input embeddings; per-layer "
            "keys/values; embeddings from a small encoder). Adapters save only their own weights; "
            "--model_name_or_path ADAPTER_DIR loads base + adapter for prediction.",
            "choices": FINETUNING_TYPES,
        },
    )
    num_virtual_tokens: int = field(
        default=20, metadata={"help": "prompt_tuning/prefix_tuning/p_tuning: number of virtual tokens."}
    )
    prompt_tuning_init_text: str | None = field(
        default=None,
        metadata={
            "help": "prompt_tuning: start the virtual tokens from this text's embeddings (e.g. the "
            "instruction) instead of random vectors."
        },
    )
    quantization_bit: int | None = field(
        default=None,
        metadata={
            "help": "QLoRA: load the frozen base weights in 4 or 8 bits (bitsandbytes, CUDA GPU only) and "
            "train LoRA adapters on them. Needs --finetuning_type lora.",
            "choices": [4, 8],
        },
    )


def skip_deepspeed_shm_comm_on_cpu() -> None:
    """Keep DeepSpeed's CPU backend on plain gloo, without its shared-memory all-reduce op.

    On the CPU accelerator, DeepSpeed compiles the `shm_comm` op (on every fresh machine) and each
    process maps a buffer in /dev/shm that is never unlinked, for an all-reduce used only by tensor-parallel
    inference, never by training. Where /dev/shm is smaller than that buffer (as Docker's default is), a
    rank crashes and its peers spin forever waiting for its buffer: a two-process ZeRO-3 run hung until
    killed (the README gives the sizes). Marking the op incompatible is the
    switch DeepSpeed itself consults (`deepspeed.comm.torch.build_shm_op`); gloo then does every collective.
    Accelerators other than the CPU have no such op, and nothing changes for them.
    """
    import deepspeed.ops
    from deepspeed.accelerator import get_accelerator

    builder = get_accelerator().create_op_builder("ShareMemCommBuilder")  # None off the CPU accelerator
    if builder is not None:
        deepspeed.ops.__compatible_ops__[builder.name] = False


class GlooCollectivesOnCpu(CheckedArguments):
    """Mixin for every training-arguments class of the toolkit (ours and TRL's): checked values, and under
    DeepSpeed on the CPU, collectives on plain gloo (skip_deepspeed_shm_comm_on_cpu)."""

    def __post_init__(self):
        # Before the parent's __post_init__, which may already start DeepSpeed's process group.
        if self.deepspeed:
            skip_deepspeed_shm_comm_on_cpu()
        super().__post_init__()


@dataclass
class TrainingArguments(GlooCollectivesOnCpu, Seq2SeqTrainingArguments):
    """Seq2SeqTrainingArguments, with length-grouped training batches by default."""

    # GEC sentences vary in length: random batches are mostly padding. Pass random to turn this off.
    train_sampling_strategy: str = field(
        default="group_by_length",
        metadata={
            "help": "Sampler for training: group_by_length (default: batches of similar length, little "
            "padding), random, sequential, or batch_rebalance.",
            "choices": ["group_by_length", "random", "sequential", "batch_rebalance"],
        },
    )
    logging_steps: float = field(
        default=LOGGING_STEPS,
        metadata={
            "help": f"Log every N steps; below 1, a share of the run's steps [{LOGGING_STEPS}: 50 logs a "
            "run, whatever its length]"
        },
    )
    save_shard_size: str = field(
        default="5GB",
        metadata={
            "help": "Largest safetensors file of a saved model (final and checkpoint-N), e.g. 5GB or 500MB; "
            "bigger models are split into shards with a model.safetensors.index.json."
        },
    )


@dataclass
class RewardArguments(GlooCollectivesOnCpu, RewardConfig):
    """TRL's RewardConfig, with DeepSpeed's CPU collectives on gloo as in every run of the toolkit."""


@dataclass
class DPOArguments(GlooCollectivesOnCpu, DPOConfig):
    """TRL's DPOConfig, with DeepSpeed's CPU collectives on gloo as in every run of the toolkit."""


@dataclass
class GRPOArguments(GlooCollectivesOnCpu, GRPOConfig):
    """TRL's GRPOConfig, with DeepSpeed's CPU collectives on gloo as in every run of the toolkit."""


# Each preference stage's TRL config class: TrainingArguments plus the method's own settings (beta, ...).
STAGE_CONFIGS: dict[str, type[Seq2SeqTrainingArguments]] = {
    "rm": RewardArguments,
    "dpo": DPOArguments,
    "grpo": GRPOArguments,
}
# TRL's defaults that differ from finetune.py's: bf16 on (wrong on CPU and pre-Ampere GPUs), activation
# checkpointing on (through its deprecated alias gradient_checkpointing, which warns) and a log every 10 steps
# (none in a shorter run). Preference runs start from the same defaults as SFT runs: bf16 and checkpointing
# off (--bf16 and --activation_checkpointing turn them on), LOGGING_STEPS.
TOOLKIT_DEFAULTS: dict[str, Any] = {
    "bf16": False,
    "gradient_checkpointing": None,
    "logging_steps": LOGGING_STEPS,
}


@dataclass
class PreferenceModelArguments(ModelArguments):
    """ModelArguments without --trust_remote_code: each TRL config defines that flag; it is copied here."""

    trust_remote_code: bool = field(default=False, init=False)


@dataclass
class PreferenceArguments(CheckedArguments):
    stage: str = field(
        metadata={
            "help": "rm: reward model on preference pairs; dpo: DPO (or --loss_type ipo, hinge, ...) on "
            "preference pairs; grpo: online RL with sentence-level M2 F0.5 as the reward.",
            "choices": STAGES,
        }
    )
    train_file: str | None = field(
        default=None,
        metadata={
            "help": 'rm/dpo: JSONL, one {"prompt", "chosen", "rejected"} object per line (prompt = the '
            'input text, e.g. the source sentence). grpo: JSONL with "source" and "target" (gold edits '
            "derived from the difference) or an .m2 file (its gold edits)."
        },
    )
    validation_file: str | None = field(default=None, metadata={"help": "Validation data, as --train_file."})
    prompt_template: str | None = field(
        default=None,
        metadata={
            "help": "Prompt template, applied to each prompt/source. Default: the one the model was trained "
            f"with (its run_args.json), else {DEFAULT_TEMPLATE}.",
            "choices": sorted(TEMPLATES),
        },
    )
    max_source_length: int = field(
        default=MAX_LENGTH,
        metadata={
            "help": "Longest prompt in tokens (rm/dpo pairs, grpo prompts, the grpo reward model's input): a "
            "longer source is cut, the template around it kept whole, as in finetune.py."
        },
    )
    max_target_length: int = field(
        default=MAX_LENGTH,
        metadata={
            "help": "rm/dpo: longest answer in tokens (EOS included). grpo: see --max_completion_length."
        },
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Use the first N training rows."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Use the first N validation rows."})
    reward_model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "grpo: a reward model trained with --stage rm, added to the M2 reward (weights: "
            "--reward_weights M2_WEIGHT RM_WEIGHT)."
        },
    )
    use_peft: bool = field(
        default=False,
        metadata={
            "help": "Train a LoRA adapter (--lora_r, --lora_alpha, --lora_dropout, --lora_target) instead of "
            "all weights. For dpo the reference model is then the base model with the adapter switched "
            "off, so no second copy is loaded."
        },
    )


ARGUMENT_CLASSES = (ModelArguments, DataArguments, TrainingArguments, CheckpointArguments, PeftArguments)


def parse_args(
    argv: list[str] | None = None,
) -> tuple[ModelArguments, DataArguments, Seq2SeqTrainingArguments, CheckpointArguments, PeftArguments]:
    """Parse flags, or a single .json file holding the same names.

    Raises:
        ConfigurationError: a value check_values or transformers rejects; an unreadable .json file, a key
            that is no flag, or a value of the wrong type.
    """
    argv = sys.argv[1:] if argv is None else argv
    parser = HfArgumentParser(ARGUMENT_CLASSES)
    if len(argv) == 1 and argv[0].endswith(".json"):
        return parse_json_values(parser, read_json_object(argv[0], "the arguments file"), argv[0])
    try:
        return parser.parse_args_into_dataclasses(args=argv)
    except ValueError as e:  # ours (a ConfigurationError) or transformers' in TrainingArguments.__post_init__
        raise ConfigurationError(str(e)) from None


# The JSON types of the flags' converters. HfArgumentParser.parse_dict passes JSON values to the dataclasses
# unconverted, so a "5" or a 5.5 for an int flag would otherwise reach the code as a str or a float.
JSON_TYPES = {
    "int": ((int,), "a whole number"),
    "float": ((int, float), "a number"),
    "str": ((str,), "a string"),
    "string_to_bool": ((bool,), "true or false"),
}


def parse_json_values(parser: HfArgumentParser, values: dict[str, Any], path: str | Path) -> tuple:
    """`parser`'s dataclasses from the values of an arguments file (`path`, for messages).

    Raises:
        ConfigurationError: a key that is no flag, a value of the wrong type or not among the flag's
            choices, or a value check_values or transformers rejects.
    """
    # argparse keeps each flag's converter, nargs and choices on its actions: the one record of the flags.
    actions = {action.dest: action for action in parser._actions if action.dest != "help"}
    unknown = sorted(set(values) - set(actions))
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown keys {', '.join(unknown)}. Each key is a flag name without the dashes "
            '(--help lists them), e.g. {"max_steps": 100}.'
        )
    for key, value in values.items():
        action = actions[key]
        expected = JSON_TYPES.get(getattr(action.type, "__name__", ""))
        if value is None or expected is None or isinstance(value, (list, dict)):
            continue
        types, described = expected
        if isinstance(value, bool) != (bool in types) or not isinstance(value, types):
            raise ConfigurationError(f'{path}: "{key}": {json.dumps(value)} is not {described}.')
        if action.choices is not None and value not in action.choices:
            raise ConfigurationError(
                f'{path}: "{key}": {json.dumps(value)} is not one of {", ".join(map(str, action.choices))}.'
            )
    try:
        return parser.parse_dict(values)
    except ValueError as e:  # ours (a ConfigurationError) or transformers' in TrainingArguments.__post_init__
        raise ConfigurationError(f"{path}: {e}") from None


# Flags that were renamed: the old name, given, is refused with the new one.
RENAMED_FLAGS = {"lora_target_modules": "lora_target"}


def check_renamed_flags(names: list[str]) -> None:
    """`names` (flags as given, or an arguments file's keys) use no old name of a flag.

    Raises:
        ConfigurationError: an old name, with the new one.
    """
    for name in names:
        old = name.removeprefix("--").split("=", 1)[0].replace("-", "_")  # --a-b is --a_b too
        if old in RENAMED_FLAGS:
            new = RENAMED_FLAGS[old]
            raise ConfigurationError(
                f'--{old} is now --{new}, as in finetune.py: give --{new} (in an arguments file, "{new}") '
                "the same value."
            )


def parse_preference_args(
    argv: list[str] | None = None,
) -> tuple[
    PreferenceModelArguments,
    PreferenceArguments,
    LoraArguments,
    Seq2SeqTrainingArguments,
    CheckpointArguments,
]:
    """preference_tune.py's arguments, from flags or a single .json file holding the same names; the training
    arguments are the stage's TRL config (STAGE_CONFIGS), with TOOLKIT_DEFAULTS.

    Raises:
        ConfigurationError: no or an unknown --stage, a renamed flag, or settings check_values or the TRL
            config rejects.
    """
    argv = sys.argv[1:] if argv is None else argv
    from_json = len(argv) == 1 and argv[0].endswith(".json")
    if from_json:
        values = read_json_object(argv[0], "the arguments file")
        check_renamed_flags(list(values))
        stage = values.get("stage")
    else:
        check_renamed_flags([arg for arg in argv if arg.startswith("--")])
        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("--stage")
        stage = pre.parse_known_args(argv)[0].stage
        if stage is None and any(a in ("-h", "--help") for a in argv):
            stage = "dpo"  # help for one stage; the stage-specific flags differ
    if stage not in STAGES:
        raise ConfigurationError(
            f"--stage must be one of {', '.join(STAGES)} (sft is finetune.py), not {stage!r}."
        )
    parser = HfArgumentParser(
        (
            PreferenceModelArguments,
            PreferenceArguments,
            LoraArguments,
            STAGE_CONFIGS[stage],
            CheckpointArguments,
        )
    )
    try:
        if from_json:
            parsed = parse_json_values(parser, {**TOOLKIT_DEFAULTS, **values}, argv[0])
        else:
            parser.set_defaults(**TOOLKIT_DEFAULTS)
            parsed = parser.parse_args_into_dataclasses(args=argv)
    except ValueError as e:  # a TRL config's own check (batch sizes, num_generations, ...)
        raise ConfigurationError(str(e)) from None
    model_args, _, _, training_args, _ = parsed
    model_args.trust_remote_code = training_args.trust_remote_code
    return parsed
