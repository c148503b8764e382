# shellcheck shell=bash
# How one job spans nodes: the one place train.sh, eval_gec.sh and scripts/slurm/*.sbatch (which source this
# file) read the node variables. Three ways, all on the deepspeed launcher:
#   HOSTFILE       a DeepSpeed hostfile ("host slots=N" a line): the launcher here starts every node over ssh
#                  (pdsh); MASTER_ADDR is then optional (the first host's `hostname -I` otherwise)
#   NNODES, NODE_RANK, MASTER_ADDR
#                  the same command runs on every node, started there by a scheduler (Kubernetes, Volcano,
#                  SLURM through scripts/slurm/*.sbatch): each node's launcher starts its own NUM_GPUS ranks
#                  (deepspeed --no_ssh --node_rank); NODE_RANK 0..NNODES-1 [NNODES 1, NODE_RANK 0];
#                  MASTER_ADDR is an address of the NODE_RANK 0 node that every node reaches
#   neither        one node, NUM_GPUS processes
# MASTER_PORT is the rendezvous port on the NODE_RANK 0 node. One node: a free port, so two runs on one
# machine do not collide. Across nodes every node must use the same port, so it is never picked per node:
# 29500 (torch's default) unless given.

NODES_DEFAULT_PORT=29500

# Usage: nodes_check PROG. Validates the variables above and NUM_GPUS (all optional) and sets NNODES and
# NODE_RANK to their defaults (and nodes_note empty); a wrong value or combination exits 2 with the fix.
nodes_check() {
    local prog=$1 name
    for name in NNODES NODE_RANK MASTER_PORT NUM_GPUS; do
        if [[ -n ${!name:-} && ! ${!name} =~ ^[0-9]+$ ]]; then
            echo "$prog: $name=${!name} is not a whole number" >&2
            exit 2
        fi
        # Base 10, so 08 is eight and not an octal error.
        [[ -z ${!name:-} ]] || printf -v "$name" '%d' "$((10#${!name}))"
    done
    if [[ -n ${HOSTFILE:-} && -n ${NNODES:-} ]]; then
        echo "$prog: HOSTFILE and NNODES are two ways to span nodes: with HOSTFILE the launcher here starts" \
            "every node over ssh; with NNODES/NODE_RANK/MASTER_ADDR you run this command on every node." \
            "Unset one of them" >&2
        exit 2
    fi
    if [[ -n ${HOSTFILE:-} && ! -f $HOSTFILE ]]; then
        echo "$prog: HOSTFILE=$HOSTFILE: no such file (one \"host slots=N\" line per node)" >&2
        exit 2
    fi
    NNODES=${NNODES:-1}
    NODE_RANK=${NODE_RANK:-0}
    nodes_note=()
    if (( NNODES < 1 )); then
        echo "$prog: NNODES=$NNODES: set it to the number of nodes (1 or more)" >&2
        exit 2
    fi
    if (( NODE_RANK >= NNODES )); then
        echo "$prog: NODE_RANK=$NODE_RANK with NNODES=$NNODES: node ranks run from 0 to NNODES-1; set NNODES" \
            "to the number of nodes and NODE_RANK to this node's place among them" >&2
        exit 2
    fi
    if (( NNODES > 1 )) && [[ -z ${MASTER_ADDR:-} ]]; then
        echo "$prog: NNODES=$NNODES needs MASTER_ADDR: the address of the NODE_RANK=0 node, the same on every" \
            "node (scripts/slurm/*.sbatch set it under SLURM)" >&2
        exit 2
    fi
    if [[ -n ${NUM_GPUS:-} ]] && (( NUM_GPUS < 1 )); then
        echo "$prog: NUM_GPUS=$NUM_GPUS: processes per node, 1 or more" >&2
        exit 2
    fi
    if [[ -n ${MASTER_PORT:-} ]] && (( MASTER_PORT < 1 || MASTER_PORT > 65535 )); then
        echo "$prog: MASTER_PORT=$MASTER_PORT: a TCP port, 1 to 65535" >&2
        exit 2
    fi
}

# Usage: nodes_multi. True when the job spans nodes (after nodes_check).
nodes_multi() {
    [[ -n ${HOSTFILE:-} ]] || (( NNODES > 1 ))
}

