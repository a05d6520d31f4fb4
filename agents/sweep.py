"""``scar-gym sweep configs/sweeps/NAME.yaml``: a training config over a grid / sampled space x seeds, on Ray Tune.

A sweep file::

    name: lr-ent                       # default: the file stem
    base: window_het_sides_relocate    # a training config (configs/train/ stem or path)
    set: {n_timesteps: 20000}          # overrides of every trial (--set style dotted keys)
    grid:                              # cartesian product of --set style keys
      ppo.learning_rate: [3.0e-4, 1.0e-4]
    sample:                            # and/or: n configs drawn from a space (per grid point)
      n: 4
      seed: 0
      space:
        ppo.ent_coef: {loguniform: [1.0e-3, 1.0e-1]}
        ppo.n_epochs: {choice: [4, 8]}
        ppo.gamma: {uniform: [0.95, 0.999]}
        ppo.n_steps: {randint: [128, 512]}   # inclusive
    seeds: [0, 1, 2]                   # training seeds: every config runs once per seed
    evaluate:                          # the summary's evaluation of each trial's best agent
      test_suite: random-10            # test scenarios (seeds 20000+, never seen in training)
      samples: 1                       # rollouts per schedule (1 = greedy)
      reference: scar                  # what EDP is divided by

Sampling is done here with a seeded numpy generator, so a sweep file always expands to the same
trials (:func:`expand`), and every trial's config is validated before anything starts. Each trial
(:func:`run_trial`, one Ray Tune trial of 1 CPU) trains with :func:`agents.train.train` into
``SWEEP_DIR/runs/<config>_s<seed>/`` (a normal run directory) and evaluates its ``best_agent``
on the config's validation scenarios and the test suite, writing ``sweep_eval.json``. Training
seeds, validation seeds (10000+) and test seeds (20000+) stay apart as in every run.

Ray: without ``--address`` (nor ``RAY_ADDRESS``) a local Ray instance of ``--jobs`` CPUs is
started; with it, the same sweep runs on that cluster (every node needs scar-gym installed and
``SWEEP_DIR`` on a shared file system). A trial that raises is reported and the others go on. Run
the same command again and an interrupted sweep resumes through ``Tuner.restore``: finished
trials are kept, unfinished ones rerun (``--retry-failed`` reruns the failed ones too).

At the end ``SWEEP_DIR/summary.{txt,csv,json}``: per config and split (validation, test), the
:func:`scar_gym.stats.summarize` of EDP / EDP_reference over its seeds x scenarios -- geometric
mean and IQM with 95 % stratified-bootstrap intervals, wins / ties / losses. Validation
scenarios also picked each run's best agent, so their figures are optimistic; test ones are not.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from scar_gym.errors import ConfigError

SWEEPS_DIR = Path(__file__).resolve().parent.parent / "configs" / "sweeps"
SWEEP_KEYS = ("name", "base", "set", "grid", "sample", "seeds", "evaluate")
EVAL_KEYS = ("test_suite", "samples", "reference")
DISTRIBUTIONS = ("choice", "uniform", "loguniform", "randint")
MAX_TRIALS = 10_000
SPLITS = ("validation", "test")
EVAL_FILE = "sweep_eval.json"


@dataclass(frozen=True)
class Trial:
    """One training run of a sweep: a config (its overrides of the base) and a seed."""

    config_id: str
    overrides: dict[str, Any]
    seed: int

    @property
    def name(self) -> str:
        return f"{self.config_id}_s{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        return {"config_id": self.config_id, "overrides": dict(self.overrides), "seed": self.seed}


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, validated sweep file."""

    name: str
    base: str
    file: str
    fixed: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    sample_n: int = 0
    sample_seed: int = 0
    space: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    test_suite: str = "random-10"
    samples: int = 1
    reference: str = "scar"


