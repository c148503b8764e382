#!/usr/bin/env bash
# The benchmarks on one GPU, within the stages' budgets below, into one results file:
#   train    the training race (scripts/bench_train.py): finetune.py against the careful HF Trainer script and
#            TRL, under the deepspeed launcher with ZeRO-2, bf16, on a 1.09B-parameter LLaMA-shaped model
#            (hidden 2048, 16 layers, FFN 8192) built from a config with random weights, on the GEC sample
#            (data/sample/train.jsonl); flash-attention 2 (with --packing for ours) and the Liger kernels for
#            every system when they are installed
#   predict  the prediction race (scripts/bench_predict.py): ours against a plain and a careful generate loop
#            on the demo checkpoint
#   memory   the load-memory check (scripts/bench_load_memory.py): 4 processes loading a 1 GB LLaMA, ZeRO-2
#
#   bash scripts/gpu_bench.sh                        # from the project root of the GPU machine
#   GPU_BENCH_SMOKE=1 bash scripts/gpu_bench.sh      # on CPU: tiny models, a few steps (tests/test_gpu_bench.py)
#
# On a machine without deepspeed, datasets or trl, it installs the wheels in WHEELS (made by
# `bash ../shared/gpu/make_wheels.sh`) into SITE and puts SITE on PYTHONPATH; where the project itself is not
# installed (`pip install -e .`), it puts the repository on PYTHONPATH; nothing else is installed.
#
# Environment variables (default in brackets):
#   RESULTS          the results file [$WORK/results.md]
#   WORK             scratch folder for the models and runs [outputs/gpu_bench, smoke: outputs/gpu_bench_smoke]
#   PREDICT_MODEL    checkpoint for the prediction race [outputs/tiny-llama-sample: the demo; when it is absent,
#                    a first stage trains it with `bash train.sh` into WORK (carry
#                    outputs/tiny-llama-sample to the GPU machine to save that stage); smoke: the tiny random model]
#   PREDICT_INPUTS   one source per line [../shared/gec-data/conll14-submissions/INPUT when present, else
#                    data/eval/sample/source.txt]
#   TRAIN_BUDGET, PREDICT_BUDGET, MEMORY_BUDGET, DEMO_BUDGET
#                    seconds each stage may run; one still running then is stopped and the file says so
#                    [270, 90, 60, 180; smoke: 300 each]; sized from the throughput in
#                    ../shared/gpu/README.md (1.1B LLaMA, ZeRO-2 bf16), where each training run's start
#                    (imports, loading, DeepSpeed's set-up) outweighs its 40 steps
#   WHEELS           [.whl]     SITE [/tmp/site]     PYTHON [python, else python3]
#   GPU_BENCH_SMOKE  1: a CPU check of the whole script: tiny models, a few steps, no DeepSpeed launcher [0]
# Exit status: 0 when every stage ended well, 1 when one failed or ran out of time (the file says which),
# 2 for a setup error.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
PYTHON=${PYTHON:-$(command -v python || command -v python3)}   # the GPU machine may have python3 only
SMOKE=${GPU_BENCH_SMOKE:-0}
if [[ $SMOKE == 1 ]]; then
    WORK=${WORK:-outputs/gpu_bench_smoke}
else
    WORK=${WORK:-outputs/gpu_bench}
fi
RESULTS=${RESULTS:-$WORK/results.md}
WHEELS=${WHEELS:-.whl}
SITE=${SITE:-/tmp/site}
if [[ $SMOKE == 1 ]]; then
    budget=300   # a busy CPU machine; the budgets are the GPU's
fi
TRAIN_BUDGET=${TRAIN_BUDGET:-${budget:-270}}
PREDICT_BUDGET=${PREDICT_BUDGET:-${budget:-90}}
MEMORY_BUDGET=${MEMORY_BUDGET:-${budget:-60}}
DEMO_BUDGET=${DEMO_BUDGET:-${budget:-180}}
if [[ -z ${PREDICT_INPUTS:-} ]]; then
    PREDICT_INPUTS=../shared/gec-data/conll14-submissions/INPUT
    [[ -f $PREDICT_INPUTS ]] || PREDICT_INPUTS=data/eval/sample/source.txt
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
mkdir -p "$WORK" "$(dirname "$RESULTS")"
rm -rf "$WORK/train_race"   # bench_train keeps every run of this invocation there
: > "$RESULTS"

