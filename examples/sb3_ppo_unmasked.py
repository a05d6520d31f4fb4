#!/usr/bin/env python
"""SB3's plain PPO (no masks) on ScarGym/Schedule-v0 with ``invalid_action="nearest"``.

A learner that cannot use masks picks chiplets other models hold. With the default
``invalid_action="penalize"`` such a step changes nothing and costs ``invalid_penalty`` (85% of a
fresh PPO's actions; a deterministic policy can repeat one until ``max_invalid`` ends the episode).
``"nearest"`` applies the valid chiplet of nearest index instead, so every step places a layer and
the evaluator only ever sees valid schedules; ``info["mapped_action"]`` and ``info["n_invalid"]``
say how often it happened. Prefer MaskablePPO (``sb3_maskable_ppo.py``) when you can: it never
wastes probability mass on invalid actions.

    python examples/sb3_ppo_unmasked.py --steps 20000 --scenario sc4
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=512, help="training timesteps")
    p.add_argument("--scenario", default="sc10")
    p.add_argument("--mcm", default="het-sides-3x3")
    p.add_argument("--n-envs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    env_kwargs = {"scenario": args.scenario, "mcm": args.mcm, "invalid_action": "nearest", "render_mode": None}
    venv = make_vec_env("scar_gym:ScarGym/Schedule-v0", n_envs=args.n_envs, seed=args.seed, env_kwargs=env_kwargs)
    model = PPO("MultiInputPolicy", venv, n_steps=128, batch_size=64, n_epochs=4, gamma=0.999,
                learning_rate=3.0e-4, ent_coef=0.01, seed=args.seed, device="cpu")
    model.learn(args.steps)

    eval_env = make_vec_env("scar_gym:ScarGym/Schedule-v0", n_envs=1, seed=args.seed + 1, env_kwargs=env_kwargs)
    infos: list[dict] = []

    def keep_final(locals_: dict, _globals: dict) -> None:
        if locals_["done"]:
            infos.append(locals_["info"])

    returns, lengths = evaluate_policy(model, eval_env, n_eval_episodes=2, deterministic=True,
                                       return_episode_rewards=True, callback=keep_final)
    out = {"returns": returns, "lengths": lengths, "mapped": sum(i["n_invalid"] for i in infos),
           "decisions": [i["n_decisions"] for i in infos], "edp_ratio_vs_ref": [i["edp_ratio_vs_ref"] for i in infos]}
    print(f"PPO (no masks, invalid_action='nearest') after {args.steps} steps: returns {returns}, "
          f"lengths {lengths} (= decisions {out['decisions']}), invalid actions mapped {out['mapped']}, "
          f"EDP / Standalone's {out['edp_ratio_vs_ref']}")
    return out


if __name__ == "__main__":
    main()
