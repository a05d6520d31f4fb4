"""Baseline schedulers on the shared evaluator: Standalone, Random and a HEFT-style Greedy.

*Simba* needs no class of its own: it is SCAR on a homogeneous MCM (``simba-nvd`` = ``scar`` on
``nvd-3x3``); :class:`SimbaPolicy` is an alias of :class:`~scar_gym.policies.scar.ScarPolicy`
that refuses a heterogeneous MCM, for scripts that want the name.

All baselines use SCAR's time windows (MCM-Reconfig, first-fit at ``n_splits`` periodic boundaries
over the expected layer latencies) unless stated otherwise, so they differ from SCAR only in what
happens inside a window.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.evaluator import OBJECTIVES, Evaluator, objective_value
from scar_gym.policies.base import Policy
from scar_gym.policies.scar.policy import ScarPolicy
from scar_gym.policies.scar.prov import expected_objective, provision
from scar_gym.policies.scar.sched import _adjacency, mask_of
from scar_gym.policies.scar.seg import balanced_cuts
from scar_gym.policies.windows import (WindowRanges, expected_layer_costs, first_fit_windows, mcm_reconfig,
                                       split_crowded_windows)
from scar_gym.schedule import Assignment, Schedule, Segment, Window


def _check_objective(objective: str | None) -> None:
    if objective is not None and objective not in OBJECTIVES:
        raise ConfigError("objective", f"unknown objective {objective!r}", f"use one of {', '.join(OBJECTIVES)}")


def _check_splits(n_splits: Any) -> None:
    if not isinstance(n_splits, int) or n_splits < 0:
        raise ConfigError("n_splits", f"must be an integer >= 0, got {n_splits!r}", "use e.g. 4")


def scar_windows(evaluator: Evaluator, n_splits: int) -> list[WindowRanges]:
    """SCAR's windows (periodic boundaries, first fit), split so no window has more models than chiplets."""
    return split_crowded_windows(mcm_reconfig(evaluator, n_splits).windows, evaluator.mcm.num_chiplets)


def _meta(policy: Policy, evaluator: Evaluator, ev0: int, t0: float, seed: int | None, **extra: Any) -> dict:
    return {"policy": policy.name, "params": policy.params(), "seed": seed,
            "evaluations": evaluator.num_evaluations - ev0, "scheduler_s": time.perf_counter() - t0,
            "mcm": evaluator.mcm.name, **extra}


class StandalonePolicy(Policy):
    """Every model gets exactly one chiplet per window and no pipelining (spec 5.6).

    Same windows as SCAR. Chiplet choice **[choice]**: greedy and deterministic -- the models of a
    window, heaviest first (expected objective of their layers in the window), each take the free
    chiplet that minimises their own objective (evaluator), ties to the lower chiplet index.
    """

    name = "standalone"

    def __init__(self, objective: str | None = None, n_splits: int = 4):
        _check_objective(objective)
        _check_splits(n_splits)
        self.objective = objective
        self.n_splits = n_splits

    def params(self) -> dict[str, Any]:
        return {"objective": self.objective, "n_splits": self.n_splits}

    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        t0, ev0 = time.perf_counter(), evaluator.num_evaluations
        obj = self.objective or evaluator.objective
        lat, en = expected_layer_costs(evaluator)
        windows = []
        for win in scar_windows(evaluator, self.n_splits):
            weight = {m: expected_objective(obj, float(lat[m][lo:hi].sum()), float(en[m][lo:hi].sum()))
                      for m, (lo, hi) in win.items()}
            free = list(range(evaluator.mcm.num_chiplets))
            assigns = []
            for m in sorted(win, key=lambda m: (-weight[m], m)):
                lo, hi = win[m]
                best = None
                for c in free:
                    a = Assignment(m, (Segment(lo, hi, c),))
                    r = evaluator.evaluate_assignment(a)
                    v = objective_value(obj, r.latency_s, r.energy_j)
                    if best is None or v < best[0]:
                        best = (v, a, c)
                assigns.append(best[1])
                free.remove(best[2])
            windows.append(Window(tuple(sorted(assigns, key=lambda a: a.model))))
        return Schedule(tuple(windows), _meta(self, evaluator, ev0, t0, seed, objective=obj))


class SimbaPolicy(ScarPolicy):
    """SCAR on a homogeneous MCM (the paper's Simba baselines); refuses heterogeneous MCMs."""

    name = "simba"

    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        if not evaluator.mcm.is_homogeneous:
            raise ConfigError("mcm", f"Simba needs a homogeneous MCM, {evaluator.mcm.name!r} is not",
                              "use nvd-3x3 or shi-3x3 (or policy scar)")
        return super().schedule(evaluator, seed)


