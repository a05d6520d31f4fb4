"""Searches over SCHED candidates of one time window (spec 5.4-5.6).

Both searches minimise a *window objective* ``f(lat_w, E_w) = objective(L0 + lat_w, E0 + E_w)``
where ``lat_w`` is the window latency (max over its models) and ``E_w`` its energy (sum). With
``L0 = E0 = 0`` this is the window's own objective (the paper's "best per window"); the SCAR policy
may pass the other windows' totals as ``(L0, E0)`` to optimise the scenario's objective instead.
``f`` is non-decreasing in every model's latency and energy, which is what the pruning relies on.

* :func:`exhaustive_search` (3x3): every model's candidates are (top-k segmentation) x (every
  simple path of its length on the MCM); a combination is valid when the paths are disjoint, which
  is exactly the set of all SCHED trees (all root orderings and DFS paths). Branch and bound over
  the models with chiplet bitmasks: candidates are scored once each by the evaluator (memoised, and
  paths with equal signatures share one evaluation), dominated candidates on the same chiplets are
  dropped, and a branch is cut when the bound ``f(max(lat, min lat of the rest), E + sum of min E of
  the rest)`` cannot beat the best. ``max_nodes`` bounds the tree walk (returning the best so far).
* :func:`evolutionary_search` (larger MCMs): the ``2 x |M|`` integer encoding of
  :mod:`~scar_gym.policies.scar.sched` plus one gene for the ordering of the roots, a population
  seeded with greedy constructive candidates for several orderings, truncation selection (the
  better half survives), uniform crossover and per-gene mutation, for ``generations``
  generations; a seeded ``numpy.random.Generator`` and nothing global.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from scar_gym.evaluator import Evaluator, ModelWindowResult, objective_value
from scar_gym.policies.scar.sched import (ModelOptions, _adjacency, decode, mask_of, path_signature, paths_from,
                                          simple_paths, start_mask)
from scar_gym.schedule import Assignment


@dataclass
class WindowSolution:
    assignments: list[Assignment]
    latency_s: float
    energy_j: float
    value: float
    stats: dict = field(default_factory=dict)


def window_objective(objective: str, l0: float = 0.0, e0: float = 0.0) -> Callable[[float, float], float]:
    def f(lat: float, en: float) -> float:
        return objective_value(objective, l0 + lat, e0 + en)
    return f


@dataclass(frozen=True)
class Candidate:
    """One model's (cut set, path) with its evaluated latency and energy; the assignment is built on demand."""

    opt: ModelOptions
    cuts: tuple[int, ...]
    path: tuple[int, ...]
    mask: int
    latency_s: float
    energy_j: float

    @property
    def assignment(self) -> Assignment:
        return self.opt.assignment(self.cuts, self.path)


class CandidateCache:
    """Per-model candidate lists (segmentation x path), built once per (options) and reused."""

    def __init__(self, evaluator: Evaluator):
        self.ev = evaluator
        self.mcm = evaluator.mcm
        self._paths: dict[int, list[tuple]] = {}
        self._lists: dict[tuple, list[Candidate]] = {}

    def paths(self, length: int) -> list[tuple]:
        """Simple paths of ``length`` chiplets with their signature and chiplet mask (cached)."""
        if length not in self._paths:
            self._paths[length] = [(p, path_signature(self.mcm, p), mask_of(p)) for p in simple_paths(self.mcm, length)]
        return self._paths[length]

    def candidates(self, opt: ModelOptions, cut_sets: Sequence[tuple[int, ...]]) -> list[Candidate]:
        key = (opt.model, opt.lo, opt.hi, tuple(cut_sets))
        if key in self._lists:
            return self._lists[key]
        out: list[Candidate] = []
        for cuts in cut_sets:
            by_sig: dict[tuple, ModelWindowResult] = {}
            for path, sig, mask in self.paths(len(cuts) + 1):
                r = by_sig.get(sig)
                if r is None:
                    r = by_sig[sig] = self.ev.evaluate_assignment(opt.assignment(cuts, path))
                out.append(Candidate(opt, cuts, path, mask, r.latency_s, r.energy_j))
        self._lists[key] = out
        return out


def _prune(cands: list[Candidate], f: Callable[[float, float], float]) -> list[Candidate]:
    """Drop candidates dominated on the same chiplets; sort the rest by their own objective."""
    by_mask: dict[int, list[Candidate]] = {}
    for c in cands:
        by_mask.setdefault(c.mask, []).append(c)
    kept: list[Candidate] = []
    for group in by_mask.values():
        group.sort(key=lambda c: (c.latency_s, c.energy_j))
        best_e = np.inf
        for c in group:
            if c.energy_j < best_e:
                kept.append(c)
                best_e = c.energy_j
    kept.sort(key=lambda c: f(c.latency_s, c.energy_j))
    return kept


