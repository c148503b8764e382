"""ZeRO-Offload on CPU: DeepSpeed's CPU Adam steps the optimizer with the Trainer's hyperparameters, and a
run trains exactly as it does without offload.

The offload configs have no `optimizer` block on purpose: accelerate replaces the Trainer's torch AdamW with
DeepSpeedCPUAdam (adamw mode), keeping its parameter groups (no weight decay on biases and norms), learning
rate, betas, eps and schedule. These tests pin that, so a change in accelerate or DeepSpeed shows up here.
"""

import json
import os

import pytest
import torch
from safetensors.torch import load_file

from conftest import REPO, SAMPLE, free_port, run_command, run_deepspeed

pytestmark = pytest.mark.slow
CONFIGS = REPO / "ds_configs"
# finetune.main with deepspeed.initialize wrapped, to report the optimizer DeepSpeed ended up with (run with
# the repository on PYTHONPATH, for `import finetune`).
PROBE = """
import json, sys
import deepspeed
import finetune

initialize = deepspeed.initialize

def probe(*args, **kwargs):
    engine, optimizer, *rest = initialize(*args, **kwargs)
    basic = engine.basic_optimizer
    keys = ("lr", "betas", "eps", "weight_decay")
    groups = [{k: v for k, v in g.items() if k in keys} for g in basic.param_groups]
    report = {
        "optimizer": type(basic).__name__,
        "adamw_mode": getattr(basic, "adam_w_mode", None),
        "zero_optimizer": type(optimizer).__name__,
        "groups": groups,
    }
    if engine.global_rank == 0:
        print("OFFLOAD_PROBE " + json.dumps(report), flush=True)
    return (engine, optimizer, *rest)

deepspeed.initialize = probe
sys.exit(finetune.main())
"""
TRAIN_ARGS = [
    "--train_file",
    str(SAMPLE / "train.jsonl"),
    "--max_train_samples",
    "64",
    "--do_train",
    "--max_steps",
    "8",
    "--per_device_train_batch_size",
    "8",
    "--learning_rate",
    "2e-3",
    "--weight_decay",
    "0.01",
    "--logging_steps",
    "1",
    "--save_strategy",
    "no",
]


def losses(output_dir):
    history = json.loads((output_dir / "trainer_state.json").read_text())["log_history"]
    return [row["loss"] for row in history if "loss" in row]


def train_with_probe(tmp_path, model, config) -> dict:
    """Train `model` with DeepSpeed `config` (one CPU process); return the probe's report."""
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    command = [
        "deepspeed",
        "--num_gpus",
        "1",
        "--master_port",
        str(free_port()),
        str(probe),
        "--use_cpu",
        "--deepspeed",
        str(config),
        "--model_name_or_path",
        str(model),
        "--output_dir",
        str(tmp_path / "out"),
        *TRAIN_ARGS,
    ]
    result = run_command(
        command,
        900,
        cwd=REPO,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH")))),
        },
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("OFFLOAD_PROBE "))
    return json.loads(line.removeprefix("OFFLOAD_PROBE "))


def assert_cpu_adam_with_trainer_settings(report: dict) -> None:
    assert report["optimizer"] == "DeepSpeedCPUAdam" and report["adamw_mode"] is True
    # The Trainer's two groups: weight decay, and none for biases and norm weights.
    assert [group["weight_decay"] for group in report["groups"]] == [0.01, 0.0]
    for group in report["groups"]:
        assert group["lr"] == pytest.approx(2e-3) and group["eps"] == pytest.approx(1e-8)
        assert group["betas"] == pytest.approx([0.9, 0.999])


@pytest.fixture(scope="module")
def reference_losses(tiny_model, tmp_path_factory):
    """Losses of the same run under ZeRO-2 without offload (the Trainer's torch AdamW)."""
    out = tmp_path_factory.mktemp("zero2-reference")
    run_deepspeed(
        [
            "--deepspeed",
            str(CONFIGS / "zero2.json"),
            "--model_name_or_path",
            str(tiny_model("llama")),
            "--output_dir",
            str(out),
            *TRAIN_ARGS,
        ]
    )
    return losses(out)


def test_zero2_offload_steps_cpu_adam_and_matches_no_offload(tiny_model, tmp_path, reference_losses):
    report = train_with_probe(tmp_path, tiny_model("llama"), CONFIGS / "zero2_offload.json")
    assert_cpu_adam_with_trainer_settings(report)
    assert report["zero_optimizer"] == "DeepSpeedZeroOptimizer"
    # Same hyperparameters, schedule and weight-decay groups: the same losses, to float rounding.
    assert losses(tmp_path / "out") == pytest.approx(reference_losses, abs=1e-4)


def test_zero3_offload_trains_t5_with_cpu_adam(tiny_model, tmp_path):
    report = train_with_probe(tmp_path, tiny_model("t5"), CONFIGS / "zero3_offload.json")
    assert_cpu_adam_with_trainer_settings(report)
    assert report["zero_optimizer"] == "DeepSpeedZeroOptimizer_Stage3"
    logged = losses(tmp_path / "out")
    assert len(logged) == 8 and logged[-1] < logged[0] - 0.3, logged
    # The gathered 16-bit weights were saved, every tensor moved.
    before = load_file(tiny_model("t5") / "model.safetensors")
    after = load_file(tmp_path / "out" / "model.safetensors")
    assert not [name for name in before if torch.equal(before[name], after[name])]


def test_nvme_config_is_the_offload_config_with_nvme_devices():
    cpu = json.loads((CONFIGS / "zero3_offload.json").read_text())
    nvme = json.loads((CONFIGS / "zero3_offload_nvme.json").read_text())
    for part in ("offload_optimizer", "offload_param"):
        settings = nvme["zero_optimization"].pop(part)
        assert settings["device"] == "nvme" and settings["nvme_path"] == "/local_nvme"
        assert settings["pin_memory"] is True
        cpu["zero_optimization"].pop(part)
    assert nvme == cpu


def test_zero3_offload_nvme_swaps_to_the_given_path(tiny_model, tmp_path, reference_losses):
    from deepspeed.ops.op_builder import AsyncIOBuilder

    if not AsyncIOBuilder().is_compatible(verbose=False):
        pytest.skip("NVMe offload needs DeepSpeed's async_io op, which needs libaio: apt install libaio-dev")
    config = json.loads((CONFIGS / "zero3_offload_nvme.json").read_text())
    swap = tmp_path / "nvme"
    for part in ("offload_optimizer", "offload_param"):
        config["zero_optimization"][part]["nvme_path"] = str(swap)
    # 5 buffers of 6e8 fp32 elements would pin 12 GB; the tiny model's largest tensor is 64k elements.
    config["zero_optimization"]["offload_param"]["buffer_size"] = 1_000_000
    path = tmp_path / "nvme.json"
    path.write_text(json.dumps(config))
    report = train_with_probe(tmp_path, tiny_model("llama"), path)
    assert_cpu_adam_with_trainer_settings(report)
    # DeepSpeed's swap files: optimizer state and the (fp32 here) parameter partitions.
    assert {p.name for p in (swap / "zero_stage_3").iterdir()} == {"optimizer", "float32params"}
    assert losses(tmp_path / "out") == pytest.approx(reference_losses, abs=1e-4)
