"""The MaxMatch edit lattice: which phrase-level edits turn a source sentence into a hypothesis.

Dahlmeier & Ng (2012) extract the system's edits as the path through an edit lattice that agrees with the
most gold edits. This module builds that lattice and finds the path with the same figures as the official
scorer, tie-breaking included, in either of its two versions (``compat``, see below):

1. Two Levenshtein lattices over tokens -- substitution cost 1 and substitution cost 2, insertion and
   deletion cost 1 -- each keeping every optimal backpointer and only the vertices reached backwards from
   the end. Their union is the base graph; an edge present in both lattices is kept twice (the official
   scorer concatenates the two edge lists), which matters below.
2. Transitive arcs: consecutive edits merge into one arc when the merged edit spans at most
   ``max_unchanged_words`` unchanged tokens; an arc keeps the fewest base edges found for its end points.
   Pure-unchanged arcs longer than one token are then dropped.
3. Weights: an arc that matches a gold edit weighs ``-len(E)``; every other changing arc weighs its length
   plus ``EPSILON`` per occurrence in the edge list.
4. The shortest path, relaxed Bellman-Ford style in edge-list order with strict ``<``; its changing arcs are
   the system's edits.

Release 3.2 and the GitHub master
---------------------------------
The two differ in one line, the initialisation of the Levenshtein matrix's first row (master commit
d12eea2, April 2016, "edits the initialization of L-matrix"). The first row holds the insertions made
before the first source token. Release 3.2 records the step from hypothesis position ``j - 1`` to ``j``
there as an insertion at source offsets ``(j - 1, j - 1)`` -- the hypothesis index, not the source one --
while master records ``(0, 0)``. Arcs merged from these steps take the start offset of their first step
and the end offset of their last, so under 3.2 an arc that starts with the ``a``-th leading insertion
starts at offset ``a``, and an arc ending in the first row at hypothesis position ``b`` ends at ``b - 1``.
Hence under 3.2 a gold insertion of two or more tokens at the start of a sentence is never matched (the
arc reads ``(0, 1)``, the gold ``(0, 0)``), and a leading insertion can take the gold edit meant for an
insertion after the first token. Which merged path an arc records is the first strictly shortest one the
closure finds; we follow the same order, so we keep its start offset along with its length.
``COMPAT_MASTER`` gives master's offsets (every arc's offsets are its rows in the lattice).

Where the official scorer's time goes, and why ours is bounded
--------------------------------------------------------------
The official closure is Floyd-Warshall over all vertex triples (``for k, for i, for j`` over V, a dict
lookup each), so O(V^3) even when the graph is sparse, and its Bellman-Ford runs ``V - 1`` full passes over
the edges, O(V * E) per annotator. A hypothesis unrelated to its source (an output shifted by a line, as in
some of NTHU's) makes every monotone path optimal: V grows to n*m and E to ~V^2/4 arcs, so a single long
sentence stalls the official scorer.

Vertices sorted lexicographically are a topological order, and in step ``k`` the closure only adds arcs
``(i, j)`` with ``i < k < j``. Hence, when ``k`` is processed, the arcs leaving it are still its one to
three base edges: step ``k`` extends every arc that reaches ``k`` by one base edge. That is O(arcs) work
in total, visiting the pairs in the same order as the official loops (so the edge list, and with it every
tie, is the same). Bellman-Ford stops at the first pass without an update -- later passes would repeat it
unchanged -- which on these graphs is after a handful of passes, not ``V - 1``. Weights are computed once
per sentence; per annotator only the arcs whose source span carries a gold edit are re-weighted.
All of this is exact: same arcs, same edge order, same float sums as the official scorer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The official scorer's tie-breaker: a non-matching edit costs a little more than a run of unchanged words.
EPSILON = 0.001
# The official scorer's two versions (module docstring): release 3.2, which the CoNLL-2014 figures were
# computed with, and the GitHub master.
COMPAT_3_2 = "3.2"
COMPAT_MASTER = "master"
COMPATS = (COMPAT_3_2, COMPAT_MASTER)
INF = float("inf")

# (start, end, original, corrections) -- token offsets in the source, as in an M2 "A" line.
GoldEdit = tuple[int, int, str, tuple[str, ...]]
# (start, end, original, correction) of one system edit.
SystemEdit = tuple[int, int, str, str]


@dataclass(frozen=True)
class EditGraph:
    """The lattice of one (source, hypothesis) pair with its transitive arcs, ready to be weighted.

    Vertices are ``i * (m + 1) + j`` for source position ``i`` and hypothesis position ``j`` (so integer
    order is the official tuple order); an arc ``(v, w)`` is keyed ``v * nv + w``.
    """

    source: tuple[str, ...]
    hypothesis: tuple[str, ...]
    vertices: tuple[int, ...]
    edge_list: tuple[int, ...]  # arc keys in the official edge-list order, duplicates included
    length: dict[int, int]  # arc key -> number of base edges it spans
    unchanged: dict[int, int]  # arc key -> unchanged tokens it spans
    default_weight: dict[int, float]  # arc key -> weight when it matches no gold edit
    # (start, end) source offsets of the arc's edit -> sorted arc keys, duplicates kept
    by_span: dict[tuple[int, int], list[int]]
    # arc key -> (start, end) source offsets where they are not the arc's rows (release 3.2 only)
    offsets: dict[int, tuple[int, int]]

    @property
    def width(self) -> int:
        return len(self.hypothesis) + 1

    @property
    def num_vertices_total(self) -> int:
        return (len(self.source) + 1) * self.width

    def arc_edit(self, key: int) -> tuple[str, SystemEdit]:
        """The (type, edit) an arc stands for: type is one of ins, del, sub, noop."""
        nv = self.num_vertices_total
        v, w = divmod(key, nv)
        i1, j1 = divmod(v, self.width)
        i2, j2 = divmod(w, self.width)
        original = " ".join(self.source[i1:i2])
        correction = " ".join(self.hypothesis[j1:j2])
        if i1 == i2:
            kind = "ins"
        elif j1 == j2:
            kind = "del"
        elif self.unchanged[key] == self.length[key]:
            kind = "noop"
        else:
            kind = "sub"
        start, end = self.offsets.get(key, (i1, i2))
        return kind, (start, end, original, correction)


def _distance_rows(
    source: Sequence[str], hypothesis: Sequence[str]
) -> tuple[list[list[int]], list[list[int]]]:
    """Levenshtein distance matrices with substitution cost 1 and 2 (insertion, deletion cost 1)."""
    width = len(hypothesis) + 1
    prev1 = list(range(width))
    prev2 = list(range(width))
    rows1, rows2 = [prev1], [prev2]
    for i, tok in enumerate(source, start=1):
        row1 = [i] * width
        row2 = [i] * width
        left1 = left2 = i
        for j, other in enumerate(hypothesis, start=1):
            if tok == other:
                diag1 = prev1[j - 1]
                diag2 = prev2[j - 1]
            else:
                diag1 = prev1[j - 1] + 1
                diag2 = prev2[j - 1] + 2
            # min() of three, spelled out: this loop is the scorer's hottest
            up = prev1[j] + 1
            left1 += 1
            if up < left1:
                left1 = up
            if diag1 < left1:
                left1 = diag1
            up = prev2[j] + 1
            left2 += 1
            if up < left2:
                left2 = up
            if diag2 < left2:
                left2 = diag2
            row1[j] = left1
            row2[j] = left2
        rows1.append(row1)
        rows2.append(row2)
        prev1, prev2 = row1, row2
    return rows1, rows2


def _lattice(
    source: Sequence[str], hypothesis: Sequence[str], rows: list[list[int]], sub_cost: int
) -> tuple[set[int], list[int]]:
    """Vertices and edges (arc keys) of one Levenshtein lattice, reached backwards from the end."""
    n, m = len(source), len(hypothesis)
    width = m + 1
    nv = (n + 1) * width
    end = n * width + m
    seen = {end}
    stack = [end]
    edges = []
    while stack:
        v = stack.pop()
        i, j = divmod(v, width)
        d = rows[i][j]
        preds = []
        if i and j:
            cost = 0 if source[i - 1] == hypothesis[j - 1] else sub_cost
            if rows[i - 1][j - 1] + cost == d:
                preds.append(v - width - 1)
        if i and rows[i - 1][j] + 1 == d:
            preds.append(v - width)
        if j and rows[i][j - 1] + 1 == d:
            preds.append(v - 1)
        for u in preds:
            edges.append(u * nv + v)
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return seen, edges


def build_edit_graph(
    source: Sequence[str], hypothesis: Sequence[str], max_unchanged_words: int = 2, compat: str = COMPAT_3_2
) -> EditGraph:
    """Build the lattice of ``source`` -> ``hypothesis`` (token lists) with its transitive arcs.

    ``compat`` is the official version whose edit offsets to reproduce: ``"3.2"`` or ``"master"``.

    Raises:
        ValueError: ``compat`` is neither.
    """
    if compat not in COMPATS:
        raise ValueError(f"compat must be one of {', '.join(COMPATS)}, not {compat!r}")
    source = tuple(source)
    hypothesis = tuple(hypothesis)
    width = len(hypothesis) + 1
    nv = (len(source) + 1) * width
    rows1, rows2 = _distance_rows(source, hypothesis)
    v1, e1 = _lattice(source, hypothesis, rows1, 1)
    v2, e2 = _lattice(source, hypothesis, rows2, 2)
    vertices = sorted(v1 | v2)
    edge_list = sorted(e1 + e2)

    release_3_2 = compat == COMPAT_3_2
    length: dict[int, int] = {}
    unchanged: dict[int, int] = {}
    # Release 3.2: start offset of the arcs leaving the first row after a leading insertion (vertex 1..m);
    # a step along that row starts at its hypothesis index, any other step at 0.
    row_start: dict[int, int] = {}
    successors: dict[int, list[int]] = {v: [] for v in vertices}
    predecessors: dict[int, list[int]] = {v: [] for v in vertices}
    for key in edge_list:
        if key in length:
            continue
        v, w = divmod(key, nv)
        length[key] = 1
        # a diagonal step between equal tokens is an unchanged word
        diagonal = w - v == width + 1
        unchanged[key] = 1 if diagonal and source[v // width] == hypothesis[v % width] else 0
        if release_3_2 and 0 < v < width:
            row_start[key] = v if w == v + 1 else 0
        successors[v].append(w)
        predecessors[w].append(v)

    # Transitive closure; see the module docstring for why one base edge per step suffices.
    appended = []
    for k in vertices:
        succ = sorted(successors[k])
        if not succ:
            continue
        preds = predecessors[k]
        preds.sort()
        for i in preds:
            ik = i * nv + k
            d_ik = length[ik]
            u_ik = unchanged[ik]
            base = i * nv
            for j in succ:
                kj = k * nv + j
                d = d_ik + 1
                ij = base + j
                old = length.get(ij)
                if old is not None and d >= old:
                    continue
                u = u_ik + unchanged[kj]
                if u > max_unchanged_words:
                    continue
                if old is None:
                    predecessors[j].append(i)
                length[ij] = d
                unchanged[ij] = u
                if ik in row_start:
                    row_start[ij] = row_start[ik]
                appended.append(ij)

    # Drop unchanged-only transitive arcs. The official loop removes from the list it iterates over, so
    # the element right after each removed one is never examined and stays; we keep that behaviour since
    # the survivors count in len(E) and take part in ties.
    edges = edge_list + appended
    kept = []
    pos = 0
    total = len(edges)
    while pos < total:
        key = edges[pos]
        d = length[key]
        if d > 1 and unchanged[key] == d:
            del length[key]
            del unchanged[key]
            if pos + 1 < total:
                kept.append(edges[pos + 1])
            pos += 2
        else:
            kept.append(key)
            pos += 1

    default_weight: dict[int, float] = {}
    by_span: dict[tuple[int, int], list[int]] = {}
    offsets: dict[int, tuple[int, int]] = {}
    for key in kept:
        d = length[key]
        w = default_weight.get(key)
        if w is None:
            w = d
        if unchanged[key] != d:  # every changing arc gets EPSILON once per occurrence in the list
            w += EPSILON
        default_weight[key] = w
        v, wv = divmod(key, nv)
        span = (v // width, wv // width)
        if release_3_2 and v < width:
            # an arc ending in the first row (at hypothesis position wv >= 1) ends at wv - 1
            span = (row_start.get(key, 0), wv - 1 if wv < width else span[1])
            offsets[key] = span
        lst = by_span.get(span)
        if lst is None:
            by_span[span] = [key]
        else:
            lst.append(key)
    for lst in by_span.values():
        lst.sort()
    return EditGraph(
        source=source,
        hypothesis=hypothesis,
        vertices=tuple(vertices),
        edge_list=tuple(kept),
        length=length,
        unchanged=unchanged,
        default_weight=default_weight,
        by_span=by_span,
        offsets=offsets,
    )


def _matches(graph: EditGraph, key: int, gold: GoldEdit) -> bool:
    _, (start, end, original, correction) = graph.arc_edit(key)
    return start == gold[0] and end == gold[1] and original == gold[2] and correction in gold[3]


def gold_weights(graph: EditGraph, gold_edits: Sequence[GoldEdit]) -> dict[int, float]:
    """Arc weights for one annotator: the default weights, re-done on the spans the gold edits touch.

    Follows the official ``set_weights``: a match weighs ``-len(E)``; insertions at one offset are matched
    from both ends towards the middle so that each gold insertion is used once and in order.
    """
    by_gold_span: dict[tuple[int, int], list[GoldEdit]] = {}
    for g in gold_edits:
        by_gold_span.setdefault((g[0], g[1]), []).append(g)
    weights = dict(graph.default_weight)
    matched = -len(graph.edge_list)
    for span, golds in by_gold_span.items():
        arcs = graph.by_span.get(span)
        if not arcs:
            continue
        for key in arcs:  # start again from the unweighted length, as the official scorer does
            weights[key] = graph.length[key]
        if span[0] != span[1]:
            for key in arcs:
                if any(_matches(graph, key, g) for g in golds):
                    weights[key] = matched
                elif graph.unchanged[key] != graph.length[key]:
                    weights[key] += EPSILON
            continue
        nv = graph.num_vertices_total
        lptr, rptr = 0, len(arcs) - 1
        cur = lptr
        g_lptr, g_rptr = 0, len(golds) - 1
        while lptr <= rptr:
            key = arcs[cur]
            from_left = cur == lptr
            order = range(g_lptr, g_rptr + 1) if from_left else reversed(range(g_lptr, g_rptr + 1))
            hit = None
            for gi in order:
                if _matches(graph, key, golds[gi]):
                    hit = gi
                    break
            if hit is None:
                weights[key] += EPSILON  # insertions are never unchanged words
                if from_left:
                    lptr += 1
                    cur = rptr
                else:
                    rptr -= 1
                    cur = lptr
                continue
            weights[key] = matched
            if from_left:
                g_lptr = hit + 1
                lptr += 1
                # skip the arcs that do not continue from the matched one, penalising them
                while lptr < len(arcs) and arcs[lptr] // nv != arcs[cur] % nv:
                    weights[arcs[lptr]] += EPSILON
                    lptr += 1
                cur = lptr
            else:
                g_rptr = hit - 1
                rptr -= 1
                while rptr >= 0 and arcs[rptr] % nv != arcs[cur] // nv:
                    weights[arcs[rptr]] += EPSILON
                    rptr -= 1
                cur = rptr
    return weights


def best_edit_sequence(graph: EditGraph, gold_edits: Sequence[GoldEdit]) -> list[SystemEdit]:
    """The system's edits, left to right, on the path that agrees best with ``gold_edits``."""
    weights = gold_weights(graph, gold_edits)
    nv = graph.num_vertices_total
    arcs = [(key // nv, key % nv, weights[key]) for key in graph.edge_list]
    dist = dict.fromkeys(graph.vertices, INF)
    dist[0] = 0
    back: dict[int, int] = {}
    for _ in range(len(graph.vertices) - 1):
        changed = False
        for v, w, weight in arcs:
            d = dist[v] + weight
            if d < dist[w]:
                dist[w] = d
                back[w] = v
                changed = True
        if not changed:
            break
    edits = []
    w = graph.vertices[-1]
    while w in back:
        v = back[w]
        kind, edit = graph.arc_edit(v * nv + w)
        if kind != "noop":
            edits.append(edit)
        w = v
    edits.reverse()
    return edits


def count_matches(system_edits: Sequence[SystemEdit], gold_edits: Sequence[GoldEdit]) -> list[SystemEdit]:
    """System edits that match a gold edit, scanning the gold list once from left to right.

    As in the official scorer, the scan does not stop at the first match: a system edit that equals two
    identical gold edits counts twice.
    """
    correct = []
    last = 0
    for e in system_edits:
        for i in range(last, len(gold_edits)):
            g = gold_edits[i]
            if e[0] == g[0] and e[1] == g[1] and e[2] == g[2] and e[3] in g[3]:
                correct.append(e)
                last = i + 1
    return correct
