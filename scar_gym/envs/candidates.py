"""Per (window, model) candidate pipelines for ``ScarGym/Window-v0``, from SCAR's engines.

PROV and SEG are SCAR's own code path (:class:`~scar_gym.policies.scar.steps.WindowSteps`, which the
SCAR policy calls too). For a model ``m`` with layers ``[lo, hi)`` in a window of ``n`` models on
``C`` chiplets:

1. **Cut sets** (SEG): candidate cut sets of up to
   ``N_max = min(hi - lo, C - n + 1, max(N_i, max_segments))`` segments (the most the model can get
   while every other model keeps one chiplet; ``max_segments`` = 12 on large MCMs -- more than
   :data:`~scar_gym.policies.scar.steps.LARGE_MCM_CHIPLETS` chiplets -- unbounded otherwise), scored
   alone on the MCM's probe class sequences (heuristic 1). Kept: SCAR's top-``k`` among cut sets of
   at most ``N_i`` segments (``N_i`` from PROV's rounding rule, as SCAR does), the best cut set of
   every segment count ``1 .. N_max`` (SCAR's fallbacks), and the single segment ``()``.
2. **Paths** (SCHED): every simple path of the cut set's length over the chiplet graph, in SCAR's
   DFS order (roots ascending; on large MCMs at most ``limit_per_root`` = 2 paths per root, so a
   pool stays in the low thousands: every root still appears, and SCAR's own choice is always
   offered separately by Window-v0's anchor).
3. Each (cut set, path) is scored by the shared evaluator (memoised; paths with the same
   :func:`~scar_gym.policies.scar.sched.path_signature` share one evaluation). Candidates are
   sorted by the model's own objective in the window (best first; ties by segments, cuts, path)
   and at most ``per_signature`` candidates are kept per (cut set, signature) group: equivalent
   placements differ only in where they sit, which matters for the models still to come.

The pool always holds every single-chiplet placement (cut set ``()`` on each chiplet), which is
what makes Window-v0's mask non-empty.

**Relocations** (:meth:`CandidatePools.relocated`, Window-v0's ``relocate``): the pool is built for an
empty MCM, so once earlier models of the window hold chiplets, most multi-segment placements are
blocked and only short paths remain. A relocation keeps a blocked candidate's segmentation and
chiplet classes and moves each segment whose chiplet is taken onto a free chiplet of the same class,
the one fewest hops from its pipeline neighbours. The result need not be a mesh path: it pays the
extra hops in the cost model, as the search policies' placements do (:mod:`scar_gym.policies.search.genome`).
Without them a window whose heavy model takes most chiplets (PROV's proportional share) can only be
rebalanced onto single chiplets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from scar_gym.evaluator import Evaluator, objective_value
from scar_gym.hardware import DATAFLOWS
from scar_gym.policies.scar.sched import mask_of, path_signature, simple_paths
from scar_gym.policies.scar.steps import WindowSteps, allocation_caps, is_large, prov_weight
from scar_gym.schedule import Assignment, Segment
from scar_gym.envs.types import ScenarioData, WindowSpec


@dataclass(frozen=True, eq=False)
class WindowCandidate:
    """One model's pipeline in one window: an assignment with its cost and chiplet bitmask.

    ``placement`` is the :class:`~scar_gym.schedule.Assignment`, or ``(model, bounds)`` (segment
    bounds: starts, then the last stop) with the segments on ``chiplets``, made into one on first use
    of :attr:`assignment`: a pool holds thousands of candidates and lists a few dozen."""

    placement: Assignment | tuple[int, tuple[int, ...]]
    mask: int
    size: int
    latency_s: float
    energy_j: float
    value: float
    minibatch: int
    weight_load_s: float
    chiplets: tuple[int, ...] = ()
    dataflow_share: tuple[float, ...] = ()

    @property
    def assignment(self) -> Assignment:
        a = self.placement
        if not isinstance(a, Assignment):
            m, bounds = a
            a = Assignment(m, tuple(Segment(lo, hi, c) for lo, hi, c in zip(bounds[:-1], bounds[1:], self.chiplets)))
            object.__setattr__(self, "placement", a)  # a cache: the candidate is otherwise immutable
        return a

    @property
    def bounds(self) -> tuple[int, ...]:
        """The segments' starts, then the last stop (without building the assignment)."""
        a = self.placement
        if isinstance(a, Assignment):
            return (*(sg.start for sg in a.segments), a.segments[-1].stop)
        return a[1]

    @property
    def num_segments(self) -> int:
        return self.size