if ! "$PYTHON" -c 'import deepspeed, datasets, trl' > /dev/null 2>&1; then
    wheels=("$WHEELS"/*.whl)
    if [[ ! -f ${wheels[0]} ]]; then
        echo "gpu_bench.sh: deepspeed, datasets or trl is missing and $WHEELS has no wheels: run" \
            "'bash ../shared/gpu/make_wheels.sh' here first (and carry .whl to the GPU machine)" >&2
        exit 2
    fi
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
        "${wheels[@]}"
    export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH} PATH=$SITE/bin:$PATH
fi
# The scripts import ftkit and m2scorer; `python -c` would find them in the working folder, hence the pop.
if ! "$PYTHON" -c 'import sys; sys.path.pop(0); import ftkit, m2scorer' > /dev/null 2>&1; then
    export PYTHONPATH=$REPO${PYTHONPATH:+:$PYTHONPATH}
fi

failed=0
summary=()
# stage NAME BUDGET COMMAND...: run COMMAND for at most BUDGET seconds (its child processes too); its
# standard output goes to the results file, its errors to $WORK/NAME.log (their end to the file if it fails).
stage() {
    local name=$1 budget=$2 start status=0 outcome
    shift 2
    {
        echo "## $name"
        echo
        echo '```'
        printf '$'
        printf ' %q' "$@"
        echo
    } >> "$RESULTS"
    start=$SECONDS
    timeout --kill-after 20 "$budget" "$@" >> "$RESULTS" 2> "$WORK/$name.log" || status=$?
    if (( status == 124 || status == 137 )); then
        outcome="stopped at its budget of $budget s"
    elif (( status )); then
        outcome="failed with exit status $status"
    else
        outcome=ok
    fi
    if [[ $outcome != ok ]]; then
        failed=1
        echo "--- $outcome; the end of $WORK/$name.log:" >> "$RESULTS"
        tail -n 25 "$WORK/$name.log" >> "$RESULTS"
    fi
    printf '```\n\n' >> "$RESULTS"
    summary+=("| $name | $outcome | $(( SECONDS - start )) |")
    echo "gpu_bench.sh: $name: $outcome ($(( SECONDS - start )) s)" >&2
}

machine=$("$PYTHON" - <<'EOF'
import os, platform
import torch, transformers
import deepspeed
gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else f"no GPU, {os.cpu_count()} CPU cores"
print(f"{gpu}; Python {platform.python_version()}, torch {torch.__version__}, transformers "
      f"{transformers.__version__}, deepspeed {deepspeed.__version__}")
EOF
)
machine=${machine##*$'\n'}   # its last line: importing deepspeed prints its accelerator on stdout
has() { "$PYTHON" -c "import $1" > /dev/null 2>&1; }
kernels=()
if [[ $SMOKE == 1 ]]; then
    # make_tiny_model's default size; the race without the launcher, whose first start on a CPU machine
    # compiles DeepSpeed's shm_comm op (a minute).
    model_flags=(--family llama)
    train_flags=(--steps 6 --batch_size 4 --repeats 1 --peers hf --engines plain)
    memory_model_flags=(--hidden 128 --layers 2 --vocab 1000)   # 128 per head
    memory_flags=(--nproc 1 --zero 2)
    predict_flags=(--limit 16 --max_new_tokens 8 --repeats 1)
else
    model_flags=(--family llama --hidden_size 2048 --layers 16 --heads 16 --vocab_size 32000)
    train_flags=(--steps 40 --batch_size 32 --learning_rate 1e-4 --repeats 2 --peers "hf,trl" --engines deepspeed
                 --bf16)
    memory_model_flags=()
    memory_flags=(--nproc 4 --zero 2)
    predict_flags=(--repeats 3)
    if has flash_attn; then
        train_flags+=(--attn_implementation flash_attention_2 --ours_flags=--packing)
        kernels+=("flash-attention 2 (ours with --packing)")
    fi
    if has liger_kernel; then
        train_flags+=(--use_liger_kernel true)
        kernels+=(Liger)
    fi
fi
{
    echo "# gpu_bench.sh results, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "$machine; commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "optional kernels: $(IFS=,; echo "${kernels[*]:-none installed}");" \
        "load average $(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ $SMOKE == 1 ]]; then
        echo "SMOKE RUN (GPU_BENCH_SMOKE=1): tiny models, a few steps; the figures mean nothing"
    fi
    echo
} >> "$RESULTS"

model=$WORK/llama
stage model 300 "$PYTHON" scripts/make_tiny_model.py "${model_flags[@]}" --out "$model" \
    --corpus data/sample/train.jsonl
stage train "$TRAIN_BUDGET" "$PYTHON" scripts/bench_train.py --model "$model" --data data/sample/train.jsonl \
    "${train_flags[@]}" --output_dir "$WORK/train_race"

if [[ $SMOKE == 1 ]]; then
    PREDICT_MODEL=${PREDICT_MODEL:-$model}
elif [[ -z ${PREDICT_MODEL:-} ]]; then
    PREDICT_MODEL=outputs/tiny-llama-sample
    if [[ ! -f $PREDICT_MODEL/config.json ]]; then
        PREDICT_MODEL=$WORK/tiny-llama-sample
        if [[ ! -f $PREDICT_MODEL/config.json ]]; then
            stage demo "$DEMO_BUDGET" env OUTPUT_ROOT="$WORK" PYTHON="$PYTHON" bash train.sh
        fi
    fi
fi
stage predict "$PREDICT_BUDGET" "$PYTHON" scripts/bench_predict.py --model_name_or_path "$PREDICT_MODEL" \
    --inputs "$PREDICT_INPUTS" --batch_size 32 "${predict_flags[@]}"

stage memory_model 120 "$PYTHON" scripts/bench_load_memory.py --make_model "$WORK/llama-1g" \
    "${memory_model_flags[@]}"
stage memory "$MEMORY_BUDGET" "$PYTHON" scripts/bench_load_memory.py --model "$WORK/llama-1g" \
    "${memory_flags[@]}" --repeat 1

{
    echo "| stage | outcome | seconds |"
    echo "| --- | --- | --- |"
    printf '%s\n' "${summary[@]}"
    echo
    echo "total $SECONDS s"
} >> "$RESULTS"
echo "gpu_bench.sh: results in $RESULTS" >&2
exit "$failed"
