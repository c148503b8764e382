"""Generation settings and decoding, shared by --do_predict and the interactive tool.

`GenerationSettings` is the one definition of how we decode: `finetune.py --do_predict` (through
`generation_kwargs`) and `interactive_generate.py` both build their `model.generate` arguments from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import (
    DynamicCache,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    TextStreamer,
)
from transformers.generation.utils import ALL_CACHE_NAMES
from transformers.modeling_outputs import BaseModelOutput

from ftkit.adapters import is_prompt_learning
from ftkit.data import IGNORE_INDEX
from ftkit.frameworks import Framework, framework_of


@dataclass
class GenerationSettings:
    """How to decode. The defaults are deterministic: greedy search unless `num_beams` > 1.

    `max_new_tokens` (not `max_length`) so the limit means the same for clm, whose output starts with
    the prompt, as for seq2seq. `temperature` and `top_p` apply only when `do_sample` is on.
    """

    max_new_tokens: int
    num_beams: int = 1
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {self.max_new_tokens}")
        if self.num_beams < 1:
            raise ValueError(f"num_beams must be at least 1, not {self.num_beams}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be above 0, not {self.temperature}; for greedy, sample off")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], not {self.top_p}")

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `model.generate`."""
        kwargs: dict[str, Any] = {
            "num_beams": self.num_beams,
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
        }
        if self.do_sample:
            # Only with sampling: generate warns about sampling settings in a deterministic search.
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        return kwargs


def generation_kwargs(num_beams: int | None, max_new_tokens: int) -> dict[str, Any]:
    """`model.generate` arguments for batch prediction: the default settings, with the beam size given.

    `num_beams=None` (the Trainer's `generation_num_beams` default) means the default search.
    """
    settings = GenerationSettings(max_new_tokens=max_new_tokens)
    if num_beams is not None:
        settings = dataclasses.replace(settings, num_beams=num_beams)  # validated like the others
    return settings.kwargs()


# End-of-turn tokens of chat templates (ChatML, Llama 3, Gemma, Phi-3): an instruct model ends its answer
# with one, which is often not its tokenizer's EOS.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>")


def stop_token_ids(tokenizer: PreTrainedTokenizerBase, generation_config: Any = None) -> list[int]:
    """The ids that end an answer, for generation to stop on and decode to cut at: the tokenizer's EOS
    (which training appends to every target), the generation config's EOS ids and the end-of-turn tokens
    the tokenizer has. Every entry point that generates takes them from here."""
    ids = [tokenizer.eos_token_id]
    if generation_config is not None:
        eos = generation_config.eos_token_id
        ids += eos if isinstance(eos, list) else [eos]
    for token in END_OF_TURN_TOKENS:
        token_id = tokenizer.convert_tokens_to_ids(token)
        if token_id is not None and token_id != tokenizer.unk_token_id:
            ids.append(token_id)
    return list(dict.fromkeys(i for i in ids if i is not None))


# The first stretch of new tokens after which finished rows leave the batch; each later stretch is twice as
# long. About a GEC output's typical length, so most rows leave after the first: a generate call costs
# little beside the steps that ended rows spend in the batch, and shorter or longer first stretches were
# slower on CoNLL-2014 (the README has the figures). 30-token outputs cost two more calls a batch.
FIRST_STRETCH = 8
# A shared prompt prefix shorter than this (BOS alone, with the `none` template) is not worth the extra
# forward pass that computes it once.
MIN_SHARED_PREFIX = 8


# The name `generate` and the models take the KV cache by and return it under, as the installed transformers
# spells it: newer releases renamed `past_key_values` to `cache` (still taking the old name, with a warning),
# and a GPU machine may run an older release.
CACHE = ALL_CACHE_NAMES[0]


def releases_finished_rows(model: PreTrainedModel, gen_kwargs: dict[str, Any], synced_gpus: bool) -> bool:
    """Whether generate_releasing_finished applies: greedy search with a `max_new_tokens` limit, no ZeRO-3
    (whose ranks must all run the same number of forward passes), and no encoder-decoder with a prompt-
    learning adapter (PEFT's own generate prepends its virtual tokens to input_ids, which the encoder pass
    here would bypass)."""
    greedy = gen_kwargs.get("num_beams") in (None, 1) and not gen_kwargs.get("do_sample")
    if is_prompt_learning(model) and framework_of(model.config).encoder_decoder:
        return False
    return greedy and "max_new_tokens" in gen_kwargs and not synced_gpus


