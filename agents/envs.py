"""Env factories for training and evaluation: the configs' suites, the held-out split, vec envs.

Scenarios are fed to the ScarGym envs through ``reset(options={"scenario": ...})`` by
:class:`ScenarioFeeder`, which needs no randomness: env ``rank`` of ``n_envs`` takes scenario
indices ``rank, rank + n_envs, rank + 2 n_envs, ...`` of its suite (cycling through a finite
one). So a run is reproducible from its config alone and two envs never train on the same
random scenario at the same time.

This module imports gymnasium and scar_gym but not torch.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from scar_gym.suites import VALIDATION_SEED_BASE, Suite, check_seed

INFO_KEYWORDS = ("edp_js", "latency_s", "energy_j")


def check_held_out(cfg: Any, file: str | None = None) -> None:
    """Random training scenarios from train seeds, evaluation ones from validation seeds (scar_gym.suites)."""
    tr, ev = cfg.scenarios.train, cfg.scenarios.eval
    if tr.source == "bank":
        from scar_gym.envs.bank import ScenarioBank

        for r in ScenarioBank.open(cfg.bank).recipes:
            check_seed(int(r["seed"]), "train", "bank", file)
    if tr.source == "random":
        check_seed(tr.seed, "train", "scenarios.train.seed", file)
    if ev.source == "random":
        check_seed(ev.seed, "validation", "scenarios.eval.seed", file)


def suite_of(source: Any, bank: str | None = None) -> Suite:
    """The :class:`~scar_gym.suites.Suite` of a config's :class:`~agents.config.SuiteConfig`
    (``bank``: the bank directory of ``source: bank``)."""
    if source.source == "bank":
        from scar_gym.envs.bank import ScenarioBank

        return Suite(tuple(ScenarioBank.open(bank).scenarios()), label=f"bank {bank}")
    if source.source == "random":
        return Suite.random(source.seed, source.n, domain=source.domain, min_models=source.min_models,
                            max_models=source.max_models)
    if source.source == "paper":
        return Suite.of(list(source.ids) or "paper")
    return Suite.of(list(source.ids))


class MultiMCMEnv(gym.Env):
    """One ScarGym env per MCM behind one interface, for training a size-agnostic agent on several MCMs.

    ``reset(options={"mcm": name, ...})`` picks the MCM of the episode (the first one when none is
    named); everything else is the chosen env's. Every MCM's env must have the same spaces: give the
    env a ``max_chiplets`` of at least the largest MCM's chiplets (Window-v0 pads to it), else the
    constructor says which MCM differs. The final step's info adds ``mcm``.
    """

    metadata = {"render_modes": []}

    def __init__(self, env_id: str, mcms: Sequence[str], **env_kwargs: Any):
        if not mcms:
            raise ValueError("MultiMCMEnv needs at least one MCM")
        self.envs = {str(m): gym.make(env_id, mcm=str(m), disable_env_checker=True, **env_kwargs).unwrapped
                     for m in dict.fromkeys(mcms)}
        first_name, first = next(iter(self.envs.items()))
        self.observation_space, self.action_space = first.observation_space, first.action_space
        for name, env in self.envs.items():
            if env.observation_space != self.observation_space or env.action_space != self.action_space:
                from scar_gym.errors import ConfigError

                raise ConfigError("mcms", f"{name} gives other observation or action spaces than {first_name}",
                                  "set env_kwargs.max_chiplets to the largest MCM's chiplets (and obs_mode: sets)")
        self.current = first_name

    @property
    def env(self) -> gym.Env:
        return self.envs[self.current]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        options = dict(options or {})
        self.current = str(options.pop("mcm", None) or self.current)
        if self.current not in self.envs:
            raise KeyError(f"MCM {self.current!r} is not one of {sorted(self.envs)}")  # a bug in the feeder
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            info = {**info, "mcm": self.current}
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        return self.env.action_masks()


class ScenarioFeeder(gym.Wrapper):
    """Passes the next scenario of a suite to every ``reset`` that does not name one.

    With ``mcms`` (a :class:`MultiMCMEnv` inside), reset ``i`` (``rank + k * stride``) runs scenario
    ``i // len(mcms)`` on MCM ``i % len(mcms)``: every scenario on every MCM in turn, and any
    ``len(suite) x len(mcms)`` consecutive resets of a finite suite cover every pair once."""

    def __init__(self, env: gym.Env, scenarios: Suite | Sequence, rank: int = 0, stride: int = 1,
                 mcms: Sequence[str] = ()):
        super().__init__(env)
        self.scenarios = scenarios
        self.mcms = tuple(mcms)
        self.rank, self.stride = rank, stride
        self.k = 0
        self.current = None
        #: (scenario id, final info) of every finished episode; the trainer's eval callback drains it.
        self.finished: list[tuple[str, dict]] = []

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        options = dict(options or {})
        if "scenario" not in options:
            i = self.rank + self.k * self.stride
            if self.mcms:
                options["scenario"] = self.scenarios[i // len(self.mcms)]
                options.setdefault("mcm", self.mcms[i % len(self.mcms)])
            else:
                options["scenario"] = self.scenarios[i]
            self.k += 1
        self.current = options["scenario"]
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            sid = getattr(self.current, "id", str(self.current))
            self.finished.append((sid, {k: info[k] for k in (*INFO_KEYWORDS, "mcm") if k in info}))
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        return self.env.unwrapped.action_masks()


def env_kwargs_for(cfg: Any) -> dict[str, Any]:
    """gym.make kwargs: the config's ``env_kwargs`` plus its MCM (unless env_kwargs sets one)."""
    kw = dict(cfg.env_kwargs)
    if not getattr(cfg, "mcms", ()):
        kw.setdefault("mcm", cfg.mcm)
    if getattr(cfg, "bank", None) is not None:
        kw.setdefault("bank", cfg.bank)
    return kw


