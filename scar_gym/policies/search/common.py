"""What every budgeted search policy shares: parameters, the search space, warm start, provenance.

A :class:`SearchPolicy` subclass implements only :meth:`SearchPolicy._search`, which proposes
genomes to a :class:`~scar_gym.policies.search.scoring.Scorer` until it reports ``exhausted``.

Parameters common to ``random-search``, ``sa`` and ``ga``:

* ``budget``: cost-model evaluations allowed (see :mod:`~scar_gym.policies.search.scoring` for the
  unit, ``budget_unit``); the count used is reported in ``Schedule.meta['evaluations']``.
* ``seed``: default seed when :meth:`schedule` is called without one (then 0). All randomness comes
  from one ``numpy.random.Generator`` made from it; nothing global.
* ``objective``: ``edp`` / ``latency`` / ``energy``; ``None`` = the evaluator's.
* ``n_splits``: MCM-Reconfig boundaries (windows = n_splits + 1 before empty ones are dropped);
  ``windows`` overrides them with explicit ranges (a ``TimeWindows``, a list of ``{model: (start,
  stop)}``, or a schedule whose windows to reuse).
* ``init``: ``random``; ``prov`` (a constructive first schedule: PROV node counts, cuts balancing the
  expected layer latency, random chiplets -- see :func:`heuristic_genome`); or ``scar`` (warm start
  from the SCAR policy's schedule -- SCAR with its
  defaults, the search's ``n_splits`` and objective, and seed 0 whatever the search's seed. The
  search then uses SCAR's windows, the SCAR schedule is its first point, and SCAR's own evaluations
  are charged to the budget). The budget is a hard cap: a budget too small for the first schedule (or for SCAR's
  own cost with ``init='scar'``) is a :class:`ConfigError`.
* ``nodes``: ``free`` (the genome picks node counts) or ``prov`` (fixed at SCAR's PROV allocation,
  or at the warm-start schedule's node counts when ``init='scar'``).
* ``max_nodes``: optional cap on a model's nodes per window.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.evaluator import DEFAULT_MEMO_SIZE, Evaluator, objective_value
from scar_gym.policies.base import Policy
from scar_gym.policies.search.genome import Genome, SearchSpace, window_ranges
from scar_gym.policies.search.scoring import BUDGET_UNITS, Scorer
from scar_gym.schedule import Schedule

INITS = ("random", "prov", "scar")
NODE_MODES = ("free", "prov")


def prov_node_counts(evaluator: Evaluator, windows: list[dict[int, tuple[int, int]]], objective: str,
                     max_nodes: int | None = None) -> list[dict[int, int]]:
    """SCAR's PROV allocation (rule mode) for each window (split windows are allocated per chunk)."""
    from scar_gym.policies.scar.prov import expected_objective, provision
    from scar_gym.policies.windows import expected_layer_costs

    lat, en = expected_layer_costs(evaluator)
    C = evaluator.mcm.num_chiplets
    out = []
    for win in windows:
        models = sorted(win)
        counts: dict[int, int] = {}
        for i in range(0, len(models), C):
            chunk = models[i:i + C]
            w = [expected_objective(objective, float(lat[m][a:b].sum()), float(en[m][a:b].sum()))
                 for m, (a, b) in ((m, win[m]) for m in chunk)]
            caps = [min(win[m][1] - win[m][0], max_nodes or C) for m in chunk]
            counts.update(zip(chunk, provision(w, C, caps)))
        out.append(counts)
    return out


def balanced_cuts(weights: np.ndarray, a: int, k: int) -> tuple[int, ...]:
    """``k - 1`` cut positions (absolute, layers start at ``a``) splitting ``weights`` into ``k``
    contiguous non-empty parts of roughly equal sum."""
    n = len(weights)
    if k <= 1:
        return ()
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    total = cum[-1] if cum[-1] > 0 else 1.0
    cuts: list[int] = []
    for i in range(1, k):
        p = int(np.searchsorted(cum, total * i / k)) + 1  # first layer after the i-th share
        lo = (cuts[-1] + 1) if cuts else 1
        hi = n - (k - i)  # leave one layer for each later segment
        cuts.append(min(max(p, lo), hi))
    return tuple(a + c for c in cuts)


