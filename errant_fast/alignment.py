"""ERRANT's word alignment with the token attributes read once per sentence instead of once per cell.

`errant.alignment.Alignment.align` indexes the spaCy `Doc` inside its O(n*m) loop (`self.orig[i].orth`,
`self.cor[j]`), and every index builds a new `Token` object: that, not the arithmetic, is most of its
time. `FastAlignment.align` below is the same recurrence over lists built once:

- `o_orth[i]`, `o_low[i]` and `o_toks[i]` (and the `c_` lists) hold exactly what `orig[i].orth`,
  `orig[i].lower` and `orig[i]` give (a Doc is not changed while it is aligned), so every comparison
  sees the same values;
- the substitution costs of all token pairs come from `sub_costs`, which evaluates `get_sub_cost`'s
  formula for the whole matrix at once: the same terms (0 or 0.499 for the lemma, 0, 0.25 or 0.5 for the
  POS, rapidfuzz's Indel normalised distance, the same C++ function `get_sub_cost` calls) added in the
  same order (lemma + POS, then + characters) in IEEE doubles, and 0 where the lower-case forms match
  (ERRANT's integer 0 and this 0.0 give the same sum), so every cost is the same double;
- ERRANT keeps the first cheapest of `[trans, sub, ins, del]` (`costs.index(min(costs))`); the comparisons
  below pick the same one without building the list: the cheaper of transposition and substitution
  (the transposition on a tie), then that one unless the insertion or deletion is strictly cheaper, then
  the insertion unless the deletion is strictly cheaper. A transposition that is not found costs
  infinity in ERRANT, so it never wins: here it is simply not a candidate;
- the transposition search walks the same diagonal with the same stopping test.

Hence the cost and operation matrices are equal cell for cell, and everything after them (the cheapest
sequence, merging, classification) is ERRANT's unchanged code. `tests/test_errant_score.py` checks it on
real sentences, and `scripts/bench_errant.py` checks every edit of a BEA-2019 dev output.
"""

from __future__ import annotations

import numpy as np
from errant.alignment import Alignment
from rapidfuzz.distance import Indel
from rapidfuzz.process import cdist
from spacy.tokens import Token


class FastAlignment(Alignment):
    def align(self, lev: bool) -> tuple[list[list[float]], list[list[str]]]:
        o_toks = list(self.orig)
        c_toks = list(self.cor)
        o_len = len(o_toks)
        c_len = len(c_toks)
        o_orth = [o.orth for o in o_toks]
        c_orth = [c.orth for c in c_toks]
        o_low = [o.lower for o in o_toks]
        c_low = [c.lower for c in c_toks]
        sub_matrix = [] if lev else self.sub_costs(o_toks, c_toks)
        cost_matrix = [[0.0] * (c_len + 1) for _ in range(o_len + 1)]
        op_matrix = [["O"] * (c_len + 1) for _ in range(o_len + 1)]
        for i in range(1, o_len + 1):
            cost_matrix[i][0] = cost_matrix[i - 1][0] + 1
            op_matrix[i][0] = "D"
        for j in range(1, c_len + 1):
            cost_matrix[0][j] = cost_matrix[0][j - 1] + 1
            op_matrix[0][j] = "I"
        for i in range(o_len):
            above = cost_matrix[i]
            here = cost_matrix[i + 1]
            ops = op_matrix[i + 1]
            o_orth_i = o_orth[i]
            sub_row = sub_matrix[i] if sub_matrix else None
            for j in range(c_len):
                if o_orth_i == c_orth[j]:
                    here[j + 1] = above[j]
                    ops[j + 1] = "M"
                    continue
                del_cost = above[j + 1] + 1
                ins_cost = here[j] + 1
                if lev:
                    best, best_op = above[j] + 1, "S"
                else:
                    best, best_op = above[j] + sub_row[j], "S"
                    # ERRANT's transposition search; its first test (k = 1) compares above[j] with the
                    # cell diagonally above it.
                    k = 1
                    while (
                        i - k >= 0
                        and j - k >= 0
                        and cost_matrix[i - k + 1][j - k + 1] != cost_matrix[i - k][j - k]
                    ):
                        if sorted(o_low[i - k : i + 1]) == sorted(c_low[j - k : j + 1]):
                            trans_cost = cost_matrix[i - k][j - k] + k
                            # costs.index(min(costs)) with costs = [trans, sub, ins, del]: the first of the
                            # cheapest wins, so a transposition wins its ties with the substitution.
                            if trans_cost <= best:
                                best, best_op = trans_cost, "T" + str(k + 1)
                            break
                        k += 1
                # ... and either of those wins its ties with the insertion and the deletion, the insertion
                # its tie with the deletion.
                if best <= ins_cost and best <= del_cost:
                    here[j + 1] = best
                    ops[j + 1] = best_op
                elif ins_cost <= del_cost:
                    here[j + 1] = ins_cost
                    ops[j + 1] = "I"
                else:
                    here[j + 1] = del_cost
                    ops[j + 1] = "D"
        return cost_matrix, op_matrix

    def sub_costs(self, o_toks: list[Token], c_toks: list[Token]) -> list[list[float]]:
        """`[[self.get_sub_cost(o, c) for c in c_toks] for o in o_toks]`, computed on arrays."""
        if not o_toks or not c_toks:
            return [[] for _ in o_toks]

        def attributes(tokens):
            return np.array(
                [(t.lemma, t.pos, t.lower, t.pos in self._open_pos) for t in tokens], dtype=np.uint64
            )

        o_attrs, c_attrs = attributes(o_toks)[:, None, :], attributes(c_toks)[None, :, :]
        same = o_attrs == c_attrs  # [i, j, k]: o_toks[i] and c_toks[j] agree on attribute k
        lemma_cost = np.where(same[..., 0], 0.0, 0.499)
        both_open = (o_attrs[..., 3] & c_attrs[..., 3]).astype(bool)
        pos_cost = np.where(same[..., 1], 0.0, np.where(both_open, 0.25, 0.5))
        char_cost = cdist(
            [o.text for o in o_toks],
            [c.text for c in c_toks],
            scorer=Indel.normalized_distance,
            dtype=np.float64,
        )
        costs = lemma_cost + pos_cost + char_cost
        costs[same[..., 2]] = 0.0
        return costs.tolist()
