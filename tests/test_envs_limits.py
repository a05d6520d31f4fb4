"""Safety for mask-unaware learners: ``invalid_action="nearest"``, the default invalid-action limit,
and the registered ``max_episode_steps`` (true bounds of every registered id's episodes)."""

from __future__ import annotations

import dataclasses
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

import scar_gym  # noqa: F401  (registers the ids)
from scar_gym.envs import ScheduleEnv, ToyGenerator
from scar_gym.envs.config import EnvConfig
from scar_gym.envs.window_env import WindowEnv
from scar_gym.registration import DEFAULT_MAX_INVALID, ENV_IDS, MAX_LAYERS, MAX_LAYERS_ARVR
from scar_gym.scenarios import RandomScenarioGenerator, domain_models
from scar_gym.suites import suite_scenarios
from scar_gym.workloads import get_model

TOYS = ToyGenerator().pool(6, seed=1)


def _to_an_invalid_action(env) -> int:
    """Step the first valid action until some action is invalid (a chiplet another model holds)."""
    u = env.unwrapped
    while u.action_masks().all():
        env.step(int(np.flatnonzero(u.action_masks())[0]))
    return int(np.flatnonzero(~u.action_masks())[0])


def _nearest(mask: np.ndarray, a: int) -> int:
    """The rule, written the slow way: smallest distance, then the lower index."""
    return min(np.flatnonzero(mask), key=lambda v: (abs(int(v) - a), int(v)))


@pytest.mark.parametrize("make", [
    lambda **kw: ScheduleEnv(TOYS[0], "het-sides-3x3", max_chiplets=12, **kw),
    lambda **kw: WindowEnv(TOYS[5], "het-sides-3x3", k_max=16, **kw),
], ids=["schedule", "window"])
def test_nearest_maps_every_invalid_action_to_the_nearest_valid_one(make):
    """Two envs, same seed: one (``nearest``) gets arbitrary (mostly invalid) actions, the other (the
    default mode) the valid action the rule names. Observations, rewards and ends agree step for
    step (so valid actions behave as in the default mode), and the mapped env reports each
    substitution and the count."""
    env, ref = make(invalid_action="nearest"), make()
    n = env.action_space.n
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=3)
    ref.reset(seed=3)
    n_bad = steps = 0
    while True:
        mask = env.action_masks()
        a = int(rng.integers(-3, n + 3))
        want = a if 0 <= a < n and mask[a] else _nearest(mask, a)
        obs, r, term, trunc, info = env.step(a)
        obs2, r2, term2, trunc2, info2 = ref.step(want)
        steps += 1
        assert data_equivalence((obs, r, term, trunc), (obs2, r2, term2, trunc2), exact=True)
        if want != a:
            n_bad += 1
            assert info["invalid_action"] and info["mapped_action"] == want and info["invalid_reason"]
            assert info["n_invalid"] == n_bad
        else:
            assert not info["invalid_action"] and "mapped_action" not in info
        if term:
            break
        assert not trunc
    assert n_bad > 0 and info["n_invalid"] == n_bad and info2["n_invalid"] == 0
    assert steps == info["n_decisions"]  # every step placed something: nothing was wasted
    env.unwrapped.evaluator.validate(env.unwrapped.schedule)
    assert data_equivalence(env.schedule.to_dict(), ref.schedule.to_dict())


def test_nearest_still_rejects_non_integers():
    env = ScheduleEnv(TOYS[0], "het-sides-3x3", invalid_action="nearest", invalid_penalty=-2.0)
    obs, _ = env.reset(seed=0)
    obs2, r, term, trunc, info = env.step("x")
    assert r == -2.0 and info["invalid_action"] and "mapped_action" not in info
    assert data_equivalence(obs, obs2)


def test_default_invalid_limit_ends_a_stuck_episode_early():
    """A policy stuck on an invalid action (deterministic PPO without masks) ends after 100 steps."""
    assert EnvConfig().max_invalid == DEFAULT_MAX_INVALID == 100
    env = gym.make("ScarGym/Schedule-v0", scenario="sc10")
    env.reset(seed=0)
    bad = _to_an_invalid_action(env)
    steps, truncated, total = 0, False, 0.0
    while not truncated:
        _, r, _, truncated, info = env.step(bad)
        steps += 1
        total += r
    assert steps == 100 and info["n_invalid"] == 100 and total == -100.0


# -- max_episode_steps ------------------------------------------------------------------------------

def _layers(inst) -> int:
    return sum(len(m.layers) for m in inst.build_models())


def test_layer_bounds_are_the_true_maxima():
    paper = [_layers(s) for s in suite_scenarios("paper")]
    arvr = [_layers(s) for s in suite_scenarios("arvr")]
    gen = RandomScenarioGenerator()
    worst_random = max(sum(sorted(len(get_model(m).layers) for m in pool)[-gen.max_models:])
                       for pool in domain_models().values())
    assert MAX_LAYERS == max(max(paper), worst_random)
    assert MAX_LAYERS_ARVR == max(arvr)


def test_registered_max_episode_steps():
    for env_id, (_, _, steps) in ENV_IDS.items():
        env = gym.make(env_id)
        assert env.spec.max_episode_steps == steps
        assert isinstance(env, gym.wrappers.TimeLimit)
    assert gym.spec("ScarGym/Schedule-v0").max_episode_steps == MAX_LAYERS + DEFAULT_MAX_INVALID
    assert gym.spec("ScarGym/Schedule-ARVR-v0").max_episode_steps == MAX_LAYERS_ARVR + DEFAULT_MAX_INVALID


def test_time_limit_never_cuts_the_largest_paper_episode_even_with_every_invalid_action():
    """sc5 (727 layers): 100 rejected actions then 727 decisions end by termination, within the limit."""
    env = gym.make("ScarGym/Schedule-v0", scenario="sc5", reward="edp_log_ratio")
    env.reset(seed=0)
    u = env.unwrapped
    bad = _to_an_invalid_action(env)
    for _ in range(DEFAULT_MAX_INVALID - 1):
        assert not env.step(bad)[3]
    steps = DEFAULT_MAX_INVALID - 1 + u.num_decisions
    while True:
        _, _, term, trunc, _ = env.step(int(np.flatnonzero(u.action_masks())[0]))
        steps += 1
        assert not trunc
        if term:
            break
    assert steps == 726 + DEFAULT_MAX_INVALID


def test_a_larger_scenario_than_registered_warns_once():
    from scar_gym.envs.generator import ModelSet

    gpt = get_model("gpt-l")
    copies = [dataclasses.replace(gpt, name=f"gpt-l-{i}") for i in range(3)]  # scenarios need distinct names
    big = ModelSet("big", copies, [1, 1, 1])  # 864 layers
    env = gym.make("ScarGym/Schedule-v0", scenario=big)
    with pytest.warns(UserWarning, match="max_episode_steps=964"):
        env.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env.reset(seed=0)  # once per env
        gym.make("ScarGym/Schedule-v0", scenario="sc5").reset(seed=0)  # the registered ones: silent