# Usage: nodes_launcher PROG PYTHON. After nodes_check, with NUM_GPUS set: sets the array `launcher` to the
# deepspeed launcher and its node flags, MASTER_PORT to its default, and the array `nodes_note` to lines that
# say what each node runs (empty on one node). Across nodes by scheduler variables it writes a temporary
# hostfile (unless DRY_RUN=1), removed when the calling shell exits.
nodes_launcher() {
    local prog=$1 python=$2 hosts hostfile i first ranks
    if nodes_multi; then
        MASTER_PORT=${MASTER_PORT:-$NODES_DEFAULT_PORT}
    else
        MASTER_PORT=${MASTER_PORT:-$("$python" -c \
            'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')}
    fi
    launcher=(deepspeed)
    if [[ -n ${HOSTFILE:-} ]]; then
        launcher+=(--hostfile "$HOSTFILE")
        [[ -z ${MASTER_ADDR:-} ]] || launcher+=(--master_addr "$MASTER_ADDR")
        hosts=$(awk '!/^[[:space:]]*(#|$)/ { h = h s $1; s = " " } END { print h }' "$HOSTFILE")
        nodes_note=("the deepspeed launcher here starts every node of HOSTFILE=$HOSTFILE over ssh (pdsh): $hosts;\
 rendezvous at ${MASTER_ADDR:-the first host (its hostname -I)}:$MASTER_PORT")
    elif (( NNODES > 1 )); then
        # The launcher needs a hostfile for its rank layout even without ssh, else "Num nodes is >1 but no
        # extra nodes available via hostfile". It reads it at start; a dry run only names one.
        if [[ ${DRY_RUN:-0} == 1 ]]; then
            hostfile=$(mktemp -u "${TMPDIR:-/tmp}/$prog-hostfile.XXXXXX")
        else
            hostfile=$(mktemp "${TMPDIR:-/tmp}/$prog-hostfile.XXXXXX")
            # shellcheck disable=SC2064  # the name is fixed now
            trap "rm -f -- '$hostfile'" EXIT
            for (( i = 0; i < NNODES; i++ )); do
                echo "node-$i slots=$NUM_GPUS"
            done > "$hostfile"
        fi
        launcher+=(--hostfile "$hostfile" --no_ssh --num_nodes "$NNODES" --node_rank "$NODE_RANK"
            --master_addr "$MASTER_ADDR" --num_gpus "$NUM_GPUS")
        first=$(( NODE_RANK * NUM_GPUS ))
        ranks="$NUM_GPUS processes here, global ranks $first-$(( first + NUM_GPUS - 1 ))"
        (( NUM_GPUS > 1 )) || ranks="1 process here, global rank $first"
        nodes_note=(
            "node $NODE_RANK of $NNODES: $ranks of $(( NNODES * NUM_GPUS )); rendezvous at\
 $MASTER_ADDR:$MASTER_PORT"
            "every node runs this same command with its own NODE_RANK (0 to $(( NNODES - 1 ))) as --node_rank;\
 the hostfile, written at launch, lists the $NNODES nodes (slots=$NUM_GPUS) for the launcher's rank layout\
 only (nothing goes over ssh)"
        )
    else
        launcher+=(--num_gpus "$NUM_GPUS")
    fi
    # The launcher's INFO lines (world info, rank mapping, CUDA_VISIBLE_DEVICES=0 without GPUs, the command
    # twice) repeat what these scripts set; its warnings and errors stay.
    launcher+=(--master_port "$MASTER_PORT" --log_level warning)
}

# Usage: nodes_describe PROG. Prints nodes_note: as "# " comments before the command on DRY_RUN=1, else on
# stderr.
nodes_describe() {
    (( ${#nodes_note[@]} )) || return 0
    if [[ ${DRY_RUN:-0} == 1 ]]; then
        printf '# %s\n' "${nodes_note[@]}"
    else
        printf "$1: %s\n" "${nodes_note[@]}" >&2
    fi
}

# Usage: slurm_first_host NODELIST. Prints the first host of a SLURM node list (SLURM_JOB_NODELIST):
# `scontrol show hostnames` where SLURM is installed, else parsed here for lists such as node[01-04,07],gpu7
# (node01) or rack[1-2]-n[3-4] (rack1-n3).
slurm_first_host() {
    local list=$1 host='' head
    if command -v scontrol > /dev/null; then
        host=$(scontrol show hostnames "$list")
        echo "${host%%$'\n'*}"
        return
    fi
    while [[ -n $list ]]; do
        head=${list%%[\[,]*}
        host+=$head
        list=${list#"$head"}
        [[ $list == \[* ]] || break   # the end, or a comma: the next host
        head=${list#\[}
        head=${head%%]*}
        head=${head%%,*}
        host+=${head%%-*}   # a range's first number, zeros kept (node[01-04]: node01)
        list=${list#*]}
    done
    echo "$host"
}

# Usage: slurm_nodes PROG. Inside a SLURM allocation (sbatch): exports NNODES (SLURM_NNODES), MASTER_ADDR (the
# first host of SLURM_JOB_NODELIST, where node 0 runs) and MASTER_PORT, for every node's task; each task
# then takes NODE_RANK from its SLURM_NODEID. The port defaults to one derived from the job id: the same on
# every node of the job, two jobs sharing a node do not collide, and below the ephemeral ports (32768 up)
# that outgoing connections take.
slurm_nodes() {
    local prog=$1
    if [[ -z ${SLURM_JOB_NODELIST:-} || -z ${SLURM_NNODES:-} ]]; then
        echo "$prog: no SLURM allocation (SLURM_JOB_NODELIST, SLURM_NNODES): submit it with sbatch" >&2
        exit 2
    fi
    export NNODES=$SLURM_NNODES
    MASTER_ADDR=${MASTER_ADDR:-$(slurm_first_host "$SLURM_JOB_NODELIST")}
    export MASTER_ADDR
    export MASTER_PORT=${MASTER_PORT:-$(( 20000 + ${SLURM_JOB_ID:-0} % 12000 ))}
}

# Usage: slurm_run_per_node SCRIPT ARGS... After slurm_nodes: srun starts `bash SCRIPT ARGS...` once on every
# node, with NODE_RANK from that node's SLURM_NODEID. srun waits for every node: node 0 scores and tabulates
# after the others are done, and on SIGTERM each node seals its own part of the checkpoint.
slurm_run_per_node() {
    # shellcheck disable=SC2016  # expanded by each node's bash
    srun --nodes="$NNODES" --ntasks="$NNODES" --ntasks-per-node=1 \
        bash -c 'export NODE_RANK=$SLURM_NODEID; exec bash "$@"' bash "$@"
}
