"""SCHED: DFS paths, the 2x|M| candidate encoding, and the searches over it."""

import itertools

import numpy as np
import pytest

from scar_gym.evaluator import Evaluator
from scar_gym.hardware import grid_mcm
from scar_gym.policies.scar.sched import (ModelOptions, _adjacency, decode, mask_of, path_for_gene, path_signature,
                                          paths_from, probe_class_sequences, simple_paths, start_mask)
from scar_gym.policies.scar.search import (CandidateCache, SearchCaches, evolutionary_search, exhaustive_search,
                                           window_objective)
from scar_gym.schedule import Schedule, Window
from scar_gym.workloads.layers import gemm
from scar_gym.workloads.model import chain


def _is_simple_path(mcm, p):
    return len(set(p)) == len(p) and all(mcm.graph.has_edge(a, b) for a, b in zip(p, p[1:]))


@pytest.mark.parametrize("layout", ["NSN/NSN/NSN", "NSNS/SNSN/NSNS"])
def test_simple_paths_are_simple_and_complete(layout):
    mcm = grid_mcm(layout)
    n = mcm.num_chiplets
    assert len(simple_paths(mcm, 1)) == n
    assert len(simple_paths(mcm, 2)) == 2 * mcm.graph.number_of_edges()
    for length in (3, 4):
        paths = simple_paths(mcm, length)
        assert len(set(paths)) == len(paths)
        assert all(len(p) == length and _is_simple_path(mcm, p) for p in paths)
        # DFS order: roots ascending
        assert [p[0] for p in paths] == sorted(p[0] for p in paths)
    if n == 9:  # brute force over permutations on 3x3
        for length in (3, 4):
            brute = {p for p in itertools.permutations(range(n), length) if _is_simple_path(mcm, p)}
            assert set(simple_paths(mcm, length)) == brute
        assert len(simple_paths(mcm, 9)) == 40  # directed Hamiltonian paths of the 3x3 grid


def _reference_dfs(adj, root, length, free, max_steps=None, classes=None, class_of=None):
    """The path search's definition, one neighbour at a time: recursive DFS, neighbours in
    increasing index, a step per chiplet entered, stop after ``max_steps`` steps."""
    steps = 0
    out = []

    def walk(path, used):
        nonlocal steps
        for nb in sorted(adj[path[-1]]):
            if not (free >> nb) & 1 or nb in used or (classes and class_of[nb] != classes[len(path)]):
                continue
            steps += 1
            if max_steps is not None and steps > max_steps:
                return False
            if len(path) + 1 == length:
                out.append((*path, nb))
            elif not walk(path + [nb], used | {nb}):
                return False
        return True

    if (free >> root) & 1 and not (classes and class_of[root] != classes[0]):
        if length == 1:
            out.append((root,))
        else:
            walk([root], {root})
    return out


@pytest.mark.parametrize("layout,topology", [("NSNS/SNSN/NSNS/SNSN", "mesh"), ("NSN/NSN/NSN", "tri"),
                                             ("NNSS/NNSS/SSNN/SSNN", "mesh")])
def test_paths_from_walks_in_the_reference_order_under_step_limits(layout, topology):
    """The bit-mask DFS yields exactly the paths, in the order, of a neighbour-by-neighbour DFS, and
    stops after the same number of steps: random free sets, lengths, class sequences and limits."""
    mcm = grid_mcm(layout, topology=topology)
    adj = _adjacency(mcm)
    class_of = tuple(int(c) for c in mcm.class_of)
    n = mcm.num_chiplets
    rng = np.random.default_rng(7)
    for _ in range(300):
        free = int(sum(1 << c for c in range(n) if rng.random() < 0.8))
        length = int(rng.integers(1, n + 1))
        root = int(rng.integers(n))
        limit = [None, 3, 40, 500][int(rng.integers(4))]
        classes = tuple(class_of[c] for c in rng.permutation(n)[:length]) if rng.random() < 0.4 else None
        want = _reference_dfs(adj, root, length, free, limit, classes, class_of)
        got = list(paths_from(adj, root, length, free, limit, classes, class_of if classes else None, check=False))
        assert got == want


