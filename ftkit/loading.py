"""Loading weights in N processes without N private copies in host memory.

What transformers and DeepSpeed already do, and what this module adds:
  ZeRO-3     The training arguments register the DeepSpeed config. `from_pretrained` would then build the
             model inside `zero.Init`, but load it module by module with every rank gathering each module's
             full parameters (so the peak grows with the number of processes). `load_zero3_model` instead
             builds the model partitioned without reading any weight; rank 0 reads one tensor at a time
             from the memory-mapped safetensors shards and scatters it, so each rank only ever receives
             its own partition. This module joins the process group first, which `zero.Init` needs.
             Across nodes it stays global rank 0: a remote rank receives its own partition, the same
             bytes a reader on its node would have sent it, while a reader per node would read the whole
             checkpoint into every node's page cache. Every node still reads the config and the
             safetensors headers, so the model folder must be on every node.
  ZeRO-0/1/2 `from_pretrained` builds the model on the meta device and reads each tensor from the
  and DDP   memory-mapped safetensors shards (the page cache is shared between processes). On CPU every
             process then holds its own replica by design. On an accelerator, `load_device_map` sends each
             tensor straight to the process's device, so the host holds no replica at all.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors import safe_open
from transformers import GenerationConfig, PretrainedConfig, PreTrainedModel
from transformers.integrations import is_deepspeed_zero3_enabled
from transformers.utils import ContextManagers

SAFETENSORS_INDEX = "model.safetensors.index.json"
SAFETENSORS_SINGLE = "model.safetensors"


class CheckpointMismatchError(ValueError):
    """A checkpoint whose tensors are not the model's; the message names them and the fix."""


def init_distributed_if_launched(use_deepspeed: bool) -> None:
    """Join the process group before any model is built.

    ZeRO-3 partitions parameters while `from_pretrained` builds them (zero.Init), which needs the world
    size; without this, several CPU processes fail DeepSpeed's batch-size check.
    """
    if use_deepspeed and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        import deepspeed

        deepspeed.init_distributed()


def load_device_map(device: torch.device) -> dict[str, torch.device] | None:
    """The `device_map` for `from_pretrained`: this process's accelerator, or None to load on the CPU.

    With a device, each tensor goes from the memory-mapped shard straight to the device, so no process
    holds a copy of the model in host memory. None on the CPU, and under ZeRO-3, where `zero.Init` places
    the partitions (and `from_pretrained` refuses a device_map).
    """
    if device.type == "cpu" or is_deepspeed_zero3_enabled():
        return None
    return {"": device}


def safetensors_weight_map(name_or_path: str) -> dict[str, Path] | None:
    """Each tensor of a local safetensors checkpoint (one file, or shards and their index) -> its file.

    None for anything else (a hub id, `.bin` weights). Reads file headers only, so every rank can afford it.
    """
    folder = Path(name_or_path)
    if (folder / SAFETENSORS_INDEX).is_file():
        weight_map = json.loads((folder / SAFETENSORS_INDEX).read_text())["weight_map"]
        return {name: folder / file for name, file in weight_map.items()}
    if (folder / SAFETENSORS_SINGLE).is_file():
        with safe_open(folder / SAFETENSORS_SINGLE, framework="pt") as f:
            return dict.fromkeys(f.keys(), folder / SAFETENSORS_SINGLE)
    return None


def safetensors_problem(file: Path) -> str | None:
    """What is wrong with a safetensors file, judged from its header and size alone; None if nothing."""
    size = file.stat().st_size
    if size < 8:
        return f"empty or cut short ({size} bytes)"
    with file.open("rb") as f:
        header_size = int.from_bytes(f.read(8), "little")
        if 8 + header_size > size:
            return f"cut short inside its header ({size:,} bytes)"
        try:
            header = json.loads(f.read(header_size))
            end = max(
                (entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"),
                default=0,
            )
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, IndexError, TypeError):
            return "not a safetensors file (its header is not safetensors JSON)"
    if 8 + header_size + end > size:
        return f"cut short: {size:,} bytes where its header describes {8 + header_size + end:,}"
    return None


