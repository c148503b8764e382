"""Estimate per-GPU and per-node CPU memory for a model's weights, gradients and Adam states under ZeRO.

The figures are DeepSpeed's own estimators (`estimate_zero2_model_states_mem_needs` and
`estimate_zero3_model_states_mem_needs`, the functions behind `..._all_cold`), for mixed-precision
(bf16/fp16) training with Adam, for ZeRO stages 1-3 with and without CPU offload. They count model states
only: activations (which grow with batch size and sequence length), communication buckets and the CUDA
context come on top, so leave a few GiB per GPU free.

How the numbers relate to the "16 bytes per parameter" rule of thumb (3B parameters: 48 GB): a 16-bit
weight (2 B), its 16-bit gradient (2 B), an fp32 master weight (4 B) and Adam's two fp32 moments (8 B) are
16 B/param, the "no ZeRO" row. DeepSpeed's estimators also count an fp32 gradient partition (4 B), so on one
GPU ZeRO-2 needs 2 + 18 = 20 B/param, and ZeRO-3 spreads 18 B/param over all GPUs.
ZeRO-1 has no DeepSpeed estimator; its row is ZeRO-2's plus the full 16-bit gradients that stage 1 keeps
on every GPU (it partitions optimizer states only).

Usage (from a clone; installed, `ftkit-estimate-memory` takes the same arguments):
    python scripts/estimate_memory.py --params 7e9 --gpus 8            # also 7B, 350M
    python scripts/estimate_memory.py --model /checkpoints/google_flan_t5_xl --gpus 4 --nodes 2
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

GIB = 2**30
# DeepSpeed's margin on its CPU figures (`additional_buffer_factor`).
DEFAULT_BUFFER_FACTOR = 1.5
# 16-bit weight + 16-bit gradient + fp32 master weight + Adam's fp32 exp_avg and exp_avg_sq.
RULE_OF_THUMB_BYTES = 2 + 2 + 4 + 4 + 4
# Largest single layer (for ZeRO-3's gathered working set) when only --params is known: a guess between
# LLaMA-2-7B (embeddings: 2% of the parameters) and Llama-3.2-3B (13%).
DEFAULT_LARGEST_LAYER_SHARE = 0.05
_SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


@dataclass(frozen=True)
class Estimate:
    stage: int
    offload: str  # what lives in CPU memory: "none", "optimizer" or "optimizer+params"
    gpu_bytes: int  # per GPU
    cpu_bytes: int  # per node
    ds_config: str  # the bundled config for this setting, or ""
    # When the CPU figure is needed: "at load" (every process's copy while the model is built, freed once it
    # is on the GPUs) or "whole run" (offloaded states); "" without ZeRO.
    cpu_when: str = ""


def parse_count(text: str) -> int:
    """'3e9', '3B', '350M', '7b' -> a parameter count.

    Raises:
        argparse.ArgumentTypeError: not a positive number with an optional K/M/B/T suffix.
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmbgt]?)\s*", text.lower())
    if not match or float(match[1]) * _SUFFIXES.get(match[2], 1) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a parameter count such as 3e9, 3B or 350M")
    return int(float(match[1]) * _SUFFIXES.get(match[2], 1))


def count_model_params(model_dir: str | Path) -> tuple[int, int]:
    """(total parameters, parameters of the largest single module) of a model folder's config.

    The model is built on the meta device: shapes only, no memory, no weights read. Tied weights count
    once (`parameters()` yields a shared tensor once).

    Raises:
        OSError: no readable config.json in `model_dir`.
    """
    from transformers import AutoConfig

    from ftkit.frameworks import framework_of

    config = AutoConfig.from_pretrained(model_dir)
    with torch.device("meta"):
        model = framework_of(config).auto_model.from_config(config)
    total = sum(p.numel() for p in model.parameters())
    largest = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules())
    return total, largest