def heuristic_genome(evaluator: Evaluator, space: SearchSpace, objective: str, rng: np.random.Generator) -> Genome:
    """A constructive starting point: PROV node counts (or the space's fixed ones), cuts that balance the
    expected layer latency over the MCM's dataflow mix, and a random permutation of the chiplets."""
    from scar_gym.policies.windows import expected_layer_costs

    lat, _ = expected_layer_costs(evaluator)
    if space.fixed_nodes:
        counts = [dict(zip(w.models, space.node_counts[wi])) for wi, w in enumerate(space.windows)]
    else:
        counts = prov_node_counts(evaluator, [w.as_dict() for w in space.windows], objective, space.max_nodes)
    genome = []
    for wi, spec in enumerate(space.windows):
        ks = [min(counts[wi][m], space.kmax(wi, j)) for j, m in enumerate(spec.models)]
        perm = [int(c) for c in rng.permutation(space.num_chiplets)]
        genes, i = [], 0
        for j, (m, (a, b)) in enumerate(zip(spec.models, spec.ranges)):
            genes.append((balanced_cuts(lat[m][a:b], a, ks[j]), tuple(perm[i:i + ks[j]])))
            i += ks[j]
        genome.append(tuple(genes))
    out = tuple(genome)
    space.check(out)
    return out


def resolve_seed(seed: int | None, default: int | None) -> int:
    s = seed if seed is not None else default if default is not None else 0
    if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
        raise ConfigError("seed", f"must be an integer, got {s!r}", "e.g. --seed 0")
    return int(s)


#: Cost-model evaluations a search may spend at most (about 40 minutes at 4,200 evaluations per second).
MAX_BUDGET = 10_000_000


