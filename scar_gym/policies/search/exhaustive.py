"""``exhaustive``: the exact optimum over ALL valid schedules with fixed time windows (small instances).

The space, per window: every node allocation (each model 1..min(its layers, |C| - other models)
chiplets, any total up to |C|; idle chiplets allowed), every segmentation (cut positions) and every
ordered choice of distinct chiplets for the segments (any chiplets, not only neighbouring DFS paths).
Windows are fixed (MCM-Reconfig with ``n_splits``, or given); see
:class:`~scar_gym.policies.search.genome.SearchSpace` for the (rare) split of a window holding more
models than chiplets.

**Method.** The evaluator's results add up: scenario latency = sum over windows of (max over the
window's models), energy = sum of everything, and a model's result in a window depends only on its
own assignment. Every supported objective (EDP = L x E, latency, energy) is non-decreasing in L and
E, so an optimal schedule is made of points that are Pareto-optimal in (latency, energy) at every
level of this sum/max structure. Hence:

1. **Per (window, model)**: evaluate every assignment once (``sum_k C(L-1, k-1) x P(|C|, k)`` of them
   -- the only cost-model calls), group by the chiplet set used (a bitmask) and keep each set's
   (latency, energy) Pareto front; then drop a point dominated by a point on a *subset* of its
   chiplets (it leaves fewer chiplets to the other models and is no better).
2. **Per window**: dynamic programming over the models with the set of used chiplets as state; a
   state's front combines ``(max latency, sum energy)`` of disjoint options and is Pareto-pruned
   (and subset-pruned across states). The union over final states is the window's Pareto front.
3. **Across windows**: the Minkowski sum of the window fronts ``(sum latency, sum energy)``,
   Pareto-pruned after each window; the optimum is the point of the final front with the smallest
   objective. EDP is not separable across windows (a window's best EDP point need not be part of
   the best schedule), which is why whole fronts, not per-window optima, are combined.
4. **Branch and bound** in steps 2-3: a partial point is dropped when a lower bound of any
   completion -- its latency/energy plus, for every model and window still to come, the smallest
   latency (max-combined within a window) and the smallest energy any of its options has -- has a
   worse objective than an incumbent. The incumbent is the best of a few greedy schedules built from
   the step-1 fronts (latency/energy scalarisations), or a value passed in (``incumbent``).

Every step keeps at least one optimal schedule, so the result is exact. ``max_assignments`` refuses
(with a :class:`ConfigError`, before any work) an instance whose step 1 would need more cost-model
evaluations than that.
"""

from __future__ import annotations

import bisect
import math
import time
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any, Callable


from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator, objective_value
from scar_gym.policies.base import Policy
from scar_gym.policies.scar.seg import enumerate_cuts
from scar_gym.policies.search.genome import Genome, SearchSpace, window_ranges
from scar_gym.schedule import Assignment, Schedule, Segment

Point = tuple[float, float, Any]  # (latency, energy, payload)


def pareto(points: list[Point]) -> list[Point]:
    """Non-dominated points sorted by latency ascending (energy then strictly descending).
    Of several identical (latency, energy) points the first one given is kept."""
    pts = sorted(enumerate(points), key=lambda x: (x[1][0], x[1][1], x[0]))
    out: list[Point] = []
    best_e = math.inf
    for _, p in pts:
        if p[1] < best_e:
            out.append(p)
            best_e = p[1]
    return out


def _dominated(front: list[Point], lats: list[float], lat: float, en: float) -> bool:
    """Whether (lat, en) is weakly dominated by a point of ``front`` (a :func:`pareto` output)."""
    i = bisect.bisect_right(lats, lat) - 1
    return i >= 0 and front[i][1] <= en