def resolve_sweep_path(spec: str | Path) -> Path:
    p = Path(spec)
    if p.is_file():
        return p
    cand = SWEEPS_DIR / f"{spec}.yaml"
    if cand.is_file():
        return cand
    known = sorted(q.stem for q in SWEEPS_DIR.glob("*.yaml"))
    raise ConfigError("SWEEP", f"no such file {str(spec)!r}", f"give a path or one of: {', '.join(known)}")


def load_sweep(path: str | Path, extra: Mapping[str, Any] | None = None) -> SweepSpec:
    """Read and check a sweep file (``extra``: ``--set`` overrides of every trial)."""
    from scar_gym.fileio import read_yaml

    p = resolve_sweep_path(path)
    f = str(p)
    data = read_yaml(p)
    if not isinstance(data, dict):
        raise ConfigError("(top level)", "expected a mapping", "write the sweep's keys (see configs/sweeps/)", f)
    for k in data:
        if k not in SWEEP_KEYS:
            raise ConfigError(str(k), "unknown key", f"allowed keys: {', '.join(SWEEP_KEYS)}", f)
    if "base" not in data or not isinstance(data["base"], str):
        raise ConfigError("base", "missing (or not a string)", "name a training config, e.g. base: smoke", f)

    def mapping(key: str) -> dict[str, Any]:
        v = data.get(key) or {}
        if not isinstance(v, dict) or not all(isinstance(k, str) for k in v):
            raise ConfigError(key, f"expected a mapping of dotted keys, got {v!r}"[:200],
                              f"write {key}: {{ppo.learning_rate: ...}}", f)
        return dict(v)

    fixed = {**mapping("set"), **dict(extra or {})}
    grid = mapping("grid")
    for k, v in grid.items():
        if not isinstance(v, list) or not v:
            raise ConfigError(f"grid.{k}", f"expected a non-empty list of values, got {v!r}"[:200],
                              f"write grid: {{{k}: [a, b]}}", f)
    sample = data.get("sample") or {}
    if not isinstance(sample, dict) or set(sample) - {"n", "seed", "space"}:
        raise ConfigError("sample", f"expected {{n, seed, space}}, got {sample!r}"[:200],
                          "write sample: {n: 4, seed: 0, space: {ppo.ent_coef: {loguniform: [0.001, 0.1]}}}", f)
    space = sample.get("space") or {}
    n = sample.get("n", 0 if not space else 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0 or (space and n == 0):
        raise ConfigError("sample.n", f"expected an integer >= 1, got {n!r}", "write sample: {n: 4, ...}", f)
    sseed = sample.get("seed", 0)
    if isinstance(sseed, bool) or not isinstance(sseed, int) or sseed < 0:
        raise ConfigError("sample.seed", f"expected an integer >= 0, got {sseed!r}", "write seed: 0", f)
    if not isinstance(space, dict):
        raise ConfigError("sample.space", "expected a mapping key -> {distribution: [args]}", "see configs/sweeps/", f)
    for k, d in space.items():
        _check_distribution(f"sample.space.{k}", d, f)
    if n and not space:
        raise ConfigError("sample.space", "empty with sample.n set", "give the keys to sample", f)
    overlap = set(grid) & set(space) or (set(grid) | set(space)) & set(fixed)
    if overlap:
        raise ConfigError(sorted(overlap)[0], "given in more than one of set / grid / sample.space (or --set)",
                          "give each key in one place", f)
    if "seed" in grid or "seed" in space or "seed" in fixed:
        raise ConfigError("seed", "the training seed is the sweep's seeds list", "write seeds: [0, 1, 2]", f)
    seeds = data.get("seeds", [0])
    if (not isinstance(seeds, list) or not seeds or len(set(seeds)) != len(seeds)
            or not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**32 for s in seeds)):
        raise ConfigError("seeds", f"expected a list of distinct integers 0 .. 2**32-1, got {seeds!r}"[:200],
                          "write seeds: [0, 1, 2]", f)
    ev = data.get("evaluate") or {}
    if not isinstance(ev, dict) or set(ev) - set(EVAL_KEYS):
        raise ConfigError("evaluate", f"expected a mapping of {', '.join(EVAL_KEYS)}, got {ev!r}"[:200],
                          "write evaluate: {test_suite: random-10, samples: 1}", f)
    test_suite = ev.get("test_suite", "random-10")
    if not isinstance(test_suite, str):
        raise ConfigError("evaluate.test_suite", f"expected a suite name, got {test_suite!r}", "e.g. random-10", f)
    samples = ev.get("samples", 1)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= 1024:
        raise ConfigError("evaluate.samples", f"expected an integer 1 .. 1024, got {samples!r}", "1 = greedy", f)
    reference = ev.get("reference", "scar")
    if not isinstance(reference, str):
        raise ConfigError("evaluate.reference", f"expected a policy name, got {reference!r}", "e.g. scar", f)
    from scar_gym.policies.registry import policy_names
    from scar_gym.suites import suite_scenarios

    try:
        suite_scenarios(test_suite, 0, field="evaluate.test_suite")
    except ConfigError as e:
        raise ConfigError("evaluate.test_suite", e.problem, e.fix, f) from None
    if reference not in policy_names():
        raise ConfigError("evaluate.reference", f"unknown policy {reference!r}",
                          f"use one of {', '.join(policy_names())} (scar is the usual reference)", f)
    name = data.get("name", p.stem)
    if not isinstance(name, str) or not name or "/" in name:
        raise ConfigError("name", f"expected a plain name, got {name!r}", "e.g. name: lr-sweep", f)
    return SweepSpec(name, data["base"], f, fixed, grid, n, sseed, dict(space), tuple(seeds), test_suite, samples,
                     reference)


