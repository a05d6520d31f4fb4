"""The MaskablePPO trainer behind ``scar-gym train CONFIG``.

One function, :func:`train`: config -> run directory (layout in :mod:`agents.rundir`). It wires

* the training vec env (``n_envs`` x ScarGym env, DummyVecEnv or SubprocVecEnv, Monitor CSVs),
* ``MaskablePPO("MultiInputPolicy", ...)`` with the config's network (MLP or
  :class:`agents.extractors.ChipletSetExtractor`),
* ``MaskableEvalCallback`` on the held-out (validation) scenarios, keeping ``best_model.zip``,
  plus :class:`EdpVsRefCallback` which turns each evaluation into EDP / EDP_SCAR per scenario
  (``eval/edp_vs_ref.csv``, read by ``scripts/learning_curve.py``),
* ``CheckpointCallback`` (``checkpoints/``), CSV + TensorBoard logging, a progress bar on stderr
  (:mod:`scar_gym.progress`) from the setup on,
* the agents as agent directories (weights only, :mod:`agents.agentfile`): ``best_agent/`` at every
  new best evaluation, ``final_agent/`` at the end, beside SB3's ``best_model.zip`` /
  ``final_model.zip``,
* resume: ``train(cfg, resume="path/to/checkpoint.zip")`` continues the step counter (see :func:`train`).
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path
from typing import Any

from agents.config import RUNTIME_KEYS, TrainConfig, check_bank
from agents.envs import ScenarioFeeder, check_held_out, make_vec
from agents.rundir import check_run_dir, clear_run_dir, default_run_dir, holds_run, write_run_metadata
from scar_gym.errors import ConfigError

#: Config keys a resumed run may change (everything else must be the checkpoint's run's).
RESUME_MAY_CHANGE = RUNTIME_KEYS


def reference_edp(scenario: Any, mcm_name: str, cache: dict[tuple, float] | None = None,
                  policy: str = "scar", cost_preset: str | None = None) -> float:
    """EDP of ``policy`` (SCAR by default) on ``scenario`` under ``cost_preset`` (the default preset
    for ``None``), memoised in ``cache`` by (scenario id, MCM, cost preset)."""
    key = (scenario.id, mcm_name, cost_preset)
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


def make_callbacks(cfg: TrainConfig, run_dir: Path, eval_env, n_eval: int, mcm_name: str, resumed: bool = False,
                   ref_cache: dict[tuple, float] | None = None, bar: Any = None):
    """Evaluation (with ``best_model`` / ``best_agent``), EDP/SCAR log and checkpoints; ``ref_cache``:
    reference EDPs already computed (:func:`reference_edps`); ``bar``: a
    :class:`scar_gym.progress.ProgressBar` over the steps, which shows the stage and the last
    validation score."""
    from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback
    from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback

    from agents.agentfile import save_agent

    class ExportBest(BaseCallback):
        """At a new best evaluation (after SB3 wrote best_model.zip): ``best_agent/``, weights only."""

        def _on_step(self) -> bool:
            save_agent(self.model.policy, run_dir / "best_agent", cfg.to_dict(),
                       {"num_timesteps": int(self.model.num_timesteps), "run": str(run_dir)})
            return True

    class EdpVsRefCallback(BaseCallback):
        """After each evaluation: EDP / EDP_ref per validation scenario (ref = ``eval.reference``, SCAR by
        default), geometric mean to TensorBoard (``eval/edp_vs_ref_geomean``) and ``eval/edp_vs_ref.csv``."""

        def __init__(self):
            super().__init__()
            self.ref: dict[tuple, float] = ref_cache if ref_cache is not None else {}
            self.path = run_dir / "eval" / "edp_vs_ref.csv"
            self.feeder = _feeder(eval_env)
            self.by_id = {s.id: s for s in self.feeder.scenarios.all()}

        def _on_step(self) -> bool:
            done, self.feeder.finished = self.feeder.finished, []
            ratios: dict[str, float] = {}
            for sid, info in done:
                if "edp_js" not in info or sid not in self.by_id:
                    continue
                mcm = info.get("mcm", mcm_name)  # several MCMs (cfg.mcms): the episode's
                ratios[f"{sid}@{mcm}" if cfg.mcms else sid] = info["edp_js"] / reference_edp(
                    self.by_id[sid], mcm, self.ref, cfg.eval.reference, cfg.env_kwargs.get("cost_preset"))
            if not ratios:
                return True
            geo = math.exp(sum(math.log(r) for r in ratios.values()) / len(ratios))
            self.logger.record("eval/edp_vs_ref_geomean", geo)
            if bar is not None:
                bar.set_postfix(f"validation EDP/{cfg.eval.reference} {geo:.4f} at {self.num_timesteps:,}")
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
        callback_after_eval=EdpVsRefCallback(), callback_on_new_best=ExportBest(), verbose=0)
    if resumed:
        _continue_evaluations(eval_cb, run_dir / "eval" / "evaluations.npz")
    ckpt = CheckpointCallback(save_freq=max(cfg.checkpoint.freq // n_envs, 1), save_path=str(run_dir / "checkpoints"),
                              name_prefix="rl_model", verbose=0)
    if bar is None:
        return CallbackList([eval_cb, ckpt])

    class StepBar(BaseCallback):
        """Advances ``bar`` by the steps taken; named the stage: training, or evaluating (it runs
        before the evaluation callback, which evaluates on the same calls)."""

        stage = ""

        def _stage(self, text: str) -> None:
            if text != self.stage:  # a new description redraws the bar: only on a change
                self.stage = text
                bar.set_description(text)

        def _on_training_start(self) -> None:
            self._stage("training")

        def _on_training_end(self) -> None:
            self._stage("trained")

        def _on_step(self) -> bool:
            bar.update(n_envs)
            evaluating = eval_cb.eval_freq > 0 and (self.n_calls % eval_cb.eval_freq == 0)
            self._stage(f"evaluating ({n_eval} validation scenarios)" if evaluating else "training")
            return True

    return CallbackList([StepBar(), eval_cb, ckpt])


def reference_edps(cfg: TrainConfig, eval_env, mcm_name: str, bar: Any = None) -> dict[tuple, float]:
    """The reference EDP of every validation scenario (what :class:`EdpVsRefCallback` divides by),
    computed up front so that the wait happens under a progress bar, not silently at the first
    evaluation; the same values either way (deterministic, seed 0)."""
    cache: dict[tuple, float] = {}
    for sc in _feeder(eval_env).scenarios.all():
        reference_edp(sc, mcm_name, cache, cfg.eval.reference, cfg.env_kwargs.get("cost_preset"))
        if bar is not None:
            bar.update()
    return cache


def build_model(cfg: TrainConfig, venv, run_dir: Path | None):
    import torch
    from sb3_contrib import MaskablePPO

    from agents.extractors import ChipletSetExtractor

    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[cfg.policy.activation]
    policy_kwargs: dict[str, Any] = {"net_arch": dict(pi=list(cfg.policy.net_arch), vf=list(cfg.policy.net_arch)),
                                     "activation_fn": act}
    policy: Any = "MultiInputPolicy"
    if cfg.policy.extractor == "chiplet_attention":
        policy_kwargs["features_extractor_class"] = ChipletSetExtractor
        policy_kwargs["features_extractor_kwargs"] = dict(cfg.policy.extractor_kwargs)
    elif cfg.policy.extractor == "nop_set":  # size- and layout-agnostic: a pointer head over candidate tokens
        from agents.set_policy import NopSetExtractor, SetPointerPolicy

        policy = SetPointerPolicy
        policy_kwargs["features_extractor_class"] = NopSetExtractor
        policy_kwargs["features_extractor_kwargs"] = dict(cfg.policy.extractor_kwargs)
    p = cfg.ppo
    return MaskablePPO(policy, venv, n_steps=p.n_steps, batch_size=p.batch_size, n_epochs=p.n_epochs,
                       gamma=p.gamma, gae_lambda=p.gae_lambda, learning_rate=p.learning_rate, ent_coef=p.ent_coef,
                       vf_coef=p.vf_coef, clip_range=p.clip_range, max_grad_norm=p.max_grad_norm,
                       normalize_advantage=p.normalize_advantage, policy_kwargs=policy_kwargs, seed=cfg.seed,
                       device="cpu", verbose=0)


def _continue_evaluations(eval_cb, path: Path) -> None:
    """A resumed run's evaluation callback starts from the evaluations already in ``path`` (read
    without pickles), so ``evaluations.npz`` keeps them and ``best_model`` is replaced only by a
    better one."""
    import numpy as np

    if not path.is_file():
        return
    try:
        with np.load(path, allow_pickle=False) as z:
            t, r, n = z["timesteps"].tolist(), z["results"].tolist(), z["ep_lengths"].tolist()
    except (OSError, KeyError, ValueError) as e:
        raise ConfigError("--resume", f"cannot read the earlier evaluations {str(path)!r} ({e})"[:300],
                          "move the file away to start its history anew") from None
    eval_cb.evaluations_timesteps, eval_cb.evaluations_results, eval_cb.evaluations_length = t, r, n
    if r:
        eval_cb.best_mean_reward = max(float(np.mean(x)) for x in r)


def _appending_csv(path: Path):
    """SB3's CSV logger that continues an existing ``progress.csv`` (its header and rows are kept)."""
    from stable_baselines3.common.logger import CSVOutputFormat, make_output_format

    if not path.is_file() or path.stat().st_size == 0:
        return make_output_format("csv", str(path.parent))
    fmt = CSVOutputFormat.__new__(CSVOutputFormat)
    fmt.file = path.open("r+", newline="")
    fmt.keys = fmt.file.readline().rstrip("\r\n").split(",")
    fmt.file.seek(0, 2)
    fmt.separator, fmt.quotechar = ",", '"'
    return fmt


