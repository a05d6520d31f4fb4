"""Window-v0 throughput on random scenarios, without and with a scenario bank (issue 14, item 6).

Each reset takes the next scenario of a random stream (generator seed 0, both domains, 2-5 models:
the training configs' scenarios), as a training run over many scenarios does; actions are masked
random. Figures are env steps per second of process CPU time (= per core: one process, torch not
involved) and of wall time.

* without a bank: every new scenario runs SCAR and builds its candidate pools (``--fresh``
  scenarios, few: this is slow);
* with a bank (``--bank DIR``, built first if absent: ``scar-gym bank build --n N --seed 0 --out DIR``):
  the env cycles through the bank's scenarios with ``cache_size`` below the bank's size, so that
  scenarios keep being evicted and re-read from disk (the steady state of a long run), for
  ``--steps`` steps after one warm-up pass.

    .venv/bin/python scripts/bench_bank.py --bank runs/banks/het-sides-train128
    .venv/bin/python scripts/bench_bank.py --bank /tmp/bank --build 32 --relocate 0
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def run(env, scenarios, n_steps: int | None, n_episodes: int | None, rng) -> tuple[int, int, float, float]:
    """Masked random episodes over ``scenarios`` (cycled); returns (steps, episodes, wall s, cpu s)."""
    steps = episodes = 0
    w0, c0 = time.perf_counter(), time.process_time()
    i = 0
    while (n_steps is None or steps < n_steps) and (n_episodes is None or episodes < n_episodes):
        obs, info = env.reset(options={"scenario": scenarios[i % len(scenarios)]})
        i += 1
        done = False
        while not done:
            valid = np.flatnonzero(info["action_mask"])
            obs, r, term, trunc, info = env.step(int(valid[rng.integers(len(valid))]))
            done = term or trunc
            steps += 1
        episodes += 1
    return steps, episodes, time.perf_counter() - w0, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    import gymnasium as gym

    import scar_gym  # noqa: F401
    from scar_gym.envs.bank import ScenarioBank
    from scar_gym.suites import Suite

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bank", required=True, help="bank directory (built with --build N if it does not exist)")
    ap.add_argument("--build", type=int, default=64, help="scenarios of the bank to build when absent")
    ap.add_argument("--relocate", type=int, nargs="+", default=[0, 24], help="Window-v0 relocate values to measure")
    ap.add_argument("--fresh", type=int, default=6, help="fresh scenarios for the no-bank figure")
    ap.add_argument("--steps", type=int, default=5000, help="steps for the bank figure")
    ap.add_argument("--cache-size", type=int, nargs="+", default=[16, 256],
                    help="env cache_size values: below the bank's size, scenarios are evicted and re-read from "
                         "disk; at or above it, they stay in memory after the first pass")
    args = ap.parse_args(argv)

    bank_dir = Path(args.bank)
    if not (bank_dir / "bank.json").is_file():
        cmd = [sys.executable, "-m", "scar_gym", "bank", "build", "--n", str(args.build), "--seed", "0",
               "--out", str(bank_dir), "-q"]
        print("building the bank:", " ".join(cmd))
        subprocess.run(cmd, check=True)
    bank = ScenarioBank.open(bank_dir)
    banked = bank.scenarios()
    # fresh scenarios the bank does not hold (same generator recipe, later indices)
    stream = Suite.random(0, 0, domain=None, min_models=2, max_models=5)
    fresh = [stream[100_000 + i] for i in range(args.fresh)]
    print(f"bank {bank_dir}: {len(bank)} scenarios; Window-v0 on het-sides-3x3, masked random actions")
    for relocate in args.relocate:
        rng = np.random.default_rng(0)
        env = gym.make("ScarGym/Window-v0", mcm="het-sides-3x3", relocate=relocate, disable_env_checker=True).unwrapped
        s, e, w, c = run(env, fresh, None, len(fresh), rng)
        print(f"relocate={relocate:<3d} no bank,   {e:5d} fresh scenarios: {s / c:8.1f} steps/s per core (cpu), "
              f"{s / w:8.1f} wall  ({s} steps, {c:.1f} cpu-s)")
        for cache in args.cache_size:
            env = gym.make("ScarGym/Window-v0", mcm="het-sides-3x3", relocate=relocate, bank=str(bank_dir),
                           cache_size=cache, disable_env_checker=True).unwrapped
            s0, e0, w0, c0 = run(env, banked, None, len(banked), rng)
            print(f"relocate={relocate:<3d} with bank, cache_size {cache:4d}, first pass ({e0} scenarios): "
                  f"{s0 / c0:8.1f} steps/s per core (cpu), {s0 / w0:8.1f} wall")
            s, e, w, c = run(env, banked, args.steps, None, rng)
            print(f"relocate={relocate:<3d} with bank, cache_size {cache:4d}, then {e:5d} episodes: "
                  f"{s / c:8.1f} steps/s per core (cpu), {s / w:8.1f} wall  ({s} steps, {c:.1f} cpu-s); "
                  f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
