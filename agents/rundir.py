"""The run directory (rl-conventions 8.12), written without torch.

::

    runs/ppo_mask/<EnvId-with-dashes>_<config-name>_s<seed>/
      config.yaml      resolved config (yaml.safe_dump: plain YAML, loadable by agents.config)
      command.txt      exact argv
      versions.json    python, scar_gym, gymnasium, SB3, sb3-contrib, torch, numpy, git SHA, CPU
                       (scar_gym.provenance.versions)
      tb/              TensorBoard
      progress.csv     SB3 logger CSV
      monitor/         Monitor CSVs (training episodes, with edp_js / latency_s / energy_j)
      eval/            evaluations.npz (MaskableEvalCallback) + edp_vs_ref.csv (EDP / SCAR EDP per eval)
      checkpoints/     rl_model_<steps>_steps.zip (a resumed run also keeps the earlier final model here)
      best_model.zip   final_model.zip   (SB3 zips: pickles, loaded only with --trust; --resume reads their weights)
      best_agent/      final_agent/      (agent directories: agent.json + policy.pt, weights only)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from scar_gym.provenance import versions


def run_dir_name(env_id: str, config_name: str, seed: int) -> str:
    env = env_id.split(":")[-1].replace("/", "-")
    return f"{env}_{config_name or 'run'}_s{seed}"


def default_run_dir(cfg: Any, root: str | Path = "runs") -> Path:
    return Path(root) / cfg.algo / run_dir_name(cfg.env_id, cfg.name, cfg.seed)


def write_run_metadata(run_dir: str | Path, config: dict[str, Any], argv: list[str] | None = None) -> Path:
    """Create ``run_dir`` and write config.yaml, command.txt and versions.json."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (run_dir / "command.txt").write_text(" ".join(argv if argv is not None else sys.argv) + "\n")
    (run_dir / "versions.json").write_text(json.dumps(versions(), indent=1) + "\n")
    return run_dir
