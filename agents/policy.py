"""``PPOPolicy``: a trained MaskablePPO agent as a :class:`~scar_gym.policies.base.Policy`.

``--policy ppo`` is the shipped agent (:data:`agents.DEFAULT_AGENT` in ``agents/pretrained/``);
``--policy ppo:PATH`` loads another: a model zip, a run directory (its ``best_model.zip``, else
``final_model.zip``) or a pretrained directory (``model.zip``). The training config is read from
``config.yaml`` beside the zip (or one directory up, for ``checkpoints/*.zip``): it names the env
id and kwargs the agent was trained with, so inference builds the same observation.

Inference rolls the env out on the evaluator's models and MCM (the env shares the evaluator's
cost tables) and returns the env's schedule; the caller scores it with the shared Evaluator.
It always makes one **greedy** rollout (argmax of the masked policy), then up to ``samples - 1``
more, and keeps the best by the evaluator's objective:

* ``improve="local"`` (default; the policy as the prior of a search): change one decision of the best
  rollout so far, taking the alternatives in decreasing policy probability over all decisions,
  continue greedily from there, and restart from any improvement. Deterministic, so ``seed`` does
  not matter. A rollout replays the unchanged prefix without calling the network.
* ``improve="sample"``: sample whole rollouts from the masked policy with
  ``numpy.random.default_rng(seed)``.

``Schedule.meta`` reports the greedy result, the best, the rollouts made and the cost-model
evaluations used (the env's and the scoring's).

Loading a model zip unpickles code: load only files you trust.
"""

from __future__ import annotations

import time
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.policies.base import Policy
from scar_gym.schedule import Schedule

IMPROVE_MODES = ("local", "sample")
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


@dataclass
class _Rollout:
    schedule: Schedule
    actions: list[int]
    probs: list[np.ndarray | None]  # masked action probabilities where the policy decided; None where replayed
    score: float = float("inf")


@dataclass
class SearchResult:
    greedy: _Rollout
    best: _Rollout
    best_rollout: int  # index of the best among the rollouts made (0 = the greedy one)
    rollouts: int
    trace: list[list[float]]  # [evaluations, best objective] after each rollout


