"""Expert iteration: distil the policy-guided search back into the policy.

PPO on Window-v0 learns SCAR's own choice (slot 0) quickly and then rarely finds the few decisions
where leaving it pays, while :meth:`agents.policy.PPOPolicy.search` (one-decision changes ranked
by the policy) finds them on many scenarios. Expert iteration (Anthony et al., "Thinking Fast and
Slow with Deep Learning and Tree Search", NeurIPS 2017; the AlphaZero recipe with a local search in
place of MCTS) closes that loop. Each iteration:

1. **Expert**: on every training scenario, the current policy plus its local search
   (``samples`` rollouts) gives an action sequence; the best one found so far for the scenario, over
   all iterations, is its target.
2. **Dataset**: each target is replayed in the env, recording (observation, action mask, action)
   at every decision.
3. **Distil**: the policy (actor and features extractor) is fine-tuned by masked cross-entropy on
   that dataset (``epochs`` passes, Adam ``lr``, minibatches of ``batch_size``), seeded.
4. **Select**: the new policy's *greedy* rollout is scored on the validation scenarios (geometric
   mean of EDP / EDP_SCAR); the best policy so far is kept as ``best_agent/`` (an agent directory).

The value head is left as it is (greedy inference does not use it); a PPO run resumed from the
result re-fits it. Scenarios come from the agent's config (``scenarios.train`` / ``scenarios.eval``),
so the held-out split is the training run's. Everything is deterministic given ``seed``.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.envs import check_held_out, suite_of
from agents.rundir import write_run_metadata
from scar_gym.errors import ConfigError


@dataclass(frozen=True)
class ExpertConfig:
    """Expert-iteration settings (see the module docstring)."""

    iterations: int = 3
    samples: int = 32
    epochs: int = 40
    lr: float = 1e-3
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("iterations", "samples", "epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(name, f"expected an integer >= 1, got {v!r}", "use e.g. the defaults of ExpertConfig")
        if not isinstance(self.lr, (int, float)) or isinstance(self.lr, bool) or not self.lr > 0:
            raise ConfigError("lr", f"expected a positive number, got {self.lr!r}", "use e.g. 1e-3")


class _Instance:
    """One scenario: its evaluator, the env the policy runs in (built once) and SCAR's objective."""

    def __init__(self, policy, scenario: Any, mcm, cost_model):
        from scar_gym.factory import make_evaluator

        self.id = scenario.id
        self.evaluator = make_evaluator(scenario, mcm, cost_model=cost_model)
        self.env = policy.make_env(self.evaluator)
        self.env.reset(seed=0)
        # SCAR's schedule as the env computed it (Window-v0 already ran SCAR for its windows and slot 0),
        # scored by this evaluator like every rollout
        self.scar = self.evaluator.score(self.env.scenario_data.policy_schedule("scar")[0], check=True)
        self.target: list[int] | None = None
        self.target_score = math.inf


def _record(env, actions: list[int]) -> tuple[list[dict[str, np.ndarray]], list[np.ndarray]]:
    """Observations and masks along ``actions`` (replayed from reset)."""
    obs, _ = env.reset(seed=0)
    observations, masks = [], []
    for a in actions:
        observations.append(obs)
        masks.append(np.asarray(env.action_masks(), dtype=bool))
        obs, *_ = env.step(a)
    return observations, masks


def _greedy_ratio(policy, instances: list[_Instance]) -> float:
    logs = []
    for inst in instances:
        r = policy._rollout(inst.env)
        logs.append(math.log(inst.evaluator.score(r.schedule, check=True) / inst.scar))
    return math.exp(sum(logs) / len(logs))


def distil(model, observations: list[dict[str, np.ndarray]], masks: list[np.ndarray], actions: list[int],
           cfg: ExpertConfig, rng: np.random.Generator) -> float:
    """Fine-tune ``model.policy`` by masked cross-entropy on (observation, mask) -> action; mean final loss."""
    import torch

    policy = model.policy
    keys = sorted(observations[0])
    obs = {k: np.stack([o[k] for o in observations]).astype(np.float32) for k in keys}
    mask_arr = np.stack(masks)
    act = torch.as_tensor(np.asarray(actions, dtype=np.int64))
    params = [p for name, p in policy.named_parameters() if not name.startswith(("value_net", "mlp_extractor.value"))]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    policy.set_training_mode(True)
    n = len(actions)
    loss_v = float("nan")
    for _ in range(cfg.epochs):
        perm = rng.permutation(n)
        total = 0.0
        for i in range(0, n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            obs_t = {k: torch.as_tensor(v[idx]) for k, v in obs.items()}
            _, logp, _ = policy.evaluate_actions(obs_t, act[idx], action_masks=mask_arr[idx])
            loss = -logp.mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 0.5)
            opt.step()
            total += float(loss.detach()) * len(idx)
        loss_v = total / n
    policy.set_training_mode(False)
    return loss_v


