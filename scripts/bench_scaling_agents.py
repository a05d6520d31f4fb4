#!/usr/bin/env python
"""Learned schedulers against SCAR across MCM sizes (issue 15): EDP / SCAR and scheduler time.

For every suite (default: ``paper`` on het-sides-3x3, ``large-5x5``, ``large-6x6``, ``large-8x8``;
the ``large-RxC`` suites put each scenario on its own MCM, see :mod:`scar_gym.suites`) and every
(scenario, MCM) case: SCAR (default settings, the reference) and each ``--policy`` on a fresh
evaluator, after an untimed Standalone run that builds the shared cost tables. Per policy and suite:
the geometric mean of EDP / EDP_SCAR, the mean wall and process-CPU seconds of ``policy.schedule``
(model loading excluded) and their ratio to SCAR's in the same run; for the rollout-search
policies also the part spent in reference runs inside them (``meta["reference_s"]``: SCAR's windows
and anchor of SCAR-anchored agents such as ``ppo-3x3``; 0 for ``ppo``, the size-agnostic agent). With several agents of one family (seeds),
``--group`` pools them: geometric mean and IQM of EDP / SCAR over seeds x scenarios with 95%
stratified-bootstrap intervals (:func:`scar_gym.stats.summarize`). ``--from-csv`` summarises the
rows of an earlier ``--csv`` without running anything.

    .venv/bin/python scripts/bench_scaling_agents.py --policy ppo --suite large-6x6
    .venv/bin/python scripts/bench_scaling_agents.py --policy ppo:runs/any_size_s0 \\
        --policy ppo:runs/any_size_s1 --group ppo: --csv out.csv
    .venv/bin/python scripts/bench_scaling_agents.py --from-csv out.csv --group ppo:
    .venv/bin/python scripts/bench_scaling_agents.py --policy window-ls-any@window_sets=3,lookahead=false

``NAME@key=value,...`` gives one policy its own settings (an ablation in one run).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scar_gym.errors import ConfigError  # noqa: E402
from scar_gym.benchmark import build_policy, geomean, policy_label, schedule_pair, takes_rollout_options  # noqa: E402
from scar_gym.factory import make_cost_model, make_evaluator  # noqa: E402
from scar_gym.stats import format_interval, summarize  # noqa: E402
from scar_gym.policies.registry import make_policy  # noqa: E402
from scar_gym.presets import load_mcm  # noqa: E402
from scar_gym.envs.rollout_search import ANY_SIZE_SEARCH  # noqa: E402
from scar_gym.suites import suite_mcms, suite_scenarios  # noqa: E402

DEFAULT_SUITES = ("paper", "large-5x5", "large-6x6", "large-8x8")
COLUMNS = ("suite", "policy", "scenario", "mcm", "edp_js", "edp_vs_scar", "wall_s", "cpu_s", "reference_s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", action="append", default=None, help="default: ppo, the shipped size-agnostic agent (repeatable)")
    ap.add_argument("--suite", action="append", default=None, help=f"default: {', '.join(DEFAULT_SUITES)}")
    ap.add_argument("--mcm", default="het-sides-3x3", help="MCM of the suites that do not fix their own")
    ap.add_argument("--samples", type=int, default=None,
                    help="rollouts of the rollout-search policies (default: each policy's own: "
                         f"{ANY_SIZE_SEARCH['samples']} for ppo (= ppo-any) and window-ls-any, 8 for ppo-3x3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--group", action="append", default=[], metavar="PREFIX",
                    help="also summarise every policy whose spec starts with PREFIX (e.g. several seeds)")
    ap.add_argument("--scar-from", default=None, metavar="CSV",
                    help="reuse SCAR's rows of an earlier --csv (same suites and seed) instead of running SCAR again "
                         "(its times are then those of that run)")
    ap.add_argument("--csv", default=None, help="one row per (suite, policy, scenario)")
    ap.add_argument("--json", default=None, help="the summary table")
    ap.add_argument("--from-csv", default=None, metavar="CSV", help="summarise an earlier --csv; run nothing")
    a = ap.parse_args(argv)
    if a.from_csv:
        rows = _read_rows(a.from_csv)
        print_summary(summarise(rows, list(dict.fromkeys(r["policy"] for r in rows if r["policy"] != "scar")),
                                a.group))
        return 0
    specs = a.policy or ["ppo"]
    policies = {"scar": make_policy("scar")}
    for spec in specs:
        name, options = parse_spec(spec)
        given = {"samples": a.samples} if a.samples is not None and takes_rollout_options(name) else {}
        policies[spec] = build_policy(name, **{**given, **options})
    warm = make_policy("standalone")
    cm = make_cost_model()
    rows: list[dict] = []
    scar_rows: dict[tuple, dict] = {}
    if a.scar_from:
        scar_rows = {(r["suite"], r["scenario"], r["mcm"]): r for r in _read_rows(a.scar_from) if r["policy"] == "scar"}
    for suite in a.suite or DEFAULT_SUITES:
        scens = suite_scenarios(suite, a.seed)
        mcms = suite_mcms(suite, a.seed) or [a.mcm] * len(scens)
        for sc, mcm_name in zip(scens, mcms):
            hw = load_mcm(mcm_name)
            warm.schedule(make_evaluator(sc, hw, cost_model=cm), seed=a.seed)
            scar_edp = None
            for spec, pol in policies.items():
                known = scar_rows.get((suite, sc.id, mcm_name)) if spec == "scar" else None
                if known is not None:
                    scar_edp = known["edp_js"]
                    rows.append(known)
                    continue
                try:
                    res = schedule_pair(pol, sc, hw, cm, a.seed)
                except ConfigError as e:  # an agent that cannot run on this MCM: its one-line error
                    print(f"{suite:10s} {sc.id:10s} {mcm_name:14s} {policy_label(spec):28s} skipped: {e}", flush=True)
                    continue
                wall, cpu = res.scheduler_s, res.scheduler_cpu_s
                scar_edp = res.edp_js if spec == "scar" else scar_edp
                row = {"suite": suite, "policy": spec, "scenario": sc.id, "mcm": mcm_name, "edp_js": res.edp_js,
                       "edp_vs_scar": res.edp_js / scar_edp, "wall_s": wall, "cpu_s": cpu,
                       "reference_s": float(res.meta.get("reference_s", 0.0))}
                rows.append(row)
                print(f"{suite:10s} {sc.id:10s} {mcm_name:14s} {policy_label(spec):28s} x{row['edp_vs_scar']:.3f} "
                      f"wall {wall:6.2f} s cpu {cpu:6.2f} s", flush=True)
    summary = summarise(rows, specs, a.group)
    print_summary(summary)
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(rows)
        print(f"wrote {a.csv}")
    if a.json:
        Path(a.json).write_text(json.dumps({"samples": a.samples, "seed": a.seed, "summary": summary}, indent=1) + "\n")
        print(f"wrote {a.json}")
    return 0


def parse_spec(spec: str) -> tuple[str, dict]:
    """``NAME[@key=value,...]`` -> (NAME, options), values read as YAML (``window-ls-any@window_sets=3,
    lookahead=false``): one policy's settings in a run that compares several."""
    import yaml

    name, _, rest = spec.partition("@")
    options = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ConfigError("--policy", f"bad option {item!r} in {spec!r}", "write NAME@key=value,key=value")
        options[key.strip()] = yaml.safe_load(value)
    return name, options


