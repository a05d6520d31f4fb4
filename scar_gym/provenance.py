"""Where a result came from: package versions, the git commit and the CPU, for run directories
(``versions.json``) and benchmark JSON files.

Library code, not agent code: ``scar-gym eval --json`` records it without ``agents/`` installed.
Every lookup degrades to ``None`` (or the platform's own CPU string) instead of failing, because a
missing git checkout or ``/proc`` must never stop a run from being written.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from scar_gym.paths import REPO_ROOT

#: Distributions whose versions decide a result (the cost model, the env API, the learners).
DISTRIBUTIONS: tuple[str, ...] = ("scar-gym", "gymnasium", "stable-baselines3", "sb3-contrib", "torch", "numpy")


def git_sha(repo: Path = REPO_ROOT) -> str | None:
    """The checked-out commit of the repository holding scar_gym, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def git_dirty(repo: Path = REPO_ROOT) -> bool | None:
    """Whether tracked files differ from the checked-out commit (staged or not), so the SHA alone does
    not say what ran; untracked files (run directories, results) do not count. None outside a git
    checkout."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(out.stdout.strip()) if out.returncode == 0 else None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, Any]:
    """Python, platform, CPU, the versions of :data:`DISTRIBUTIONS` (None if not installed), git SHA and
    ``git_dirty`` (:func:`git_dirty`)."""
    from importlib import metadata

    out: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform(), "cpu": cpu_model()}
    for dist in DISTRIBUTIONS:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    out["git_sha"] = git_sha()
    out["git_dirty"] = git_dirty()
    return out