def make_env(env_id: str, env_kwargs: dict[str, Any], source: Any, rank: int, stride: int,
             monitor_dir: str | None = None, eval_split: bool = False, append: bool = False,
             mcms: Sequence[str] = ()) -> gym.Env:
    """One env: gym.make (or :class:`MultiMCMEnv` over ``mcms``) -> ScenarioFeeder -> Monitor.
    Module-level so SubprocVecEnv can pickle it. ``append``: continue an existing monitor CSV (a
    resumed run) instead of starting it anew."""
    import scar_gym  # noqa: F401  (registers the ids in a forkserver child)
    from stable_baselines3.common.monitor import Monitor

    if mcms:
        env = MultiMCMEnv(env_id, mcms, **env_kwargs)
    else:
        env = gym.make(env_id, **env_kwargs)
    env = ScenarioFeeder(env, suite_of(source, env_kwargs.get("bank")), rank=rank, stride=stride, mcms=mcms)
    filename = None
    if monitor_dir is not None:
        import os

        os.makedirs(monitor_dir, exist_ok=True)
        filename = os.path.join(monitor_dir, f"{'eval' if eval_split else 'train'}_{rank}")
    return Monitor(env, filename=filename, info_keywords=INFO_KEYWORDS, override_existing=not append)


def make_vec(cfg: Any, split: str = "train", monitor_dir: str | None = None, append: bool = False):
    """The training (``n_envs``, DummyVecEnv or SubprocVecEnv) or evaluation (one env) vec env;
    ``append`` continues existing monitor CSVs (a resumed run)."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    kw = env_kwargs_for(cfg)
    mcms = tuple(getattr(cfg, "mcms", ()))
    if split == "train":
        n = cfg.n_envs
        src = cfg.scenarios.train
        thunks = [functools.partial(make_env, cfg.env_id, kw, src, r, n, monitor_dir, False, append, mcms)
                  for r in range(n)]
        venv = SubprocVecEnv(thunks) if cfg.vec_env == "subproc" and n > 1 else DummyVecEnv(thunks)
        venv.seed(cfg.seed)
        return venv
    src = cfg.scenarios.eval
    mcms = tuple(getattr(cfg, "eval_mcms", ())) or mcms
    venv = DummyVecEnv([functools.partial(make_env, cfg.env_id, kw, src, 0, 1, monitor_dir, True, append, mcms)])
    venv.seed(cfg.seed + VALIDATION_SEED_BASE)
    return venv
