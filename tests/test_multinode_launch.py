"""Launching one job across nodes (scripts/launch_nodes.sh): train.sh and eval_gec.sh with HOSTFILE, with
the scheduler variables NNODES/NODE_RANK/MASTER_ADDR/MASTER_PORT, and through scripts/slurm/*.sbatch with
the SLURM variables set by hand and a stand-in srun; their errors; SLURM node lists; and a real two-"node"
train.sh job on this machine."""

import json
import os
import shlex
import subprocess

import pytest
from eval_results import Row, write_table

from conftest import REPO, free_port, run_command
from ftkit.checkpointing import seal

NODES = dict(NNODES="2", MASTER_ADDR="10.0.0.1", NUM_GPUS="8")


def bash(script, env, *args, cwd=REPO, timeout=120):
    return run_command(["bash", script, *args], timeout, cwd=cwd, env={**os.environ, **env})


def dry_run(script, env, *args, **kwargs):
    """DRY_RUN=1 of a repo script: (the "# " note lines, the commands as word lists)."""
    result = bash(str(REPO / script), {"DRY_RUN": "1", "MODEL_NAME": "gpt2", **env}, *args, **kwargs)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    notes = [line for line in lines if line.startswith("# ")]
    return notes, [shlex.split(line) for line in lines if line and not line.startswith("# ")]


def flag(command, name):
    return command[command.index(name) + 1]


def launcher_part(command):
    """The deepspeed launcher's own flags: the words before the entry point."""
    return command[: next(i for i, word in enumerate(command) if word.endswith(".py"))]


def test_scheduler_variables_launch_each_nodes_own_ranks():
    commands = {}
    for rank in ("0", "1"):
        # Numbers with leading zeros are decimal (08 is no octal error).
        notes, [command] = dry_run("train.sh", {**NODES, "NNODES": "02", "NODE_RANK": f"0{rank}"})
        commands[rank] = command
        assert notes[0].startswith(f"# node {rank} of 2: 8 processes here, global ranks {8 * int(rank)}-")
        assert "every node runs this same command with its own NODE_RANK (0 to 1)" in notes[1]
    head = launcher_part(commands["0"])
    assert head[0] == "deepspeed" and "--no_ssh" in head
    assert flag(head, "--num_nodes") == "2" and flag(head, "--num_gpus") == "8"
    assert flag(head, "--master_addr") == "10.0.0.1"
    # Not picked per node: the same fixed default on both.
    assert flag(head, "--master_port") == "29500" == flag(commands["1"], "--master_port")
    assert (flag(commands["0"], "--node_rank"), flag(commands["1"], "--node_rank")) == ("0", "1")
    # The rest is the same command; the hostfile (rank layout only) is named, never written by a dry run.
    hostfiles = [flag(c, "--hostfile") for c in commands.values()]
    assert not any(os.path.exists(h) for h in hostfiles)
    same = [[w for w in c if w not in (*hostfiles, "0", "1")] for c in commands.values()]
    assert same[0] == same[1]


def test_hostfile_starts_every_node_from_here(tmp_path):
    hostfile = tmp_path / "hosts"
    hostfile.write_text("# the cluster\nnode1 slots=8\n\nnode2 slots=8\n")
    notes, [command] = dry_run("train.sh", {"HOSTFILE": str(hostfile)})
    head = launcher_part(command)
    assert flag(head, "--hostfile") == str(hostfile) and flag(head, "--master_port") == "29500"
    assert not {"--num_gpus", "--no_ssh", "--node_rank", "--master_addr"} & set(head)
    assert notes == [
        f"# the deepspeed launcher here starts every node of HOSTFILE={hostfile} over ssh (pdsh):"
        " node1 node2; rendezvous at the first host (its hostname -I):29500"
    ]
    _, [command] = dry_run(
        "train.sh", {"HOSTFILE": str(hostfile), "MASTER_ADDR": "node1", "MASTER_PORT": "6000"}
    )
    assert flag(command, "--master_addr") == "node1" and flag(command, "--master_port") == "6000"


