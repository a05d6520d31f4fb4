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
kept for the joint placement search. **[choice]** The score is an analytic replica of the
evaluator's per-assignment model (:meth:`Evaluator._compute <scar_gym.evaluator.Evaluator>`:
compute from the cost tables at the mini-batch the memory rule picks, weight streaming when a
segment's weights do not fit, the pipeline formula, NoP transfers across cuts at one hop, window
DRAM traffic and weight loads; DRAM side-hops and multi-hop skip connections are ignored, and a
tensor is counted once per reading layer rather than per reading segment), vectorised over all
candidates (``tests/test_scar_seg.py`` checks it equals the evaluator on a chain model),
and evaluated on *probe* class sequences: the distinct sequences of chiplet classes that simple
paths of ``s`` chiplets on the MCM can have (so on a heterogeneous MCM a cut set is judged by the
best dataflow pipeline it could get, not by an average). A candidate's score is its best probe's
objective. The final choice among the top-k is made by the real evaluator during the search.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from scar_gym.evaluator import Evaluator, objective_value

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

    Each cut is placed at the gap whose prefix cost is nearest its target, subject to every
    segment keeping at least one layer.
    """
    n = len(costs)
    if segments <= 1:
        return ()
    prefix = np.concatenate([[0.0], np.cumsum(np.maximum(np.asarray(costs, dtype=np.float64), 0.0))])
    total = prefix[-1]
    if total <= 0:
        prefix = np.arange(n + 1, dtype=np.float64)
        total = float(n)
    cuts: list[int] = []
    prev = 0
    for j in range(1, segments):
        lo_gap = prev + 1
        hi_gap = n - (segments - j)  # leave one layer for each remaining segment
        target = total * j / segments
        gaps = np.arange(lo_gap, hi_gap + 1)
        g = int(gaps[np.argmin(np.abs(prefix[gaps] - target))])
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
    for s in range(1, min(max_segments, n) + 1):
        if count_segmentations(n, s) <= limit:
            out[s] = [tuple(c) for c in enumerate_cuts(lo, hi, s)]
            continue
        seen: dict[Cuts, None] = {}
        for costs in cost_vectors:
            base = balanced_cuts(costs, lo, s)
            seen.setdefault(base, None)
            for p in perturbations(base, lo, hi, radius):
                seen.setdefault(p, None)
        out[s] = list(seen)
    return out


# -- heuristic 1: scoring cut sets alone ----------------------------------------------------------

class _SparseMax:
    """Range-maximum queries in O(1), vectorised (sparse table)."""

    def __init__(self, values: np.ndarray):
        v = np.asarray(values, dtype=np.float64)
        self.levels = [v]
        k = 1
        while 2 * k <= len(v):
            prev = self.levels[-1]
            self.levels.append(np.maximum(prev[:-k], prev[k:]))
            k *= 2

    def query(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """max(values[a:b]) elementwise, ``b > a``."""
        length = b - a
        k = np.floor(np.log2(length)).astype(np.int64)
        out = np.empty(a.shape, dtype=np.float64)
        for lvl in np.unique(k):
            sel = k == lvl
            table = self.levels[lvl]
            out[sel] = np.maximum(table[a[sel]], table[b[sel] - (1 << lvl)])
        return out


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


class SegmentScorer:
    """Scores cut sets of one model in one window with the analytic replica (module docstring)."""

    def __init__(self, evaluator: Evaluator, model: int, lo: int, hi: int, objective: str | None = None):
        self.ev = evaluator
        self.model = model
        self.lo, self.hi = lo, hi
        self.objective = objective or evaluator.objective
        table = evaluator.tables[model]
        m = evaluator.models[model]
        pkg = evaluator.mcm.package
        self.pkg = pkg
        self.batch = evaluator.batches[model]
        self.batches = np.array(table.batches, dtype=np.int64)
        self.cum_l = table.cum_latency_s  # (D, B, L+1)
        self.cum_e = table.cum_energy_j
        self.cum_w = table.cum_weight_bytes
        self.l2 = np.array([c.l2_bytes for c in evaluator.mcm.classes], dtype=np.float64)
        self.peak = _SparseMax(table.footprint_bytes)
        self.layer_w = _SparseMax(table.weight_bytes)
        out_bytes = table.output_bytes
        edges = m.edges
        L = m.num_layers
        # NoP bytes crossing each gap p of the window: tensors made in [lo, p) and read in [p, hi).
        last_in = np.full(L, -1, dtype=np.int64)
        inside = (edges[:, 0] >= lo) & (edges[:, 1] < hi) if len(edges) else np.zeros(0, bool)
        if np.any(inside):
            np.maximum.at(last_in, edges[inside, 0], edges[inside, 1])
        diff = np.zeros(L + 2)
        for src in range(lo, hi):
            if last_in[src] > src:
                diff[src + 1] += out_bytes[src]
                diff[last_in[src] + 1] -= out_bytes[src]
        self.cross = np.cumsum(diff)[: L + 1]  # cross[p] for a cut at p
        # DRAM traffic per layer (reads from earlier windows / model input, writes to later ones).
        io_bytes = np.zeros(L)
        io_count = np.zeros(L)
        ext = (edges[:, 0] < lo) & (edges[:, 1] >= lo) & (edges[:, 1] < hi) if len(edges) else np.zeros(0, bool)
        if np.any(ext):
            np.add.at(io_bytes, edges[ext, 1], out_bytes[edges[ext, 0]])
            np.add.at(io_count, edges[ext, 1], 1)
        srcs = m.sources[(m.sources >= lo) & (m.sources < hi)]
        np.add.at(io_bytes, srcs, table.input_bytes[srcs])
        np.add.at(io_count, srcs, 1)
        last = np.full(L, -1, dtype=np.int64)
        if len(edges):
            np.maximum.at(last, edges[:, 0], edges[:, 1])
        last[m.sinks] = L
        wr = np.arange(lo, hi)[last[lo:hi] >= hi]
        np.add.at(io_bytes, wr, out_bytes[wr])
        np.add.at(io_count, wr, 1)
        self.cum_io = np.concatenate([[0.0], np.cumsum(io_bytes)])
        self.cum_io_n = np.concatenate([[0.0], np.cumsum(io_count)])
        self.dram_io_j = float(self.cum_io[hi] - self.cum_io[lo]) * self.batch * 8 * pkg.dram_energy_j_per_bit

    def evaluate(self, cuts: np.ndarray, classes: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(latency_s, energy_j) of each cut set (rows of ``cuts``, shape (n, s-1)) on class sequences.

        ``classes`` is one sequence (s,) -- results have shape (n,) -- or several (P, s) -- results
        have shape (P, n).
        """
        pkg = self.pkg
        cls = np.asarray(classes, dtype=np.int64)
        single = cls.ndim == 1
        cls = cls.reshape(-1, cls.shape[-1])  # (P, s)
        n = cuts.shape[0]
        s = cuts.shape[1] + 1
        starts = np.concatenate([np.full((n, 1), self.lo), cuts], axis=1).astype(np.int64)
        stops = np.concatenate([cuts, np.full((n, 1), self.hi)], axis=1).astype(np.int64)
        # Probe-independent parts.
        w = self.cum_w[stops] - self.cum_w[starts]  # (n, s)
        peak = self.peak.query(starts.ravel(), stops.ravel()).reshape(n, s)
        w_max = self.layer_w.query(starts.ravel(), stops.ravel()).reshape(n, s)
        cross = self.cross[cuts] if s > 1 else np.zeros((n, 0))
        io_b = self.cum_io[stops] - self.cum_io[starts]
        io_n = self.cum_io_n[stops] - self.cum_io_n[starts]
        nop_e = cross.sum(axis=1) * 8 * self.batch * pkg.nop_energy_j_per_bit
        # Per (probe, cut set, segment): does the segment stream its weights (they do not fit the
        # chiplet's L2 beside one sample), and the mini-batch the memory rule allows.
        mem = self.l2[cls][:, None, :]  # (P, 1, s)
        stream = (w + peak)[None] > mem  # (P, n, s)
        room = mem - np.where(stream, w_max[None], w[None])
        with np.errstate(divide="ignore", invalid="ignore"):
            cap = np.min(np.where(room > 0, np.floor(room / peak[None]), 0.0), axis=2)
        bi = np.maximum(np.searchsorted(self.batches, cap, side="right") - 1, 0)  # (P, n)
        mb = self.batches[bi]
        reps = self.batch // mb
        cl = cls[:, None, :]
        bcol = bi[:, :, None]
        stage = self.cum_l[cl, bcol, stops[None]] - self.cum_l[cl, bcol, starts[None]]  # (P, n, s)
        comp_e = np.sum(self.cum_e[cl, bcol, stops[None]] - self.cum_e[cl, bcol, starts[None]], axis=2) * reps
        w_load = w / pkg.dram_bandwidth_bytes_per_s + pkg.dram_latency_s  # (n, s)
        stage += np.where(stream, w_load[None], 0.0)
        stage[:, :, 1:] += cross[None] * mb[:, :, None] / pkg.nop_bandwidth_bytes_per_s + pkg.nop_hop_latency_s
        stage += io_b[None] * mb[:, :, None] / pkg.dram_bandwidth_bytes_per_s + io_n[None] * pkg.dram_latency_s
        load = np.where(~stream & (w[None] > 0), w_load[None], 0.0).max(axis=2)  # (P, n)
        latency = load + stage.sum(axis=2) + (reps - 1) * stage.max(axis=2)
        w_read = np.where(stream, w[None] * reps[:, :, None], w[None]).sum(axis=2)
        energy = comp_e + nop_e[None] + self.dram_io_j + w_read * 8 * pkg.dram_energy_j_per_bit
        if single:
            return latency[0], energy[0]
        return latency, energy

    def score(self, cuts_by_s: dict[int, list[Cuts]], probes_by_s: dict[int, Sequence[Sequence[int]]]) -> list[ScoredCuts]:
        """Score every candidate on its best probe; returns all candidates sorted best first."""
        out: list[ScoredCuts] = []
        for s, cand in cuts_by_s.items():
            if not cand or not probes_by_s.get(s):
                continue
            arr = np.array(cand, dtype=np.int64).reshape(len(cand), s - 1)
            probes = [tuple(p) for p in probes_by_s[s]]
            lat, en = self.evaluate(arr, np.array(probes, dtype=np.int64))  # (P, n)
            val = objective_value(self.objective, lat, en)
            best_p = np.argmin(val, axis=0)
            idx = np.arange(len(cand))
            best, best_l, best_e = val[best_p, idx], lat[best_p, idx], en[best_p, idx]
            out.extend(ScoredCuts(c, float(v), float(lt), float(e), probes[p])
                       for c, v, lt, e, p in zip(cand, best.tolist(), best_l.tolist(), best_e.tolist(),
                                                 best_p.tolist()))
        out.sort(key=lambda x: (x.score, x.num_segments, x.cuts))
        return out


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