def _checkpoint_steps(p: Path) -> int | None:
    parts = p.stem.split("_")
    return int(parts[-2]) if len(parts) >= 3 and parts[-1] == "steps" and parts[-2].isdigit() else None


def _run_of(checkpoint: Path) -> Path:
    return checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent


def check_resume(cfg: TrainConfig, checkpoint: Path, steps: int, run_dir: Path) -> list[str]:
    """Refuse a resume that would change the run's config or overwrite its later checkpoints; returns
    the note lines (what is kept, what is trained again)."""
    from agents.config import load_config

    for where in dict.fromkeys([_run_of(checkpoint), run_dir]):
        saved = where / "config.yaml"
        if not saved.is_file():
            continue
        old, new = load_config(saved).to_dict(), cfg.to_dict()
        for key in sorted(set(old) | set(new)):
            if key not in RESUME_MAY_CHANGE and old.get(key) != new.get(key):
                raise ConfigError("--resume", f"{str(saved)!r} was trained with {key} = {old.get(key)!r}, this config "
                                  f"has {new.get(key)!r}"[:400], "resume with the config of the run that wrote the "
                                  f"checkpoint (only {', '.join(RESUME_MAY_CHANGE)} may change)")
    later = sorted((s, p.name) for p in (run_dir / "checkpoints").glob("rl_model_*_steps.zip")
                   if (s := _checkpoint_steps(p)) is not None and s > steps)
    if later:
        raise ConfigError("--resume", f"{run_dir} already has checkpoints past step {steps:,} ({later[-1][1]}): "
                          "resuming from this one would overwrite them", "resume from the latest checkpoint, or give "
                          "another --run-dir")
    notes = [f"resuming from {checkpoint} at step {steps:,}; everything already in {run_dir} is kept "
             "(logs, monitor files and evaluations are continued)"]
    progress = run_dir / "progress.csv"
    if progress.is_file():
        import csv

        with progress.open(newline="") as f:
            logged = [int(float(r["time/total_timesteps"])) for r in csv.DictReader(f)
                      if r.get("time/total_timesteps") not in (None, "")]
        if logged and max(logged) > steps:
            notes.append(f"note: progress.csv runs to step {max(logged):,}: the {max(logged) - steps:,} steps after "
                         "the checkpoint are not in it and are trained again (their rows stay in the logs)")
    return notes


