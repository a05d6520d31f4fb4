#!/usr/bin/env python
"""Reproduce a shipped agent: train from its config, copy the model into the package.

    python scripts/train_shipped_agent.py                  # --policy ppo: window-any-size
    python scripts/train_shipped_agent.py --agent window-het-sides-3x3   # --policy ppo-3x3
    python scripts/train_shipped_agent.py --timesteps 2000 --out /tmp/agent   # a quick dry run

Steps: ``agents.train.train`` on the agent's config and seed (:data:`SHIPPED`: for
``window-any-size``, ``configs/train/window_any_size.yaml`` with seed 0, about 17 CPU-minutes; for
``window-het-sides-3x3``, ``configs/train/window_het_sides_relocate.yaml`` with seed 2, about 9
minutes on one core; the run directory goes to ``runs/ppo_mask/...``), then the run's
``best_agent/`` (else ``final_agent/``: agent directories, weights only) and the resolved config are
copied to ``agents/pretrained/<name>/{agent.json,policy.pt,config.yaml}`` and the size is checked
(< 5 MB). The agent's README (results) is written by hand from ``scar-gym eval`` /
``scripts/bench_scaling_agents.py``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Pretrained name -> (training config, seed). ``window-het-sides-3x3``: of the config's three
#: benchmark seeds (0, 1, 2), seed 2 has the best *validation* greedy EDP/SCAR (0.9963 against 0.9971
#: and 0.9966, held-out validation scenarios), so it is the one shipped. ``window-any-size``: seed 0,
#: the first trained; seeds 1 and 2 score the same on every suite (results/agents/scaling/README.md).
#: It was validated before the config's eval_mcms added het-sides-5x5, so a rerun may keep another
#: checkpoint as best_agent/ (the shipped one is the 24,000-step one).
SHIPPED: dict[str, tuple[Path, int]] = {
    "window-any-size": (ROOT / "configs" / "train" / "window_any_size.yaml", 0),
    "window-het-sides-3x3": (ROOT / "configs" / "train" / "window_het_sides_relocate.yaml", 2),
}
MAX_BYTES = 5 * 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    from agents import DEFAULT_AGENT, PRETRAINED_DIR
    from agents.config import load_config
    from agents.train import train

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agent", choices=sorted(SHIPPED), default=DEFAULT_AGENT,
                    help=f"which shipped agent (default {DEFAULT_AGENT}, the one --policy ppo loads)")
    ap.add_argument("--config", default=None, help="default: the agent's config")
    ap.add_argument("--timesteps", type=int, default=None, help="override n_timesteps")
    ap.add_argument("--seed", type=int, default=None, help="default: the agent's seed")
    ap.add_argument("--run-dir", default=None)
    ap.add_argument("--overwrite", action="store_true", help="replace a run already in the run directory")
    ap.add_argument("--out", default=None, help="where agent.json, policy.pt and config.yaml go "
                                                "(default agents/pretrained/<agent>)")
    args = ap.parse_args(argv)
    config, shipped_seed = SHIPPED[args.agent]
    args.config = args.config or str(config)
    args.seed = shipped_seed if args.seed is None else args.seed
    args.out = args.out or str(PRETRAINED_DIR / args.agent)

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
