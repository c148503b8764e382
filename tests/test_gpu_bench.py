"""scripts/gpu_bench.sh: its CPU smoke mode (GPU_BENCH_SMOKE=1) runs every stage and writes one results file
with each stage's command, its closing line and a summary; without deepspeed/datasets/trl and without wheels
it stops at once, saying how to make them."""

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = ("model", "train", "predict", "memory_model", "memory")


def run_gpu_bench(tmp_path, **env):
    env = {**os.environ, "WORK": str(tmp_path / "work"), "RESULTS": str(tmp_path / "results.md"), **env}
    return subprocess.run(
        ["bash", "scripts/gpu_bench.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow
def test_smoke_run_writes_every_stage_into_one_results_file(tmp_path):
    result = run_gpu_bench(tmp_path, GPU_BENCH_SMOKE="1")

    assert result.returncode == 0, result.stderr[-3000:]
    text = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "SMOKE RUN" in text
    for stage in STAGES:
        assert f"## {stage}\n" in text
        assert re.search(rf"^\| {stage} \| ok \| \d+ \|$", text, re.MULTILINE), stage
    assert re.search(r"^\$ \S+ scripts/bench_train.py --model \S+/work/llama ", text, re.MULTILINE)
    assert re.search(r"non-padding tokens/s vs best peer, no DeepSpeed: ours [\d.]+, best peer [\d.]+", text)
    assert "outputs identical to careful: 16/16 lines" in text
    assert re.search(r"sentences/s: plain [\d.]+, careful [\d.]+, ours [\d.]+; ", text)
    assert re.search(r"peak host memory / checkpoint size: naive [\d.]+", text)
    assert re.search(r"^total \d+ s$", text, re.MULTILINE)


def test_without_deepspeed_and_without_wheels_it_says_how_to_make_them(tmp_path):
    # A module of that name that fails to import stands for a machine without DeepSpeed.
    missing = tmp_path / "missing"
    missing.mkdir()
    (missing / "deepspeed.py").write_text("raise ImportError('not installed here')\n")
    wheels = tmp_path / "no-wheels"
    wheels.mkdir()
    site = tmp_path / "site"
    result = run_gpu_bench(tmp_path, PYTHONPATH=str(missing), WHEELS=str(wheels), SITE=str(site))

    assert result.returncode == 2
    assert "make_wheels.sh" in result.stderr and str(wheels) in result.stderr
    assert not site.exists()
