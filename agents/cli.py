"""``scar-gym train CONFIG [--set k=v ...] [--seed N] [--run-dir DIR] [--resume [CKPT] | --overwrite]``: MaskablePPO training.

The sub-command is agents' own: :func:`register` is found by ``scar_gym.cli`` through the
``scar_gym.commands`` entry point (``pyproject.toml``), so the library never imports ``agents``.

CONFIG is a YAML file or the stem of one in ``configs/train/`` (see :mod:`agents.config` for the
keys). The run directory (default ``runs/ppo_mask/<Env>_<name>_s<seed>_<config hash>/``, see
:mod:`agents.rundir`) gets the resolved config, command line, versions, TensorBoard and CSV logs,
evaluations on the held-out scenarios, checkpoints, ``best_model.zip`` and ``final_model.zip``. A
directory that already holds a run is refused unless ``--resume`` continues it or ``--overwrite``
replaces it. A progress bar on stderr unless ``--quiet``. Needs the ``rl`` extra (torch, SB3).
"""

from __future__ import annotations

import argparse
import sys

from scar_gym.commands.args import seed


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train a MaskablePPO scheduler from a YAML config",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("config", metavar="CONFIG", help="YAML path or name in configs/train/")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set ppo.learning_rate=1.0e-4 (repeatable)")
    p.add_argument("--seed", type=seed, default=None, help="shortcut for --set seed=N")
    p.add_argument("--timesteps", type=int, default=None, help="shortcut for --set n_timesteps=N")
    p.add_argument("--run-dir", default=None,
                   help="output directory (default runs/ppo_mask/<Env>_<name>_s<seed>_<hash of the config>)")
    p.add_argument("--runs-root", default="runs", help="root of the default run directory")
    p.add_argument("--resume", nargs="?", const="latest", default=None, metavar="CKPT",
                   help="continue the run from a checkpoint zip (default: the run directory's latest); its weights "
                        "only are read, nothing is unpickled; everything in the run directory is kept")
    p.add_argument("--overwrite", action="store_true",
                   help="delete the run already in the run directory and start anew")
    p.add_argument("-q", "--quiet", "--no-progress", dest="quiet", action="store_true",
                   help="no progress bar (--no-progress: the same)")
    p.set_defaults(func=train_cmd)


def train_cmd(args: argparse.Namespace) -> int:
    from agents.config import load_config, parse_overrides

    overrides = parse_overrides(args.overrides)
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.timesteps is not None:
        overrides["n_timesteps"] = args.timesteps
    if args.quiet:
        overrides["progress_bar"] = False
    cfg = load_config(args.config, overrides)
    from pathlib import Path

    from agents.config import resolve_config_path
    from agents.rundir import default_run_dir
    from agents.train import train
    from scar_gym.errors import ConfigError

    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir(cfg, args.runs_root)
    config_path = resolve_config_path(args.config)
    if args.resume is None and (run_dir / "config.yaml").is_file() and (run_dir / "config.yaml").samefile(config_path):
        raise ConfigError("--run-dir", f"{str(run_dir)!r} holds the config being read ({config_path}); a new run "
                          "would overwrite it", "give another --run-dir, or --resume a checkpoint of that run")

    run_dir = train(cfg, run_dir=run_dir, resume=args.resume, argv=["scar-gym", *sys.argv[1:]],
                    runs_root=args.runs_root, overwrite=args.overwrite)
    print(f"run directory: {run_dir}")
    for name in ("best_model.zip", "final_model.zip"):
        if (run_dir / name).exists():
            print(f"  {name}: {run_dir / name}")
    print(f"evaluate with: scar-gym eval --agent {run_dir} --suite random-20")
    return 0


def register_convert(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "convert-agent", help="turn a trusted Stable-Baselines3 zip into an agent directory (weights only)",
        description="Load ZIP with MaskablePPO.load -- which runs code stored in the file, hence --trust -- and "
                    "write OUT/agent.json (network, spaces, training config) and OUT/policy.pt (weights), which "
                    "load without running anything; the conversion is checked by loading OUT back.")
    p.add_argument("zip", metavar="ZIP", help="a model zip saved by Stable-Baselines3 (MaskablePPO)")
    p.add_argument("out", metavar="OUT", help="the agent directory to write")
    p.add_argument("--config", default=None, metavar="YAML",
                   help="the training config (default: config.yaml beside the zip, or one folder up)")
    p.add_argument("--trust", action="store_true",
                   help="required: loading the zip unpickles objects stored in it, which can run any code")
    p.set_defaults(func=convert_cmd)


def convert_cmd(args: argparse.Namespace) -> int:
    from pathlib import Path

    from agents.agentfile import AGENT_JSON, WEIGHTS, load_agent, load_sb3_zip, save_agent
    from agents.config import load_config
    from scar_gym.errors import ConfigError
    from scar_gym.fileio import check_outputs

    zip_path, out = Path(args.zip), Path(args.out)
    config = Path(args.config) if args.config else next(
        (c for c in (zip_path.parent / "config.yaml", zip_path.parent.parent / "config.yaml") if c.is_file()), None)
    if config is None:
        raise ConfigError("--config", f"no config.yaml beside {str(zip_path)!r}",
                          "give the agent's training config with --config")
    if out.exists() and not out.is_dir():
        raise ConfigError("OUT", f"{str(out)!r} is a file", "give a directory to write the agent to")
    check_outputs({f"OUT/{AGENT_JSON}": out / AGENT_JSON, f"OUT/{WEIGHTS}": out / WEIGHTS}, [zip_path, config])
    cfg = load_config(config)
    model = load_sb3_zip(zip_path, args.trust, "ZIP")
    save_agent(model.policy, out, cfg.to_dict(), {"converted_from": zip_path.name,
                                                  "num_timesteps": int(model.num_timesteps)})
    back = load_agent(out).policy.state_dict()
    same = model.policy.state_dict()
    if set(back) != set(same) or not all(bool((back[k] == same[k]).all()) for k in same):
        raise ConfigError("OUT", "the written agent does not load back to the zip's weights", "report this as a bug")
    n = sum(v.numel() for v in same.values())
    print(f"wrote {out / AGENT_JSON} and {out / WEIGHTS}: {len(same)} tensors, {n:,} parameters, "
          f"identical to {zip_path.name}'s")
    return 0
