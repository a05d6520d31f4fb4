"""The MaskablePPO trainer behind ``scar-gym train CONFIG``.

One function, :func:`train`: config -> run directory (layout in :mod:`agents.rundir`). It wires

* the training vec env (``n_envs`` x ScarGym env, DummyVecEnv or SubprocVecEnv, Monitor CSVs),
* ``MaskablePPO("MultiInputPolicy", ...)`` with the config's network (MLP or
  :class:`agents.extractors.ChipletSetExtractor`),
* ``MaskableEvalCallback`` on the held-out (validation) scenarios, keeping ``best_model.zip``,
  plus :class:`EdpVsRefCallback` which turns each evaluation into EDP / EDP_SCAR per scenario
  (``eval/edp_vs_ref.csv``, read by ``scripts/learning_curve.py``),
* ``CheckpointCallback`` (``checkpoints/``), CSV + TensorBoard logging, a progress bar,
* resume: ``train(cfg, resume="path/to/checkpoint.zip")`` continues the step counter.
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path
from typing import Any

from agents.config import TrainConfig
from agents.envs import ScenarioFeeder, check_held_out, make_vec
from agents.rundir import default_run_dir, write_run_metadata


def reference_edp(scenario: Any, mcm_name: str, cache: dict[tuple, float] | None = None,
                  policy: str = "scar", cost_preset: str | None = None) -> float:
    """EDP of ``policy`` (SCAR by default) on ``scenario`` under ``cost_preset`` (the default preset
    for ``None``), memoised in ``cache`` by (scenario id, cost preset)."""
    key = (scenario.id, cost_preset)
    if cache is not None and key in cache:
        return cache[key]
    from scar_gym.factory import make_evaluator
    from scar_gym.policies.registry import make_policy

    ev = make_evaluator(scenario, mcm_name, preset=cost_preset)
    edp = ev.evaluate(make_policy(policy).schedule(ev, seed=0)).edp_js
    if cache is not None:
        cache[key] = edp
    return edp


def _feeder(venv) -> ScenarioFeeder:
    env = venv.envs[0]
    while not isinstance(env, ScenarioFeeder):
        env = env.env
    return env


def make_callbacks(cfg: TrainConfig, run_dir: Path, eval_env, n_eval: int, mcm_name: str):
    from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback
    from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback

    class EdpVsRefCallback(BaseCallback):
        """After each evaluation: EDP / EDP_ref per validation scenario (ref = ``eval.reference``, SCAR by
        default), geometric mean to TensorBoard (``eval/edp_vs_ref_geomean``) and ``eval/edp_vs_ref.csv``."""

        def __init__(self):
            super().__init__()
            self.ref: dict[tuple, float] = {}
            self.path = run_dir / "eval" / "edp_vs_ref.csv"
            self.feeder = _feeder(eval_env)
            self.by_id = {s.id: s for s in self.feeder.scenarios.all()}

        def _on_step(self) -> bool:
            done, self.feeder.finished = self.feeder.finished, []
            ratios: dict[str, float] = {}
            for sid, info in done:
                if "edp_js" not in info or sid not in self.by_id:
                    continue
                ratios[sid] = info["edp_js"] / reference_edp(self.by_id[sid], mcm_name, self.ref, cfg.eval.reference,
                                                             cfg.env_kwargs.get("cost_preset"))
            if not ratios:
                return True
            geo = math.exp(sum(math.log(r) for r in ratios.values()) / len(ratios))
            self.logger.record("eval/edp_vs_ref_geomean", geo)
            new = not self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", newline="") as f:
                w = csv.writer(f)
                if new:
                    w.writerow(["timesteps", "geomean_edp_vs_ref", "reference", "n", "wall_s", "per_scenario"])
                w.writerow([self.num_timesteps, geo, cfg.eval.reference, len(ratios), round(time.time() - t_start, 2),
                            json.dumps({k: round(v, 5) for k, v in sorted(ratios.items())})])
            return True

    t_start = time.time()
    n_envs = cfg.n_envs
    eval_cb = MaskableEvalCallback(
        eval_env, n_eval_episodes=cfg.eval.episodes or n_eval, eval_freq=max(cfg.eval.freq // n_envs, 1),
        best_model_save_path=str(run_dir), log_path=str(run_dir / "eval"), deterministic=cfg.eval.deterministic,
        callback_after_eval=EdpVsRefCallback(), verbose=0)
    ckpt = CheckpointCallback(save_freq=max(cfg.checkpoint.freq // n_envs, 1), save_path=str(run_dir / "checkpoints"),
                              name_prefix="rl_model", verbose=0)
    return CallbackList([eval_cb, ckpt])


def build_model(cfg: TrainConfig, venv, run_dir: Path | None):
    import torch
    from sb3_contrib import MaskablePPO

    from agents.extractors import ChipletSetExtractor

    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[cfg.policy.activation]
    policy_kwargs: dict[str, Any] = {"net_arch": dict(pi=list(cfg.policy.net_arch), vf=list(cfg.policy.net_arch)),
                                     "activation_fn": act}
    if cfg.policy.extractor == "chiplet_attention":
        policy_kwargs["features_extractor_class"] = ChipletSetExtractor
        policy_kwargs["features_extractor_kwargs"] = dict(cfg.policy.extractor_kwargs)
    p = cfg.ppo
    return MaskablePPO("MultiInputPolicy", venv, n_steps=p.n_steps, batch_size=p.batch_size, n_epochs=p.n_epochs,
                       gamma=p.gamma, gae_lambda=p.gae_lambda, learning_rate=p.learning_rate, ent_coef=p.ent_coef,
                       vf_coef=p.vf_coef, clip_range=p.clip_range, max_grad_norm=p.max_grad_norm,
                       normalize_advantage=p.normalize_advantage, policy_kwargs=policy_kwargs, seed=cfg.seed,
                       device="cpu", verbose=0)


def train(cfg: TrainConfig, run_dir: str | Path | None = None, resume: str | Path | None = None,
          argv: list[str] | None = None, runs_root: str | Path = "runs") -> Path:
    """Train per ``cfg``; returns the run directory (``best_model.zip``, ``final_model.zip``, logs)."""
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.logger import Logger, make_output_format

    check_held_out(cfg)
    torch.set_num_threads(cfg.torch_threads)
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(cfg, runs_root)
    write_run_metadata(run_dir, cfg.to_dict(), argv)
    venv = make_vec(cfg, "train", monitor_dir=str(run_dir / "monitor"))
    eval_env = make_vec(cfg, "eval", monitor_dir=str(run_dir / "monitor"))
    n_eval = len(_feeder(eval_env).scenarios)
    mcm_name = str(cfg.env_kwargs.get("mcm", cfg.mcm))
    if resume is not None:
        model = MaskablePPO.load(str(resume), env=venv, device="cpu")
    else:
        model = build_model(cfg, venv, run_dir)
    model.set_logger(Logger(str(run_dir), [make_output_format("csv", str(run_dir)),
                                           make_output_format("tensorboard", str(run_dir / "tb"))]))
    callbacks = make_callbacks(cfg, run_dir, eval_env, n_eval, mcm_name)
    t0 = time.time()
    remaining = cfg.n_timesteps - (model.num_timesteps if resume is not None else 0)
    model.learn(total_timesteps=max(remaining, 0), callback=callbacks, progress_bar=cfg.progress_bar,
                reset_num_timesteps=resume is None)
    model.save(str(run_dir / "final_model.zip"))
    from scar_gym.factory import make_cost_model

    (run_dir / "train_summary.json").write_text(json.dumps(
        {"timesteps": int(model.num_timesteps), "wall_s": round(time.time() - t0, 2),
         "resumed_from": str(resume) if resume else None,
         "cost_model": make_cost_model(preset=cfg.env_kwargs.get("cost_preset")).describe()}, indent=1) + "\n")
    venv.close()
    eval_env.close()
    return run_dir
