"""The benchmark: run policies on a fixed scenario suite and compare them with SCAR.

This module does not import torch: heuristic policies (``scar``, ``standalone``, ``greedy``,
``random``, the searches) run without the ``rl`` extra; an agent (``ppo``, ``ppo:PATH``) imports
torch only when it is built.

Suites (``paper``, ``random-N``, ...) and the train / validation / test seed split are those of
:mod:`scar_gym.suites`; every scenario of a suite runs on one MCM -- ``het-sides-3x3`` (the paper's
main heterogeneous MCM) unless ``mcm`` is given. ``random-N`` draws the test split (seed 20000 +
``seed``), never seen in training nor used to pick the best checkpoint.

Each (policy, scenario) gets a fresh :class:`~scar_gym.evaluator.Evaluator` (sharing only the
cost-table cache), so the evaluator's memo does not favour later policies and
``num_evaluations`` counts each policy's own cost-model calls. ``scheduler_s`` is the wall time of
``policy.schedule`` alone. Everything but ``scheduler_s`` is deterministic given ``seed``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from scar_gym import fileio
from scar_gym.errors import ConfigError
from scar_gym.stats import DEFAULT_REPS, TIE_TOLERANCE, summarize
from scar_gym.textfmt import format_table

DEFAULT_MCM = "het-sides-3x3"
#: The leaderboard's fixed baselines (SCAR first: it is the reference).
BASELINES: tuple[str, ...] = ("scar", "standalone", "greedy", "random")
CSV_COLUMNS = ("policy", "scenario", "mcm", "latency_s", "energy_j", "edp_js", "edp_vs_scar", "scheduler_s")


def policy_label(spec: str) -> str:
    """A short leaderboard name: ``ppo:runs/x/best_model.zip`` -> ``ppo:x/best_model``."""
    if ":" not in spec:
        return spec
    base, arg = spec.split(":", 1)
    p = Path(arg)
    short = f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem
    return f"{base}:{short}"


def is_agent(spec: str) -> bool:
    """A learned policy: ``ppo``, ``ppo:PATH`` or a path to a model zip / run directory."""
    from scar_gym.policies.registry import AGENT_POLICIES

    return spec.split(":", 1)[0] in AGENT_POLICIES or spec.endswith(".zip") or fileio.is_dir(spec)


def takes_rollout_options(spec: str) -> bool:
    """A rollout-search policy (:mod:`scar_gym.envs.rollout_search`): an agent or ``window-ls``."""
    return is_agent(spec) or spec.split(":", 1)[0] in ("window-ls", "window-ls-any")


def build_policy(spec: str, **kwargs: Any):
    """A policy from a registry name, ``ppo:PATH``, or a path to a model zip / run dir (an agent)."""
    from scar_gym.policies.registry import AGENT_POLICY, make_policy, policy_names

    if spec.split(":", 1)[0] not in policy_names() and is_agent(spec):
        spec = f"{AGENT_POLICY}:{spec}"
    return make_policy(spec, **kwargs)


@dataclass
class Row:
    policy: str
    scenario: str
    mcm: str
    latency_s: float
    energy_j: float
    edp_js: float
    edp_vs_scar: float
    scheduler_s: float
    num_evaluations: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    #: the policy's schedule (not written to the CSV / JSON)
    schedule: Any = field(default=None, repr=False, compare=False)

    def csv_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in CSV_COLUMNS}


def _json_safe(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    try:
        return float(x)
    except (TypeError, ValueError):
        return str(x)


@dataclass(frozen=True)
class PairTask:
    """One (policy, scenario) run, self-contained so that it can travel to another process."""

    spec: str
    options: dict[str, Any]
    scenario: Any
    mcm: str
    cost_preset: str | None
    seed: int


@dataclass(frozen=True)
class PairResult:
    latency_s: float
    energy_j: float
    edp_js: float
    scheduler_s: float
    num_evaluations: int
    meta: dict[str, Any]
    schedule: Any
    scheduler_cpu_s: float = 0.0  # process CPU seconds of the same call (scheduler_s is wall time)


def schedule_pair(policy: Any, scenario: Any, hw: Any, cost_model: Any, seed: int) -> PairResult:
    """``policy`` on ``scenario`` with a fresh evaluator (only the cost-table cache is shared): the
    one way a benchmark runs and scores a policy, so that every policy is timed and scored alike."""
    from scar_gym.factory import make_evaluator

    ev = make_evaluator(scenario, hw, cost_model=cost_model)
    t0, c0 = time.perf_counter(), time.process_time()
    sched = policy.schedule(ev, seed=seed)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_eval = ev.num_evaluations
    res = ev.evaluate(sched)
    return PairResult(res.latency_s, res.energy_j, res.edp_js, dt, int(sched.meta.get("evaluations", n_eval)),
                      _json_safe(dict(sched.meta)), sched, cpu)


def run_pair(task: PairTask) -> PairResult:
    """A :class:`PairTask` in a worker: builds the policy, MCM and cost model there."""
    from scar_gym.factory import make_cost_model
    from scar_gym.presets import load_mcm

    return schedule_pair(build_policy(task.spec, **task.options), task.scenario, load_mcm(task.mcm),
                          make_cost_model(preset=task.cost_preset), task.seed)


def run_benchmark(policies: Sequence[str], suite: str = "paper", seed: int = 0, mcm: str | None = None,
                  scenarios: Sequence | None = None, progress: Any = None, reference: str = "scar",
                  rollout_kwargs: dict[str, Any] | None = None, cost_preset: str | None = None,
                  trust: bool = False, jobs: int = 1, address: str | None = None) -> list[Row]:
    """Run every policy on every scenario of the suite; SCAR is always run (it is the reference).

    Args:
        policies: registry names or ``ppo:PATH`` specs, in leaderboard order.
        scenarios: override the suite's scenarios (tests use a small list).
        progress: optional callable ``progress(policy, scenario_id, row)`` after each run (in row order).
        reference: the policy ``edp_vs_scar`` divides by (tests substitute a cheap one).
        rollout_kwargs: ``samples`` / ``improve`` for the rollout-search policies only (agents, ``window-ls``).
        cost_preset: the per-layer cost preset every policy is scored under (the default for ``None``).
        trust: let the agents load Stable-Baselines3 zips (their pickled parts run code from the file).
        jobs, address: spread the (policy, scenario) runs over ``jobs`` processes or the Ray cluster at
            ``address`` (:func:`scar_gym.parallel.parallel_map`); each run builds its policy in its worker.
            The rows are those of the serial run, in the same order (``scheduler_s`` aside).
    """
    from scar_gym.factory import make_cost_model
    from scar_gym.parallel import parallel_map, raise_failures
    from scar_gym.presets import load_mcm
    from scar_gym.suites import suite_mcms, suite_scenarios

    scens = list(scenarios) if scenarios is not None else suite_scenarios(suite, seed)
    own = suite_mcms(suite, seed)  # large-RxC: every scenario has its own MCM
    if own is not None and mcm is not None:
        raise ConfigError("--mcm", f"suite {suite!r} runs every scenario on its own MCM", "drop --mcm")
    mcm_names = list(own) if own is not None and len(own) == len(scens) else [mcm or DEFAULT_MCM] * len(scens)
    hws = {name: load_mcm(name) for name in dict.fromkeys(mcm_names)}  # also checks --mcm before any run
    order = [reference] + [p for p in dict.fromkeys(policies) if p != reference]

    def options(p: str) -> dict[str, Any]:
        kw = dict(rollout_kwargs or {}) if takes_rollout_options(p) else {}
        if trust and is_agent(p):
            kw["trust"] = True
        return kw

    built = {p: build_policy(p, **options(p)) for p in order}  # also checks every spec before any run
    short = [policy_label(p) for p in order]
    # two agents in runs/a/s0 and runs/b/s0 would share a short label: those keep their full spec
    labels = {p: lab if short.count(lab) == 1 else p for p, lab in zip(order, short)}
    pairs = [(sc, m, spec) for sc, m in zip(scens, mcm_names) for spec in order]
    rows: list[Row] = []
    scar_edp: dict[str, float] = {}

    def emit(res: PairResult) -> None:
        sc, m, spec = pairs[len(rows)]
        if spec == reference:
            scar_edp[sc.id] = res.edp_js
        ratio = res.edp_js / scar_edp[sc.id] if scar_edp[sc.id] > 0 else float("nan")
        row = Row(policy=labels[spec], scenario=sc.id, mcm=hws[m].name, latency_s=res.latency_s,
                  energy_j=res.energy_j, edp_js=res.edp_js, edp_vs_scar=ratio, scheduler_s=res.scheduler_s,
                  num_evaluations=res.num_evaluations, meta=res.meta, schedule=res.schedule)
        rows.append(row)
        if progress is not None:
            progress(spec, sc.id, row)

    if jobs == 1 and address is None:
        cost_model = make_cost_model(preset=cost_preset)
        for sc, m, spec in pairs:
            emit(schedule_pair(built[spec], sc, hws[m], cost_model, seed))
        return rows
    tasks = [PairTask(spec, options(spec), sc, m, cost_preset, seed) for sc, m, spec in pairs]
    finished: dict[int, PairResult] = {}

    def arrived(o) -> None:  # rows are emitted in serial order as soon as their predecessors are in
        if o.ok:
            finished[o.index] = o.value
        while len(rows) in finished:
            emit(finished.pop(len(rows)))

    outcomes = parallel_map(run_pair, tasks, jobs=jobs, address=address, on_result=arrived)
    raise_failures(outcomes, lambda i: f"{tasks[i].spec} on {pairs[i][0].id}", "(policy, scenario) runs")
    return rows


def geomean(xs: Sequence[float]) -> float:
    """:func:`scar_gym.stats.geomean` of the finite positive ``xs``: a leaderboard leaves a failed
    scenario's ratio out (``losses`` counts it) rather than refusing the table; NaN if none is left."""
    from scar_gym.stats import geomean as strict

    kept = [x for x in xs if x > 0 and math.isfinite(x)]
    return strict(kept) if kept else float("nan")