#: ``train(resume=LATEST)`` (``--resume`` without a path): the latest checkpoint of the run directory.
LATEST = "latest"


def latest_checkpoint(run_dir: Path) -> Path:
    """The checkpoint of ``run_dir`` with the most steps (``checkpoints/rl_model_*_steps.zip`` or
    ``final_model.zip``, the final model on a tie)."""
    from agents.agentfile import read_checkpoint

    found = [(s, 0, p) for p in (run_dir / "checkpoints").glob("rl_model_*_steps.zip")
             if (s := _checkpoint_steps(p)) is not None]
    if (run_dir / "final_model.zip").is_file():
        found.append((read_checkpoint(run_dir / "final_model.zip").num_timesteps, 1, run_dir / "final_model.zip"))
    if not found:
        raise ConfigError("--resume", f"{str(run_dir)!r} has no checkpoint to resume from",
                          "give the checkpoint's path (--resume CKPT), or start the run anew with --overwrite")
    return max(found)[2]


def train(cfg: TrainConfig, run_dir: str | Path | None = None, resume: str | Path | None = None,
          argv: list[str] | None = None, runs_root: str | Path = "runs", log: Any = print,
          overwrite: bool = False) -> Path:
    """Train per ``cfg``; returns the run directory (``best_model.zip``, ``final_model.zip``, logs).

    A directory that already holds something is refused unless ``resume`` continues its run or
    ``overwrite`` deletes it first (only a run directory is deleted; :func:`agents.rundir.check_run_dir`).
    ``cfg.progress_bar``: a progress bar on stderr over the setup (reference EDPs of the validation
    scenarios, the first training scenarios) and the steps.

    ``resume``: continue from a checkpoint zip (:data:`LATEST`: the latest one in ``run_dir``), read weights-only (:func:`agents.agentfile.read_checkpoint`:
    nothing in it is unpickled). The config must be the one of the checkpoint's run (only
    :data:`RESUME_MAY_CHANGE` may differ). Nothing already in the run directory is lost: ``progress.csv``,
    the monitor files, ``eval/`` and ``command.txt`` are continued, ``config.yaml`` and
    ``versions.json`` kept, a previous ``final_model.zip`` / ``final_agent/`` moved into
    ``checkpoints/`` under their step, and ``best_model`` replaced only by a better evaluation than
    every earlier one. What is lost is at most the steps trained after the checkpoint, which the
    note (``log``) states.
    """
    import torch
    from stable_baselines3.common.logger import Logger, make_output_format

    from agents.agentfile import load_checkpoint_into, read_checkpoint, save_agent

    from scar_gym.progress import ProgressBar

    check_held_out(cfg)
    check_bank(cfg)
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(cfg, runs_root)
    check_run_dir(run_dir, resume is not None, overwrite)
    if resume is not None and str(resume) == LATEST:
        resume = latest_checkpoint(run_dir)
    ckpt, model = None, None
    torch.set_num_threads(cfg.torch_threads)
    if resume is not None:  # everything checked before anything is written: a bad resume changes nothing
        ckpt = read_checkpoint(resume)
        notes = check_resume(cfg, Path(resume), ckpt.num_timesteps, run_dir)
        probe = make_vec(cfg, "train")  # without monitor files
        model = build_model(cfg, probe, run_dir)
        load_checkpoint_into(model, ckpt)
        probe.close()
        for line in notes:
            log(line)
    resumed = ckpt is not None
    if overwrite and holds_run(run_dir):
        log(f"--overwrite: deleting the earlier run in {run_dir}")
        clear_run_dir(run_dir)
    if resumed and (run_dir / "config.yaml").is_file():
        _append_command(run_dir, argv, ckpt.num_timesteps)
    else:
        write_run_metadata(run_dir, cfg.to_dict(), argv)
    if resumed:
        _keep_final(run_dir)
    venv = make_vec(cfg, "train", monitor_dir=str(run_dir / "monitor"), append=resumed)
    eval_env = make_vec(cfg, "eval", monitor_dir=str(run_dir / "monitor"), append=resumed)
    n_eval = len(_feeder(eval_env).scenarios) * max(1, len(cfg.eval_mcms or cfg.mcms))
    mcm_name = str(cfg.env_kwargs.get("mcm", cfg.mcm))
    with ProgressBar(n_eval, f"{cfg.eval.reference} EDP of the validation scenarios", cfg.progress_bar,
                     unit="scenario") as setup:
        ref_cache = reference_edps(cfg, eval_env, mcm_name, setup)
    if model is None:
        model = build_model(cfg, venv, run_dir)
    else:
        model.set_env(venv)
    csv_out = _appending_csv(run_dir / "progress.csv") if resumed else make_output_format("csv", str(run_dir))
    model.set_logger(Logger(str(run_dir), [csv_out, make_output_format("tensorboard", str(run_dir / "tb"))]))
    t0 = time.time()
    remaining = cfg.n_timesteps - (model.num_timesteps if resumed else 0)
    # SB3 resets the training envs (their first scenarios: SCAR and the candidate pools) before its
    # first callback: the bar names that stage until training starts
    bar = ProgressBar(max(remaining, 0), f"first scenarios of {cfg.n_envs} training env(s)", cfg.progress_bar,
                      unit="step") if cfg.progress_bar else None
    callbacks = make_callbacks(cfg, run_dir, eval_env, n_eval, mcm_name, resumed, ref_cache, bar)
    try:
        model.learn(total_timesteps=max(remaining, 0), callback=callbacks, progress_bar=False,
                    reset_num_timesteps=not resumed)
    finally:
        if bar is not None:
            bar.close()
    model.save(str(run_dir / "final_model.zip"))
    save_agent(model.policy, run_dir / "final_agent", cfg.to_dict(),
               {"num_timesteps": int(model.num_timesteps), "run": str(run_dir)})
    from scar_gym.factory import make_cost_model

    summary = {"timesteps": int(model.num_timesteps), "wall_s": round(time.time() - t0, 2),
               "resumed_from": str(resume) if resume else None,
               "cost_model": make_cost_model(preset=cfg.env_kwargs.get("cost_preset")).describe()}
    path = run_dir / "train_summary.json"
    if resumed and path.is_file():
        try:
            before = json.loads(path.read_text())
        except (OSError, ValueError):
            before = None
        if isinstance(before, dict):
            summary["earlier"] = before.pop("earlier", []) + [before]
    path.write_text(json.dumps(summary, indent=1) + "\n")
    venv.close()
    eval_env.close()
    return run_dir


