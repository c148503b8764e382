"""Try a finetuned model on ad-hoc prompts: a REPL with streamed output.

Usage:
    python interactive_generate.py --model_name_or_path outputs/tiny-llama-sample/checkpoint-1500
    python interactive_generate.py --model_name_or_path DIR --num_beams 4 --max_new_tokens 64
    python interactive_generate.py --model_name_or_path DIR --do_sample --temperature 0.7 --top_p 0.9
    printf 'He go to school .\\nShe like cats .\\n' | python interactive_generate.py --model_name_or_path DIR

Each line typed (or read from a pipe) is one source sentence: it is put into the prompt template the model
was trained with (read from the run's run_args.json; --prompt_template overrides) and generated with the
settings `finetune.py --do_predict` uses unless told otherwise. From a pipe, each input line gives one output
line on stdout; messages go to stderr. For whole test sets use `finetune.py --do_predict` (length-sorted
batches, several GPUs) or `eval_gec.sh`.

DIR may be a save_pretrained folder or a Trainer `checkpoint-N` folder; a DeepSpeed checkpoint without
consolidated weights (ZeRO-3 without stage3_gather_16bit_weights_on_model_save) is consolidated on the fly.
A PEFT adapter folder (--finetuning_type lora/prompt_tuning/...) loads its base model (adapter_config.json's
base_model_name_or_path) with the adapter attached.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import PreTrainedModel, PreTrainedTokenizerBase, StoppingCriteria

from ftkit.args import DataArguments
from ftkit.frameworks import FRAMEWORKS, Framework
from ftkit.generation import GenerationSettings, generate_one
from ftkit.integrity import template_for
from ftkit.modeling import ModelLoadError, load_config, load_model, load_tokenizer, weights_dtype
from ftkit.templates import DEFAULT_TEMPLATE, TEMPLATES, build_prompt
from ftkit.validation import resolve_framework

logger = logging.getLogger("interactive_generate")

PROMPT = ">>> "
# Any of these in a folder means it holds loadable weights.
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
HELP = """\
Type a sentence to correct it. Commands:
  :set beams N            beam search with N beams (1 = greedy; streamed only with 1)
  :set sample on|off      sampling instead of search
  :set temperature T      sampling temperature (> 0)
  :set top_p P            nucleus sampling mass in (0, 1]
  :set max_new_tokens N   generation limit in new tokens
  :set template NAME      prompt template ({templates})
  :show                   current settings
  :help                   this text
  :quit                   exit (also Ctrl-D)