def exhaustive_search(evaluator: Evaluator, options: Sequence[ModelOptions], f: Callable[[float, float], float],
                      cache: CandidateCache | None = None, max_nodes: int = 2_000_000,
                      with_fallbacks: bool = False) -> WindowSolution | None:
    """Best disjoint combination of the models' (segmentation, path) candidates; ``None`` if none fits.

    ``with_fallbacks`` adds every segment count's best cut set to each model's top-k from the start
    (so a model can leave chiplets to the others); otherwise they are added only when the top-k
    cannot be packed at all."""
    cache = cache or CandidateCache(evaluator)
    if with_fallbacks:
        lists = [_prune(cache.candidates(o, tuple(dict.fromkeys(o.cuts + o.fallbacks))), f) for o in options]
    else:
        lists = [_prune(cache.candidates(o, o.cuts), f) for o in options]
    sol = branch_and_bound(lists, f, max_nodes)
    if sol is None and not with_fallbacks:
        # Some top-k cut sets cannot be packed together: add every segment count's best as fallback.
        lists = [_prune(cache.candidates(o, tuple(dict.fromkeys(o.cuts + o.fallbacks))), f) for o in options]
        sol = branch_and_bound(lists, f, max_nodes)
    return sol


def branch_and_bound(lists: Sequence[Sequence[Any]], f, max_nodes: int) -> WindowSolution | None:
    """The best disjoint choice of one candidate per list by the window objective ``f(latency,
    energy)`` (each list sorted best first for pruning; a candidate has ``mask``, ``latency_s``,
    ``energy_j`` and ``assignment``); ``None`` if none fits. At most ``max_nodes`` nodes: past that
    the best found so far (``stats["truncated"]``). SCAR's exhaustive window search, and the
    rollout search's window polish (:mod:`scar_gym.envs.rollout_search`)."""
    n = len(lists)
    if any(not lst for lst in lists):
        return None
    # Place the models with the longest paths first (hardest to pack), then fewer candidates.
    order = sorted(range(n), key=lambda i: (-bin(lists[i][0].mask).count("1"), len(lists[i]), i))
    ordered = [lists[i] for i in order]
    min_lat = [min(c.latency_s for c in lst) for lst in ordered]
    min_e = [min(c.energy_j for c in lst) for lst in ordered]
    rest_lat = [0.0] * (n + 1)
    rest_e = [0.0] * (n + 1)
    for i in range(n - 1, -1, -1):
        rest_lat[i] = max(rest_lat[i + 1], min_lat[i])
        rest_e[i] = rest_e[i + 1] + min_e[i]
    best = [np.inf, None]
    chosen: list[Candidate | None] = [None] * n
    nodes = [0]

    def rec(i: int, used: int, lat: float, en: float) -> None:
        if i == n:
            v = f(lat, en)
            if v < best[0]:
                best[0], best[1] = v, list(chosen)
            return
        for c in ordered[i]:
            if c.mask & used:
                continue
            nodes[0] += 1
            if nodes[0] > max_nodes:
                return
            nl = lat if lat > c.latency_s else c.latency_s
            ne = en + c.energy_j
            bound_lat = nl if nl > rest_lat[i + 1] else rest_lat[i + 1]
            if f(bound_lat, ne + rest_e[i + 1]) >= best[0]:
                continue
            chosen[i] = c
            rec(i + 1, used | c.mask, nl, ne)

    rec(0, 0, 0.0, 0.0)
    if best[1] is None:
        return None
    picked = [None] * n
    for pos, i in enumerate(order):
        picked[i] = best[1][pos]
    lat = max(c.latency_s for c in picked)
    en = sum(c.energy_j for c in picked)
    return WindowSolution([c.assignment for c in picked], lat, en, best[0],
                          {"nodes": nodes[0], "truncated": nodes[0] > max_nodes})


# -- evolutionary ---------------------------------------------------------------------------------

def _score(evaluator: Evaluator, assigns: Sequence[Assignment], f) -> tuple[float, float, float]:
    rs = [evaluator.evaluate_assignment(a) for a in assigns]
    lat = max(r.latency_s for r in rs)
    en = sum(r.energy_j for r in rs)
    return f(lat, en), lat, en


_GREEDY_COUNTS = frozenset((1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64))