def test_one_node_is_launched_as_before():
    # Platforms that always set the variables: NNODES=1 is a plain one-node launch on a free port.
    notes, [command] = dry_run("train.sh", {"NNODES": "1", "NODE_RANK": "0", "MASTER_ADDR": "10.0.0.1"})
    head = launcher_part(command)
    assert notes == [] and head[:3] == ["deepspeed", "--num_gpus", "1"]
    assert "--no_ssh" not in head and "--master_addr" not in head and flag(head, "--master_port") != "29500"


@pytest.mark.parametrize(
    "variables, message",
    [
        (dict(NODE_RANK="2"), "NODE_RANK=2 with NNODES=2: node ranks run from 0 to NNODES-1"),
        (dict(NODE_RANK="1", NNODES=""), "NODE_RANK=1 with NNODES=1: node ranks run from 0 to NNODES-1"),
        (
            dict(NODE_RANK="0", MASTER_ADDR=""),
            "NNODES=2 needs MASTER_ADDR: the address of the NODE_RANK=0 node",
        ),
        (dict(NODE_RANK="0", HOSTFILE="hosts"), "HOSTFILE and NNODES are two ways to span nodes"),
        (dict(NODE_RANK="one"), "NODE_RANK=one is not a whole number"),
        (dict(NODE_RANK="0", NNODES="2.0"), "NNODES=2.0 is not a whole number"),
        (dict(NODE_RANK="0", MASTER_PORT="29500x"), "MASTER_PORT=29500x is not a whole number"),
        (dict(NODE_RANK="0", MASTER_PORT="70000"), "MASTER_PORT=70000: a TCP port, 1 to 65535"),
        (dict(NODE_RANK="0", NUM_GPUS="0"), "NUM_GPUS=0: processes per node, 1 or more"),
        (dict(NODE_RANK="0", NNODES="0"), "NNODES=0: set it to the number of nodes"),
        (dict(NNODES="", HOSTFILE="no-such-file"), "HOSTFILE=no-such-file: no such file"),
    ],
)
def test_wrong_node_variables_are_clear_errors(tmp_path, variables, message):
    (tmp_path / "hosts").write_text("node1 slots=8\n")
    env = {"DRY_RUN": "1", "MODEL_NAME": "gpt2", **NODES, **variables}
    result = bash(str(REPO / "train.sh"), env, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"train.sh: {message}")


@pytest.fixture(scope="module")
def eval_run(tmp_path_factory):
    """A run folder with a sealed checkpoint-4, and step 4 on the sample set already predicted and in its
    table."""
    run = tmp_path_factory.mktemp("outputs") / "run"
    (run / "checkpoint-4").mkdir(parents=True)
    (run / "checkpoint-4" / "config.json").write_text("{}")
    seal(run / "checkpoint-4", 4)
    (run / "checkpoint-4" / "predictions").mkdir()
    (run / "checkpoint-4" / "predictions" / "sample.txt").write_text("a prediction\n")
    settings = "beams=default max_new_tokens=default template=default"
    write_table(run, [Row(4, "sample", "m2", 200, 0.5, 0.5, 0.5, 1.0, 200.0, settings)])
    return run


def test_eval_gec_predicts_across_nodes(eval_run):
    env = dict(RESULT_DIR=str(eval_run), DATASETS="sample", NNODES="2", MASTER_ADDR="10.0.0.1", NUM_GPUS="1")
    # One node skips what its table holds; across nodes every node must run the same predictions.
    result = bash(str(REPO / "eval_gec.sh"), {**env, "NNODES": "1", "DRY_RUN": "1"}, "4")
    assert result.returncode == 0 and "skip: step 4 on sample" in result.stdout, result.stderr
    for rank in ("0", "1"):
        notes, [command] = dry_run("eval_gec.sh", {**env, "NODE_RANK": rank}, "4")
        assert notes[0].startswith(f"# node {rank} of 2: 1 process here, global rank {rank} of 2;")
        head = launcher_part(command)
        assert "--no_ssh" in head and flag(head, "--node_rank") == rank and flag(head, "--num_nodes") == "2"
        assert flag(command, "--predictions_file") == f"{eval_run}/checkpoint-4/predictions/sample.txt"
    result = bash(str(REPO / "eval_gec.sh"), {**env, "NODE_RANK": "2", "DRY_RUN": "1"}, "4")
    assert result.returncode == 2 and "standard_eval_datasets: NODE_RANK=2 with NNODES=2" in result.stderr