def _check_distribution(where: str, d: Any, f: str) -> None:
    fix = "write {choice: [a, b]}, {uniform: [lo, hi]}, {loguniform: [lo, hi]} or {randint: [lo, hi]}"
    if not isinstance(d, dict) or len(d) != 1:
        raise ConfigError(where, f"expected one distribution, got {d!r}"[:200], fix, f)
    (kind, args), = d.items()
    if kind not in DISTRIBUTIONS:
        raise ConfigError(where, f"unknown distribution {kind!r}", fix, f)
    if not isinstance(args, list) or not args:
        raise ConfigError(where, f"{kind} needs a list, got {args!r}", fix, f)
    if kind == "choice":
        return
    if len(args) != 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
        raise ConfigError(where, f"{kind} needs [lo, hi] numbers, got {args!r}", fix, f)
    lo, hi = args
    if not lo <= hi or (kind == "loguniform" and lo <= 0) or (kind == "randint" and not all(isinstance(a, int)
                                                                                           for a in args)):
        raise ConfigError(where, f"bad bounds {args!r} for {kind}", "need lo <= hi (> 0 for loguniform, "
                          "integers for randint)", f)


def _draw(rng: np.random.Generator, d: dict[str, list[Any]]) -> Any:
    (kind, args), = d.items()
    if kind == "choice":
        return args[int(rng.integers(len(args)))]
    lo, hi = args
    if kind == "uniform":
        return float(rng.uniform(lo, hi))
    if kind == "loguniform":
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    return int(rng.integers(lo, hi + 1))


