"""scar_gym.provenance: the versions, commit and CPU that run directories and benchmark files record."""

from __future__ import annotations

import re

from scar_gym import __version__, provenance


def test_versions_name_every_distribution_the_results_depend_on():
    v = provenance.versions()
    assert set(provenance.DISTRIBUTIONS) <= set(v)
    assert v["scar-gym"] == __version__
    assert v["python"].count(".") == 2
    assert v["cpu"]


def test_git_sha_is_the_checked_out_commit():
    sha = provenance.git_sha()
    assert sha is None or re.fullmatch(r"[0-9a-f]{40}", sha)


def test_git_dirty_tells_uncommitted_changes_of_tracked_files(tmp_path):
    import subprocess

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    assert provenance.git_dirty(tmp_path) is None  # not a checkout
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "empty")
    (tmp_path / "a.txt").write_text("one\n")
    assert provenance.git_dirty(tmp_path) is False  # an untracked file (a run directory) is not a change
    git("add", "a.txt")
    assert provenance.git_dirty(tmp_path) is True  # staged
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "a")
    assert provenance.git_dirty(tmp_path) is False
    (tmp_path / "a.txt").write_text("two\n")
    assert provenance.git_dirty(tmp_path) is True
    assert isinstance(provenance.versions()["git_dirty"], (bool, type(None)))