class PPOPolicy(Policy):
    """A trained MaskablePPO scheduler (see the module docstring).

    Args:
        path: model zip / run dir / pretrained dir or name; ``None`` = the shipped agent.
        samples: rollouts in total, the greedy one included; 1 = greedy only.
        improve: how the other ``samples - 1`` rollouts are chosen: ``"local"`` (default) changes one
            decision of the best rollout so far, most probable alternatives under the policy first,
            and continues greedily (a first-improvement descent with the policy as the prior);
            ``"sample"`` samples whole rollouts from the masked policy.
    """

    name = "ppo"
    #: ``ppo:PATH`` fills this parameter (see scar_gym.policies.registry.make_policy).
    name_arg = "path"

    def __init__(self, path: str | None = None, samples: int = 8, improve: str = "local"):
        if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
            raise ConfigError("samples", f"expected an integer >= 1, got {samples!r}", "use e.g. 8")
        if improve not in IMPROVE_MODES:
            raise ConfigError("improve", f"unknown mode {improve!r}", f"use one of {', '.join(IMPROVE_MODES)}")
        self.improve = improve
        self.model_path, self.config_path = resolve_agent_path(path)
        self.samples = samples
        self._cfg = None
        self._model = self._load()  # now, so that a scheduler's timing never includes reading the zip

    def params(self) -> dict[str, Any]:
        return {"path": str(self.model_path), "samples": self.samples, "improve": self.improve}

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

    def _rollout(self, env, prefix: Sequence[int] = (), rng: np.random.Generator | None = None,
                 parent: _Rollout | None = None) -> _Rollout:
        """Replay ``prefix``, then follow the policy: argmax, or a sample when ``rng`` is given.

        Records each decision's masked probabilities. The prefix's states are those of ``parent``
        (which made the same decisions before them), so their probabilities are copied, not recomputed."""
        import torch

        obs, _ = env.reset(seed=0)
        actions: list[int] = []
        probs: list[np.ndarray | None] = []
        done = False
        with torch.no_grad():
            while not done:
                if len(actions) < len(prefix):
                    d = len(actions)
                    action, p = int(prefix[d]), (parent.probs[d] if parent is not None else None)
                else:
                    mask = np.asarray(env.action_masks(), dtype=bool)
                    logits = np.where(mask, self._logits(obs), -np.inf)
                    p = np.exp(logits - logits.max())
                    p /= p.sum()
                    action = int(np.argmax(p)) if rng is None else int(rng.choice(len(p), p=p))
                actions.append(action)
                probs.append(p)
                obs, _, terminated, truncated, _ = env.step(action)
                done = terminated or truncated
        return _Rollout(env.schedule, actions, probs)

    def _neighbours(self, base: _Rollout, tried: set[tuple[int, ...]]) -> list[tuple[float, tuple[int, ...]]]:
        """Prefixes that change one decision of ``base``, most probable under the policy first."""
        out = []
        for d, (a, p) in enumerate(zip(base.actions, base.probs)):
            if p is None:
                continue
            for j in np.flatnonzero(p > 0):
                key = (*base.actions[:d], int(j))
                if j != a and key not in tried:
                    out.append((-float(p[j]), key))
        out.sort()
        return out

    def search(self, env, evaluator: Evaluator, seed: int | None = None) -> SearchResult:
        """The greedy rollout, then up to ``samples - 1`` more per ``improve``, on a reset ``env``
        (from :meth:`make_env`), each scored by ``evaluator``. Expert iteration (:mod:`agents.expert`)
        uses the best rollout's actions as training targets."""
        n0 = evaluator.num_evaluations
        e0 = env.evaluator.num_evaluations if env.evaluator is not evaluator else 0

        def used() -> int:  # cost-model evaluations so far: the env's (SCAR, candidates) and the scoring's
            return env.evaluator.num_evaluations - e0 + evaluator.num_evaluations - n0

        greedy = best = self._rollout(env)
        greedy.score = evaluator.score(greedy.schedule, check=True)
        trace = [[used(), greedy.score]]
        rng = np.random.default_rng(0 if seed is None else seed)
        tried: set[tuple[int, ...]] = set()
        queue = self._neighbours(best, tried) if self.improve == "local" else []
        n_rollouts, best_k = 1, 0
        while n_rollouts < self.samples:
            if self.improve == "sample":
                r = self._rollout(env, rng=rng)
            elif queue:  # "local": first-improvement descent over one-decision changes, ranked by the policy
                _, prefix = queue.pop(0)
                tried.add(prefix)
                r = self._rollout(env, prefix, parent=best)
            else:
                break
            n_rollouts += 1
            r.score = evaluator.score(r.schedule, check=True)
            if r.score < best.score:
                best, best_k = r, n_rollouts - 1
                if self.improve == "local":
                    queue = self._neighbours(best, tried)
            trace.append([used(), best.score])
        return SearchResult(greedy, best, best_k, n_rollouts, trace)

    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        t0 = time.perf_counter()
        env = self.make_env(evaluator)
        t1 = time.perf_counter()
        env.reset(seed=0)  # builds the env's per-scenario context (Window-v0: SCAR's windows + candidate pools)
        t2 = time.perf_counter()
        setup_evals = env.evaluator.num_evaluations  # a fresh env: all of them are the setup's
        res = self.search(env, evaluator, seed)
        greedy_res = evaluator.evaluate(res.greedy.schedule, check=False)
        t3 = time.perf_counter()
        env.close()
        meta = {
            "policy": "ppo", "agent": str(self.model_path), "env_id": self.config.env_id, "seed": seed,
            "improve": self.improve, "rollouts": res.rollouts, "best_rollout": res.best_rollout,
            "objective": evaluator.objective, "greedy_objective": res.greedy.score, "best_objective": res.best.score,
            "greedy_edp_js": greedy_res.edp_js, "greedy_latency_s": greedy_res.latency_s,
            "greedy_energy_j": greedy_res.energy_j,
            "evaluations": setup_evals + res.trace[-1][0],
            # [evaluations, best objective] after each rollout, counting the setup's evaluations too
            "trace": [[setup_evals + u, v] for u, v in res.trace],
            "runtime_s": time.perf_counter() - t0,
            "setup_s": t2 - t1,  # the env's context: cost tables, (Window-v0) SCAR windows and candidates
            "rollouts_s": t3 - t2,  # the policy's own work: all rollouts and their scoring
        }
        return Schedule(res.best.schedule.windows, meta)
