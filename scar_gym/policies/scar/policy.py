"""The SCAR scheduler as a policy: MCM-Reconfig -> PROV -> SEG -> SCHED -> search (spec section 5).

Per boundary candidate (the periodic set, plus ``boundary_candidates - 1`` seeded jittered sets):

1. **Windows**: first-fit packing of every model's layers at the boundaries
   (:func:`~scar_gym.policies.windows.first_fit_windows`, over the expected layer latencies of the
   MCM's dataflow mix); a window with more models than chiplets is split into consecutive
   sub-windows of at most ``|C|`` models (:func:`split_crowded_windows`) **[choice]**.
2. **PROV** per window: ``N_i`` by the rounding rule (or every allocation with ``prov="exhaustive"``),
   capped by the model's layers in the window and ``node_cap``.
3. **SEG**: candidate cut sets into at most ``N_i`` segments, scored alone, top-``k`` kept.
4. **SCHED + search**: the best disjoint placement of the models' (cut set, DFS path) pairs, by the
   exhaustive branch and bound (``search="exhaustive"``; the default on MCMs of up to
   ``exhaustive_max_chiplets`` chiplets) or the evolutionary search (larger MCMs).
5. **Windows' objective** **[choice]**: the first pass keeps the best per window (the paper's
   rule). With ``refine=True`` (default) further passes re-solve each window against the scenario
   objective with the other windows fixed (coordinate descent on ``(L0 + lat_w) x (E0 + E_w)``);
   a pass is kept only when the scenario objective improves. ``refine=False`` gives the paper's rule.

The boundary set whose schedule has the best scenario objective wins. ``Schedule.meta`` records the
policy name, its parameters, the seed, the boundaries, each window's node allocation, the number of
evaluator evaluations (memo misses) and the wall time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.evaluator import OBJECTIVES, Evaluator, objective_value
from scar_gym.policies.base import Policy
from scar_gym.policies.scar.prov import all_provisions
from scar_gym.policies.scar.sched import ModelOptions
from scar_gym.policies.scar.search import (CandidateCache, SearchCaches, WindowSolution, evolutionary_search,
                                           exhaustive_search, window_objective)
from scar_gym.policies.scar.steps import LARGE_MCM_CHIPLETS, PROV_METRICS, WindowSteps, allocation_caps, prov_weight
from scar_gym.policies.windows import (MAX_SPLITS, WindowRanges, expected_layer_costs, first_fit_windows,
                                       periodic_boundaries, split_crowded_windows)
from scar_gym.schedule import Schedule, Window

PROV_MODES = ("rule", "exhaustive")
SEARCH_MODES = ("auto", "exhaustive", "evolutionary")


def jittered_boundaries(horizon_s: float, n_splits: int, rng: np.random.Generator, jitter: float = 0.5) -> np.ndarray:
    """Periodic boundaries each moved by up to ``jitter/2`` of a window width, kept sorted and distinct."""
    base = periodic_boundaries(horizon_s, n_splits)
    width = horizon_s / (n_splits + 1)
    b = np.sort(base + (rng.random(n_splits) - 0.5) * jitter * width)
    b = np.clip(b, 1e-9 * horizon_s, None)
    for i in range(1, len(b)):  # strictly increasing
        b[i] = max(b[i], b[i - 1] * (1 + 1e-9) + 1e-15)
    return b


def boundary_sets(horizon_s: float, n_splits: int, count: int, rng: np.random.Generator,
                  jitter: float = 0.5) -> list[np.ndarray]:
    """SCAR's candidate window boundaries: the periodic set, then up to ``count - 1`` jittered ones
    drawn from ``rng`` in order (none without splits). Window-v0's rollout search tries the same
    sets, so both must draw them here."""
    sets = [periodic_boundaries(horizon_s, n_splits)]
    while n_splits and len(sets) < count:
        sets.append(jittered_boundaries(horizon_s, n_splits, rng, jitter))
    return sets


#: Chiplets of the largest MCM SCAR schedules (8x8): its evolutionary window search grows steeply with
#: the grid (sc4 takes 3.4 CPU-s on 6x6, 7.1 on 7x7 and 10.3 on 8x8 on the reference machine;
#: scripts/bench_scar_sizes.py).
MAX_CHIPLETS = 64
#: Segmentations kept per model and window at most (sc5 on 6x6: 22 s at k = 3, 66 s at k = 64).
MAX_K = 64


@dataclass(frozen=True)
class ScarOptions:
    """The SCAR policy's options (validated); ``asdict`` of them is ``Schedule.meta["params"]``.

    Attributes:
        objective: ``edp``, ``latency`` or ``energy``; ``None`` uses the evaluator's.
        n_splits: window boundaries (``n_splits + 1`` windows).
        k: segmentation candidates kept per model and window (heuristic 1).
        prov: ``rule`` (the rounding rule) or ``exhaustive`` (every allocation).
        search: ``auto`` (exhaustive on MCMs of at most ``exhaustive_max_chiplets``, else
            evolutionary), ``exhaustive`` or ``evolutionary``.
        boundary_candidates: boundary sets tried (the periodic set first, then seeded jittered ones).
        population, generations: evolutionary search size.
        node_cap: heuristic 2, a cap on chiplets per model and window (``None``: none).
        refine: optimise windows against the scenario objective after the per-window pass.
        seg_limit: exhaustive SEG enumeration up to this many cut sets per segment count.
        seg_radius: perturbation radius around balanced cuts.
        max_probes: class sequences a cut set is scored on (heuristic 1).
        exhaustive_max_chiplets: ``auto`` switches to the evolutionary search above this.
        max_nodes: branch-and-bound node budget per window search.
        boundaries: explicit window boundaries in seconds (overrides ``n_splits``/candidates).
        jitter: spread of the jittered boundary sets, as a fraction of a window's width.
        prov_metric: PROV's ``P``: ``objective`` (the objective of the expected totals: the paper's
            rule), ``latency``, ``energy`` or ``geomean`` (``sqrt(E[lat] E[en])``).
        fallbacks: **[choice]** let the search also use, for every model, the best cut set of every
            segment count (not only its top-k), so a model can leave chiplets to the others. Without
            it the top-k alone (all usually using every allocated node) are searched and fallbacks
            are used only when they cannot be packed; on Het-Sides that left ResNet-50 and U-Net on
            Shi chiplets while the language models held every NVD one (sc4 EDP 5.15 -> 0.74 J s
            with fallbacks, at the time of writing).
    """

    objective: str | None = None
    n_splits: int = 4
    k: int = 3
    prov: str = "rule"
    search: str = "auto"
    boundary_candidates: int = 3
    population: int = 10
    generations: int = 4
    node_cap: int | None = None
    refine: bool = True
    seg_limit: int = 2000
    seg_radius: int = 2
    max_probes: int = 24
    exhaustive_max_chiplets: int = LARGE_MCM_CHIPLETS
    max_nodes: int = 2_000_000
    boundaries: tuple[float, ...] | None = None
    jitter: float = 0.5
    prov_metric: str = "objective"
    fallbacks: bool = True

    def __post_init__(self) -> None:
        if self.objective is not None and self.objective not in OBJECTIVES:
            raise ConfigError("objective", f"unknown objective {self.objective!r}",
                              f"use one of {', '.join(OBJECTIVES)}")
        if not isinstance(self.n_splits, int) or isinstance(self.n_splits, bool) or not 0 <= self.n_splits <= MAX_SPLITS:
            raise ConfigError("n_splits", f"must be an integer 0 .. {MAX_SPLITS}, got {self.n_splits!r}", "use e.g. 4")
        if not isinstance(self.k, int) or self.k > MAX_K:
            raise ConfigError("k", f"must be an integer 1 .. {MAX_K}, got {self.k!r}", "use e.g. 3")
        for name in ("k", "boundary_candidates", "population", "seg_limit", "max_probes"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ConfigError(name, f"must be an integer >= 1, got {v!r}", "")
        if not isinstance(self.generations, int) or self.generations < 0:
            raise ConfigError("generations", f"must be an integer >= 0, got {self.generations!r}", "")
        if self.node_cap is not None and (not isinstance(self.node_cap, int) or self.node_cap < 1):
            raise ConfigError("node_cap", f"must be an integer >= 1 or None, got {self.node_cap!r}", "")
        if self.prov not in PROV_MODES:
            raise ConfigError("prov", f"unknown mode {self.prov!r}", f"use one of {', '.join(PROV_MODES)}")
        if self.search not in SEARCH_MODES:
            raise ConfigError("search", f"unknown mode {self.search!r}", f"use one of {', '.join(SEARCH_MODES)}")
        if self.boundaries is not None:
            object.__setattr__(self, "boundaries", tuple(float(b) for b in self.boundaries))
        if self.prov_metric not in PROV_METRICS:
            raise ConfigError("prov_metric", f"unknown metric {self.prov_metric!r}",
                              f"use one of {', '.join(PROV_METRICS)}")


class ScarPolicy(Policy):
    """SCAR (Odema et al., MICRO 2024); see the module docstring.

    ``ScarPolicy(**options)`` or ``ScarPolicy(ScarOptions(...), **overrides)``; the options are the
    fields of :class:`ScarOptions` (unknown names are rejected by name), held as ``self.options``.
    """

    name = "scar"
    Options = ScarOptions

    def __init__(self, options: ScarOptions | None = None, /, **overrides: Any):
        self.options: ScarOptions = self.make_options(options, overrides)

    # -- entry point ---------------------------------------------------------------------------
    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        n = evaluator.mcm.num_chiplets
        if n > MAX_CHIPLETS:
            raise ConfigError("mcm", f"SCAR schedules MCMs of at most {MAX_CHIPLETS} chiplets, {evaluator.mcm.name} has "
                              f"{n}: its search grows steeply past that (scenario 4: 10 CPU-s on 8x8)",
                              f"use a grid of at most {MAX_CHIPLETS} chiplets, or a policy without SCAR's search "
                              "(greedy, random, "
                              "standalone, random-search, sa, ga)")
        t0 = time.perf_counter()
        ev0 = evaluator.num_evaluations
        o = self.options
        run = _ScarRun(o, evaluator, seed)
        lat, _ = run.e_lat, run.e_en
        horizon = max(float(np.sum(x)) for x in lat)
        rng = np.random.default_rng(seed if seed is not None else 0)
        if o.boundaries is not None:
            sets = [np.asarray(o.boundaries)]
        else:
            sets = boundary_sets(horizon, o.n_splits, o.boundary_candidates, rng, o.jitter)
        best = None
        tried = []
        for b in sets:
            windows, sols, info = run.solve(b, rng)
            total_l = sum(s.latency_s for s in sols)
            total_e = sum(s.energy_j for s in sols)
            value = objective_value(run.objective, total_l, total_e)
            tried.append({"boundaries_s": [float(x) for x in b], "objective": value})
            if best is None or value < best[0]:
                best = (value, b, sols, info)
        value, b, sols, info = best
        schedule_windows = tuple(Window(tuple(sorted(s.assignments, key=lambda a: a.model))) for s in sols)
        meta = {
            "policy": self.name, "params": self.params(), "objective": run.objective, "seed": seed,
            "boundaries_s": [float(x) for x in b], "boundary_candidates": tried,
            "windows": info, "evaluations": evaluator.num_evaluations - ev0,
            "scheduler_s": time.perf_counter() - t0, "mcm": evaluator.mcm.name,
        }
        return Schedule(schedule_windows, meta)


class _ScarRun:
    """State of one ``ScarPolicy.schedule`` call (caches shared across boundary candidates)."""

    def __init__(self, options: ScarOptions, evaluator: Evaluator, seed: int | None):
        self.p = options
        self.ev = evaluator
        self.mcm = evaluator.mcm
        self.objective = options.objective or evaluator.objective
        self.e_lat, self.e_en = expected_layer_costs(evaluator)
        self.cand_cache = CandidateCache(evaluator)
        self.steps = WindowSteps(evaluator, self.objective, options.k, options.seg_limit, options.seg_radius,
                                 options.max_probes)
        self._seg_cache: dict[tuple, ModelOptions] = {}
        self.search_caches = SearchCaches()  # keyed by the ModelOptions of _seg_cache: same lifetime
        self.use_exhaustive = (options.search == "exhaustive" or
                               (options.search == "auto" and self.mcm.num_chiplets <= options.exhaustive_max_chiplets))
        self.seed = seed

    def options(self, m: int, lo: int, hi: int, n_nodes: int) -> ModelOptions:
        """SEG for the model's ``n_nodes`` chiplets: its top-k and fallbacks, for the search."""
        key = (m, lo, hi, n_nodes)
        if key not in self._seg_cache:
            choice = self.steps.seg(m, lo, hi, n_nodes, n_nodes, self.e_lat[m][lo:hi])
            probes = {c.cuts: c.probe for c in list(choice.top) + list(choice.fallbacks.values())}
            self._seg_cache[key] = ModelOptions(m, lo, hi, tuple(c.cuts for c in choice.top), choice.fallback_cuts(),
                                                probes)
        return self._seg_cache[key]

    def allocations(self, win: WindowRanges) -> list[tuple[int, ...]]:
        caps = allocation_caps(list(win.values()), self.mcm.num_chiplets, self.p.node_cap)
        if self.p.prov == "exhaustive":
            return list(all_provisions(len(win), self.mcm.num_chiplets, caps))
        weights = [prov_weight(self.p.prov_metric, self.objective, float(np.sum(self.e_lat[m][lo:hi])),
                               float(np.sum(self.e_en[m][lo:hi]))) for m, (lo, hi) in win.items()]
        return [self.steps.allocation(weights, caps)]

    def solve_window(self, win: WindowRanges, l0: float, e0: float, rng_seed: int) -> tuple[WindowSolution, tuple]:
        f = window_objective(self.objective, l0, e0)
        best: tuple[WindowSolution, tuple] | None = None
        for alloc in self.allocations(win):
            opts = [self.options(m, lo, hi, n) for (m, (lo, hi)), n in zip(win.items(), alloc)]
            if self.use_exhaustive:
                sol = exhaustive_search(self.ev, opts, f, self.cand_cache, self.p.max_nodes, self.p.fallbacks)
            else:
                sol = evolutionary_search(self.ev, opts, f, np.random.default_rng(rng_seed),
                                          self.p.population, self.p.generations, with_fallbacks=self.p.fallbacks,
                                          caches=self.search_caches)
            if sol is not None and (best is None or sol.value < best[0].value):
                best = (sol, alloc)
        if best is None:  # pragma: no cover - single segments always fit
            raise RuntimeError("no placement found for a window")
        return best

    def solve(self, boundaries: np.ndarray, rng: np.random.Generator):
        tw = first_fit_windows(self.e_lat, boundaries)
        windows = split_crowded_windows(tw.windows, self.mcm.num_chiplets)
        seeds = [int(x) for x in rng.integers(0, 2**31, len(windows))]
        sols, allocs = [], []
        for w, s in zip(windows, seeds):
            sol, alloc = self.solve_window(w, 0.0, 0.0, s)
            sols.append(sol)
            allocs.append(alloc)
        passes = 0
        if self.p.refine and len(windows) > 1 and self.objective == "edp":
            for _ in range(3):
                improved = False
                for i, (w, s) in enumerate(zip(windows, seeds)):
                    l0 = sum(x.latency_s for j, x in enumerate(sols) if j != i)
                    e0 = sum(x.energy_j for j, x in enumerate(sols) if j != i)
                    cur = objective_value(self.objective, l0 + sols[i].latency_s, e0 + sols[i].energy_j)
                    sol, alloc = self.solve_window(w, l0, e0, s)
                    if sol.value < cur * (1 - 1e-12):
                        sols[i], allocs[i] = sol, alloc
                        improved = True
                passes += 1
                if not improved:
                    break
        info = [{"models": {int(m): [int(lo), int(hi)] for m, (lo, hi) in w.items()},
                 "nodes": {int(m): int(n) for m, n in zip(w, a)}} for w, a in zip(windows, allocs)]
        return windows, sols, info
