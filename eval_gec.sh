# shellcheck shell=bash
# Score a run's checkpoints on the standard GEC test sets: predict, M2-score, tabulate, plot.
#
#   source eval_gec.sh
#   RESULT_DIR=tiny-llama-sample standard_eval_datasets 500              # checkpoint-500
#   RESULT_DIR=tiny-llama-sample standard_eval_datasets 500 1000 1500    # several checkpoints
#   RESULT_DIR=tiny-llama-sample standard_eval_datasets all              # every checkpoint-N of the run
#   DRY_RUN=1 RESULT_DIR=tiny-llama-sample standard_eval_datasets all    # print the prediction commands only
#   DATASETS="conll14 sample" RESULT_DIR=google_flan-t5-xl-spell_lang8 BATCH=128 BEAM=4 MORE_PARA="--bf16" \
#       standard_eval_datasets all      # variables in front hold for that one command
#   RESULT_DIR=tiny-llama-sample bash eval_gec.sh all     # the same without sourcing
#
# For each checkpoint step and dataset:
#   1. finetune.py --do_predict with $RESULT_DIR/checkpoint-STEP writes
#      $OUTPUT_ROOT/$RESULT_DIR/checkpoint-STEP/predictions/<dataset>.txt (finetune.py's run_args.json for it
#      goes to predictions/<dataset>/). Inputs are length-sorted into batches, outputs keep the input order.
#   2. scripts/eval_results.py scores it with the metric the set's dataset.json names: m2 (the project's
#      m2scorer, e.g. conll14), m2_char (m2scorer on characters, e.g. nlpcc18) or errant (ERRANT, the release
#      pyproject.toml pins, through errant_fast, e.g. bea19dev, as BEA-2019 results are reported). It puts
#      a row (step, dataset, metric, sentences, P, R, F0.5, prediction seconds including model loading,
#      sentences/s, settings) into $OUTPUT_ROOT/$RESULT_DIR/eval_results.tsv and eval_results.md (for errant
#      sets also F0.5 per error type, errant_compare -cat 2, in eval_results_types.tsv and beside the main
#      table), and redraws eval_results.png (F0.5 against step, and the training loss).
# Only sealed checkpoints (with the checkpoint_complete.json training writes last) are evaluated: `all`
# lists only those, and a named step still being written or left half-written is skipped with a message.
# The Markdown table is printed at the end. A (step, dataset) already in the table with the same settings
# (BEAM, MAX_NEW_TOKENS, MORE_PARA, prompt template) is skipped; other settings replace its row.
#
# Environment variables, read when standard_eval_datasets runs (default in brackets):
#   RESULT_DIR      run folder under $OUTPUT_ROOT holding checkpoint-<step>/ (as train.sh names it), else a
#                   path to it (absolute, or from the current folder: ./outputs/NAME) [required]
#   DATASETS        space-separated set names, folders $DATA_ROOT/eval/<name>/ with source.txt and gold.m2
#                   (scripts/prepare_eval_set.py builds conll14, bea19dev, nlpcc18) [every set there]
#   FRAMEWORK       seq2seq | clm [derived from the model config]
#   BATCH           per-device prediction batch size [32]
#   BEAM            beam size [finetune.py's default: greedy]
#   MAX_NEW_TOKENS  generation limit in new tokens [finetune.py's default: --max_target_length]
#   MORE_PARA       extra finetune.py flags, split on spaces (e.g. "--bf16") []. The prompt template is the
#                   run's own (its run_args.json) unless MORE_PARA gives --prompt_template.
#   NUM_GPUS        processes per node: GPUs to predict on, data-parallel [all visible GPUs; 1 on a machine
#                   without]
#   DS_CONFIG       DeepSpeed config for prediction, e.g. ds_configs/zero3.json for models too large for
#                   one GPU [none: plain data parallelism]
#   DATA_ROOT       [<repo>/data]
#   OUTPUT_ROOT     [<repo>/outputs]
#   HOSTFILE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT
#                   prediction across nodes, data-parallel over every rank of every node, as for train.sh
#                   (see there and scripts/launch_nodes.sh; under SLURM scripts/slurm/eval.sbatch) [one node]
#   FORCE           1: redo predictions and scores already in the table [0]
#   DRY_RUN         1: print the prediction commands, run nothing [0]
#   PYTHON          [python]
# The deepspeed launcher is used with several GPUs, several nodes or a DS_CONFIG; otherwise plain python (with
# --use_cpu on a machine without GPUs).
# Across nodes (NNODES > 1) every node runs the same command; global rank 0, on node 0, writes the
# predictions, and only node 0 scores and keeps the table. Every node must predict the same (step, dataset)
# pairs, so there the table's skip is off (name the steps you want), and `all` must list the same
# checkpoints on every node: a shared filesystem, or node-local disks that each hold every checkpoint.
# Sourcing defines only standard_eval_datasets (and EVAL_GEC_REPO); it runs in a subshell with
# `set -euo pipefail`, so an error stops the evaluation, not your shell.

EVAL_GEC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

