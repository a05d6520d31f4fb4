"""``PPOPolicy``: a trained MaskablePPO agent as a :class:`~scar_gym.policies.base.Policy`.

Registered as ``ppo`` through the ``scar_gym.policies`` entry point (``pyproject.toml``), so the
library finds it without importing ``agents``. ``--policy ppo`` is the shipped agent (:data:`agents.DEFAULT_AGENT` in ``agents/pretrained/``);
``--policy ppo:PATH`` loads another: a model zip, a run directory (its ``best_model.zip``, else
``final_model.zip``) or a pretrained directory (``model.zip``). The training config is read from
``config.yaml`` beside the zip (or one directory up, for ``checkpoints/*.zip``): it names the env
id and kwargs the agent was trained with, so inference builds the same observation.

Inference is :class:`~scar_gym.envs.rollout_search.RolloutSearchPolicy` with the trained
network as the prior: the env is rolled out on the evaluator's models and MCM (sharing its cost
tables), one greedy rollout and then, by default, a policy-guided local search over one-decision
changes (``samples`` rollouts in all); every rollout is scored by the shared Evaluator and the best
is returned, the greedy one being reported in ``Schedule.meta``.

Loading a model zip unpickles code: load only files you trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.envs.rollout_search import RolloutSearchPolicy


def resolve_agent_path(path: str | Path | None) -> tuple[Path, Path | None]:
    """(model zip, config.yaml or None) for a zip, a run dir, a pretrained dir or a pretrained name."""
    from agents import DEFAULT_AGENT, PRETRAINED_DIR

    if path is None or path == "":
        p = PRETRAINED_DIR / DEFAULT_AGENT
    else:
        p = Path(path)
        if not p.exists() and (PRETRAINED_DIR / str(path)).exists():
            p = PRETRAINED_DIR / str(path)
    if p.is_dir():
        for name in ("model.zip", "best_model.zip", "final_model.zip"):
            if (p / name).exists():
                p = p / name
                break
        else:
            raise ConfigError("--policy ppo:PATH", f"no model.zip/best_model.zip/final_model.zip in {p}",
                              "give a model zip or a run directory with one")
    if not p.exists():
        if path is None:
            raise ConfigError("--policy ppo", f"the shipped agent is missing ({p})",
                              "train it with python scripts/train_shipped_agent.py")
        raise ConfigError("--policy ppo:PATH", f"no such file {str(path)!r}", "give a model zip or run directory")
    cfg = next((c for c in (p.parent / "config.yaml", p.parent.parent / "config.yaml") if c.exists()), None)
    return p, cfg


class PPOPolicy(RolloutSearchPolicy):
    """A trained MaskablePPO scheduler (see the module docstring).

    Args:
        path: model zip / run dir / pretrained dir or name; ``None`` = the shipped agent.
        samples, improve: as :class:`~scar_gym.envs.rollout_search.RolloutSearchPolicy`.
    """

    name = "ppo"
    description = "trained MaskablePPO agent: 'ppo' = the shipped one, 'ppo:PATH' = a model zip or run dir"
    #: ``ppo:PATH`` fills this parameter (see scar_gym.policies.registry.make_policy).
    name_arg = "path"

    def __init__(self, path: str | None = None, samples: int = 8, improve: str = "local"):
        super().__init__(samples, improve)
        self.model_path, self.config_path = resolve_agent_path(path)
        self._cfg = None
        self._model = self._load()  # now, so that a scheduler's timing never includes reading the zip

    def params(self) -> dict[str, Any]:
        return {"path": str(self.model_path), **super().params()}

    # -- loading ---------------------------------------------------------------------------------
    @property
    def config(self):
        if self._cfg is None:
            from agents.config import TrainConfig, load_config

            self._cfg = load_config(self.config_path) if self.config_path else TrainConfig()
        return self._cfg

    @property
    def model(self):
        return self._model

    def _load(self):
        import torch
        from sb3_contrib import MaskablePPO

        torch.set_num_threads(1)
        return MaskablePPO.load(str(self.model_path), device="cpu")

    def make_env(self, evaluator: Evaluator):
        """The training env id with the training kwargs, on the evaluator's models and MCM."""
        return self.env_for(evaluator, self.config.env_id, **self.config.env_kwargs)

    # -- inference -------------------------------------------------------------------------------
    def _logits(self, obs: Any) -> np.ndarray:
        """Action logits of the policy for one observation (no distribution objects: fast on CPU)."""
        import torch

        policy = self.model.policy
        if isinstance(obs, dict):
            obs_t = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)[None]) for k, v in obs.items()}
        else:
            obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)[None])
        with torch.no_grad():
            feats = policy.extract_features(obs_t, policy.pi_features_extractor)
            latent = policy.mlp_extractor.forward_actor(feats)
            return policy.action_net(latent)[0].numpy().astype(np.float64)

