"""Gymnasium environments (registered on ``import scar_gym``; see :mod:`scar_gym.registration`).

* :class:`~scar_gym.envs.schedule_env.ScheduleEnv` (``ScarGym/Schedule-v0``): one layer per step.
* :class:`~scar_gym.envs.window_env.WindowEnv` (``ScarGym/Window-v0``): one (window, model)
  pipeline per step, among SCAR's candidates (imported lazily: it pulls in the SCAR engines).

Jumanji-style layout: :mod:`.generator` (toy instances; episodes come from a :class:`scar_gym.suites.Suite`), :mod:`.types` (per-scenario
cached data and window plans), :mod:`.features` (observation layout), :mod:`.base` (shared
machinery), the two env modules, :mod:`.candidates` (Window-v0's candidate pools),
:mod:`.adapters` (agents that drive the envs) and :mod:`scar_gym.rewards`.
"""

from scar_gym.envs.generator import ModelSet, ToyGenerator
from scar_gym.envs.schedule_env import ScheduleEnv

__all__ = ["ModelSet", "ToyGenerator", "ScheduleEnv", "WindowEnv"]


def __getattr__(name: str):
    if name == "WindowEnv":
        from scar_gym.envs.window_env import WindowEnv

        return WindowEnv
    raise AttributeError(f"module 'scar_gym.envs' has no attribute {name!r}")
