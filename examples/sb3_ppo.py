#!/usr/bin/env python
"""Stable-Baselines3 on ScarGym/Schedule-v0: sb3-contrib's MaskablePPO, or SB3's plain PPO.

``--algo maskable`` (recommended; what ``scar-gym train`` uses): the env exposes
``action_masks()``, sb3-contrib's hook, reached through Gymnasium's wrappers with
``get_wrapper_attr``, so no ``ActionMasker`` is needed and SubprocVecEnv works. Evaluate with
sb3-contrib's maskable ``evaluate_policy``, never SB3's plain one (it would ignore the masks).

``--algo ppo``: PPO cannot use masks, so it picks chiplets other models hold. With the default
``invalid_action="penalize"`` such a step changes nothing and costs ``invalid_penalty`` (85% of a
fresh PPO's actions; a deterministic policy can repeat one until ``max_invalid`` ends the
episode). This recipe sets ``invalid_action="nearest"``: the valid chiplet of nearest index is
applied instead, so every step places a layer and the evaluator only ever sees valid schedules;
``info["mapped_action"]`` and ``info["n_invalid"]`` say how often it happened. It learns slower than
MaskablePPO, which never spends probability on invalid actions.

    python examples/sb3_ppo.py --algo maskable --steps 20000 --scenario sc4
    python examples/sb3_ppo.py --algo ppo --steps 20000 --scenario sc4
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algo", choices=["maskable", "ppo"], default="maskable")
    p.add_argument("--steps", type=int, default=512, help="training timesteps")
    p.add_argument("--scenario", default="sc10")
    p.add_argument("--mcm", default="het-sides-3x3")
    p.add_argument("--n-envs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from stable_baselines3.common.env_util import make_vec_env

    env_kwargs = {"scenario": args.scenario, "mcm": args.mcm, "render_mode": None}
    if args.algo == "maskable":
        from sb3_contrib import MaskablePPO as Algo
        from sb3_contrib.common.maskable.evaluation import evaluate_policy
    else:
        from stable_baselines3 import PPO as Algo
        from stable_baselines3.common.evaluation import evaluate_policy

        env_kwargs["invalid_action"] = "nearest"
    # The "module:id" form imports scar_gym in SubprocVecEnv workers too (they do not see a
    # registration made by this script).
    venv = make_vec_env("scar_gym:ScarGym/Schedule-v0", n_envs=args.n_envs, seed=args.seed, env_kwargs=env_kwargs)
    model = Algo("MultiInputPolicy", venv, n_steps=128, batch_size=64, n_epochs=4, gamma=0.999,
                 learning_rate=3.0e-4, ent_coef=0.01, seed=args.seed, device="cpu")
    model.learn(args.steps)

    eval_env = make_vec_env("scar_gym:ScarGym/Schedule-v0", n_envs=1, seed=args.seed + 1, env_kwargs=env_kwargs)
    infos: list[dict] = []

    def keep_final(locals_: dict, _globals: dict) -> None:
        if locals_["done"]:
            infos.append(locals_["info"])

    returns, lengths = evaluate_policy(model, eval_env, n_eval_episodes=2, deterministic=True,
                                       return_episode_rewards=True, callback=keep_final)
    out = {"returns": returns, "lengths": lengths, "n_invalid": sum(i["n_invalid"] for i in infos),
           "decisions": [i["n_decisions"] for i in infos], "edp_ratio_vs_ref": [i["edp_ratio_vs_ref"] for i in infos]}
    what = "invalid actions" if args.algo == "maskable" else "invalid actions (all mapped to valid ones)"
    print(f"{Algo.__name__} after {args.steps} steps: returns {returns}, lengths {lengths} (decisions "
          f"{out['decisions']}), {what} {out['n_invalid']}, EDP / Standalone's {out['edp_ratio_vs_ref']}")
    return out


if __name__ == "__main__":
    main()
