#!/usr/bin/env python
"""Learning curves: EDP / EDP_SCAR on the validation scenarios vs env steps, mean and spread over seeds.

Reads ``eval/edp_vs_ref.csv`` of each run directory (written by ``scar-gym train`` after every
evaluation). Runs are grouped by their config name (``config.yaml: name``) -- the seeds of one
config form one curve: the geometric mean over seeds, with a band from the min to the max seed.

    python scripts/learning_curve.py runs/ppo_mask/*/ -o results/agents/learning_curve.png
    python scripts/learning_curve.py RUN_A RUN_B --csv curve.csv   # also the aggregated numbers

Headless (matplotlib Agg). A run without evaluations yet is skipped with a note.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import defaultdict
from pathlib import Path

import yaml


def read_run(run: Path) -> tuple[str, list[tuple[int, float]]] | None:
    f = run / "eval" / "edp_vs_ref.csv"
    if not f.exists():
        print(f"skip {run}: no eval/edp_vs_ref.csv", file=sys.stderr)
        return None
    name = run.name
    cfg = run / "config.yaml"
    if cfg.exists():
        data = yaml.safe_load(cfg.read_text()) or {}
        name = f"{data.get('name') or run.name} ({(data.get('policy') or {}).get('extractor', 'mlp')})"
    with f.open() as fh:
        pts = [(int(r["timesteps"]), float(r["geomean_edp_vs_ref"])) for r in csv.DictReader(fh)]
    return name, pts


def aggregate(curves: list[list[tuple[int, float]]]) -> list[tuple[int, float, float, float, int]]:
    """(steps, geomean over seeds, min, max, n seeds) at every step some seed evaluated.

    Seeds evaluated at the same step counts (same config) line up exactly; otherwise each seed's
    last value at or before the step is used.
    """
    steps = sorted({s for c in curves for s, _ in c})
    out = []
    for st in steps:
        vals = []
        for c in curves:
            prior = [v for s, v in c if s <= st]
            if prior:
                vals.append(prior[-1])
        if vals:
            g = math.exp(sum(math.log(v) for v in vals) / len(vals))
            out.append((st, g, min(vals), max(vals), len(vals)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="run directories")
    ap.add_argument("-o", "--out", type=Path, default=Path("results/agents/learning_curve.png"))
    ap.add_argument("--csv", type=Path, default=None, help="write the aggregated curves")
    ap.add_argument("--title", default="MaskablePPO: validation EDP relative to SCAR")
    args = ap.parse_args(argv)

    groups: dict[str, list[list[tuple[int, float]]]] = defaultdict(list)
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
        xs = [a[0] for a in agg]
        ax.plot(xs, [a[1] for a in agg], marker="o", ms=3, label=f"{name}, {len(curves)} seed(s)")
        ax.fill_between(xs, [a[2] for a in agg], [a[3] for a in agg], alpha=0.2)
        rows += [{"config": name, "timesteps": a[0], "geomean": a[1], "min": a[2], "max": a[3], "seeds": a[4]}
                 for a in agg]
    ax.axhline(1.0, color="k", lw=1, ls="--", label="SCAR")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("EDP / EDP_SCAR (geometric mean, validation)")
    ax.set_yscale("log")
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