def load_zero3_model(
    model_class: type[PreTrainedModel],
    name_or_path: str,
    config: PretrainedConfig,
    weight_map: dict[str, Path],
    dtype: torch.dtype | str,
    attn_implementation: str | None,
) -> PreTrainedModel:
    """Build `model_class` partitioned under ZeRO-3 and fill each rank's partitions from the checkpoint.

    Rank 0 reads one tensor at a time from the memory-mapped files in `weight_map` (see
    safetensors_weight_map) and scatters it; every other rank only receives its own partition, straight
    into place. Tied weights are one parameter, filled once, unless the checkpoint holds a different tensor
    for one of them (FLAN-T5's and mT5's LM head, which transformers ties whatever their config says):
    that one gets its own parameter, as `from_pretrained` does without ZeRO-3. Persistent buffers are
    broadcast whole.

    Raises:
        CheckpointMismatchError: the checkpoint lacks a weight of the model, holds one the model does not
            have, or one of another shape (every rank raises it, before any weight is sent).
    """
    model = _build_partitioned(model_class, config, dtype, attn_implementation)
    # Tied before loading, so that the checkpoint's one copy fills the one shared parameter.
    model.tie_weights()
    is_reader = dist.get_rank() == 0
    for name in _untied_in_checkpoint(model, weight_map, is_reader):
        _untie(model, name, model_class, config, dtype)
    for file, targets in _checkpoint_targets(model, weight_map).items():  # the same order on every rank
        with safe_open(file, framework="pt") if is_reader else nullcontext() as checkpoint:
            for tensor, key in targets:
                value = checkpoint.get_tensor(key) if is_reader else None
                if hasattr(tensor, "ds_tensor"):
                    _scatter_into_partition(tensor, value)
                else:
                    _broadcast_into_buffer(tensor, value)
    generation_config = Path(name_or_path) / "generation_config.json"
    if model.can_generate() and generation_config.is_file():
        model.generation_config = GenerationConfig.from_pretrained(name_or_path)
    model.eval()  # as from_pretrained leaves it
    return model


def _untied_in_checkpoint(model: PreTrainedModel, weight_map: dict[str, Path], is_reader: bool) -> list[str]:
    """The weights the model ties to another whose checkpoint tensor differs from that other's (rank 0
    compares them and tells every rank)."""
    names = []
    if is_reader:
        for target, source in (getattr(model, "all_tied_weights_keys", None) or {}).items():
            if target in weight_map and source in weight_map:
                with (
                    safe_open(weight_map[target], framework="pt") as a,
                    safe_open(weight_map[source], "pt") as b,
                ):
                    if not torch.equal(a.get_tensor(target), b.get_tensor(source)):
                        names.append(target)
    shared = [names]
    dist.broadcast_object_list(shared, src=0)
    return shared[0]


def _untie(
    model: PreTrainedModel,
    name: str,
    model_class: type[PreTrainedModel],
    config: PretrainedConfig,
    dtype: torch.dtype | str,
) -> None:
    """Give the tied weight `name` (a linear layer's) its own partitioned parameter."""
    module = model.get_submodule(name.rpartition(".")[0])
    if not isinstance(module, torch.nn.Linear) or not name.endswith(".weight"):
        raise CheckpointMismatchError(
            f"the checkpoint holds its own {name}, which {model_class.__name__} ties to another weight; "
            "only a linear layer's weight can be untied under ZeRO-3. Load it without ZeRO-3 and save it "
            "again."
        )
    contexts = model_class.get_init_context(
        _config_dtype(config, dtype), is_quantized=False, _is_ds_init_called=False, allow_all_kernels=None
    )
    with ContextManagers(contexts), _init_broadcast_skipped():
        own = torch.nn.Linear(module.in_features, module.out_features, bias=False)
    module.weight = own.weight


def _config_dtype(config: PretrainedConfig, dtype: torch.dtype | str) -> torch.dtype:
    """The dtype to build in: `dtype`, or for "auto" the config's."""
    return dtype if isinstance(dtype, torch.dtype) else config.dtype or torch.float32


def _build_partitioned(
    model_class: type[PreTrainedModel],
    config: PretrainedConfig,
    dtype: torch.dtype | str,
    attn_implementation: str | None,
) -> PreTrainedModel:
    """The model inside `zero.Init` with transformers' own contexts (weight init and tying skipped), as
    `from_pretrained` builds it, but with no parameter synchronised between ranks (see
    _init_broadcast_skipped). Its weights are whatever the memory held."""
    config = copy.deepcopy(config)  # the caller's config stays as it was, as with from_pretrained
    # "auto": the config's dtype. zero.Init casts floating parameters to the DeepSpeed config's own dtype.
    config.dtype = _config_dtype(config, dtype)
    if attn_implementation is not None:
        config._attn_implementation = attn_implementation
    contexts = model_class.get_init_context(
        config.dtype, is_quantized=False, _is_ds_init_called=False, allow_all_kernels=None
    )
    with ContextManagers(contexts), _init_broadcast_skipped():
        return model_class(config)