def expand(spec: SweepSpec) -> list[Trial]:
    """Every trial of the sweep: (grid points x sampled points) x seeds, configs numbered ``c00``,
    ``c01``, ... in that order; the sampled points come from ``default_rng(sample.seed)``."""
    keys = list(spec.grid)
    points = [dict(zip(keys, vals)) for vals in itertools.product(*(spec.grid[k] for k in keys))] or [{}]
    rng = np.random.default_rng(spec.sample_seed)
    configs = []
    for pt in points:
        for _ in range(max(spec.sample_n, 1) if spec.space else 1):
            configs.append({**spec.fixed, **pt, **{k: _draw(rng, d) for k, d in spec.space.items()}})
    width = max(2, len(str(len(configs) - 1)))
    trials = [Trial(f"c{i:0{width}d}", cfg, seed) for i, cfg in enumerate(configs) for seed in spec.seeds]
    if len(trials) > MAX_TRIALS:
        raise ConfigError("grid", f"{len(trials):,} trials, above the bound of {MAX_TRIALS:,}",
                          "shrink the grid, sample.n or the seeds", spec.file)
    return trials


def trial_config(spec: SweepSpec, trial: Trial):
    """The validated :class:`~agents.config.TrainConfig` of a trial (base + overrides + seed)."""
    from agents.config import load_config

    try:
        return load_config(spec.base, {**trial.overrides, "seed": trial.seed, "progress_bar": False})
    except ConfigError as e:
        raise ConfigError(f"{trial.config_id}: {e.field}", e.problem, e.fix, e.file) from None


# -- one trial -------------------------------------------------------------------------------------
def run_trial(params: dict[str, Any]) -> dict[str, Any]:
    """One trial (in a Ray worker): train into the run directory, evaluate the best agent on the
    validation scenarios and the test suite, write ``sweep_eval.json``; returns (and reports to
    Tune) the geometric means. A run directory left by an interrupted attempt is started anew."""
    from agents.config import load_config
    from agents.envs import suite_of
    from agents.train import train
    from scar_gym.benchmark import run_benchmark
    from scar_gym.suites import suite_scenarios

    if Path(params["cwd"]).is_dir():  # relative paths in the overrides mean what they meant to the driver
        os.chdir(params["cwd"])
    run_dir = Path(params["run_dir"])
    done = run_dir / EVAL_FILE
    if done.is_file():  # finished before an interruption that Tune did not record
        result = json.loads(done.read_text())
    else:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        cfg = load_config(params["base"], {**params["overrides"], "seed": params["seed"], "progress_bar": False})
        t0 = time.time()
        train(cfg, run_dir=run_dir, argv=["scar-gym", "sweep", params["sweep_file"], f"# trial {params['name']}"],
              log=lambda *_: None)
        agent = run_dir / "best_agent" if (run_dir / "best_agent").is_dir() else run_dir / "final_agent"
        splits = {"validation": suite_of(cfg.scenarios.eval).all(),
                  "test": suite_scenarios(params["test_suite"], 0, field="evaluate.test_suite")}
        result = {"trial": params["name"], "config_id": params["config_id"], "seed": params["seed"],
                  "overrides": params["overrides"], "agent": str(agent), "reference": params["reference"],
                  "train_wall_s": round(time.time() - t0, 2)}
        for split, scens in splits.items():
            rows = run_benchmark([f"ppo:{agent}"], scenarios=scens, mcm=cfg.env_kwargs.get("mcm", cfg.mcm),
                                 seed=0, reference=params["reference"], rollout_kwargs={"samples": params["samples"]},
                                 cost_preset=cfg.env_kwargs.get("cost_preset"))
            result[split] = {r.scenario: r.edp_vs_scar for r in rows if r.policy != params["reference"]}
        result["wall_s"] = round(time.time() - t0, 2)
        tmp = done.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        os.replace(tmp, done)
    from scar_gym.stats import geomean

    metrics = {f"{s}_geomean": geomean(list(result[s].values())) for s in SPLITS}
    return metrics


class TrialError(RuntimeError):
    """A trial's exception as one message: Ray copies a trial's error with ``copy.copy``, which
    exceptions with several constructor arguments (scar-gym's ConfigError) do not survive."""


