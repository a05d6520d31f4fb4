"""scar_gym.envs.rollout_search: window-ls, the agents' rollout search with no learned prior (torch-free)."""

from __future__ import annotations

import pytest

from scar_gym.envs.features import WINDOW_GLOBAL_COLUMNS
from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.factory import make_evaluator
from scar_gym.policies.registry import make_policy
from scar_gym.presets import load_mcm

MCM = load_mcm("het-sides-3x3")


def _ev(sc: str) -> Evaluator:
    return make_evaluator(sc, MCM)


@pytest.mark.parametrize("sc", ["sc4", "sc7"])
def test_greedy_rollout_is_scar_and_the_search_never_loses(sc):
    ev = _ev(sc)
    scar = ev.evaluate(make_policy("scar").schedule(_ev(sc))).edp_js
    sched = make_policy("window-ls", samples=12).schedule(ev, seed=0)
    m = sched.meta
    ev.validate(sched)
    assert m["greedy_edp_js"] == pytest.approx(scar, rel=1e-12)  # slot 0 everywhere = SCAR's schedule
    assert ev.evaluate(sched).edp_js == pytest.approx(m["best_objective"]) and m["best_objective"] <= scar
    assert m["rollouts"] <= 12 and len(m["trace"]) == m["rollouts"]
    assert [v for _, v in m["trace"]] == sorted((v for _, v in m["trace"]), reverse=True)  # best so far
    assert all(u2 >= u1 for (u1, _), (u2, _) in zip(m["trace"], m["trace"][1:]))


def test_one_decision_changes_beat_scar_on_sc7():
    ev = _ev("sc7")
    scar = ev.evaluate(make_policy("scar").schedule(_ev("sc7"))).edp_js
    assert ev.evaluate(make_policy("window-ls", samples=16).schedule(ev)).edp_js < 0.97 * scar


def test_bad_settings_name_the_field():
    for kwargs, field in (({"samples": 0}, "samples"), ({"improve": "beam"}, "improve")):
        with pytest.raises(ConfigError) as e:
            make_policy("window-ls", **kwargs)
        assert e.value.field == field
    with pytest.raises(ConfigError, match="relocate"):
        make_policy("window-ls", relocate=-1).schedule(_ev("sc8"))


def test_the_env_takes_the_domain_from_the_evaluator_not_the_pe_count():
    """An MCM with its own PE count (1024: neither domain's) keeps an AR/VR scenario AR/VR."""
    ev = make_evaluator("sc7", MCM.with_pes(1024))
    env = make_policy("window-ls").make_env(ev)
    obs, _ = env.reset(seed=0)
    assert env.scenario_data.domain == "arvr" and env.evaluator.mcm.pes == 1024
    assert obs["global"][WINDOW_GLOBAL_COLUMNS.index("datacenter")] == 0.0


def test_an_evaluator_without_a_domain_is_refused_by_name():
    ev = _ev("sc1")
    bare = Evaluator(ev.models, ev.batches, ev.mcm)
    with pytest.raises(ConfigError, match="evaluator.domain: unknown"):
        make_policy("window-ls").schedule(bare)
