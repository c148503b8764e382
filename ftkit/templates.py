"""Prompt templates: the one place that turns a source sentence into model input.

Templates are data. Training, `--do_predict` and the interactive tool all call `build_prompt`, so a model
is always prompted the way it was trained.

`chat` is the exception that proves the rule: its text is the user message, and the tokenizer's own chat
template (`tokenizer.apply_chat_template`, with the assistant turn opened) wraps it, so an instruct model is
finetuned and prompted in the conversation format it was built with.
"""

from __future__ import annotations

from typing import Any

# `{source}` is replaced by the input text. For clm the target is appended to the prompt, so a prompt must
# end where the answer starts (a newline, not a space, so BPE tokenizers keep the answer's first word whole).
TEMPLATES: dict[str, str] = {
    # The raw source: encoder-decoder models finetuned on GEC alone.
    "none": "{source}",
    # FLAN-style instruction, the phrasing FLAN-T5 saw in instruction tuning.
    "flan": "Fix grammatical errors in this sentence: {source}",
    # Short instruction with an explicit answer slot; the default for both frameworks.
    "gec": "Correct the grammar:\n{source}\nCorrected:\n",
    # Stanford Alpaca's instruction format, for models tuned on it (LLaMA/BLOOM chat finetunes).
    "alpaca": (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\nCorrect the grammatical errors in the input.\n\n"
        "### Input:\n{source}\n\n### Response:\n"
    ),
    # The user message of the tokenizer's own chat template (instruct/chat models: Qwen2-Instruct, Llama-3
    # Instruct...). Needs a tokenizer with a chat template; see build_prompt.
    "chat": "Correct the grammatical errors in this sentence:\n{source}",
}
DEFAULT_TEMPLATE = "gec"
CHAT_TEMPLATE = "chat"


class TemplateError(ValueError):
    """A template that cannot be used (unknown name, or `chat` without a chat template); says the fix."""


def uses_chat_template(template: str) -> bool:
    """True if `template`'s prompts come from the tokenizer's chat template: they hold their own special
    tokens (BOS, <|im_start|>...), so they are tokenised with add_special_tokens=False."""
    return template == CHAT_TEMPLATE


def build_prompt(source: str, template: str = DEFAULT_TEMPLATE, tokenizer: Any = None) -> str:
    """Return the model input for one source text.

    `tokenizer` is needed for the `chat` template only: its chat template turns the user message into the
    prompt, ending where the assistant's answer starts (add_generation_prompt=True).

    Raises:
        TemplateError: `template` is not a known name, or it is `chat` and the tokenizer is missing or has no
            chat template.
    """
    try:
        pattern = TEMPLATES[template]
    except KeyError:
        raise TemplateError(
            f"unknown prompt template {template!r}; choose one of: {', '.join(sorted(TEMPLATES))}"
        ) from None
    text = pattern.replace("{source}", source)
    if not uses_chat_template(template):
        return text
    if tokenizer is None:
        raise TemplateError(
            "the chat prompt template needs the tokenizer: its chat template builds the prompt"
        )
    if not getattr(tokenizer, "chat_template", None):
        raise TemplateError(
            f"--prompt_template chat uses the tokenizer's own chat template, but the tokenizer of "
            f"{tokenizer.name_or_path or 'this model'} has none (no chat_template in tokenizer_config.json, "
            "no chat_template.jinja). Pick a plain template (--prompt_template gec, alpaca...) for a base "
            "model, or use the tokenizer of the instruct model it was built with (--tokenizer_name)."
        )
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
    )
