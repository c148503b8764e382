"""What a run folder holds and whether it can be trusted: content hashes, the run's identity and arguments,
finite weights.

- Every checkpoint's completion marker records the SHA-256 of each of its files; a resume re-hashes them.
  SHA-256 is the fastest collision-resistant hash in Python's standard library on CPUs with SHA extensions
  (x86 since Ice Lake and Zen, ARMv8), faster than blake2b there (scripts/bench_checkpoint_hash.py prints
  both for this machine; figures in the README). hashlib releases the GIL while it hashes, so files hash in
  parallel.
- A run's identity is what makes two runs the same run: the model, the training data's content and the
  arguments that change the result. A checkpoint of another identity is never resumed.
- The arguments a run was trained with travel in `run_args.json` with every checkpoint and saved model.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from ftkit.run_files import RUN_ARGS
from ftkit.templates import DEFAULT_TEMPLATE

HASH = "sha256"
READ_BYTES = 4 << 20  # reads of 4 MiB: larger ones were no faster here, smaller ones slower

# Arguments that make a different run: a checkpoint written with other values is not this run's.
IDENTITY_ARGUMENTS = (
    "framework", "prompt_template", "max_source_length", "max_target_length", "max_train_samples",
    "packing", "finetuning_type", "lora_r", "lora_alpha", "lora_dropout", "lora_target", "num_virtual_tokens",
    "prompt_tuning_init_text", "quantization_bit", "stage", "seed", "data_seed", "bf16", "fp16",
)  # fmt: skip
# Arguments whose checkpointed state wins on resume: the optimizer's hyper-parameters (torch restores them
# with its state), the LR scheduler's base rates and step, the data position (steps x global batch).
RESTORED_ON_RESUME = {
    "learning_rate": "the optimizer and LR scheduler restore the checkpoint's rate",
    "lr_scheduler_type": "the LR scheduler's state comes from the checkpoint",
    "lr_scheduler_kwargs": "the LR scheduler's state comes from the checkpoint",
    "warmup_steps": "the LR scheduler's state comes from the checkpoint",
    "weight_decay": "the optimizer restores the checkpoint's value",
    "adam_beta1": "the optimizer restores the checkpoint's value",
    "adam_beta2": "the optimizer restores the checkpoint's value",
    "adam_epsilon": "the optimizer restores the checkpoint's value",
    "optim": "the optimizer state is the checkpoint's",
    "per_device_train_batch_size": "the resumed run would skip another number of examples",
    "gradient_accumulation_steps": "the resumed run would skip another number of examples",
    "world_size": "the resumed run would skip another number of examples",
}
# Arguments that take effect on resume, and how.
TAKES_EFFECT_HOW = {
    "max_steps": "the LR schedule follows the new length from the next step on: the LR jumps",
    "num_train_epochs": "the LR schedule follows the new length from the next step on: the LR jumps",
}
# Arguments that only say where, how often or what else: a resume may change them without a word.
NOT_COMPARED = {
    "output_dir", "resume_from_checkpoint", "run_name", "logging_dir", "cleanup_partial_checkpoints",
    "overwrite_output_dir", "do_train", "do_eval", "do_predict", "test_file", "predictions_file",
    "validation_file", "max_eval_samples", "max_predict_samples", "identity", "local_rank",
}  # fmt: skip


def hash_file(path: str | Path) -> str:
    """The hex SHA-256 of a file's content, read in 4 MiB blocks."""
    digest = hashlib.new(HASH)
    buffer = bytearray(READ_BYTES)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


def hash_files(folder: Path, names: Iterable[str]) -> dict[str, str]:
    """{name: hex SHA-256} of files in `folder`, hashed on several threads (the disk is the limit)."""
    names = list(names)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return dict(zip(names, pool.map(lambda name: hash_file(folder / name), names), strict=True))


def run_arguments(framework: str, *argument_groups: Any) -> dict[str, Any]:
    """Every resolved argument of a run, JSON-ready, with the run's identity under "identity"."""
    resolved: dict[str, Any] = {}
    for group in argument_groups:
        resolved.update(group.to_dict() if hasattr(group, "to_dict") else vars(group))
        if hasattr(group, "world_size"):  # a property of the training arguments, not a field
            resolved["world_size"] = group.world_size
    resolved["framework"] = framework  # the one in use, not the --framework flag (None: from the config)
    resolved = json.loads(json.dumps(resolved, default=str))
    resolved["identity"] = run_identity(resolved)
    return resolved


