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

from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from scar_gym.evaluator import Evaluator, ModelWindowResult, objective_value
from scar_gym.hardware import DATAFLOWS
from scar_gym.policies.scar.sched import mask_of, path_signature, simple_paths
from scar_gym.policies.scar.steps import WindowSteps, allocation_caps, is_large, prov_weight
from scar_gym.schedule import Assignment
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
            a = Assignment.from_cuts(m, bounds[0], bounds[-1], bounds[1:-1], self.chiplets)
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
    index = mcm.dataflow_index
    counts = [0] * len(DATAFLOWS)
    for c in chiplets:
        counts[index[c]] += 1
    return tuple(k / len(chiplets) for k in counts)


def candidate_of(ev: Evaluator, a: Assignment, objective: str) -> WindowCandidate:
    return _candidate(ev, a, a.chiplets, ev.evaluate_assignment(a), objective)


def placed_candidate(ev: Evaluator, model: int, bounds: tuple[int, ...], chiplets: tuple[int, ...],
                     objective: str) -> WindowCandidate:
    """:func:`candidate_of` the assignment of ``model`` with segments ``[bounds[j], bounds[j+1])``
    on ``chiplets[j]``; the assignment is built only if asked for (``WindowCandidate.assignment``)."""
    return _candidate(ev, (model, bounds), chiplets, ev.evaluate_placement(model, bounds, chiplets), objective)


def _candidate(ev: Evaluator, placement: Assignment | tuple[int, tuple[int, ...]], chips: tuple[int, ...],
               r: ModelWindowResult, objective: str) -> WindowCandidate:
    return WindowCandidate(placement, mask_of(chips), len(chips), r.latency_s, r.energy_j,
                           objective_value(objective, r.latency_s, r.energy_j), r.minibatch, r.weight_load_s,
                           chips, dataflow_share(ev.mcm, chips))


def mask_array(masks: Sequence[int], num_chiplets: int) -> np.ndarray:
    """Chiplet bit masks as an array: ``uint64`` up to 64 chiplets, Python ints (``object``) past."""
    return np.array(masks, dtype=np.uint64 if num_chiplets <= 64 else object)


def overlaps(masks: np.ndarray, taken: int) -> np.ndarray:
    """Which of the bit ``masks`` (:func:`mask_array`) share a chiplet with the bit mask ``taken``."""
    if not len(masks):
        return np.zeros(0, dtype=bool)
    return (masks & (np.uint64(taken) if masks.dtype == np.uint64 else taken)) != 0


