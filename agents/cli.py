"""``scar-gym train CONFIG [--set k=v ...] [--seed N] [--run-dir DIR] [--resume CKPT]``: MaskablePPO training.

The sub-command is agents' own: :func:`register` is found by ``scar_gym.cli`` through the
``scar_gym.commands`` entry point (``pyproject.toml``), so the library never imports ``agents``.

CONFIG is a YAML file or the stem of one in ``configs/train/`` (see :mod:`agents.config` for the
keys). The run directory (default ``runs/ppo_mask/<Env>_<name>_s<seed>/``) gets the resolved
config, command line, versions, TensorBoard and CSV logs, evaluations on the held-out scenarios,
checkpoints, ``best_model.zip`` and ``final_model.zip``. Needs the ``rl`` extra (torch, SB3).
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train a MaskablePPO scheduler from a YAML config",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("config", metavar="CONFIG", help="YAML path or name in configs/train/")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set ppo.learning_rate=1.0e-4 (repeatable)")
    p.add_argument("--seed", type=int, default=None, help="shortcut for --set seed=N")
    p.add_argument("--timesteps", type=int, default=None, help="shortcut for --set n_timesteps=N")
    p.add_argument("--run-dir", default=None, help="output directory (default runs/ppo_mask/<Env>_<name>_s<seed>)")
    p.add_argument("--runs-root", default="runs", help="root of the default run directory")
    p.add_argument("--resume", default=None, metavar="CKPT",
                   help="continue from a checkpoint zip (loading a zip runs pickled code: trusted files only)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=train_cmd)


def train_cmd(args: argparse.Namespace) -> int:
    from agents.config import load_config, parse_overrides

    overrides = parse_overrides(args.overrides)
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.timesteps is not None:
        overrides["n_timesteps"] = args.timesteps
    if args.no_progress:
        overrides["progress_bar"] = False
    cfg = load_config(args.config, overrides)
    from agents.train import train

    run_dir = train(cfg, run_dir=args.run_dir, resume=args.resume, argv=["scar-gym", *sys.argv[1:]],
                    runs_root=args.runs_root)
    print(f"run directory: {run_dir}")
    for name in ("best_model.zip", "final_model.zip"):
        if (run_dir / name).exists():
            print(f"  {name}: {run_dir / name}")
    print(f"evaluate with: scar-gym eval --agent {run_dir} --suite random-20")
    return 0
