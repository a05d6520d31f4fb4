#!/usr/bin/env python
"""Throughput of the cost model and the evaluator, on one core.

(a) layer-on-class evaluations per second: ``CostModel.compute`` (the default preset's template,
    no cache) on every zoo model, for the NVD and Shi classes at the model's domain PEs (MAESTRO's
    mappings) and, separately, the Eye class (the legacy template), several batch sizes at once
    (vectorised); one evaluation = one (layer, class, batch).
(b) full-schedule evaluations per second: ``Evaluator.evaluate(schedule, check=False)`` (what the
    searches call) over a fixed set of random valid schedules (``RandomPolicy`` seeds 0..N-1), for
    scenario 4 on het-sides-3x3 and scenario 5 on het-cross-6x6,
    * cold: ``Evaluator.fresh(cache_size=0)``: every assignment is computed (each cut set's
      chiplet-independent part is still kept after its first use, as in every evaluator),
    * warm: the per-assignment memo on and already filled by one pass,
    plus the cost of validation (``evaluate(check=True)``) for reference.

Rates are per CPU second of this process (``time.process_time``), so a busy machine does not
distort them much; run on an idle machine for wall-clock figures.

Targets (issue #11): >= 1,000,000 layer-class evals/s; >= 2,000 full-schedule evals/s for sc4 on 3x3.

    .venv/bin/python scripts/bench_costmodel.py [--schedules 200] [--min-time 1.0]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core (numpy's element-wise ops are single-threaded anyway)

import argparse  # noqa: E402
import time  # noqa: E402

from scar_gym.costmodel.dataflow import LayerArrays  # noqa: E402
from scar_gym.factory import make_cost_model, make_evaluator  # noqa: E402
from scar_gym.hardware import DOMAIN_PES, ChipletSpec  # noqa: E402
from scar_gym.policies.baselines import RandomPolicy  # noqa: E402
from scar_gym.workloads.zoo import MODEL_IDS, MODEL_INFO, get_model  # noqa: E402

BATCHES = (1, 2, 4, 8, 16, 32)
TARGET_LAYER = 1_000_000
TARGET_SCHED_SC4 = 2_000


def timed(fn, min_time: float) -> tuple[float, int]:
    """(CPU seconds per call, calls) of ``fn`` repeated until ``min_time`` CPU seconds have passed (at
    least twice). CPU time of this process, not wall time, so that other processes sharing the machine
    do not count against the single-core rate."""
    fn()  # warm-up
    n, t0 = 0, time.process_time()
    while True:
        fn()
        n += 1
        dt = time.process_time() - t0
        if n >= 2 and dt >= min_time:
            return dt / n, n


def bench_layers(min_time: float, dataflows: tuple[str, ...] = ("nvd", "shi")) -> float:
    cm = make_cost_model()
    work = []
    for mid in MODEL_IDS:
        arr = LayerArrays.from_layers(get_model(mid).layers)
        pes = DOMAIN_PES[MODEL_INFO[mid].domain]
        for df in dataflows:
            work.append((arr, ChipletSpec(df, pes)))
    evals = sum(len(arr) for arr, _ in work) * len(BATCHES)

    def run():
        for arr, spec in work:
            cm.compute(arr, spec, BATCHES)

    per_call, _ = timed(run, min_time)
    rate = evals / per_call
    n_layers = sum(get_model(m).num_layers for m in MODEL_IDS)
    print(f"(a) {cm.preset.name} preset, {'/'.join(dataflows)}, uncached: {len(MODEL_IDS)} zoo models ({n_layers} layers) "
          f"x {len(dataflows)} classes x {len(BATCHES)} batches = {evals} evaluations in {per_call * 1e3:.2f} ms "
          f"-> {rate:,.0f} layer-class evals/s (target >= {TARGET_LAYER:,}: "
          f"{'ok' if rate >= TARGET_LAYER else 'MISSED'})")
    return rate


def bench_schedules(scenario_id: str, mcm_name: str, n_schedules: int, min_time: float) -> dict[str, float]:
    t0 = time.perf_counter()
    gen = make_evaluator(scenario_id, mcm_name)
    setup = time.perf_counter() - t0
    policy = RandomPolicy()
    schedules = [policy.schedule(gen, seed=i) for i in range(n_schedules)]
    n_assign = sum(len(w.assignments) for s in schedules for w in s.windows)
    n_segs = sum(len(a.segments) for s in schedules for w in s.windows for a in w.assignments)
    cold = gen.fresh(cache_size=0)
    warm = gen.fresh()

    def run(ev, check=False):
        for s in schedules:
            ev.evaluate(s, check=check)

    rates = {}
    for label, ev, check in (("cold", cold, False), ("warm", warm, False), ("cold+validate", cold, True)):
        per_pass, _ = timed(lambda: run(ev, check), min_time)
        rates[label] = n_schedules / per_pass
    print(f"(b) {scenario_id} on {mcm_name}: {n_schedules} random schedules (RandomPolicy seeds 0..{n_schedules - 1}; "
          f"{n_assign / n_schedules:.1f} assignments, {n_segs / n_schedules:.1f} segments per schedule); "
          f"evaluator setup (cost tables) {setup * 1e3:.0f} ms")
    for label, rate in rates.items():
        print(f"    {label:14s} {rate:12,.0f} schedules/s  ({1e6 / rate:8.1f} us per schedule)")
    return rates


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--schedules", type=int, default=200, help="random schedules per scenario (default 200)")
    p.add_argument("--min-time", type=float, default=1.0, help="seconds to repeat each measurement (default 1)")
    args = p.parse_args()
    bench_layers(args.min_time)
    bench_layers(args.min_time, ("eye",))
    sc4 = bench_schedules("sc4", "het-sides-3x3", args.schedules, args.min_time)
    bench_schedules("sc5", "het-cross-6x6", args.schedules, args.min_time)
    ok = sc4["cold"] >= TARGET_SCHED_SC4
    print(f"sc4 on het-sides-3x3, cold: {sc4['cold']:,.0f} schedules/s (target >= {TARGET_SCHED_SC4:,}: "
          f"{'ok' if ok else 'MISSED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
