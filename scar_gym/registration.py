"""Gymnasium ids of the scar_gym environments, registered on ``import scar_gym`` (idempotently).

Entry points are strings, so registering imports no environment code. Spec ``kwargs`` hold only
JSON-able primitives (``env.spec.to_json()`` works). Across a process boundary (``SubprocVecEnv``,
configs) write ids as ``"scar_gym:ScarGym/Schedule-v0"``: Gymnasium imports ``scar_gym`` first.

=====================================  ==================================================================
id                                     environment
=====================================  ==================================================================
``ScarGym/Schedule-v0``                one layer per step; ``scenario="sc4"``, ``mcm="het-sides-3x3"``
``ScarGym/Schedule-Datacenter-v0``     the same over the paper's datacenter scenarios sc1..sc5
``ScarGym/Schedule-ARVR-v0``           the same over the AR/VR scenarios sc6..sc10
``ScarGym/Schedule-Random-v0``         the same over seeded random scenarios (RandomScenarioGenerator)
``ScarGym/Window-v0``                  one (window, model) pipeline per step among SCAR's candidates
=====================================  ==================================================================

Episodes end naturally (``terminated``), so ``max_episode_steps`` is None everywhere.
"""

from __future__ import annotations

import gymnasium

SCHEDULE_ENTRY = "scar_gym.envs.schedule_env:ScheduleEnv"
WINDOW_ENTRY = "scar_gym.envs.window_env:WindowEnv"

#: id -> (entry point, default kwargs).
ENV_IDS: dict[str, tuple[str, dict]] = {
    "ScarGym/Schedule-v0": (SCHEDULE_ENTRY, {}),
    "ScarGym/Schedule-Datacenter-v0": (SCHEDULE_ENTRY, {"scenario": "datacenter"}),
    "ScarGym/Schedule-ARVR-v0": (SCHEDULE_ENTRY, {"scenario": "arvr"}),
    "ScarGym/Schedule-Random-v0": (SCHEDULE_ENTRY, {"scenario": "random"}),
    "ScarGym/Window-v0": (WINDOW_ENTRY, {}),
}


def register_envs() -> None:
    """Register every id of :data:`ENV_IDS` that is not registered yet."""
    for env_id, (entry, kwargs) in ENV_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry, kwargs=dict(kwargs), max_episode_steps=None,
                               disable_env_checker=False)
