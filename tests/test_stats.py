"""scar_gym.stats: IQM, geometric mean and stratified-bootstrap intervals against hand-computed values
and against rliable's own numbers."""

from __future__ import annotations

import numpy as np
import pytest

from scar_gym.errors import ConfigError
from scar_gym.stats import (Interval, Summary, format_summary_table, geomean, iqm, stratified_bootstrap_ci,
                            summarize, summary_dict)


def test_iqm_drops_a_quarter_at_each_end():
    assert iqm([10, 1, 9, 2, 8, 3, 7, 4, 6, 5]) == pytest.approx(5.5)  # floor(10/4) = 2 cut: mean of 3..8
    assert iqm(range(1, 9)) == pytest.approx(4.5)  # 2 cut: mean of 3..6
    assert iqm([[1, 100], [2, 3]]) == pytest.approx(2.5)  # flattened, 1 cut at each end
    assert iqm([7.0, 1.0, 4.0]) == pytest.approx(4.0)  # floor(3/4) = 0: the plain mean
    with pytest.raises(ValueError):
        iqm([])


def test_iqm_is_scipys_trim_mean_when_scipy_is_there():
    stats = pytest.importorskip("scipy.stats")
    x = np.random.default_rng(3).lognormal(size=(5, 13))
    assert iqm(x) == pytest.approx(stats.trim_mean(x, 0.25, axis=None), rel=1e-14)


def test_geomean_and_its_refusals():
    assert geomean([1, 4]) == pytest.approx(2.0)
    assert geomean([[0.5, 2.0], [1.0, 1.0]]) == pytest.approx(1.0)
    for bad in ([1.0, 0.0], [1.0, float("nan")], [-1.0, 2.0]):
        with pytest.raises(ValueError, match="finite positive"):
            geomean(bad)


def test_one_run_bootstraps_the_scenarios():
    """One run [1, 4]: each replicate draws 2 scenarios with replacement, so its geometric mean is
    1, 2 or 4 with probability 1/4, 1/2, 1/4; the 2.5th and 97.5th percentiles are 1 and 4."""
    iv = stratified_bootstrap_ci(np.array([[1.0, 4.0]]), geomean, reps=4000, seed=1)
    assert iv == Interval(point=2.0, lo=1.0, hi=4.0)
    assert stratified_bootstrap_ci(np.array([1.0, 4.0]), geomean, reps=4000, seed=1) == iv  # 1-D: one run


def test_several_runs_are_resampled_within_each_scenario():
    # every seed scored the same on each scenario: resampling seeds changes nothing, the spread
    # between scenarios does not enter the interval
    same = np.array([[0.5, 1.0, 2.0, 4.0]] * 3)
    assert stratified_bootstrap_ci(same, iqm, reps=500) == Interval(iqm(same), iqm(same), iqm(same))
    # ... unless the scenarios are resampled as well
    both = stratified_bootstrap_ci(same, iqm, reps=500, task_bootstrap=True)
    assert both.lo < both.point < both.hi
    # two seeds on one scenario, mean statistic: replicates are 1, 2 or 3 (prob 1/4, 1/2, 1/4)
    iv = stratified_bootstrap_ci(np.array([[1.0], [3.0]]), np.mean, reps=2000, seed=0)
    assert (iv.point, iv.lo, iv.hi) == (2.0, 1.0, 3.0)


#: Computed once with rliable 1.2.0 (arch 7.2.0, numpy 2.4) in a scratch environment:
#:   np.random.seed(7); rly.get_interval_estimates({"a": SCORES}, f, reps=500, task_bootstrap=TB)
#: with f = metrics.aggregate_IQM or the geometric mean (wrapped in np.array([...])); "one run" is
#: SCORES[:1] with task_bootstrap=True. Each entry: [point, lo, hi].
SCORES = [[1.0251, 0.9931, 1.0329, 1.0791, 0.9884, 0.9884, 1.0822, 1.0391, 0.9768, 1.0275],
          [0.9771, 0.977, 1.0122, 0.9088, 0.9174, 0.9723, 0.9506, 1.0158, 0.9556, 0.9318],
          [1.076, 0.9888, 1.0034, 0.9312, 0.9731, 1.0056, 0.9441, 1.019, 0.9704, 0.9855]]
