"""Loading the tokenizer and the model (the class its Framework names), with its adapter."""

from __future__ import annotations

import difflib
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import constants, scan_cache_dir, try_to_load_from_cache
from huggingface_hub.errors import CacheNotFound, HFValidationError
from transformers import (
    AutoConfig,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.integrations import is_deepspeed_zero3_enabled
from transformers.utils import is_flash_attn_2_available

from ftkit.adapters import load_adapter, read_adapter_config
from ftkit.frameworks import Framework
from ftkit.loading import (
    SAFETENSORS_INDEX,
    load_zero3_model,
    safetensors_problem,
    safetensors_weight_map,
)
from ftkit.memory import freed_memory_returned, log_load

logger = logging.getLogger(__name__)


class ModelLoadError(OSError):
    """A model that cannot be found or read; the message says where we looked."""


def base_model_path(name_or_path: str) -> str | None:
    """The base model of a PEFT adapter folder (its adapter_config.json's base_model_name_or_path), or None
    when `name_or_path` is not an adapter folder.

    Raises:
        ModelLoadError: an adapter folder whose config names no base model.
    """
    adapter = read_adapter_config(name_or_path)
    if adapter is None:
        return None
    base = adapter.get("base_model_name_or_path")
    if not base:
        raise ModelLoadError(
            f"{name_or_path} is a PEFT adapter folder, but its adapter_config.json names no base model "
            '(base_model_name_or_path). Add "base_model_name_or_path": "<base model folder or hub id>".'
        )
    return base


def load_config(name_or_path: str, trust_remote_code: bool = False) -> PretrainedConfig:
    """Load a model config from a folder or hub id; for a PEFT adapter folder, its base model's config.

    The weights files of a local folder (and of an adapter's base) are checked here, at the start of a run.

    Raises:
        ModelLoadError: the path does not exist, the id cannot be resolved (no network, private repo...),
            the config needs code shipped with the checkpoint and `trust_remote_code` is off, or a weights
            file is broken (check_weight_files).
    """
    folders = [name_or_path]
    what = "model path"
    base = base_model_path(name_or_path)
    if base is not None:
        logger.info("%s is a PEFT adapter on %s", name_or_path, base)
        what = f"base model path (from {name_or_path}/adapter_config.json)"
        name_or_path = base
        folders.append(base)
    check_path_exists(
        name_or_path,
        what,
        "config.json",
        "Pass a folder written by save_pretrained (config.json, weights, tokenizer files) or a hub id "
        "such as google/flan-t5-base.",
    )
    for folder in folders:
        if Path(folder).expanduser().is_dir():
            check_weight_files(Path(folder).expanduser())
    try:
        return AutoConfig.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        if "trust_remote_code" in str(e):
            raise ModelLoadError(
                f"{name_or_path} needs its own Python code to load (config.json's auto_map names modules "
                "shipped with the checkpoint), and --trust_remote_code is off. That code runs with your "
                "permissions: it can read and change your files, credentials and network. Read it first "
                "(the .py files in the folder or hub repo); pass --trust_remote_code only for a checkpoint "
                "whose code you trust, ideally pinned to a revision you have read."
            ) from None
        where = "folder" if Path(name_or_path).exists() else "hub id"
        raise ModelLoadError(
            f"cannot load a model config from {where} {name_or_path!r}: {e}\n"
            "A folder needs config.json; a hub id needs network access (or a cache: HF_HOME) and, "
            "with HF_HUB_OFFLINE=1, a cached copy."
        ) from None


def check_path_exists(name_or_path: str, what: str, hub_file: str, fix: str) -> None:
    """Fail at once for a name meant as a local folder that does not exist, with the nearest existing names.

    Transformers would ask the hub for it instead, retrying for tens of seconds before calling the folder a
    hub id. A name is meant as a folder when it starts with ".", "/" or "~", has more than one "/" (hub ids
    are "name" or "org/name"), or has one "/" after the name of something here (outputs/tiny-lama-sample,
    a typo beside outputs/). With HF_HUB_OFFLINE set, any name is a folder unless the hub cache holds
    `hub_file` of a repo by that id.

    Raises:
        ModelLoadError: no such folder; the message says `what` was looked for and ends with `fix`.
    """
    path = Path(name_or_path).expanduser()
    if path.exists():
        return
    parts = name_or_path.split("/")
    meant_as_folder = (
        name_or_path.startswith((".", "/", "~"))
        or len(parts) > 2
        or (len(parts) == 2 and Path(parts[0]).expanduser().exists())
    )
    offline = constants.HF_HUB_OFFLINE
    if not meant_as_folder and (not offline or in_hub_cache(name_or_path, hub_file)):
        return
    nearest = nearest_folders(path) + ([] if meant_as_folder else nearest_cached_ids(name_or_path))
    message = f"{what} {name_or_path} does not exist: no such folder"
    if not meant_as_folder:
        message += f", and HF_HUB_OFFLINE is set and the hub cache holds no {name_or_path}"
    message += f". Nearest existing: {', '.join(nearest)}." if nearest else "."
    raise ModelLoadError(f"{message} {fix}")


def in_hub_cache(repo_id: str, filename: str) -> bool:
    try:
        return isinstance(try_to_load_from_cache(repo_id, filename), str)
    except HFValidationError:  # not a valid repo id
        return False


def nearest_folders(path: Path, n: int = 3) -> list[str]:
    """The existing folders nearest to the first part of `path` that does not exist, closest first."""
    missing = path
    while not missing.parent.exists():
        missing = missing.parent
    names = [child.name for child in missing.parent.iterdir() if child.is_dir()]
    return [str(missing.parent / name) for name in difflib.get_close_matches(missing.name, names, n=n)]


def nearest_cached_ids(repo_id: str, n: int = 3) -> list[str]:
    """The model ids in the hub cache nearest to `repo_id`, closest first."""
    try:
        cached = [
            repo.repo_id for repo in scan_cache_dir(constants.HF_HUB_CACHE).repos if repo.repo_type == "model"
        ]
    except CacheNotFound:
        return []
    return difflib.get_close_matches(repo_id, cached, n=n)


def check_weight_files(folder: Path) -> None:
    """Read the header of every safetensors file in `folder` (and of the shards its index names), so a
    checkpoint cut short by an interrupted copy fails before any data is tokenised or weight is read.

    Raises:
        ModelLoadError: a weights file that is empty, cut short or not safetensors, or a shard that the
            index names but the folder lacks.
    """
    files = set(folder.glob("*.safetensors"))
    index = folder / SAFETENSORS_INDEX
    if index.is_file():
        try:
            files |= {
                folder / name for name in json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()
            }
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, AttributeError) as e:
            raise ModelLoadError(
                f"{index} is not a safetensors index ({e}); copy it again from the original checkpoint."
            ) from None
    for file in sorted(files):
        problem = "missing (named by its index)" if not file.is_file() else safetensors_problem(file)
        if problem is not None:
            raise ModelLoadError(
                f"weights file {file} is {problem}. An interrupted copy or download leaves this: copy the "
                "checkpoint again, or save it again with save_pretrained."
            )


TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "vocab.json",
    "vocab.txt",
)


def load_tokenizer(name_or_path: str, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    """Load the tokenizer; decoder-only models get a pad token (EOS when they have none).

    A PEFT adapter folder without tokenizer files gives its base model's tokenizer.

    Raises:
        ModelLoadError: the path does not exist, the folder holds no tokenizer files, or the hub id cannot
            be resolved.
    """
    base = base_model_path(name_or_path)
    if base is not None and not (Path(name_or_path) / "tokenizer_config.json").is_file():
        name_or_path = base
    check_path_exists(
        name_or_path,
        "tokenizer path",
        "tokenizer_config.json",
        "Pass --tokenizer_name with a folder written by save_pretrained (tokenizer.json, "
        "tokenizer_config.json...) or a hub id.",
    )
    folder = Path(name_or_path).expanduser()
    if folder.is_dir() and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelLoadError(
            f"{name_or_path} has no tokenizer files (none of {', '.join(TOKENIZER_FILES)}). Pass "
            "--tokenizer_name with the folder or hub id of the tokenizer the model was trained with, or "
            "save that tokenizer into the folder (tokenizer.save_pretrained)."
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        where = "folder" if folder.is_dir() else "hub id"
        raise ModelLoadError(
            f"cannot load a tokenizer from {where} {name_or_path!r}: {e}\nCheck --tokenizer_name (or "
            "--model_name_or_path): a hub id needs network access or, with HF_HUB_OFFLINE=1, a cached copy."
        ) from None
    if tokenizer.pad_token_id is None:
        # GPT2/LLaMA ship without a pad token. Padded positions are masked in attention and loss, so any
        # id works; EOS adds no new embedding row.
        tokenizer.pad_token = tokenizer.eos_token
        logger.info("tokenizer has no pad token; using EOS (%r)", tokenizer.eos_token)
    # Right padding for training; generation batches are padded on the left by their collator.
    tokenizer.padding_side = "right"
    return tokenizer


def weights_dtype(training: bool, deepspeed: bool, bf16: bool, fp16: bool) -> torch.dtype | str:
    """The dtype to load weights in; logs the run's parameter and compute dtypes.

    Training always keeps fp32 master weights, whatever the checkpoint's dtype and the ZeRO stage. Without
    --bf16/--fp16 the weights load in fp32: loading a bf16 checkpoint as it is would make ZeRO-1/2 train it
    in bf16 (no master copy, no autocast: small updates are lost) while ZeRO-3 casts it to fp32. The plain
    Trainer with --bf16/--fp16 autocasts over fp32 weights. DeepSpeed with --bf16/--fp16 keeps its own fp32
    master copy and casts the model to 16 bits itself, so it loads the checkpoint's own dtype ("auto"): a
    bf16 checkpoint is never upcast in CPU memory. Prediction loads the requested 16-bit dtype directly.
    """
    half = torch.bfloat16 if bf16 else torch.float16 if fp16 else None
    if not training:
        dtype = half or "auto"
        logger.info(
            "precision: parameters and compute in %s", "the checkpoint's dtype" if half is None else half
        )
        return dtype
    if half is None:
        logger.info("precision: parameters, master weights and compute in torch.float32")
        return torch.float32
    if deepspeed:
        logger.info(
            "precision: parameters and compute in %s, fp32 master weights in DeepSpeed's optimizer", half
        )
        return "auto"
    logger.info("precision: parameters and master weights in torch.float32, compute in %s (autocast)", half)
    return torch.float32


def load_model(
    name_or_path: str,
    framework: Framework,
    config: PretrainedConfig,
    tokenizer: PreTrainedTokenizerBase,
    dtype: torch.dtype | str = "auto",
    trust_remote_code: bool = False,
    device_map: dict[str, torch.device] | None = None,
    attn_implementation: str | None = None,
    half_precision: bool = False,
    quantization_config: Any = None,
    adapter_trainable: bool = False,
) -> PreTrainedModel:
    """Load the model for `framework`; log the load time and host memory on every process.

    A PEFT adapter folder loads its base model (adapter_config.json's base_model_name_or_path) with the
    adapter attached: frozen for prediction, trainable with `adapter_trainable`. `quantization_config`
    (a BitsAndBytesConfig, QLoRA) loads the base weights quantized.

    `attn_implementation` None picks the fastest the model and machine support (fastest_attn_implementation);
    `half_precision` says whether it will compute in bf16/fp16, which flash attention needs.

    Under DeepSpeed ZeRO-3 the Trainer's arguments have already registered the DeepSpeed config: the model
    is built partitioned across processes, rank 0 reads the weights and the others receive their
    partitions (zero3_weight_map says when; ftkit.loading.load_zero3_model). Otherwise `from_pretrained`
    reads each tensor from the memory-mapped checkpoint onto `device_map`'s device (the CPU when None).

    Raises:
        CheckpointMismatchError: under ZeRO-3, a checkpoint whose tensors do not match the model's.
    """
    auto = framework.auto_model
    if attn_implementation is None:
        attn_implementation = fastest_attn_implementation(framework, config, half_precision)
    adapter_base = base_model_path(name_or_path)
    weights = adapter_base or name_or_path
    model_class = transformers_model_class(auto, config)
    weight_map = zero3_weight_map(weights, model_class, quantization_config)
    started = time.perf_counter()
    with freed_memory_returned():
        if weight_map is not None:
            model = load_zero3_model(model_class, weights, config, weight_map, dtype, attn_implementation)
        else:
            model = auto.from_pretrained(
                weights,
                config=config,
                dtype=dtype,
                trust_remote_code=trust_remote_code,
                device_map=device_map,
                attn_implementation=attn_implementation,
                quantization_config=quantization_config,
            )
    logger.info("attention implementation: %s", model.config._attn_implementation)
    logger.info("weights loaded in %s", ", ".join(sorted(floating_dtypes(model))))
    if device_map is not None:
        # A one-device map is placement only: without it the Trainer treats the model as any model
        # already on its device (instead of warning that it spans several devices).
        del model.hf_device_map
    if adapter_base is not None:
        model = load_adapter(model, name_or_path, is_trainable=adapter_trainable)
    log_load(name_or_path, time.perf_counter() - started)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    # A decoder-only config often has none (GPT-2); an encoder-decoder's is the one its decoder inputs use.
    if not framework.encoder_decoder:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model


def zero3_weight_map(
    name_or_path: str, model_class: type[PreTrainedModel] | None, quantization_config: Any
) -> dict[str, Path] | None:
    """The checkpoint's tensor -> file map when ftkit.loading.load_zero3_model loads the model, else None
    (`from_pretrained` does).

    It does under ZeRO-3, for a model class of transformers' own (remote code is only known once
    `from_pretrained` imports it) stored as local safetensors, unquantized (a quantized model is not
    partitioned). The base model of an adapter loads this way too; the adapter is attached afterwards.
    """
    if not is_deepspeed_zero3_enabled() or model_class is None or quantization_config is not None:
        return None
    return safetensors_weight_map(name_or_path)


def transformers_model_class(auto: type, config: PretrainedConfig) -> type[PreTrainedModel] | None:
    """The class `auto.from_pretrained` builds for `config`; None for remote code, unknown until loaded."""
    try:
        return auto._model_mapping[type(config)]
    except KeyError:
        return None


def fastest_attn_implementation(
    framework: Framework, config: PretrainedConfig, half_precision: bool
) -> str | None:
    """flash_attention_2 on a CUDA GPU with flash-attn installed, for a half-precision run of a model that
    supports it; else None, which lets transformers take SDPA where the model has it and eager otherwise."""
    if not (half_precision and is_flash_attn_2_available()):
        return None
    model_class = transformers_model_class(framework.auto_model, config)
    return "flash_attention_2" if getattr(model_class, "_supports_flash_attn", False) else None


def floating_dtypes(model: torch.nn.Module) -> set[str]:
    """The dtypes of the model's floating-point parameters (quantized weights are not floating)."""
    return {str(p.dtype) for p in model.parameters() if p.dtype.is_floating_point}
