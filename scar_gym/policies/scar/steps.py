"""SCAR's per-(window, model) steps -- PROV's allocation and SEG with heuristic 1 -- as one engine.

Two callers run these steps: the SCAR policy (:mod:`.policy`) and ``ScarGym/Window-v0``'s candidate
pools (:mod:`scar_gym.envs.candidates`), whose promise is "candidates from SCAR's engines". Both
call :class:`WindowSteps`, so the two cannot drift apart; what differs is only what they ask:

* SCAR asks SEG for at most ``N_i`` segments (PROV's allocation) and searches the top-``k`` plus
  the fallbacks;
* the env asks for up to ``N_max`` segments (as many as the model could get while every other
  model keeps one chiplet), keeps SCAR's top-``k`` among the cut sets of at most ``N_i`` segments
  and the fallbacks, and lets an agent choose.

Each caller passes its own per-layer expected costs (SCAR its :func:`expected_layer_costs`, the env
the differences of its cached prefix sums): the two are equal up to rounding, and rounding can move
a balanced cut, so each keeps its own numbers (results stay bit-identical to before this module).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scar_gym.evaluator import Evaluator
from scar_gym.hardware import MCM
from scar_gym.policies.scar.prov import expected_objective, provision
from scar_gym.policies.scar.sched import probe_class_sequences
from scar_gym.policies.scar.seg import Cuts, RankedCuts, ScoredCuts, SegmentScorer, candidate_cuts

#: MCMs with more chiplets than this are *large*: the DFS samples behind probes (and the env's paths)
#: are capped per root there, and SCAR's ``search="auto"`` switches to the evolutionary search.
LARGE_MCM_CHIPLETS = 16
#: DFS paths per root chiplet sampled for heuristic 1's probe class sequences, on small / large MCMs.
PROBE_PATHS_PER_ROOT = 200
PROBE_PATHS_PER_ROOT_LARGE = 20
#: PROV's ``P`` options (``objective``: the objective of the expected totals, the paper's rule).
PROV_METRICS = ("objective", "latency", "energy", "geomean")


def is_large(mcm: MCM) -> bool:
    return mcm.num_chiplets > LARGE_MCM_CHIPLETS


def prov_weight(metric: str, objective: str, e_latency_s: float, e_energy_j: float) -> float:
    """PROV's ``P`` of one model in one window from its expected latency and energy there."""
    if metric == "objective":
        return expected_objective(objective, e_latency_s, e_energy_j)
    if metric == "geomean":
        return float(np.sqrt(e_latency_s * e_energy_j))
    return expected_objective(metric, e_latency_s, e_energy_j)


def allocation_caps(ranges: Sequence[tuple[int, int]], num_chiplets: int, node_cap: int | None = None) -> list[int]:
    """Per model ``(lo, hi)`` of a window: the most chiplets PROV may give it (its layers there, at
    most ``node_cap``, at most the MCM)."""
    return [min(hi - lo, node_cap or num_chiplets) for lo, hi in ranges]


@dataclass(frozen=True)
class SegChoice:
    """SEG's answer for one model in one window: every scored cut set (best first), heuristic 1's
    top-``k`` among those of at most ``N_i`` segments, and the best cut set of every segment count."""

    ranked: RankedCuts
    top: tuple[ScoredCuts, ...]
    fallbacks: dict[int, ScoredCuts]

    @property
    def scored(self) -> tuple[ScoredCuts, ...]:
        """Every scored cut set, best first (made on demand: SEG itself reads only ``top`` and
        ``fallbacks``)."""
        return tuple(self.ranked.all())

    def fallback_cuts(self) -> tuple[Cuts, ...]:
        """The fallbacks' cut sets, by segment count."""
        return tuple(self.fallbacks[s].cuts for s in sorted(self.fallbacks))


class WindowSteps:
    """PROV and SEG for one scenario (``evaluator``) on its MCM; caches what both callers reuse.

    Args:
        evaluator: the shared evaluator (cost tables; heuristic 1 scores with its estimator).
        objective: what "best" means (``edp``, ``latency``, ``energy``).
        k: heuristic 1's top-``k``.
        seg_limit, seg_radius: SEG's enumeration bound and perturbation radius (:func:`candidate_cuts`).
        max_probes: class sequences a cut set is scored on.
    """

    def __init__(self, evaluator: Evaluator, objective: str, k: int, seg_limit: int, seg_radius: int,
                 max_probes: int):
        self.ev = evaluator
        self.mcm = evaluator.mcm
        self.objective = objective
        self.k = k
        self.seg_limit = seg_limit
        self.seg_radius = seg_radius
        self.max_probes = max_probes
        self._probes: dict[int, list] = {}
        # Per-class latency of every layer at the full batch (cost vectors for balanced cuts).
        self.class_lat = [t.latency_s[:, t.batch_index(b), :] for t, b in zip(evaluator.tables, evaluator.batches)]

    def probes(self, s: int) -> list:
        """Heuristic 1's probe class sequences of ``s`` chiplets (cached)."""
        if s not in self._probes:
            per_root = PROBE_PATHS_PER_ROOT_LARGE if is_large(self.mcm) else PROBE_PATHS_PER_ROOT
            self._probes[s] = probe_class_sequences(self.mcm, s, self.max_probes, limit_per_root=per_root)
        return self._probes[s]

    def allocation(self, weights: Sequence[float], caps: Sequence[int]) -> tuple[int, ...]:
        """PROV's rounding rule: chiplets per model proportional to ``weights`` within ``caps``."""
        return provision(weights, self.mcm.num_chiplets, caps)

    def seg(self, m: int, lo: int, hi: int, max_segments: int, n_i: int,
            expected_latency: np.ndarray) -> SegChoice:
        """SEG for model ``m``'s layers ``[lo, hi)``: candidate cut sets of up to ``max_segments``
        segments (balanced on ``expected_latency``, the window's per-layer expected latencies, and on
        each chiplet class's latencies), scored alone on the probes (heuristic 1)."""
        vectors = [expected_latency] + [row[lo:hi] for row in self.class_lat[m]]
        cuts = candidate_cuts(lo, hi, max_segments, vectors, self.seg_limit, self.seg_radius)
        scorer = SegmentScorer(self.ev, m, lo, hi, self.objective)
        ranked = scorer.rank(cuts, {s: self.probes(s) for s in cuts})
        return SegChoice(ranked, tuple(ranked.top(self.k, n_i)), ranked.best_per_segment_count())
