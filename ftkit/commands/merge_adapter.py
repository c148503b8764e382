"""Merge a LoRA adapter into its base model: a plain model folder that loads without peft.

The adapter folder is one written by `finetune.py --finetuning_type lora` (the final output or a
checkpoint-N); its base model is the one adapter_config.json names (base_model_name_or_path). The merged
folder holds full weights (sharded safetensors), config, tokenizer and the run's run_args.json, so
`finetune.py --do_predict`, eval_gec.sh and interactive_generate.py use it like any finetuned model.

Usage (from a clone; installed, `ftkit-merge-adapter` takes the same arguments):
    python scripts/merge_adapter.py --adapter outputs/lora-run --out outputs/lora-run-merged
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ftkit.adapters import merge_adapter, read_adapter_config
from ftkit.frameworks import framework_of
from ftkit.modeling import ModelLoadError, load_config, load_model, load_tokenizer
from ftkit.run_files import RUN_ARGS


def merge(adapter: Path, out: Path, shard_size: str = "5GB", trust_remote_code: bool = False) -> Path:
    """Write base model + LoRA adapter, merged, to `out`; return `out`.

    Raises:
        ModelLoadError: `adapter` is not an adapter folder, or its base model cannot be loaded.
        ValueError: the adapter is not LoRA (prompt-learning adapters do not merge).
    """
    if read_adapter_config(adapter) is None:
        raise ModelLoadError(f"{adapter} has no adapter_config.json: not a PEFT adapter folder.")
    config = load_config(str(adapter), trust_remote_code)
    tokenizer = load_tokenizer(str(adapter), trust_remote_code)
    # The checkpoint's own dtype: merging adds the low-rank update to each weight in place.
    model = load_model(str(adapter), framework_of(config), config, tokenizer, "auto", trust_remote_code)
    merged = merge_adapter(model)
    merged.save_pretrained(out, max_shard_size=shard_size)
    tokenizer.save_pretrained(out)
    if (adapter / RUN_ARGS).is_file():  # the prompt template, for eval_gec.sh and the REPL
        shutil.copy2(adapter / RUN_ARGS, out / RUN_ARGS)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--adapter", type=Path, required=True, help="LoRA adapter folder (with adapter_config.json)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the merged model")
    parser.add_argument("--shard_size", default="5GB", help="largest safetensors file (default %(default)s)")
    parser.add_argument("--trust_remote_code", action="store_true", help="run the base model's own code")
    args = parser.parse_args(argv)
    try:
        out = merge(args.adapter, args.out, args.shard_size, args.trust_remote_code)
    except (ModelLoadError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"merged {args.adapter} into {out}")
    return 0
