"""`scar-gym summarize`: several seeds' eval files pooled per config, with intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scar_gym.benchmark import CSV_COLUMNS
from scar_gym.cli import main
from scar_gym.stats import summarize


def _write(path, ratios: dict[str, list[float]], scenarios=("a", "b", "c")):
    lines = [",".join(CSV_COLUMNS)]
    for policy, rs in ratios.items():
        for sc, r in zip(scenarios, rs):
            lines.append(f"{policy},{sc},m,1.0,{r},{r},{r},0.1")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_seeds_in_one_file_and_across_files_are_pooled(tmp_path, capsys):
    one = _write(tmp_path / "s0.csv", {"scar": [1, 1, 1], "ppo:run_s0/best": [0.9, 1.0, 1.2],
                                       "ppo:run_s1/best": [0.95, 1.0, 1.1]})
    two = _write(tmp_path / "s2.csv", {"scar": [1, 1, 1], "ppo:run_s2/best": [1.0, 0.8, 1.0]})
    out = tmp_path / "sum.json"
    assert main(["summarize", one, two, "--group", "run=ppo:run_s*", "--reps", "300", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    doc = json.loads(out.read_text())
    run = doc["configs"]["run"]
    expected = summarize(np.array([[0.9, 1.0, 1.2], [0.95, 1.0, 1.1], [1.0, 0.8, 1.0]]), reps=300)
    assert run["geomean"] == expected.geomean.as_list() and run["iqm"] == expected.iqm.as_list()
    assert (run["n_runs"], run["n_tasks"], run["wins"], run["ties"], run["losses"]) == (3, 3, 3, 4, 2)
    assert [r["policy"] for r in run["runs"]] == ["ppo:run_s0/best", "ppo:run_s1/best", "ppo:run_s2/best"]
    assert doc["configs"]["scar"]["n_runs"] == 2  # the same label in two files: two runs
    line = next(ln for ln in text.splitlines() if ln.startswith("run "))
    assert line.split()[1] == "3x3" and line.split()[-1] == "3/4/2"


def test_runs_of_a_config_must_score_the_same_scenarios(tmp_path, capsys):
    one = _write(tmp_path / "p.csv", {"x": [1.0, 0.9, 1.1]})
    two = _write(tmp_path / "q.csv", {"x": [1.0, 0.9, 1.1]}, scenarios=("a", "b", "z"))
    assert main(["summarize", one, two]) == 2
    err = capsys.readouterr().err
    assert "score different scenarios (c, z" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["--group", "nothing=zzz*"], "matches no policy"),
    (["--group", "bad"], "expected NAME=PATTERN"),
    (["--greedy"], "holds no greedy rollouts"),
    (["--group", "a=x", "--group", "b=x*"], "matches both"),
])
def test_bad_options_are_one_line_errors(tmp_path, capsys, argv, message):
    f = _write(tmp_path / "p.csv", {"x": [1.0, 0.9, 1.1]})
    assert main(["summarize", f, *argv]) == 2
    assert message in capsys.readouterr().err


def test_greedy_reads_the_json_rows(tmp_path):
    rows = [{"policy": "scar", "scenario": "a", "edp_js": 2.0, "edp_vs_scar": 1.0, "meta": {}},
            {"policy": "ppo", "scenario": "a", "edp_js": 1.0, "edp_vs_scar": 0.5, "meta": {"greedy_edp_js": 3.0}}]
    (tmp_path / "r.json").write_text(json.dumps({"rows": rows}))
    out = tmp_path / "s.json"
    assert main(["summarize", str(tmp_path / "r.json"), "--greedy", "--reps", "10", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["configs"]["ppo"]["geomean"][0] == pytest.approx(1.5)  # 3.0 / 2.0
