#!/usr/bin/env python
"""EDP relative to SCAR against the rollout budget, for the rollout-search policies (agents, window-ls).

Reads ``scar-gym eval --json`` files run with a large ``--samples`` (e.g. 32). The local search is
deterministic and first-improvement, so a run with budget ``k`` is the first ``k`` rollouts of the
larger run: ``meta['trace'][k-1]`` is its best EDP. For each file and policy, prints the geometric
mean over scenarios of EDP / EDP_SCAR at budgets 1, 2, 4, ... (1 = the greedy rollout alone), and
writes a CSV and a plot (agents of one config drawn as mean and min-max band over seeds).

    .venv/bin/python scripts/rollout_budget.py results/agents/v2/budget32_paper.json \
        results/agents/v2/budget32_random10.json --out results/agents/rollout_budget
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scar_gym.fileio import write_csv  # noqa: E402


def ratios(doc: dict, budgets: list[int]) -> dict[str, list[list[float]]]:
    """``{policy: [[EDP/SCAR at each budget] per scenario]}`` from the traces."""
    scar = {r["scenario"]: r["edp_js"] for r in doc["rows"] if r["policy"] == "scar"}
    out: dict[str, list[list[float]]] = {}
    for r in doc["rows"]:
        trace = r["meta"].get("trace")
        if not trace:
            continue
        best = [v for _, v in trace]
        out.setdefault(r["policy"], []).append([best[min(k, len(best)) - 1] / scar[r["scenario"]] for k in budgets])
    return out


def curves(doc: dict, budgets: list[int]) -> dict[str, list[float]]:
    return {p: [math.exp(sum(math.log(x) for x in col) / len(col)) for col in zip(*rows)]
            for p, rows in ratios(doc, budgets).items()}


def group_of(policy: str) -> str:
    """``ppo:runs/reloc/s1/best_model.zip`` -> ``ppo:runs/reloc`` (seeds of one config together)."""
    return re.sub(r"/s\d+(/[^/]*)?$", "", policy)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("results/agents/rollout_budget"))
    ap.add_argument("--at", type=int, default=8, help="also summarise each policy at this budget (default 8)")
    a = ap.parse_args(argv)
    rows, panels = [], []
    for path in a.json:
        doc = json.loads(path.read_text())
        n_max = max(len(r["meta"].get("trace") or []) for r in doc["rows"])
        budgets = [k for k in (1, 2, 4, 8, 16, 32, 64, 128) if k <= max(n_max, 1)]
        cs = curves(doc, budgets)
        print(f"\n{path.name}: suite {doc['suite']}, geomean EDP/SCAR by rollouts (1 = greedy)")
        print(f"{'policy':42s} " + " ".join(f"{k:>6d}" for k in budgets))
        for pol, vals in sorted(cs.items()):
            print(f"{pol:42s} " + " ".join(f"{v:6.3f}" for v in vals))
            rows += [{"suite": doc["suite"], "policy": pol, "rollouts": k, "geomean_edp_vs_scar": round(v, 6)}
                     for k, v in zip(budgets, vals)]
        panels.append((doc["suite"], budgets, cs))
        at = ratios(doc, [1, a.at])
        print(f"at {a.at} rollouts: geomean, worst scenario, wins (< 1), ties (= 1); greedy geomean")
        for pol, per in sorted(at.items()):
            g = [x[0] for x in per]
            b = [x[1] for x in per]
            geo = math.exp(sum(math.log(x) for x in b) / len(b))
            ggeo = math.exp(sum(math.log(x) for x in g) / len(g))
            print(f"  {pol:42s} {geo:6.3f}  worst {max(b):6.3f}  wins {sum(x < 1 - 1e-9 for x in b):2d}  "
                  f"ties {sum(abs(x - 1) <= 1e-9 for x in b):2d}   greedy {ggeo:6.3f}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(a.out.with_suffix(".csv"), rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.2), squeeze=False)
    for ax, (suite, budgets, cs) in zip(axes[0], panels):
        groups: dict[str, list[list[float]]] = {}
        for pol, vals in cs.items():
            groups.setdefault(group_of(pol), []).append(vals)
        for g, runs in sorted(groups.items()):
            cols = list(zip(*runs))
            mean = [sum(c) / len(c) for c in cols]
            line, = ax.plot(budgets, mean, marker="o", label=f"{g} ({len(runs)} seed{'s' if len(runs) > 1 else ''})")
            if len(runs) > 1:
                ax.fill_between(budgets, [min(c) for c in cols], [max(c) for c in cols], alpha=0.15,
                                color=line.get_color())
        ax.axhline(1.0, color="tab:red", ls="--", lw=0.8, label="SCAR")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("rollouts per schedule (1 = greedy)")
        ax.set_ylabel("geomean EDP / EDP_SCAR")
        ax.set_title(f"suite {suite}, het-sides-3x3")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(a.out.with_suffix(".png"), dpi=130)
    print(f"\nwrote {a.out.with_suffix('.csv')}, {a.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