Ctrl-C stops the current generation (and clears the line at the prompt)."""
# `:set NAME VALUE`: the settings field each name changes, and how to read its value.
SETTABLE = {
    "beams": ("num_beams", int),
    "num_beams": ("num_beams", int),
    "sample": ("do_sample", lambda v: {"on": True, "off": False, "1": True, "0": False}[v.lower()]),
    "do_sample": ("do_sample", lambda v: {"on": True, "off": False, "1": True, "0": False}[v.lower()]),
    "temperature": ("temperature", float),
    "top_p": ("top_p", float),
    "max_new_tokens": ("max_new_tokens", int),
}


@dataclass
class Session:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    framework: Framework
    template: str
    settings: GenerationSettings
    max_source_length: int

    def encode(self, source: str) -> list[int]:
        """The same input ids `--do_predict` gives the model for this source; says so when it was cut."""
        encoded = self.framework.encode(
            {"source": [source]},
            self.tokenizer,
            self.template,
            self.max_source_length,
            self.settings.max_new_tokens,
        )
        if encoded["prompt_length"][0] > self.max_source_length:
            say(
                f"[the prompt has {encoded['prompt_length'][0]} tokens, more than --max_source_length "
                f"{self.max_source_length}: the end of the source is cut, the template kept]"
            )
        return encoded["input_ids"][0]

    def describe(self) -> str:
        s = self.settings
        sampling = f"on (temperature {s.temperature}, top_p {s.top_p})" if s.do_sample else "off"
        return (
            f"framework {self.framework.name}, template {self.template}, beams {s.num_beams}, "
            f"sample {sampling}, max_new_tokens {s.max_new_tokens}"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Ad-hoc prompts to a finetuned model, streamed. For batch prediction use "
        "finetune.py --do_predict.",
    )
    parser.add_argument(
        "--model_name_or_path", required=True, help="save_pretrained folder or checkpoint-N folder"
    )
    parser.add_argument("--framework", choices=FRAMEWORKS, help="default: derived from the model config")
    parser.add_argument(
        "--prompt_template",
        choices=sorted(TEMPLATES),
        help=f"default: the one the run was trained with (run_args.json), else {DEFAULT_TEMPLATE}",
    )
    defaults = GenerationSettings(max_new_tokens=DataArguments.max_target_length)
    parser.add_argument("--num_beams", type=int, default=defaults.num_beams)
    parser.add_argument("--do_sample", action="store_true", help="sample instead of greedy/beam search")
    parser.add_argument("--temperature", type=float, default=defaults.temperature)
    parser.add_argument("--top_p", type=float, default=defaults.top_p)
    parser.add_argument(
        "--max_new_tokens",
        type=int,
        default=defaults.max_new_tokens,
        help="generation limit in new tokens (default: as --do_predict, %(default)s)",
    )
    parser.add_argument(
        "--max_source_length",
        type=int,
        default=DataArguments.max_source_length,
        help="longest prompt in tokens; a longer source is cut, the template kept whole (default: as "
        "finetune.py, %(default)s)",
    )
    parser.add_argument("--bf16", action="store_true", help="load the weights in bfloat16")
    parser.add_argument("--trust_remote_code", action="store_true")
    parser.add_argument("--history_file", help="keep the line-editing history in this file across sessions")
    return parser


def has_weights(folder: Path) -> bool:
    return any((folder / name).is_file() for name in WEIGHT_FILES)


def consolidate_zero_checkpoint(checkpoint: Path, out: Path) -> Path:
    """Write a loadable model folder at `out` from a DeepSpeed checkpoint without model weights.

    The fp32 weights are gathered from the ZeRO shards (`global_stepN/`); config and tokenizer files are
    copied alongside.

    Raises:
        ModelLoadError: the folder holds no DeepSpeed checkpoint either.
    """
    if not (checkpoint / "latest").is_file():
        raise ModelLoadError(
            f"{checkpoint} has no model weights ({', '.join(WEIGHT_FILES)}) and no DeepSpeed checkpoint "
            "('latest' + global_step*/). Pass a folder written by save_pretrained or the Trainer."
        )
    logger.info("%s holds a DeepSpeed ZeRO checkpoint without weights: consolidating it", checkpoint)
    # DeepSpeed prints progress on stdout; piped stdout must hold only the outputs.
    with contextlib.redirect_stdout(sys.stderr):
        from deepspeed.utils.zero_to_fp32 import convert_zero_checkpoint_to_fp32_state_dict

        convert_zero_checkpoint_to_fp32_state_dict(str(checkpoint), str(out), safe_serialization=True)
    for item in checkpoint.iterdir():
        # Config, generation config and tokenizer files; not the Trainer's state.
        if item.suffix in (".json", ".model", ".txt") and item.name != "trainer_state.json":
            shutil.copy2(item, out / item.name)
    return out


def load_session(args: argparse.Namespace, scratch: Path) -> Session:
    """Load model and tokenizer and resolve the settings.

    Raises:
        ModelLoadError: no model at the path.
        ConfigurationError: a --framework that contradicts the model.
        ValueError: an invalid generation setting.
    """
    path = Path(args.model_name_or_path).expanduser()
    load_from = str(path)
    if path.is_dir() and (path / "config.json").is_file() and not has_weights(path):
        load_from = str(consolidate_zero_checkpoint(path, scratch))
    config = load_config(load_from, args.trust_remote_code)
    framework = resolve_framework(args.framework, config, path)
    template = template_for(path, args.prompt_template)
    if template not in TEMPLATES:
        template = DEFAULT_TEMPLATE
    settings = GenerationSettings(
        max_new_tokens=args.max_new_tokens,
        num_beams=args.num_beams,
        do_sample=args.do_sample,
        temperature=args.temperature,
        top_p=args.top_p,
    )
    tokenizer = load_tokenizer(load_from, args.trust_remote_code)
    # chat needs a chat template: fail now, not at the first line.
    build_prompt("", template, tokenizer)
    dtype = weights_dtype(training=False, deepspeed=False, bf16=args.bf16, fp16=False)
    model = load_model(load_from, framework, config, tokenizer, dtype, args.trust_remote_code)
    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    return Session(model, tokenizer, framework, template, settings, args.max_source_length)


def say(message: str) -> None:
    """Messages go to stderr, so that piped stdout holds only the outputs."""
    print(message, file=sys.stderr, flush=True)


def run_command(session: Session, line: str) -> bool:
    """Carry out one `:command`; return False when the REPL should end."""
    words = line[1:].split()
    name = words[0].lower() if words else ""
    if name in ("quit", "q", "exit"):
        return False
    if name in ("help", "h", "?"):
        say(HELP.format(templates=", ".join(sorted(TEMPLATES))))
    elif name == "show":
        say(session.describe())
    elif name == "set" and len(words) == 3:
        key, value = words[1].lower(), words[2]
        try:
            if key == "template":
                if value not in TEMPLATES:
                    choices = ", ".join(sorted(TEMPLATES))
                    raise ValueError(f"unknown template {value!r}; choose one of {choices}")
                build_prompt("", value, session.tokenizer)  # chat: the tokenizer must have a chat template
                session.template = value
            elif key in SETTABLE:
                field, parse = SETTABLE[key]
                session.settings = dataclasses.replace(session.settings, **{field: parse(value)})
            else:
                raise ValueError(f"unknown setting {key!r}; see :help")
        except (ValueError, KeyError) as e:
            say(f"not changed: {e if isinstance(e, ValueError) else f'{value!r} is not on/off'}")
        else:
            say(session.describe())
    else:
        say(f"unknown command {line!r}; type :help")
    return True


class StopFlag(StoppingCriteria):
    """A stopping criterion that ends generation (after the current token) once `set()` is called."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def set(self) -> None:
        self.event.set()

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.Tensor:
        stopped = self.event.is_set()
        return torch.full((input_ids.shape[0],), stopped, dtype=torch.bool, device=input_ids.device)


