#!/usr/bin/env python
"""Sample efficiency: best EDP found vs cost-model evaluations, for the searches, SCAR and agents.

Curves mode (default): on each scenario of ``--scenarios`` (default ``sc4 sc5``) on ``--mcm``
(default ``het-sides-3x3``), ``random-search``, ``sa`` and ``ga`` (random init) and ``sa``/``ga``
warm-started from SCAR (``init="scar"``, their curve starts at SCAR's point) run with budget
``--budget`` (default 30,000) for seeds ``0 .. --seeds-1``; each run's ``meta['trace']`` (evaluations, best EDP at every
improvement) is a step function. SCAR is one point: (its evaluations on a fresh evaluator, its EDP).
Evaluations are the evaluator's unit: distinct per-model assignments scored (memo misses of a fresh
evaluator), see :mod:`scar_gym.policies.search.scoring`.

Outputs (``--out``, default ``results/search``):

* ``sample_efficiency_traces.csv``: ``scenario, policy, seed, evaluations, edp`` (every improvement);
* ``sample_efficiency.csv``: per scenario and policy, the median / min / max over seeds of the best
  EDP after ``evaluations`` on a log grid (SCAR: its single point), plus ``edp_vs_scar``;
* ``sample_efficiency.png``: one panel per scenario, EDP vs evaluations (log x).

**Agents.** Any file ``<out>/agents/<scenario>__<agent>.csv`` with columns ``evaluations,edp``
(optionally ``seed``; one row per point, e.g. the best EDP of the agent's schedule after that many
evaluator calls during training/inference) is read and drawn as an extra curve (median over seeds)
and added to ``sample_efficiency.csv`` (``--agents-dir`` changes the directory). ``--agent SPEC``
(repeatable; ``ppo`` = the shipped agent, ``ppo-3x3`` = the SCAR-anchored 3x3 one -- the shipped
agent when ``results/search/agents/*__ppo.csv`` were written --, a model zip / run dir, or
``window-ls``, the same search without a learned prior) writes those files first: the agent's greedy rollout then its policy-guided
local search with ``--agent-rollouts`` rollouts (default 64), the trace counting every evaluation it
made, its env's SCAR run and candidate pools included. ``--reuse-traces`` reads the searches' curves
from an earlier ``sample_efficiency_traces.csv`` instead of running them again (to add an agent to
the plot).

Suite mode (``--suite``): ``sa`` and ``ga`` with ``--budget`` (default 10,000) evaluations against
SCAR on every scenario of ``--scenarios`` (default sc1..sc10 with ``--suite``), one seed per search
by default; writes ``suite_<budget>.csv`` and prints EDP ratios (search / SCAR).

    .venv/bin/python scripts/sample_efficiency.py                  # curves, sc4 + sc5
    .venv/bin/python scripts/sample_efficiency.py --suite          # sa/ga at 10k vs SCAR, sc1..sc10
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scar_gym.factory import make_evaluator  # noqa: E402
from scar_gym.fileio import write_csv  # noqa: E402
from scar_gym.policies.registry import make_policy  # noqa: E402
from scar_gym.suites import suite_ids  # noqa: E402

OUT = ROOT / "results" / "search"
SEARCHES: tuple[tuple[str, str, dict], ...] = (
    ("random-search", "random-search", {}),
    ("sa", "sa", {}),
    ("ga", "ga", {}),
    ("sa+scar", "sa", {"init": "scar"}),
    ("ga+scar", "ga", {"init": "scar"}),
)
COLORS = {"random-search": "tab:gray", "sa": "tab:blue", "ga": "tab:green", "sa+scar": "tab:cyan",
          "ga+scar": "tab:olive", "scar": "tab:red", "agent:ppo": "tab:purple", "agent:window-ls": "tab:orange"}


def evaluator_factory(scenario_id: str, mcm_name: str):
    """Fresh evaluators (each with its own memo and evaluation count) sharing models and cost tables."""
    return make_evaluator(scenario_id, mcm_name).fresh


def run_scar(fresh) -> dict:
    ev = fresh()
    t = time.perf_counter()
    s = make_policy("scar").schedule(ev, seed=0)
    return {"edp": ev.evaluate(s).edp_js, "evaluations": ev.num_evaluations, "runtime_s": time.perf_counter() - t}


def run_search(fresh, policy: str, kwargs: dict, budget: int, seed: int) -> dict:
    ev = fresh()
    t = time.perf_counter()
    s = make_policy(policy, budget=budget, **kwargs).schedule(ev, seed=seed)
    ev.validate(s)
    edp = ev.evaluate(s).edp_js
    return {"edp": edp, "evaluations": s.meta["evaluations"], "trace": s.meta["trace"],
            "runtime_s": time.perf_counter() - t, "cost_model_calls": ev.num_evaluations}


def step_value(trace: list[list[float]], x: float) -> float:
    """Best EDP after ``x`` evaluations (NaN before the first scored schedule)."""
    best = float("nan")
    for u, v in trace:
        if u <= x:
            best = v
        else:
            break
    return best


def read_agents(agents_dir: Path, scenario: str) -> dict[str, list[list[float]]]:
    """``{agent: [[evaluations, edp, seed], ...]}`` from ``<agents_dir>/<scenario>__<agent>.csv``."""
    out: dict[str, list[list[float]]] = {}
    if not agents_dir.is_dir():
        return out
    for path in sorted(agents_dir.glob(f"{scenario}__*.csv")):
        agent = path.stem.split("__", 1)[1]
        with path.open() as f:
            rows = [[float(r["evaluations"]), float(r["edp"]), float(r.get("seed") or 0)] for r in csv.DictReader(f)]
        if rows:
            out[agent] = rows
    return out


def agent_label(spec: str) -> str:
    """The leaderboard's short name as a file-name part: ``runs/x/s0/best_model.zip`` -> ``ppo-s0-best_model``."""
    from scar_gym.benchmark import is_agent, policy_label
    from scar_gym.policies.registry import AGENT_POLICIES

    full = f"ppo:{spec}" if ":" not in spec and spec not in AGENT_POLICIES and is_agent(spec) else spec
    return policy_label(full).replace(":", "-").replace("/", "-")