def _tune_trial(params: dict[str, Any]) -> None:
    """Ray Tune's function trainable: the trial's parameters are under ``trial``."""
    from ray import tune

    try:
        metrics = run_trial(params["trial"])
    except Exception as e:  # noqa: BLE001 - re-raised as one line Tune can carry
        raise TrialError(f"{type(e).__name__}: {e}") from None
    tune.report(metrics)


# -- summary ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SummaryRow:
    config_id: str
    split: str
    overrides: dict[str, Any]
    summary: Any  # scar_gym.stats.Summary
    seeds: tuple[int, ...]


def summarize_sweep(sweep_dir: Path, trials: Sequence[Trial], reps: int = 2000) -> list[SummaryRow]:
    """Per config and split: :func:`scar_gym.stats.summarize` over the finished seeds x the scenarios
    (scenarios every finished seed has; a config with no finished seed is left out)."""
    from scar_gym.stats import summarize

    out = []
    by_cfg: dict[str, list[Trial]] = {}
    for t in trials:
        by_cfg.setdefault(t.config_id, []).append(t)
    for cid, ts in by_cfg.items():
        results = []
        for t in ts:
            f = sweep_dir / "runs" / t.name / EVAL_FILE
            if f.is_file():
                results.append((t.seed, json.loads(f.read_text())))
        if not results:
            continue
        for split in SPLITS:
            scen = sorted(set.intersection(*(set(r[split]) for _, r in results)))
            if not scen:
                continue
            ratios = np.array([[r[split][s] for s in scen] for _, r in results], dtype=float)
            out.append(SummaryRow(cid, split, ts[0].overrides, summarize(ratios, reps=reps, seed=0),
                                  tuple(seed for seed, _ in results)))
    return out


