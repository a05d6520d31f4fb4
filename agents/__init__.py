"""Learned schedulers: MaskablePPO training, feature extractors, evaluation and the PPO policy.

torch and Stable-Baselines3 are imported only by the modules that need them
(:mod:`agents.train`, :mod:`agents.extractors`, :mod:`agents.policy`); :mod:`agents.config`,
:mod:`agents.rundir` stay torch-free, and the benchmark harness lives in :mod:`scar_gym.benchmark`, so ``scar-gym eval --policy scar`` works without the ``rl`` extra.

Layout of this package:

* ``config.py``     -- YAML training configs -> frozen dataclasses (unknown keys / wrong types rejected)
* ``rundir.py``     -- the run directory (rl-conventions 8.12): config.yaml, command.txt, versions.json
* ``envs.py``       -- env factories: scenario sources, held-out split, vec envs
* ``extractors.py`` -- ``ChipletSetExtractor``: shared per-chiplet encoder + self-attention
* ``train.py``      -- the trainer (MaskablePPO, MaskableEvalCallback, checkpoints, resume)
* ``policy.py``     -- ``PPOPolicy``: a trained model as a :class:`scar_gym.policies.base.Policy`,
  with its greedy rollout and a policy-guided local search
* ``expert.py``     -- expert iteration: distil that search back into the policy
* ``pretrained/``   -- the shipped agent (``--policy ppo``)
"""

from pathlib import Path

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
#: The agent ``--policy ppo`` resolves to.
DEFAULT_AGENT = "window-het-sides-3x3"