def summarise(rows: list[dict], specs: list[str], groups: list[str]) -> list[dict]:
    out = []
    for suite in dict.fromkeys(r["suite"] for r in rows):
        rs = [r for r in rows if r["suite"] == suite]
        scar = [r for r in rs if r["policy"] == "scar"]
        scar_wall = statistics.mean(r["wall_s"] for r in scar)
        scar_cpu = statistics.mean(r["cpu_s"] for r in scar)
        per = {}
        for spec in ["scar", *specs]:
            mine = [r for r in rs if r["policy"] == spec]
            if not mine:
                continue
            wall = statistics.mean(r["wall_s"] for r in mine)
            cpu = statistics.mean(r["cpu_s"] for r in mine)
            per[spec] = {"suite": suite, "policy": policy_label(spec), "n": len(mine),
                         "geomean_edp_vs_scar": geomean([r["edp_vs_scar"] for r in mine]),
                         "worst": max(r["edp_vs_scar"] for r in mine),
                         "mean_wall_s": wall, "mean_cpu_s": cpu, "wall_vs_scar": wall / scar_wall,
                         "cpu_vs_scar": cpu / scar_cpu,
                         "mean_reference_s": statistics.mean(r["reference_s"] for r in mine)}
            out.append(per[spec])
        for prefix in groups:
            members = [s for s in specs if s.startswith(prefix) and s in per]
            if len(members) > 1:
                cases = sorted({(r["scenario"], r["mcm"]) for r in rs if r["policy"] in members})
                ratio = {(r["policy"], r["scenario"], r["mcm"]): r["edp_vs_scar"] for r in rs}
                # seeds x cases; a case one seed skipped leaves the matrix incomplete: no pooled line then
                if any((m, *c) not in ratio for m in members for c in cases):
                    continue
                summary = summarize([[ratio[(m, *c)] for c in cases] for m in members])
                g = [per[m] for m in members]
                out.append({"suite": suite, "policy": f"{prefix} ({len(members)} seeds)",
                            "n": f"{len(members)}x{len(cases)}",
                            "geomean_edp_vs_scar": summary.geomean.point, "ci95": format_interval(summary.geomean),
                            "iqm": format_interval(summary.iqm), "wtl": f"{summary.wins}/{summary.ties}/{summary.losses}",
                            "worst": max(m["worst"] for m in g),
                            "mean_wall_s": statistics.mean(m["mean_wall_s"] for m in g),
                            "mean_cpu_s": statistics.mean(m["mean_cpu_s"] for m in g),
                            "wall_vs_scar": statistics.mean(m["wall_vs_scar"] for m in g),
                            "cpu_vs_scar": statistics.mean(m["cpu_vs_scar"] for m in g),
                            "mean_reference_s": statistics.mean(m["mean_reference_s"] for m in g)})
    return out