def write_summary(sweep_dir: Path, rows: Sequence[SummaryRow], failed: Sequence[tuple[str, str]],
                  reference: str) -> str:
    """``summary.txt`` (the table), ``summary.csv`` and ``summary.json``; returns the text."""
    import csv
    import dataclasses

    from scar_gym.stats import format_summary_table

    labels = {}
    for r in rows:
        labels[f"{r.config_id} {r.split}"] = r.summary
    text = (f"EDP / EDP_{reference}: geometric mean and interquartile mean over seeds x scenarios, 95% "
            f"stratified-bootstrap intervals; W/T/L = wins/ties/losses against {reference}\n"
            + format_summary_table(labels, reference=reference, label="config split") + "\n")
    legend = [f"{cid}: " + (", ".join(f"{k}={v}" for k, v in ov.items()) or "(base config)")
              for cid, ov in dict((r.config_id, r.overrides) for r in rows).items()]
    text += "\n" + "\n".join(legend) + "\n"
    if failed:
        text += f"\n{len(failed)} failed trial(s):\n" + "\n".join(f"  {n}: {e}" for n, e in failed) + "\n"
    (sweep_dir / "summary.txt").write_text(text)
    cols = ["config_id", "split", "overrides", "n_runs", "n_tasks", "seeds", "geomean", "geomean_lo", "geomean_hi",
            "iqm", "iqm_lo", "iqm_hi", "wins", "ties", "losses"]
    with (sweep_dir / "summary.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            s = r.summary
            w.writerow([r.config_id, r.split, json.dumps(r.overrides), s.n_runs, s.n_tasks,
                        " ".join(map(str, r.seeds)), s.geomean.point, s.geomean.lo, s.geomean.hi, s.iqm.point,
                        s.iqm.lo, s.iqm.hi, s.wins, s.ties, s.losses])
    doc = {"reference": reference,
           "rows": [{"config_id": r.config_id, "split": r.split, "overrides": r.overrides, "seeds": list(r.seeds),
                     **dataclasses.asdict(r.summary)} for r in rows],
           "failed": [{"trial": n, "error": e} for n, e in failed]}
    (sweep_dir / "summary.json").write_text(json.dumps(doc, indent=1) + "\n")
    return text


# -- the sweep -------------------------------------------------------------------------------------
def run_sweep(spec: SweepSpec, sweep_dir: Path, jobs: int, address: str | None, quiet: bool = False,
              retry_failed: bool = False,
              log: Callable[[str], None] = print) -> tuple[list[SummaryRow], list[tuple[str, str]], list[str]]:
    """Run (or resume) the sweep with Ray Tune; returns the summary rows, the failed trials (name,
    error) and the unfinished ones (an interrupted sweep)."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's boxed banners: the progress bar says enough
    try:
        import ray
        from ray import tune
    except ImportError:
        raise ConfigError("sweep", "needs Ray Tune, which is not installed",
                          "pip install 'scar-gym[sweep]' (make install does)") from None
    trials = expand(spec)
    for t in trials:  # every trial's config is checked before anything runs
        trial_config(spec, t)
    sweep_dir = sweep_dir.resolve()
    plan = {"sweep_file": spec.file, "base": spec.base, "trials": [t.to_dict() for t in trials],
            "evaluate": {"test_suite": spec.test_suite, "samples": spec.samples, "reference": spec.reference}}
    plan_file = sweep_dir / "sweep_plan.json"
    if plan_file.is_file():
        before = json.loads(plan_file.read_text())
        if {k: v for k, v in before.items() if k != "sweep_file"} != {k: v for k, v in plan.items()
                                                                       if k != "sweep_file"}:
            raise ConfigError("--out", f"{sweep_dir} holds another sweep (its sweep_plan.json differs)",
                              "give another --out, or rerun the sweep that made it to resume it")
    sweep_dir.mkdir(parents=True, exist_ok=True)
    plan_file.write_text(json.dumps(plan, indent=1) + "\n")
    if not (sweep_dir / "sweep.yaml").exists():
        shutil.copy(spec.file, sweep_dir / "sweep.yaml")

    from agents.config import resolve_config_path

    base = str(resolve_config_path(spec.base).resolve())
    params = [{**t.to_dict(), "name": t.name, "base": base, "sweep_file": spec.file, "cwd": os.getcwd(),
               "run_dir": str(sweep_dir / "runs" / t.name), "test_suite": spec.test_suite,
               "samples": spec.samples, "reference": spec.reference} for t in trials]
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else jobs, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    watcher = None if quiet else _ProgressWatcher(sweep_dir / "runs", [t.name for t in trials], spec.name)
    try:
        trainable = tune.with_resources(_tune_trial, {"cpu": 1})
        storage = str(sweep_dir)
        tune_dir = sweep_dir / "tune"
        if tune.Tuner.can_restore(str(tune_dir)):
            log(f"resuming the sweep in {sweep_dir} (finished trials are kept)")
            tuner = tune.Tuner.restore(str(tune_dir), trainable, resume_unfinished=True,
                                       restart_errored=retry_failed)
        else:
            tuner = tune.Tuner(
                trainable, param_space={"trial": tune.grid_search(params)},
                tune_config=tune.TuneConfig(max_concurrent_trials=None if address else jobs,
                                            trial_dirname_creator=lambda tr: tr.config["trial"]["name"],
                                            trial_name_creator=lambda tr: tr.config["trial"]["name"]),
                run_config=tune.RunConfig(name="tune", storage_path=storage, verbose=0,
                                          failure_config=tune.FailureConfig(max_failures=0, fail_fast=False)))
        grid = tuner.fit()
        failed = []
        for res in grid:
            if res.error is not None:
                name = (res.config or {}).get("trial", {}).get("name", "?")
                failed.append((name, _error_line(res.error)))
    finally:
        if watcher is not None:
            watcher.stop()
        if started:
            ray.shutdown()
    rows = summarize_sweep(sweep_dir, trials)
    return rows, sorted(failed), unfinished_trials(sweep_dir, trials, [n for n, _ in failed])


def unfinished_trials(sweep_dir: Path, trials: Sequence[Trial], failed: Sequence[str]) -> list[str]:
    """Trials neither finished (no ``sweep_eval.json``) nor failed: the sweep was interrupted."""
    return [t.name for t in trials if t.name not in failed and not (sweep_dir / "runs" / t.name / EVAL_FILE).is_file()]


def _error_line(err: BaseException) -> str:
    """The trial's own exception, one line (Tune wraps it in a RayTaskError with a traceback)."""
    cause = getattr(err, "cause", None) or err
    text = str(cause) if isinstance(cause, TrialError) else f"{type(cause).__name__}: {cause}"
    lines = text.strip().splitlines()
    return (lines[0] if lines else type(err).__name__)[:400]


class _ProgressWatcher:
    """A progress bar (stderr) of finished trials, counted from their ``sweep_eval.json`` files by a
    thread of this process (nothing to pickle into Tune's experiment state, works on a cluster with
    a shared file system)."""

    def __init__(self, runs: Path, names: Sequence[str], label: str, period_s: float = 1.0):
        import threading

        from tqdm import tqdm

        self.files = [runs / n / EVAL_FILE for n in names]
        self.bar = tqdm(total=len(names), desc=f"sweep {label}", unit="trial", file=sys.stderr)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(period_s,), daemon=True)
        self._thread.start()

    def _update(self) -> None:
        n = sum(f.is_file() for f in self.files)
        if n > self.bar.n:
            self.bar.update(n - self.bar.n)

    def _run(self, period_s: float) -> None:
        while not self._stop.wait(period_s):
            self._update()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._update()
        self.bar.close()