def write_agent_traces(a) -> None:
    from scar_gym.benchmark import build_policy

    a.agents_dir.mkdir(parents=True, exist_ok=True)
    for spec in a.agent:
        pol = build_policy(spec, samples=a.agent_rollouts, improve="local")
        for sc in a.scenarios:
            ev = evaluator_factory(sc, a.mcm)()
            s = pol.schedule(ev, seed=0)
            rows = [{"evaluations": u, "edp": v, "seed": 0} for u, v in s.meta["trace"]]
            path = a.agents_dir / f"{sc}__{agent_label(spec)}.csv"
            write_csv(path, rows)
            print(f"{sc}: agent {spec}: greedy EDP {s.meta['greedy_edp_js']:.4g}, best {s.meta['best_objective']:.4g} "
                  f"after {s.meta['evaluations']} evaluations ({s.meta['rollouts']} rollouts); wrote {path}",
                  flush=True)


def reused_traces(path: Path, scenario: str) -> dict[str, list[list[list[float]]]]:
    """``{policy: [trace per seed]}`` of the searches from an earlier traces CSV."""
    by: dict[tuple[str, str], list[list[float]]] = {}
    with path.open() as f:
        for r in csv.DictReader(f):
            if r["scenario"] == scenario and not r["policy"].startswith("agent:"):
                by.setdefault((r["policy"], r["seed"]), []).append([float(r["evaluations"]), float(r["edp"])])
    out: dict[str, list[list[list[float]]]] = {}
    for (pol, _), t in by.items():
        out.setdefault(pol, []).append(sorted(t))
    return out