def dataflow_share(mcm, chiplets: Sequence[int]) -> tuple[float, ...]:
    """Fraction of ``chiplets`` with each dataflow of :data:`~scar_gym.hardware.DATAFLOWS`."""
    return tuple(sum(mcm.dataflows[c] == d for c in chiplets) / len(chiplets) for d in DATAFLOWS)


def candidate_of(ev: Evaluator, a: Assignment, objective: str) -> WindowCandidate:
    r = ev.evaluate_assignment(a)
    chips = a.chiplets
    return WindowCandidate(a, mask_of(chips), len(a.segments), r.latency_s, r.energy_j,
                           objective_value(objective, r.latency_s, r.energy_j), r.minibatch, r.weight_load_s,
                           chips, dataflow_share(ev.mcm, chips))


class CandidatePools:
    """Builds and caches the pools of one scenario (stored in ``ScenarioData.extras``).

    Args:
        data: the scenario on the MCM.
        objective: what "best" means for sorting (``edp`` by default).
        k, seg_limit, seg_radius, max_probes: SCAR's SEG parameters (heuristic 1).
        per_signature: candidates kept per (cut set, path signature).
        limit_per_root: DFS paths per root on large MCMs (:func:`~scar_gym.policies.scar.steps.is_large`).
        max_segments: cap on the segment counts of the fallbacks on large MCMs.
        segment_cap: a cap on the segments of every candidate, on any MCM (``None``: none, the
            default), raised to a quarter of the MCM's chiplets when that is more (16 on 8x8; no
            change up to 48 chiplets). Without it a model that PROV gives ``N_i`` chiplets is offered
            pipelines of up to ``N_i`` segments, and on a 6x6 or 8x8 MCM the DFS for paths of 30+
            chiplets costs seconds per length; the scalable agents' env (``pool_segment_cap``) caps
            them at 12. The quarter keeps a heavy model's reach growing with the grid as PROV's share
            does: on het-sides-8x8 SCAR gives GPT-L 16 chiplets in sc5's middle windows, and a fixed
            12 left the size-agnostic search 13% behind there (1.3% with 16).
        paths_per_root: DFS paths per root on every MCM, small ones included (``None``: the default,
            ``limit_per_root`` on large MCMs only). A 4x4 MCM has up to ~1,200 path signatures per
            length, each evaluated once per cut set; 2 per root keeps every root and a pool in the
            hundreds (the scalable agents' env: ``pool_paths_per_root``).
    """

    def __init__(self, data: ScenarioData, objective: str = "edp", k: int = 3, seg_limit: int = 2000,
                 seg_radius: int = 2, max_probes: int = 24, per_signature: int = 2, limit_per_root: int = 2,
                 max_segments: int | None = 12, segment_cap: int | None = None, paths_per_root: int | None = None):
        self.data = data
        self.ev = data.evaluator
        self.mcm = data.mcm
        self.objective = objective
        self.steps = WindowSteps(self.ev, objective, k, seg_limit, seg_radius, max_probes)
        self.per_signature = per_signature
        large = is_large(self.mcm)
        self.limit_per_root = paths_per_root if paths_per_root is not None else (limit_per_root if large else None)
        self.max_segments = max_segments if large else None
        self.segment_cap = None if segment_cap is None else max(segment_cap, self.mcm.num_chiplets // 4)
        self._paths: dict[int, list[tuple[int, ...]]] = {}
        self._pools: dict[tuple, list[WindowCandidate]] = {}
        self._groups: dict[int, list[tuple[tuple, list[tuple[int, ...]]]]] = {}
        self._heads: dict[int, np.ndarray] = {}
        self._shares: dict[int, list[tuple[float, ...]]] = {}
        self._masks: dict[int, list[list[int]]] = {}
        self._relocated: dict[tuple, list[WindowCandidate]] = {}
        self._pool_placements: dict[tuple, set[tuple]] = {}
        self._class_list = [int(x) for x in self.mcm.class_of]
        self._hops_list = self.mcm.hops.tolist()

    @classmethod
    def for_data(cls, data: ScenarioData, **kwargs) -> "CandidatePools":
        key = ("window_pools", tuple(sorted(kwargs.items())))
        hit = data.extras.get(key)
        if hit is None:
            hit = data.extras[key] = cls(data, **kwargs)
        return hit

    def preload(self, window: WindowSpec, slot: int, candidates: list[WindowCandidate]) -> None:
        """Take the pool of ``(window, slot)`` as computed elsewhere (a scenario bank,
        :mod:`scar_gym.envs.bank`); a pool already built here is kept."""
        self._pools.setdefault((window, slot), candidates)

    def built_pools(self) -> dict[tuple, list[WindowCandidate]]:
        """The pools built so far, by ``(window, slot)``."""
        return dict(self._pools)

    def paths(self, length: int) -> list[tuple[int, ...]]:
        if length not in self._paths:
            self._paths[length] = simple_paths(self.mcm, length, limit_per_root=self.limit_per_root)
        return self._paths[length]

    def allocation(self, window: WindowSpec) -> tuple[int, ...]:
        """PROV's rounding rule for the window (chiplets per model, in window order)."""
        lat, en = self.data.exp_lat_cum, self.data.exp_en_cum
        weights = [prov_weight("objective", self.objective, float(lat[m][b] - lat[m][a]), float(en[m][b] - en[m][a]))
                   for m, a, b in window]
        return self.steps.allocation(weights, allocation_caps([(a, b) for _, a, b in window], self.mcm.num_chiplets))

    def pool(self, window: WindowSpec, slot: int) -> list[WindowCandidate]:
        """The sorted candidates of model ``window[slot]`` (cached)."""
        key = (window, slot)
        hit = self._pools.get(key)
        if hit is None:
            hit = self._pools[key] = self._build(window, slot)
        return hit

    def cut_sets(self, window: WindowSpec, slot: int) -> list[tuple[int, ...]]:
        m, lo, hi = window[slot]
        C = self.mcm.num_chiplets
        n_i = self.allocation(window)[slot]
        n_max = max(1, min(hi - lo, C - (len(window) - 1)))
        if self.max_segments is not None:
            n_max = min(n_max, max(n_i, self.max_segments))
        if self.segment_cap is not None:
            n_max = min(n_max, self.segment_cap)
        choice = self.steps.seg(m, lo, hi, n_max, n_i, np.diff(self.data.exp_lat_cum[m][lo:hi + 1]))
        return list(dict.fromkeys([*(c.cuts for c in choice.top), *choice.fallback_cuts(), ()]))

    def path_groups(self, length: int) -> list[tuple[tuple, list[tuple[int, ...]]]]:
        """The paths of ``length`` grouped by :func:`~scar_gym.policies.scar.sched.path_signature`
        (paths sorted within a group; cached). A signature does not depend on the cut set, so this
        is computed once per length, not once per cut set."""
        hit = self._groups.get(length)
        if hit is None:
            groups: dict[tuple, list[tuple[int, ...]]] = {}
            for path in self.paths(length):
                groups.setdefault(path_signature(self.mcm, path), []).append(path)
            hit = self._groups[length] = [(sig, sorted(ps)) for sig, ps in groups.items()]
        return hit

    def relocated(self, window: WindowSpec, slot: int, taken: int, room: int, limit: int) -> list[WindowCandidate]:
        """The first ``limit`` relocations of blocked pool candidates onto the chiplets free under the
        bit mask ``taken`` (see the module docstring), best pool candidates first, one per
        (segmentation, path signature), never a placement the pool itself holds, sorted like the
        pool. Cached per (window, slot, taken, room)."""
        key = (window, slot, taken, room, limit)
        hit = self._relocated.get(key)
        if hit is not None:
            return hit
        if len(self._relocated) > 100_000:  # bounded: states repeat across episodes, not without end
            self._relocated.clear()
        cls, hops = self._class_list, self._hops_list
        free = [c for c in range(self.mcm.num_chiplets) if not (taken >> c) & 1]
        seen: set[tuple] = set()
        out: list[WindowCandidate] = []
        m = window[slot][0]
        pool = self.pool(window, slot)
        in_pool = self._pool_placements.get((window, slot))
        if in_pool is None:
            in_pool = self._pool_placements[(window, slot)] = {(c.bounds, c.chiplets) for c in pool}
        made = 0  # relocations made, those landing on a pool placement included: ``limit`` bounds the work
        for c in pool:
            if made >= limit:
                break
            if not (c.mask & taken) or c.size > room or c.size > len(free):
                continue
            chips = list(c.chiplets)
            used = 0
            for ch in chips:
                if not (taken >> ch) & 1:
                    used |= 1 << ch
            for i, ch in enumerate(chips):
                if not (taken >> ch) & 1:
                    continue
                near = [chips[j] for j in (i - 1, i + 1) if 0 <= j < len(chips) and not (taken >> chips[j]) & 1]
                best, best_d = -1, 0
                for f in free:
                    if (used >> f) & 1 or cls[f] != cls[ch]:
                        continue
                    d = sum(hops[f][n] for n in near) if near else hops[f][ch]
                    if best < 0 or d < best_d:
                        best, best_d = f, d
                if best < 0:
                    break
                chips[i] = best
                used |= 1 << best
            else:
                bounds = c.bounds
                chips_t = tuple(chips)
                sig = (bounds, path_signature(self.mcm, chips_t))
                if sig in seen:
                    continue
                seen.add(sig)
                made += 1
                if (bounds, chips_t) not in in_pool:  # landed on a placement the pool offers already: no second slot
                    a = Assignment(m, tuple(Segment(lo, hi, ch) for lo, hi, ch in zip(bounds[:-1], bounds[1:], chips)))
                    out.append(candidate_of(self.ev, a, self.objective))
        out.sort(key=lambda x: (x.value, x.size))
        self._relocated[key] = out
        return out

    def group_shares(self, length: int) -> list[tuple[float, ...]]:
        """The :func:`dataflow_share` of every :meth:`path_groups` group of ``length`` (a signature
        fixes the chiplets' classes, so a group shares it)."""
        hit = self._shares.get(length)
        if hit is None:
            hit = self._shares[length] = [dataflow_share(self.mcm, paths[0]) for _, paths in self.path_groups(length)]
        return hit

    def group_masks(self, length: int) -> list[list[int]]:
        """The chiplet bit masks of every :meth:`path_groups` group's paths."""
        hit = self._masks.get(length)
        if hit is None:
            hit = self._masks[length] = [[mask_of(p) for p in paths] for _, paths in self.path_groups(length)]
        return hit

    def group_heads(self, length: int) -> np.ndarray:
        """The first path of every :meth:`path_groups` group of ``length``, ``(groups, length)``."""
        hit = self._heads.get(length)
        if hit is None:
            hit = self._heads[length] = np.array([paths[0] for _, paths in self.path_groups(length)], dtype=np.int64)
        return hit

    def _build(self, window: WindowSpec, slot: int) -> list[WindowCandidate]:
        m, lo, hi = window[slot]
        mcm, objective = self.mcm, self.objective
        out: list[tuple[tuple, WindowCandidate]] = []
        for cuts in self.cut_sets(window, slot):
            length = len(cuts) + 1
            # Equal signatures give equal results: one evaluation per group (all groups of the cut
            # set in one vectorised call), and only the first ``per_signature`` placements of a group
            # are kept (every one when single-chiplet).
            bounds = (lo, *cuts, hi)
            res = self.ev.evaluate_paths(m, bounds, self.group_heads(length))
            lat, en = res.latency_s.tolist(), res.energy_j.tolist()
            mb, load = res.minibatch.tolist(), res.weight_load_s.tolist()
            placement = (m, bounds)
            groups = zip(self.path_groups(length), self.group_shares(length), self.group_masks(length))
            for g, ((sig, paths), share, masks) in enumerate(groups):
                keep = paths if length == 1 else paths[: self.per_signature]
                value = objective_value(objective, lat[g], en[g])
                for path, mask in zip(keep, masks):
                    c = WindowCandidate(placement, mask, length, lat[g], en[g], value, mb[g], load[g], path, share)
                    out.append(((value, length, cuts, path), c))
        out.sort(key=lambda t: t[0])
        return [c for _, c in out]
