"""Tests for scripts/estimate_memory.py: DeepSpeed's figures, 16 bytes/param, counting on the meta device."""

import contextlib
import io
import re

import pytest
from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs_all_cold
from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs_all_cold
from transformers import LlamaConfig

from ftkit.commands.estimate_memory import GIB, count_model_params, estimate, main, parse_count
from ftkit.frameworks import framework_of
from ftkit.modeling import load_config, load_model, load_tokenizer

P3B = 3_000_000_000
LARGEST = 400_000_000  # Llama-3.2-3B's embedding: 128256 x 3072


def by_setting(rows):
    return {(row.stage, row.offload): row for row in rows}


def test_3b_full_finetuning_agrees_with_16_bytes_per_parameter():
    rows = by_setting(estimate(P3B, LARGEST, gpus_per_node=1))
    # No ZeRO: 2 (16-bit weight) + 2 (16-bit gradient) + 4 (fp32 master) + 8 (Adam moments) = 48 GB.
    assert rows[0, "none"].gpu_bytes == 16 * P3B == 48e9
    # DeepSpeed's one-GPU ZeRO-2 adds its fp32 gradient partition: 16 + 4 bytes per parameter.
    assert rows[2, "none"].gpu_bytes == 20 * P3B
    # With 8 GPUs, ZeRO-3 spreads 18 bytes per parameter; each GPU also gathers the largest layer.
    rows8 = by_setting(estimate(P3B, LARGEST, gpus_per_node=8))
    assert 8 * rows8[3, "none"].gpu_bytes == pytest.approx(18 * P3B + 8 * 4 * LARGEST, rel=1e-6)


def test_per_gpu_memory_falls_with_each_stage_and_offload():
    rows = estimate(P3B, LARGEST, gpus_per_node=8)
    per_gpu = [row.gpu_bytes for row in rows]
    assert [(row.stage, row.offload) for row in rows] == [
        (0, "none"),
        (1, "none"),
        (1, "optimizer"),
        (2, "none"),
        (2, "optimizer"),
        (3, "none"),
        (3, "optimizer"),
        (3, "optimizer+params"),
    ]
    stages = by_setting(rows)
    assert stages[0, "none"].gpu_bytes > stages[1, "none"].gpu_bytes > stages[2, "none"].gpu_bytes
    assert stages[2, "none"].gpu_bytes > stages[3, "none"].gpu_bytes
    assert min(per_gpu) == stages[3, "optimizer+params"].gpu_bytes
    assert stages[2, "optimizer"].gpu_bytes == 2 * P3B  # only the 16-bit weights stay on the GPU


def _deepspeed_table(function, *args) -> list[tuple[float, float]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        function(*args)
    return [
        (float(cpu), float(gpu)) for cpu, gpu in re.findall(r"([\d.]+)GB \|\s+([\d.]+)GB", out.getvalue())
    ]


@pytest.mark.parametrize("gpus, nodes", [(1, 1), (8, 1), (8, 2)])
def test_figures_are_deepspeeds_own(gpus, nodes):
    """The rows equal what DeepSpeed's estimate_*_all_cold print (in GiB, labelled GB)."""
    rows = by_setting(estimate(P3B, LARGEST, gpus, nodes))

    def gib(row):
        return (round(row.cpu_bytes / GIB, 2), round(row.gpu_bytes / GIB, 2))

    zero2 = _deepspeed_table(estimate_zero2_model_states_mem_needs_all_cold, P3B, gpus, nodes)
    assert zero2 == [gib(rows[2, "optimizer"]), gib(rows[2, "none"])]
    zero3 = _deepspeed_table(estimate_zero3_model_states_mem_needs_all_cold, P3B, LARGEST, gpus, nodes)
    # DeepSpeed prints zero_init on/off for each setting; the Trainer always builds ZeRO-3 models with it.
    assert zero3[0::2] == [gib(rows[3, "optimizer+params"]), gib(rows[3, "optimizer"]), gib(rows[3, "none"])]


@pytest.mark.parametrize("family", ["llama", "t5"])
def test_model_folder_is_counted_on_the_meta_device(tiny_model, family):
    path = tiny_model(family)
    total, largest = count_model_params(path)
    config = load_config(str(path))
    model = load_model(str(path), framework_of(config), config, load_tokenizer(str(path)))
    assert total == sum(p.numel() for p in model.parameters())  # tied weights once
    assert largest == model.get_input_embeddings().weight.numel()


def test_a_7b_config_is_counted_without_weights_or_memory(tmp_path):
    # Llama-2-7B's config: 27 GB of fp32 weights if it were built on the CPU; here, only config.json.
    LlamaConfig(
        hidden_size=4096,
        intermediate_size=11008,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=32,
        vocab_size=32000,
        max_position_embeddings=4096,
    ).save_pretrained(tmp_path)
    assert count_model_params(tmp_path) == (6_738_415_616, 32000 * 4096)


@pytest.mark.parametrize(
    "text, count", [("3e9", 3 * 10**9), ("3B", 3 * 10**9), ("350M", 350 * 10**6), ("1.5b", 1.5e9)]
)
def test_parse_count(text, count):
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["three", "0", "3X", ""])
def test_parse_count_rejects(text):
    with pytest.raises(Exception, match="parameter count"):
        parse_count(text)


def test_cli_prints_the_table(capsys, tmp_path):
    assert main(["--params", "3B", "--gpus", "8"]) == 0
    out = capsys.readouterr().out
    assert "16 B/param = 48.0 GB" in out
    assert re.search(
        r"^3\s+optimizer\+params\s+[\d.]+\s+[\d.]+\s+whole run\s+zero3_offload\.json$", out, re.M
    )
    assert main(["--model", str(tmp_path / "missing"), "--gpus", "8"]) == 2
    assert "cannot build" in capsys.readouterr().err


def test_the_output_explains_each_column_and_says_what_it_assumes(capsys, tiny_model):
    assert main(["--params", "7B", "--gpus", "8"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("stage"))
    columns = re.split(r"\s{2,}", header)
    explained = out[out.index("Columns:") : out.index("Assumed:")]
    assert all(re.search(rf"^  {re.escape(name)}\s", explained, re.M) for name in columns), columns
    # The 313 GiB of host memory without offload: the fp32 copy each of the 8 processes holds while loading.
    (zero2,) = [line for line in out.splitlines() if re.match(r"2\s+none\s", line)]
    assert zero2.split()[2:4] == ["27.7", "312.9"] and "at load" in zero2
    assert "4 B/param x 8 process(es) x 1.5" in explained
    assert "largest layer 350M parameters: ASSUMED to be 5% of --params" in out

    assert main(["--params", "7B", "--largest_layer_params", "131M"]) == 0
    assert "largest layer 131M parameters: given with --largest_layer_params" in capsys.readouterr().out
    assert main(["--model", str(tiny_model("llama"))]) == 0
    assert f"parameters: counted from {tiny_model('llama')}" in capsys.readouterr().out