@contextmanager
def _init_broadcast_skipped() -> Iterator[None]:
    """zero.Init partitions each new parameter without first broadcasting rank 0's values to every rank.

    That broadcast makes every rank hold the full parameter while it is built, on top of the partitions
    already built: a full copy of the LM head, built last, on every rank. Here the values are uninitialised
    memory that the checkpoint overwrites right after, so there is nothing to synchronise.
    """
    from deepspeed.runtime.zero.partition_parameters import Init

    # A private method of DeepSpeed's: where a release lacks it, its own construction runs, only slower.
    broadcast_then_partition = Init.__dict__.get("_zero_init_param")
    if broadcast_then_partition is None:
        yield
        return

    def partition(self: Init, param: torch.nn.Parameter) -> None:
        self._convert_to_deepspeed_param(param)
        param.partition()

    Init._zero_init_param = partition
    try:
        yield
    finally:
        Init._zero_init_param = broadcast_then_partition


def _checkpoint_targets(
    model: PreTrainedModel, weight_map: dict[str, Path]
) -> dict[Path, list[tuple[torch.Tensor, str]]]:
    """Checkpoint file -> (parameter or persistent buffer, its key there) for each tensor the model saves,
    tied ones once; files in sorted order.

    Raises:
        CheckpointMismatchError: a tensor of the model has none of its names in the checkpoint, the
            checkpoint has a tensor that the model does not, or one of another shape.
    """
    names: dict[int, list[str]] = {}  # tied weights: one tensor, several names
    tensors: dict[int, torch.Tensor] = {}
    for name, tensor in model.state_dict(keep_vars=True).items():
        names.setdefault(id(tensor), []).append(name)
        tensors[id(tensor)] = tensor
    targets: dict[Path, list[tuple[torch.Tensor, str]]] = {}
    missing = []
    for key, aliases in names.items():
        found = [name for name in aliases if name in weight_map]
        if found:
            targets.setdefault(weight_map[found[0]], []).append((tensors[key], found[0]))
        else:
            missing.append(" = ".join(aliases))
    expected = {name for aliases in names.values() for name in aliases}
    unexpected = sorted(weight_map.keys() - expected)
    misshapen = _misshapen(targets)
    if missing or unexpected or misshapen:
        raise CheckpointMismatchError(
            f"the checkpoint does not match {type(model).__name__}: missing {missing or 'none'}, "
            f"not in the model {unexpected or 'none'}, of another shape {misshapen or 'none'}. Load a "
            "checkpoint saved from this model class and config (save_pretrained), or convert it with "
            "scripts/convert_checkpoint.py."
        )
    return dict(sorted(targets.items()))


def _misshapen(targets: dict[Path, list[tuple[torch.Tensor, str]]]) -> list[str]:
    """The checkpoint keys whose shape (from the file headers) is not their tensor's full shape."""
    misshapen = []
    for file, file_targets in targets.items():
        with safe_open(file, framework="pt") as checkpoint:
            for tensor, key in file_targets:
                shape = tuple(checkpoint.get_slice(key).get_shape())
                if shape != tuple(getattr(tensor, "ds_shape", tensor.shape)):
                    misshapen.append(f"{key} {shape}")
    return sorted(misshapen)


def _scatter_into_partition(param: torch.nn.Parameter, value: torch.Tensor | None) -> None:
    """Rank 0's `value` (None elsewhere), cut in DeepSpeed's layout, into each rank's `param.ds_tensor`.

    The layout: the flattened tensor, zero-padded to `ds_tensor.numel()` times the group's size; rank r
    holds the r-th slice of that.
    """
    group = param.ds_process_group
    partition = param.ds_tensor
    chunks = None
    if value is not None:
        flat = value.to(device=partition.device, dtype=partition.dtype).reshape(-1)  # NCCL: on the GPU
        size = partition.numel()
        chunks = [flat[rank * size : (rank + 1) * size] for rank in range(dist.get_world_size(group))]
        chunks = [torch.cat([c, c.new_zeros(size - c.numel())]) if c.numel() < size else c for c in chunks]
    with torch.no_grad():
        dist.scatter(partition.data, chunks, group=group, group_src=0)


def _broadcast_into_buffer(buffer: torch.Tensor, value: torch.Tensor | None) -> None:
    """Rank 0's `value` (None elsewhere) into `buffer` on every rank: ZeRO-3 does not partition buffers."""
    with torch.no_grad():
        if value is not None:
            buffer.copy_(value)
        dist.broadcast(buffer.data, src=0)
