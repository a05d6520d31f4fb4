"""scar_gym.benchmark (the harness behind `scar-gym eval`) with cheap stand-in policies: ratios, CSV/JSON, CLI."""

from __future__ import annotations

import csv
import json

import pytest

from scar_gym import benchmark as bench
from scar_gym.policies.base import Policy
from scar_gym.policies.registry import POLICIES
from scar_gym.schedule import Assignment, Schedule, Segment, Window
from scar_gym.suites import suite_scenarios


class OnePerModel(Policy):
    """One window; model i runs all its layers on chiplet ``i + offset`` (a valid, trivial schedule)."""

    name = "one-per-model"

    def __init__(self, offset: int = 0):
        self.offset = offset

    def schedule(self, evaluator, seed=None):
        n = evaluator.mcm.num_chiplets
        a = tuple(Assignment(m, (Segment(0, L, (m + self.offset) % n),)) for m, L in enumerate(evaluator.num_layers))
        return Schedule((Window(a),), {"policy": self.name, "evaluations": 1})


class Shifted(OnePerModel):
    def __init__(self):
        super().__init__(offset=3)


@pytest.fixture
def stand_ins(monkeypatch):
    monkeypatch.setitem(POLICIES, "t-ref", (f"{__name__}:OnePerModel", "test reference"))
    monkeypatch.setitem(POLICIES, "t-shift", (f"{__name__}:Shifted", "test policy"))


def test_benchmark_rows_ratios_and_files(stand_ins, tmp_path):
    scens = suite_scenarios("paper")[:2]
    rows = bench.run_benchmark(["t-shift"], scenarios=scens, reference="t-ref")
    assert [(r.policy, r.scenario) for r in rows] == [("t-ref", "sc1"), ("t-shift", "sc1"),
                                                      ("t-ref", "sc2"), ("t-shift", "sc2")]
    for r in rows:
        assert r.mcm == "het-sides-3x3" and r.edp_js == pytest.approx(r.latency_s * r.energy_j)
        if r.policy == "t-ref":
            assert r.edp_vs_scar == 1.0
    board = bench.leaderboard(rows)
    assert {d["policy"] for d in board} == {"t-ref", "t-shift"}
    text = bench.format_leaderboard(board)
    assert "EDP/SCAR" in text and "t-shift" in text
    bench.write_csv(rows, tmp_path / "r.csv")
    with (tmp_path / "r.csv").open() as f:
        got = list(csv.DictReader(f))
    assert list(got[0]) == list(bench.CSV_COLUMNS) and len(got) == 4
    bench.write_json(rows, tmp_path / "r.json", "paper", 0, "het-sides-3x3")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["seed_split"]["validation"] == [10000, 19999] and len(doc["rows"]) == 4
    entry = next(d for d in doc["leaderboard"] if d["policy"] == "t-shift")
    assert entry["geomean_ci95"][0] <= entry["geomean_edp_vs_scar"] <= entry["geomean_ci95"][1]
    assert doc["intervals"]["confidence"] == 0.95 and "iqm_ci95" in entry
    # deterministic apart from the wall time
    again = bench.run_benchmark(["t-shift"], scenarios=scens, reference="t-ref")
    assert [r.edp_js for r in again] == [r.edp_js for r in rows]


def test_policy_label():
    assert bench.policy_label("scar") == "scar"
    assert bench.policy_label("ppo:runs/x/best_model.zip") == "ppo:x/best_model"


def test_leaderboard_reports_the_greedy_rollout_of_learned_policies():
    def row(pol, sc, edp, ratio, meta):
        return bench.Row(policy=pol, scenario=sc, mcm="m", latency_s=1.0, energy_j=edp, edp_js=edp,
                         edp_vs_scar=ratio, scheduler_s=0.1, num_evaluations=1, meta=meta)

    # SCAR's EDP: 2.0 on a, 4.0 on b; the agent keeps 1.0 and 4.0 after search, its greedy rollouts were 2.0 and 8.0
    rows = [row("scar", "a", 2.0, 1.0, {}), row("scar", "b", 4.0, 1.0, {}),
            row("ppo", "a", 1.0, 0.5, {"greedy_edp_js": 2.0}), row("ppo", "b", 4.0, 1.0, {"greedy_edp_js": 8.0})]
    board = {d["policy"]: d for d in bench.leaderboard(rows)}
    assert board["ppo"]["geomean_edp_vs_scar"] == pytest.approx(0.5 ** 0.5)
    assert board["ppo"]["greedy_geomean_edp_vs_scar"] == pytest.approx(2.0 ** 0.5)  # ratios 1.0 and 2.0
    assert board["scar"]["greedy_geomean_edp_vs_scar"] is None
    text = bench.format_leaderboard(list(board.values()))
    assert "greedy" in text and "1.414" in text


