"""scar_gym.parallel (shared by eval --jobs and bank build) and eval --jobs N against the serial run."""

from __future__ import annotations

import pytest

from scar_gym.errors import ConfigError, ScarGymError
from scar_gym.parallel import check_jobs, parallel_map, raise_failures


def square_or_fail(x: int) -> int:
    if x == 3:
        raise ValueError("three is refused")
    return x * x


@pytest.mark.parametrize("jobs", [1, 2])
def test_parallel_map_keeps_order_and_reports_each_failure(jobs):
    seen = []
    out = parallel_map(square_or_fail, range(6), jobs=jobs, on_result=lambda o: seen.append(o.index))
    assert [o.index for o in out] == list(range(6)) and sorted(seen) == list(range(6))
    assert [o.value for o in out if o.ok] == [0, 1, 4, 16, 25]
    (bad,) = [o for o in out if not o.ok]
    assert bad.index == 3 and bad.error.kind == "ValueError" and "three is refused" in bad.error.message
    assert "square_or_fail" in bad.error.traceback  # the worker's traceback, not the pool's
    with pytest.raises(ScarGymError, match=r"1 of 6 items failed: item 3: ValueError: three is refused"):
        raise_failures(out, lambda i: f"item {i}")


def test_jobs_bounds():
    assert check_jobs(2) == 2
    for bad in (0, -1, 10**6, True):
        with pytest.raises(ConfigError, match="--jobs"):
            check_jobs(bad)


def test_eval_jobs_2_equals_serial():
    """The same rows -- EDPs, ratios, evaluation counts and schedules -- in the same order."""
    from scar_gym.benchmark import run_benchmark
    from scar_gym.scenarios import load_scenario

    scens = [load_scenario("sc8"), load_scenario("sc10")]
    kw = dict(scenarios=scens, reference="standalone", seed=3)
    serial = run_benchmark(["greedy", "random"], **kw)
    par = run_benchmark(["greedy", "random"], jobs=2, **kw)
    assert len(serial) == 6
    key = lambda r: (r.policy, r.scenario, r.mcm, r.latency_s, r.energy_j, r.edp_js, r.edp_vs_scar,  # noqa: E731
                     r.num_evaluations)
    assert [key(r) for r in par] == [key(r) for r in serial]
    assert [r.schedule for r in par] == [r.schedule for r in serial]
    assert len({r.edp_js for r in serial}) > 2  # the policies really differ: equality is not trivial
