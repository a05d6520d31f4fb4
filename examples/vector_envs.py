#!/usr/bin/env python
"""Gymnasium vector envs (``gym.make_vec``, sync and async) with action masks.

Use ``autoreset_mode=AutoresetMode.SAME_STEP``. Then the step that ends an episode already returns
the next episode's first observation (the final one is in ``info["final_obs"]``), so **every
observation a policy is given has a non-empty mask**, read from ``obs["action_mask"]``.

Under Gymnasium's default, ``NEXT_STEP``, the step that ends an episode returns the final
observation, whose mask is all zero (nothing is left to decide), and the *next* ``step`` call
resets that sub-env and ignores its action. A masked sampler must not be given that empty mask
(a masked categorical over no valid action is undefined; torch gives NaN): either use SAME_STEP,
or, under NEXT_STEP, sample anything for the rows flagged done on the previous step (what
:func:`fill_ignored_rows` does).

    python examples/vector_envs.py --mode async --steps 2000
"""

from __future__ import annotations

import argparse

import numpy as np


def fill_ignored_rows(masks: np.ndarray, autoreset: np.ndarray) -> np.ndarray:
    """NEXT_STEP only: the rows whose action the vector env will ignore (their episode ended on
    the previous step) get an all-True mask, so that a masked sampler has something to draw."""
    masks = masks.copy()
    masks[autoreset] = True
    return masks


def run(mode: str = "sync", autoreset: str = "same_step", steps: int = 300, n_envs: int = 2,
        scenario: str = "sc10", seed: int = 0) -> dict:
    """Masked random actions for ``steps`` vector steps; returns what a masked policy saw."""
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode

    import scar_gym  # noqa: F401  (registers the ids; async workers import it through "scar_gym:")

    auto = AutoresetMode.SAME_STEP if autoreset == "same_step" else AutoresetMode.NEXT_STEP
    envs = gym.make_vec("scar_gym:ScarGym/Schedule-v0", num_envs=n_envs, vectorization_mode=mode,
                        vector_kwargs={"autoreset_mode": auto}, scenario=scenario)
    rng = np.random.default_rng(seed)
    obs, info = envs.reset(seed=seed)
    ended = np.zeros(n_envs, dtype=bool)  # NEXT_STEP: rows whose next action is ignored
    empty_on_acting_steps = empty_on_ignored_steps = episodes = invalid = 0
    try:
        for _ in range(steps):
            masks = obs["action_mask"].astype(bool)
            acting = ~ended if auto == AutoresetMode.NEXT_STEP else np.ones(n_envs, dtype=bool)
            empty = ~masks.any(axis=1)
            empty_on_acting_steps += int((empty & acting).sum())
            empty_on_ignored_steps += int((empty & ~acting).sum())
            if auto == AutoresetMode.NEXT_STEP:
                masks = fill_ignored_rows(masks, ended)
            actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
            obs, rewards, terminated, truncated, info = envs.step(actions)
            done = terminated | truncated
            episodes += int(done.sum())
            invalid += int(np.sum(info.get("invalid_action", 0) & info.get("_invalid_action", True)))
            ended = done
    finally:
        envs.close()
    out = {"mode": mode, "autoreset": autoreset, "steps": steps * n_envs, "episodes": episodes,
           "empty_masks_on_acting_steps": empty_on_acting_steps,
           "empty_masks_on_ignored_steps": empty_on_ignored_steps, "invalid_actions": invalid}
    print(out)
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["sync", "async"], default="sync")
    p.add_argument("--autoreset", choices=["same_step", "next_step"], default="same_step")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--n-envs", type=int, default=2)
    p.add_argument("--scenario", default="sc10")
    args = p.parse_args(argv)
    return run(args.mode, args.autoreset, args.steps, args.n_envs, args.scenario)


if __name__ == "__main__":
    main()