RLIABLE = {
    ("iqm", False): [0.99043125, 0.9787592187499999, 1.00240515625],
    ("iqm", True): [0.99043125, 0.96844671875, 1.012619375],
    ("iqm", "one run"): [1.0176833333333333, 0.9960833333333333, 1.0492066666666666],
    ("geomean", False): [0.9906379821403282, 0.9779537988949899, 1.0042286370867552],
    ("geomean", True): [0.9906379821403282, 0.9724186695471636, 1.0102702273127657],
    ("geomean", "one run"): [1.0226563078578255, 1.0030032964858357, 1.0444922199646096],
}


@pytest.mark.parametrize("key", list(RLIABLE))
def test_intervals_equal_rliables(key):
    name, mode = key
    stat = {"iqm": iqm, "geomean": geomean}[name]
    scores = np.array(SCORES)
    if mode == "one run":
        iv = stratified_bootstrap_ci(scores[:1], stat, reps=500, seed=7)
    else:
        iv = stratified_bootstrap_ci(scores, stat, reps=500, seed=7, task_bootstrap=mode)
    np.testing.assert_allclose(iv.as_list(), RLIABLE[key], rtol=0, atol=1e-12)
    # any callable gives the same replicates as the vectorised built-ins
    assert stratified_bootstrap_ci(scores[:1] if mode == "one run" else scores, lambda x: stat(x), reps=500,
                                   seed=7, task_bootstrap=mode is True) == iv


def test_the_seed_fixes_the_interval():
    x = np.random.default_rng(0).lognormal(0, 0.05, size=(3, 10))
    a, b = (stratified_bootstrap_ci(x, geomean, seed=s) for s in (0, 0))
    assert a == b
    c = stratified_bootstrap_ci(x, geomean, seed=1)
    assert c.point == a.point and (c.lo, c.hi) != (a.lo, a.hi)
    wide = stratified_bootstrap_ci(x, geomean, confidence=0.99)
    assert wide.lo <= a.lo and wide.hi >= a.hi


def test_bad_input_is_one_clear_error():
    with pytest.raises(ConfigError, match="scores: 1 value"):
        stratified_bootstrap_ci(np.array([[1.0, float("nan")]]), geomean)
    with pytest.raises(ConfigError, match="reps: must be an integer"):
        stratified_bootstrap_ci(np.ones((2, 2)), geomean, reps=0)
    with pytest.raises(ConfigError, match="confidence"):
        stratified_bootstrap_ci(np.ones((2, 2)), geomean, confidence=95)
    with pytest.raises(ConfigError, match="shape"):
        stratified_bootstrap_ci(np.ones((2, 2, 2)), geomean)
    with pytest.raises(ConfigError, match="ratios: EDP ratios must be > 0"):
        summarize(np.array([1.0, 0.0]))


def test_summarize_counts_wins_ties_losses_over_every_pair():
    ratios = np.array([[0.9, 1.0, 1.1], [1.0 + 1e-12, 0.99, 1.2]])
    s = summarize(ratios, reps=200)
    assert (s.n_runs, s.n_tasks, s.wins, s.ties, s.losses) == (2, 3, 2, 2, 2)
    assert s.geomean.point == pytest.approx(geomean(ratios)) and s.iqm.point == pytest.approx(iqm(ratios))
    assert s.geomean == stratified_bootstrap_ci(ratios, geomean, 200)
    one = summarize([0.5, 1.0, 2.0], reps=200)
    assert (one.n_runs, one.n_tasks, one.wins, one.ties, one.losses) == (1, 3, 1, 1, 1)
    assert summary_dict(one)["geomean"] == one.geomean.as_list()


def test_summary_table():
    rows = {"shipped": Summary(3, 10, Interval(0.99, 0.98, 1.0), Interval(1.0006, 0.999, 1.002), 4, 9, 17),
            "scar": Summary(1, 10, Interval(1.0, 1.0, 1.0), Interval(1.0, 1.0, 1.0), 0, 10, 0)}
    lines = format_summary_table(rows).splitlines()
    assert lines[0].split()[:2] == ["policy", "n"] and "W/T/L" in lines[0]
    assert lines[2].split() == ["shipped", "3x10", "0.9900", "[0.9800,", "1.0000]", "1.0006", "[0.9990,", "1.0020]",
                                "4/9/17"]
    assert lines[3].split()[:2] == ["scar", "10"]