class CandidateArray(SequenceABC):
    """A pool, sorted best first, as arrays: what Window-v0 filters on (``values``, ``sizes``, chiplet
    bit ``masks``) in numpy; each :class:`WindowCandidate` is made on first access (a pool holds
    thousands, an episode reads a few dozen). Built by :meth:`CandidatePools._build`, or from
    candidates already made (:meth:`of`)."""

    def __init__(self, values: np.ndarray, sizes: np.ndarray, masks: np.ndarray, make: Callable[[int], WindowCandidate],
                 contains: Callable[[tuple[int, ...], tuple[int, ...]], bool] | None = None,
                 placement: Callable[[int], tuple[tuple[int, ...], tuple[int, ...]]] | None = None):
        self.values, self.sizes, self.masks = values, sizes, masks
        self._make = make
        self._contains = contains
        self._placement = placement
        self._items: list[WindowCandidate | None] = [None] * len(values)

    @classmethod
    def of(cls, candidates: Sequence[WindowCandidate], num_chiplets: int) -> "CandidateArray":
        items = list(candidates)
        arr = cls(np.array([c.value for c in items], dtype=np.float64), np.array([c.size for c in items], dtype=np.int64),
                  mask_array([c.mask for c in items], num_chiplets), items.__getitem__)
        arr._items = items
        return arr

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, j):
        if isinstance(j, slice):
            return [self[k] for k in range(*j.indices(len(self)))]
        c = self._items[j]
        if c is None:
            c = self._items[j] = self._make(j if j >= 0 else j + len(self))
        return c

    def __iter__(self):
        for j in range(len(self)):
            yield self[j]

    def placement_at(self, j: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """``(bounds, chiplets)`` of candidate ``j`` without making the candidate (relocations
        read thousands of blocked ones and keep a few dozen)."""
        c = self._items[j]
        if c is None and self._placement is not None:
            return self._placement(j)
        c = self[j]
        return c.bounds, c.chiplets

    def contains(self, bounds: tuple[int, ...], chiplets: tuple[int, ...]) -> bool:
        """Whether the pool holds the placement of segments ``bounds`` on ``chiplets``."""
        if self._contains is not None:
            return self._contains(bounds, chiplets)
        return holds(self, bounds, chiplets)


def holds(candidates: Sequence[WindowCandidate], bounds: tuple[int, ...], chiplets: tuple[int, ...]) -> bool:
    """Whether ``candidates`` hold the placement of segments ``bounds`` on ``chiplets`` (a scan: for
    pools without an index, e.g. a bank's)."""
    return any(c.bounds == bounds and c.chiplets == chiplets for c in candidates)


def select_slots(pool, moved: Sequence[WindowCandidate], taken: int, room: int, anchor: WindowCandidate | None,
                 k_max: int) -> list[WindowCandidate]:
    """Window-v0's listed candidates (without the anchor) for one decision, best first.

    ``pool`` (a :class:`CandidateArray`, or any sequence with ``values``/``sizes``/``masks`` arrays)
    and ``moved`` (relocations, sorted by ``(value, size)``) are merged by ``(value, size)``, the pool
    first on ties; candidates that overlap ``taken`` or need more than ``room`` chiplets and
    duplicates of ``anchor`` are dropped. Kept: the first feasible candidate of every segment count
    (so that "fewer chiplets, leave room for the others" stays an option), then the first feasible
    ones, up to ``k_max`` minus the anchor's slot; listed by ``(value, size)``."""
    budget = k_max - (anchor is not None)
    idx = np.flatnonzero((pool.sizes <= room) & ~overlaps(pool.masks, taken))
    if anchor is not None and len(idx):  # the anchor's own placement is listed in slot 0, not twice
        same = np.flatnonzero(pool.masks[idx] == anchor.mask).tolist()
        where = (anchor.bounds, anchor.chiplets)  # the assignment, without making the candidates' own
        drop = [p for p in same if pool.placement_at(int(idx[p])) == where]
        if drop:
            idx = np.delete(idx, drop)
    moved = [c for c in moved if not (c.mask & taken) and c.size <= room and
             not (anchor is not None and c.mask == anchor.mask and c.assignment == anchor.assignment)]
    if not moved:
        # The pool alone is in merged order already: the first of every size, then the first ones.
        # Listing by (value, size) keeps that order (a first of its size has no equal before it).
        sizes = pool.sizes[idx]
        if len(sizes) > 256:
            must = sorted(np.unique(sizes, return_index=True)[1].tolist())[:budget]
        else:  # a short pool: a dict is quicker than numpy's sort
            first: dict[int, int] = {}
            for p, z in enumerate(sizes.tolist()):
                first.setdefault(z, p)
                if p >= k_max and len(first) >= room:  # every size there can be is found
                    break
            must = list(first.values())[:budget]
        taken_pos = set(must)
        rest = [p for p in range(min(k_max, len(idx))) if p not in taken_pos][: budget - len(must)]
        return [pool[int(idx[p])] for p in sorted(must + rest)]
    # Merged order: (value, size), then the pool before the relocations, then each one's own order.
    first = {}
    sizes = pool.sizes[idx]
    _, at = np.unique(sizes, return_index=True)
    entries = [((float(pool.values[idx[a]]), int(sizes[a]), 0, int(a)), int(idx[a])) for a in at.tolist()]
    entries += [((m.value, m.size, 1, j), m) for j, m in enumerate(moved)]
    for key, item in sorted(entries, key=lambda e: e[0]):
        if key[1] not in first:
            first[key[1]] = (key, item)
    head = [((float(pool.values[i]), int(pool.sizes[i]), 0, a), int(i)) for a, i in enumerate(idx[:k_max].tolist())]
    head += [((m.value, m.size, 1, j), m) for j, m in enumerate(moved[:k_max])]
    feasible = [item for _, item in sorted(head, key=lambda e: e[0])[:k_max]]
    must_entries = sorted(first.values(), key=lambda e: e[0])[:budget]
    must = [item for _, item in must_entries]
    must_ids = {id(x) if not isinstance(x, int) else ("p", x) for x in must}
    rest = [x for x in feasible if (id(x) if not isinstance(x, int) else ("p", x)) not in must_ids][: budget - len(must)]
    chosen = [pool[x] if isinstance(x, int) else x for x in must + rest]
    return sorted(chosen, key=lambda c: (c.value, c.size))


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
            12 left the size-agnostic search 13% behind there (0.7% with 16).
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
        self._pools: dict[tuple, CandidateArray] = {}
        self._by_seg: dict[tuple, CandidateArray] = {}
        self._seg_keys: dict[tuple, tuple[int, int, int, int, int]] = {}
        self._groups: dict[int, list[tuple[tuple, list[tuple[int, ...]]]]] = {}
        self._kept: dict[int, _Kept] = {}
        self._relocated: dict[tuple, list[WindowCandidate]] = {}
        self._signatures: dict[tuple[int, ...], tuple] = {}  # path -> path_signature, for relocations
        self._class_list = [int(x) for x in self.mcm.class_of]
        self._hops_list = self.mcm.hops.tolist()

    @classmethod
    def for_data(cls, data: ScenarioData, **kwargs) -> "CandidatePools":
        key = ("window_pools", tuple(sorted(kwargs.items())))
        hit = data.extras.get(key)
        if hit is None:
            hit = data.extras[key] = cls(data, **kwargs)
        return hit

    def preload(self, window: WindowSpec, slot: int, candidates: Sequence[WindowCandidate]) -> None:
        """Take the pool of ``(window, slot)`` as computed elsewhere (a scenario bank,
        :mod:`scar_gym.envs.bank`: its lazy pools carry the arrays of :class:`CandidateArray`; other
        sequences are wrapped in one); a pool already built here is kept."""
        if not hasattr(candidates, "masks"):
            candidates = CandidateArray.of(candidates, self.mcm.num_chiplets)
        self._pools.setdefault((window, slot), candidates)

    def built_pools(self) -> dict[tuple, CandidateArray]:
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

    def pool(self, window: WindowSpec, slot: int) -> CandidateArray:
        """The sorted candidates of model ``window[slot]`` (cached, and shared by every window that
        asks SEG the same question: see :meth:`seg_key`)."""
        key = (window, slot)
        hit = self._pools.get(key)
        if hit is None:
            seg_key = self.seg_key(window, slot)
            hit = self._by_seg.get(seg_key)
            if hit is None:
                hit = self._by_seg[seg_key] = self._build(window, slot)
            self._pools[key] = hit
        return hit

    def seg_key(self, window: WindowSpec, slot: int) -> tuple[int, int, int, int, int]:
        """``(model, lo, hi, n_max, n_i)``: all a pool depends on. The rest of the window only sets
        PROV's ``n_i`` and the segment bound ``n_max``, so windows of different boundary sets that
        give a model the same layers and the same two counts share one pool (on the large-6x6
        suite a quarter of the pools of a 5-set search)."""
        hit = self._seg_keys.get((window, slot))
        if hit is not None:
            return hit
        m, lo, hi = window[slot]
        n_i = self.allocation(window)[slot]
        n_max = max(1, min(hi - lo, self.mcm.num_chiplets - (len(window) - 1)))
        if self.max_segments is not None:
            n_max = min(n_max, max(n_i, self.max_segments))
        if self.segment_cap is not None:
            n_max = min(n_max, self.segment_cap)
        hit = self._seg_keys[(window, slot)] = (m, lo, hi, n_max, n_i)
        return hit

    def cut_sets(self, window: WindowSpec, slot: int) -> list[tuple[int, ...]]:
        m, lo, hi, n_max, n_i = self.seg_key(window, slot)
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
        pool. Cached per (pool, taken, room, limit)."""
        key = (self.seg_key(window, slot), taken, room, limit)  # the pool's key: shared pools share these too
        hit = self._relocated.get(key)
        if hit is not None:
            return hit
        if len(self._relocated) > 100_000:  # bounded: states repeat across episodes, not without end
            self._relocated.clear()
            self._signatures.clear()
        cls, hops = self._class_list, self._hops_list
        free = [c for c in range(self.mcm.num_chiplets) if not (taken >> c) & 1]
        free_of_class: dict[int, list[int]] = {}  # the free chiplets of each class, in chiplet order
        for c in free:
            free_of_class.setdefault(cls[c], []).append(c)
        seen: set[tuple] = set()
        out: list[WindowCandidate] = []
        m = window[slot][0]
        pool = self.pool(window, slot)
        made = 0  # relocations made, those landing on a pool placement included: ``limit`` bounds the work
        for j in np.flatnonzero(overlaps(pool.masks, taken) & (pool.sizes <= min(room, len(free)))).tolist():
            if made >= limit:
                break
            bounds, placed = pool.placement_at(j)
            chips = list(placed)
            used = 0
            for ch in chips:
                if not (taken >> ch) & 1:
                    used |= 1 << ch
            for i, ch in enumerate(chips):
                if not (taken >> ch) & 1:
                    continue
                spare = [f for f in free_of_class.get(cls[ch], ()) if not (used >> f) & 1]
                if not spare:
                    break
                near = [chips[k] for k in (i - 1, i + 1) if 0 <= k < len(chips) and not (taken >> chips[k]) & 1]
                if len(near) == 2:
                    a, b = near
                    best = min(spare, key=lambda f: hops[f][a] + hops[f][b])  # the first nearest, as a scan
                else:
                    n = near[0] if near else ch
                    best = min(spare, key=lambda f: hops[f][n])
                chips[i] = best
                used |= 1 << best
            else:
                chips_t = tuple(chips)
                sig = (bounds, path_signature(self.mcm, chips_t, self._signatures))
                if sig in seen:
                    continue
                seen.add(sig)
                made += 1
                if not pool.contains(bounds, chips_t):  # landed on a placement the pool offers already: no second slot
                    out.append(placed_candidate(self.ev, m, bounds, chips_t, self.objective))
        out.sort(key=lambda x: (x.value, x.size))
        self._relocated[key] = out
        return out

    def kept(self, length: int) -> "_Kept":
        """The placements every pool keeps for cut sets of ``length`` segments (cached): per
        :meth:`path_groups` group its first ``per_signature`` paths (every one when single-chiplet)."""
        hit = self._kept.get(length)
        if hit is None:
            groups = self.path_groups(length)
            paths, group = [], []
            for g, (_, ps) in enumerate(groups):
                keep = ps if length == 1 else ps[: self.per_signature]
                paths.extend(keep)
                group.extend([g] * len(keep))
            rank_of = {p: r for r, p in enumerate(sorted(paths))}
            hit = self._kept[length] = _Kept(
                heads=np.array([ps[0] for _, ps in groups], dtype=np.int64).reshape(len(groups), length),
                group=np.array(group, dtype=np.int64), paths=paths,
                masks=mask_array([mask_of(p) for p in paths], self.mcm.num_chiplets),
                rank=np.array([rank_of[p] for p in paths], dtype=np.int64),
                shares=[dataflow_share(self.mcm, ps[0]) for _, ps in groups], path_set=frozenset(paths))
        return hit

    def _build(self, window: WindowSpec, slot: int) -> CandidateArray:
        """The pool of ``window[slot]``: every kept placement of every cut set, one vectorised
        evaluation of all cut sets (equal signatures give equal results, so each group's first path
        stands for it), sorted by (value, segments, cut set, path)."""
        m, lo, hi = window[slot]
        cut_list = self.cut_sets(window, slot)
        cut_rank = {c: r for r, c in enumerate(sorted(cut_list))}
        cols: dict[str, list[np.ndarray]] = {k: [] for k in ("lat", "en", "mb", "load", "size", "cut", "ci", "ki",
                                                             "rank", "mask")}
        kepts = [self.kept(len(cuts) + 1) for cuts in cut_list]
        results = self.ev.evaluate_cut_sets(m, [((lo, *cuts, hi), kept.heads) for cuts, kept in zip(cut_list, kepts)])
        for ci, (cuts, kept, res) in enumerate(zip(cut_list, kepts, results)):
            g, n = kept.group, len(kept.paths)
            cols["lat"].append(res.latency_s[g])
            cols["en"].append(res.energy_j[g])
            cols["mb"].append(res.minibatch[g])
            cols["load"].append(res.weight_load_s[g])
            cols["size"].append(np.full(n, len(cuts) + 1))
            cols["cut"].append(np.full(n, cut_rank[cuts]))
            cols["ci"].append(np.full(n, ci))
            cols["ki"].append(np.arange(n))
            cols["rank"].append(kept.rank)
            cols["mask"].append(kept.masks)
        a = {k: np.concatenate(v) for k, v in cols.items()}
        value = objective_value(self.objective, a["lat"], a["en"])
        order = np.lexsort((a["rank"], a["cut"], a["size"], value))
        a = {k: v[order] for k, v in a.items()}
        value = value[order]
        lat, en, val, load = a["lat"].tolist(), a["en"].tolist(), value.tolist(), a["load"].tolist()
        mb, size, ci, ki = a["mb"].tolist(), a["size"].tolist(), a["ci"].tolist(), a["ki"].tolist()
        bounds = [(lo, *c, hi) for c in cut_list]
        bounds_set = frozenset(bounds)
        masks = a["mask"]

        def make(j: int) -> WindowCandidate:
            kept = self.kept(size[j])
            k = ki[j]
            return WindowCandidate((m, bounds[ci[j]]), int(masks[j]), size[j], lat[j], en[j], val[j], mb[j], load[j],
                                   kept.paths[k], kept.shares[kept.group[k]])

        def contains(b: tuple[int, ...], chips: tuple[int, ...]) -> bool:
            return b in bounds_set and chips in self.kept(len(chips)).path_set

        def placement(j: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
            return bounds[ci[j]], self.kept(size[j]).paths[ki[j]]

        return CandidateArray(value, a["size"], masks, make, contains, placement)


@dataclass(frozen=True, eq=False)
class _Kept:
    """What a pool keeps for one segment count (:meth:`CandidatePools.kept`).

    Attributes:
        heads: ``(groups, length)`` the first path of every signature group (the one evaluated).
        group, paths, masks, rank: per kept path, its group, the path, its chiplet bit mask and its
            rank among the kept paths in lexicographic order (the pools' last sort key).
        shares: per group, the :func:`dataflow_share` of its chiplets (fixed by the signature).
        path_set: the kept paths, for membership.
    """

    heads: np.ndarray
    group: np.ndarray
    paths: list[tuple[int, ...]]
    masks: np.ndarray
    rank: np.ndarray
    shares: list[tuple[float, ...]]
    path_set: frozenset
