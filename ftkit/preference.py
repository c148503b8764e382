"""Preference and RL tuning on TRL: reward model (rm), DPO and its variants (dpo), GRPO against the M2 metric.

What this module adds to TRL, and why:
  Data     Preference pairs `{"prompt", "chosen", "rejected"}` (JSONL) and GEC data with gold edits (JSONL
           `source`/`target`, or an M2 file) are checked line by line (DataError names file and line).
           `prompt` is the input text, as `source` is for SFT: `build_prompt` applies --prompt_template, so a
           model is tuned with the prompts it was finetuned with (`--prompt_template none` keeps it as is).
  Encoding Prompts and answers are encoded by `ftkit.data` (encode_prompts, encode_clm), as for SFT: the
           DPO and RM pairs, the GRPO prompts generated from, and the reward model's scoring. So a model is
           tuned and scored on the very token sequences an SFT model was trained on: TRL would tokenise
           prompt + answer as one string (which can split the answer's first word differently) and a
           templated prompt with the tokenizer's special tokens (a second BOS after a chat template's).
  Reward   `m2_f05_reward`: a completion's sentence-level F0.5 against the source's gold edits, from the
           project's m2scorer (`score_sentence`, then the official P/R/F conventions): a sentence without gold
           edits scores 1.0 when left unchanged and 0.0 when changed; with gold edits, 0.0 when unchanged.
           Gold edits come from an M2 file, or from a token-level diff of source and target (`gold_edits`).
  Trainers TRL's RewardTrainer, DPOTrainer and GRPOTrainer with the toolkit's crash-safe checkpoints.

Only decoder-only (clm) models: TRL 1.x trains DPO and GRPO policies as causal LMs, and the reward model is a
sequence-classification head on a decoder-only model.
"""

from __future__ import annotations

import difflib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import (
    AutoModelForSequenceClassification,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TrainingArguments,
)
from trl import DPOConfig, DPOTrainer, GRPOConfig, GRPOTrainer, RewardConfig, RewardTrainer

from ftkit import adapters
from ftkit.args import (
    CheckedArguments,
    ConfigurationError,
    GlooCollectivesOnCpu,
    ModelArguments,
    check_input_files,
    check_launch,
)
from ftkit.checkpointing import CrashSafeCheckpointMixin
from ftkit.data import (
    EXAMPLE_ROW,
    IGNORE_INDEX,
    DataError,
    encode_clm,
    encode_prompts,
    is_json_lines,
    json_rows,
    log_truncation,
    read_lines,
)
from ftkit.generation import template_for
from ftkit.loading import log_load
from ftkit.templates import DEFAULT_TEMPLATE, TEMPLATES, build_prompt
from ftkit.throughput import LOGGING_STEPS, CountsThroughput
from m2scorer import GoldSentence, M2FormatError, load_gold, precision_recall_f, score_sentence

logger = logging.getLogger(__name__)

STAGES = ("rm", "dpo", "grpo")


@dataclass
class RewardArguments(GlooCollectivesOnCpu, RewardConfig):
    """TRL's RewardConfig, with DeepSpeed's CPU collectives on gloo as in every run of the toolkit."""


@dataclass
class DPOArguments(GlooCollectivesOnCpu, DPOConfig):
    """TRL's DPOConfig, with DeepSpeed's CPU collectives on gloo as in every run of the toolkit."""


@dataclass
class GRPOArguments(GlooCollectivesOnCpu, GRPOConfig):
    """TRL's GRPOConfig, with DeepSpeed's CPU collectives on gloo as in every run of the toolkit."""


# Each stage's TRL config class: TrainingArguments plus the method's own settings (beta, loss_type, ...).
STAGE_CONFIGS: dict[str, type[TrainingArguments]] = {
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
# Gold edits by annotator, as m2scorer takes them: {annotator: [(start, end, original, (corrections...))]}.
GoldEdits = dict[int, list[tuple[int, int, str, tuple[str, ...]]]]


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
        default=256,
        metadata={
            "help": "Longest prompt in tokens (rm/dpo pairs, grpo prompts, the grpo reward model's input): a "
            "longer source is cut, the template around it kept whole, as in finetune.py."
        },
    )
    max_target_length: int = field(
        default=256,
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
            "help": "Train a LoRA adapter instead of all weights. For dpo the reference model is then the "
            "base model with the adapter switched off, so no second copy is loaded."
        },
    )
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator (scale = alpha / r)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA input."})
    lora_target_modules: str = field(
        default="all-linear",
        metadata={
            "help": 'Modules to adapt: "all-linear", or comma-separated names such as "q_proj,v_proj".'
        },
    )


