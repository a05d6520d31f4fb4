"""SEG: cut a model's layers in a window into at most ``N_i`` contiguous segments (spec 5.4).

Enumeration. Splitting ``L`` layers into exactly ``s`` non-empty contiguous segments means choosing
``s - 1`` of the ``L - 1`` gaps: ``C(L-1, s-1)`` ways, ``sum_{s<=N} C(L-1, s-1)`` for "at most N".
That is combinatorial (a 24-layer GPT-L window on 9 chiplets has ~1.3 million), so the enumeration
is bounded **[choice]**: for each ``s``, if ``C(L-1, s-1) <= limit`` every cut set is listed;
otherwise the candidates are the *balanced* cut sets -- cuts at the ``j/s`` quantiles of the
cumulative cost, for the expected latency and for the latency on each chiplet class of the MCM --
plus their local perturbations (each cut moved by up to ``radius`` layers, one cut at a time).

Heuristic 2 (node cap) lives in PROV: ``node_cap`` bounds ``N_i``.

Heuristic 1 (top-k). Every candidate is scored for its model *alone* and only the ``k`` best are
kept for the joint placement search. **[choice]** The score is the evaluator's vectorised
estimate for cut sets (:class:`~scar_gym.evaluator.CutSetEstimator`: the per-assignment model
with NoP hops taken as one and DRAM side-hops ignored), over all candidates at once, evaluated on *probe* class sequences: the distinct sequences of chiplet classes that simple
paths of ``s`` chiplets on the MCM can have (so on a heterogeneous MCM a cut set is judged by the
best dataflow pipeline it could get, not by an average). A candidate's score is its best probe's
objective. The final choice among the top-k is made by the real evaluator during the search.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from scar_gym.evaluator import CutSetEstimator, Evaluator, objective_value

Cuts = tuple[int, ...]  # absolute positions where a new segment starts (strictly inside (lo, hi))


def count_segmentations(num_layers: int, segments: int) -> int:
    """Ways to cut ``num_layers`` layers into exactly ``segments`` non-empty contiguous segments."""
    if segments < 1 or segments > num_layers:
        return 0
    return math.comb(num_layers - 1, segments - 1)


def count_segmentations_up_to(num_layers: int, max_segments: int) -> int:
    """Ways to cut into at most ``max_segments`` segments."""
    return sum(count_segmentations(num_layers, s) for s in range(1, max_segments + 1))


def enumerate_cuts(lo: int, hi: int, segments: int):
    """Every cut set splitting ``[lo, hi)`` into exactly ``segments`` segments (lexicographic)."""
    return itertools.combinations(range(lo + 1, hi), segments - 1)


def balanced_cuts(costs: np.ndarray, lo: int, segments: int) -> Cuts:
    """Cuts at the ``j/segments`` quantiles of the cumulative ``costs`` (one value per layer of the window).

    Each cut is placed at the gap whose prefix cost is nearest its target (the first such gap on
    a tie), subject to every segment keeping at least one layer.
    """
    return _balanced(cost_prefix(costs), lo, segments)


def cost_prefix(costs: np.ndarray) -> list[float]:
    """The prefix sums :func:`balanced_cuts` places cuts on: of ``costs`` clipped at 0, or of ones
    when they sum to nothing. A list, searched by bisection, and computed once per cost vector
    (:func:`candidate_cuts` places every segment count on it)."""
    prefix = np.concatenate([[0.0], np.cumsum(np.maximum(np.asarray(costs, dtype=np.float64), 0.0))])
    if prefix[-1] <= 0:
        prefix = np.arange(len(costs) + 1, dtype=np.float64)
    return prefix.tolist()


def _balanced(prefix: list[float], lo: int, segments: int) -> Cuts:
    # The prefix never decreases, so |prefix - target| falls then rises over the gaps (in floating
    # point too: rounding is monotone): the nearest gap is at the bisection point or just before
    # it, and on a tie the first one, as an argmin over all gaps would pick.
    n = len(prefix) - 1
    if segments <= 1:
        return ()
    total = prefix[-1]
    cuts: list[int] = []
    prev = 0
    for j in range(1, segments):
        lo_gap = prev + 1
        hi_gap = n - (segments - j)  # leave one layer for each remaining segment
        target = total * j / segments
        g = bisect_left(prefix, target, lo_gap, hi_gap + 1)
        if g > lo_gap and (g > hi_gap or abs(prefix[g - 1] - target) <= abs(prefix[g] - target)):
            g -= 1
            d = abs(prefix[g] - target)
            while g > lo_gap and abs(prefix[g - 1] - target) == d:
                g -= 1
        cuts.append(g)
        prev = g
    return tuple(lo + c for c in cuts)


def perturbations(cuts: Cuts, lo: int, hi: int, radius: int) -> list[Cuts]:
    """Cut sets obtained by moving one cut by ``1..radius`` layers either way (still valid)."""
    out = []
    for i, c in enumerate(cuts):
        left = cuts[i - 1] if i > 0 else lo
        right = cuts[i + 1] if i + 1 < len(cuts) else hi
        for d in range(1, radius + 1):
            for nc in (c - d, c + d):
                if left < nc < right:
                    out.append(cuts[:i] + (nc,) + cuts[i + 1:])
    return out


def candidate_cuts(lo: int, hi: int, max_segments: int, cost_vectors: Sequence[np.ndarray],
                   limit: int = 2000, radius: int = 2) -> dict[int, list[Cuts]]:
    """Candidate cut sets by segment count ``s = 1 .. min(max_segments, hi - lo)``.

    Exhaustive for an ``s`` with at most ``limit`` cut sets, else balanced cuts for each of
    ``cost_vectors`` (per-layer costs of the window) and their perturbations (see the module docstring).
    """
    n = hi - lo
    out: dict[int, list[Cuts]] = {}
    prefixes: list[list[float]] | None = None  # of the cost vectors, once some count needs them
    for s in range(1, min(max_segments, n) + 1):
        if count_segmentations(n, s) <= limit:
            out[s] = [tuple(c) for c in enumerate_cuts(lo, hi, s)]
            continue
        seen: dict[Cuts, None] = {}
        if prefixes is None:
            prefixes = [cost_prefix(costs) for costs in cost_vectors]
        for prefix in prefixes:
            base = _balanced(prefix, lo, s)
            seen.setdefault(base, None)
            for p in perturbations(base, lo, hi, radius):
                seen.setdefault(p, None)
        out[s] = list(seen)
    return out


# -- heuristic 1: scoring cut sets alone ----------------------------------------------------------

@dataclass(frozen=True)
class ScoredCuts:
    """A candidate segmentation with its heuristic-1 score (lower is better)."""

    cuts: Cuts
    score: float
    latency_s: float
    energy_j: float
    probe: tuple[int, ...]  # class sequence of the best probe

    @property
    def num_segments(self) -> int:
        return len(self.cuts) + 1


class SegmentScorer(CutSetEstimator):
    """Heuristic 1: scores cut sets of one model in one window alone (module docstring)."""

    def __init__(self, evaluator: Evaluator, model: int, lo: int, hi: int, objective: str | None = None):
        super().__init__(evaluator, model, lo, hi)
        self.objective = objective or evaluator.objective

    def score(self, cuts_by_s: dict[int, list[Cuts]], probes_by_s: dict[int, Sequence[Sequence[int]]]) -> list[ScoredCuts]:
        """Score every candidate on its best probe; returns all candidates sorted best first."""
        return self.rank(cuts_by_s, probes_by_s).all()

    def rank(self, cuts_by_s: dict[int, list[Cuts]], probes_by_s: dict[int, Sequence[Sequence[int]]]) -> "RankedCuts":
        """:meth:`score` without making a :class:`ScoredCuts` per candidate: SEG keeps a handful of
        the hundreds or thousands it scores, and making them all was a sixth of a pool's SEG."""
        cands: list[Cuts] = []
        parts: list[tuple[np.ndarray, ...]] = []
        probe_of: list[tuple[int, ...]] = []  # per candidate, its best probe
        counts = [s for s, cand in cuts_by_s.items() if cand and probes_by_s.get(s)]
        groups = [(np.array(cuts_by_s[s], dtype=np.int64).reshape(len(cuts_by_s[s]), s - 1),
                   np.array([tuple(p) for p in probes_by_s[s]], dtype=np.int64)) for s in counts]
        for s, (lat, en) in zip(counts, self.evaluate_groups(groups)):  # each (P, n); one call per few counts
            cand = cuts_by_s[s]
            probes = [tuple(p) for p in probes_by_s[s]]
            val = objective_value(self.objective, lat, en)
            best_p = np.argmin(val, axis=0)
            idx = np.arange(len(cand))
            parts.append((val[best_p, idx], lat[best_p, idx], en[best_p, idx], np.full(len(cand), s)))
            cands.extend(cand)
            probe_of.extend(probes[p] for p in best_p.tolist())
        if not cands:
            return RankedCuts([], [], np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), [])
        score, lat, en, segs = (np.concatenate(x) for x in zip(*parts))
        # Best first by (score, segments, cuts): numpy orders by the first two; the rare runs equal
        # in both (repeated identical blocks) are ordered by their cut sets, as a sort on all three.
        order = np.lexsort((segs, score)).tolist()
        sc_sorted, sg_sorted = score[order], segs[order]
        tie = np.flatnonzero((sc_sorted[1:] == sc_sorted[:-1]) & (sg_sorted[1:] == sg_sorted[:-1]))
        i = 0
        while i < len(tie):
            j = i
            while j + 1 < len(tie) and tie[j + 1] == tie[j] + 1:
                j += 1
            a, b = int(tie[i]), int(tie[j]) + 2
            order[a:b] = sorted(order[a:b], key=lambda k: cands[k])
            i = j + 1
        return RankedCuts(cands, order, score, lat, en, segs, probe_of)