class SearchPolicy(Policy):
    """Base of the budgeted searches; see the module docstring for the parameters."""

    name = "search"

    def __init__(self, budget: int = 2000, seed: int | None = None, objective: str | None = None,
                 n_splits: int = 4, windows: Any = None, init: str = "random", nodes: str = "free",
                 budget_unit: str = "assignments", max_nodes: int | None = None):
        if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool) or not 1 <= budget <= MAX_BUDGET:
            raise ConfigError("budget", f"must be an integer 1 .. {MAX_BUDGET:,}, got {budget!r}", "e.g. --budget 2000")
        if init not in INITS:
            raise ConfigError("init", f"unknown init {init!r}", f"use one of {', '.join(INITS)}")
        if nodes not in NODE_MODES:
            raise ConfigError("nodes", f"unknown node mode {nodes!r}", f"use one of {', '.join(NODE_MODES)}")
        if budget_unit not in BUDGET_UNITS:
            raise ConfigError("budget_unit", f"unknown unit {budget_unit!r}", f"use one of {', '.join(BUDGET_UNITS)}")
        if objective is not None:
            objective_value(objective, 1.0, 1.0)
        if not isinstance(n_splits, (int, np.integer)) or n_splits < 0:
            raise ConfigError("n_splits", f"must be an integer >= 0, got {n_splits!r}", "e.g. 4")
        self.budget = int(budget)
        self.seed = seed
        self.objective = objective
        self.n_splits = int(n_splits)
        self.windows = windows
        self.init = init
        self.nodes = nodes
        self.budget_unit = budget_unit
        self.max_nodes = max_nodes

    def params(self) -> dict[str, Any]:
        return {"budget": self.budget, "objective": self.objective, "n_splits": self.n_splits,
                "windows": "explicit" if self.windows is not None else "mcm-reconfig", "init": self.init,
                "nodes": self.nodes, "budget_unit": self.budget_unit, "max_nodes": self.max_nodes}

    # -- setup ---------------------------------------------------------------------------------------
    def build_space(self, evaluator: Evaluator, objective: str, warm: Schedule | None = None) -> SearchSpace:
        if warm is not None:
            wins = window_ranges(warm)
        elif self.windows is not None:
            wins = window_ranges(self.windows)
        else:
            from scar_gym.policies.windows import mcm_reconfig

            wins = window_ranges(mcm_reconfig(evaluator, self.n_splits))
        counts = None
        if self.nodes == "prov":
            if warm is not None:
                counts = [{a.model: len(a.segments) for a in w.assignments} for w in warm.windows]
            else:
                counts = prov_node_counts(evaluator, wins, objective, self.max_nodes)
        return SearchSpace(evaluator.mcm.num_chiplets, wins, evaluator.num_layers, counts, self.max_nodes)

    def warm_start(self, evaluator: Evaluator, objective: str, seed: int) -> tuple[Schedule, int]:
        """SCAR's schedule and the evaluations it spent. SCAR runs on a private fresh evaluator (same
        models, MCM and cost tables), so its count -- memo misses -- is the number of distinct
        assignments it scored, whatever the shared evaluator's memo already holds."""
        from scar_gym.policies.scar.policy import ScarPolicy  # not via the registry, which names this module

        private = evaluator.fresh(cache_size=DEFAULT_MEMO_SIZE)
        scar = ScarPolicy(n_splits=self.n_splits, objective=objective)
        sched = scar.schedule(private, seed=0)  # SCAR's default run, whatever the search's seed
        return sched, int(private.num_evaluations)

    # -- the run -------------------------------------------------------------------------------------
    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        t0 = time.perf_counter()
        seed = resolve_seed(seed, self.seed)
        rng = np.random.default_rng(seed)
        objective = self.objective or evaluator.objective
        warm, warm_evals = (None, 0)
        if self.init == "scar":
            warm, warm_evals = self.warm_start(evaluator, objective, seed)
        space = self.build_space(evaluator, objective, warm)
        scorer = Scorer(evaluator, space, self.budget, objective, self.budget_unit)
        init: Genome | None = None
        if self.init == "prov":
            init = heuristic_genome(evaluator, space, objective, rng)
        if warm is not None:
            init = space.encode(warm)
            scorer.mark_seen(init)
            scorer.charge(warm_evals if self.budget_unit == "assignments" else 1)
        self._search(space, scorer, rng, init)
        if scorer.best_genome is None:  # cannot happen: every search scores its first point with force
            raise RuntimeError(f"{self.name}: no schedule scored")
        meta = {"policy": self.name, "params": self.params(), "seed": seed, "objective": objective,
                **scorer.meta(), "init_evaluations": warm_evals,
                "latency_s": scorer.best_lat_energy[0], "energy_j": scorer.best_lat_energy[1],
                "space": space.describe(), **self.extra_meta(),
                "runtime_s": round(time.perf_counter() - t0, 4)}
        sched = space.decode(scorer.best_genome, meta)
        evaluator.validate(sched)
        return sched

    def extra_meta(self) -> dict[str, Any]:
        return {}

    def _search(self, space: SearchSpace, scorer: Scorer, rng: np.random.Generator, init: Genome | None) -> None:
        raise NotImplementedError

    @staticmethod
    def first_point(space: SearchSpace, scorer: Scorer, rng: np.random.Generator, init: Genome | None) -> tuple[Genome, float]:
        g = init if init is not None else space.random_genome(rng)
        need = scorer.used + scorer.cost(g)
        if need > scorer.budget:
            what = "the SCAR warm start and its schedule" if init is not None else "one schedule"
            raise ConfigError("budget", f"{scorer.budget} {scorer.unit} is below the {need} that {what} needs",
                              f"raise --budget to at least {need}")
        v = scorer.score(g, force=True)
        return g, v
