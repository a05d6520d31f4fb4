"""Agents that drive ``ScarGym/Schedule-v0`` with ``predict(obs, env) -> action``.

* :class:`ScheduleFollower`: replays any complete :class:`~scar_gym.schedule.Schedule` (the env must
  use the schedule's windows: ``env.reset(options=follower.reset_options())``).
* :class:`PolicyAgent`: runs a registered policy (``"scar"``, ``"standalone"``, ...) on the env's
  evaluator at :meth:`PolicyAgent.reset` and follows its schedule; the env's EDP then equals the
  policy's EDP exactly (same evaluator, same assignments).
* :class:`RandomMaskedAgent`: uniform over the valid actions, from its own seeded generator.

:func:`run_episode` plays one episode and returns the final info, the return and the schedule.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.policies.base import Policy
from scar_gym.schedule import Assignment, Schedule


def _unwrapped(env: gym.Env):
    return env.unwrapped


class ScheduleFollower:
    """Turns a complete schedule into Schedule-v0 actions.

    Args:
        schedule: a complete, valid schedule of the env's scenario (any policy's).
    """

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.windows: list[dict[int, tuple[int, int]]] = [
            {a.model: (a.start, a.stop) for a in sorted(w.assignments, key=lambda a: a.model)}
            for w in schedule.windows]
        self._spec = tuple(tuple(sorted((m, a, b) for m, (a, b) in w.items())) for w in self.windows)
        self._by_window: list[dict[int, Assignment]] = [{a.model: a for a in w.assignments} for w in schedule.windows]

    def reset_options(self, **extra: Any) -> dict[str, Any]:
        """Options for ``env.reset`` that give the env this schedule's windows."""
        return {**extra, "windows": self.windows}

    def actions(self) -> list[int]:
        """The whole action sequence, in the env's decision order (window, model index, layer)."""
        out = []
        for w in self._by_window:
            for m in sorted(w):
                for s in w[m].segments:
                    out.extend([s.chiplet] * s.num_layers)
        return out

    def predict(self, obs: Any, env: gym.Env) -> int:
        u = _unwrapped(env)
        if u.plan.windows != self._spec:
            raise ConfigError("windows", "the env's windows differ from the schedule's",
                              "reset the env with options=follower.reset_options()")
        wi, m, pos = u.position
        for s in self._by_window[wi][m].segments:
            if s.start <= pos < s.stop:
                return s.chiplet
        raise ConfigError("schedule", f"no segment of model {m} covers layer {pos} in window {wi}",
                          "give a complete schedule")  # pragma: no cover - guarded by the window check


def make_policy(policy: str | Policy, **kwargs: Any) -> Policy:
    """A policy instance from a registry name, or the policy as given."""
    if isinstance(policy, Policy):
        return policy
    from scar_gym.policies import registry

    return registry.make_policy(policy, **kwargs)


class PolicyAgent:
    """Follows a scheduling policy's schedule of the episode's scenario.

    Use :meth:`reset` instead of ``env.reset`` (it draws the scenario, runs the policy once per
    scenario -- cached -- and resets the env with the policy's windows), then :meth:`predict`.

    Args:
        policy: a registry name or a :class:`~scar_gym.policies.base.Policy`.
        seed: passed to ``policy.schedule``.
        **policy_kwargs: constructor options of a registered policy.
    """

    def __init__(self, policy: str | Policy, seed: int | None = 0, **policy_kwargs: Any):
        self.policy = make_policy(policy, **policy_kwargs)
        self.seed = seed
        self.follower: ScheduleFollower | None = None
        self._schedules: dict[Any, Schedule] = {}

    def schedule_for(self, env: gym.Env) -> Schedule:
        u = _unwrapped(env)
        key = u.scenario_data.key
        if key not in self._schedules:
            self._schedules[key] = self.policy.schedule(u.evaluator, seed=self.seed)
        return self._schedules[key]

    def reset(self, env: gym.Env, seed: int | None = None, options: dict | None = None):
        """Reset ``env`` on the next scenario with the policy's windows; returns ``(obs, info)``."""
        env.reset(seed=seed, options=options)
        u = _unwrapped(env)
        self.follower = ScheduleFollower(self.schedule_for(env))
        return env.reset(options=self.follower.reset_options(scenario=u.scenario_data.instance))

    def predict(self, obs: Any, env: gym.Env) -> int:
        if self.follower is None:
            raise ConfigError("PolicyAgent", "predict() before reset()", "call agent.reset(env) first")
        return self.follower.predict(obs, env)


class RandomMaskedAgent:
    """Uniformly random valid actions from its own generator (``np.random.default_rng(seed)``)."""

    def __init__(self, seed: int | None = None):
        self.rng = np.random.default_rng(seed)

    def reset(self, env: gym.Env, seed: int | None = None, options: dict | None = None):
        return env.reset(seed=seed, options=options)

    def predict(self, obs: Any, env: gym.Env) -> int:
        valid = np.flatnonzero(_unwrapped(env).action_masks())
        return int(valid[self.rng.integers(len(valid))])


def run_episode(env: gym.Env, agent: Any, seed: int | None = None,
                options: dict | None = None) -> tuple[dict[str, Any], float, Schedule]:
    """Play one episode with ``agent`` (``reset(env, ...)`` if it has one, then ``predict``).

    Returns:
        (final info, sum of rewards, the complete schedule).
    """
    if hasattr(agent, "reset"):
        obs, info = agent.reset(env, seed=seed, options=options)
    else:
        obs, info = env.reset(seed=seed, options=options)
    total = 0.0
    while True:
        obs, r, terminated, truncated, info = env.step(agent.predict(obs, env))
        total += r
        if terminated or truncated:
            break
    return info, total, _unwrapped(env).schedule