class RankedCuts:
    """Scored cut sets, best first (:meth:`SegmentScorer.rank`); a :class:`ScoredCuts` is made only
    for the ones asked for.

    Args:
        cands, probe_of: per candidate (in scoring order), its cut set and best probe.
        order: the candidates' indices, best first.
        score, lat, en, segs: per candidate, its score, latency (s), energy (J) and segment count.
    """

    def __init__(self, cands: list[Cuts], order: list[int], score: np.ndarray, lat: np.ndarray, en: np.ndarray,
                 segs: np.ndarray, probe_of: list[tuple[int, ...]]):
        self._cands, self._order, self._probe_of = cands, order, probe_of
        self._score, self._lat, self._en, self._segs = score, lat, en, segs

    def __len__(self) -> int:
        return len(self._order)

    def _make(self, k: int) -> ScoredCuts:
        return ScoredCuts(self._cands[k], float(self._score[k]), float(self._lat[k]), float(self._en[k]),
                          self._probe_of[k])

    def all(self) -> list[ScoredCuts]:
        """Every candidate, best first."""
        score_l, lat_l, en_l = self._score.tolist(), self._lat.tolist(), self._en.tolist()
        return [ScoredCuts(self._cands[k], score_l[k], lat_l[k], en_l[k], self._probe_of[k]) for k in self._order]

    def top(self, k: int, max_segments: int) -> list[ScoredCuts]:
        """The ``k`` best of at most ``max_segments`` segments (heuristic 1)."""
        out: list[ScoredCuts] = []
        if k <= 0:
            return out
        segs = self._segs
        for i in self._order:
            if segs[i] <= max_segments:
                out.append(self._make(i))
                if len(out) == k:
                    break
        return out

    def best_per_segment_count(self) -> dict[int, ScoredCuts]:
        """The best candidate of every segment count, by count in order of first appearance."""
        if not self._order:
            return {}
        ranked_segs = self._segs[self._order]
        _, first = np.unique(ranked_segs, return_index=True)
        return {int(ranked_segs[p]): self._make(self._order[p]) for p in sorted(first.tolist())}


def top_k(scored: Sequence[ScoredCuts], k: int) -> list[ScoredCuts]:
    """The ``k`` best candidates (heuristic 1)."""
    return list(scored[:k])


def best_per_segment_count(scored: Sequence[ScoredCuts]) -> dict[int, ScoredCuts]:
    """The best candidate for every segment count (fallbacks when paths cannot be packed)."""
    best: dict[int, ScoredCuts] = {}
    for sc in scored:
        if sc.num_segments not in best:
            best[sc.num_segments] = sc
    return best