def expert_iteration(agent: str | Path | None, out_dir: str | Path, cfg: ExpertConfig = ExpertConfig(),
                     argv: list[str] | None = None, train_n: int | None = None, eval_n: int | None = None,
                     log: Any = print, trust: bool = False) -> Path:
    """Run expert iteration from ``agent`` (an agent / run dir / pretrained name as ``ppo:PATH``; a model zip
    with ``trust``; ``None``: the SCAR-anchored 3x3 agent of ``ppo-3x3``, :data:`agents.ANCHORED_3X3_AGENT`,
    the one this method was built for: it distils the search on the agent's training MCM only).

    Writes ``out_dir``: ``best_agent/`` (best validation greedy ratio, the start included) and
    ``final_agent/`` (agent directories, weights only: ``ppo:out_dir`` loads the best), ``config.yaml``
    (the agent's training config), ``expert_iteration.csv`` (one row per iteration) and the run metadata.
    ``train_n`` / ``eval_n`` cut the scenario lists (tests).
    """
    import torch

    from agents import ANCHORED_3X3_AGENT
    from agents.policy import PPOPolicy
    from scar_gym.factory import make_cost_model
    from scar_gym.presets import load_mcm

    out = Path(out_dir)
    policy = PPOPolicy(ANCHORED_3X3_AGENT if agent is None else str(agent), samples=cfg.samples, improve="local",
                       trust=trust)
    tcfg = policy.config
    check_held_out(tcfg)
    write_run_metadata(out, tcfg.to_dict(), argv)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    mcm = load_mcm(str(tcfg.env_kwargs.get("mcm", tcfg.mcm)))
    cm = make_cost_model()
    t0 = time.time()

    def instances(source, n: int | None) -> list[_Instance]:
        items = suite_of(source)  # an endless random stream has len 0: then n scenarios of it
        count = min(len(items), n) if items.finite and n is not None else (len(items) if items.finite else n or 0)
        if count < 1:
            raise ConfigError("scenarios", "expert iteration needs a finite scenario list",
                              "give the agent's config scenarios with n > 0 (or pass train_n / eval_n)")
        return [_Instance(policy, items[i], mcm, cm) for i in range(count)]

    train = instances(tcfg.scenarios.train, train_n)
    val = instances(tcfg.scenarios.eval, eval_n)
    best_val = _greedy_ratio(policy, val)
    policy.model.save(out / "best_agent", tcfg.to_dict(), iteration=0)
    rows = [{"iteration": 0, "expert_vs_scar": "", "improved_targets": "", "targets_beating_scar": "",
             "decisions": "", "loss": "",
             "train_greedy_vs_scar": round(_greedy_ratio(policy, train), 6), "val_greedy_vs_scar": round(best_val, 6),
             "kept": True, "wall_s": round(time.time() - t0, 1)}]
    log(f"iteration 0: validation greedy EDP/SCAR {best_val:.4f} ({len(train)} train, {len(val)} validation scenarios)")
    for it in range(1, cfg.iterations + 1):
        improved = 0
        for inst in train:
            res = policy.search(inst.env, inst.evaluator, seed=cfg.seed)
            if res.best.score < inst.target_score:  # the best sequence found so far, over all iterations
                improved += inst.target is not None
                inst.target, inst.target_score = list(res.best.actions), res.best.score
        expert = math.exp(sum(math.log(i.target_score / i.scar) for i in train) / len(train))
        beating = sum(i.target_score < i.scar * (1 - 1e-9) for i in train)
        observations, masks, actions = [], [], []
        for inst in train:
            o, m = _record(inst.env, inst.target)
            observations += o
            masks += m
            actions += inst.target
        loss = distil(policy.model, observations, masks, actions, cfg, rng)
        train_greedy = _greedy_ratio(policy, train)
        val_greedy = _greedy_ratio(policy, val)
        kept = val_greedy < best_val
        if kept:
            best_val = val_greedy
            policy.model.save(out / "best_agent", tcfg.to_dict(), iteration=it)
        rows.append({"iteration": it, "expert_vs_scar": round(expert, 6), "improved_targets": improved,
                     "targets_beating_scar": beating,
                     "decisions": len(actions), "loss": round(loss, 5), "train_greedy_vs_scar": round(train_greedy, 6),
                     "val_greedy_vs_scar": round(val_greedy, 6), "kept": kept, "wall_s": round(time.time() - t0, 1)})
        log(f"iteration {it}: expert {expert:.4f}, train greedy {train_greedy:.4f}, validation greedy "
            f"{val_greedy:.4f}{' (kept)' if kept else ''}, {beating} targets beat SCAR ({improved} improved), "
            f"loss {loss:.4f}, "
            f"{time.time() - t0:.0f}s")
    policy.model.save(out / "final_agent", tcfg.to_dict(), iteration=cfg.iterations)
    with (out / "expert_iteration.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out
