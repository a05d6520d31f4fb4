"""``scar-gym reproduce datacenter|arvr``: the SCAR paper's Table IV / V next to ours.

Without options: every strategy (standalone-nvd/shi, simba-nvd/shi, het-cb, het-sides) on the
domain's five scenarios, printed beside the paper's numbers, with the headline EDP saving computed
the paper's way. ``--size 6x6`` runs the 6x6 experiment instead (scenario 4: Het-Cross vs Simba
NVD/Shi), and ``--sweep-splits`` the n_splits 1..5 sweep (scenario 4, Het-Sides). The per-layer
costs come from the ``paper`` cost preset unless ``--cost-preset`` names another. A progress bar on
stderr unless ``--quiet`` (which also drops the per-run lines).
"""

from __future__ import annotations

import argparse
import sys

from scar_gym.commands.args import seed
from scar_gym.commands.schedule import add_cost_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("reproduce", help="the paper's Table IV/V (and 6x6, n_splits sweep) beside ours",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("domain", choices=("datacenter", "arvr"))
    p.add_argument("--csv", default=None, metavar="FILE", help="one row per (scenario, strategy)")
    p.add_argument("--plot", default=None, metavar="FILE", help="grouped bar chart of normalised EDP (PNG)")
    p.add_argument("--size", default="3x3", choices=("3x3", "6x6"),
                   help="6x6: scenario 4, Het-Cross vs Simba NVD/Shi on 6x6 MCMs (datacenter only)")
    p.add_argument("--sweep-splits", action="store_true", help="n_splits 1..5 on scenario 4, Het-Sides")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar (stderr) or per-run lines")
    add_cost_arguments(p)
    p.set_defaults(func=reproduce_cmd)


def reproduce_cmd(args: argparse.Namespace) -> int:
    from scar_gym import reproduce as rp
    from scar_gym.errors import ConfigError
    from scar_gym.factory import make_cost_model
    from scar_gym.fileio import check_outputs
    from scar_gym.progress import ProgressBar
    from scar_gym.textfmt import format_table

    check_outputs({"--csv": args.csv, "--plot": args.plot})
    cm = make_cost_model(preset=args.cost_preset, energy=args.energy)
    print(f"cost preset {cm.preset.name} (energy {cm.energy.name})")
    if args.size == "6x6" and args.domain != "datacenter":
        raise ConfigError("--size", "the 6x6 experiment is scenario 4 (datacenter)", "use 'reproduce datacenter --size 6x6'")
    splits = (1, 2, 3, 4, 5)
    runs = (len(rp.STRATEGIES_6X6) if args.size == "6x6" else len(splits) if args.sweep_splits
            else len(rp.suite_ids(args.domain)) * len(rp.STRATEGIES))
    bar = ProgressBar(runs, f"reproduce {args.domain}", enabled=not args.quiet, unit="run", lazy=True)

    def show(row):
        if not args.quiet and not isinstance(row, dict):  # the sweep's rows are printed as a table
            bar.write(f"  {row.scenario:5s} {row.strategy:15s} EDP {row.edp_js:.4g} J s  ({row.scheduler_s:.2f} s)",
                      file=sys.stdout)
        bar.update()

    with bar:
        if args.size == "6x6":
            res = rp.run_6x6(seed=args.seed, progress=show, cost_model=cm)
        elif args.sweep_splits:
            out = rp.sweep_splits(splits=splits, seed=args.seed, cost_model=cm, progress=show)
        else:
            rows = rp.run_table(args.domain, seed=args.seed, progress=show, cost_model=cm)
    if args.size == "6x6":
        print(format_table(["strategy", "mcm", "latency_s", "energy_j", "edp_js", "scheduler_s"],
                           [[r.strategy, r.mcm, r.latency_s, r.energy_j, r.edp_js, r.scheduler_s] for r in res["rows"]]))
        for k, v in res["ratios"].items():
            print(f"EDP({k}) / EDP(het-cross): ours {v['ours']:.2f}x, paper {v['paper']:.2f}x")
        if args.csv:
            rp.write_csv(args.csv, res["rows"])
            print(f"wrote {args.csv}")
        return 0
    if args.sweep_splits:
        print(format_table(["n_splits", "windows", "latency_s", "energy_j", "edp_js", "gain", "scheduler_s"],
                           [[d["n_splits"], d["windows"], d["latency_s"], d["energy_j"], d["edp_js"],
                             d["gain_over_previous"], d["scheduler_s"]] for d in out]))
        print("paper: about 1.25x per step from 1 to 4 splits, 1.04x from 4 to 5")
        if args.csv:
            rp.write_dicts_csv(args.csv, out)
            print(f"wrote {args.csv}")
        return 0
    print()
    print(rp.table_text(rows, args.domain))
    print()
    print(rp.headline_text(rp.headline(rows, args.domain)))
    paper = rp.paper_results()["standalone_latency_ratio"]
    print()
    print(format_table(["scenario", "Standalone Shi/NVD latency: ours", "paper"],
                       [[sc, f"{r:.2f}", f"{paper[sc]:.2f}"] for sc, r in rp.standalone_ratios(rows).items()],
                       align="lrr"))
    total = sum(r.scheduler_s for r in rows if r.policy == "scar")
    print(f"\nscheduler wall time: SCAR runs {total:.1f} s in total, all runs {sum(r.scheduler_s for r in rows):.1f} s "
          "(the paper gives no scheduler runtime; we publish ours)")
    if args.csv:
        rp.write_csv(args.csv, rows)
        print(f"wrote {args.csv}")
    if args.plot:
        rp.plot_table(args.plot, rows, args.domain)
        print(f"wrote {args.plot}")
    return 0