def shared_prefix_length(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> int:
    """How many leading tokens all prompts share (rows padded on the left): the prompt template's preamble.
    At most the shortest prompt but one, so every row still has a token of its own to prefill."""
    lengths = attention_mask.sum(1)
    width = int(lengths.min()) - 1
    if width < 1:
        return 0
    starts = input_ids.shape[1] - lengths
    heads = input_ids.gather(1, starts[:, None] + torch.arange(width, device=input_ids.device))
    return int((heads == heads[:1]).all(0).long().cumprod(0).sum())


def prefill_shared_prefix(
    model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, Any]:
    """Compute the KV cache of the prefix that every prompt shares once, for one row instead of each.

    Returns the batch rearranged as prefix, padding, rest of the prompt (`generate` takes positions from the
    attention mask, so each token keeps the position it has when padded on the left), and the prefix's cache
    repeated for every row. Or, when the prefix is shorter than MIN_SHARED_PREFIX or the model keeps a cache
    of its own kind, the batch unchanged and no cache.
    """
    shared = shared_prefix_length(input_ids, attention_mask)
    if shared < MIN_SHARED_PREFIX:
        return input_ids, attention_mask, None
    rows, width = input_ids.shape
    starts = width - attention_mask.sum(1)
    prefix = input_ids[0, starts[0] : starts[0] + shared]
    with torch.no_grad():
        cache = getattr(model(input_ids=prefix[None], use_cache=True), CACHE, None)
    if not isinstance(cache, DynamicCache):  # a model with a cache of its own kind (remote code)
        return input_ids, attention_mask, None
    cache.batch_repeat_interleave(rows)
    # Column j of a row without its prefix: the padding before it, then the tokens after it.
    column = torch.arange(width - shared, device=input_ids.device)
    source = column + shared * (column[None] >= starts[:, None])
    input_ids = torch.cat([prefix.expand(rows, shared), input_ids.gather(1, source)], 1)
    attention_mask = torch.cat([attention_mask.new_ones(rows, shared), attention_mask.gather(1, source)], 1)
    return input_ids, attention_mask, cache


def generate_releasing_finished(
    model: PreTrainedModel,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    gen_kwargs: dict[str, Any],
    first_stretch: int = FIRST_STRETCH,
) -> torch.Tensor:
    """The new tokens `model.generate(input_ids, attention_mask, **gen_kwargs)` gives (rows that end early
    padded on the right) with greedy search, decoder-only prompts padded on the left (encoder inputs on the
    right); computed with finished rows released, and a decoder-only batch's shared prompt prefix (or an
    encoder's whole input) computed once.

    One `generate` call runs every row until the last one ends: a single row that never emits EOS (a
    repetition loop) keeps every finished row of its batch decoding up to the length limit. Here the batch
    generates in stretches of `first_stretch`, then twice as many new tokens, and so on; after each, the rows
    that have ended leave the batch and the KV cache (and the encoder's output), and the rest continue from
    the cache. Each row's tokens are the ones one call gives: a step computes every row on its own,
    whichever rows share its batch.
    """
    encoder_decoder = framework_of(model.config).encoder_decoder
    if encoder_decoder:
        encoded = model.get_encoder()(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
        inputs: dict[str, Any] = {"encoder_outputs": encoded, "attention_mask": attention_mask}
        # The decoder's own sequence, which generate starts with the decoder start token.
        sequence, prompt_width = "decoder_input_ids", 1
    else:
        input_ids, attention_mask, cache = prefill_shared_prefix(model, input_ids, attention_mask)
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask, CACHE: cache}
        sequence, prompt_width = "input_ids", input_ids.shape[1]
    stop_ids = gen_kwargs.get("eos_token_id", model.generation_config.eos_token_id)
    if stop_ids is None:  # no row ends before the limit: nothing to release
        return model.generate(**inputs, **gen_kwargs)[:, prompt_width:]
    eos = torch.tensor(stop_ids, device=input_ids.device).reshape(-1)
    budget, stretch = gen_kwargs["max_new_tokens"], first_stretch
    rows = torch.arange(len(input_ids))
    outputs: list[torch.Tensor | None] = [None] * len(input_ids)
    while True:
        asked = min(stretch, budget)
        # A forced EOS (BART's generation config) belongs at the limit, not at the end of every stretch.
        forced_eos = {} if asked == budget else {"forced_eos_token_id": None}
        result = model.generate(
            **inputs, return_dict_in_generate=True, **{**gen_kwargs, "max_new_tokens": asked, **forced_eos}
        )
        new = result.sequences[:, inputs[sequence].shape[1] if sequence in inputs else prompt_width :]
        budget -= new.shape[1]
        # generate stops short of `asked` only when every row has ended.
        ended = torch.isin(new, eos).any(dim=1) | (budget == 0) | (new.shape[1] < asked)
        for row in ended.nonzero().flatten().tolist():
            outputs[rows[row]] = result.sequences[row, prompt_width:]
        if ended.all():
            break
        running = (~ended).nonzero().flatten()
        cache = getattr(result, CACHE)
        cache.batch_select_indices(running)
        if encoder_decoder:
            encoded = BaseModelOutput(last_hidden_state=encoded.last_hidden_state[running])
            # Only with a decoder mask as wide as its sequence does generate feed the decoder just the tokens
            # its cache lacks (without, it feeds them all again, after the cached ones).
            decoder_mask = torch.ones_like(result.sequences[running])
            attention_mask = attention_mask[running]
            inputs = {"encoder_outputs": encoded, "decoder_attention_mask": decoder_mask}
        else:  # the mask covers the prompt and the tokens generated so far
            new_columns = attention_mask.new_ones(len(running), new.shape[1])
            attention_mask, inputs = torch.cat([attention_mask[running], new_columns], 1), {}
        inputs.update({"attention_mask": attention_mask, sequence: result.sequences[running], CACHE: cache})
        rows, stretch = rows[running], 2 * stretch
    pad = model.generation_config.pad_token_id
    return torch.nn.utils.rnn.pad_sequence(outputs, batch_first=True, padding_value=pad)


def decode(
    tokenizer: PreTrainedTokenizerBase,
    token_ids: np.ndarray | list[list[int]],
    stop_ids: list[int] | None = None,
) -> list[str]:
    """Decode generated ids (new tokens only, see Framework.new_tokens) to one single-line string per row,
    cut at the first of `stop_ids` (default: `stop_token_ids(tokenizer)`).

    A row goes on after its stop token when generation stopped on other ids, or when the row ended in a
    batch that continued: what follows is not part of the answer.
    """
    stop = set(stop_token_ids(tokenizer) if stop_ids is None else stop_ids)
    # The Trainer pads the rows of shorter batches on the right with IGNORE_INDEX, which is no token: the row
    # ends there too. Not decoded as padding: one long output widens every row of the array.
    token_ids = [until_stop(np.asarray(row).tolist(), stop | {IGNORE_INDEX}) for row in token_ids]
    # No clean-up: GEC text is tokenised ("a cat ."), and merging " ." into "." would change the edits.
    texts = tokenizer.batch_decode(token_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    return [" ".join(text.splitlines()).strip() for text in texts]


def until_stop(ids: list[int], stop: set[int]) -> list[int]:
    return next((ids[:i] for i, token in enumerate(ids) if token in stop), ids)


def at_length_limit(
    token_ids: np.ndarray | torch.Tensor, stop_ids: list[int], max_new_tokens: int
) -> np.ndarray:
    """Which rows of generated ids (new tokens only, as for decode) ran to `max_new_tokens` without a stop
    token: outputs the limit cut off (a model repeating itself, or a limit too low), not ones it ended."""
    stop = set(stop_ids) | {IGNORE_INDEX}
    return np.array(
        [len(until_stop(np.asarray(row).tolist(), stop)) >= max_new_tokens for row in token_ids], dtype=bool
    )


def generate_one(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    framework: Framework,
    input_ids: list[int],
    settings: GenerationSettings,
    stream: bool = False,
    stop: StoppingCriteria | None = None,
) -> str:
    """Generate for one encoded prompt and return the new text, as `--do_predict` would write it.

    With `stream`, text is printed to stdout as it is generated (greedy search and sampling only:
    beam search knows its best sequence only at the end).
    """
    ids = torch.tensor([input_ids], device=model.device)
    stop_ids = stop_token_ids(tokenizer, model.generation_config)
    streamer = None
    if stream and settings.num_beams == 1:
        streamer = TextStreamer(
            tokenizer, skip_prompt=True, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
    with torch.inference_mode():
        generated = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            streamer=streamer,
            stopping_criteria=[stop] if stop is not None else None,
            eos_token_id=stop_ids,
            **settings.kwargs(),
        )
    return decode(tokenizer, framework.new_tokens(generated, ids.shape[1]).tolist(), stop_ids)[0]