# -- command line ----------------------------------------------------------------------------------
def register(subparsers) -> None:
    from scar_gym.commands.args import add_parallel_arguments

    p = subparsers.add_parser("sweep", help="run a training config over a grid / sampled space x seeds (Ray Tune)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("sweep", metavar="SWEEP", help="sweep YAML path or name in configs/sweeps/")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a training-config key in every trial, e.g. --set n_timesteps=5000 (repeatable)")
    p.add_argument("--out", default=None, metavar="DIR", help="sweep directory (default runs/sweeps/<name>)")
    add_parallel_arguments(p, "trials", default_jobs=None)
    p.add_argument("--retry-failed", action="store_true", help="on resume, rerun the trials that failed")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=sweep_cmd)


def sweep_cmd(args) -> int:
    from agents.config import parse_overrides
    from scar_gym.parallel import ray_address

    spec = load_sweep(args.sweep, parse_overrides(args.overrides))
    out = Path(args.out) if args.out else Path("runs") / "sweeps" / spec.name
    if out.exists() and not out.is_dir():
        raise ConfigError("--out", f"{str(out)!r} is a file", "give a directory")
    address = ray_address(args.address)
    jobs = args.jobs or os.cpu_count() or 1
    trials = expand(spec)
    where = f"the Ray cluster at {address}" if address else f"a local Ray instance of {jobs} CPUs"
    print(f"sweep {spec.name}: {len(trials)} trials ({len({t.config_id for t in trials})} configs x "
          f"{len(spec.seeds)} seeds) on {where}; directory {out}", file=sys.stderr)
    t0 = time.time()
    rows, failed, unfinished = run_sweep(spec, out, jobs, address, quiet=args.quiet, retry_failed=args.retry_failed)
    text = write_summary(out.resolve(), rows, failed, spec.reference)
    print(text, end="")
    print(f"wall time {time.time() - t0:.0f} s; summary in {out / 'summary.txt'} (.csv, .json); "
          f"run directories in {out / 'runs'}")
    if unfinished:
        print(f"interrupted: {len(unfinished)} of {len(trials)} trials unfinished ({', '.join(unfinished[:5])}"
              f"{', ...' if len(unfinished) > 5 else ''}); run the same command again to resume", file=sys.stderr)
    return 1 if failed or unfinished else 0
