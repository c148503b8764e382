"""The kinds of model the toolkit trains (`--framework`), and everything that differs between them.

Every place that treats an encoder-decoder and a decoder-only model differently asks the model's Framework
here instead of comparing names, so a third kind (a prefix-LM, an encoder-only tagger) is a new row here
and the code its new attributes name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from peft import TaskType
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, PretrainedConfig

from ftkit.data import encode_clm, encode_seq2seq


@dataclass(frozen=True)
class Framework:
    name: str  # the --framework value
    description: str  # for messages: "an encoder-decoder model"
    encoder_decoder: bool  # the model config's is_encoder_decoder
    auto_model: type  # the transformers Auto class that loads it
    peft_task_type: TaskType
    # Tokenises a batch of sources (and targets) into the model's inputs and labels (ftkit.data).
    encode: Callable[..., dict]
    # Where a generation batch is padded: a decoder-only prompt must end at the last column, where generation
    # appends; an encoder's rows must start at column 0 (BART/mBART/Marian take positions from arange, so on
    # the left a row's output would depend on the lengths of the rows sharing its batch).
    generation_padding_side: str

    def new_tokens(self, generated: torch.Tensor, prompt_width: int) -> torch.Tensor:
        """The answer part of `generate`'s output: a decoder-only model's follows its prompt (padded on the
        left to `prompt_width`), an encoder-decoder's follows the decoder start token (BART's is its EOS)."""
        return generated[:, 1:] if self.encoder_decoder else generated[:, prompt_width:]


SEQ2SEQ = Framework(
    name="seq2seq",
    description="an encoder-decoder model",
    encoder_decoder=True,
    auto_model=AutoModelForSeq2SeqLM,
    peft_task_type=TaskType.SEQ_2_SEQ_LM,
    encode=encode_seq2seq,
    generation_padding_side="right",
)
CLM = Framework(
    name="clm",
    description="a decoder-only model",
    encoder_decoder=False,
    auto_model=AutoModelForCausalLM,
    peft_task_type=TaskType.CAUSAL_LM,
    encode=encode_clm,
    generation_padding_side="left",
)
FRAMEWORKS = {framework.name: framework for framework in (SEQ2SEQ, CLM)}


def framework_of(config: PretrainedConfig) -> Framework:
    """The framework a model's config says it is."""
    return SEQ2SEQ if config.is_encoder_decoder else CLM
