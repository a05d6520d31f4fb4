"""Learned schedulers: MaskablePPO training, feature extractors and the PPO policy.

A plugin of the library: ``scar_gym`` never imports this package. It is found through two
entry points in ``pyproject.toml``: the policies ``ppo``, ``ppo-any`` and ``ppo-3x3`` (group
``scar_gym.policies``) and the sub-command ``train`` (group ``scar_gym.commands``). torch and Stable-Baselines3 are imported only
by the modules that need them (:mod:`agents.train`, :mod:`agents.extractors`,
:mod:`agents.policy`); :mod:`agents.config`, :mod:`agents.rundir` and :mod:`agents.cli` stay
torch-free. The benchmark harness is the library's (:mod:`scar_gym.benchmark`), so ``scar-gym eval
--policy scar`` works without this package or the ``rl`` extra.

Layout of this package:

* ``config.py``     -- YAML training configs -> frozen dataclasses (unknown keys / wrong types rejected;
  ``env_kwargs`` checked against the env's options)
* ``rundir.py``     -- the run directory (rl-conventions 8.12): config.yaml, command.txt, versions.json
* ``envs.py``       -- env factories: the configs' suites (:mod:`scar_gym.suites`), held-out split, vec envs
* ``cli.py``        -- ``scar-gym train`` (registered through the ``scar_gym.commands`` entry point)
* ``extractors.py`` -- ``ChipletSetExtractor``: shared per-chiplet encoder + self-attention
* ``set_policy.py`` -- ``NopSetExtractor`` + ``SetPointerPolicy``: the size- and layout-agnostic
  network (message passing over the NoP, per-candidate pointer logits)
* ``train.py``      -- the trainer (MaskablePPO, MaskableEvalCallback, checkpoints, resume)
* ``agentfile.py``  -- agent directories (agent.json + policy.pt: weights only, never unpickled),
  SB3 zips behind ``trust``, weights-only checkpoint reading for resume
* ``policy.py``     -- ``PPOPolicy``: a trained model as a :class:`scar_gym.policies.base.Policy`
  (the ``ppo`` entry point), with its greedy rollout and a policy-guided local search
* ``expert.py``     -- expert iteration: distil that search back into the policy
* ``pretrained/``   -- the shipped agents: ``window-any-size`` (``--policy ppo``, alias ``ppo-any``) and
  the earlier SCAR-anchored 3x3 one, ``window-het-sides-3x3`` (``--policy ppo-3x3``)
"""

from pathlib import Path

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
#: The agent ``--policy ppo`` resolves to: the size- and layout-agnostic one (one network for any MCM
#: of up to 64 chiplets, no SCAR run). It replaced the anchored 3x3 agent (issue 15, item 7): 0.938
#: against 0.965 geomean EDP / SCAR on the 3x3 paper suite (results/agents/scaling/README.md).
DEFAULT_AGENT = "window-any-size"
#: The agent ``--policy ppo-any`` resolves to: the same as ``ppo`` (the name older commands and
#: results files use).
ANY_SIZE_AGENT = DEFAULT_AGENT
#: The agent ``--policy ppo-3x3`` resolves to: the shipped agent before the switch, trained on SCAR's
#: windows on het-sides-3x3 (a network that takes exactly 9 chiplets; SCAR runs at inference).
ANCHORED_3X3_AGENT = "window-het-sides-3x3"
