"""The reproduction helpers: paper data, the headline formula, and a one-scenario CLI run."""

import csv

import pytest

from scar_gym import reproduce as rp
from scar_gym.cli import main
from scar_gym.suites import suite_ids


def test_paper_headline_recomputes_from_the_paper_tables():
    paper = rp.paper_results()
    dc = paper["datacenter"]["edp_js"]
    assert rp.headline_saving(dc, suite_ids("datacenter")) == pytest.approx(0.276, abs=0.001)
    ar = paper["arvr"]["edp_rel_standalone_nvd"]
    assert rp.headline_saving(ar, suite_ids("arvr")) == pytest.approx(0.296, abs=0.001)
    assert set(rp.STRATEGIES) == set(dc) == set(ar)


def test_run_table_one_scenario_and_csv(tmp_path):
    rows = rp.run_table("arvr", scenarios=["sc8"], strategies=["standalone-nvd", "het-sides"])
    assert [r.strategy for r in rows] == ["standalone-nvd", "het-sides"]
    assert rows[0].edp_rel_standalone_nvd == 1.0
    assert rows[1].paper_edp == 0.83 and rows[1].scheduler_s > 0 and rows[1].evaluations > 0
    path = tmp_path / "t.csv"
    rp.write_csv(path, rows)
    got = list(csv.DictReader(path.open()))
    assert list(got[0]) == list(rp.CSV_FIELDS)
    assert got[1]["mcm"] == "het-sides-3x3" and got[1]["policy"] == "scar"


def test_cli_rejects_6x6_for_arvr(capsys):
    assert main(["reproduce", "arvr", "--size", "6x6"]) == 2
    assert "scenario 4" in capsys.readouterr().err
