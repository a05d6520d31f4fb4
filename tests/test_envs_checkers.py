"""Gymnasium's and SB3's env checkers on both envs and both observation options; SubprocVecEnv."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import scar_gym  # noqa: F401  (registers the ids)
from scar_gym.envs import ToyGenerator

TOY = ToyGenerator(n_models=(2, 3), n_layers=(3, 6)).pool(1, seed=5)[0]
# SB3 recommends 1-D Box observations; the chiplet / candidate tables are 2-D on purpose (one row
# per chiplet or candidate, for set encoders), and flatten=True gives the 1-D form.
ALLOWED = ("unconventional shape",)

#: The size-agnostic agents' env: NoP keys, SCAR-free windows, capped pools, padding to 16 chiplets.
SETS = {"obs_mode": "sets", "windows": "reconfig", "anchor": False, "max_chiplets": 16, "reference": "standalone",
        "pool_segment_cap": 4, "pool_paths_per_root": 2}
CASES = [(env_id, scenario, kwargs, flatten)
         for env_id, scenario, kwargs in [("ScarGym/Schedule-v0", TOY, {}), ("ScarGym/Schedule-v0", "sc10", {}),
                                          ("ScarGym/Schedule-v0", TOY, {"invalid_action": "nearest"}),
                                          ("ScarGym/Window-v0", TOY, {}), ("ScarGym/Window-v0", TOY, {"relocate": 8}),
                                          ("ScarGym/Window-v0", TOY, SETS)]
         for flatten in (False, True)]


def _check_warnings(record) -> None:
    bad = [str(w.message) for w in record if not any(a in str(w.message) for a in ALLOWED)]
    assert not bad, bad


@pytest.mark.parametrize("env_id,scenario,kwargs,flatten", CASES)
def test_gymnasium_check_env(env_id, scenario, kwargs, flatten):
    env = gym.make(env_id, scenario=scenario, flatten=flatten, **kwargs)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped)
    _check_warnings(record)


@pytest.mark.parametrize("env_id,scenario,kwargs,flatten", CASES)
def test_sb3_check_env(env_id, scenario, kwargs, flatten):
    from stable_baselines3.common.env_checker import check_env

    env = gym.make(env_id, scenario=scenario, flatten=flatten, **kwargs)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        check_env(env, warn=True)
    _check_warnings(record)


def test_render_check_via_spec():
    """Gymnasium's render checks (they re-make the env from its spec for every render mode)."""
    env = gym.make("ScarGym/Schedule-v0", scenario="sc10", render_mode="ansi")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped, skip_render_check=False)
    _check_warnings(record)


def test_subproc_vec_env_with_module_prefixed_id():
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    venv = make_vec_env("scar_gym:ScarGym/Schedule-v0", n_envs=2, seed=0, vec_env_cls=SubprocVecEnv,
                        env_kwargs={"scenario": "sc10", "render_mode": None, "reward": "edp_log_ratio"})
    try:
        obs = venv.reset()
        rng = np.random.default_rng(0)
        dones_seen = 0
        for _ in range(300):  # sc10 has 133 layers: several episodes end
            masks = np.stack(venv.env_method("action_masks"))
            assert np.array_equal(masks.astype(np.int8), obs["action_mask"])
            assert masks.any(axis=1).all()  # SB3 resets in the same step: never the final, empty mask
            actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
            obs, rewards, dones, infos = venv.step(actions)
            assert not any(i["invalid_action"] for i in infos)
            for done, info in zip(dones, infos):
                if done:
                    dones_seen += 1
                    assert not info["terminal_observation"]["action_mask"].any()
        assert dones_seen >= 4
    finally:
        venv.close()


@pytest.mark.slow
def test_maskable_ppo_smoke():
    """MaskablePPO learns a few steps on Schedule-v0 (MultiInputPolicy) and predicts with masks
    (marked slow: importing torch and building the policy take seconds; run with ``-m slow``)."""
    pytest.importorskip("sb3_contrib")
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.maskable.utils import get_action_masks

    env = gym.make("ScarGym/Schedule-v0", scenario=TOY)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=32, batch_size=16, n_epochs=1, seed=0, device="cpu")
    model.learn(64)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, action_masks=get_action_masks(env), deterministic=True)
    assert get_action_masks(env)[int(action)]
