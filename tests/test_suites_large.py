"""The large-RxC suites (issue 15): their own MCMs per scenario, random scenarios of 4-12 models."""

from __future__ import annotations

import pytest

from scar_gym.benchmark import leaderboard, run_benchmark
from scar_gym.errors import ConfigError
from scar_gym.suites import LARGE_PAPER, large_suite, suite_ids, suite_mcms, suite_scenarios


def test_large_suite_alternates_layouts_and_draws_4_to_12_models():
    cases = large_suite(6, 6, seed=0)
    assert [sc.id for sc, _ in cases[:4]] == list(LARGE_PAPER)
    assert [m for _, m in cases] == ["het-cross-6x6", "het-sides-6x6"] * 4
    rand = [sc for sc, _ in cases[4:]]
    assert all(4 <= len(sc.models) <= 12 for sc in rand)
    assert any(len(sc.models) > 8 for sc in rand)  # past a domain's 8 distinct models: renamed copies
    for sc in rand:
        names = [m.name for m in sc.models]
        assert len(set(names)) == len(names)
    again = large_suite(6, 6, seed=0)
    def key(sc):
        return [m.name for m in sc.models], sc.batches

    assert [key(sc) for sc, _ in again[4:]] == [key(sc) for sc in rand]
    other = large_suite(6, 6, seed=1)
    assert [sc.batches for sc, _ in other[4:]] != [sc.batches for sc in rand]
    assert suite_ids("large-8x8") == (*LARGE_PAPER, "large-0-0", "large-0-1", "large-0-2", "large-0-3")
    assert suite_mcms("large-8x8")[:2] == ["het-cross-8x8", "het-sides-8x8"] and suite_mcms("paper") is None


@pytest.mark.parametrize("spec", ["large-2x2", "large-9x9", "large-6", "large-axb", "large-6x6x6"])
def test_bad_large_suites_name_the_field(spec):
    with pytest.raises(ConfigError) as e:
        suite_scenarios(spec)
    assert e.value.field == "--suite"


def test_benchmark_runs_each_scenario_on_its_own_mcm():
    rows = run_benchmark(["greedy"], suite="large-3x3", reference="standalone")
    assert {r.mcm for r in rows} == {"het-cross-3x3", "het-sides-3x3"}
    by = {(r.policy, r.scenario): r.mcm for r in rows}
    assert by[("greedy", "sc4")] == "het-cross-3x3" and by[("greedy", "sc5")] == "het-sides-3x3"
    assert len(leaderboard(rows)) == 2 and all(r.edp_vs_scar > 0 for r in rows)
    with pytest.raises(ConfigError) as e:
        run_benchmark(["greedy"], suite="large-3x3", mcm="het-sides-3x3", reference="standalone")
    assert e.value.field == "--mcm"