def subset_prune(fronts: dict[int, list[Point]]) -> dict[int, list[Point]]:
    """Drop points weakly dominated by a point on a proper subset of their chiplet mask."""
    masks = sorted(fronts, key=lambda s: (bin(s).count("1"), s))
    down: dict[int, list[Point]] = {}  # Pareto front of all points on subsets of a mask (kept ones)
    out: dict[int, list[Point]] = {}

    def down_of(mask: int) -> list[Point]:
        if mask in down:
            return down[mask]
        pts: list[Point] = list(out.get(mask, []))
        m = mask
        while m:
            bit = m & -m
            m ^= bit
            pts.extend(down_of(mask ^ bit))
        down[mask] = pareto(pts)
        return down[mask]

    for s in masks:
        sub: list[Point] = []
        m = s
        while m:
            bit = m & -m
            m ^= bit
            sub.extend(down_of(s ^ bit))
        sub = pareto(sub)
        lats = [p[0] for p in sub]
        kept = [p for p in fronts[s] if not _dominated(sub, lats, p[0], p[1])]
        if kept:
            out[s] = kept
        down.pop(s, None)  # recompute with this mask's kept points included
    return out


@dataclass
class ExhaustiveResult:
    schedule: Schedule
    genome: Genome
    value: float
    latency_s: float
    energy_j: float
    evaluations: int
    space_size: int
    stats: dict[str, Any] = field(default_factory=dict)


