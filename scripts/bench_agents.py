#!/usr/bin/env python
"""Inference time of the learned schedulers (and SCAR, window-ls) on the paper's scenarios.

For each scenario (default sc1..sc10 on het-sides-3x3) and each policy, one untimed warm-up run
(builds the shared cost tables), then ``--repeats`` timed runs, each on a fresh evaluator: the
per-scenario median of the wall time of ``policy.schedule`` (model loading excluded: it happens
when the policy is built). Wall and process-CPU seconds are both printed; on a shared machine the
CPU figure is the stable one. Setup (the env's SCAR run and candidate pools) and rollout times of
the rollout-search policies come from ``Schedule.meta``.

    .venv/bin/python scripts/bench_agents.py             # SCAR; ppo and ppo-3x3 at their own search and greedy
    .venv/bin/python scripts/bench_agents.py --policy ppo:runs/reloc/s1 --policy window-ls --samples 8

The figures in ``results/agents/README.md`` ("Inference time") were measured when ``ppo`` was the
SCAR-anchored 3x3 agent, today's ``ppo-3x3`` (``--policy scar --policy ppo-3x3 --policy window-ls``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scar_gym.benchmark import build_policy, takes_rollout_options  # noqa: E402
from scar_gym.envs.rollout_search import ANY_SIZE_SEARCH  # noqa: E402
from scar_gym.factory import make_cost_model, make_evaluator  # noqa: E402
from scar_gym.presets import load_mcm  # noqa: E402
from scar_gym.suites import scenario as load_scenario, suite_ids  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", action="append", default=None,
                    help="default: scar, ppo (the shipped size-agnostic agent), ppo-3x3 (the SCAR-anchored 3x3 one)")
    ap.add_argument("--samples", type=int, action="append", default=None,
                    help="rollouts of the rollout-search policies (repeatable; default: each policy's own search, "
                         f"{ANY_SIZE_SEARCH['samples']} rollouts for ppo and 8 for ppo-3x3, and 1, the greedy rollout alone)")
    ap.add_argument("--scenarios", nargs="+", default=list(suite_ids("paper")))
    ap.add_argument("--mcm", default="het-sides-3x3")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    specs = a.policy or ["scar", "ppo", "ppo-3x3"]
    samples: list[int | None] = a.samples or [None, 1]  # None: the policy's own number of rollouts
    runs = []
    for spec in specs:
        if takes_rollout_options(spec):
            built = [build_policy(spec, samples=n) for n in samples]
            runs += [(f"{spec} x{pol.samples}", pol) for pol in built]
        else:
            runs.append((spec, build_policy(spec)))
    hw = load_mcm(a.mcm)
    cm = make_cost_model()
    table: dict[str, list[tuple[str, float, float, float, float]]] = {label: [] for label, _ in runs}
    for sc_id in a.scenarios:
        sc = load_scenario(sc_id)
        for label, pol in runs:
            pol.schedule(make_evaluator(sc, hw, cost_model=cm), seed=0)  # warm the cost tables
            walls, cpus, setups, rolls = [], [], [], []
            for _ in range(a.repeats):
                ev = make_evaluator(sc, hw, cost_model=cm)
                w0, c0 = time.perf_counter(), time.process_time()
                s = pol.schedule(ev, seed=0)
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
                setups.append(s.meta.get("setup_s", float("nan")))
                rolls.append(s.meta.get("rollouts_s", float("nan")))
            row = (sc_id, statistics.median(walls), statistics.median(cpus), statistics.median(setups),
                   statistics.median(rolls))
            table[label].append(row)
            print(f"{sc_id:5s} {label:32s} wall {row[1]:6.3f} s  cpu {row[2]:6.3f} s  setup {row[3]:6.3f} s  "
                  f"rollouts {row[4]:6.3f} s", flush=True)
    print(f"\nmedian of {a.repeats} runs per scenario, {a.mcm}; mean / max over {len(a.scenarios)} scenarios:")
    for label, rows in table.items():
        w = [r[1] for r in rows]
        c = [r[2] for r in rows]
        print(f"  {label:32s} wall mean {statistics.mean(w):.3f} max {max(w):.3f} s   "
              f"cpu mean {statistics.mean(c):.3f} max {max(c):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