def estimate(
    params: int,
    largest_layer: int,
    gpus_per_node: int,
    nodes: int = 1,
    buffer_factor: float = DEFAULT_BUFFER_FACTOR,
) -> list[Estimate]:
    """Model-state memory for each ZeRO stage and offload setting, in bytes.

    ZeRO-3 rows assume `zero.Init` (the Trainer builds ZeRO-3 models partitioned).
    """
    gpus = gpus_per_node * nodes
    rows = [Estimate(0, "none", RULE_OF_THUMB_BYTES * params, 0, "")]
    zero2 = {}
    for offload in (False, True):
        zero2[offload] = estimate_zero2_model_states_mem_needs(
            params, gpus_per_node, nodes, cpu_offload=offload, additional_buffer_factor=buffer_factor
        )
    # Stage 1 partitions optimizer states but keeps every 16-bit gradient on each GPU until the step.
    full_grads = 2 * params
    # DeepSpeed's offload figure is the larger of the load copies (4 B/param per GPU) and the optimizer's
    # 16 B/param; without offload only the load copies need host memory.
    offload_when = "at load" if 4 * gpus > 16 else "whole run"
    cpu, gpu = zero2[False]
    rows.append(Estimate(1, "none", gpu + full_grads - 2 * params // gpus, cpu, "zero1.json", "at load"))
    cpu, gpu = zero2[True]
    rows.append(Estimate(1, "optimizer", gpu + full_grads, cpu, "", offload_when))
    cpu, gpu = zero2[False]
    rows.append(Estimate(2, "none", gpu, cpu, "zero2.json", "at load"))
    cpu, gpu = zero2[True]
    rows.append(Estimate(2, "optimizer", gpu, cpu, "zero2_offload.json", offload_when))
    for offload, offload_params, name, config in [
        (False, False, "none", "zero3.json"),
        (True, False, "optimizer", ""),
        (True, True, "optimizer+params", "zero3_offload.json"),
    ]:
        cpu, gpu, _ = estimate_zero3_model_states_mem_needs(
            params,
            largest_layer,
            gpus_per_node,
            nodes,
            cpu_offload=offload,
            cpu_offload_params=offload_params,
            zero_init=True,
            additional_buffer_factor=buffer_factor,
        )
        # With zero.Init the offload figures are the offloaded states alone.
        rows.append(Estimate(3, name, gpu, cpu, config, "whole run" if offload else "at load"))
    return rows


def _gib(n: int) -> str:
    return f"{n / GIB:8.1f}"


def format_table(
    rows: list[Estimate],
    params: int,
    largest_layer: int,
    gpus_per_node: int,
    nodes: int,
    largest_layer_source: str,
    buffer_factor: float = DEFAULT_BUFFER_FACTOR,
) -> str:
    """The table, what each column means, and what the figures assume (`largest_layer_source` says where the
    largest layer's size comes from: counted, given or assumed)."""
    gpus = gpus_per_node * nodes
    lines = [
        f"Model states of {params / 1e9:.2f}B parameters on {nodes} node(s) x {gpus_per_node} GPU(s) = "
        f"{gpus} GPU(s). GiB = 2^30 bytes.",
        f"Rule of thumb: {RULE_OF_THUMB_BYTES} B/param = {RULE_OF_THUMB_BYTES * params / 1e9:.1f} GB "
        f"= {RULE_OF_THUMB_BYTES * params / GIB:.1f} GiB per GPU without ZeRO.",
        "",
        "stage  offload to CPU      per GPU GiB  per node CPU GiB  CPU needed  ds_configs/",
    ]
    for row in rows:
        stage = "0*" if row.stage == 0 else str(row.stage)
        cpu = "       -" if row.stage == 0 else _gib(row.cpu_bytes)
        lines.append(
            f"{stage:<6} {row.offload:<18} {_gib(row.gpu_bytes):>11}  {cpu:>16}  {row.cpu_when:<10}  "
            f"{row.ds_config}".rstrip()
        )
    lines += [
        "",
        "Columns:",
        "  stage             ZeRO stage. 0*: no ZeRO (plain data parallelism), the 16 B/param rule of",
        "                    thumb, not a DeepSpeed estimate. 1-3: DeepSpeed's estimators; ZeRO-1 is",
        "                    ZeRO-2 + unpartitioned 16-bit gradients.",
        "  offload to CPU    what lives in host memory instead of on the GPUs: the optimizer (fp32",
        "                    master weights, Adam moments); +params: the 16-bit weights too.",
        "  per GPU GiB       model states each GPU holds while training: its share of the 16-bit",
        "                    weights and gradients, fp32 master weights and Adam moments; ZeRO-3 also",
        "                    gathers the largest layer whole for its forward and backward pass.",
        "  per node CPU GiB  host memory per node (DeepSpeed's figure, with its margin). Without offload",
        "                    it is a loading peak: each process on the node holds an fp32 copy of the",
        f"                    weights while the model is built (4 B/param x {gpus_per_node} process(es) x "
        f"{buffer_factor:g});",
        "                    ZeRO-3 builds it partitioned (zero.Init): the largest layer's 4 B/param",
        "                    instead. With offload: the offloaded states, held for the whole run.",
        "  CPU needed        at load: while the model is built, freed once it is on the GPUs (with",
        "                    offload, the load copies outweigh the states: those need 16 B/param);",
        "                    whole run: held throughout training.",
        "  ds_configs/       the bundled DeepSpeed config for that setting.",
        "",
        "Assumed:",
        "  - mixed-precision (bf16/fp16) training with Adam; ZeRO-3 models built with zero.Init, as the",
        "    Trainer builds them.",
        f"  - largest layer {largest_layer / 1e6:,.0f}M parameters: {largest_layer_source}.",
        "    The ZeRO-3 rows depend on it.",
        f"  - CPU figures include DeepSpeed's {buffer_factor:g}x margin (--buffer_factor).",
        "  - model states only: activations (which grow with batch size and sequence length),",
        "    communication buffers and the CUDA context come on top; leave a few GiB per GPU free.",
        "Offload to NVMe (zero3_offload_nvme.json) needs the GPU memory of the optimizer+params row and",
        "moves its CPU figure onto the NVMe drive, less pinned buffers; its offload_param.buffer_size",
        f"must be at least largest layer / GPUs = {-(-largest_layer // gpus):,}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="model folder with config.json (built on the meta device to count)")
    source.add_argument("--params", type=parse_count, help="parameter count: 3e9, 3B, 350M...")
    parser.add_argument(
        "--largest_layer_params",
        type=parse_count,
        help="parameters of the largest layer (usually the embedding: vocab x hidden), for ZeRO-3 "
        f"[with --model: counted; with --params: {DEFAULT_LARGEST_LAYER_SHARE:.0%} of them]",
    )
    parser.add_argument("--gpus", type=int, default=1, help="GPUs per node [1]")
    parser.add_argument("--nodes", type=int, default=1, help="nodes [1]")
    parser.add_argument(
        "--buffer_factor",
        type=float,
        default=DEFAULT_BUFFER_FACTOR,
        help=f"DeepSpeed's additional_buffer_factor on CPU figures [{DEFAULT_BUFFER_FACTOR}]",
    )
    args = parser.parse_args(argv)
    if args.gpus < 1 or args.nodes < 1:
        parser.error("--gpus and --nodes must be at least 1")
    if args.largest_layer_params is not None:
        source = "given with --largest_layer_params"
    elif args.model is not None:
        source = f"counted from {args.model}"
    else:
        source = (
            f"ASSUMED to be {DEFAULT_LARGEST_LAYER_SHARE:.0%} of --params; give --largest_layer_params\n"
            "    (usually vocabulary x hidden size) or --model to count it"
        )
    if args.model is not None:
        try:
            params, largest = count_model_params(args.model)
        except (OSError, ValueError) as e:
            print(
                f"estimate_memory.py: error: cannot build {args.model} from its config: {e}", file=sys.stderr
            )
            return 2
    else:
        params, largest = args.params, int(args.params * DEFAULT_LARGEST_LAYER_SHARE)
    largest = args.largest_layer_params or largest
    rows = estimate(params, largest, args.gpus, args.nodes, args.buffer_factor)
    print(format_table(rows, params, largest, args.gpus, args.nodes, source, args.buffer_factor), end="")
    return 0