def leaderboard(rows: Sequence[Row], reps: int = DEFAULT_REPS, seed: int = 0) -> list[dict[str, Any]]:
    """Per policy: geometric-mean EDP/EDP_SCAR, best/worst ratio, wins (ratio < 1), ties, wall time; for
    learned policies also the geometric mean of their single greedy rollout (``greedy_geomean_edp_vs_scar``,
    from ``meta['greedy_edp_js']``), beside that of the best rollout kept.

    Intervals (:mod:`scar_gym.stats`, one run per policy: a bootstrap over the scenarios, ``reps``
    replicates from ``seed``): ``geomean_ci95`` ``[lo, hi]`` around the geometric mean,
    ``iqm_edp_vs_scar`` (interquartile mean) and its ``iqm_ci95``, ``losses``. ``None`` for a policy
    with a non-finite or non-positive ratio (which the geometric mean leaves out)."""
    by: dict[str, list[Row]] = {}
    for r in rows:
        by.setdefault(r.policy, []).append(r)
    out = []
    for pol, rs in by.items():
        ratios = [r.edp_vs_scar for r in rs]
        greedy = [r.meta["greedy_edp_js"] * r.edp_vs_scar / r.edp_js for r in rs
                  if "greedy_edp_js" in r.meta and r.edp_js > 0]
        out.append({
            "policy": pol, "scenarios": len(rs), "geomean_edp_vs_scar": geomean(ratios),
            "best": min(ratios), "worst": max(ratios),
            "wins": sum(1 for x in ratios if x < 1 - TIE_TOLERANCE),
            "ties": sum(1 for x in ratios if abs(x - 1) <= TIE_TOLERANCE),
            "mean_scheduler_s": sum(r.scheduler_s for r in rs) / len(rs),
            # of it, reference policies' runs inside the policy (SCAR's windows / anchor of the Window-v0
            # agents, meta["reference_s"]): the learned scheduler's own time is the difference
            "mean_reference_s": sum(float(r.meta.get("reference_s", 0.0)) for r in rs) / len(rs),
            "mean_evaluations": sum(r.num_evaluations for r in rs) / len(rs),
            "greedy_geomean_edp_vs_scar": geomean(greedy) if len(greedy) == len(rs) else None,
            **_intervals(ratios, reps, seed),
        })
    out.sort(key=lambda d: (d["geomean_edp_vs_scar"], d["policy"]))
    return out


