#!/usr/bin/env bash
# Finetune a model with finetune.py (or, for STAGE=rm|dpo|grpo, preference_tune.py) under DeepSpeed, configured
# by environment variables.
#
#   bash train.sh                       # the demo: a tiny LLaMA learns the bundled sample set on CPU (minutes)
#   MODEL_NAME=google/flan-t5-xl DATA_VER=spell_lang8 BATCH=8 MORE_PARA="--bf16" bash train.sh
#   DRY_RUN=1 MODEL_NAME=gpt2 bash train.sh --save_total_limit 3     # print the command only
#
# Environment variables (default in brackets):
#   MODEL_NAME     $CKPT_ROOT/$MODEL_NAME if that folder exists, else a local folder, else a hub id (org/name);
#                  a warning when it is none of them [unset: the demo, a tiny LLaMA built once into
#                  $OUTPUT_ROOT/cache/tiny-llama]
#   FRAMEWORK      seq2seq | clm [derived from the model config]
#   DATA_VER       training data $DATA_ROOT/$DATA_VER/train.jsonl (+ valid.jsonl, evaluated if present); with a
#                  test set $DATA_ROOT/eval/$DATA_VER (source.txt, gold.m2), the final checkpoint is predicted
#                  and scored on it by eval_gec.sh at the end (not for STAGE=rm) [sample]
#   RESULT_DIR     run folder under $OUTPUT_ROOT; checkpoints are $OUTPUT_ROOT/$RESULT_DIR/checkpoint-<step>
#                  [<model>-<DATA_VER>, then -<STAGE> unless sft; <model> is a local folder's own name
#                  (outputs/tiny-llama-sample: tiny-llama-sample), else MODEL_NAME with / as _
#                  (google/flan-t5-xl: google_flan-t5-xl)]
#   BATCH          per-device batch size (train and eval) [8; demo 32]
#   GRADIENT_ACCUMULATION_STEPS   [1]. Global batch = BATCH x GRADIENT_ACCUMULATION_STEPS x processes.
#   TRAIN_STEPS    optimizer steps [10000; demo 1500]
#   SAVE_STEPS     checkpoint (and validation) interval in steps [500; demo 500]
#   LR             peak learning rate, linear decay after 5% warm-up [1e-4; demo 3e-3]
#   STAGE          sft: supervised finetuning (finetune.py); rm: reward model, dpo: DPO, grpo: RL on M2 F0.5
#                  (preference_tune.py --stage $STAGE; needs MODEL_NAME, e.g. an SFT output folder; rm/dpo read
#                  {"prompt","chosen","rejected"} pairs from DATA_VER, grpo source/target) [sft]
#   MORE_PARA      extra finetune.py flags, split into words as the shell splits them: quotes keep a value
#                  whole, nothing in it is run (e.g. "--bf16 --run_name 'lang8 base'") []
#   CKPT_ROOT      folder of pretrained checkpoints [/checkpoints]
#   DATA_ROOT      [<repo>/data]
#   OUTPUT_ROOT    [<repo>/outputs]
#   DS_CONFIG      DeepSpeed config [<repo>/ds_configs/zero2.json]
#   NUM_GPUS       processes per node: GPUs to use [all visible GPUs; 1 on a machine without GPUs]
#   DRY_RUN        1: print the command and exit [0]
#   RESUME         auto: continue from the newest complete checkpoint in the run folder (fresh if none);
#                  a checkpoint folder; or no: start at step 0 [auto]
# Across nodes (scripts/launch_nodes.sh holds the logic), one of:
#   HOSTFILE       DeepSpeed hostfile (one "host slots=N" line per node): run train.sh on one of the nodes
#                  (it counts GPUs, for --use_cpu, where it runs) and the deepspeed launcher starts every node
#                  over ssh (pdsh) [none]
#   NNODES         number of nodes: run the same train.sh on every node (a scheduler starts it there, e.g.
#                  Kubernetes or scripts/slurm/train.sbatch); each node's launcher starts its NUM_GPUS ranks
#                  (deepspeed --no_ssh) [1]
#   NODE_RANK      this node's place, 0 to NNODES-1; node 0 hosts the rendezvous [0]
#   MASTER_ADDR    address of the NODE_RANK 0 node, reachable from every node; required with NNODES > 1
#                  (with HOSTFILE: [the first host's, found over ssh])
#   MASTER_PORT    rendezvous port, the same on every node [one node: a free port; across nodes: 29500]
#   e.g. on each of 2 nodes:  NNODES=2 NODE_RANK=<0 or 1> MASTER_ADDR=10.0.0.1 MODEL_NAME=... bash train.sh
#   DRY_RUN=1 then prints this node's command, with "# " lines saying what the other nodes run.
# Wrong values or combinations (NODE_RANK >= NNODES, NNODES > 1 without MASTER_ADDR, HOSTFILE with NNODES,
# a value that is no whole number) stop with exit status 2 and the fix.
# Arguments given to train.sh are passed to finetune.py after MORE_PARA, so they win.
# Exit status 75: stopped by SIGTERM/SIGINT sent to the training processes, after checkpointing the current
# step (with several processes the next one, the same on every node); run the same command again to resume.
# A signal to the whole job (Ctrl-C, a scheduler's kill, SLURM's) also checkpoints and exits 75, if the
# ranks finish the step and the checkpoint within the 30 s the deepspeed launcher gives them (after that it
# kills them and train.sh exits with the launcher's 1; resuming then starts from the previous checkpoint).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python}
# shellcheck source=scripts/launch_nodes.sh
source "$REPO/scripts/launch_nodes.sh"
nodes_check train.sh

