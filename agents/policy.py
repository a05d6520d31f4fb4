"""``PPOPolicy``: a trained MaskablePPO agent as a :class:`~scar_gym.policies.base.Policy`.

``--policy ppo`` is the shipped agent (:data:`agents.DEFAULT_AGENT` in ``agents/pretrained/``);
``--policy ppo:PATH`` loads another: a model zip, a run directory (its ``best_model.zip``, else
``final_model.zip``) or a pretrained directory (``model.zip``). The training config is read from
``config.yaml`` beside the zip (or one directory up, for ``checkpoints/*.zip``): it names the env
id and kwargs the agent was trained with, so inference builds the same observation.

Inference rolls the env out on the evaluator's models and MCM (the env shares the evaluator's
cost tables) and returns the env's schedule; the caller scores it with the shared Evaluator.
It always makes one **greedy** rollout (argmax of the masked policy), then ``samples - 1``
rollouts that sample actions from the masked policy with ``numpy.random.default_rng(seed)``,
and keeps the best by the evaluator's objective. ``Schedule.meta`` reports the greedy result,
the best, the rollouts made and the cost-model evaluations used (the env's and the scoring's).

Loading a model zip unpickles code: load only files you trust.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.policies.base import Policy
from scar_gym.schedule import Schedule

#: Reward used at inference: needs no reference policy, so no SCAR/Standalone run per scenario.
_INFERENCE_REWARD = "edp"


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


def _domain_of(evaluator: Evaluator) -> str:
    from scar_gym.hardware import DOMAIN_PES

    pes = evaluator.mcm.classes[0].num_pes
    for d, n in DOMAIN_PES.items():
        if n == pes:
            return d
    return "datacenter"


class PPOPolicy(Policy):
    """A trained MaskablePPO scheduler (see the module docstring).

    Args:
        path: model zip / run dir / pretrained dir or name; ``None`` = the shipped agent.
        samples: rollouts in total (1 greedy + ``samples - 1`` sampled); 1 = greedy only.
    """

    name = "ppo"
    #: ``ppo:PATH`` fills this parameter (see scar_gym.policies.registry.make_policy).
    name_arg = "path"

    def __init__(self, path: str | None = None, samples: int = 8):
        if not isinstance(samples, int) or samples < 1:
            raise ConfigError("samples", f"expected an integer >= 1, got {samples!r}", "use e.g. 8")
        self.model_path, self.config_path = resolve_agent_path(path)
        self.samples = samples
        self._model = None
        self._cfg = None

    def params(self) -> dict[str, Any]:
        return {"path": str(self.model_path), "samples": self.samples}

    # -- loading ---------------------------------------------------------------------------------
    @property
    def config(self):
        if self._cfg is None:
            from agents.config import TrainConfig, load_config

            self._cfg = load_config(self.config_path) if self.config_path else TrainConfig()
        return self._cfg

    @property
    def model(self):
        if self._model is None:
            import torch
            from sb3_contrib import MaskablePPO

            torch.set_num_threads(1)
            self._model = MaskablePPO.load(str(self.model_path), device="cpu")
        return self._model

    def make_env(self, evaluator: Evaluator):
        """The training env id with the training kwargs, on the evaluator's models and MCM."""
        import gymnasium as gym

        from scar_gym.envs.generator import ModelSet

        cfg = self.config
        kw = dict(cfg.env_kwargs)
        kw.update(mcm=evaluator.mcm, reward=_INFERENCE_REWARD, reference=None, cost_model=evaluator.cost_model,
                  invalid_action="raise")
        inst = ModelSet(id="policy-input", models=tuple(evaluator.models), batches=tuple(evaluator.batches),
                        domain=_domain_of(evaluator))
        env = gym.make(cfg.env_id, scenario=inst, disable_env_checker=True, **kw)
        return env.unwrapped

    # -- inference -------------------------------------------------------------------------------
    def _logits(self, obs: Any) -> np.ndarray:
        """Action logits of the policy for one observation (no distribution objects: fast on CPU)."""
        import torch

        policy = self.model.policy
        if isinstance(obs, dict):
            obs_t = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)[None]) for k, v in obs.items()}
        else:
            obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)[None])
        feats = policy.extract_features(obs_t, policy.pi_features_extractor)
        latent = policy.mlp_extractor.forward_actor(feats)
        return policy.action_net(latent)[0].numpy().astype(np.float64)

    def _rollout(self, env, rng: np.random.Generator | None) -> Schedule:
        import torch

        obs, _ = env.reset(seed=0)
        done = False
        with torch.no_grad():
            while not done:
                mask = np.asarray(env.action_masks(), dtype=bool)
                logits = np.where(mask, self._logits(obs), -np.inf)
                if rng is None:
                    action = int(np.argmax(logits))
                else:
                    p = np.exp(logits - logits.max())
                    action = int(rng.choice(len(p), p=p / p.sum()))
                obs, _, terminated, truncated, _ = env.step(action)
                done = terminated or truncated
        return env.schedule

    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        t0 = time.perf_counter()
        env = self.make_env(evaluator)
        self.model  # load outside the timings below
        t1 = time.perf_counter()
        env.reset(seed=0)  # builds the env's per-scenario context (Window-v0: SCAR's windows + candidate pools)
        t2 = time.perf_counter()
        n0 = evaluator.num_evaluations
        rng = np.random.default_rng(0 if seed is None else seed)
        best, best_score, greedy_score, best_k = None, float("inf"), None, 0
        env_evals = 0
        for k in range(self.samples):
            sched = self._rollout(env, None if k == 0 else rng)
            score = evaluator.score(sched, check=True)
            if k == 0:
                greedy_score = score
                greedy_res = evaluator.evaluate(sched, check=False)
            if score < best_score:
                best, best_score, best_k = sched, score, k
        env_evals = env.evaluator.num_evaluations
        t3 = time.perf_counter()
        env.close()
        meta = {
            "policy": "ppo", "agent": str(self.model_path), "env_id": self.config.env_id, "seed": seed,
            "rollouts": self.samples, "best_rollout": best_k, "objective": evaluator.objective,
            "greedy_objective": greedy_score, "best_objective": best_score,
            "greedy_edp_js": greedy_res.edp_js, "greedy_latency_s": greedy_res.latency_s,
            "greedy_energy_j": greedy_res.energy_j,
            "num_evaluations": env_evals + evaluator.num_evaluations - n0,
            "runtime_s": time.perf_counter() - t0,  # total, model load excluded on later calls
            "setup_s": t2 - t1,  # the env's context: cost tables, (Window-v0) SCAR windows and candidates
            "rollouts_s": t3 - t2,  # the policy's own work: all rollouts and their scoring
        }
        return Schedule(best.windows, meta)