class _Exhaustive:
    def __init__(self, evaluator: Evaluator, space: SearchSpace, objective: str, incumbent: float | None):
        self.ev = evaluator
        self.space = space
        self.objective = objective
        self.obj: Callable[[float, float], float] = lambda l, e: objective_value(objective, l, e)
        self.incumbent = math.inf if incumbent is None else float(incumbent) * (1 + 1e-9)
        self.evaluations = 0
        self.stats: dict[str, Any] = {"pruned_bound": 0}

    # step 1 ----------------------------------------------------------------------------------------
    def model_fronts(self, wi: int, j: int) -> dict[int, list[Point]]:
        sp = self.space
        spec = sp.windows[wi]
        m = spec.models[j]
        a, b = spec.ranges[j]
        C = sp.num_chiplets
        ks = [sp.node_counts[wi][j]] if sp.fixed_nodes else range(1, sp.kmax(wi, j) + 1)
        by_mask: dict[int, list[Point]] = {}
        ev = self.ev.evaluate_assignment
        for k in ks:
            for cuts in enumerate_cuts(a, b, k):
                bounds = (a, *cuts, b)
                spans = list(zip(bounds[:-1], bounds[1:]))
                for chips in permutations(range(C), k):
                    r = ev(Assignment(m, tuple(Segment(s0, s1, c) for (s0, s1), c in zip(spans, chips))))
                    self.evaluations += 1
                    mask = 0
                    for c in chips:
                        mask |= 1 << c
                    by_mask.setdefault(mask, []).append((r.latency_s, r.energy_j, (cuts, chips)))
        return subset_prune({s: pareto(p) for s, p in by_mask.items()})

    # incumbent -------------------------------------------------------------------------------------
    def greedy(self, fronts: list[list[dict[int, list[Point]]]], lam: float) -> tuple[float, float, Genome]:
        """One feasible schedule: per window, models (longest first) pick the option that minimises a
        scalarised (latency, energy) among the chiplet sets still free."""
        C = self.space.num_chiplets
        L = E = 0.0
        genome = []
        for wi, wf in enumerate(fronts):
            n = len(wf)
            order = sorted(range(n), key=lambda j: -min(p[0] for ps in wf[j].values() for p in ps))
            lsc = max(min(p[0] for ps in f.values() for p in ps) for f in wf)
            esc = sum(min(p[1] for ps in f.values() for p in ps) for f in wf)
            kmin = [min(bin(s).count("1") for s in f) for f in wf]
            used, wl, we, genes = 0, 0.0, 0.0, [None] * n
            for rank, j in enumerate(order):
                left = sum(kmin[x] for x in order[rank + 1:])
                best = None
                for s, pts in wf[j].items():
                    if s & used or bin(used | s).count("1") > C - left:
                        continue
                    for p in pts:
                        sc = lam * max(wl, p[0]) / lsc + (1 - lam) * (we + p[1]) / esc
                        if best is None or sc < best[0]:
                            best = (sc, s, p)
                _, s, p = best
                used |= s
                wl, we = max(wl, p[0]), we + p[1]
                genes[j] = p[2]
            L, E = L + wl, E + we
            genome.append(tuple(genes))
        return L, E, tuple(genome)

    # step 2 ----------------------------------------------------------------------------------------
    def window_front(self, wi: int, wf: list[dict[int, list[Point]]], rest_l: float, rest_e: float) -> list[Point]:
        n = len(wf)
        min_l = [min(p[0] for ps in f.values() for p in ps) for f in wf]
        min_e = [min(p[1] for ps in f.values() for p in ps) for f in wf]
        C = self.space.num_chiplets
        states: dict[int, list[Point]] = {0: [(0.0, 0.0, ())]}
        inc = self.incumbent
        kmin = [min(bin(s).count("1") for s in f) for f in wf]
        for j in range(n):
            tail_l = max(min_l[j + 1:], default=0.0)
            tail_e = sum(min_e[j + 1:])
            left = sum(kmin[j + 1:])
            new: dict[int, list[Point]] = {}
            for u, front in states.items():
                for s, opts in wf[j].items():
                    if s & u:
                        continue
                    us = u | s
                    if bin(us).count("1") > C - left:
                        continue
                    bucket = new.setdefault(us, [])
                    for (l1, e1, g1) in front:
                        for (l2, e2, g2) in opts:
                            lat, en = (l1 if l1 > l2 else l2), e1 + e2
                            lb_l = lat if lat > tail_l else tail_l
                            if self.obj(lb_l + rest_l, en + tail_e + rest_e) > inc:
                                self.stats["pruned_bound"] += 1
                                continue
                            bucket.append((lat, en, g1 + (g2,)))
            states = subset_prune({s: pareto(p) for s, p in new.items() if p})
        return pareto([p for pts in states.values() for p in pts])

    # all -------------------------------------------------------------------------------------------
    def run(self) -> tuple[float, float, float, Genome]:
        sp = self.space
        t = time.perf_counter()
        fronts = [[self.model_fronts(wi, j) for j in range(len(spec.models))] for wi, spec in enumerate(sp.windows)]
        self.stats["enumerate_s"] = round(time.perf_counter() - t, 3)
        self.stats["model_front_points"] = sum(len(p) for wf in fronts for f in wf for p in f.values())
        best_greedy = None
        for lam in (0.0, 0.25, 0.5, 0.75, 1.0):
            L, E, g = self.greedy(fronts, lam)
            v = self.obj(L, E)
            if best_greedy is None or v < best_greedy[0]:
                best_greedy = (v, L, E, g)
        self.stats["greedy_incumbent"] = best_greedy[0]
        self.incumbent = min(self.incumbent, best_greedy[0] * (1 + 1e-9))
        # Lower bounds of each window: max of the models' min latency, sum of their min energy.
        lb_l = [max(min(p[0] for ps in f.values() for p in ps) for f in wf) for wf in fronts]
        lb_e = [sum(min(p[1] for ps in f.values() for p in ps) for f in wf) for wf in fronts]
        t = time.perf_counter()
        wfronts = []
        for wi, wf in enumerate(fronts):
            rest_l = sum(lb_l) - lb_l[wi]
            rest_e = sum(lb_e) - lb_e[wi]
            wfronts.append(self.window_front(wi, wf, rest_l, rest_e))
        self.stats["window_front_sizes"] = [len(f) for f in wfronts]
        # step 3
        total: list[Point] = [(0.0, 0.0, ())]
        for wi, wfront in enumerate(wfronts):
            rest_l, rest_e = sum(lb_l[wi + 1:]), sum(lb_e[wi + 1:])
            comb = []
            for (L, E, g) in total:
                for (l, e, wg) in wfront:
                    if self.obj(L + l + rest_l, E + e + rest_e) > self.incumbent:
                        self.stats["pruned_bound"] += 1
                        continue
                    comb.append((L + l, E + e, g + (wg,)))
            total = pareto(comb)
        self.stats["combine_s"] = round(time.perf_counter() - t, 3)
        if not total:  # the greedy incumbent is optimal (everything else was pruned)
            v, L, E, g = best_greedy
            return v, L, E, g
        v, L, E, g = min(((self.obj(L, E), L, E, g) for (L, E, g) in total), key=lambda x: x[0])
        if best_greedy[0] < v:
            v, L, E, g = best_greedy
        return v, L, E, g