standard_eval_datasets() (
    set -euo pipefail
    if (( $# == 0 )); then
        echo "usage: standard_eval_datasets STEP... | all   (with RESULT_DIR set; see $EVAL_GEC_REPO/eval_gec.sh)" >&2
        exit 2
    fi
    if [[ -z ${RESULT_DIR:-} ]]; then
        echo "standard_eval_datasets: set RESULT_DIR to the run folder under OUTPUT_ROOT (or a path to it)" >&2
        exit 2
    fi
    repo=$EVAL_GEC_REPO
    # shellcheck source=scripts/launch_nodes.sh
    source "$repo/scripts/launch_nodes.sh"
    nodes_check standard_eval_datasets
    PYTHON=${PYTHON:-python}
    DATA_ROOT=${DATA_ROOT:-$repo/data}
    OUTPUT_ROOT=${OUTPUT_ROOT:-$repo/outputs}
    BATCH=${BATCH:-32}
    FORCE=${FORCE:-0}
    DRY_RUN=${DRY_RUN:-0}
    read -r -a more_para <<< "${MORE_PARA:-}"
    read -r -a wanted_datasets <<< "${DATASETS:-}"
    if [[ $RESULT_DIR == /* || (! -d $OUTPUT_ROOT/$RESULT_DIR && -d $RESULT_DIR) ]]; then
        run_dir=$RESULT_DIR   # absolute, or a path from here such as ./outputs/NAME
    else
        run_dir=$OUTPUT_ROOT/$RESULT_DIR
    fi
    results=("$PYTHON" "$repo/scripts/eval_results.py")

    # Both fail with the list of what exists.
    steps_found=$("${results[@]}" steps "$run_dir" "$@")
    datasets_found=$("${results[@]}" datasets "$DATA_ROOT" "${wanted_datasets[@]}")
    read -r -a steps <<< "$steps_found"
    read -r -a datasets <<< "$datasets_found"

    template=""
    template_para=()
    if [[ " ${more_para[*]} " != *" --prompt_template "* ]]; then
        template=$("${results[@]}" template "$run_dir")
        [[ -z $template ]] || template_para=(--prompt_template "$template")
    fi
    gpus=$("$PYTHON" -c 'import torch; print(torch.cuda.device_count())')
    # As --use_cpu below, for DeepSpeed: left to detect it, each process warns "Setting accelerator to CPU".
    (( gpus > 0 )) || export DS_ACCELERATOR=cpu
    NUM_GPUS=${NUM_GPUS:-$(( gpus > 0 ? gpus : 1 ))}
    launcher=("$PYTHON")
    if [[ -n ${DS_CONFIG:-} ]] || (( NUM_GPUS > 1 )) || nodes_multi; then
        nodes_launcher standard_eval_datasets "$PYTHON"
        # The deepspeed launcher leaves thread counts alone; several CPU processes would oversubscribe.
        (( gpus > 0 )) || export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
    fi
    common=(--per_device_eval_batch_size "$BATCH")
    [[ -z ${FRAMEWORK:-} ]] || common+=(--framework "$FRAMEWORK")
    [[ -z ${BEAM:-} ]] || common+=(--generation_num_beams "$BEAM")
    [[ -z ${MAX_NEW_TOKENS:-} ]] || common+=(--generation_max_length "$MAX_NEW_TOKENS")
    [[ -z ${DS_CONFIG:-} ]] || common+=(--deepspeed "$DS_CONFIG")
    (( gpus > 0 )) || common+=(--use_cpu)
    # What changes the predictions (not the batch size or GPU count, which change only the speed).
    settings="beams=${BEAM:-default} max_new_tokens=${MAX_NEW_TOKENS:-default} template=${template:-default}"
    [[ -z ${MORE_PARA:-} ]] || settings+=" ${more_para[*]}"

    nodes_describe standard_eval_datasets
    for step in "${steps[@]}"; do
        checkpoint=$run_dir/checkpoint-$step
        for dataset in "${datasets[@]}"; do
            data_dir=$DATA_ROOT/eval/$dataset
            if [[ $FORCE != 1 ]] && (( NNODES == 1 )) && "${results[@]}" "done" "$run_dir" --step "$step" \
                    --dataset "$dataset" --settings "$settings"; then
                echo "skip: step $step on $dataset is in $run_dir/eval_results.tsv (FORCE=1 redoes it)"
                continue
            fi
            cmd=(
                "${launcher[@]}" "$repo/finetune.py"
                --do_predict
                --model_name_or_path "$checkpoint"
                --test_file "$data_dir/source.txt"
                --predictions_file "$checkpoint/predictions/$dataset.txt"
                --output_dir "$checkpoint/predictions/$dataset"
                "${common[@]}" "${template_para[@]}" "${more_para[@]}"
            )
            if [[ $DRY_RUN == 1 ]]; then
                printf '%q ' "${cmd[@]}"
                echo
                continue
            fi
            echo "== step $step, $dataset: predicting $(wc -l < "$data_dir/source.txt") sentences"
            started=${EPOCHREALTIME/,/.}   # the locale may use a decimal comma
            "${cmd[@]}"
            finished=${EPOCHREALTIME/,/.}
            (( NODE_RANK == 0 )) || continue   # the predictions are on node 0's disk
            "${results[@]}" record "$run_dir" --step "$step" --dataset "$dataset" --data_dir "$data_dir" \
                --settings "$settings" --started "$started" --finished "$finished"
        done
    done
    if [[ $DRY_RUN != 1 ]] && (( NODE_RANK == 0 )); then
        "${results[@]}" table "$run_dir"
    fi
)

# Run directly (bash eval_gec.sh STEP...): evaluate, with the same environment variables.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    standard_eval_datasets "$@"
fi