def _intervals(ratios: Sequence[float], reps: int, seed: int) -> dict[str, Any]:
    """The leaderboard's interval columns (:func:`leaderboard`)."""
    if not all(math.isfinite(x) and x > 0 for x in ratios):
        return {"geomean_ci95": None, "iqm_edp_vs_scar": None, "iqm_ci95": None, "losses": None}
    s = summarize(ratios, reps=reps, seed=seed)
    return {"geomean_ci95": [s.geomean.lo, s.geomean.hi], "iqm_edp_vs_scar": s.iqm.point,
            "iqm_ci95": [s.iqm.lo, s.iqm.hi], "losses": s.losses}


def _ci(pair: Sequence[float] | None) -> str:
    return "-" if pair is None else f"[{pair[0]:.3f}, {pair[1]:.3f}]"


def format_leaderboard(board: Sequence[dict[str, Any]]) -> str:
    """The leaderboard as text; the 95% intervals (over the scenarios) follow the geometric mean and
    the IQM (interquartile mean) of EDP/SCAR; "of it ref s" is the part of the scheduler time spent
    in reference runs inside the policy (SCAR's windows of the Window-v0 agents)."""
    headers = ["rank", "policy", "n", "EDP/SCAR (geo)", "95% CI", "IQM", "IQM 95% CI", "greedy", "best", "worst",
               "wins", "ties", "losses", "sched s", "of it ref s", "evals"]
    rows = [[i + 1, d["policy"], d["scenarios"], f"{d['geomean_edp_vs_scar']:.3f}", _ci(d.get("geomean_ci95")),
             "-" if d.get("iqm_edp_vs_scar") is None else f"{d['iqm_edp_vs_scar']:.3f}", _ci(d.get("iqm_ci95")),
             "-" if d.get("greedy_geomean_edp_vs_scar") is None else f"{d['greedy_geomean_edp_vs_scar']:.3f}",
             f"{d['best']:.3f}", f"{d['worst']:.3f}", d["wins"], d["ties"], d.get("losses"),
             f"{d['mean_scheduler_s']:.3f}", f"{d.get('mean_reference_s', 0.0):.3f}", f"{d['mean_evaluations']:.0f}"]
            for i, d in enumerate(board)]
    return format_table(headers, rows, align="rlrrrrrrrrrrrrrr")


