"""``scar-gym evaluate`` and ``scar-gym layer-costs`` against the library."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from scar_gym.cli import main
from scar_gym.costmodel.tables import CostModel
from scar_gym.factory import make_evaluator
from scar_gym.hardware import ChipletSpec
from scar_gym.policies.baselines import RandomPolicy
from scar_gym.presets import load_mcm
from scar_gym.scenarios import load_scenario
from scar_gym.schedule import Assignment, Schedule, Window, save_schedule_json
from scar_gym.workloads.zoo import get_model


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    scenario, mcm = load_scenario("sc1"), load_mcm("het-sides-3x3")
    ev = make_evaluator(scenario, mcm)
    s = RandomPolicy().schedule(ev, seed=3)
    r = ev.evaluate(s)
    path = tmp_path_factory.mktemp("sched") / "s.json"
    save_schedule_json(path, s, scenario.to_dict(), mcm.to_dict(), r.to_dict())
    return path, s, r


def test_evaluate_prints_and_writes_the_library_numbers(capsys, saved, tmp_path):
    path, s, r = saved
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, "evaluate", path, "--json", out_json)
    assert code == 0, err
    assert f"latency_s  {r.latency_s:.6g}" in out
    assert f"energy_j   {r.energy_j:.6g}" in out and f"compute {r.compute_j:.6g}" in out
    assert f"edp_js     {r.edp_js:.6g}" in out
    assert "note:" not in out  # the stored result matches
    assert "gpt-l" in out and "bert-large" in out and f"windows {len(s.windows)}" in out
    doc = json.loads(out_json.read_text())
    assert doc["scenario"] == "sc1" and doc["mcm"] == "het-sides-3x3" and doc["energy_preset"] == "paper"
    assert doc["cost_model"]["preset"]["name"] == "paper"  # the default, as the file records none
    expected = r.to_dict()
    for key in ("latency_s", "energy_j", "edp_js", "energy_breakdown_j", "model_finish_s", "windows"):
        assert doc[key] == expected[key]


def test_evaluate_energy_preset_changes_energy_only(capsys, saved, tmp_path):
    path, _, r = saved
    out_json = tmp_path / "e.json"
    code, out, _ = run(capsys, "evaluate", path, "--energy", "eyeriss", "--json", out_json)
    assert code == 0
    doc = json.loads(out_json.read_text())
    scenario, mcm = load_scenario("sc1"), load_mcm("het-sides-3x3")
    lib = make_evaluator(scenario, mcm, energy="eyeriss").evaluate(saved[1])
    assert doc["latency_s"] == r.latency_s and doc["energy_breakdown_j"]["compute"] == lib.compute_j != r.compute_j
    assert doc["energy_breakdown_j"]["dram"] == r.dram_j  # on-chiplet energy only
    assert "note: scored under cost preset paper (energy eyeriss); the schedule was made under paper (energy paper)" in out


def test_evaluate_rejects_an_invalid_schedule(capsys, tmp_path):
    scenario, mcm = load_scenario("sc1"), load_mcm("het-sides-3x3")
    s = Schedule((Window((Assignment.from_cuts(0, 0, 10, [], [0]), Assignment.from_cuts(1, 0, 192, [], [0]))),))
    path = tmp_path / "bad.json"
    save_schedule_json(path, s, scenario.to_dict(), mcm.to_dict())
    code, out, err = run(capsys, "evaluate", path)
    assert code == 2
    assert err.strip() == "error: window 0: chiplet 0 used by models 0 and 1"


def test_evaluate_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", tmp_path / "none.json")
    assert code == 2 and "no such file" in err


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_layer_costs_csv(capsys, tmp_path):
    path = tmp_path / "r.csv"
    code, out, err = run(capsys, "layer-costs", "--model", "resnet50", "--batch", "2", "--csv", path)
    assert code == 0, err
    rows = read_csv(path)
    assert rows[0] == ["model", "layer", "op", "dataflow", "pes", "latency_cycles", "latency_s", "energy_j",
                       "utilization"]
    model = get_model("resnet50")
    assert len(rows) == 1 + 3 * model.num_layers
    # conv1 on Shi: the library's numbers for 4096 PEs (datacenter default), batch 2.
    lib = CostModel().layer_costs(model, ChipletSpec("shi", 4096), (2,))
    row = next(r for r in rows[1:] if r[1] == "conv1" and r[3] == "shi")
    assert row[:5] == ["resnet50", "conv1", "conv", "shi", "4096"]
    assert float(row[5]) == lib.latency_cycles[0, 0]
    assert float(row[6]) == pytest.approx(lib.latency_cycles[0, 0] / 500e6, rel=1e-12)
    assert float(row[7]) == pytest.approx(lib.energy_pj[0, 0] * 1e-12, rel=1e-12)
    assert float(row[8]) == pytest.approx(lib.utilization[0, 0], rel=1e-12)
    assert "conv1" in out and "total cycles" in out and "shi cycles" in out


def test_layer_costs_domain_pes_mcm_and_preset(capsys, tmp_path):
    path = tmp_path / "d.csv"
    code, _, _ = run(capsys, "layer-costs", "--model", "d2go", "--mcm", "het-sides-3x3", "--energy", "eyeriss",
                     "--csv", path)
    assert code == 0
    rows = read_csv(path)[1:]
    assert {r[4] for r in rows} == {"256"}  # AR/VR model: 256 PEs
    assert {r[3] for r in rows} == {"nvd", "shi"}  # the MCM's dataflows only
    lib = CostModel(energy="eyeriss").layer_costs(get_model("d2go"), ChipletSpec("nvd", 256), (1,))
    first = next(r for r in rows if r[3] == "nvd")
    assert float(first[7]) == pytest.approx(lib.energy_pj[0, 0] * 1e-12, rel=1e-12)
    code, out, _ = run(capsys, "layer-costs", "--model", "d2go", "--pes", "1024")
    assert code == 0 and "1024 PEs per chiplet" in out


def test_layer_costs_bad_arguments(capsys):
    code, _, err = run(capsys, "layer-costs", "--model", "alexnet")
    assert code == 2 and "unknown model 'alexnet'" in err
    code, _, err = run(capsys, "layer-costs", "--model", "resnet50", "--batch", "0")
    assert code == 2 and "--batch: must be >= 1, got 0" in err
    code, _, err = run(capsys, "layer-costs", "--model", "resnet50", "--energy", "cacti")
    assert code == 2 and "unknown energy preset 'cacti'" in err


def test_layer_costs_at_maestro_settings_reproduces_a_reference_row(capsys, tmp_path):
    # BERT-base's 768x768 projection over 128 tokens, as MAESTRO ran it (tests/data/maestro): 256 PEs,
    # NoC 1000 and off-chip 50 elements per cycle. The command must give MAESTRO's cycles on both mappings.
    from scar_gym.costmodel.validation import read_reference

    ref = {r["dataflow"]: float(r["runtime_cycles"]) for r in read_reference(
        Path(__file__).parent / "data" / "maestro" / "curated_layers.csv")
        if r["layer"] == "attn_proj_768x768_seq128" and r["num_pes"] == "256" and r["offchip_bw"] == "50"}
    table = tmp_path / "bert.yaml"
    table.write_text("name: bert-proj\nlayers:\n  - {name: proj, op: gemm, k: 768, c: 768, y_in: 128}\n")
    out_csv = tmp_path / "c.csv"
    code, out, err = run(capsys, "layer-costs", "--model", table, "--pes", "256", "--noc-bw", "1000",
                         "--offchip-bw", "50", "--cost-preset", "maestro", "--csv", out_csv)
    assert code == 0, err
    assert "cost preset maestro" in out and "off-chip 50 elements/cycle" in out
    got = {r[3]: float(r[5]) for r in read_csv(out_csv)[1:]}
    assert got["nvd"] == ref["KC-P"] and got["shi"] == ref["YX-P"]
    # Off-chip unconstrained: NVD is no longer held to 50 elements per cycle.
    code, _, _ = run(capsys, "layer-costs", "--model", table, "--pes", "256", "--cost-preset", "maestro",
                     "--csv", out_csv)
    assert float(next(r for r in read_csv(out_csv)[1:] if r[3] == "nvd")[5]) < ref["KC-P"] / 2
    for flag, value in (("--noc-bw", "0"), ("--offchip-bw", "nan"), ("--offchip-bw", "-3")):
        code, _, err = run(capsys, "layer-costs", "--model", table, flag, value)
        assert code == 2 and flag in err


def test_schedule_json_records_the_cost_preset_and_evaluate_uses_it(capsys, tmp_path):
    path = tmp_path / "s.json"
    code, out, err = run(capsys, "schedule", "--scenario", "sc9", "--mcm", "het-sides-3x3", "--policy", "greedy",
                         "--cost-preset", "maestro", "--json", path)
    assert code == 0, err
    assert "cost preset maestro" in out
    doc = json.loads(path.read_text())
    assert doc["cost_model"]["preset"]["name"] == "maestro" and doc["cost_model"]["energy"]["l2"] == 18.61
    code, out, err = run(capsys, "evaluate", path)
    assert code == 0, err
    assert "cost preset maestro" in out and "note:" not in out  # scored as it was made
    code, out, _ = run(capsys, "evaluate", path, "--cost-preset", "paper")
    assert code == 0 and "cost preset paper" in out and "note:" in out  # another preset, other numbers
    doc["cost_model"] = {"preset": {"name": "x", "template": "zigzag"}}
    path.write_text(json.dumps(doc))
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2 and "cost_preset.template" in err


def _scheduled(capsys, tmp_path, scenario="sc8"):
    path = tmp_path / "s.json"
    code, _, err = run(capsys, "schedule", "--scenario", scenario, "--mcm", "het-sides-3x3", "--policy", "standalone",
                       "--json", path)
    assert code == 0, err
    return path, json.loads(path.read_text())


def test_a_schedule_file_records_what_it_was_made_for(capsys, tmp_path):
    path, doc = _scheduled(capsys, tmp_path)
    ctx = doc["context"]
    assert doc["format"] == "scar-gym-schedule/2"
    assert ctx["scenario"] == doc["scenario"] and ctx["mcm"] == doc["mcm"] and ctx["cost_model"] == doc["cost_model"]
    assert [(m["name"], m["batch"], m["layers"]) for m in ctx["models"]] == [("d2go", 30, 52), ("emformer", 3, 142)]
    assert all(len(m["digest"]) == 16 for m in ctx["models"])
    code, out, err = run(capsys, "evaluate", path)
    assert code == 0 and "rescoring" not in out and "note" not in out, err


def test_evaluate_refuses_a_changed_context_and_rescores_it_only_when_asked(capsys, tmp_path):
    path, doc = _scheduled(capsys, tmp_path)
    doc["mcm"]["layout"] = "NNN/NNN/NNN"
    doc["scenario"]["models"][0]["batch"] = 15
    del doc["result"]  # without the stored result, a changed file used to be scored silently
    path.write_text(json.dumps(doc))
    code, out, err = run(capsys, "evaluate", path)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {path}: context: the file no longer matches what the schedule was made for: ")
    assert "mcm.layout 'NSN/NSN/NSN' -> 'NNN/NNN/NNN'" in err and "scenario.models[0].batch 30 -> 15" in err
    assert "--rescore" in err
    code, out, err = run(capsys, "evaluate", path, "--rescore")
    assert code == 0, err
    assert out.startswith("rescoring: the file no longer matches") and "mcm.layout" in out and "edp_js" in out


def test_evaluate_notices_an_edited_layer_table(capsys, tmp_path):
    table = tmp_path / "net.csv"
    table.write_text("# name: net\nname,op,k,c,y_in\na,gemm,64,64,16\nb,gemm,64,64,16\n")
    sc = tmp_path / "sc.yaml"
    sc.write_text("id: t\ndomain: arvr\nmodels:\n  - {model: net.csv, batch: 4}\n  - {model: d2go, batch: 2}\n")
    path, _ = _scheduled(capsys, tmp_path, str(sc))
    table.write_text("# name: net\nname,op,k,c,y_in\na,gemm,64,64,16\nb,gemm,64,64,512\n")  # same name and length
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2 and "models[0].digest" in err


def test_evaluate_reads_old_files_against_their_stored_result(capsys, tmp_path):
    path, doc = _scheduled(capsys, tmp_path)
    old = {k: v for k, v in doc.items() if k != "context"} | {"format": "scar-gym-schedule/1"}
    path.write_text(json.dumps(old))
    code, _, err = run(capsys, "evaluate", path)
    assert code == 0, err  # the stored result matches: nothing changed
    old["result"]["edp_js"] *= 2
    path.write_text(json.dumps(old))
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2 and "result: the file's stored EDP" in err and "--rescore" in err
    del old["result"]
    path.write_text(json.dumps(old))
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2 and "records neither what the schedule was made for nor a result" in err
    assert run(capsys, "evaluate", path, "--rescore")[0] == 0
