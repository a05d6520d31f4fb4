#!/usr/bin/env python
"""Learning curves: EDP / EDP_SCAR on the validation scenarios vs env steps, with 95% bootstrap bands.

Reads ``eval/edp_vs_ref.csv`` of each run directory (written by ``scar-gym train`` after every
evaluation), or such a CSV itself (``results/agents/benchmark/logs/reloc_s0_edp_vs_ref.csv``: the
config is the name before ``_s<seed>_edp_vs_ref.csv``); rows of a run resumed from an earlier
checkpoint replace the rows they train again. Runs are grouped by their config name
(``config.yaml: name``) -- the seeds of one config form one curve: at each step, the geometric mean
over every (seed, validation scenario) ratio, and a band that is its 95% stratified-bootstrap interval
(:mod:`scar_gym.stats`: seeds resampled within each scenario; over the scenarios for one seed), not
the min-max of the seeds. The CSV keeps the seeds' min and max beside the interval.

    python scripts/learning_curve.py runs/ppo_mask/*/ -o results/agents/learning_curve.png
    python scripts/learning_curve.py RUN_A RUN_B --csv curve.csv   # also the aggregated numbers

Headless (matplotlib Agg). A run without evaluations yet is skipped with a note.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

from scar_gym.stats import geomean, stratified_bootstrap_ci


#: One evaluation of one run: (env steps, geometric mean over the validation scenarios, per-scenario ratios).
Point = tuple[int, float, dict[str, float]]


def read_run(run: Path) -> tuple[str, list[Point]] | None:
    if run.is_file():
        f, name = run, re.sub(r"(_s\d+)?_edp_vs_ref$", "", run.stem)
    else:
        f, name = run / "eval" / "edp_vs_ref.csv", run.name
    if not f.exists():
        print(f"skip {run}: no eval/edp_vs_ref.csv", file=sys.stderr)
        return None
    cfg = run / "config.yaml"
    if cfg.exists():
        data = yaml.safe_load(cfg.read_text()) or {}
        name = f"{data.get('name') or run.name} ({(data.get('policy') or {}).get('extractor', 'mlp')})"
    pts: list[Point] = []
    with f.open() as fh:
        for r in csv.DictReader(fh):
            step = int(r["timesteps"])
            while pts and pts[-1][0] >= step:  # a run resumed from an earlier checkpoint: its rows replace those
                pts.pop()
            pts.append((step, float(r["geomean_edp_vs_ref"]), json.loads(r.get("per_scenario") or "{}")))
    return name, pts


def aggregate(curves: list[list[Point]], reps: int = 2000) -> list[dict[str, float]]:
    """Per step some seed evaluated: geometric mean over (seed, scenario), its 95% bootstrap interval,
    the seeds' min and max (of their own geometric means) and the number of seeds.

    Seeds evaluated at the same step counts (same config) line up exactly; otherwise each seed's
    last value at or before the step is used. The interval needs every seed's per-scenario ratios
    on the same scenarios; without them (older CSVs) it falls back to the seeds' geometric means
    as one score each.
    """
    steps = sorted({s for c in curves for s, _, _ in c})
    out = []
    for st in steps:
        latest = [[p for p in c if p[0] <= st][-1] for c in curves if c[0][0] <= st]
        if not latest:
            continue
        keys = set(latest[0][2])
        if keys and all(set(p[2]) == keys for p in latest):
            order = sorted(keys)
            scores = np.array([[p[2][k] for k in order] for p in latest])
        else:
            scores = np.array([[p[1] for p in latest]])
        iv = stratified_bootstrap_ci(scores, geomean, reps=reps)
        seeds = [p[1] for p in latest]
        out.append({"timesteps": st, "geomean": iv.point, "ci_lo": iv.lo, "ci_hi": iv.hi, "min": min(seeds),
                    "max": max(seeds), "seeds": len(seeds)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="run directories")
    ap.add_argument("-o", "--out", type=Path, default=Path("results/agents/learning_curve.png"))
    ap.add_argument("--csv", type=Path, default=None, help="write the aggregated curves")
    ap.add_argument("--title", default="MaskablePPO: validation EDP relative to SCAR")
    args = ap.parse_args(argv)

    groups: dict[str, list[list[Point]]] = defaultdict(list)
    for run in args.runs:
        got = read_run(run)
        if got and got[1]:
            groups[got[0]].append(got[1])
    if not groups:
        print("no evaluations found", file=sys.stderr)
        return 1

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    rows = []
    for name, curves in sorted(groups.items()):
        agg = aggregate(curves)
        xs = [a["timesteps"] for a in agg]
        ax.plot(xs, [a["geomean"] for a in agg], marker="o", ms=3, label=f"{name}, {len(curves)} seed(s)")
        ax.fill_between(xs, [a["ci_lo"] for a in agg], [a["ci_hi"] for a in agg], alpha=0.2)
        rows += [{"config": name, **a} for a in agg]
    ax.axhline(1.0, color="k", lw=1, ls="--", label="SCAR")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("EDP / EDP_SCAR (geometric mean, validation; 95% CI)")
    ax.ticklabel_format(axis="y", useOffset=False)  # ratios stay within a few % of 1: a linear axis reads best
    ax.set_title(args.title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    if args.csv:
        with args.csv.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
