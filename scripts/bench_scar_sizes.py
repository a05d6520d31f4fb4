#!/usr/bin/env python
"""SCAR's scheduler time against the MCM's size: one scenario on the Het-Sides (or another) family.

For each size N x N of ``--sizes`` (default 3..8), SCAR at its default settings (n_splits 4, k 3,
exhaustive SEG up to 16 chiplets, the evolutionary search above) schedules ``--scenario`` (default
sc4) on ``<family>-NxN``; prints CPU seconds, cost-model evaluations and the EDP. CPU time of this
process, so other load on the machine counts little.

    .venv/bin/python scripts/bench_scar_sizes.py [--scenario sc4] [--family het-sides] [--sizes 3 4 5 6 7 8]
"""

from __future__ import annotations

import argparse
import time

from scar_gym.factory import make_evaluator
from scar_gym.policies.registry import make_policy
from scar_gym.textfmt import format_table


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="sc4")
    ap.add_argument("--family", default="het-sides")
    ap.add_argument("--sizes", type=int, nargs="+", default=[3, 4, 5, 6, 7, 8])
    args = ap.parse_args(argv)
    rows = []
    for n in args.sizes:
        ev = make_evaluator(args.scenario, f"{args.family}-{n}x{n}")
        t0 = time.process_time()
        schedule = make_policy("scar").schedule(ev, seed=0)
        cpu = time.process_time() - t0
        r = ev.evaluate(schedule)
        rows.append([f"{n}x{n}", f"{cpu:.2f}", ev.num_evaluations, f"{r.edp_js:.6g}", len(schedule.windows)])
        print(f"{args.family}-{n}x{n}: {cpu:.2f} CPU-s", flush=True)
    print(format_table(["MCM", "SCAR CPU s", "evaluations", "EDP J s", "windows"], rows, align="lrrrr"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
