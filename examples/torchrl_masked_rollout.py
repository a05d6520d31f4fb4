#!/usr/bin/env python
"""torchrl: ``GymEnv`` + ``ActionMask`` on ScarGym/Schedule-v0, and a masked policy.

``GymEnv("ScarGym/Schedule-v0", ...)`` builds the env by id (``import scar_gym`` first). The Dict
observation becomes tensordict keys ``action_mask`` (int8, 1 = valid), ``chiplets``, ``global``
and ``layer``; the action is one-hot. The ``ActionMask()`` transform reads ``action_mask`` and
restricts the action spec, so ``rand_action`` and ``rollout()`` without a policy draw valid
actions only. A policy masks its own distribution: here ``MaskedOneHotCategorical`` with the
mask as a bool tensor. torchrl resets an ended episode inside ``rollout`` (the root of the next
step holds the new episode's observation), so a policy never sees the final all-zero mask.

    python examples/torchrl_masked_rollout.py --steps 2000 --scenario sc4
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--scenario", default="sc10")
    p.add_argument("--mcm", default="het-sides-3x3")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import torch
    from tensordict.nn import TensorDictModule
    from torch import nn
    from torchrl.envs import GymEnv, TransformedEnv
    from torchrl.envs.transforms import ActionMask
    from torchrl.modules import MaskedOneHotCategorical, ProbabilisticActor

    import scar_gym  # noqa: F401  (registers the ids)

    torch.manual_seed(args.seed)
    env = TransformedEnv(GymEnv("ScarGym/Schedule-v0", scenario=args.scenario, mcm=args.mcm), ActionMask())
    env.set_seed(args.seed)
    n = env.action_spec.shape[-1]

    class Logits(nn.Module):
        """An MLP over the chiplet rows, global and layer features -> one logit per chiplet."""

        def __init__(self, in_dim: int):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(in_dim, 64), nn.Tanh(), nn.Linear(64, n))

        def forward(self, chiplets, glob, layer, mask):
            x = torch.cat([chiplets.flatten(-2), glob, layer], dim=-1)
            return self.net(x), mask.bool()

    spec = env.observation_spec
    in_dim = spec["chiplets"].shape.numel() + spec["global"].shape[-1] + spec["layer"].shape[-1]
    module = TensorDictModule(Logits(in_dim), in_keys=["chiplets", "global", "layer", "action_mask"],
                              out_keys=["logits", "mask"])
    policy = ProbabilisticActor(module, in_keys=["logits", "mask"], out_keys=["action"],
                                distribution_class=MaskedOneHotCategorical, spec=env.action_spec)

    results = {}
    for name, pol in (("random", None), ("policy", policy)):
        with torch.no_grad():
            td = env.rollout(args.steps, pol, break_when_any_done=False)
        mask = td["action_mask"].bool()
        chosen = td["action"].argmax(-1, keepdim=True)
        results[name] = {
            "steps": td.batch_size[0],
            "episodes": int(td["next", "done"].sum()),
            "invalid_actions": int((~mask.gather(-1, chosen)).sum()),
            "empty_masks_acted_on": int((~mask.any(-1)).sum()),
        }
    print(f"torchrl GymEnv + ActionMask: {results}")
    return results


if __name__ == "__main__":
    main()
