"""LLaMA-Factory's SFT (run_exp) on bench_train.py's alpaca data, run in LLaMA-Factory's own virtualenv.

    outputs/peer_venvs/llamafactory/bin/python scripts/bench_peers/llamafactory_run.py CONFIG.json

CONFIG.json holds LLaMA-Factory's arguments (as its YAML files do) plus `ftkit_prompt_template`: our
prompt template, registered as LLaMA-Factory template `ftkit_gec` the way its docs add one (user turn =
the template around the source, assistant turn = the target + EOS, BOS first), so its tokens equal ours.
Under the deepspeed launcher the `--local_rank` argument is left to the environment (LOCAL_RANK), which
LLaMA-Factory reads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from llamafactory.data.formatter import EmptyFormatter, StringFormatter
from llamafactory.data.template import register_template
from llamafactory.train.tuner import run_exp
from measure import Clock


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    prompt = config.pop("ftkit_prompt_template").replace("{source}", "{{content}}")
    register_template(
        name=config["template"],
        format_prefix=EmptyFormatter(slots=[{"bos_token"}]),
        format_user=StringFormatter(slots=[prompt]),
        format_assistant=StringFormatter(slots=["{{content}}", {"eos_token"}]),
    )
    run_exp(config, callbacks=[Clock(config["output_dir"])])


if __name__ == "__main__":
    main(sys.argv[-1])  # the deepspeed launcher puts --local_rank=N first
