#!/usr/bin/env python
"""Regenerate the SCAR reproduction into ``results/``: Tables IV/V beside the paper's, the 6x6
experiment, the n_splits sweep, plots, and ``results/README.md`` with the tables in Markdown and
the measured scheduler runtimes.

    .venv/bin/python scripts/reproduce_tables.py [--out results] [--seed 0] [--skip-6x6]

Everything runs on the shared evaluator with the default cost model; the whole run takes a few
minutes on one core.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

from scar_gym import reproduce as rp
from scar_gym.costmodel.tables import CostModel
from scar_gym.factory import make_cost_model


def md_table(headers, rows) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def g(v, d=3):
    return "-" if v is None else f"{v:.{d}g}"


def domain_section(rows, domain: str) -> str:
    scs = list(dict.fromkeys(r.scenario for r in rows))
    strats = list(dict.fromkeys(r.strategy for r in rows))
    by = {(r.scenario, r.strategy): r for r in rows}
    paper = rp.paper_results()
    parts = []
    if domain == "datacenter":
        parts.append("Latency (s), ours / paper:\n")
        parts.append(md_table(["strategy"] + scs, [[st] + [f"{g(by[sc, st].latency_s)} / {g(by[sc, st].paper_latency_s)}"
                                                        for sc in scs] for st in strats]))
        parts.append("\nEDP (J s), ours / paper:\n")
        parts.append(md_table(["strategy"] + scs, [[st] + [f"{g(by[sc, st].edp_js)} / {g(by[sc, st].paper_edp)}"
                                                        for sc in scs] for st in strats]))
        pe = paper["datacenter"]["edp_js"]
        rel = {(sc, st): pe[st][sc] / pe["standalone-nvd"][sc] for sc in scs for st in strats}
    else:
        rel = {(sc, st): by[sc, st].paper_edp for sc in scs for st in strats}
    parts.append("\nEDP relative to Standalone (NVD), ours / paper (the paper's AR/VR table is given this way):\n")
    parts.append(md_table(["strategy"] + scs, [[st] + [f"{g(by[sc, st].edp_rel_standalone_nvd)} / {g(rel[sc, st])}"
                                                    for sc in scs] for st in strats]))
    h = rp.headline(rows, domain)
    parts.append(f"\n**Headline** (mean over the five scenarios and over Simba NVD and Simba Shi of "
                 f"1 - EDP(Het-Sides)/EDP(Simba)): ours **{100 * h['ours']:.1f}%**, paper "
                 f"**{100 * h['paper_stated']:.1f}%** (recomputed from the paper's table: {100 * h['paper']:.1f}%).\n")
    parts.append(md_table(["scenario", "Het-Sides vs Simba NVD: ours", "paper", "vs Simba Shi: ours", "paper",
                           "best strategy: ours", "paper"],
                          [[p["scenario"], f"{100 * p['ours_vs_nvd']:+.1f}%", f"{100 * p['paper_vs_nvd']:+.1f}%",
                            f"{100 * p['ours_vs_shi']:+.1f}%", f"{100 * p['paper_vs_shi']:+.1f}%", p["ours_winner"],
                            p["paper_winner"]] for p in h["per_scenario"]]))
    parts.append("\n(positive = Het-Sides has lower EDP)\n")
    return "\n".join(parts)


def preset_text(cm: CostModel) -> str:
    p, e = cm.preset, cm.energy
    bw = lambda v: "unconstrained" if v is None else f"{v:g} elements per cycle"  # noqa: E731
    return (f"off-chip bandwidth {bw(p.offchip_bw)} per chiplet, NoC bandwidth {bw(p.noc_bw)}, energy table "
            f"MAC {e.mac:g} / L1 {e.l1:g} / L2 {e.l2:g} at {e.pj_per_mac:g} pJ per unit")


def targets_section(rows, cm: CostModel) -> str:
    """The paper preset's targets, the Standalone ratios beside the paper's, and what cannot hold."""
    t = rp.paper_targets(rows)
    fmt = lambda v: f"{v:.1f}%" if isinstance(v, float) and v > 5 else (f"{v:.2f}" if isinstance(v, float) else v)  # noqa: E731
    table = md_table(["target", "ours", "paper", "met"],
                     [[k, fmt(o), fmt(p), "yes" if ok else "**no**"] for k, (o, p, ok) in t["checks"].items()])
    paper = rp.paper_results()["standalone_latency_ratio"]
    ratios = md_table(["scenario"] + list(t["standalone_ratios"]),
                      [["ours"] + [f"{r:.2f}" for r in t["standalone_ratios"].values()],
                       ["paper"] + [f"{paper[sc]:.2f}" for sc in t["standalone_ratios"]]])
    models = {d["model"]: d for dom in ("datacenter",) for d in rp.dataflow_ratios(dom, cost_model=cm)}
    cnn = ", ".join(f"{k} {v['shi_over_nvd_latency']:.2f}" for k, v in models.items())
    return ("## Targets of the paper preset\n\n"
            f"{t['met']} of {t['total']} met; RMS of log(ours / paper) over all 50 relative-EDP entries of both "
            f"tables: {t['rms_log_edp']:.3f}. A best strategy counts as matched when the paper has it within "
            f"{100 * (rp.WINNER_TIE - 1):.0f}% of its best (the paper's sc6-sc9 winners are such near-ties).\n\n"
            + table + "\n\nStandalone Shi / NVD latency (every model alone on one chiplet; the slowest sets the "
            "scenario):\n\n" + ratios + "\n\n"
            "**What cannot hold under MAESTRO's mappings (sc3-sc5).** Table IV implies a per-model Shi/NVD of "
            "ResNet-50 0.65 < U-Net 1.87 < the language models 3.92. MAESTRO orders the CNNs the other way at "
            "every bandwidth (U-Net, with its large planes, is the most Shi-friendly model; ResNet-50's late "
            "small-plane layers make it the least), and the zoo's language models (GPT-L 92 GMAC, BERT-L x 24) "
            "dominate every datacenter scenario they are in. Per model alone on one 4096-PE chiplet at its "
            f"scenario batch, Shi/NVD latency: {cnn}. So the Standalone ratios of sc3-sc5 and the sc3-sc5 "
            "winners are trends the paper reports that this model cannot reproduce with one global setting; "
            "no constant is tuned per scenario or per model to force them.\n")


def trends_section(rows, res_6x6, sweep) -> str:
    """The paper's qualitative claims, each with our number, the paper's, and whether it holds."""
    by = {(r.scenario, r.strategy): r.edp_js for r in rows}
    rel = rp.paper_relative_edp()
    save = lambda sc, base: 1 - by[sc, "het-sides"] / by[sc, base]  # noqa: E731
    psave = lambda sc, base: 1 - rel[sc, "het-sides"] / rel[sc, base]  # noqa: E731
    pct = lambda v: f"{100 * v:+.1f}%"  # noqa: E731
    out = []
    scs = [r.scenario for r in rows if r.strategy == "het-sides"]
    wins_shi = [sc for sc in scs if save(sc, "simba-shi") > 0]
    out.append(["Het-Sides has lower EDP than Simba (Shi) on every scenario", f"{len(wins_shi)}/{len(scs)}",
                f"{sum(psave(sc, 'simba-shi') > 0 for sc in scs)}/{len(scs)}", len(wins_shi) == len(scs)])
    for sc in ("sc1", "sc2", "sc3"):
        out.append([f"Simba (NVD) beats Het-Sides on the LM scenario {sc}", pct(save(sc, "simba-nvd")),
                    pct(psave(sc, "simba-nvd")), save(sc, "simba-nvd") < 0])
    for sc in ("sc4", "sc5"):
        out.append([f"Het-Sides beats Simba (NVD) on {sc}", pct(save(sc, "simba-nvd")), pct(psave(sc, "simba-nvd")),
                    save(sc, "simba-nvd") > 0])
    for sc in ("sc8", "sc9", "sc10"):
        out.append([f"Het-Sides beats Simba (NVD) on the CNN-heavy AR/VR scenario {sc}", pct(save(sc, "simba-nvd")),
                    pct(psave(sc, "simba-nvd")), save(sc, "simba-nvd") > 0])
    shi9 = by["sc9", "standalone-shi"] / by["sc9", "standalone-nvd"]
    out.append(["the social scenario sc9 prefers Shi (Standalone Shi / Standalone NVD EDP < 1)", f"{shi9:.2f}",
                f"{rel['sc9', 'standalone-shi']:.2f}", shi9 < 1])
    if res_6x6 is not None:
        for k in ("simba-shi", "simba-nvd"):
            v = res_6x6["ratios"][k]
            out.append([f"6x6 sc4: Het-Cross beats {k} (EDP ratio)", f"{v['ours']:.2f}x", f"{v['paper']:.1f}x",
                        v["ours"] > 1])
    gains = [d["gain_over_previous"] for d in sweep if d["gain_over_previous"]]
    early = float(np.prod(gains[:3])) ** (1 / 3)
    out.append(["more windows help: EDP gain per step from 1 to 4 splits (geometric mean)", f"{early:.2f}x",
                "about 1.25x", early > 1.05])
    held = sum(o[3] for o in out)
    return ("## Which of the paper's trends hold\n\n"
            f"{held} of {len(out)} hold under the paper preset.\n\n"
            + md_table(["trend", "ours", "paper", "holds"], [o[:3] + ["yes" if o[3] else "**no**"] for o in out])
            + "\n")


def calibration_section(cm: CostModel, grid_path: Path) -> str:
    """How the paper preset was chosen: the best points of the calibration grid, if it was run."""
    if not grid_path.exists():
        return ("## The paper preset\n\nRun `scripts/calibrate_paper_preset.py` to write "
                f"`{grid_path}` and the fit behind the preset.\n")
    import csv

    grid = list(csv.DictReader(grid_path.open()))
    key = lambda r: (-int(r["targets"]), float(r["rms_log_edp"]))  # noqa: E731
    grid.sort(key=key)
    top = md_table(["energy table", "off-chip el/cycle", "pJ per unit", "targets met", "RMS log EDP",
                    "headline DC", "headline AR/VR", "Standalone Shi/NVD sc1", "sc6"],
                   [[r["energy_table"], r["offchip_bw"], r["pj_per_mac"], f"{r['targets']}/{r['of']}",
                     f"{float(r['rms_log_edp']):.3f}", f"{float(r['headline_datacenter']):.1f}%",
                     f"{float(r['headline_arvr']):.1f}%", f"{float(r['standalone_ratio_sc1']):.2f}",
                     f"{float(r['standalone_ratio_sc6']):.2f}"] for r in grid[:10]])
    tables = sorted({r["energy_table"] for r in grid})
    offs = sorted({float(r["offchip_bw"]) for r in grid})
    pjs = sorted({float(r["pj_per_mac"]) for r in grid}, reverse=True)
    return ("## The paper preset\n\n"
            f"Two constants are fitted, once, for every scenario, model and chiplet: the off-chip bandwidth per "
            f"chiplet (the lever that sets MAESTRO's Shi/NVD ratios: NVD streams about one off-chip element per "
            f"MAC) and the absolute energy of MAESTRO's unit, which sets on-chiplet energy against the package's "
            f"DRAM (14.8 pJ/bit) and NoP (2.04 pJ/bit) energy; the relative energy table is a third, discrete "
            f"choice. Grid (`{grid_path}`, `scripts/calibrate_paper_preset.py`): energy tables {', '.join(tables)}; "
            f"off-chip {', '.join(f'{o:g}' for o in offs)} elements per cycle; {', '.join(f'{p:g}' for p in pjs)} pJ "
            f"per unit ({len(grid)} points, each a full rerun of Tables IV and V). Rule: most targets met, then the "
            "lowest RMS of log(ours / paper) over the 50 relative-EDP entries. The ten best points:\n\n"
            + top + f"\n\nChosen: {preset_text(cm)}.\n")


def runtime_section(all_rows) -> str:
    scar = [r for r in all_rows if r.policy == "scar"]
    by_mcm = {}
    for r in scar:
        by_mcm.setdefault(r.mcm, []).append(r)
    rows = [[m, len(rs), f"{sum(r.scheduler_s for r in rs):.1f}", f"{max(r.scheduler_s for r in rs):.2f}",
             sum(r.evaluations for r in rs)] for m, rs in by_mcm.items()]
    rows.append(["all 3x3 SCAR runs", len(scar), f"{sum(r.scheduler_s for r in scar):.1f}",
                 f"{max(r.scheduler_s for r in scar):.2f}", sum(r.evaluations for r in scar)])
    return md_table(["MCM", "runs (scenarios)", "total s", "max s", "cost-model evaluations"], rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="results")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-6x6", action="store_true")
    ap.add_argument("--cost-preset", default=None, help="cost preset (default: paper)")
    args = ap.parse_args(argv)
    cm = make_cost_model(preset=args.cost_preset)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def show(row):
        print(f"  {row.scenario:5s} {row.strategy:15s} EDP {row.edp_js:.4g} J s ({row.scheduler_s:.2f} s)", flush=True)

    t_start = time.perf_counter()
    sections = []
    all_rows = []
    for domain in ("datacenter", "arvr"):
        print(f"== {domain}", flush=True)
        rows = rp.run_table(domain, seed=args.seed, progress=show, cost_model=cm)
        all_rows += rows
        rp.write_csv(out / f"scar_{domain}.csv", rows)
        rp.plot_table(out / f"scar_{domain}.png", rows, domain)
        print(rp.table_text(rows, domain))
        print(rp.headline_text(rp.headline(rows, domain)))
        title = "Datacenter (Table IV), 3x3, EDP objective" if domain == "datacenter" else \
            "AR/VR (Table V), 3x3, EDP objective"
        sections.append(f"## {title}\n\nCSV: `scar_{domain}.csv`; plot: `scar_{domain}.png`.\n\n"
                        + domain_section(rows, domain))

    if not args.skip_6x6:
        print("== 6x6, scenario 4", flush=True)
        res = rp.run_6x6(seed=args.seed, progress=show, cost_model=cm)
        rp.write_csv(out / "scar_6x6.csv", res["rows"])
        t = md_table(["strategy", "MCM", "latency s", "energy J", "EDP J s", "scheduler s"],
                     [[r.strategy, r.mcm, g(r.latency_s, 4), g(r.energy_j, 4), g(r.edp_js, 4), f"{r.scheduler_s:.1f}"]
                      for r in res["rows"]])
        ratios = "\n".join(f"- EDP({k}) / EDP(het-cross): ours **{v['ours']:.2f}x**, paper {v['paper']:.1f}x"
                           for k, v in res["ratios"].items())
        sections.append("## 6x6, scenario 4 (SCAR with the evolutionary search, population 10, 4 generations)\n\n"
                        f"CSV: `scar_6x6.csv`.\n\n{t}\n\n{ratios}\n")

    print("== n_splits sweep (sc4, het-sides-3x3)", flush=True)
    sweep = rp.sweep_splits(seed=args.seed, cost_model=cm)
    rp.write_dicts_csv(out / "scar_sweep_splits.csv", sweep)
    t = md_table(["n_splits", "windows", "latency s", "energy J", "EDP J s", "gain over previous", "scheduler s"],
                 [[d["n_splits"], d["windows"], g(d["latency_s"], 4), g(d["energy_j"], 4), g(d["edp_js"], 4),
                   "-" if d["gain_over_previous"] is None else f"{d['gain_over_previous']:.3f}x",
                   f"{d['scheduler_s']:.2f}"] for d in sweep])
    sections.append("## n_splits sweep (scenario 4, Het-Sides 3x3)\n\nCSV: `scar_sweep_splits.csv`. "
                    "Paper: about 1.25x lower EDP per step from 1 to 4 splits, 1.04x from 4 to 5.\n\n" + t + "\n")

    diag = []
    for domain in ("datacenter", "arvr"):
        diag.append(f"{domain} ({'4096' if domain == 'datacenter' else '256'} PEs per chiplet):\n")
        diag.append(md_table(["model (batch)", "layers", "NVD latency s", "Shi/NVD latency",
                              "Shi/NVD latency at mini-batch 1", "Shi/NVD energy", "layers faster on Shi"],
                             [[d["model"], d["layers"], g(d["nvd_latency_s"]), f"{d['shi_over_nvd_latency']:.2f}",
                               f"{d['shi_over_nvd_latency_b1']:.2f}", f"{d['shi_over_nvd_energy']:.2f}",
                               d["layers_faster_on_shi"]]
                              for d in rp.dataflow_ratios(domain, cost_model=cm)]) + "\n")
    sections.append("## Cost-model diagnostics\n\nEvery model alone on one chiplet at its full scenario batch "
                    "(sum of its layers' table costs). A heterogeneous MCM can only beat the better homogeneous "
                    "one where the other dataflow wins on a substantial share of the work; these ratios, not "
                    "the scheduler, decide the per-scenario winners above.\n\n" + "\n".join(diag))

    sections.append("## Scheduler runtime (wall clock, SCAR at 3x3; the paper gives none, we publish ours)\n\n"
                    + runtime_section(all_rows)
                    + f"\n\nMachine: {platform.machine()}, Python {platform.python_version()}, one process. "
                    f"Whole script: {time.perf_counter() - t_start:.0f} s.\n")
    sections.insert(0, targets_section(all_rows, cm))
    sections.insert(1, trends_section(all_rows, None if args.skip_6x6 else res, sweep))
    sections.insert(2, calibration_section(cm, out / "calibration" / "grid.csv"))
    header = (
        "# SCAR reproduction results\n\n"
        "Generated by `scripts/reproduce_tables.py` (rerun it to regenerate every file here; "
        "`scar-gym reproduce datacenter|arvr [--size 6x6] [--sweep-splits]` prints the same tables).\n"
        "Strategies: standalone-nvd/shi = `standalone` policy on nvd-3x3/shi-3x3; simba-nvd/shi = `scar` on "
        "nvd-3x3/shi-3x3; het-cb / het-sides = `scar` on het-cb-3x3 / het-sides-3x3. EDP objective, seed "
        f"{args.seed}, default SCAR parameters (n_splits 4, k 3, 3 boundary candidates). The paper's numbers are "
        "from `scar_gym/data/paper_results.yaml`. Absolute seconds and joules come from our own analytical cost "
        "model and are not expected to match; the judged quantities are the ratios between MCMs and the "
        "per-scenario winners.\n\n"
        f"Per-layer costs: cost preset **{cm.preset.name}** -- MAESTRO's NVD (KC-P) and Shi (YX-P) mappings "
        f"(`scar_gym/costmodel/maestro.py`), {preset_text(cm)}. How the preset was chosen: section "
        "\"The paper preset\" below and `results/calibration/`.\n")
    (out / "README.md").write_text(header + "\n" + "\n".join(sections))
    print(f"wrote {out}/README.md ({time.perf_counter() - t_start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
