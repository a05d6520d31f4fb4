"""scar_gym.envs.rollout_search: window-ls, the agents' rollout search with no learned prior (torch-free)."""

from __future__ import annotations

import numpy as np
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


def test_slot_outlook_of_a_lone_model_is_its_candidates_own_cost():
    """One model in one window: nothing else is placed or to come, so each slot's scenario estimate
    is exactly the candidate's own latency and energy."""
    import gymnasium as gym

    from scar_gym.scenarios import ModelInstance, Scenario

    lone = Scenario("lone", "test", "datacenter", (ModelInstance("resnet50", 4),))
    n_layers = make_evaluator(lone, MCM).num_layers[0]
    env = gym.make("ScarGym/Window-v0", scenario=lone, mcm="het-sides-3x3", windows=[{0: (0, n_layers)}],
                   anchor=False, reward="edp", reference=None).unwrapped
    env.reset(seed=0)
    cands = env.candidates
    got = env.slot_outlook()
    assert got.shape == (len(cands), 2) and len(cands) > 1
    assert got.tolist() == [[c.latency_s, c.energy_j] for c in cands]


def test_slot_outlook_counts_the_placed_models_and_an_estimate_of_the_rest():
    import gymnasium as gym

    env = gym.make("ScarGym/Window-v0", scenario="sc4", mcm="het-sides-3x3", windows="reconfig", anchor=False,
                   reward="edp", reference=None).unwrapped
    env.reset(seed=0)
    first = env.slot_outlook()
    cands = env.candidates
    # later models and windows add latency (a window lasts as long as its slowest model) and energy
    assert np.all(first[:, 0] >= [c.latency_s for c in cands]) and np.all(first[:, 1] > [c.energy_j for c in cands])
    env.step(0)
    placed_en = cands[0].energy_j
    second = env.slot_outlook()
    assert np.all(second[:, 1] > placed_en + np.array([c.energy_j for c in env.candidates]) - 1e-12)


def test_the_lookahead_rollouts_find_what_the_slot_order_misses():
    """large-6x6's sc6 on het-cross-6x6: the greedy slot order (each model's own EDP) ends 10% above
    SCAR; the lookahead's greedy rollouts (the scenario's estimated EDP) below it."""
    ev = make_evaluator("sc6", "het-cross-6x6")
    base = make_policy("window-ls-any", samples=3, window_sets=3, prior_sets=3, lookahead=False,
                       polish=False).schedule(ev, seed=0)
    ev2 = make_evaluator("sc6", "het-cross-6x6")
    with_la = make_policy("window-ls-any", samples=6, window_sets=3, prior_sets=3, lookahead=True,
                          polish=False).schedule(ev2, seed=0)
    ev2.validate(with_la)
    assert with_la.meta["lookahead"] and with_la.meta["rollouts"] == 6
    assert ev2.evaluate(with_la).edp_js < 0.95 * ev.evaluate(base).edp_js
    with pytest.raises(ConfigError) as e:
        make_policy("window-ls", lookahead=1)
    assert e.value.field == "lookahead"


