#!/usr/bin/env python
"""rl-zoo3 with sb3-contrib's MaskablePPO as ``--algo ppo_mask``: a registration shim.

Why a shim: rl-zoo3 2.9.2 has no MaskablePPO (``--algo ppo_mask`` is rejected: its ``--algo``
choices are the keys of ``rl_zoo3.ALGOS``), and everything it evaluates goes through
``model.predict(obs)`` without masks (its EvalCallback, ``rl_zoo3.enjoy``), which would let a
MaskablePPO pick invalid actions. This script adds ``ppo_mask`` to ``ALGOS`` before the zoo parses
its arguments, as :class:`ObsMaskablePPO`: MaskablePPO whose ``predict`` takes the mask from the
Dict observation's ``action_mask`` when none is given. Training itself is sb3-contrib's own
(it reads ``action_masks()`` from the env). Everything else is the zoo, unchanged:

    python examples/rl_zoo3/zoo.py train --algo ppo_mask --env ScarGym/Schedule-v0 \\
        --gym-packages scar_gym --conf-file examples/rl_zoo3/ppo_mask.yml
    python examples/rl_zoo3/zoo.py enjoy --algo ppo_mask --env ScarGym/Schedule-v0 \\
        --gym-packages scar_gym -f logs/ --no-render -n 600

``zoo.py train|enjoy ARGS`` is ``python -m rl_zoo3.train|enjoy ARGS`` with ``ppo_mask`` added;
plain ``--algo ppo`` needs no shim (see ``ppo.yml``).
"""

from __future__ import annotations

import sys

import numpy as np
from sb3_contrib import MaskablePPO


class ObsMaskablePPO(MaskablePPO):
    """MaskablePPO that masks ``predict`` with ``observation["action_mask"]`` when no
    ``action_masks`` are passed (the zoo's evaluation and ``enjoy`` pass none)."""

    def predict(self, observation, state=None, episode_start=None, deterministic=False, action_masks=None):
        if action_masks is None and isinstance(observation, dict) and "action_mask" in observation:
            action_masks = np.asarray(observation["action_mask"]).astype(bool)
        return super().predict(observation, state, episode_start, deterministic, action_masks=action_masks)


def register() -> None:
    """Add ``ppo_mask`` to the zoo's algorithms (idempotent)."""
    from rl_zoo3 import ALGOS

    ALGOS.setdefault("ppo_mask", ObsMaskablePPO)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("train", "enjoy"):
        raise SystemExit("usage: zoo.py train|enjoy [rl_zoo3 arguments]")
    command, rest = argv[0], argv[1:]
    register()
    sys.argv = [f"rl_zoo3.{command}", *rest]
    if command == "train":
        from rl_zoo3.train import train

        train()
    else:
        from rl_zoo3.enjoy import enjoy

        enjoy()


if __name__ == "__main__":
    main()