@contextlib.contextmanager
def stop_on_interrupt() -> Iterator[StopFlag]:
    """Within the block, Ctrl-C (SIGINT) stops the generation instead of raising KeyboardInterrupt.

    Must be entered in the main thread (where Python delivers signals).
    """
    flag = StopFlag()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def respond(session: Session, source: str, interactive: bool) -> None:
    """Generate for one source: streamed on a terminal, one plain line on a pipe."""
    stream = interactive and session.settings.num_beams == 1
    with stop_on_interrupt() as stop:
        text = generate_one(
            session.model,
            session.tokenizer,
            session.framework,
            session.encode(source),
            session.settings,
            stream=stream,
            stop=stop,
        )
    if stop.event.is_set():
        say("[stopped]")
    elif not stream:
        print(text, flush=True)


def read_line(interactive: bool) -> str:
    """The next input line, without its newline. Raises EOFError at Ctrl-D or the end of the pipe."""
    if interactive:
        return input(PROMPT)
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\r\n")


def repl(session: Session, interactive: bool) -> None:
    while True:
        try:
            line = read_line(interactive)
            if line.startswith(":"):
                if not run_command(session, line.strip()):
                    return
            elif line.strip() or not interactive:  # from a pipe, an empty line still gets its output line
                respond(session, line, interactive)
        except KeyboardInterrupt:
            # Ctrl-C at the prompt drops the line, like Python's REPL; during generation it only stops it.
            print(file=sys.stderr)
        except EOFError:
            if interactive:
                print(file=sys.stderr)
            return


def setup_line_editing(history_file: str | None) -> None:
    import readline  # line editing and in-session history for input(); Unix only

    if history_file:
        path = Path(history_file).expanduser()
        if path.is_file():
            readline.read_history_file(path)
        import atexit

        atexit.register(readline.write_history_file, path)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    logger.setLevel(logging.INFO)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        print(
            "error: interactive_generate.py runs in one process and does not shard the model (ZeRO-3). "
            "Run it with plain python; for prediction over a file on several GPUs or under ZeRO-3 use "
            "deepspeed finetune.py --do_predict --deepspeed ds_configs/zero3.json (or eval_gec.sh).",
            file=sys.stderr,
        )
        return 2
    interactive = sys.stdin.isatty()
    with tempfile.TemporaryDirectory(prefix="consolidated-") as scratch:
        try:
            session = load_session(args, Path(scratch))
        except (ModelLoadError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        say(
            f"interactive_generate.py: ad-hoc prompts to {args.model_name_or_path}\n"
            f"  {session.describe()}\n"
            "  For a whole file use batch prediction (sorted batches, all GPUs):\n"
            "  python finetune.py --do_predict --model_name_or_path DIR --test_file FILE "
            "--predictions_file OUT\n"
            "  :help for commands, Ctrl-C stops a generation, Ctrl-D or :quit exits."
        )
        if interactive:
            setup_line_editing(args.history_file)
        repl(session, interactive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