def test_paths_respect_the_free_mask_and_step_budget():
    mcm = grid_mcm("NNN/NNN/NNN")
    free = mask_of([0, 1, 2, 5])
    assert simple_paths(mcm, 4, free) == [(0, 1, 2, 5), (5, 2, 1, 0)]
    adj = [mcm.neighbors(i) for i in range(9)]
    assert list(paths_from(adj, 3, 2, free)) == []  # root not free
    assert len(list(paths_from(adj, 0, 9, (1 << 9) - 1, max_steps=5))) == 0


def test_path_signatures_and_probes():
    mcm = grid_mcm("NSN/NSN/NSN")
    # mirror images left-right have the same classes, side hops and pairwise hops
    assert path_signature(mcm, (0, 3, 6)) == path_signature(mcm, (2, 5, 8))
    assert path_signature(mcm, (0, 3, 6)) != path_signature(mcm, (1, 4, 7))
    probes = probe_class_sequences(mcm, 2)
    assert set(probes) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert set(probes[:2]) == {(0, 0), (1, 1)}  # homogeneous sequences first
    # checkerboard: neighbours always differ
    assert set(probe_class_sequences(grid_mcm("NSN/SNS/NSN"), 3)) == {(0, 1, 0), (1, 0, 1)}
    assert probe_class_sequences(grid_mcm("NNN/NNN"), 4) == [(0, 0, 0, 0)]


def _options(mcm, lens):
    """One toy model per entry with ``n`` layers cut into ``n`` segments (and fallbacks for fewer)."""
    opts = []
    for m, n in enumerate(lens):
        cuts = tuple(range(1, n))
        fallbacks = tuple(tuple(range(1, s)) for s in range(1, n + 1))
        opts.append(ModelOptions(m, 0, n, (cuts,), fallbacks))
    return opts


def test_decode_gives_disjoint_paths_and_repairs():
    mcm = grid_mcm("NSN/NSN/NSN")
    opts = _options(mcm, [4, 4, 4])  # 12 segments wanted, 9 chiplets: the last model must shrink
    rng = np.random.default_rng(0)
    for _ in range(50):
        genes = [int(x) for x in rng.integers(0, 1000, 6)]
        assigns = decode(mcm, opts, genes)
        chips = [c for a in assigns for c in a.chiplets]
        assert len(chips) == len(set(chips))
        for a in assigns:
            assert _is_simple_path(mcm, a.chiplets)
            assert a.start == 0 and a.stop == 4
    # gene semantics: root = free chiplet gene % F, path number (gene // F) of its DFS
    adj = [mcm.neighbors(i) for i in range(9)]
    full = (1 << 9) - 1
    assert path_for_gene(adj, 3, full, 4) == list(paths_from(adj, 4, 3, full))[0]
    assert path_for_gene(adj, 3, full, 9 + 4) == list(paths_from(adj, 4, 3, full))[1]


def _evaluator(mcm, n_models=2, layers=6):
    models = [chain(f"m{i}", [gemm(f"g{j}", 32, 64 * (1 + (i + j) % 3), 64) for j in range(layers)])
              for i in range(n_models)]
    return Evaluator(models, [4] * n_models, mcm)


def test_exhaustive_search_matches_brute_force():
    mcm = grid_mcm("NS/SN", num_pes=64)
    ev = _evaluator(mcm)
    opts = [ModelOptions(0, 0, 6, ((3,), (2,)), ((), (3,))), ModelOptions(1, 0, 6, ((2,), ()), ((), (2,)))]
    f = window_objective("edp")
    sol = exhaustive_search(ev, opts, f, with_fallbacks=False)
    best = np.inf
    for c0 in opts[0].cuts:
        for p0 in simple_paths(mcm, len(c0) + 1):
            for c1 in opts[1].cuts:
                for p1 in simple_paths(mcm, len(c1) + 1):
                    if set(p0) & set(p1):
                        continue
                    r0 = ev.evaluate_assignment(opts[0].assignment(c0, p0))
                    r1 = ev.evaluate_assignment(opts[1].assignment(c1, p1))
                    best = min(best, f(max(r0.latency_s, r1.latency_s), r0.energy_j + r1.energy_j))
    assert sol.value == pytest.approx(best, rel=1e-12)
    w = Window(tuple(sol.assignments))
    ev.validate(Schedule((w,)), require_paths=True)
    assert ev.evaluate(Schedule((w,))).edp_js == pytest.approx(sol.value)
    # offsets: the objective of the scenario with other windows fixed
    g = window_objective("edp", 2.0, 3.0)
    sol2 = exhaustive_search(ev, opts, g, CandidateCache(ev))
    assert sol2.value == pytest.approx((2.0 + sol2.latency_s) * (3.0 + sol2.energy_j))