def _model_fingerprint(name_or_path: str) -> dict[str, Any]:
    """A local model folder by its config's hash and its weight files' names and sizes (hashing the weights
    of a large model would cost minutes at every start); a hub id by its name."""
    folder = Path(name_or_path)
    if not (folder / "config.json").is_file():
        return {"model": name_or_path}
    weights = {
        p.name: p.stat().st_size
        for p in sorted(folder.iterdir())
        if p.suffix in (".safetensors", ".bin", ".pt") and p.is_file()
    }
    return {"model_config_sha256": hash_file(folder / "config.json"), "model_weight_files": weights}


def run_identity(resolved: dict[str, Any]) -> dict[str, Any]:
    """The model, the training data's content hash and the arguments that change the result.

    Paths are not part of it: a moved data file or model folder is the same run.
    """
    identity: dict[str, Any] = _model_fingerprint(str(resolved["model_name_or_path"]))
    if resolved.get("train_file") and Path(resolved["train_file"]).is_file():
        identity["train_file_sha256"] = hash_file(resolved["train_file"])
    identity.update({name: resolved[name] for name in IDENTITY_ARGUMENTS if name in resolved})
    return identity


def identity_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """'name: saved -> current' for each part of two identities that differs.

    An argument the saved run did not record (a flag its entry point gained later, such as preference
    tuning's --lora_target) is not compared: nothing says it differed.
    """
    return [
        f"{name}: {_short(saved.get(name))} -> {_short(current.get(name))}"
        for name in sorted(set(saved) | set(current))
        if saved.get(name) != current.get(name) and (name in saved or name not in IDENTITY_ARGUMENTS)
    ]


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 70 else text[:67] + "..."


def read_run_arguments(folder: str | Path) -> dict[str, Any] | None:
    """The run_args.json of a checkpoint or model folder; None when it has none (or an unreadable one)."""
    try:
        return json.loads((Path(folder) / RUN_ARGS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def saved_run_args(model_path: str | Path) -> dict[str, Any]:
    """The arguments a model was trained with (`run_args.json`), so it is prompted the same way.

    Looks in the model folder (every checkpoint and saved model carries its own), then in the folder above
    (the run folder of an older `checkpoint-N`). Returns {} when neither has one (a model not trained by
    this toolkit).
    """
    model_path = Path(model_path)
    for folder in (model_path, model_path.parent):
        if (folder / RUN_ARGS).is_file():
            return read_run_arguments(folder) or {}
    return {}


def template_for(model_path: str | Path, requested: str | None = None) -> str:
    """The prompt template for a model: the one asked for, else the one it was trained with, else the default.

    A model is only as good as the prompts it saw in training; every entry point resolves the template here.
    """
    return requested or saved_run_args(model_path).get("prompt_template") or DEFAULT_TEMPLATE


def write_run_arguments(folder: str | Path, resolved: dict[str, Any]) -> None:
    path = Path(folder) / RUN_ARGS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(resolved, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def resume_differences(saved: dict[str, Any], current: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Arguments of a resumed run that differ from its checkpoint's: (those the checkpoint overrides, with
    why; those that take effect). Identity arguments are left to identity_differences."""
    overridden, taking_effect = [], []
    for name in sorted(set(saved) | set(current)):
        if name in NOT_COMPARED or name in IDENTITY_ARGUMENTS or saved.get(name) == current.get(name):
            continue
        change = f"{name} {_short(saved.get(name))} -> {_short(current.get(name))}"
        if name in RESTORED_ON_RESUME:
            overridden.append(f"{change} ({RESTORED_ON_RESUME[name]})")
        else:
            taking_effect.append(
                f"{change} ({TAKES_EFFECT_HOW[name]})" if name in TAKES_EFFECT_HOW else change
            )
    return overridden, taking_effect


def non_finite_parameters(model: torch.nn.Module) -> list[str]:
    """Names of parameters with a NaN or inf in this process's copy (its partition, under ZeRO-3)."""
    found = []
    for name, parameter in model.named_parameters():
        local = getattr(parameter, "ds_tensor", parameter)  # ZeRO-3 keeps only a partition per process
        if local.numel() and not torch.isfinite(local.detach()).all():
            found.append(name)
    return found