def curves(a) -> int:
    if a.agent:
        write_agent_traces(a)
    old_traces = a.out / "sample_efficiency_traces.csv"
    if a.reuse_traces and not old_traces.exists():
        raise SystemExit(f"--reuse-traces: {old_traces} does not exist; run once without it")
    reused = {sc: reused_traces(old_traces, sc) for sc in a.scenarios} if a.reuse_traces else {}
    traces_rows, summary_rows = [], []
    grid = np.unique(np.round(np.logspace(1, np.log10(a.budget), 40)).astype(int))
    panels = []
    for sc in a.scenarios:
        fresh = evaluator_factory(sc, a.mcm)
        scar = run_scar(fresh)
        print(f"{sc}: scar EDP {scar['edp']:.4g} J s with {scar['evaluations']} evaluations ({scar['runtime_s']:.1f}s)",
              flush=True)
        summary_rows.append({"scenario": sc, "policy": "scar", "evaluations": scar["evaluations"], "edp_median": scar["edp"],
                             "edp_min": scar["edp"], "edp_max": scar["edp"], "edp_vs_scar": 1.0, "seeds": 1})
        series: dict[str, list[list[list[float]]]] = {}
        for label, traces in reused.get(sc, {}).items():
            series[label] = traces
            for seed, t in enumerate(traces):
                for u, v in t:
                    traces_rows.append({"scenario": sc, "policy": label, "seed": seed, "evaluations": u, "edp": v})
        for label, policy, kwargs in SEARCHES if not a.reuse_traces else ():
            for seed in range(a.seeds):
                r = run_search(fresh, policy, kwargs, a.budget, seed)
                series.setdefault(label, []).append(r["trace"])
                for u, v in r["trace"]:
                    traces_rows.append({"scenario": sc, "policy": label, "seed": seed, "evaluations": u, "edp": v})
                print(f"  {label:14s} seed {seed}: EDP {r['edp']:.4g} ({r['edp'] / scar['edp']:.3f} x SCAR) "
                      f"after {r['evaluations']} evaluations, {r['runtime_s']:.1f}s", flush=True)
        for agent, rows in read_agents(a.agents_dir, sc).items():
            by_seed: dict[float, list[list[float]]] = {}
            for u, v, s in rows:
                by_seed.setdefault(s, []).append([u, v])
            series[f"agent:{agent}"] = [sorted(t) for t in by_seed.values()]
            for s, t in by_seed.items():
                for u, v in sorted(t):
                    traces_rows.append({"scenario": sc, "policy": f"agent:{agent}", "seed": s, "evaluations": u, "edp": v})
        curves_sc = {}
        for label, traces in series.items():
            # best-so-far (agent files may list any EDP per point)
            mono = [[[u, min(v for _, v in t[:i + 1])] for i, (u, _) in enumerate(t)] for t in traces]
            g = grid if not label.startswith("agent:") else np.unique([u for t in mono for u, _ in t])
            vals = np.array([[step_value(t, x) for x in g] for t in mono])
            med = np.nanmedian(np.where(np.isnan(vals), np.inf, vals), axis=0)
            lo = np.nanmin(np.where(np.isnan(vals), np.inf, vals), axis=0)
            hi = np.nanmax(np.where(np.isnan(vals), np.inf, vals), axis=0)
            curves_sc[label] = (g, med, lo, hi)
            for x, m, l_, h in zip(g, med, lo, hi):
                if np.isfinite(m):
                    summary_rows.append({"scenario": sc, "policy": label, "evaluations": int(x), "edp_median": m,
                                         "edp_min": l_, "edp_max": h if np.isfinite(h) else "",
                                         "edp_vs_scar": m / scar["edp"], "seeds": len(traces)})
        panels.append((sc, scar, curves_sc))
    write_csv(a.out / "sample_efficiency_traces.csv", traces_rows)
    write_csv(a.out / "sample_efficiency.csv", summary_rows)
    plot(panels, a.out / "sample_efficiency.png", a.mcm)
    print(f"wrote {a.out / 'sample_efficiency.csv'}, {a.out / 'sample_efficiency_traces.csv'}, "
          f"{a.out / 'sample_efficiency.png'}")
    return 0


