"""GRPO's rewards for a correction: its sentence-level M2 F0.5 against the source's gold edits, and the score
of a reward model trained with --stage rm.

The M2 reward is the project's m2scorer, through its public API (`score_sentence`, then the official P/R/F
conventions): a sentence without gold edits scores 1.0 when left unchanged and 0.0 when changed; with gold
edits, 0.0 when unchanged. Gold edits come from an M2 file, or from a token-level diff of source and target
(`gold_edits`).
"""

from __future__ import annotations

import difflib
import json
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ftkit.data import encode_clm
from ftkit.integrity import template_for
from m2scorer import precision_recall_f, score_sentence

# Gold edits by annotator, as m2scorer takes them: {annotator: [(start, end, original, (corrections...))]}.
GoldEdits = dict[int, list[tuple[int, int, str, tuple[str, ...]]]]


def gold_edits(source: str, target: str) -> GoldEdits:
    """Gold edits that turn `source` into `target` (both space-tokenised), as one annotator's M2 edits.

    A token-level diff (difflib): each differing span becomes one edit; a span replacing as many tokens as
    it removes is split into one-token substitutions, as M2 annotations mark them (R:SPELL, R:VERB:SVA).
    Unchanged pairs have no edits ({0: []}, an M2 noop). On the bundled sample these agree with the gold M2.
    """
    src, tgt = source.split(), target.split()
    edits = []
    matcher = difflib.SequenceMatcher(None, src, tgt, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            edits += [
                (i, i + 1, src[i], (tgt[j],)) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
        else:
            edits.append((i1, i2, " ".join(src[i1:i2]), (" ".join(tgt[j1:j2]),)))
    return {0: edits}


def dump_gold_edits(edits: GoldEdits) -> str:
    """`edits` as JSON text: a dataset column (grpo_dataset) that reaches m2_f05_reward through TRL."""
    return json.dumps(
        {str(annotator): [list(e[:3]) + [list(e[3])] for e in es] for annotator, es in edits.items()}
    )


def load_gold_edits(text: str) -> GoldEdits:
    """The gold edits of dump_gold_edits's text."""
    return {
        int(annotator): [(s, e, original, tuple(corrections)) for s, e, original, corrections in es]
        for annotator, es in json.loads(text).items()
    }


def sentence_f05(hypothesis: str, source: str, edits: GoldEdits, beta: float = 0.5) -> float:
    """Sentence-level F_beta of one correction, with the official scorer's conventions.

    P = 1 when nothing is proposed and R = 1 without gold edits, so: no gold edits and unchanged -> 1.0;
    no gold edits but changed -> 0.0; gold edits but unchanged -> 0.0.
    """
    counts = score_sentence(" ".join(hypothesis.split()), source, edits, beta=beta).counts
    return precision_recall_f(counts, beta)[2]


def m2_f05_reward(
    completions: list[str], source: list[str], gold_edits: list[str], **kwargs: Any
) -> list[float]:
    """GRPO reward function (TRL's signature): sentence-level F0.5 of each completion against its gold edits.

    `source` and `gold_edits` are the dataset columns of `grpo_dataset`, one per completion.
    """
    return [
        sentence_f05(completion, src, load_gold_edits(gold))
        for completion, src, gold in zip(completions, source, gold_edits, strict=True)
    ]


class RewardModelScorer:
    """GRPO reward from a reward model trained with --stage rm: its score for source + completion, encoded as
    in reward-model training (encode_clm, as encode_preference_dataset), with the reward model's own prompt
    template."""

    __name__ = "reward_model"  # TRL logs each reward under its function's name

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        max_source_length: int,
        max_target_length: int,
        device: torch.device,
    ) -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.template = template_for(model.name_or_path)
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length

    def __call__(self, completions: list[str], source: list[str], **kwargs: Any) -> list[float]:
        answers = [" ".join(c.split()) for c in completions]
        encoded = encode_clm(
            {"source": source, "target": answers},
            self.tokenizer,
            self.template,
            self.max_source_length,
            self.max_target_length,
        )
        rows = [{"input_ids": ids} for ids in encoded["input_ids"]]
        batch = self.tokenizer.pad(rows, padding_side="right", return_tensors="pt").to(self.model.device)
        with torch.inference_mode():
            return self.model(**batch).logits[:, 0].float().tolist()