def _append_command(run_dir: Path, argv: list[str] | None, steps: int) -> None:
    """A resumed run adds its command line to ``command.txt`` (config.yaml and versions.json are kept)."""
    import sys

    from scar_gym.provenance import versions

    with (run_dir / "command.txt").open("a") as f:
        f.write(f"# resumed at step {steps} with versions {json.dumps(versions())}\n")
        f.write(" ".join(argv if argv is not None else sys.argv) + "\n")


def _keep_final(run_dir: Path) -> None:
    """Move an earlier ``final_model.zip`` / ``final_agent/`` into ``checkpoints/`` under their step, so the
    resumed run's final model does not replace them."""
    import shutil

    from agents.agentfile import AGENT_JSON

    for name in ("final_model.zip", "final_agent"):
        src = run_dir / name
        if not src.exists():
            continue
        steps = None
        if name == "final_agent" and (src / AGENT_JSON).is_file():
            try:
                steps = json.loads((src / AGENT_JSON).read_text())["source"]["num_timesteps"]
            except (OSError, ValueError, KeyError, TypeError):
                steps = None
        elif name == "final_model.zip":
            try:
                from agents.agentfile import read_checkpoint

                steps = read_checkpoint(src).num_timesteps
            except ConfigError:
                steps = None
        stem = name.replace(".zip", "")
        dst = run_dir / "checkpoints" / f"{stem}_{steps if steps is not None else 'earlier'}_steps{src.suffix}"
        k = 1
        while dst.exists():
            dst = dst.with_name(f"{stem}_{steps}_steps_{k}{src.suffix}")
            k += 1
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), str(dst))
