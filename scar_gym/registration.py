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

Episodes end naturally (``terminated``) after one decision per layer (Schedule ids) or per
(window, model) (Window-v0; never more than the layers), or are truncated after ``max_invalid``
(default 100) rejected actions, so their length is bounded and ``max_episode_steps`` is that bound:
the most decisions of any scenario the id draws by default plus the default ``max_invalid``. The
bound of ``Schedule-v0`` and ``Window-v0`` (whose ``scenario`` is usually overridden) covers every
paper scenario and every default random one (727 layers: sc5, or the six datacenter zoo models), so
Gymnasium's TimeLimit never cuts a legitimate episode of those; an episode of a larger scenario of
your own warns at ``reset`` and needs ``gym.make(..., max_episode_steps=N)`` (``-1``: no limit).
"""

from __future__ import annotations

import gymnasium

SCHEDULE_ENTRY = "scar_gym.envs.schedule_env:ScheduleEnv"
WINDOW_ENTRY = "scar_gym.envs.window_env:WindowEnv"

#: The default ``max_invalid`` (:class:`scar_gym.envs.config.EnvConfig`; a test keeps them equal).
DEFAULT_MAX_INVALID = 100
#: Most layers of a paper scenario or a default random one (sc5; the six datacenter zoo models).
MAX_LAYERS = 727
#: Most layers of an AR/VR paper scenario (sc6).
MAX_LAYERS_ARVR = 517

#: id -> (entry point, default kwargs, max_episode_steps).
ENV_IDS: dict[str, tuple[str, dict, int]] = {
    "ScarGym/Schedule-v0": (SCHEDULE_ENTRY, {}, MAX_LAYERS + DEFAULT_MAX_INVALID),
    "ScarGym/Schedule-Datacenter-v0": (SCHEDULE_ENTRY, {"scenario": "datacenter"}, MAX_LAYERS + DEFAULT_MAX_INVALID),
    "ScarGym/Schedule-ARVR-v0": (SCHEDULE_ENTRY, {"scenario": "arvr"}, MAX_LAYERS_ARVR + DEFAULT_MAX_INVALID),
    "ScarGym/Schedule-Random-v0": (SCHEDULE_ENTRY, {"scenario": "random"}, MAX_LAYERS + DEFAULT_MAX_INVALID),
    "ScarGym/Window-v0": (WINDOW_ENTRY, {}, MAX_LAYERS + DEFAULT_MAX_INVALID),
}


def register_envs() -> None:
    """Register every id of :data:`ENV_IDS` that is not registered yet."""
    for env_id, (entry, kwargs, max_steps) in ENV_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry, kwargs=dict(kwargs), max_episode_steps=max_steps,
                               disable_env_checker=False)