# ---- Arguments ----


def validate_preference_args(
    model_args: ModelArguments,
    pref_args: PreferenceArguments,
    training_args: TrainingArguments,
    config: PretrainedConfig,
) -> None:
    """Check the arguments against each other and the model.

    Raises:
        ConfigurationError: a contradiction, with the fix in the message.
    """
    if config.is_encoder_decoder or model_args.framework == "seq2seq":
        raise ConfigurationError(
            f"--stage {pref_args.stage} needs a decoder-only (clm) model; {model_args.model_name_or_path} is "
            f"{config.model_type}, an encoder-decoder model. TRL trains rm/dpo/grpo on causal LMs only: tune "
            "an encoder-decoder model with finetune.py (SFT), or pick a decoder-only model."
        )
    if not training_args.do_train:
        raise ConfigurationError(
            "preference_tune.py trains: pass --do_train (and --do_eval with --validation_file to evaluate)."
        )
    check_input_files(
        ("--do_train", True, "--train_file", pref_args.train_file),
        ("--do_eval", training_args.do_eval, "--validation_file", pref_args.validation_file),
    )
    if pref_args.reward_model_name_or_path and pref_args.stage != "grpo":
        raise ConfigurationError(
            "--reward_model_name_or_path is a GRPO reward; for rm and dpo the pairs are the signal."
        )
    if pref_args.reward_model_name_or_path and not Path(pref_args.reward_model_name_or_path).is_dir():
        raise ConfigurationError(
            f"--reward_model_name_or_path {pref_args.reward_model_name_or_path}: no such folder (train one "
            "with --stage rm)."
        )
    if (
        pref_args.stage == "grpo"
        and training_args.load_best_model_at_end
        and training_args.metric_for_best_model in ("loss", "eval_loss")
    ):
        raise ConfigurationError(
            "--load_best_model_at_end for grpo needs --metric_for_best_model reward: GRPO's evaluation loss "
            "is about 0 whatever the policy, so it is not logged."
        )
    check_launch(training_args)


# ---- Data ----


PAIR_EXAMPLE = '{"prompt": "He go home .", "chosen": "He goes home .", "rejected": "He go home ."}'


def read_preference_pairs(path: str | Path, max_samples: int | None = None) -> dict[str, list[str]]:
    """Read `{"prompt", "chosen", "rejected"}` JSONL (other keys are ignored); return the three columns.

    Raises:
        DataError: unreadable JSON, a missing or non-string field, chosen == rejected, or an empty file.
    """
    lines = read_lines(path)
    if not is_json_lines(path, lines):
        raise DataError(f"{path}: preference pairs must be JSON lines, one object like {PAIR_EXAMPLE}.")
    columns: dict[str, list[str]] = {"prompt": [], "chosen": [], "rejected": []}
    for where, row in json_rows(path, lines, PAIR_EXAMPLE):
        for name in columns:
            if not isinstance(row.get(name), str):
                problem = "no" if name not in row else "a non-string"
                raise DataError(
                    f'{where}: {problem} "{name}" field. Every preference row needs string "prompt", '
                    f'"chosen" and "rejected" fields, like {PAIR_EXAMPLE}.'
                )
        if row["chosen"] == row["rejected"]:
            raise DataError(f'{where}: "chosen" and "rejected" are the same text, so the pair says nothing.')
        for name in columns:
            columns[name].append(row[name])
        if max_samples is not None and len(columns["prompt"]) >= max_samples:
            break
    return columns


