"""Search policies: the shared genome stays valid, results validate, seeds repeat, budgets hold."""

from __future__ import annotations

import numpy as np
import pytest

from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.hardware import grid_mcm
from scar_gym.policies.registry import list_policies, make_policy
from scar_gym.policies.search.genome import MOVES, SearchSpace
from scar_gym.workloads.layers import conv, dwconv, gemm
from scar_gym.workloads.model import chain

SEARCHES = ("random-search", "sa", "ga")


def _evaluator(objective: str = "edp") -> Evaluator:
    a = chain("a", [conv("a0", 3, 16, 64, 64, 3), conv("a1", 16, 32, 64, 64, 3, 2), dwconv("a2", 32, 32, 32, 3),
                    conv("a3", 32, 64, 32, 32, 1), gemm("a4", 1, 64 * 32 * 32, 100)])
    b = chain("b", [gemm(f"b{i}", 128, 256, 256) for i in range(5)])
    c = chain("c", [conv("c0", 8, 8, 32, 32, 3), conv("c1", 8, 8, 32, 32, 3), gemm("c2", 1, 8 * 32 * 32, 10)])
    return Evaluator([a, b, c], [4, 8, 2], grid_mcm("NSN/SNS", num_pes=256), objective=objective)


def test_registered():
    names = {n for n, _ in list_policies()}
    assert {"random-search", "sa", "ga", "exhaustive"} <= names


def test_genome_operators_keep_validity():
    ev = _evaluator()
    wins = [{0: (0, 3), 1: (0, 2), 2: (0, 1)}, {0: (3, 5), 1: (2, 5), 2: (1, 3)}]
    space = SearchSpace(6, wins, ev.num_layers)
    rng = np.random.default_rng(0)
    pop = [space.random_genome(rng) for _ in range(20)]
    seen_moves = set()
    for i in range(400):
        g = pop[i % len(pop)]
        space.check(g)
        ev.validate(space.decode(g))
        assert space.encode(space.decode(g)) == g
        n, move = space.neighbour(g, rng)
        seen_moves.add(move)
        space.check(n)
        child = space.crossover(n, pop[(i * 7) % len(pop)], rng, p_window=0.3)
        space.check(child)
        pop[i % len(pop)] = space.mutate(child, rng, 0.5)
    assert seen_moves == set(MOVES)
    # fixed node counts survive every operator
    counts = [{0: 2, 1: 2, 2: 1}, {0: 1, 1: 3, 2: 2}]
    fixed = SearchSpace(6, wins, ev.num_layers, node_counts=counts)
    a, b = fixed.random_genome(rng), fixed.random_genome(rng)
    for _ in range(200):
        a = fixed.mutate(fixed.crossover(a, b, rng), rng, 0.5)
        fixed.check(a)


@pytest.mark.parametrize("name", SEARCHES)
def test_valid_repeatable_and_within_budget(name):
    budget = 250
    ev = _evaluator()
    s1 = make_policy(name, budget=budget, n_splits=1).schedule(ev, seed=3)
    ev.validate(s1)
    assert s1.meta["evaluations"] <= budget
    assert s1.meta["evaluations"] >= budget - 20  # the budget is actually spent
    assert ev.evaluate(s1).edp_js == pytest.approx(s1.meta["best_objective"], rel=1e-12)
    # the same seed repeats exactly, on a fresh evaluator and on the warm one (own counting)
    fresh = _evaluator()
    s2 = make_policy(name, budget=budget, n_splits=1).schedule(fresh, seed=3)
    assert fresh.num_evaluations <= budget  # real cost-model calls
    s3 = make_policy(name, budget=budget, n_splits=1).schedule(ev, seed=3)
    assert s1.windows == s2.windows == s3.windows
    assert s1.meta["trace"] == s2.meta["trace"] == s3.meta["trace"]
    # the seed can also come from the constructor (as the CLI passes it)
    s4 = make_policy(name, budget=budget, n_splits=1, seed=3).schedule(_evaluator())
    assert s4.windows == s1.windows
    # the trace is monotone and ends at the result
    trace = s1.meta["trace"]
    assert all(u1 <= u2 and v1 > v2 for (u1, v1), (u2, v2) in zip(trace, trace[1:]))
    assert trace[-1][1] == pytest.approx(s1.meta["best_objective"])


@pytest.mark.parametrize("name", SEARCHES)
def test_schedule_budget_unit_and_objectives(name):
    ev = _evaluator("latency")
    s = make_policy(name, budget=40, budget_unit="schedules", n_splits=2).schedule(ev, seed=1)
    ev.validate(s)
    assert s.meta["evaluations"] <= 40 and s.meta["schedules_scored"] <= 40
    assert s.meta["objective"] == "latency"
    assert ev.evaluate(s).latency_s == pytest.approx(s.meta["best_objective"])


def test_bad_arguments():
    with pytest.raises(ConfigError):
        make_policy("sa", budget=0)
    with pytest.raises(ConfigError):
        make_policy("ga", init="nope")
    with pytest.raises(ConfigError, match="budget"):
        make_policy("random-search", budget=2).schedule(_evaluator(), seed=0)  # < one schedule


def test_warm_start_from_scar_never_worse():
    ev = _evaluator()
    scar = make_policy("scar", n_splits=1).schedule(_evaluator(), seed=0)
    scar_value = ev.evaluate(scar).edp_js
    for name in ("sa", "ga"):
        s = make_policy(name, budget=scar.meta.get("evaluations", 0) + 300, n_splits=1, init="scar").schedule(ev, seed=5)
        ev.validate(s)
        assert ev.evaluate(s).edp_js <= scar_value * (1 + 1e-12)
        assert s.meta["init_evaluations"] > 0
        assert s.meta["trace"][0][0] >= s.meta["init_evaluations"]  # SCAR's cost is charged first
        assert s.meta["evaluations"] <= s.meta["budget"]


def test_prov_init_and_fixed_nodes():
    from scar_gym.policies.search.common import balanced_cuts

    assert balanced_cuts(np.array([1.0, 1.0, 1.0, 1.0]), 10, 2) == (12,)
    assert balanced_cuts(np.array([5.0, 1.0, 1.0]), 0, 3) == (1, 2)
    ev = _evaluator()
    for name in SEARCHES:
        s = make_policy(name, budget=200, n_splits=1, init="prov", nodes="prov").schedule(ev, seed=0)
        ev.validate(s)
        counts = s.meta["space"]["fixed_nodes"]
        assert counts is True