def test_leaderboard_adds_intervals_over_the_scenarios_and_keeps_the_old_columns():
    ratios = [0.5, 1.0, 1.0, 2.0]  # on scenarios a..d; SCAR = 1
    rows = [bench.Row(policy=p, scenario=sc, mcm="m", latency_s=1.0, energy_j=r, edp_js=r, edp_vs_scar=r,
                      scheduler_s=0.1) for sc, r in zip("abcd", ratios) for p, r in (("scar", 1.0), ("x", r))]
    board = {d["policy"]: d for d in bench.leaderboard(rows, reps=4000)}
    x = board["x"]
    # the old columns, as before
    assert (x["scenarios"], x["geomean_edp_vs_scar"], x["best"], x["worst"], x["wins"], x["ties"]) == (
        4, pytest.approx(1.0), 0.5, 2.0, 1, 2)
    # the new ones: IQM = mean of the middle two (1.0, 1.0); bootstrap over the 4 scenarios reaches
    # replicates as far as geomean(0.5, 0.5, 0.5, 1.0) = 0.59 and 1.68 at the 2.5% / 97.5% ends
    assert x["iqm_edp_vs_scar"] == 1.0 and x["losses"] == 1
    lo, hi = x["geomean_ci95"]
    assert 0.5 < lo < 0.8 and 1.25 < hi < 2.0
    assert board["scar"]["geomean_ci95"] == [1.0, 1.0] and board["scar"]["iqm_ci95"] == [1.0, 1.0]
    header = bench.format_leaderboard(list(board.values())).splitlines()[0]
    assert header.split()[:6] == ["rank", "policy", "n", "EDP/SCAR", "(geo)", "95%"] and "IQM 95% CI" in header
    nan = [bench.Row(policy="y", scenario="a", mcm="m", latency_s=1.0, energy_j=0.0, edp_js=0.0,
                     edp_vs_scar=float("nan"), scheduler_s=0.1)]
    assert bench.leaderboard(nan)[0]["geomean_ci95"] is None  # left out, as the geometric mean leaves it out


def test_agents_whose_short_labels_collide_keep_their_full_specs(tmp_path):
    pytest.importorskip("sb3_contrib")
    import shutil

    from agents import ANCHORED_3X3_AGENT, PRETRAINED_DIR
    from scar_gym.scenarios import load_scenario

    # the small 3x3 agent (300 KB, 1 rollout on sc8): any agent shows the labels
    copy = tmp_path / "other" / "pretrained" / ANCHORED_3X3_AGENT
    shutil.copytree(PRETRAINED_DIR / ANCHORED_3X3_AGENT, copy)
    specs = [f"ppo:{PRETRAINED_DIR / ANCHORED_3X3_AGENT}", f"ppo:{copy}"]
    assert bench.policy_label(specs[0]) == bench.policy_label(specs[1])
    rows = bench.run_benchmark(specs, scenarios=[load_scenario("sc8")], reference="standalone",
                               rollout_kwargs={"samples": 1})
    assert [r.policy for r in rows] == ["standalone", *specs]


def test_cost_preset_scores_every_policy_and_is_recorded(stand_ins, tmp_path):
    scens = suite_scenarios("sc9")
    paper = bench.run_benchmark(["t-shift"], scenarios=scens, reference="t-ref")
    legacy = bench.run_benchmark(["t-shift"], scenarios=scens, reference="t-ref", cost_preset="legacy")
    assert [r.edp_js for r in paper] != [r.edp_js for r in legacy]
    path = tmp_path / "b.json"
    bench.write_json(legacy, path, "sc9", 0, "het-sides-3x3", "legacy")
    assert json.loads(path.read_text())["cost_model"]["preset"]["name"] == "legacy"
