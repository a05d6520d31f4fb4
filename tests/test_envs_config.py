"""scar_gym.envs.config: the envs' options as validated dataclasses, and env_kwargs checked by name."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import pytest

import scar_gym  # noqa: F401  (registers the ids)
from scar_gym.envs import ScheduleEnv
from scar_gym.envs.config import ScheduleConfig, WindowConfig, check_env_kwargs
from scar_gym.envs.window_env import WindowEnv
from scar_gym.errors import ConfigError


def test_options_become_the_config():
    env = ScheduleEnv("sc1", "het-sides-3x3", reward="edp", n_splits=2, max_chiplets=12)
    assert env.config == ScheduleConfig(reward="edp", n_splits=2, max_chiplets=12)
    assert env.c_max == 12 and env.action_space.n == 12
    base = WindowConfig(k_max=8, relocate=4)
    w = WindowEnv("sc1", "het-sides-3x3", config=base, relocate=6)
    assert w.config == dataclasses.replace(base, relocate=6) and w.action_space.n == 8
    assert gym.make("ScarGym/Window-v0", relocate=3).unwrapped.config.relocate == 3


@pytest.mark.parametrize("env_id,key,hint", [
    ("ScarGym/Schedule-v0", "rewrd", "did you mean 'reward'?"),
    ("ScarGym/Window-v0", "reward_mode", "did you mean 'reward'?"),
    ("ScarGym/Window-v0", "kmax", "did you mean 'k_max'?"),
    ("ScarGym/Window-v0", "require_paths", "options: reward,"),  # Schedule-v0's, not Window-v0's
])
def test_an_unknown_option_is_one_error_naming_it(env_id, key, hint):
    with pytest.raises(ConfigError) as e:
        gym.make(env_id, **{key: 1})
    assert e.value.field == key and f"unknown option of {env_id}" in str(e.value) and hint in str(e.value)


@pytest.mark.parametrize("cls,options,field", [
    (ScheduleConfig, {"invalid_action": "ignore"}, "invalid_action"),
    (ScheduleConfig, {"render_mode": "human"}, "render_mode"),
    (ScheduleConfig, {"max_invalid": 0}, "max_invalid"),
    (ScheduleConfig, {"max_chiplets": 2.5}, "max_chiplets"),
    (ScheduleConfig, {"reward": "edp_log_ratio", "reference": None}, "reference"),
    (ScheduleConfig, {"reward": "edp_squared"}, "reward"),
    (WindowConfig, {"k_max": 0}, "k_max"),
    (WindowConfig, {"windows": "reconfig"}, "anchor"),
    (WindowConfig, {"windows": "sometimes", "anchor": False}, "windows"),
    (WindowConfig, {"relocate": True}, "relocate"),
    (WindowConfig, {"obs_mode": "graph"}, "obs_mode"),
    (WindowConfig, {"pool_segment_cap": 0}, "pool_segment_cap"),
    (WindowConfig, {"pool_paths_per_root": 1.5}, "pool_paths_per_root"),
    (WindowConfig, {"pool_seg_limit": 0}, "pool_seg_limit"),
    (WindowConfig, {"pool_max_probes": "8"}, "pool_max_probes"),
    (WindowConfig, {"pool_seg_radius": -1}, "pool_seg_radius"),
    (WindowConfig, {"bank": "runs/banks/x", "pool_max_probes": 8}, "bank"),
])
def test_bad_values_name_the_field(cls, options, field):
    with pytest.raises(ConfigError) as e:
        cls.build(options)
    assert e.value.field == field


def test_a_config_of_the_other_env_is_refused():
    with pytest.raises(ConfigError, match="config: expected a ScheduleConfig, got WindowConfig"):
        ScheduleEnv("sc1", config=WindowConfig())


def test_env_kwargs_are_checked_against_the_registered_env():
    check_env_kwargs("scar_gym:ScarGym/Window-v0", {"relocate": 24, "mcm": "het-sides-3x3"})
    check_env_kwargs("CartPole-v1", {"anything": 1})  # not ours: gym.make will judge
    with pytest.raises(ConfigError) as e:
        check_env_kwargs("scar_gym:ScarGym/Schedule-ARVR-v0", {"reward_mode": "edp"}, file="run.yaml")
    assert str(e.value).startswith("run.yaml: env_kwargs.reward_mode: unknown option of ScarGym/Schedule-v0")
    with pytest.raises(ConfigError, match="env_kwargs.k_max: expected an integer >= 1"):
        check_env_kwargs("ScarGym/Window-v0", {"k_max": 0})


@pytest.mark.parametrize("options,field", [
    ({"invalid_penalty": float("nan")}, "invalid_penalty"), ({"invalid_penalty": float("-inf")}, "invalid_penalty"),
    ({"invalid_penalty": True}, "invalid_penalty"), ({"max_chiplets": 10**6}, "max_chiplets"),
    ({"n_splits": 10**6}, "n_splits"), ({"n_splits": -1}, "n_splits"), ({"n_splits": 2.5}, "n_splits"),
    ({"cache_size": 0}, "cache_size"), ({"memo_size": -1}, "memo_size"), ({"flatten": "yes"}, "flatten"),
])
def test_numeric_options_are_finite_and_bounded(options, field):
    with pytest.raises(ConfigError) as e:
        ScheduleEnv("sc9", "het-sides-3x3", **options)
    assert e.value.field == field


def test_rollout_samples_are_bounded_in_the_library():
    from scar_gym.envs.rollout_search import MAX_SAMPLES, WindowSearchPolicy

    with pytest.raises(ConfigError, match="samples"):
        WindowSearchPolicy(samples=MAX_SAMPLES + 1)
    assert WindowSearchPolicy(samples=MAX_SAMPLES).samples == MAX_SAMPLES
