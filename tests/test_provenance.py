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
