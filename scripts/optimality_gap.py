#!/usr/bin/env python
"""Optimality gap of SCAR and the budgeted searches on small random instances.

For each of ``--instances`` seeded random instances (2x2 or 2x3 MCMs with a random N/S layout; 2-3
models of 3 to 12 (2x2) or 7 (2x3) layers -- up to 16 / 10, then fewer windows, then fewer models
for a draw that would be too easy -- each a random layer chain or a slice of a zoo model;
random batches; ``n_splits`` 0..2; redrawn until exhaustive enumeration needs between
``--min-assignments`` (2,000: smaller spaces would be covered by the budgets) and
``--max-assignments`` (40,000) cost-model evaluations):

* the exact optimum with the MCM-Reconfig windows (:func:`exhaustive_optimum`);
* ``scar`` with one boundary set (``boundary_candidates=1``: the same windows, so its gap is >= 0)
  and with its defaults (jittered boundary candidates; its gap is measured against the optimum over
  *its own* windows, computed the same way, and also reported against the reconfig-window optimum);
* ``random-search``, ``sa`` and ``ga`` at each budget of ``--budgets`` (cost-model evaluations, i.e.
  distinct assignments) with seeds ``0 .. --seeds-1``.

gap = objective / optimum - 1. Rows go to ``results/search/optimality_gap.csv``, the summary table
(median, worst, mean gap and the share of runs that found the optimum, per policy and budget) to
``results/search/optimality_gap_summary.csv`` and stdout.

    .venv/bin/python scripts/optimality_gap.py            # 24 instances, budgets 100 300 1000
    .venv/bin/python scripts/optimality_gap.py --scaling  # exhaustive runtime vs instance size
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scar_gym.factory import make_cost_model, make_evaluator  # noqa: E402
from scar_gym.fileio import write_csv  # noqa: E402
from scar_gym.hardware import DOMAIN_PES, grid_mcm  # noqa: E402
from scar_gym.policies.registry import make_policy  # noqa: E402
from scar_gym.policies.search.exhaustive import exhaustive_optimum  # noqa: E402
from scar_gym.policies.search.genome import SearchSpace, window_ranges  # noqa: E402
from scar_gym.policies.windows import mcm_reconfig  # noqa: E402
from scar_gym.scenarios import ModelSet  # noqa: E402
from scar_gym.workloads.layers import conv, dwconv, gemm  # noqa: E402
from scar_gym.workloads.model import Model, ModelBuilder, chain  # noqa: E402

OUT = ROOT / "results" / "search"
ZOO = {"datacenter": ("gpt-l", "bert-base", "resnet50", "unet", "googlenet"),
       "arvr": ("d2go", "midas", "emformer", "hand-tracking", "eyecod", "sparse-to-dense", "hrvit")}
LAYOUTS = {"2x2": ("NS/SN", "NN/SS", "NS/NS", "NS/SS", "NN/NS"), "2x3": ("NSN/NSN", "NSN/SNS", "NSS/NNS", "SNS/SNS")}


# -- instances --------------------------------------------------------------------------------------
def random_chain(rng: np.random.Generator, name: str, num_layers: int, domain: str) -> Model:
    """A chain of random conv / depthwise / GEMM layers with consistent shapes."""
    big = domain == "datacenter"
    h = int(rng.choice([28, 56, 112] if big else [16, 32, 64]))
    c = int(rng.choice([3, 16, 32]))
    layers = []
    for i in range(num_layers):
        kind = rng.choice(["conv", "dw", "gemm"], p=[0.5, 0.15, 0.35])
        ln = f"{name}.{i}"
        if kind == "conv":
            k = int(rng.choice([16, 32, 64, 128] if big else [8, 16, 32, 64]))
            stride = int(rng.choice([1, 2])) if h >= 8 else 1
            layers.append(conv(ln, c, k, h, h, int(rng.choice([1, 3])), stride))
            h, c = (h + stride - 1) // stride, k
        elif kind == "dw" and h >= 4:
            layers.append(dwconv(ln, c, h, h, 3))
        else:
            out = int(rng.choice([256, 512, 1024] if big else [64, 128, 256]))
            tokens = int(rng.choice([1, 64, 128]))
            layers.append(gemm(ln, tokens, c * 4 if tokens > 1 else c * h * h, out))
            c, h = max(1, out // 4), 2 if tokens > 1 else 1
    return chain(name, layers, "random chain")


def zoo_slice(model: Model, start: int, num_layers: int, name: str) -> Model:
    """Layers ``[start, start + num_layers)`` of a zoo model with the edges among them; a layer whose
    producers were cut off reads its input from DRAM."""
    keep = model.layers[start:start + num_layers]
    names = {layer.name for layer in keep}
    b = ModelBuilder(name, f"layers {start}..{start + num_layers - 1} of {model.name}")
    for layer in keep:
        preds = [p for p in model.graph.predecessors(layer.name) if p in names]
        b.add(layer, *preds)
    return b.build()


def random_instance(seed: int, max_assignments: int, min_assignments: int = 0):
    from scar_gym.workloads.zoo import get_model

    rng = np.random.default_rng(seed)
    domain = str(rng.choice(["datacenter", "arvr"]))
    shape = str(rng.choice(["2x2", "2x3"]))
    layout = str(rng.choice(LAYOUTS[shape]))
    mcm = grid_mcm(layout, name=f"{shape}:{layout}", num_pes=DOMAIN_PES[domain])
    n_models = int(rng.integers(2, 4))
    n_splits = int(rng.integers(0, 3))
    max_layers = 12 if shape == "2x2" else 7
    cost_model = make_cost_model()
    for attempt in range(1000):
        if attempt == 999:
            raise RuntimeError(f"instance {seed}: no draw within [{min_assignments}, {max_assignments}] assignments")
        models, batches = [], []
        for i in range(n_models):
            L = int(rng.integers(3, max_layers + 1))
            if rng.random() < 0.6:
                zid = str(rng.choice(ZOO[domain]))
                full = get_model(zid)
                L = min(L, full.num_layers)
                start = int(rng.integers(0, full.num_layers - L + 1))
                models.append(zoo_slice(full, start, L, f"{zid}[{start}:{start + L}]"))
            else:
                models.append(random_chain(rng, f"chain{i}", L, domain))
            batches.append(int(rng.choice([1, 2, 4, 8] if domain == "datacenter" else [3, 10, 15, 30])))
        ev = make_evaluator(ModelSet(f"instance-{seed}", models, batches, domain), mcm, cost_model=cost_model)
        windows = mcm_reconfig(ev, n_splits)
        space = SearchSpace(mcm.num_chiplets, windows, ev.num_layers)
        need = space.assignments_to_enumerate()
        if need < min_assignments:  # too easy: the budgets would cover the whole space
            if max_layers < (16 if shape == "2x2" else 10):
                max_layers += 1
            elif n_splits > 0:
                n_splits -= 1
            elif n_models > 2:
                n_models -= 1
            continue
        if need <= max_assignments:
            # every policy gets a fresh evaluator (so its evaluation count is its own), sharing cost tables
            return ev.fresh, windows, space, n_splits, domain
        max_layers = max(3, max_layers - 1)


# -- one instance -----------------------------------------------------------------------------------
def run_instance(args) -> list[dict]:
    seed, budgets, seeds, max_assignments, min_assignments = args
    fresh, windows, space, n_splits, domain = random_instance(seed, max_assignments, min_assignments)
    ev = fresh()
    base = {"instance": seed, "domain": domain, "mcm": ev.mcm.name, "models": " + ".join(m.name for m in ev.models),
            "layers": "+".join(str(n) for n in ev.num_layers), "batches": "+".join(map(str, ev.batches)),
            "n_splits": n_splits, "windows": space.num_windows, "space_size": f"{space.size():.3g}",
            "enumeration_evals": space.assignments_to_enumerate()}
    t = time.perf_counter()
    opt = exhaustive_optimum(ev, windows, max_assignments=None)
    t_opt = time.perf_counter() - t
    base.update(optimum=opt.value, optimum_s=round(t_opt, 3))
    rows = [{**base, "policy": "exhaustive", "budget": "", "seed": "", "edp": opt.value, "gap": 0.0,
             "gap_own_windows": 0.0, "evaluations": opt.evaluations, "runtime_s": round(t_opt, 3)}]
    own_opt: dict[tuple, float] = {tuple(map(lambda w: tuple(sorted(w.items())), window_ranges(windows))): opt.value}

    def optimum_for(schedule) -> float:
        key = tuple(tuple(sorted(w.items())) for w in window_ranges(schedule))
        if key not in own_opt:
            own_opt[key] = exhaustive_optimum(ev, schedule, max_assignments=None).value
        return own_opt[key]

    for label, kwargs in (("scar", {}), ("scar-1bset", {"boundary_candidates": 1})):
        ev1 = fresh()
        t = time.perf_counter()
        s = make_policy("scar", n_splits=n_splits, **kwargs).schedule(ev1, seed=0)
        dt = time.perf_counter() - t
        v = ev1.evaluate(s).edp_js
        evals = ev1.num_evaluations
        rows.append({**base, "policy": label, "budget": "", "seed": 0, "edp": v, "gap": _gap(v, opt.value),
                     "gap_own_windows": _gap(v, optimum_for(s)), "evaluations": evals, "runtime_s": round(dt, 3)})
    for name in ("random-search", "sa", "ga"):
        for budget in budgets:
            for sd in range(seeds):
                t = time.perf_counter()
                ev1 = fresh()
                s = make_policy(name, budget=budget, windows=windows).schedule(ev1, seed=sd)
                dt = time.perf_counter() - t
                ev1.validate(s)
                assert ev1.num_evaluations <= budget
                v = ev1.evaluate(s).edp_js
                rows.append({**base, "policy": name, "budget": budget, "seed": sd, "edp": v, "gap": _gap(v, opt.value),
                             "gap_own_windows": _gap(v, opt.value), "evaluations": s.meta["evaluations"],
                             "runtime_s": round(dt, 3)})
    return rows


def _gap(value: float, optimum: float) -> float:
    return round(value / optimum - 1, 12)  # drop floating-point noise (+-1e-16) of equal schedules


def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["policy"] == "exhaustive":
            continue
        groups.setdefault((r["policy"], r["budget"]), []).append(r)
    out = []
    for (policy, budget), rs in groups.items():
        gaps = np.array([r["gap_own_windows"] if policy.startswith("scar") else r["gap"] for r in rs])
        gaps_fixed = np.array([r["gap"] for r in rs])
        out.append({"policy": policy, "budget": budget, "runs": len(rs),
                    "median_gap": float(np.median(gaps)), "worst_gap": float(np.max(gaps)),
                    "mean_gap": float(np.mean(gaps)), "optimal_share": float(np.mean(gaps <= 1e-9)),
                    "within_1pct_share": float(np.mean(gaps <= 0.01)),
                    "median_gap_vs_reconfig_opt": float(np.median(gaps_fixed)),
                    "worst_gap_vs_reconfig_opt": float(np.max(gaps_fixed)),
                    "median_evaluations": float(np.median([r["evaluations"] for r in rs]))})
    order = {"scar": 0, "scar-1bset": 1, "random-search": 2, "sa": 3, "ga": 4}
    out.sort(key=lambda r: (order.get(r["policy"], 9), r["budget"] if r["budget"] != "" else 0))
    return out


# -- how large an instance the exhaustive search handles ---------------------------------------------
SCALING_FAMILIES = (  # (label, layout, models, layers per model to try), one window (n_splits = 0)
    ("2x2, 2 models", "NS/SN", 2, (10, 20, 40, 60, 80, 100, 120)),
    ("2x2, 3 models", "NS/SN", 3, (20, 50, 100, 200, 300)),
    ("2x3, 2 models", "NSN/SNS", 2, (6, 8, 10, 12, 14)),
    ("2x3, 3 models", "NSN/SNS", 3, (6, 8, 10, 12, 14)),
    ("3x3 het-sides, 2 models", "NSN/NSN/NSN", 2, (4, 5, 6, 7)),
    ("3x3 het-sides, 3 models", "NSN/NSN/NSN", 3, (4, 5, 6, 7)),
)


def scaling(out: Path, limit_s: float = 60.0) -> None:
    """Exhaustive runtime on random chains of growing length (one window); a size whose predicted
    time (assignments x the family's measured rate) exceeds ``2 x limit_s`` is not run."""
    rows = []
    for label, layout, n_models, lengths in SCALING_FAMILIES:
        rate = None  # seconds per assignment, measured on the previous size
        for L in lengths:
            rng = np.random.default_rng(L)
            models = [random_chain(rng, f"m{i}", L, "arvr") for i in range(n_models)]
            ev = make_evaluator(ModelSet(label, models, [4] * n_models, "arvr"), grid_mcm(layout, num_pes=256))
            windows = [{m: (0, L) for m in range(n_models)}]
            need = SearchSpace(ev.mcm.num_chiplets, windows, ev.num_layers).assignments_to_enumerate()
            if rate is not None and need * rate > 2 * limit_s:
                rows.append({"family": label, "layers_per_model": L, "assignments": need, "schedules": "",
                             "seconds": f"> {2 * limit_s:.0f} (predicted {need * rate:.0f})", "within_limit": False})
                print(f"{label:26s} L={L:3d}: {need:>9,} assignments, predicted {need * rate:.0f}s: skipped", flush=True)
                break
            t = time.perf_counter()
            res = exhaustive_optimum(ev, windows, max_assignments=None)
            dt = time.perf_counter() - t
            rate = dt / need
            rows.append({"family": label, "layers_per_model": L, "assignments": need,
                         "schedules": f"{res.space_size:.3g}", "seconds": round(dt, 2), "within_limit": dt <= limit_s})
            print(f"{label:26s} L={L:3d}: {need:>9,} assignments, {res.space_size:.3g} schedules, {dt:7.2f}s", flush=True)
            if dt > limit_s:
                break
    write_csv(out / "exhaustive_scaling.csv", rows)
    print(f"wrote {out / 'exhaustive_scaling.csv'}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--instances", type=int, default=24)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--budgets", type=int, nargs="+", default=[100, 300, 1000])
    p.add_argument("--seeds", type=int, default=3, help="search seeds per (instance, budget)")
    p.add_argument("--max-assignments", type=int, default=40_000, help="exhaustive size limit per instance")
    p.add_argument("--min-assignments", type=int, default=2_000,
                   help="redraw instances whose enumeration needs fewer evaluations (too easy for the budgets)")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--scaling", action="store_true",
                   help="instead: time the exhaustive search on growing instances (exhaustive_scaling.csv)")
    a = p.parse_args(argv)
    if a.scaling:
        scaling(a.out)
        return 0
    tasks = [(a.first_seed + i, a.budgets, a.seeds, a.max_assignments, a.min_assignments) for i in range(a.instances)]
    t0 = time.perf_counter()
    rows: list[dict] = []
    if a.jobs > 1:
        with ProcessPoolExecutor(a.jobs) as pool:
            for rs in pool.map(run_instance, tasks):
                rows.extend(rs)
                print(f"instance {rs[0]['instance']}: {rs[0]['mcm']} {rs[0]['models']} done", flush=True)
    else:
        for t in tasks:
            rs = run_instance(t)
            rows.extend(rs)
            print(f"instance {rs[0]['instance']}: {rs[0]['mcm']} {rs[0]['models']} layers {rs[0]['layers']} "
                  f"optimum {rs[0]['optimum']:.4g} in {rs[0]['optimum_s']}s", flush=True)
    summary = summarise(rows)
    write_csv(a.out / "optimality_gap.csv", rows)
    write_csv(a.out / "optimality_gap_summary.csv", summary)
    inst = [r for r in rows if r["policy"] == "exhaustive"]
    print(f"\n{len(inst)} instances; exhaustive: median {np.median([r['optimum_s'] for r in inst]):.2f}s, "
          f"max {max(r['optimum_s'] for r in inst):.2f}s, max {max(r['enumeration_evals'] for r in inst)} evaluations")
    print(f"{'policy':14s} {'budget':>6s} {'runs':>5s} {'median gap':>11s} {'worst gap':>10s} {'mean gap':>9s} "
          f"{'optimal':>8s} {'<=1%':>5s} {'med evals':>9s}")
    for s in summary:
        print(f"{s['policy']:14s} {str(s['budget']):>6s} {s['runs']:5d} {100 * s['median_gap']:10.2f}% "
              f"{100 * s['worst_gap']:9.2f}% {100 * s['mean_gap']:8.2f}% {100 * s['optimal_share']:7.0f}% "
              f"{100 * s['within_1pct_share']:4.0f}% "
              f"{s['median_evaluations']:9.0f}")
    print("(scar rows: gap against the optimum over the windows SCAR chose; see the CSV for the gap against "
          "the MCM-Reconfig-window optimum)")
    print(f"total {time.perf_counter() - t0:.0f}s; wrote {a.out / 'optimality_gap.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