DATA_ROOT=${DATA_ROOT:-$REPO/data}
OUTPUT_ROOT=${OUTPUT_ROOT:-$REPO/outputs}
CKPT_ROOT=${CKPT_ROOT:-/checkpoints}
DATA_VER=${DATA_VER:-sample}
DS_CONFIG=${DS_CONFIG:-$REPO/ds_configs/zero2.json}
GRADIENT_ACCUMULATION_STEPS=${GRADIENT_ACCUMULATION_STEPS:-1}
DRY_RUN=${DRY_RUN:-0}
RESUME=${RESUME:-auto}
STAGE=${STAGE:-sft}
case $STAGE in
    sft) entry=("$REPO/finetune.py"); stage_suffix= ;;
    rm|dpo|grpo) entry=("$REPO/preference_tune.py" --stage "$STAGE"); stage_suffix=-$STAGE ;;
    *) echo "train.sh: STAGE=$STAGE: use sft, rm, dpo or grpo" >&2; exit 2 ;;
esac
# Quote-aware splitting without evaluating anything (no eval): Python's shlex, one NUL-ended word each.
split_words='import shlex, sys
try:
    words = shlex.split(sys.argv[1])
except ValueError as e:
    sys.exit(f"train.sh: MORE_PARA={sys.argv[1]!r}: {e}: close each quote, or put a backslash before a lone one")
sys.stdout.write("".join(word + "\0" for word in words))'
mapfile -d '' -t more_para < <("$PYTHON" -c "$split_words" "${MORE_PARA:-}")
wait $! || exit 2

demo=0
if [[ -z ${MODEL_NAME:-} && $STAGE != sft ]]; then
    echo "train.sh: STAGE=$STAGE starts from a trained model: set MODEL_NAME (e.g. outputs/tiny-llama-sample)" >&2
    exit 2
elif [[ -z ${MODEL_NAME:-} ]]; then
    demo=1
    model_path=$OUTPUT_ROOT/cache/tiny-llama
    model_run_name=tiny-llama
    BATCH=${BATCH:-32}
    TRAIN_STEPS=${TRAIN_STEPS:-1500}
    SAVE_STEPS=${SAVE_STEPS:-500}
    LR=${LR:-3e-3}
