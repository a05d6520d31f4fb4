"""Gymnasium environments (registered on ``import scar_gym``; see :mod:`scar_gym.registration`).

* :class:`~scar_gym.envs.schedule_env.ScheduleEnv` (``ScarGym/Schedule-v0``): one layer per step.
* :class:`~scar_gym.envs.window_env.WindowEnv` (``ScarGym/Window-v0``): one (window, model)
  pipeline per step, among SCAR's candidates (imported lazily: it pulls in the SCAR engines).

Layout, after Jumanji's JobShop (generator / env / types / viewer):

* :mod:`.config` -- each env's options as a validated dataclass (unknown keys named);
* :mod:`.generator` -- toy instances; episodes come from a :class:`scar_gym.suites.Suite`;
* :mod:`.types` -- per-scenario cached data, window plans, and the episode state;
* :mod:`.features` -- every observation column, by name, and the feature scalings;
* :mod:`.base` -- what both envs share; :mod:`.schedule_env`, :mod:`.window_env` -- the envs;
* :mod:`.candidates` -- Window-v0's candidate pools (SCAR's PROV/SEG/SCHED engines);
* :mod:`.adapters` -- agents that drive Schedule-v0 (replay a schedule, a policy, random);
* :mod:`.rollout_search` -- schedulers that roll out an env (``window-ls``, the PPO agents' inference);
* rewards live in :mod:`scar_gym.rewards`, the viewer in :mod:`scar_gym.viewer`.
"""

from scar_gym.envs.generator import ModelSet, ToyGenerator
from scar_gym.envs.schedule_env import ScheduleEnv

__all__ = ["ModelSet", "ToyGenerator", "ScheduleEnv", "WindowEnv"]


def __getattr__(name: str):
    if name == "WindowEnv":
        from scar_gym.envs.window_env import WindowEnv

        return WindowEnv
    raise AttributeError(f"module 'scar_gym.envs' has no attribute {name!r}")
