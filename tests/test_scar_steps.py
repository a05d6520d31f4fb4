"""scar_gym.policies.scar.steps: PROV and SEG as one engine, shared by SCAR and Window-v0's pools."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scar_gym.envs.candidates import CandidatePools
from scar_gym.envs.types import build_scenario_data
from scar_gym.factory import make_cost_model, make_evaluator
from scar_gym.policies.scar import steps
from scar_gym.policies.scar.policy import ScarPolicy, _ScarRun
from scar_gym.policies.windows import expected_layer_costs
from scar_gym.presets import load_mcm
from scar_gym.scenarios import load_scenario


def test_large_mcm_threshold_is_named_once():
    assert not steps.is_large(load_mcm("het-sides-3x3")) and steps.is_large(load_mcm("het-cross-6x6"))
    assert ScarPolicy().options.exhaustive_max_chiplets == steps.LARGE_MCM_CHIPLETS


def test_prov_weights_and_caps():
    assert steps.prov_weight("objective", "edp", 2.0, 3.0) == 6.0
    assert steps.prov_weight("latency", "edp", 2.0, 3.0) == 2.0
    assert steps.prov_weight("geomean", "edp", 2.0, 8.0) == 4.0
    assert steps.allocation_caps([(0, 3), (5, 30)], 9) == [3, 9]
    assert steps.allocation_caps([(0, 3), (5, 30)], 9, node_cap=4) == [3, 4]


def test_seg_keeps_the_top_k_within_n_i_and_the_best_of_every_count():
    ev = make_evaluator("sc4", "het-sides-3x3")
    s = steps.WindowSteps(ev, "edp", k=3, seg_limit=2000, seg_radius=2, max_probes=24)
    e_lat, _ = expected_layer_costs(ev)
    choice = s.seg(0, 0, 12, max_segments=5, n_i=3, expected_latency=e_lat[0][0:12])
    scores = [c.score for c in choice.scored]
    assert scores == sorted(scores) and {c.num_segments for c in choice.scored} == {1, 2, 3, 4, 5}
    assert list(choice.top) == [c for c in choice.scored if c.num_segments <= 3][:3]
    assert set(choice.fallbacks) == {1, 2, 3, 4, 5}
    for n, best in choice.fallbacks.items():
        assert best == min((c for c in choice.scored if c.num_segments == n), key=lambda c: c.score)
    assert s.probes(2) is s.probes(2)


def test_scar_and_the_window_env_run_the_same_engine():
    """Both callers hold a WindowSteps with the same settings, and on the same cost vector give the
    same SEG answer (SCAR asks for at most N_i segments; the env for more, and keeps SCAR's top-k)."""
    sc, mcm, cm = load_scenario("sc3"), load_mcm("het-sides-3x3"), make_cost_model()
    ev = make_evaluator(sc, mcm, cost_model=cm)
    run = _ScarRun(ScarPolicy().options, ev, seed=0)
    pools = CandidatePools(build_scenario_data(sc, mcm, 9, cm))
    assert isinstance(run.steps, steps.WindowSteps) and isinstance(pools.steps, steps.WindowSteps)
    assert (run.steps.k, run.steps.seg_limit, run.steps.seg_radius, run.steps.max_probes) == \
        (pools.steps.k, pools.steps.seg_limit, pools.steps.seg_radius, pools.steps.max_probes)
    vec = run.e_lat[1][0:20]
    scar = run.steps.seg(1, 0, 20, 3, 3, vec)
    env = pools.steps.seg(1, 0, 20, 6, 3, vec)
    assert [c.cuts for c in env.top] == [c.cuts for c in scar.top]
    assert {n: c.cuts for n, c in env.fallbacks.items() if n <= 3} == {n: c.cuts for n, c in scar.fallbacks.items()}
    assert math.isclose(float(np.sum(vec)), float(pools.data.exp_lat_cum[1][20]), rel_tol=1e-12)


@pytest.mark.parametrize("metric", steps.PROV_METRICS)
def test_every_prov_metric_schedules(metric):
    ev = make_evaluator("sc1", "het-sides-3x3")
    ev.validate(ScarPolicy(prov_metric=metric, boundary_candidates=1).schedule(ev, seed=0), require_paths=True)