elif [[ -d $CKPT_ROOT/$MODEL_NAME ]]; then
    model_path=$CKPT_ROOT/$MODEL_NAME
    model_run_name=${MODEL_NAME//\//_}
elif [[ -d $MODEL_NAME ]]; then
    model_path=$MODEL_NAME
    model_run_name=$(basename -- "$(cd -- "$MODEL_NAME" && pwd)")   # also for . and a trailing /
else
    model_path=$MODEL_NAME   # a hub id, or a folder that is not there: finetune.py says which failed
    model_run_name=${MODEL_NAME//\//_}
    first=${MODEL_NAME%%/*}
    if [[ $MODEL_NAME == [./~]* || $MODEL_NAME == */*/* || ($MODEL_NAME == */* && -e $first) ]]; then
        echo "train.sh: warning: MODEL_NAME=$MODEL_NAME: no such folder (nor $CKPT_ROOT/$MODEL_NAME)" >&2
    elif [[ ! $MODEL_NAME =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ && \
            ! $MODEL_NAME =~ ^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
        # An id with / written as _ (how run folders are named) is the usual slip.
        hint=
        if [[ $MODEL_NAME == *_* ]]; then
            rest=${MODEL_NAME#*_}
            hint="; a hub id is org/name, e.g. ${MODEL_NAME%%_*}/${rest//_/-}"
        fi
        echo "train.sh: warning: MODEL_NAME=$MODEL_NAME is no folder under CKPT_ROOT=$CKPT_ROOT, no folder" \
            "here and no hub id$hint" >&2
    fi
fi
BATCH=${BATCH:-8}
TRAIN_STEPS=${TRAIN_STEPS:-10000}
SAVE_STEPS=${SAVE_STEPS:-500}
LR=${LR:-1e-4}
RESULT_DIR=${RESULT_DIR:-$model_run_name-$DATA_VER$stage_suffix}
output_dir=$OUTPUT_ROOT/$RESULT_DIR

train_file=$DATA_ROOT/$DATA_VER/train.jsonl
valid_file=$DATA_ROOT/$DATA_VER/valid.jsonl
eval_set=$DATA_ROOT/eval/$DATA_VER
score=0
if [[ $STAGE != rm && -f $eval_set/source.txt && -f $eval_set/gold.m2 ]]; then
    score=1
fi
if [[ ! -f $train_file ]]; then
    echo "train.sh: no training data at $train_file (DATA_VER=$DATA_VER, DATA_ROOT=$DATA_ROOT)" >&2
    exit 2
fi

gpus=$("$PYTHON" -c 'import torch; print(torch.cuda.device_count())')
cpu_para=()
if [[ $gpus == 0 ]]; then
    # Several CPU processes need --use_cpu, or accelerate counts one process and DeepSpeed's batch check fails.
    cpu_para=(--use_cpu)
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
    # The same choice for DeepSpeed, in the launcher and every rank: left to detect it, each process warns
    # "Setting accelerator to CPU".
    export DS_ACCELERATOR=cpu
fi
NUM_GPUS=${NUM_GPUS:-$(( gpus > 0 ? gpus : 1 ))}
nodes_launcher train.sh "$PYTHON"

args=(
    "${entry[@]}"
    --deepspeed "$DS_CONFIG"
    --model_name_or_path "$model_path"
    --train_file "$train_file"
    --output_dir "$output_dir"
    --do_train
    --per_device_train_batch_size "$BATCH"
    --per_device_eval_batch_size "$BATCH"
    --gradient_accumulation_steps "$GRADIENT_ACCUMULATION_STEPS"
    --max_steps "$TRAIN_STEPS"
    --save_steps "$SAVE_STEPS"
    --learning_rate "$LR"
    --warmup_steps 0.05
)
if [[ -n ${FRAMEWORK:-} ]]; then
    args+=(--framework "$FRAMEWORK")
fi
if [[ $RESUME != no ]]; then
    args+=(--resume_from_checkpoint "$RESUME")
fi
if [[ -f $valid_file ]]; then
    args+=(--validation_file "$valid_file" --do_eval --eval_strategy steps --eval_steps "$SAVE_STEPS")
fi
cmd=("${launcher[@]}" "${args[@]}" "${cpu_para[@]}" "${more_para[@]}" "$@")

nodes_describe train.sh
if [[ $DRY_RUN == 1 ]]; then
    printf '%q ' "${cmd[@]}"
    echo
    exit 0
fi
if (( demo )) && [[ ! -f $model_path/config.json ]]; then
    "$PYTHON" "$REPO/scripts/make_tiny_model.py" --family llama --out "$model_path" --hidden_size 128 \
        --corpus "$train_file"
fi
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-$(( demo ))}
# A signal to the whole job (Ctrl-C, SLURM's scancel or pre-emption) reaches the deepspeed launcher too: its
# runner dies at once, and its per-node part gives the ranks 30 s to checkpoint, then exits 1 even when they
# did. So survive the signal (the trap), give the ranks those 30 s, and exit 75 if they recorded a
# checkpointed stop in this launch.
started=$(date +%s)
signalled=0
trap 'signalled=1' TERM INT
rc=0
"${cmd[@]}" || rc=$?
trap - TERM INT
stopped=$output_dir/stopped_by_signal.json
fresh_stop() { [[ -f $stopped ]] && (( $(stat -c %Y "$stopped") >= started )); }
if (( rc != 0 && rc != 75 && signalled )); then
    for (( waited = 0; waited < 35; waited++ )); do
        fresh_stop && break
        sleep 1
    done
    if fresh_stop; then
        echo "train.sh: the training processes stopped on a signal with a checkpoint ($(cat "$stopped")); run the same command again to resume" >&2
        rc=75
    fi
fi
(( rc == 0 )) || exit "$rc"

echo "checkpoints: $output_dir/checkpoint-<step>; final model: $output_dir"
if (( score )); then
    last_step=$("$PYTHON" "$REPO/scripts/eval_results.py" steps "$output_dir" all)
    last_step=${last_step##* }
    echo "== the final checkpoint ($last_step) on the test set $eval_set (eval_gec.sh):"
    # eval_gec.sh's own defaults: MORE_PARA and the DeepSpeed config were for training.
    RESULT_DIR=$output_dir DATASETS=$DATA_VER DATA_ROOT=$DATA_ROOT BATCH=$BATCH NUM_GPUS=$NUM_GPUS \
        MASTER_PORT=$MASTER_PORT MORE_PARA='' DS_CONFIG='' PYTHON=$PYTHON bash "$REPO/eval_gec.sh" "$last_step"
    echo "next, every checkpoint on every test set under $DATA_ROOT/eval:"
    printf '  source %q && RESULT_DIR=%q standard_eval_datasets all\n' "$REPO/eval_gec.sh" "$output_dir"
fi
