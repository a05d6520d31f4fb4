"""The recipes of examples/ (README "Use with other RL libraries"), each run for a few hundred steps:
SB3 MaskablePPO, SB3 PPO without masks (``invalid_action="nearest"``), a CleanRL-style masked PPO
in plain torch, torchrl ``GymEnv`` + ``ActionMask``, rl-zoo3 (``ppo`` and the ``ppo_mask`` shim)
and Gymnasium vector envs (sync / async, both autoreset modes).

Optional clients (torchrl, rl-zoo3: the ``clients`` extra) are skipped when absent."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import scar_gym  # noqa: F401  (registers the ids)
from scar_gym.envs.base import ScarEnvBase

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SC10_DECISIONS = 133


def load_example(name: str):
    path = EXAMPLES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- SB3 ----------------------------------------------------------------------------------------------

def test_sb3_maskable_ppo_recipe():
    pytest.importorskip("sb3_contrib")
    out = load_example("sb3_ppo").main(["--algo", "maskable", "--steps", "256", "--n-envs", "1"])
    assert out["n_invalid"] == 0 and out["lengths"] == [SC10_DECISIONS] * 2


class AppliedActionCheck(gym.Wrapper):
    """Fails the test if an action the mask forbade is ever applied (what reaches the evaluator)."""

    sent_invalid = 0

    def step(self, action):
        mask = self.env.unwrapped.action_masks()
        obs, r, term, trunc, info = self.env.step(action)
        applied = info.get("mapped_action", int(action))
        assert mask[applied], f"action {applied} applied against the mask"
        assert not trunc
        if info["invalid_action"]:
            AppliedActionCheck.sent_invalid += 1
        if term:  # the env validates the schedule itself (it raises on an invalid one); and again here
            self.env.unwrapped.evaluator.validate(self.env.unwrapped.schedule)
            assert info["n_decisions"] == SC10_DECISIONS
        return obs, r, term, trunc, info


def test_sb3_ppo_without_masks_never_applies_an_invalid_action(monkeypatch):
    """Plain PPO sends invalid actions (many, untrained); under invalid_action="nearest" every one is
    mapped to a valid chiplet: the mask holds for every applied action, no step is rejected, every
    episode has exactly one step per layer, and deterministic evaluation is not stuck."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    def no_reject(self, action, reason):
        raise AssertionError(f"rejected {action!r}: {reason}")

    monkeypatch.setattr(ScarEnvBase, "_reject", no_reject)
    AppliedActionCheck.sent_invalid = 0
    kw = {"scenario": "sc10", "invalid_action": "nearest", "render_mode": None}
    venv = make_vec_env("ScarGym/Schedule-v0", n_envs=2, seed=0, env_kwargs=kw, wrapper_class=AppliedActionCheck)
    model = PPO("MultiInputPolicy", venv, n_steps=128, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.learn(512)
    assert AppliedActionCheck.sent_invalid > 50  # PPO really did send invalid actions
    eval_env = make_vec_env("ScarGym/Schedule-v0", n_envs=1, seed=1, env_kwargs=kw, wrapper_class=AppliedActionCheck)
    returns, lengths = evaluate_policy(model, eval_env, n_eval_episodes=1, deterministic=True,
                                       return_episode_rewards=True)
    assert lengths == [SC10_DECISIONS] and -5 < returns[0] < 5  # a real schedule's log-ratio, not -100


def test_sb3_ppo_unmasked_recipe():
    pytest.importorskip("stable_baselines3")
    out = load_example("sb3_ppo").main(["--algo", "ppo", "--steps", "256", "--n-envs", "1"])
    assert out["lengths"] == out["decisions"] == [SC10_DECISIONS] * 2


# -- CleanRL-style PPO in plain torch -----------------------------------------------------------------

def test_flat_observation_starts_with_the_mask():
    env = gym.make("ScarGym/Schedule-v0", scenario="sc10", flatten=True)
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    for _ in range(40):
        n = env.action_space.n
        assert np.array_equal(obs[:n] > 0.5, u.action_masks())
        obs, *_ = env.step(int(np.flatnonzero(u.action_masks())[-1]))


def test_cleanrl_masked_ppo_recipe():
    pytest.importorskip("torch")
    out = load_example("cleanrl_masked_ppo").main(["--total-timesteps", "512", "--num-steps", "128"])
    assert out["steps"] == 512 and out["episodes"] >= 2
    assert out["invalid_actions"] == 0 and out["empty_masks_acted_on"] == 0


# -- torchrl ------------------------------------------------------------------------------------------

def test_torchrl_gymenv_action_mask_rollout():
    pytest.importorskip("torchrl")
    out = load_example("torchrl_masked_rollout").main(["--steps", "300"])
    for name in ("random", "policy"):
        r = out[name]
        assert r["steps"] == 300 and r["episodes"] >= 2, r
        assert r["invalid_actions"] == 0 and r["empty_masks_acted_on"] == 0, r


def test_unknown_option_is_a_type_error_as_keyword_probes_expect():
    """torchrl's GymEnv passes frameskip and retries without it on Python's own TypeError."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'frameskip'"):
        gym.make("ScarGym/Schedule-v0", frameskip=1)


# -- Gymnasium vector envs ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_env_masks_never_empty_where_a_policy_acts(mode):
    run = load_example("vector_envs").run
    same = run(mode, "same_step", steps=300, n_envs=2)
    assert same["episodes"] >= 4 and same["invalid_actions"] == 0
    assert same["empty_masks_on_acting_steps"] == 0 and same["empty_masks_on_ignored_steps"] == 0
    nxt = run(mode, "next_step", steps=300, n_envs=2)
    # NEXT_STEP: the final observation's mask is empty, on exactly the steps whose action is ignored
    assert nxt["empty_masks_on_acting_steps"] == 0 and nxt["invalid_actions"] == 0
    assert nxt["empty_masks_on_ignored_steps"] == nxt["episodes"] >= 4


# -- rl-zoo3 ------------------------------------------------------------------------------------------

def _zoo(args: list[str], tmp_path: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, *args, "--env", "ScarGym/Schedule-v0", "--gym-packages", "scar_gym",
                           "-n", "256", "--eval-freq", "128", "--eval-episodes", "1", "-f", str(tmp_path),
                           "--seed", "0", "--hyperparams", "n_envs:1", "n_steps:128", "batch_size:64"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = sorted(tmp_path.glob("*/ScarGym-Schedule-v0_*"))
    assert len(runs) == 1, runs
    evals = np.load(runs[0] / "evaluations.npz")
    assert (runs[0] / "ScarGym-Schedule-v0.zip").exists()
    return {k: evals[k] for k in evals}


def test_rl_zoo3_ppo_train_command(tmp_path):
    pytest.importorskip("rl_zoo3")
    ev = _zoo(["-m", "rl_zoo3.train", "--algo", "ppo", "--conf-file", "examples/rl_zoo3/ppo.yml",
               "--env-kwargs", "scenario:'sc10'", "invalid_action:'nearest'"], tmp_path)
    # every evaluation is a whole schedule (one step per layer), not an invalid action repeated
    assert (ev["ep_lengths"] == SC10_DECISIONS).all() and (np.abs(ev["results"]) < 5).all()


def test_rl_zoo3_ppo_mask_through_the_shim(tmp_path):
    pytest.importorskip("rl_zoo3")
    ev = _zoo(["examples/rl_zoo3/zoo.py", "train", "--algo", "ppo_mask", "--conf-file",
               "examples/rl_zoo3/ppo_mask.yml", "--env-kwargs", "scenario:'sc10'"], tmp_path)
    # default invalid_action (penalize): a full-length episode means every evaluation action was valid
    assert (ev["ep_lengths"] == SC10_DECISIONS).all() and (np.abs(ev["results"]) < 5).all()


def test_zoo_shim_predict_reads_the_mask_from_the_observation():
    pytest.importorskip("rl_zoo3")
    shim = load_example("rl_zoo3/zoo")
    shim.register()
    from rl_zoo3 import ALGOS

    assert ALGOS["ppo_mask"] is shim.ObsMaskablePPO
    env = gym.make("ScarGym/Schedule-v0", scenario="sc10")
    model = shim.ObsMaskablePPO("MultiInputPolicy", env, n_steps=64, batch_size=32, seed=0, device="cpu")
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    for _ in range(200):
        action, _ = model.predict(obs, deterministic=False)  # no action_masks given: taken from obs
        assert u.action_masks()[int(action)]
        obs, _, term, _, _ = env.step(int(action))
        if term:
            obs, _ = env.reset()