def exhaustive_optimum(evaluator: Evaluator, windows: Any = None, n_splits: int = 4, objective: str | None = None,
                       max_assignments: int | None = 3_000_000, incumbent: float | None = None,
                       node_counts=None, max_nodes: int | None = None) -> ExhaustiveResult:
    """The optimal schedule with fixed windows; see the module docstring.

    Args:
        windows: fixed windows (``TimeWindows``, list of ``{model: (start, stop)}`` or a schedule);
            ``None`` runs MCM-Reconfig with ``n_splits``.
        objective: ``None`` = the evaluator's.
        max_assignments: refuse instances needing more cost-model evaluations (``None``: no limit).
        incumbent: a known achievable objective value (tightens the bound; optional).
        node_counts / max_nodes: restrict the space as in :class:`SearchSpace`.
    """
    t0 = time.perf_counter()
    objective = objective or evaluator.objective
    objective_value(objective, 1.0, 1.0)
    if windows is None:
        from scar_gym.policies.windows import mcm_reconfig

        windows = mcm_reconfig(evaluator, n_splits)
    space = SearchSpace(evaluator.mcm.num_chiplets, window_ranges(windows), evaluator.num_layers, node_counts, max_nodes)
    need = space.assignments_to_enumerate()
    if max_assignments is not None and need > max_assignments:
        raise ConfigError("max_assignments", f"this instance needs {need:,} assignment evaluations "
                          f"(> {max_assignments:,}); {space.size():.3g} schedules",
                          "use fewer layers per window, fewer chiplets, more windows, or raise the limit")
    ex = _Exhaustive(evaluator, space, objective, incumbent)
    value, lat, en, genome = ex.run()
    sched = space.decode(genome)
    res = evaluator.evaluate(sched)
    check = res.objective(objective)
    if not math.isclose(check, value, rel_tol=1e-9, abs_tol=0.0):
        raise RuntimeError(f"exhaustive: combined value {value} != evaluator's {check}")
    stats = {**ex.stats, "assignments": need, "runtime_s": round(time.perf_counter() - t0, 3)}
    sched.meta.update({"policy": "exhaustive", "objective": objective, "evaluations": ex.evaluations,
                       "optimum": value, "latency_s": res.latency_s, "energy_j": res.energy_j,
                       "space": space.describe(), "space_size": space.size(), "stats": stats})
    return ExhaustiveResult(sched, genome, value, res.latency_s, res.energy_j, ex.evaluations, space.size(), stats)


class ExhaustivePolicy(Policy):
    """Exact optimum by enumeration (small instances only); deterministic (``seed`` is ignored).

    ``budget`` (the CLI's ``--budget``) is an alias of ``max_assignments``: the policy refuses an
    instance that needs more cost-model evaluations than that instead of running for hours.
    """

    name = "exhaustive"

    def __init__(self, n_splits: int = 4, windows: Any = None, objective: str | None = None,
                 max_assignments: int | None = 3_000_000, budget: int | None = None, seed: int | None = None,
                 nodes: str = "free", max_nodes: int | None = None):
        if nodes not in ("free", "prov"):
            raise ConfigError("nodes", f"unknown node mode {nodes!r}", "use free or prov")
        if objective is not None:
            objective_value(objective, 1.0, 1.0)
        self.n_splits = int(n_splits)
        self.windows = windows
        self.objective = objective
        self.max_assignments = budget if budget is not None else max_assignments
        self.nodes = nodes
        self.max_nodes = max_nodes

    def params(self) -> dict[str, Any]:
        return {"n_splits": self.n_splits, "windows": "explicit" if self.windows is not None else "mcm-reconfig",
                "objective": self.objective, "max_assignments": self.max_assignments, "nodes": self.nodes,
                "max_nodes": self.max_nodes}

    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        objective = self.objective or evaluator.objective
        windows = self.windows
        if windows is None:
            from scar_gym.policies.windows import mcm_reconfig

            windows = mcm_reconfig(evaluator, self.n_splits)
        counts = None
        if self.nodes == "prov":
            from scar_gym.policies.search.common import prov_node_counts

            counts = prov_node_counts(evaluator, window_ranges(windows), objective, self.max_nodes)
        res = exhaustive_optimum(evaluator, windows, self.n_splits, objective, self.max_assignments,
                                 node_counts=counts, max_nodes=self.max_nodes)
        res.schedule.meta["params"] = self.params()
        return res.schedule
