#!/usr/bin/env python
"""A single-file, CleanRL-style masked PPO in plain torch on ScarGym/Schedule-v0.

What a hand-written learner needs to know:

* ``flatten=True`` gives a 1-D ``Box``: the flattening of the Dict observation in sorted key order,
  so **its first ``n = action_space.n`` entries are the action mask** (``action_mask`` sorts first;
  1.0 = valid), followed by the chiplet rows, the global features and the layer features.
* The vector env uses ``AutoresetMode.SAME_STEP``: an ended episode's sub-env is reset within the
  same ``step``, so ``next_obs`` (and its mask) is always one to act on and CleanRL's usual
  ``next_done`` bookkeeping is right. Under Gymnasium's default NEXT_STEP mode the observation after
  a done is the final one, with an all-zero mask (see ``vector_envs.py``).
* Invalid logits are set to a large negative number (not ``-inf``, as sb3-contrib does), so a
  categorical over the valid actions is always defined.

    python examples/cleanrl_masked_ppo.py --total-timesteps 50000 --scenario sc4
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--total-timesteps", type=int, default=512)
    p.add_argument("--scenario", default="sc10")
    p.add_argument("--mcm", default="het-sides-3x3")
    p.add_argument("--num-envs", type=int, default=2)
    p.add_argument("--num-steps", type=int, default=128)
    p.add_argument("--num-minibatches", type=int, default=4)
    p.add_argument("--update-epochs", type=int, default=4)
    p.add_argument("--learning-rate", type=float, default=2.5e-4)
    p.add_argument("--gamma", type=float, default=0.999)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--clip-coef", type=float, default=0.2)
    p.add_argument("--ent-coef", type=float, default=0.01)
    p.add_argument("--vf-coef", type=float, default=0.5)
    p.add_argument("--max-grad-norm", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import gymnasium as gym
    import numpy as np
    import torch
    import torch.nn as nn
    from gymnasium.vector import AutoresetMode

    import scar_gym  # noqa: F401  (registers the ids)

    torch.manual_seed(args.seed)
    envs = gym.make_vec("ScarGym/Schedule-v0", num_envs=args.num_envs, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
                        scenario=args.scenario, mcm=args.mcm, flatten=True)
    n_act = int(envs.single_action_space.n)
    obs_dim = int(np.prod(envs.single_observation_space.shape))

    def layer(i: int, o: int, std: float = np.sqrt(2)) -> nn.Linear:
        lin = nn.Linear(i, o)
        nn.init.orthogonal_(lin.weight, std)
        nn.init.constant_(lin.bias, 0.0)
        return lin

    class Agent(nn.Module):
        def __init__(self):
            super().__init__()
            self.critic = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, 1, 1.0))
            self.actor = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, n_act, 0.01))

        def value(self, x):
            return self.critic(x)

        def act(self, x, action=None):
            mask = x[:, :n_act] > 0.5  # the first n entries of the flat observation are the mask
            logits = self.actor(x).masked_fill(~mask, -1e8)
            dist = torch.distributions.Categorical(logits=logits)
            if action is None:
                action = dist.sample()
            return action, dist.log_prob(action), dist.entropy(), self.critic(x)

    agent = Agent()
    opt = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    N, T = args.num_envs, args.num_steps
    obs_buf = torch.zeros((T, N, obs_dim))
    act_buf = torch.zeros((T, N), dtype=torch.long)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros((T, N)) for _ in range(4))

    next_obs = torch.tensor(envs.reset(seed=args.seed)[0], dtype=torch.float32)
    next_done = torch.zeros(N)
    invalid = empty_masks = 0
    finals: list[dict] = []
    iterations = max(1, args.total_timesteps // (N * T))
    for _ in range(iterations):
        for t in range(T):
            obs_buf[t], done_buf[t] = next_obs, next_done
            empty_masks += int((next_obs[:, :n_act].sum(1) == 0).sum())
            with torch.no_grad():
                action, logp, _, value = agent.act(next_obs)
            val_buf[t], act_buf[t], logp_buf[t] = value.flatten(), action, logp
            o, r, term, trunc, info = envs.step(action.numpy())
            for i in np.flatnonzero(term | trunc):  # SAME_STEP: the ended episodes' infos are in final_info
                fin = info["final_info"]
                invalid += int(fin["invalid_action"][i])
                if term[i]:
                    finals.append({k: fin[k][i] for k in ("edp_ratio_vs_ref", "n_invalid", "n_decisions")})
            going = ~(term | trunc)
            invalid += int(np.sum(info.get("invalid_action", np.zeros(N, bool))[going]))
            rew_buf[t] = torch.tensor(r, dtype=torch.float32)
            next_obs = torch.tensor(o, dtype=torch.float32)
            next_done = torch.tensor(term | trunc, dtype=torch.float32)
        with torch.no_grad():  # GAE
            next_value = agent.value(next_obs).flatten()
            adv = torch.zeros_like(rew_buf)
            last = torch.zeros(N)
            for t in reversed(range(T)):
                nonterminal = 1.0 - (next_done if t == T - 1 else done_buf[t + 1])
                nv = next_value if t == T - 1 else val_buf[t + 1]
                delta = rew_buf[t] + args.gamma * nv * nonterminal - val_buf[t]
                adv[t] = last = delta + args.gamma * args.gae_lambda * nonterminal * last
            ret = adv + val_buf
        b_obs, b_act, b_logp = obs_buf.reshape(-1, obs_dim), act_buf.reshape(-1), logp_buf.reshape(-1)
        b_adv, b_ret = adv.reshape(-1), ret.reshape(-1)
        mb = (N * T) // args.num_minibatches
        for _ in range(args.update_epochs):
            perm = torch.randperm(N * T)
            for s in range(0, N * T, mb):
                idx = perm[s:s + mb]
                _, logp, ent, v = agent.act(b_obs[idx], b_act[idx])
                ratio = (logp - b_logp[idx]).exp()
                a = (b_adv[idx] - b_adv[idx].mean()) / (b_adv[idx].std() + 1e-8)
                pg = torch.max(-a * ratio, -a * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
                loss = pg - args.ent_coef * ent.mean() + args.vf_coef * ((v.flatten() - b_ret[idx]) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                opt.step()
    envs.close()
    out = {"steps": iterations * N * T, "episodes": len(finals), "invalid_actions": invalid,
           "empty_masks_acted_on": empty_masks, "edp_ratio_vs_ref": [float(f["edp_ratio_vs_ref"]) for f in finals]}
    print(f"CleanRL-style masked PPO: {out['steps']} steps, {out['episodes']} episodes, invalid actions "
          f"{invalid}, empty masks acted on {empty_masks}, EDP / Standalone's {out['edp_ratio_vs_ref']}")
    return out


if __name__ == "__main__":
    main()