@pytest.fixture
def fake_slurm(tmp_path):
    """A bin folder with a stand-in srun: it runs the command once per node, in turn, with that node's
    SLURM_NODEID (as srun --ntasks-per-node=1 would, in parallel)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    srun = bin_dir / "srun"
    srun.write_text(
        "#!/usr/bin/env bash\n"
        "while [[ $1 == --* ]]; do shift; done\n"
        "for (( i = 0; i < SLURM_NNODES; i++ )); do\n"
        '    SLURM_NODEID=$i SLURM_PROCID=$i "$@" || exit\n'
        "done\n"
    )
    srun.chmod(0o755)
    env = dict(
        PATH=f"{bin_dir}:{os.environ['PATH']}", SLURM_JOB_NODELIST="gpu[07-08]", SLURM_NNODES="2",
        SLURM_JOB_ID="123456", SLURM_SUBMIT_DIR=str(REPO), NUM_GPUS="8",
    )  # fmt: skip
    return bin_dir, env


def test_train_sbatch_starts_one_train_sh_per_node(fake_slurm, tmp_path):
    _, env = fake_slurm
    # sbatch runs a copy of the script from its spool folder: the repository comes from SLURM_SUBMIT_DIR.
    copy = tmp_path / "slurm_script"
    copy.write_text((REPO / "scripts/slurm/train.sbatch").read_text())
    notes, commands = dry_run(str(copy), env, "--save_total_limit", "3", cwd=tmp_path)
    assert [flag(c, "--node_rank") for c in commands] == ["0", "1"]
    for command in commands:
        assert flag(command, "--num_nodes") == "2" and flag(command, "--master_addr") == "gpu07"
        assert flag(command, "--master_port") == str(20000 + 123456 % 12000)
        assert flag(command, "--num_gpus") == "8" and command[-2:] == ["--save_total_limit", "3"]
    assert notes[0].startswith("# node 0 of 2") and notes[2].startswith("# node 1 of 2")

    _, commands = dry_run(str(copy), {**env, "MASTER_ADDR": "10.1.1.1", "MASTER_PORT": "7000"}, cwd=tmp_path)
    assert {(flag(c, "--master_addr"), flag(c, "--master_port")) for c in commands} == {("10.1.1.1", "7000")}

    result = bash(str(copy), {**env, "SLURM_JOB_NODELIST": "", "SLURM_NNODES": ""}, cwd=tmp_path)
    assert result.returncode == 2 and "train.sbatch: no SLURM allocation" in result.stderr
    result = bash(str(copy), {**env, "SLURM_SUBMIT_DIR": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 2 and "submit from the repository root, or set REPO" in result.stderr


def test_eval_sbatch_starts_one_eval_gec_per_node(fake_slurm, eval_run):
    _, env = fake_slurm
    notes, commands = dry_run(
        "scripts/slurm/eval.sbatch", {**env, "RESULT_DIR": str(eval_run), "DATASETS": "sample"}, "4"
    )
    assert len(commands) == 2 and [flag(c, "--node_rank") for c in commands] == ["0", "1"]
    assert all(flag(c, "--master_addr") == "gpu07" and "--do_predict" in c for c in commands)


def test_scontrol_names_the_first_host_where_slurm_is_installed(fake_slurm):
    bin_dir, env = fake_slurm
    scontrol = bin_dir / "scontrol"
    scontrol.write_text(
        '#!/usr/bin/env bash\n[[ $* == "show hostnames gpu[07-08]" ]] && printf "a7\\na8\\n"\n'
    )
    scontrol.chmod(0o755)
    script = f"source {REPO}/scripts/launch_nodes.sh; slurm_first_host gpu[07-08]"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "a7\n", "")


@pytest.mark.parametrize(
    "nodelist, first",
    [
        ("node[01-04],gpu7", "node01"),
        ("node[01-04,07]", "node01"),
        ("node[7,9]-ib", "node7-ib"),
        ("rack[1-2]-n[3-4]", "rack1-n3"),
        ("gpu7,node[1-2]", "gpu7"),
        ("a-b.c", "a-b.c"),
    ],
)
def test_first_host_of_a_slurm_node_list(nodelist, first):
    # PATH empty: no scontrol, so the script's own parser (bash alone) answers.
    script = f'source {REPO}/scripts/launch_nodes.sh; slurm_first_host "$0"'
    result = subprocess.run(
        ["/bin/bash", "-c", script, nodelist], capture_output=True, text=True, env={"PATH": ""}
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, first + "\n", "")


@pytest.mark.slow
def test_two_nodes_train_and_score_as_one_job(tiny_model, tmp_path):
    """Two train.sh "nodes" on this machine, each its own process tree, 1 process each: one job of world
    size 2 trains, checkpoints, predicts across both and scores on node 0."""
    data = tmp_path / "data"
    (data / "small").mkdir(parents=True)
    rows = (REPO / "data" / "sample" / "train.jsonl").read_text(encoding="utf-8").splitlines()[:64]
    (data / "small" / "train.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (data / "eval" / "small").mkdir(parents=True)
    for name, keep in (("source.txt", "\n"), ("gold.m2", "\n\n")):
        text = (REPO / "data" / "eval" / "sample" / name).read_text(encoding="utf-8")
        (data / "eval" / "small" / name).write_text(keep.join(text.split(keep)[:5]) + keep, encoding="utf-8")
    env = dict(
        os.environ, MODEL_NAME=str(tiny_model("llama")), DATA_ROOT=str(data), DATA_VER="small",
        OUTPUT_ROOT=str(tmp_path / "out"), RESULT_DIR="run", TRAIN_STEPS="4", SAVE_STEPS="2", BATCH="4",
        MAX_NEW_TOKENS="8", NUM_GPUS="1", NNODES="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()),
        OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1",
    )  # fmt: skip
    nodes = [
        subprocess.Popen(
            ["bash", str(REPO / "train.sh")],
            env={**env, "NODE_RANK": rank},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        for rank in ("0", "1")
    ]
    try:
        logs = [node.communicate(timeout=600)[0] for node in nodes]
    finally:
        for node in nodes:  # each node's whole process tree, should one hang
            if node.poll() is None:
                os.killpg(node.pid, 9)
    assert [node.returncode for node in nodes] == [0, 0], logs[0][-3000:] + logs[1][-3000:]
    run = tmp_path / "out" / "run"
    assert "train.sh: node 1 of 2: 1 process here, global rank 1 of 2;" in logs[1]
    # 4 steps of 2 x 4 rows are half of the 64 rows: both nodes' processes took part.
    assert json.loads((run / "trainer_state.json").read_text())["epoch"] == 0.5
    assert (run / "checkpoint-2" / "checkpoint_complete.json").is_file()
    assert (run / "checkpoint-4" / "checkpoint_complete.json").is_file()
    predictions = (run / "checkpoint-4" / "predictions" / "small.txt").read_text(encoding="utf-8")
    assert len(predictions.splitlines()) == 5
    # Node 0 scores and tabulates; node 1 only predicts.
    assert "| 4 | small | m2 | 5 |" in logs[0] and "| 4 | small |" not in logs[1]
