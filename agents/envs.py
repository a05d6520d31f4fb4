"""Env factories for training and evaluation: scenario sources, the held-out split, vec envs.

Scenarios are fed to the ScarGym envs through ``reset(options={"scenario": ...})`` by
:class:`ScenarioFeeder`, which needs no randomness: env ``rank`` of ``n_envs`` takes scenario
indices ``rank, rank + n_envs, rank + 2 n_envs, ...`` of its source (cycling through a finite
list). So a run is reproducible from its config alone and two envs never train on the same
random scenario at the same time.

This module imports gymnasium and scar_gym but not torch.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from scar_gym.errors import ConfigError

INFO_KEYWORDS = ("edp_js", "latency_s", "energy_j")
VALIDATION_SEED_BASE = 10_000
TEST_SEED_BASE = 20_000


def check_held_out(cfg: Any, file: str | None = None) -> None:
    """Training seeds < 10000, evaluation (validation) seeds in [10000, 20000); see scar_gym.benchmark."""
    tr, ev = cfg.scenarios.train, cfg.scenarios.eval
    if tr.source == "random" and tr.seed >= VALIDATION_SEED_BASE:
        raise ConfigError("scenarios.train.seed", f"{tr.seed} is in the validation/test range (>= 10000)",
                          "training seeds are 0 .. 9999", file)
    if ev.source == "random" and not VALIDATION_SEED_BASE <= ev.seed < TEST_SEED_BASE:
        raise ConfigError("scenarios.eval.seed", f"{ev.seed} is not a validation seed (10000 .. 19999)",
                          "use 10000 + k; 20000+ is the test suite of scar-gym eval", file)


class ScenarioList:
    """Indexable scenario source: a finite list, or an endless random stream (``n == 0``)."""

    def __init__(self, source: Any):
        from scar_gym.scenarios import SCENARIO_IDS, RandomScenarioGenerator, load_scenario

        self.source = source
        self._gen = None
        self._items: list = []
        if source.source == "random":
            self._gen = RandomScenarioGenerator(seed=source.seed, domain=source.domain,
                                                min_models=source.min_models, max_models=source.max_models)
            if source.n:
                self._items = [self._gen.scenario(i) for i in range(source.n)]
        elif source.source == "paper":
            self._items = [load_scenario(s) for s in (source.ids or SCENARIO_IDS)]
        else:
            self._items = [load_scenario(s) for s in source.ids]

    @property
    def finite(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items) if self._items else 0

    def __getitem__(self, i: int):
        if self._items:
            return self._items[i % len(self._items)]
        return self._gen.scenario(i)

    def all(self) -> list:
        return list(self._items)


class ScenarioFeeder(gym.Wrapper):
    """Passes the next scenario of a source to every ``reset`` that does not name one."""

    def __init__(self, env: gym.Env, scenarios: ScenarioList | Sequence, rank: int = 0, stride: int = 1):
        super().__init__(env)
        self.scenarios = scenarios
        self.rank, self.stride = rank, stride
        self.k = 0
        self.current = None
        #: (scenario id, final info) of every finished episode; the trainer's eval callback drains it.
        self.finished: list[tuple[str, dict]] = []

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        options = dict(options or {})
        if "scenario" not in options:
            options["scenario"] = self.scenarios[self.rank + self.k * self.stride]
            self.k += 1
        self.current = options["scenario"]
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            sid = getattr(self.current, "id", str(self.current))
            self.finished.append((sid, {k: info[k] for k in INFO_KEYWORDS if k in info}))
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        return self.env.unwrapped.action_masks()


def env_kwargs_for(cfg: Any) -> dict[str, Any]:
    """gym.make kwargs: the config's ``env_kwargs`` plus its MCM (unless env_kwargs sets one)."""
    kw = dict(cfg.env_kwargs)
    kw.setdefault("mcm", cfg.mcm)
    return kw


def make_env(env_id: str, env_kwargs: dict[str, Any], source: Any, rank: int, stride: int,
             monitor_dir: str | None = None, eval_split: bool = False) -> gym.Env:
    """One env: gym.make -> ScenarioFeeder -> Monitor. Module-level so SubprocVecEnv can pickle it."""
    import scar_gym  # noqa: F401  (registers the ids in a forkserver child)
    from stable_baselines3.common.monitor import Monitor

    env = gym.make(env_id, **env_kwargs)
    env = ScenarioFeeder(env, ScenarioList(source), rank=rank, stride=stride)
    filename = None
    if monitor_dir is not None:
        import os

        os.makedirs(monitor_dir, exist_ok=True)
        filename = os.path.join(monitor_dir, f"{'eval' if eval_split else 'train'}_{rank}")
    return Monitor(env, filename=filename, info_keywords=INFO_KEYWORDS)


def make_vec(cfg: Any, split: str = "train", monitor_dir: str | None = None):
    """The training (``n_envs``, DummyVecEnv or SubprocVecEnv) or evaluation (one env) vec env."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    kw = env_kwargs_for(cfg)
    if split == "train":
        n = cfg.n_envs
        src = cfg.scenarios.train
        thunks = [functools.partial(make_env, cfg.env_id, kw, src, r, n, monitor_dir) for r in range(n)]
        venv = SubprocVecEnv(thunks) if cfg.vec_env == "subproc" and n > 1 else DummyVecEnv(thunks)
        venv.seed(cfg.seed)
        return venv
    src = cfg.scenarios.eval
    venv = DummyVecEnv([functools.partial(make_env, cfg.env_id, kw, src, 0, 1, monitor_dir, True)])
    venv.seed(cfg.seed + VALIDATION_SEED_BASE)
    return venv
