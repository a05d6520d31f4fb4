#!/usr/bin/env python
"""Reproduce the shipped agent (``--policy ppo``): train from its config, copy the model into the package.

    python scripts/train_shipped_agent.py                  # trains with configs/train/<agent>.yaml
    python scripts/train_shipped_agent.py --timesteps 2000 --out /tmp/agent   # a quick dry run

Steps: ``agents.train.train`` on ``configs/train/window_het_sides_relocate.yaml`` with seed 2 (the
run directory goes to ``runs/ppo_mask/...``; about 9 minutes on one core), then the run's
``best_agent/`` (else ``final_agent/``: agent directories, weights only) and the resolved config are
copied to ``agents/pretrained/<name>/{agent.json,policy.pt,config.yaml}`` and the size is checked
(< 5 MB). The agent's README (results) is written by hand from ``scar-gym eval``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIG = ROOT / "configs" / "train" / "window_het_sides_relocate.yaml"
#: Of the config's three benchmark seeds (0, 1, 2), seed 2 has the best *validation* greedy EDP/SCAR
#: (0.9963 against 0.9971 and 0.9966, held-out validation scenarios), so it is the one shipped.
SHIPPED_SEED = 2
MAX_BYTES = 5 * 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    from agents import DEFAULT_AGENT, PRETRAINED_DIR
    from agents.config import load_config
    from agents.train import train

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(CONFIG))
    ap.add_argument("--timesteps", type=int, default=None, help="override n_timesteps")
    ap.add_argument("--seed", type=int, default=SHIPPED_SEED)
    ap.add_argument("--run-dir", default=None)
    ap.add_argument("--overwrite", action="store_true", help="replace a run already in the run directory")
    ap.add_argument("--out", default=str(PRETRAINED_DIR / DEFAULT_AGENT),
                    help="where agent.json, policy.pt and config.yaml go")
    args = ap.parse_args(argv)

    overrides = {}
    if args.timesteps is not None:
        overrides["n_timesteps"] = args.timesteps
    if args.seed is not None:
        overrides["seed"] = args.seed
    cfg = load_config(args.config, overrides)
    t0 = time.time()
    run = train(cfg, run_dir=args.run_dir, argv=[sys.executable, *sys.argv], overwrite=args.overwrite)
    print(f"trained in {time.time() - t0:.0f} s: {run}")
    agent = run / "best_agent" if (run / "best_agent").is_dir() else run / "final_agent"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("agent.json", "policy.pt"):
        shutil.copy(agent / name, out / name)
    shutil.copy(run / "config.yaml", out / "config.yaml")
    size = (out / "policy.pt").stat().st_size
    print(f"{out}: policy.pt {size / 1024:.0f} KiB (from {agent.name})")
    if size >= MAX_BYTES:
        print("error: the model is over 5 MB; shrink policy.net_arch", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
