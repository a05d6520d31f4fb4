#!/usr/bin/env python
"""Expert iteration from a trained agent: distil its policy-guided search back into the policy.

    python scripts/expert_iteration.py runs/long/s0 --out runs/exit/s0
    python scripts/expert_iteration.py ppo-3x3 --out /tmp/exit --iterations 1 --train-n 4 --eval-n 2   # quick

The method and the output directory are described in :mod:`agents.expert`. The result loads like
any agent: ``scar-gym eval --agent runs/exit/s0 --suite paper``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from agents.expert import ExpertConfig, expert_iteration

    d = ExpertConfig()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("agent", help="ppo-3x3 (the SCAR-anchored 3x3 agent), ppo (the shipped size-agnostic agent; "
                                  "distilled on one MCM, its config's mcm), a pretrained name, an agent or run "
                                  "directory (a model zip with --trust)")
    ap.add_argument("--trust", action="store_true",
                    help="allow a Stable-Baselines3 zip (loading it runs code stored in the file)")
    ap.add_argument("--out", required=True, help="output run directory")
    ap.add_argument("--iterations", type=int, default=d.iterations)
    ap.add_argument("--samples", type=int, default=d.samples, help="rollouts of the expert's search per scenario")
    ap.add_argument("--epochs", type=int, default=d.epochs)
    ap.add_argument("--lr", type=float, default=d.lr)
    ap.add_argument("--batch-size", type=int, default=d.batch_size)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--train-n", type=int, default=None, help="use only the first N training scenarios")
    ap.add_argument("--eval-n", type=int, default=None, help="use only the first N validation scenarios")
    a = ap.parse_args(argv)
    cfg = ExpertConfig(iterations=a.iterations, samples=a.samples, epochs=a.epochs, lr=a.lr,
                       batch_size=a.batch_size, seed=a.seed)
    t0 = time.time()
    from agents import DEFAULT_AGENT

    agent = {"ppo-3x3": None, "ppo": DEFAULT_AGENT, "ppo-any": DEFAULT_AGENT}.get(a.agent, a.agent)
    out = expert_iteration(agent, a.out, cfg, argv=[sys.executable, *sys.argv],
                           train_n=a.train_n, eval_n=a.eval_n, trust=a.trust)
    print(f"done in {time.time() - t0:.0f} s: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
