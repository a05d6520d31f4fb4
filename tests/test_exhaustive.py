"""The exhaustive optimum: hand-enumerated instances, a brute-force cross-check, and no policy beats it."""

from __future__ import annotations

import itertools

import pytest

from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.hardware import grid_mcm
from scar_gym.policies.registry import POLICIES, make_policy
from scar_gym.policies.search.exhaustive import exhaustive_optimum, pareto
from scar_gym.policies.search.genome import SearchSpace
from scar_gym.schedule import Assignment, Schedule, Segment, Window
from scar_gym.workloads.layers import conv, gemm
from scar_gym.workloads.model import chain


def _models():
    a = chain("a", [conv("a0", 3, 16, 32, 32, 3), gemm("a1", 64, 256, 512)])  # Shi-ish, then NVD-ish
    b = chain("b", [gemm("b0", 128, 512, 512)])
    return a, b


def _seg(start, stop, chiplet):
    return Segment(start, stop, chiplet)


def test_hand_enumerated_two_chiplets_one_window():
    """1x2 MCM (N S), one window, model a (2 layers) and b (1 layer): exactly two valid schedules --
    a on chiplet 0 and b on 1, or the reverse (a cannot take both: b needs a chiplet)."""
    a, b = _models()
    ev = Evaluator([a, b], [2, 4], grid_mcm("NS", num_pes=256))
    windows = [{0: (0, 2), 1: (0, 1)}]
    hand = [
        Schedule((Window((Assignment(0, (_seg(0, 2, 0),)), Assignment(1, (_seg(0, 1, 1),)))),)),
        Schedule((Window((Assignment(0, (_seg(0, 2, 1),)), Assignment(1, (_seg(0, 1, 0),)))),)),
    ]
    values = [ev.evaluate(s).edp_js for s in hand]
    res = exhaustive_optimum(ev, windows)
    assert res.space_size == 2
    assert res.value == pytest.approx(min(values), rel=1e-12)
    assert res.schedule.windows == hand[values.index(min(values))].windows


def test_hand_enumerated_single_model_four_schedules():
    """One 2-layer model on 2 chiplets: on 0, on 1, split 0->1, split 1->0."""
    a, _ = _models()
    ev = Evaluator([a], [4], grid_mcm("NS", num_pes=256))
    hand = [((_seg(0, 2, 0),)), ((_seg(0, 2, 1),)), ((_seg(0, 1, 0), _seg(1, 2, 1))), ((_seg(0, 1, 1), _seg(1, 2, 0)))]
    scheds = [Schedule((Window((Assignment(0, segs),)),)) for segs in hand]
    best = min(ev.evaluate(s).edp_js for s in scheds)
    res = exhaustive_optimum(ev, [{0: (0, 2)}])
    assert res.space_size == 4
    assert res.evaluations == 4
    assert res.value == pytest.approx(best, rel=1e-12)
    for obj in ("latency", "energy"):
        r = exhaustive_optimum(ev, [{0: (0, 2)}], objective=obj)
        assert r.value == pytest.approx(min(ev.evaluate(s).objective(obj) for s in scheds), rel=1e-12)


def _brute_force_windows(space: SearchSpace):
    """All window gene tuples, enumerated independently of the exhaustive module (plain recursion)."""
    C = space.num_chiplets
    per_window = []
    for spec in space.windows:
        out = []

        def rec(j, used, genes):
            if j == len(spec.models):
                out.append(tuple(genes))
                return
            a, b = spec.ranges[j]
            for k in range(1, min(b - a, C) + 1):
                for cuts in itertools.combinations(range(a + 1, b), k - 1):
                    for chips in itertools.permutations([c for c in range(C) if c not in used], k):
                        rec(j + 1, used | set(chips), genes + [(cuts, chips)])

        rec(0, frozenset(), [])
        per_window.append(out)
    return per_window


@pytest.mark.parametrize("objective", ["edp", "latency", "energy"])
def test_matches_brute_force_two_windows(objective):
    """2x2 MCM, two models of 3 layers, two windows: the Pareto/branch-and-bound result equals the
    minimum over every schedule scored one by one (EDP is not separable across windows)."""
    a = chain("a", [conv("a0", 3, 16, 32, 32, 3), conv("a1", 16, 32, 32, 32, 3, 2), gemm("a2", 16, 512, 256)])
    b = chain("b", [gemm("b0", 128, 256, 512), gemm("b1", 128, 512, 512), conv("b2", 8, 8, 64, 64, 3)])
    ev = Evaluator([a, b], [4, 2], grid_mcm("NS/SN", num_pes=256), objective=objective)
    windows = [{0: (0, 2), 1: (0, 1)}, {0: (2, 3), 1: (1, 3)}]
    space = SearchSpace(4, windows, ev.num_layers)
    wins = _brute_force_windows(space)
    assert len(wins[0]) * len(wins[1]) == space.size()
    best = min(ev.evaluate(space.decode(g)).objective(objective) for g in itertools.product(*wins))
    res = exhaustive_optimum(ev, windows, objective=objective)
    assert res.value == pytest.approx(best, rel=1e-12)
    assert ev.evaluate(res.schedule).objective(objective) == pytest.approx(best, rel=1e-12)


def test_no_policy_beats_the_optimum():
    a = chain("a", [conv("a0", 3, 16, 32, 32, 3), conv("a1", 16, 32, 32, 32, 3), gemm("a2", 16, 512, 256)])
    b = chain("b", [gemm("b0", 128, 256, 512), gemm("b1", 128, 512, 512)])
    ev = Evaluator([a, b], [4, 2], grid_mcm("NS/SN", num_pes=256))
    opt = make_policy("exhaustive", n_splits=1).schedule(ev)
    v_opt = ev.evaluate(opt).edp_js
    assert opt.meta["optimum"] == pytest.approx(v_opt, rel=1e-12)
    for name in ("random-search", "sa", "ga"):
        s = make_policy(name, budget=300, n_splits=1).schedule(ev, seed=0)
        assert ev.evaluate(s).edp_js >= v_opt * (1 - 1e-12), name
    if "scar" in POLICIES:  # same windows: one boundary set (the periodic one)
        s = make_policy("scar", n_splits=1, boundary_candidates=1).schedule(ev, seed=0)
        assert ev.evaluate(s).edp_js >= v_opt * (1 - 1e-12)


def test_pareto_and_refusal():
    pts = [(1.0, 5.0, "a"), (2.0, 4.0, "b"), (2.0, 6.0, "c"), (3.0, 4.0, "d"), (0.5, 9.0, "e")]
    assert [p[2] for p in pareto(pts)] == ["e", "a", "b"]
    a, b = _models()
    ev = Evaluator([a, b], [2, 4], grid_mcm("NS/SN", num_pes=256))
    with pytest.raises(ConfigError, match="max_assignments"):
        exhaustive_optimum(ev, [{0: (0, 2), 1: (0, 1)}], max_assignments=5)
