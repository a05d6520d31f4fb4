#!/usr/bin/env python
"""sb3-contrib MaskablePPO on ScarGym/Schedule-v0: the recommended way to train with SB3.

The env exposes ``action_masks()`` (sb3-contrib's hook, reached through Gymnasium's wrappers with
``get_wrapper_attr``), so no ``ActionMasker`` is needed and SubprocVecEnv works. Evaluate with
sb3-contrib's maskable ``evaluate_policy``, never SB3's plain one (it would ignore the masks).

    python examples/sb3_maskable_ppo.py --steps 20000 --scenario sc4
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

    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.maskable.evaluation import evaluate_policy
    from stable_baselines3.common.env_util import make_vec_env

    env_kwargs = {"scenario": args.scenario, "mcm": args.mcm, "render_mode": None}
    # The "module:id" form imports scar_gym in SubprocVecEnv workers too (they do not see a
    # registration made by this script).
    venv = make_vec_env("scar_gym:ScarGym/Schedule-v0", n_envs=args.n_envs, seed=args.seed, env_kwargs=env_kwargs)
    model = MaskablePPO("MultiInputPolicy", venv, n_steps=128, batch_size=64, n_epochs=4, gamma=0.999,
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
           "edp_ratio_vs_ref": [i["edp_ratio_vs_ref"] for i in infos]}
    print(f"MaskablePPO after {args.steps} steps: returns {returns}, lengths {lengths}, "
          f"invalid actions {out['n_invalid']}, EDP / Standalone's {out['edp_ratio_vs_ref']}")
    return out


if __name__ == "__main__":
    main()
