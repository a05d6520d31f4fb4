"""Where the built-in YAML configs live.

The configs are data beside the package (``configs/`` at the repository root), so the package is
installed in editable mode (``pip install -e .``, which the README's make targets do).
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"
MCM_DIR = CONFIG_DIR / "mcm"
SCENARIO_DIR = CONFIG_DIR / "scenarios"
TRAIN_DIR = CONFIG_DIR / "train"