def greedy_genes(evaluator: Evaluator, options: Sequence[ModelOptions], order: Sequence[int], f,
                 paths_per_root: int = 2, per_root: int = 64, sig_cache: dict | None = None,
                 top: int | None = None, walk_cache: dict | None = None,
                 value_cache: dict | None = None) -> list[int]:
    """A constructive candidate: models in ``order`` each take the (cut set, path) with the best own
    objective among: their first ``top`` cut sets (all by default) plus the others whose segment
    count is in a geometric ladder (1, 2, 3, 4, 6, 8, ...), each on the first ``paths_per_root``
    DFS paths from every free root (following the cut set's best class sequence when some free path
    does, as :func:`~scar_gym.policies.scar.sched.path_for_gene` walks them); paths with equal
    signatures are evaluated once. Returned in the decode encoding. ``walk_cache`` (a dict) keeps
    the walks of a (length, class sequence, free chiplets) request: the cut sets of one segment
    count, and every greedy order's first model, ask for the same ones. ``value_cache`` (a dict) keeps
    the (latency, energy) of a (model, cut set, path signature): the greedy orders meet the same
    placements again, and building an assignment to hit the evaluator's cache costs as much as the
    lookup saves."""
    mcm = evaluator.mcm
    adj = _adjacency(mcm)
    class_of = tuple(mcm.class_of.tolist())
    free = (1 << mcm.num_chiplets) - 1
    genes = [0] * (2 * len(options))
    for i in order:
        opt = options[i]
        roots = [c for c in range(mcm.num_chiplets) if (free >> c) & 1]
        best = (np.inf, 0, 0, None)
        for j, cuts in enumerate(opt.cuts):
            length = len(cuts) + 1
            if top is not None and j >= top and length not in _GREEDY_COUNTS:
                continue
            classes = opt.probes.get(cuts)
            key = (length, classes, free, paths_per_root)
            walks = None if walk_cache is None else walk_cache.get(key)
            if walks is None:
                walks = _greedy_walks(adj, roots, length, free, classes, class_of, paths_per_root)
                if walk_cache is not None:
                    walk_cache[key] = walks
            seen: set[tuple] = set()
            for (parity, ri), paths in walks.items():
                for pj, p in enumerate(paths):
                    sig = path_signature(mcm, p, sig_cache)
                    if sig in seen:
                        continue
                    seen.add(sig)
                    vkey = (opt.model, opt.lo, opt.hi, cuts, sig)
                    lat_en = None if value_cache is None else value_cache.get(vkey)
                    if lat_en is None:
                        r = evaluator.evaluate_assignment(opt.assignment(cuts, p))
                        lat_en = (r.latency_s, r.energy_j)
                        if value_cache is not None:
                            value_cache[vkey] = lat_en
                    v = f(*lat_en)
                    if v < best[0]:
                        g = ri + pj * len(roots)
                        best = (v, j, (2 * g + parity) if classes is not None else g, p)
        if best[3] is None:  # nothing placeable: let decode repair
            continue
        genes[2 * i], genes[2 * i + 1] = best[1], best[2]
        free &= ~mask_of(best[3])
    return genes


def _greedy_walks(adj, roots: Sequence[int], length: int, free: int, classes, class_of,
                  paths_per_root: int) -> dict[tuple[int, int], list]:
    """Walks as :func:`~scar_gym.policies.scar.sched.path_for_gene` enumerates them: (gene parity, root
    index) -> the first ``paths_per_root`` paths; the class-following ones first when there are any."""
    def first(root: int, cls) -> list:
        return list(itertools.islice(paths_from(adj, root, length, free, 20_000, cls, class_of, check=False),
                                     paths_per_root))

    walks: dict[tuple[int, int], list] = {}
    if classes is not None:
        ok = start_mask(adj, length, free, tuple(classes), tuple(class_of))  # once, not per root
        walks = {(0, ri): first(root, classes) if (ok >> root) & 1 else [] for ri, root in enumerate(roots)}
        if not any(walks.values()):
            walks = {}
    ok = start_mask(adj, length, free)
    for ri, root in enumerate(roots):
        walks[(1, ri)] = first(root, None) if (ok >> root) & 1 else []
    return walks


def permutation_from_rank(items: Sequence[int], rank: int) -> list[int]:
    """The ``rank``-th permutation of ``items`` in lexicographic order of positions (factorial base)."""
    pool = list(items)
    out = []
    rank %= math.factorial(len(pool))
    for i in range(len(pool), 0, -1):
        f = math.factorial(i - 1)
        j, rank = divmod(rank, f)
        out.append(pool.pop(j))
    return out


def permutation_rank(items: Sequence[int], perm: Sequence[int]) -> int:
    """Inverse of :func:`permutation_from_rank`."""
    pool = list(items)
    rank = 0
    for i, x in enumerate(perm):
        j = pool.index(x)
        rank += j * math.factorial(len(pool) - 1)
        pool.pop(j)
    return rank


def _seed_orders(base: list[int], limit: int) -> list[list[int]]:
    """Distinct model orders for the greedy seeds: the base order, its reverse, then their rotations."""
    cands = [base, base[::-1]]
    cands += [base[i:] + base[:i] for i in range(1, len(base))]
    rev = base[::-1]
    cands += [rev[i:] + rev[:i] for i in range(1, len(rev))]
    out: list[list[int]] = []
    for c in cands:
        if c not in out:
            out.append(c)
        if len(out) >= limit:
            break
    return out


