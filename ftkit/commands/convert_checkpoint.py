"""Convert a checkpoint to sharded safetensors, the layout finetune.py writes and loads memory-mapped.

Usage (from a clone; installed, `ftkit-convert-checkpoint` takes the same arguments):
    python scripts/convert_checkpoint.py SRC OUT [--max_shard_size 5GB] [--dtype auto]

SRC is one of
  - a model folder holding pytorch_model.bin or model.safetensors (the old single-file layout; an index of
    shards works too), or that file itself;
  - a DeepSpeed checkpoint folder (a Trainer's checkpoint-N, with `latest` and global_stepN/ in it): its
    fp32 master weights are consolidated with DeepSpeed's zero_to_fp32, whatever the ZeRO stage (1, 2, 3).
OUT receives model-0000i-of-0000n.safetensors with model.safetensors.index.json (one model.safetensors when
the weights fit in one shard), plus the config, generation config and tokenizer files found in SRC's folder.
Tied weights (an embedding shared with the output layer) are written once; `from_pretrained` ties them back.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from huggingface_hub import save_torch_state_dict
from safetensors import safe_open

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
# Everything from_pretrained reads besides the weights.
COMPANION_PATTERNS = (
    "config.json",
    "generation_config.json",
    "tokenizer*",
    "special_tokens_map.json",
    "added_tokens.json",
    "spiece.model",
    "vocab*",
    "merges.txt",
    "chat_template*",
)


class ConversionError(ValueError):
    """A source that cannot be converted; the message says what was expected."""


def is_deepspeed_checkpoint(path: Path) -> bool:
    return path.is_dir() and ((path / "latest").is_file() or any(path.glob("global_step*/")))


def weight_files(src: Path) -> list[Path]:
    """The weight files of a model folder (or the file itself), in shard order.

    Raises:
        ConversionError: no weights where they should be.
    """
    if src.is_file():
        return [src]
    for index in INDEX_FILES:
        if (src / index).is_file():
            weight_map = json.loads((src / index).read_text(encoding="utf-8"))["weight_map"]
            return [src / name for name in sorted(set(weight_map.values()))]
    for name in WEIGHT_FILES:
        if (src / name).is_file():
            return [src / name]
    raise ConversionError(
        f"{src}: no {' or '.join(WEIGHT_FILES)} (or shard index) here, and no DeepSpeed checkpoint "
        "(`latest` or global_step*/). Pass a model folder, a weights file or a checkpoint-N folder."
    )


def read_weights(files: list[Path]) -> dict[str, torch.Tensor]:
    """All tensors of the files, memory-mapped where the format allows (safetensors, zip .bin)."""
    state_dict: dict[str, torch.Tensor] = {}
    for path in files:
        if path.suffix == ".safetensors":
            with safe_open(str(path), framework="pt") as f:
                state_dict.update({name: f.get_tensor(name) for name in f.keys()})  # noqa: SIM118
        else:
            state_dict.update(torch.load(path, map_location="cpu", weights_only=True, mmap=True))
    return state_dict


def read_deepspeed(src: Path, tag: str | None) -> dict[str, torch.Tensor]:
    """The fp32 master weights of a DeepSpeed ZeRO checkpoint, consolidated across ranks."""
    from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint

    return get_fp32_state_dict_from_zero_checkpoint(str(src), tag=tag)


def cast(state_dict: dict[str, torch.Tensor], dtype: torch.dtype | None) -> dict[str, torch.Tensor]:
    """Cast floating-point tensors to `dtype` (None: keep), keeping tensors that share storage shared."""
    if dtype is None:
        return state_dict
    cast_by_id: dict[int, torch.Tensor] = {}
    result = {}
    for name, tensor in state_dict.items():
        if not tensor.is_floating_point():
            result[name] = tensor
            continue
        key = id(tensor)
        if key not in cast_by_id:
            cast_by_id[key] = tensor.to(dtype)
        result[name] = cast_by_id[key]
    return result


def convert(
    src: Path, out: Path, max_shard_size: str = "5GB", dtype: str = "auto", tag: str | None = None
) -> list[Path]:
    """Write SRC's weights to OUT as sharded safetensors, with its companion files; return the files written.

    Raises:
        ConversionError: SRC holds no weights we know, or OUT is SRC.
    """
    src, out = src.resolve(), out.resolve()
    folder = src if src.is_dir() else src.parent
    if out == folder:
        raise ConversionError(f"OUT {out} is the source folder; write the converted checkpoint elsewhere.")
    if dtype != "auto" and dtype not in DTYPES:
        raise ConversionError(f"--dtype {dtype}: choose auto or one of {', '.join(DTYPES)}.")
    if is_deepspeed_checkpoint(src):
        state_dict = read_deepspeed(src, tag)
    else:
        state_dict = read_weights(weight_files(src))
    state_dict = cast(state_dict, DTYPES.get(dtype))
    out.mkdir(parents=True, exist_ok=True)
    save_torch_state_dict(state_dict, out, max_shard_size=max_shard_size, metadata={"format": "pt"})
    for pattern in COMPANION_PATTERNS:
        for path in folder.glob(pattern):
            if path.is_file() and path.name not in INDEX_FILES:
                shutil.copy2(path, out / path.name)
    return sorted(out.iterdir())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path, help="model folder, weights file, or DeepSpeed checkpoint folder")
    parser.add_argument("out", type=Path, help="folder for the sharded safetensors checkpoint")
    parser.add_argument("--max_shard_size", default="5GB", help="largest shard file, e.g. 5GB or 500MB")
    parser.add_argument(
        "--dtype",
        default="auto",
        choices=("auto", *DTYPES),
        help="floating-point dtype to write; auto keeps the source's (fp32 for DeepSpeed master weights)",
    )
    parser.add_argument("--tag", help="DeepSpeed checkpoint tag (global_stepN); default: the one in `latest`")
    args = parser.parse_args(argv)
    try:
        written = convert(args.src, args.out, args.max_shard_size, args.dtype, args.tag)
    except (ConversionError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    shards = [p for p in written if p.suffix == ".safetensors"]
    size = sum(p.stat().st_size for p in shards)
    print(f"wrote {len(shards)} safetensors shard(s), {size / 1e9:.2f} GB, to {args.out}")
    return 0
