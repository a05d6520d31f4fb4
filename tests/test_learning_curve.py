"""scripts/learning_curve.py: the band is the stratified-bootstrap interval over (seed, scenario) ratios."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from scar_gym.stats import geomean, stratified_bootstrap_ci

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("learning_curve", ROOT / "scripts" / "learning_curve.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_band_is_the_bootstrap_interval_not_the_min_max(tmp_path):
    lc = _script()
    per = [{"a": 1.0, "b": 0.9, "c": 1.2}, {"a": 1.1, "b": 1.0, "c": 1.0}]
    curves = [[(100, geomean(list(p.values())), p), (200, 1.0, {"a": 1.0, "b": 1.0, "c": 1.0})] for p in per]
    curves[1] = curves[1][:1]  # the second seed has not evaluated at step 200 yet: its step-100 value stands
    agg = lc.aggregate(curves, reps=500)
    assert [a["timesteps"] for a in agg] == [100, 200] and [a["seeds"] for a in agg] == [2, 2]
    m = np.array([[p[k] for k in "abc"] for p in per])
    iv = stratified_bootstrap_ci(m, geomean, reps=500)
    assert (agg[0]["geomean"], agg[0]["ci_lo"], agg[0]["ci_hi"]) == (iv.point, iv.lo, iv.hi)
    assert agg[0]["min"] == pytest.approx(geomean(m[0])) and agg[0]["max"] == pytest.approx(geomean(m[1]))
    # files named <config>_s<seed>_edp_vs_ref.csv group by config
    f = tmp_path / "reloc_s3_edp_vs_ref.csv"
    f.write_text('timesteps,geomean_edp_vs_ref,reference,n,wall_s,per_scenario\n10,0.5,scar,1,1.0,"{""a"": 0.5}"\n')
    assert lc.read_run(f) == ("reloc", [(10, 0.5, {"a": 0.5})])
    # a run resumed from step 10 after it had logged 20 and 30: its new 20 replaces both
    with f.open("a") as fh:
        fh.write('20,0.6,scar,1,1.0,"{}"\n30,0.7,scar,1,1.0,"{}"\n20,0.8,scar,1,1.0,"{}"\n')
    assert [p[:2] for p in lc.read_run(f)[1]] == [(10, 0.5), (20, 0.8)]