@dataclass
class SearchCaches:
    """Memos of the evolutionary search that depend on the MCM and the evaluator only, never on the
    window objective: one SCAR run re-solves every window (boundary candidates, refinement passes
    with other objectives) and meets the same walks, signatures, placements and decodings again.

    ``decoded`` is keyed by the identities of the run's :class:`ModelOptions` objects, so it is only
    valid while their owner (the run's SEG cache) keeps them alive.
    """

    sig: dict = field(default_factory=dict)
    walk: dict = field(default_factory=dict)
    value: dict = field(default_factory=dict)
    decoded: dict = field(default_factory=dict)


def evolutionary_search(evaluator: Evaluator, options: Sequence[ModelOptions], f, rng: np.random.Generator,
                        population: int = 10, generations: int = 4, mutation: float | None = None,
                        per_root: int = 64, seed_greedy: bool = True, with_fallbacks: bool = True,
                        caches: SearchCaches | None = None) -> WindowSolution:
    """Evolve integer candidates: an order gene (the ordering of the models' roots: the rank of a
    permutation), then per model a segmentation gene and a path gene (the paper's ``2 x |M|``; see
    :func:`~scar_gym.policies.scar.sched.decode`).

    ``with_fallbacks`` lets the segmentation gene also choose every segment count's best cut set
    (as the exhaustive search does). The initial population holds greedy constructive candidates
    (:func:`greedy_genes`) for up to ``population // 2`` root orderings, the all-zero candidate,
    and random ones; then truncation selection (the better half survives), uniform crossover and
    per-gene mutation (rate ``1 / genes``) for ``generations`` generations. ``caches`` shares memos
    across calls on the same MCM and evaluator (see :class:`SearchCaches`); results are unchanged.
    """
    caches = caches if caches is not None else SearchCaches()
    options_key = (tuple(id(o) for o in options), with_fallbacks, per_root)
    mcm = evaluator.mcm
    adj = _adjacency(mcm)
    n = len(options)
    top = max(len(o.cuts) for o in options)
    if with_fallbacks:
        options = [ModelOptions(o.model, o.lo, o.hi, tuple(dict.fromkeys(o.cuts + o.fallbacks)), o.fallbacks, o.probes)
                   for o in options]
    base = sorted(range(n), key=lambda i: (-(max(len(c) for c in options[i].cuts) + 1), i))
    path_space = 2 * mcm.num_chiplets * per_root
    highs = np.array([math.factorial(n)] + [v for o in options for v in (len(o.cuts), path_space)], dtype=np.int64)
    mutation = mutation if mutation is not None else 1.0 / len(highs)
    cache: dict[tuple, tuple] = {}

    def fitness(genes: np.ndarray):
        key = tuple(int(g) for g in genes)
        if key not in cache:
            assigns = caches.decoded.get((options_key, key))
            if assigns is None:
                order = permutation_from_rank(base, key[0])
                assigns = decode(mcm, options, key[1:], order=order, per_root=per_root, adj=adj)
                caches.decoded[(options_key, key)] = assigns
            cache[key] = (*_score(evaluator, assigns, f), assigns)
        return cache[key]

    pop = [rng.integers(0, highs) for _ in range(population)]
    seeds: list[np.ndarray] = []
    if seed_greedy and population > 0:
        for order in _seed_orders(base, max(1, population // 2)):
            genes = greedy_genes(evaluator, options, order, f, per_root=per_root, sig_cache=caches.sig, top=top,
                                 walk_cache=caches.walk, value_cache=caches.value)
            seeds.append(np.array([permutation_rank(base, order)] + genes, dtype=np.int64))
        seeds.append(np.zeros(len(highs), dtype=np.int64))  # top cut sets on the first DFS paths
    for i, g in enumerate(seeds[:population]):
        pop[i] = g
    for _ in range(generations):
        pop.sort(key=lambda g: fitness(g)[0])
        parents = pop[: max(1, population // 2)]
        children = []
        while len(parents) + len(children) < population:
            a = parents[int(rng.integers(len(parents)))]
            b = parents[int(rng.integers(len(parents)))]
            child = np.where(rng.random(len(highs)) < 0.5, a, b)
            mutate = rng.random(len(highs)) < mutation
            child = np.where(mutate, rng.integers(0, highs), child)
            children.append(child)
        pop = parents + children
    pop.sort(key=lambda g: fitness(g)[0])
    v, lat, en, assigns = fitness(pop[0])
    return WindowSolution(list(assigns), lat, en, v, {"individuals": len(cache)})