def test_prior_sets_bounds_the_window_sets_the_prior_rolls_out_on(monkeypatch):
    """``prior_sets=1``: the prior's greedy rollout on the env's own windows only, the lookahead's on
    every window set, then the local search from the best; ``prior_sets=3`` (or ``None``, which
    :func:`make_policy` reads as "the default"): the prior on every set too."""
    from scar_gym.envs.rollout_search import ANY_SIZE_SEARCH, RolloutSearchPolicy

    made = []
    rollout = RolloutSearchPolicy._rollout

    def recording(self, env, prefix=(), rng=None, parent=None, options=None, prior="policy", objective="edp"):
        windows = None if options is None else tuple(tuple(sorted(w.items())) for w in options["windows"].windows)
        made.append((prior, windows, bool(prefix)))
        return rollout(self, env, prefix, rng, parent, options, prior, objective)

    monkeypatch.setattr(RolloutSearchPolicy, "_rollout", recording)
    runs = {}
    for prior_sets in (1, 3):
        made.clear()
        pol = make_policy("window-ls-any", samples=8, window_sets=3, prior_sets=prior_sets, polish=False)
        sched = pol.schedule(make_evaluator("sc5", "het-sides-6x6"), seed=0)
        assert sched.meta["prior_sets"] == prior_sets and sched.meta["rollouts"] == len(made) == 8
        runs[prior_sets] = list(made)
    greedy = {k: [(p, w) for p, w, local in v if not local] for k, v in runs.items()}
    windows = list(dict.fromkeys(w for _, w in greedy[3]))
    assert len(windows) == 3 and windows[0] is None
    assert greedy[1][:4] == [("policy", None)] + [("lookahead", w) for w in windows]
    assert greedy[3][:6] == [("policy", w) for w in windows] + [("lookahead", w) for w in windows]
    assert ANY_SIZE_SEARCH["prior_sets"] == 1 and make_policy("window-ls-any").prior_sets == 1
    for bad in (0, 17, 1.5, True):
        with pytest.raises(ConfigError) as e:
            make_policy("window-ls-any", prior_sets=bad)
        assert e.value.field == "prior_sets"


def test_pool_options_of_the_any_size_search_apply_where_they_say():
    """The segment cap grows to a quarter of the chiplets past 48 (16 on 8x8, 12 on 6x6); the light
    SEG applies only on MCMs of more than 16 chiplets (small ones keep SCAR's)."""
    import gymnasium as gym

    from scar_gym.envs.rollout_search import ANY_SIZE_ENV

    def pools(mcm):
        env = gym.make("ScarGym/Window-v0", scenario="sc5", mcm=mcm, reward="edp", reference=None,
                       **ANY_SIZE_ENV).unwrapped
        env.reset(seed=0)
        return env._state.pools

    big, mid, small = pools("het-sides-8x8"), pools("het-sides-6x6"), pools("het-sides-3x3")
    assert (big.segment_cap, mid.segment_cap, small.segment_cap) == (16, 12, 12)
    assert max(c.size for c in big.pool(big.data.plan(None).windows[1], 0)) == 16
    assert (big.steps.seg_limit, big.steps.max_probes, big.steps.seg_radius) == (200, 8, 1)
    assert (small.steps.seg_limit, small.steps.max_probes, small.steps.seg_radius) == (2000, 24, 2)


def test_the_lookahead_needs_the_window_env_and_says_so():
    import gymnasium as gym

    env = gym.make("ScarGym/Schedule-v0", scenario="sc1", mcm="het-sides-3x3", reward="edp", reference=None).unwrapped
    env.reset(seed=0)
    with pytest.raises(ConfigError) as e:
        make_policy("window-ls", lookahead=True).search(env, _ev("sc1"))
    assert e.value.field == "lookahead" and "Window-v0" in str(e.value)


def test_the_polish_places_a_windows_models_together_and_never_loses():
    """Paper sc5 on het-sides-3x3 (six models on nine chiplets): one model at a time, the search ends
    50% above SCAR; re-solving each window jointly ends below it. The polish only ever keeps a
    better window, and the schedule stays valid."""
    ev = _ev("sc5")
    scar = ev.evaluate(make_policy("scar").schedule(_ev("sc5"))).edp_js
    rough = make_policy("window-ls-any", polish=False).schedule(_ev("sc5"), seed=0)
    sched = make_policy("window-ls-any").schedule(ev, seed=0)
    ev.validate(sched)
    polished = sched.meta["polished"]
    assert polished["windows_changed"] >= 1 and polished["objective"] == ev.evaluate(sched).edp_js
    assert polished["objective"] <= sched.meta["best_objective"] == rough.meta["best_objective"]
    assert rough.meta["best_objective"] > 1.3 * scar and polished["objective"] < scar
    with pytest.raises(ConfigError) as e:
        make_policy("window-ls", polish="yes")
    assert e.value.field == "polish"
