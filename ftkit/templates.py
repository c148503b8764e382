"""Prompt templates: the one place that turns a source sentence into model input.

Templates are data. Training, `--do_predict` and the interactive tool all call `build_prompt`, so a model
is always prompted the way it was trained.
"""

from __future__ import annotations

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
}
DEFAULT_TEMPLATE = "gec"


def build_prompt(source: str, template: str = DEFAULT_TEMPLATE) -> str:
    """Return the model input for one source text.

    Raises:
        ValueError: `template` is not a known name.
    """
    try:
        pattern = TEMPLATES[template]
    except KeyError:
        raise ValueError(
            f"unknown prompt template {template!r}; choose one of: {', '.join(sorted(TEMPLATES))}"
        ) from None
    return pattern.replace("{source}", source)