def gold_edits(source: str, target: str) -> GoldEdits:
    """Gold edits that turn `source` into `target` (both space-tokenised), as one annotator's M2 edits.

    A token-level diff (difflib): each differing span becomes one edit; a span replacing as many tokens as
    it removes is split into one-token substitutions, as M2 annotations mark them (R:SPELL, R:VERB:SVA).
    Unchanged pairs have no edits ({0: []}, an M2 noop). On the bundled sample these agree with the gold M2.
    """
    src, tgt = source.split(), target.split()
    edits = []
    matcher = difflib.SequenceMatcher(None, src, tgt, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            edits += [
                (i, i + 1, src[i], (tgt[j],)) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
        else:
            edits.append((i1, i2, " ".join(src[i1:i2]), (" ".join(tgt[j1:j2]),)))
    return {0: edits}


def _dump_gold(edits: GoldEdits) -> str:
    return json.dumps(
        {str(annotator): [list(e[:3]) + [list(e[3])] for e in es] for annotator, es in edits.items()}
    )


def _load_gold(text: str) -> GoldEdits:
    return {
        int(annotator): [(s, e, original, tuple(corrections)) for s, e, original, corrections in es]
        for annotator, es in json.loads(text).items()
    }


def read_gold_sentences(path: str | Path, max_samples: int | None = None) -> list[GoldSentence]:
    """Source sentences with gold edits, for GRPO: JSONL `source`/`target` (edits from their diff) or M2.

    Raises:
        DataError: a file without gold edits (plain text, JSONL lines without "target", M2 without "A"
            lines), malformed JSON or M2, or an empty file.
    """
    path = Path(path)
    if path.suffix.lower() == ".m2":
        try:
            sentences = load_gold(path)  # a line that is not UTF-8 is named by its number
            data = path.read_bytes()
        except M2FormatError as e:
            raise DataError(str(e)) from None
        except OSError as e:
            raise DataError(
                f"{path}: cannot be read ({e.strerror}). Check the path and its permissions."
            ) from None
        # A sentence without 'A' lines reads as a noop, so the lines themselves tell whether there are any.
        if not any(line.startswith(b"A ") for line in data.splitlines()):
            raise DataError(
                f"{path}: no 'A' lines, so no gold edits: GRPO rewards a correction by its F0.5 against "
                "them. "
                "Annotate the file (a noop 'A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0' for a correct "
                "sentence)."
            )
        return sentences[:max_samples]
    lines = read_lines(path)
    if not is_json_lines(path, lines):
        raise DataError(
            f'{path}: GRPO needs gold edits to compute its reward: give JSONL with "source" and "target" '
            "on every line (edits are derived from their difference) or an .m2 file; plain text has none."
        )
    sentences = []
    for where, row in json_rows(path, lines, EXAMPLE_ROW):
        if not isinstance(row.get("source"), str):
            raise DataError(f'{where}: no string "source" field.')
        if not isinstance(row.get("target"), str):
            raise DataError(
                f'{where}: no string "target" field, so no gold edits: GRPO rewards a correction by its F0.5 '
                'against the edits from "source" to "target". Give every line a target (the source itself '
                "when it is correct), or an .m2 file."
            )
        sentences.append(GoldSentence(row["source"], gold_edits(row["source"], row["target"])))
        if max_samples is not None and len(sentences) >= max_samples:
            break
    return sentences


def encode_preference_dataset(
    pairs: dict[str, list[str]],
    stage: str,
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    max_source_length: int,
    max_target_length: int,
) -> Dataset:
    """Tokenised pairs in the layout TRL's trainers take as already processed: each prompt + answer + EOS
    encoded by `ftkit.data.encode_clm`, as SFT encodes a source + target.

    dpo: prompt_ids, chosen_ids, rejected_ids (answers only); rm: chosen_ids, rejected_ids (prompt + answer).
    """
    encoded = {
        name: encode_clm(
            {"source": pairs["prompt"], "target": pairs[name]},
            tokenizer,
            template,
            max_source_length,
            max_target_length,
        )
        for name in ("chosen", "rejected")
    }
    # Cut prompts are counted once (both answers share them); cut answers for each column.
    for answer, name, lengths in (
        ("chosen", "prompts and chosen answers", ("prompt_length", "target_length")),
        ("rejected", "rejected answers", ("target_length",)),
    ):
        counted = Dataset.from_dict({key: encoded[answer][key] for key in lengths})
        log_truncation(counted, name, max_source_length, max_target_length)
    if stage == "rm":
        return Dataset.from_dict({f"{name}_ids": encoded[name]["input_ids"] for name in encoded})
    # The prompt's tokens are the labels the loss ignores; both answers share the prompt.
    prompt_lengths = [labels.count(IGNORE_INDEX) for labels in encoded["chosen"]["labels"]]
    columns = {
        "prompt_ids": [ids[:n] for ids, n in zip(encoded["chosen"]["input_ids"], prompt_lengths, strict=True)]
    }
    for name in encoded:
        columns[f"{name}_ids"] = [
            ids[n:] for ids, n in zip(encoded[name]["input_ids"], prompt_lengths, strict=True)
        ]
    return Dataset.from_dict(columns)


def grpo_dataset(
    sentences: list[GoldSentence], template: str, tokenizer: PreTrainedTokenizerBase, max_source_length: int
) -> Dataset:
    """Columns of GRPO's rows: prompt (the templated text, which TRL requires), prompt_ids (the prompt as
    `ftkit.data.encode_prompts` encodes it for SFT, which GecGRPOTrainer generates from), and source and
    gold_edits (JSON) for the reward functions."""
    sources = [s.source for s in sentences]
    encoded = encode_prompts(sources, tokenizer, template, max_source_length)
    log_truncation(
        Dataset.from_dict({"prompt_length": encoded["prompt_length"]}), "GRPO prompts", max_source_length, 0
    )  # no targets: 0 is never read
    return Dataset.from_dict(
        {
            "prompt": [build_prompt(source, template, tokenizer) for source in sources],
            "prompt_ids": encoded["input_ids"],
            "source": sources,
            "gold_edits": [_dump_gold(s.edits) for s in sentences],
        }
    )


# ---- Rewards ----


def sentence_f05(hypothesis: str, source: str, edits: GoldEdits, beta: float = 0.5) -> float:
    """Sentence-level F_beta of one correction, with the official scorer's conventions.

    P = 1 when nothing is proposed and R = 1 without gold edits, so: no gold edits and unchanged -> 1.0;
    no gold edits but changed -> 0.0; gold edits but unchanged -> 0.0.
    """
    counts = score_sentence(" ".join(hypothesis.split()), source, edits, beta=beta).counts
    return precision_recall_f(counts, beta)[2]


def m2_f05_reward(
    completions: list[str], source: list[str], gold_edits: list[str], **kwargs: Any
) -> list[float]:
    """GRPO reward function (TRL's signature): sentence-level F0.5 of each completion against its gold edits.

    `source` and `gold_edits` are the dataset columns of `grpo_dataset`, one per completion.
    """
    return [
        sentence_f05(completion, src, _load_gold(gold))
        for completion, src, gold in zip(completions, source, gold_edits, strict=True)
    ]


class RewardModelScorer:
    """GRPO reward from a reward model trained with --stage rm: its score for source + completion, encoded as
    in reward-model training (encode_preference_dataset), with the reward model's own prompt template."""

    __name__ = "reward_model"  # TRL logs each reward under its function's name

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        max_source_length: int,
        max_target_length: int,
        device: torch.device,
    ) -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.template = template_for(model.name_or_path)
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length

    def __call__(self, completions: list[str], source: list[str], **kwargs: Any) -> list[float]:
        answers = [" ".join(c.split()) for c in completions]
        encoded = encode_clm(
            {"source": source, "target": answers},
            self.tokenizer,
            self.template,
            self.max_source_length,
            self.max_target_length,
        )
        rows = [{"input_ids": ids} for ids in encoded["input_ids"]]
        batch = self.tokenizer.pad(rows, padding_side="right", return_tensors="pt").to(self.model.device)
        with torch.inference_mode():
            return self.model(**batch).logits[:, 0].float().tolist()


# ---- Models ----


def load_reward_model(
    name_or_path: str,
    config: PretrainedConfig,
    tokenizer: PreTrainedTokenizerBase,
    dtype: torch.dtype | str = "auto",
    trust_remote_code: bool = False,
) -> PreTrainedModel:
    """A decoder-only model with a one-output sequence-classification head (new unless the folder has one)."""
    config.num_labels = 1
    config.pad_token_id = tokenizer.pad_token_id  # the head reads the last non-pad token
    started = time.perf_counter()
    model = AutoModelForSequenceClassification.from_pretrained(
        name_or_path, config=config, dtype=dtype, trust_remote_code=trust_remote_code
    )
    log_load(name_or_path, time.perf_counter() - started)
    return model


def lora_config(args: PreferenceArguments, stage: str):
    """The PEFT LoraConfig for --use_peft (ftkit.adapters, as finetune.py's); the reward head stays fully
    trainable."""
    return adapters.lora_config(
        args.lora_r,
        args.lora_alpha,
        args.lora_dropout,
        args.lora_target_modules,
        task_type="SEQ_CLS" if stage == "rm" else "CAUSAL_LM",
        modules_to_save=["score"] if stage == "rm" else None,
    )


# ---- Trainers ----


class GecRewardTrainer(CrashSafeCheckpointMixin, CountsThroughput, RewardTrainer):
    """TRL's RewardTrainer with the toolkit's atomic checkpoints, clean stop on SIGTERM/SIGINT and throughput
    figures."""


class GecDPOTrainer(CrashSafeCheckpointMixin, CountsThroughput, DPOTrainer):
    """TRL's DPOTrainer on pairs tokenised by `encode_preference_dataset`, with crash-safe checkpoints and
    throughput figures."""

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        # TRL re-tokenises prompt + answer as one string; ours are already encoded as SFT encodes them.
        if "prompt_ids" in dataset.column_names:
            return dataset
        return super()._prepare_dataset(dataset, processing_class, args, dataset_name)


class GecGRPOTrainer(CrashSafeCheckpointMixin, CountsThroughput, GRPOTrainer):
    """TRL's GRPOTrainer generating from the prompts as SFT encodes them (grpo_dataset's prompt_ids), with
    crash-safe checkpoints and throughput figures, and without an evaluation loss."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # TRL hands _tokenize_prompts the prompt texts only. A prompt's text is its source in the template, so
        # it names the one encoding of that source.
        self.prompt_ids = {
            prompt: ids
            for dataset in (self.train_dataset, self.eval_dataset)
            if dataset is not None
            for prompt, ids in zip(dataset["prompt"], dataset["prompt_ids"], strict=True)
        }

    def _tokenize_prompts(self, prompts: list):
        # TRL tokenises the text again, with the tokenizer's special tokens: a second BOS after a chat
        # template's own, and no cut at --max_source_length.
        return [self.prompt_ids[prompt] for prompt in prompts], None, {}

    def evaluation_loop(self, *args: Any, metric_key_prefix: str = "eval", **kwargs: Any):
        output = super().evaluation_loop(*args, metric_key_prefix=metric_key_prefix, **kwargs)
        # The loss weights each completion by its advantage, its reward less the mean of its prompt's group:
        # without a policy update it is about 0 whatever the policy (-0.0 when a group's rewards are equal).
        # The rewards (eval_reward) measure the policy.
        output.metrics.pop(f"{metric_key_prefix}_loss", None)
        return output


def build_preference_trainer(
    stage: str,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    training_args: TrainingArguments,
    train_dataset: Dataset,
    eval_dataset: Dataset | None = None,
    ref_model: PreTrainedModel | None = None,
    reward_funcs: list[Any] | None = None,
    peft_config: Any = None,
):
    """The stage's TRL trainer. dpo: `ref_model` None means TRL's choice (the adapter switched off with
    PEFT, else a copy loaded from the policy's path); grpo: `reward_funcs` are called with the completions."""
    common = dict(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    if stage == "rm":
        return GecRewardTrainer(**common)
    if stage == "dpo":
        return GecDPOTrainer(ref_model=ref_model, **common)
    return GecGRPOTrainer(reward_funcs=reward_funcs, **common)


# ---- Measuring ----


@torch.no_grad()
def answer_logps(
    model: PreTrainedModel, prompt_ids: list[list[int]], answer_ids: list[list[int]]
) -> torch.Tensor:
    """Summed log-probability of each answer (EOS included) given its prompt, one row at a time."""
    out = []
    for prompt, answer in zip(prompt_ids, answer_ids, strict=True):
        ids = torch.tensor([prompt + answer], device=model.device)
        logits = model(input_ids=ids).logits[0, len(prompt) - 1 : -1].float()
        out.append(torch.log_softmax(logits, -1).gather(1, ids[0, len(prompt) :, None]).sum())
    return torch.stack(out)


def dpo_margins(model: PreTrainedModel, dataset: Dataset) -> torch.Tensor:
    """log p(chosen) - log p(rejected) per pair of an encoded dpo dataset: what DPO pushes up."""
    prompts = dataset["prompt_ids"]
    chosen = answer_logps(model, prompts, dataset["chosen_ids"])
    rejected = answer_logps(model, prompts, dataset["rejected_ids"])
    return chosen - rejected


@torch.no_grad()
def reward_accuracy(model: PreTrainedModel, dataset: Dataset) -> float:
    """Share of pairs of an encoded rm dataset whose chosen answer gets the higher reward."""
    wins = 0
    for row in dataset:
        scores = [
            model(input_ids=torch.tensor([row[name]], device=model.device)).logits[0, 0].item()
            for name in ("chosen_ids", "rejected_ids")
        ]
        wins += scores[0] > scores[1]
    return wins / len(dataset)