def print_summary(summary: list[dict]) -> None:
    print("\n| suite | policy | n | EDP/SCAR (geo) | worst | wall s | CPU s | wall / SCAR | CPU / SCAR | ref s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for d in summary:
        geo = (f"{d['ci95']} (IQM {d['iqm']}, W/T/L {d['wtl']})" if "ci95" in d  # point [95% CI]
               else f"{d['geomean_edp_vs_scar']:.3f}")
        print(f"| {d['suite']} | {d['policy']} | {d['n']} | {geo} | {d['worst']:.3f} | "
              f"{d['mean_wall_s']:.2f} | {d['mean_cpu_s']:.2f} | {d['wall_vs_scar']:.2f} | {d['cpu_vs_scar']:.2f} | "
              f"{d['mean_reference_s']:.2f} |")
    if any(math.isnan(d["geomean_edp_vs_scar"]) for d in summary):
        print("(nan: a policy produced no positive EDP)")


def _read_rows(path: str) -> list[dict]:
    """The rows of an earlier ``--csv``, numbers as floats."""
    with open(path, newline="") as f:
        return [{**r, **{k: float(r[k]) for k in ("edp_js", "edp_vs_scar", "wall_s", "cpu_s", "reference_s")}}
                for r in csv.DictReader(f)]


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except ConfigError as e:  # bad arguments: one line, not a traceback
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