def plot(panels, path: Path, mcm: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.4), squeeze=False)
    for ax, (sc, scar, cs) in zip(axes[0], panels):
        for label, (g, med, lo, hi) in cs.items():
            ok = np.isfinite(med)
            color = COLORS.get(label)
            ax.step(g[ok], med[ok], where="post", label=label, color=color)
            both = ok & np.isfinite(hi)
            ax.fill_between(g[both], lo[both], hi[both], step="post", alpha=0.15, color=color)
        ax.scatter([scar["evaluations"]], [scar["edp"]], color=COLORS["scar"], zorder=5, marker="*", s=120, label="scar")
        ax.axhline(scar["edp"], color=COLORS["scar"], lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("cost-model evaluations (distinct assignments)")
        ax.set_ylabel("best EDP (J s)")
        ax.set_title(f"{sc} on {mcm}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def suite(a) -> int:
    rows = []
    for sc in a.scenarios:
        fresh = evaluator_factory(sc, a.mcm)
        scar = run_scar(fresh)
        row = {"scenario": sc, "mcm": a.mcm, "budget": a.budget, "scar_edp": scar["edp"],
               "scar_evaluations": scar["evaluations"], "scar_s": round(scar["runtime_s"], 2)}
        for label, policy, kwargs in (("sa", "sa", {}), ("ga", "ga", {}), ("sa+scar", "sa", {"init": "scar"}),
                                      ("ga+scar", "ga", {"init": "scar"})):
            if label.endswith("+scar") and not a.warm:
                continue
            vals = [run_search(fresh, policy, kwargs, a.budget, seed) for seed in range(a.seeds)]
            best = min(vals, key=lambda r: r["edp"])
            row[f"{label}_edp"] = float(np.median([r["edp"] for r in vals]))
            row[f"{label}_vs_scar"] = row[f"{label}_edp"] / scar["edp"]
            row[f"{label}_best_vs_scar"] = best["edp"] / scar["edp"]
            row[f"{label}_s"] = round(float(np.mean([r["runtime_s"] for r in vals])), 2)
        rows.append(row)
        print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    name = f"suite_{a.budget}.csv"
    write_csv(a.out / name, rows)
    ratios = {k: [r[k] for r in rows] for k in rows[0] if k.endswith("_vs_scar")}
    print(f"\nEDP relative to SCAR at {a.budget} evaluations on {a.mcm} (median over {a.seeds} seed(s); < 1 is better):")
    print("scenario  " + "  ".join(f"{k[:-8]:>8s}" for k in ratios))
    for r in rows:
        print(f"{r['scenario']:8s}  " + "  ".join(f"{r[k]:8.3f}" for k in ratios))
    print("geomean   " + "  ".join(f"{float(np.exp(np.mean(np.log(v)))):8.3f}" for v in ratios.values()))
    print(f"wrote {a.out / name}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--suite", action="store_true", help="sa/ga at --budget vs SCAR on the paper suite")
    p.add_argument("--scenarios", nargs="+", default=None)
    p.add_argument("--mcm", default="het-sides-3x3")
    p.add_argument("--budget", type=int, default=None, help="default 30,000 for curves, 10,000 for --suite")
    p.add_argument("--seeds", type=int, default=None, help="3 for curves, 1 for the suite")
    p.add_argument("--warm", action="store_true", help="suite: also sa/ga warm-started from SCAR")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--agents-dir", type=Path, default=None, help="default <out>/agents")
    p.add_argument("--agent", action="append", default=[], metavar="SPEC",
                   help="curves: also run this agent (ppo = the shipped one, ppo-3x3, a model zip / run dir, or "
                        "window-ls)")
    p.add_argument("--agent-rollouts", type=int, default=64, help="rollouts of each --agent (default 64)")
    p.add_argument("--reuse-traces", action="store_true",
                   help="curves: read the searches' traces from <out>/sample_efficiency_traces.csv")
    a = p.parse_args(argv)
    a.agents_dir = a.agents_dir or a.out / "agents"
    if a.suite:
        a.scenarios = a.scenarios or list(suite_ids("paper"))
        a.seeds = a.seeds or 1
        a.budget = a.budget or 10_000
        return suite(a)
    a.budget = a.budget or 30_000
    a.scenarios = a.scenarios or ["sc4", "sc5"]
    a.seeds = a.seeds or 3
    return curves(a)


if __name__ == "__main__":
    raise SystemExit(main())