def test_exhaustive_search_falls_back_when_top_k_cannot_be_packed():
    mcm = grid_mcm("NN/NN", num_pes=64)
    ev = _evaluator(mcm)
    # both models want 3 chiplets of 4: only their fallbacks fit together
    opts = [ModelOptions(m, 0, 6, ((2, 4),), ((), (3,), (2, 4))) for m in range(2)]
    sol = exhaustive_search(ev, opts, window_objective("edp"))
    chips = [c for a in sol.assignments for c in a.chiplets]
    assert len(chips) == len(set(chips)) <= 4


def test_evolutionary_search_is_seeded_and_valid():
    mcm = grid_mcm("NSNS/SNSN/NSNS/SNSN", num_pes=64)
    ev = _evaluator(mcm, 3)
    opts = [ModelOptions(m, 0, 6, ((2, 4), (3,), ()), ((), (3,), (2, 4))) for m in range(3)]
    f = window_objective("edp")
    a = evolutionary_search(ev, opts, f, np.random.default_rng(7), population=6, generations=3)
    b = evolutionary_search(ev, opts, f, np.random.default_rng(7), population=6, generations=3)
    assert a.assignments == b.assignments and a.value == b.value
    ev.validate(Schedule((Window(tuple(a.assignments)),)), require_paths=True)
    # the greedy seed is in the population, so the result is never worse than it
    c = evolutionary_search(ev, opts, f, np.random.default_rng(8), population=1, generations=0)
    assert a.value <= c.value


def test_shared_search_caches_change_no_result():
    # SCAR re-solves each window under other objectives (refinement) with one SearchCaches: what
    # the caches keep must not depend on the objective, the rng or the call order.
    mcm = grid_mcm("NSNS/SNSN/NSNS/SNSN", num_pes=64)
    ev = _evaluator(mcm, 3)
    opts = [ModelOptions(m, 0, 6, ((2, 4), (3,), ()), ((), (3,), (2, 4)), {(2, 4): (0, 1, 0), (3,): (1, 0)})
            for m in range(3)]
    runs = [(window_objective("edp"), 7), (window_objective("edp", 2.0, 3.0), 7), (window_objective("latency"), 8),
            (window_objective("edp", 0.5, 0.1), 9)]
    shared = SearchCaches()
    for f, seed in runs + runs[::-1]:
        cold = evolutionary_search(ev.fresh(), opts, f, np.random.default_rng(seed), population=6, generations=3)
        warm = evolutionary_search(ev, opts, f, np.random.default_rng(seed), population=6, generations=3,
                                   caches=shared)
        assert (warm.assignments, repr(warm.value), repr(warm.latency_s), repr(warm.energy_j)) == \
            (cold.assignments, repr(cold.value), repr(cold.latency_s), repr(cold.energy_j))
    assert shared.value and shared.decoded and shared.walk  # the caches were used


def test_cut_plans_give_bit_identical_results():
    # The evaluator keeps a cut set's chiplet-independent part, keyed by its bounds; with warm plans
    # (shared across placements, models and layer ranges) every result must equal a cold one's.
    mcm = grid_mcm("NSN/SNS/NSN", num_pes=64)
    ev = _evaluator(mcm, 2)
    assigns = [ModelOptions(m, lo, hi, ()).assignment(cuts, p)
               for m in (0, 1) for lo, hi in ((0, 6), (0, 5), (1, 6), (3, 4))
               for cuts in ((), (lo + 2,), (lo + 1, lo + 2)) if all(lo < c < hi for c in cuts)
               for p in simple_paths(mcm, len(cuts) + 1)[:20]]
    warm = [repr(ev.evaluate_assignment(a)) for a in assigns]
    assert [repr(ev.fresh().evaluate_assignment(a)) for a in assigns] == warm