def format_per_scenario(rows: Sequence[Row]) -> str:
    pols = list(dict.fromkeys(r.policy for r in rows))
    scens = list(dict.fromkeys(r.scenario for r in rows))
    ratio = {(r.policy, r.scenario): r.edp_vs_scar for r in rows}
    scar = {r.scenario: r.edp_js for r in rows if r.policy == "scar"}
    table = [[s, f"{scar.get(s, float('nan')):.4g}", *(f"{ratio.get((p, s), float('nan')):.3f}" for p in pols)]
             for s in scens]
    return format_table(["scenario", "SCAR EDP J*s", *pols], table, align="l" + "r" * (len(pols) + 1))


def write_csv(rows: Sequence[Row], path: str | Path) -> None:
    fileio.write_csv(path, (r.csv_row() for r in rows), CSV_COLUMNS)


def write_json(rows: Sequence[Row], path: str | Path, suite: str, seed: int, mcm: str,
               cost_preset: str | None = None) -> None:
    from scar_gym.factory import make_cost_model
    from scar_gym.provenance import versions
    from scar_gym.suites import seed_split

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"suite": suite, "seed": seed, "mcm": mcm, "seed_split": seed_split(suite, seed),
           "cost_model": make_cost_model(preset=cost_preset).describe(),
           "leaderboard": leaderboard(rows),
           "intervals": {"confidence": 0.95, "method": "percentile bootstrap over the scenarios (scar_gym.stats)",
                         "reps": DEFAULT_REPS, "seed": 0},
           "rows": [_json_safe({**r.csv_row(), "num_evaluations": r.num_evaluations, "meta": r.meta}) for r in rows],
           "versions": versions()}
    path.write_text(json.dumps(doc, indent=1) + "\n")