class RandomPolicy(Policy):
    """Random valid schedules (seeded; ``numpy.random.default_rng(seed)``, nothing global).

    Windows: ``n_splits`` drawn from ``0..max_splits`` with sorted uniform boundaries over the
    horizon, packed first-fit. Per window: a random composition of the chiplets into the models
    (each >= 1, <= its layers), random cuts into that many segments, and for each model in random
    order a random self-avoiding walk over the free chiplets from a random free root (shortened, by
    merging segments, when the walk gets stuck). Consecutive segments are neighbours, so the
    schedules also pass ``validate(..., require_paths=True)``.
    """

    name = "random"

    def __init__(self, max_splits: int = 6):
        _check_splits(max_splits)
        self.max_splits = max_splits

    def params(self) -> dict[str, Any]:
        return {"max_splits": self.max_splits}

    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        t0, ev0 = time.perf_counter(), evaluator.num_evaluations
        rng = np.random.default_rng(seed)
        mcm = evaluator.mcm
        lat, _ = expected_layer_costs(evaluator)
        horizon = max(float(np.sum(x)) for x in lat)
        n_splits = int(rng.integers(0, self.max_splits + 1))
        bounds = np.unique(rng.uniform(0, horizon, n_splits))
        bounds = bounds[bounds > 0]
        tw = first_fit_windows(lat, bounds)
        adj = _adjacency(mcm)
        windows = []
        for win in split_crowded_windows(tw.windows, mcm.num_chiplets):
            models = list(win)
            caps = [hi - lo for lo, hi in win.values()]
            # Random composition: every model 1, the rest one by one to random models below their cap.
            nodes = {m: 1 for m in models}
            extra = int(rng.integers(0, mcm.num_chiplets - len(models) + 1))
            for _ in range(extra):
                open_ = [m for m, c in zip(models, caps) if nodes[m] < c]
                if not open_:
                    break
                nodes[open_[int(rng.integers(len(open_)))]] += 1
            free = (1 << mcm.num_chiplets) - 1
            assigns = []
            for m in [models[i] for i in rng.permutation(len(models))]:
                lo, hi = win[m]
                roots = [c for c in range(mcm.num_chiplets) if (free >> c) & 1]
                walk = [roots[int(rng.integers(len(roots)))]]
                used = 1 << walk[0]
                while len(walk) < nodes[m]:
                    nbs = [n for n in adj[walk[-1]] if (free >> n) & 1 and not (used >> n) & 1]
                    if not nbs:
                        break
                    walk.append(nbs[int(rng.integers(len(nbs)))])
                    used |= 1 << walk[-1]
                s = len(walk)
                cuts = sorted(int(x) for x in rng.choice(np.arange(lo + 1, hi), size=s - 1, replace=False)) if s > 1 else []
                assigns.append(Assignment.from_cuts(m, lo, hi, cuts, walk))
                free &= ~mask_of(walk)
            windows.append(Window(tuple(sorted(assigns, key=lambda a: a.model))))
        return Schedule(tuple(windows), _meta(self, evaluator, ev0, t0, seed, boundaries_s=[float(b) for b in bounds]))


class GreedyPolicy(Policy):
    """A HEFT-style list scheduler (Topcuoglu et al., 2002) adapted to windows and pipelines.

    Same windows and node counts as SCAR's rule-based PROV. Per window **[choice]**:

    * *segments*: each model's layers are cut into ``N_i`` segments balanced by expected latency
      (quantile cuts of the cumulative expected latency);
    * *priority*: models by decreasing expected latency in the window (HEFT's upward rank: a model's
      pipeline is a chain, so its rank is its remaining expected work), segments in pipeline order;
    * *processor selection*: each segment goes to the free chiplet that gives the earliest finish,
      i.e. the lowest latency (evaluator) of the model's pipeline built so far; ties to the lower
      chiplet index. Chiplets need not be neighbours (extra hops are paid), so the schedules pass
      ``validate`` but not necessarily ``require_paths``.
    """

    name = "greedy"

    def __init__(self, n_splits: int = 4, objective: str | None = None):
        _check_splits(n_splits)
        _check_objective(objective)
        self.n_splits = n_splits
        self.objective = objective

    def params(self) -> dict[str, Any]:
        return {"n_splits": self.n_splits, "objective": self.objective}

    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        t0, ev0 = time.perf_counter(), evaluator.num_evaluations
        obj = self.objective or evaluator.objective
        lat, en = expected_layer_costs(evaluator)
        C = evaluator.mcm.num_chiplets
        windows = []
        for win in scar_windows(evaluator, self.n_splits):
            models = list(win)
            weights = [expected_objective(obj, float(lat[m][lo:hi].sum()), float(en[m][lo:hi].sum()))
                       for m, (lo, hi) in win.items()]
            nodes = dict(zip(models, provision(weights, C, [hi - lo for lo, hi in win.values()])))
            free = list(range(C))
            assigns = []
            for m in sorted(models, key=lambda m: (-float(lat[m][win[m][0]:win[m][1]].sum()), m)):
                lo, hi = win[m]
                bounds = [lo, *balanced_cuts(lat[m][lo:hi], lo, nodes[m]), hi]
                segs: list[Segment] = []
                for a, b in zip(bounds[:-1], bounds[1:]):
                    best = None
                    for c in free:
                        trial = Assignment(m, tuple(segs) + (Segment(a, b, c),))
                        v = evaluator.evaluate_assignment(trial).latency_s
                        if best is None or v < best[0]:
                            best = (v, c)
                    segs.append(Segment(a, b, best[1]))
                    free.remove(best[1])
                assigns.append(Assignment(m, tuple(segs)))
            windows.append(Window(tuple(sorted(assigns, key=lambda a: a.model))))
        return Schedule(tuple(windows), _meta(self, evaluator, ev0, t0, seed, objective=obj))