def test_class_constrained_paths_and_probes():
    mcm = grid_mcm("NSN/NSN/NSN")
    adj = [mcm.neighbors(i) for i in range(9)]
    cls = mcm.class_of.tolist()
    full = (1 << 9) - 1
    walks = list(paths_from(adj, 0, 3, full, classes=(0, 0, 0), class_of=cls))
    assert walks == [(0, 3, 6)]
    assert list(paths_from(adj, 1, 2, full, classes=(0, 1), class_of=cls)) == []  # root of the wrong class
    assert {p for r in range(9) for p in paths_from(adj, r, 3, full, classes=(1, 0, 0), class_of=cls)} == \
        {(1, 0, 3), (1, 2, 5), (4, 3, 0), (4, 3, 6), (4, 5, 2), (4, 5, 8), (7, 6, 3), (7, 8, 5)}
    assert probe_class_sequences(mcm, 3)[:2] == [(0, 0, 0), (1, 1, 1)]  # homogeneous first
    probes = probe_class_sequences(mcm, 4)
    assert (0, 0, 0, 0) not in probes and (1, 1, 1, 1) not in probes  # columns hold only 3
    assert probes[:2] == [(0, 1, 1, 1), (1, 0, 0, 0)]  # then single-switch pipelines
    assert all(len(p) == 4 for p in probes) and len(set(probes)) == len(probes)
    # the gene of a constrained path: root = free chiplet gene % F among those starting one
    assert path_for_gene(adj, 3, full, 0, classes=(0, 0, 0), class_of=cls) == (0, 3, 6)
    assert path_for_gene(adj, 3, full, 0, classes=(1, 1, 0), class_of=cls) == (1, 4, 3)
    # no path follows the classes: any path
    assert path_for_gene(adj, 4, mask_of([0, 1, 2, 5]), 0, classes=(0, 0, 0, 0), class_of=cls) == (0, 1, 2, 5)


def test_permutation_ranks():
    from scar_gym.policies.scar.search import permutation_from_rank, permutation_rank

    base = [2, 0, 3, 1]
    perms = [permutation_from_rank(base, r) for r in range(24)]
    assert perms[0] == base and len({tuple(p) for p in perms}) == 24
    assert all(permutation_rank(base, p) == r for r, p in enumerate(perms))
    assert permutation_from_rank(base, 24) == base  # ranks wrap


def test_evolutionary_matches_exhaustive_on_a_small_grid():
    mcm = grid_mcm("NSN/NSN/NSN", num_pes=64)
    ev = _evaluator(mcm, 3)
    opts = [ModelOptions(m, 0, 6, ((2, 4), (3,), ()), ((), (3,), (2, 4)), {(2, 4): (0, 0, 0), (3,): (0, 0), (): (0,)})
            for m in range(3)]
    f = window_objective("edp")
    exact = exhaustive_search(ev, opts, f, with_fallbacks=True)
    evo = evolutionary_search(ev, opts, f, np.random.default_rng(0))
    assert exact.value <= evo.value <= exact.value * 1.05


@pytest.mark.parametrize("layout,topology", [("NSN/SNS/NSN", "mesh"), ("NNSS/NNSS/SSNN", "mesh"),
                                             ("NSN/NSN/NSN", "tri"), ("NNSSNN/NNSSNN", "mesh")])
def test_start_mask_never_excludes_a_root_the_search_would_use(layout, topology):
    # start_mask is a proof of impossibility: every root from which the DFS finds a path (with or
    # without classes, over any free set) must be in it, so skipping the others changes nothing.
    mcm = grid_mcm(layout, topology)
    adj, class_of = _adjacency(mcm), tuple(mcm.class_of.tolist())
    n = mcm.num_chiplets
    rng = np.random.default_rng(0)
    excluded = 0
    for _ in range(150):
        free = int(rng.integers(1, 1 << n)) | int(rng.integers(0, 1 << n))
        length = int(rng.integers(1, n + 1))
        classes = tuple(int(c) for c in rng.integers(0, len(mcm.classes), length))
        if rng.random() < 0.5:  # structured: one switch, as SCAR's probes ask
            a = int(rng.integers(0, length + 1))
            classes = (0,) * a + (len(mcm.classes) - 1,) * (length - a)
        for cls in (classes, None):
            ok = start_mask(adj, length, free, cls, None if cls is None else class_of)
            for root in range(n):
                found = next(paths_from(adj, root, length, free, None, cls, class_of, check=False), None)
                assert found is None or (ok >> root) & 1, (layout, cls, free, root, found)
                excluded += found is None and not (ok >> root) & 1 and (free >> root) & 1
    assert excluded > 0  # and it does exclude roots (otherwise it would be no faster)
