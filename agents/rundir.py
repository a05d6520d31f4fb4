"""The run directory (rl-conventions 8.12), written without torch.

::

    runs/ppo_mask/<EnvId-with-dashes>_<config-name>_s<seed>_<hash>/
      config.yaml      resolved config (yaml.safe_dump: plain YAML, loadable by agents.config)
      command.txt      exact argv (a resumed run appends its own)
      versions.json    python, scar_gym, gymnasium, SB3, sb3-contrib, torch, numpy, git SHA and whether
                       the tree had uncommitted changes, CPU (scar_gym.provenance.versions)
      tb/              TensorBoard
      progress.csv     SB3 logger CSV
      monitor/         Monitor CSVs (training episodes, with edp_js / latency_s / energy_j)
      eval/            evaluations.npz (MaskableEvalCallback) + edp_vs_ref.csv (EDP / SCAR EDP per eval)
      checkpoints/     rl_model_<steps>_steps.zip (a resumed run also keeps the earlier final model here)
      best_model.zip   final_model.zip   (SB3 zips: pickles, loaded only with --trust; --resume reads their weights)
      best_agent/      final_agent/      (agent directories: agent.json + policy.pt, weights only)

The default name ends with :func:`config_hash`, a short hash of the resolved config: two configs
(another ``--set``, an edited YAML) never share a directory, while a run resumed with a larger
``n_timesteps`` keeps its own. A directory that already holds a run is refused unless the run is
resumed or ``overwrite`` replaces it (:func:`check_run_dir`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from agents.config import RUNTIME_KEYS
from scar_gym.errors import ConfigError
from scar_gym.provenance import versions

#: Files only a run directory holds; ``--overwrite`` deletes a directory only if it has one of them.
RUN_MARKERS = ("config.yaml", "command.txt", "versions.json")


def config_hash(config: dict[str, Any]) -> str:
    """6 hex digits of the SHA-256 of the resolved config without :data:`~agents.config.RUNTIME_KEYS`
    (which a resumed run may change): equal configs, equal hashes, whatever the key order."""
    identity = {k: v for k, v in config.items() if k not in RUNTIME_KEYS}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:6]


def run_dir_name(env_id: str, config_name: str, seed: int, digest: str | None = None) -> str:
    env = env_id.split(":")[-1].replace("/", "-")
    return f"{env}_{config_name or 'run'}_s{seed}" + (f"_{digest}" if digest else "")


def default_run_dir(cfg: Any, root: str | Path = "runs") -> Path:
    """``root/<algo>/<Env>_<name>_s<seed>_<config hash>``."""
    return Path(root) / cfg.algo / run_dir_name(cfg.env_id, cfg.name, cfg.seed, config_hash(cfg.to_dict()))


def holds_run(run_dir: Path) -> bool:
    """Whether ``run_dir`` exists with anything in it (an empty folder is free to use)."""
    return run_dir.is_dir() and any(run_dir.iterdir())


def check_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse, before anything is written, a directory that would mix or lose work: a file, a
    directory that already holds something (unless ``resume`` or ``overwrite``), or ``overwrite``
    of a directory that is not a run directory."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError("--run-dir", f"{str(run_dir)!r} is a file", "give a directory for the run")
    if resume and overwrite:
        raise ConfigError("--overwrite", "cannot be combined with --resume", "give one of them")
    if not holds_run(run_dir) or resume:
        return
    is_run = any((run_dir / m).is_file() for m in RUN_MARKERS)
    if not overwrite:
        if not is_run:
            raise ConfigError("--run-dir", f"{str(run_dir)!r} is not empty and holds no run",
                              "give a new or empty directory")
        raise ConfigError("--run-dir", f"{str(run_dir)!r} already holds a run", "give --resume to continue it, "
                          "--overwrite to replace it, or another --run-dir")
    if not is_run:
        raise ConfigError("--overwrite", f"{str(run_dir)!r} is not a run directory (no {', '.join(RUN_MARKERS)}); "
                          "--overwrite deletes only run directories", "give another --run-dir")


def clear_run_dir(run_dir: Path) -> None:
    """Delete everything in a run directory (``--overwrite``, after :func:`check_run_dir`)."""
    import shutil

    shutil.rmtree(run_dir)


def write_run_metadata(run_dir: str | Path, config: dict[str, Any], argv: list[str] | None = None) -> Path:
    """Create ``run_dir`` and write config.yaml, command.txt and versions.json."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (run_dir / "command.txt").write_text(" ".join(argv if argv is not None else sys.argv) + "\n")
    (run_dir / "versions.json").write_text(json.dumps(versions(), indent=1) + "\n")
    return run_dir
