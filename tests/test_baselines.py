"""Baselines: Standalone, Random, Greedy, the Simba alias; all valid on the shared evaluator."""

import json

import pytest

from scar_gym.cli import main
from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.hardware import grid_mcm
from scar_gym.policies.baselines import GreedyPolicy, RandomPolicy, SimbaPolicy, StandalonePolicy
from scar_gym.policies.registry import list_policies, make_policy
from scar_gym.policies.scar.policy import split_crowded_windows
from scar_gym.policies.windows import mcm_reconfig
from scar_gym.schedule import load_schedule_json
from scar_gym.workloads.layers import conv, gemm
from scar_gym.workloads.model import chain

_CM = CostModel()


def _evaluator(layout="NSN/NSN/NSN"):
    models = [chain("lm", [gemm(f"g{i}", 64, 256, 256) for i in range(10)]),
              chain("cnn", [conv("c0", 3, 32, 64, 64, 3), conv("c1", 32, 32, 64, 64, 3), conv("c2", 32, 64, 64, 64, 3)]),
              chain("tiny", [gemm("t0", 8, 64, 64)])]
    return Evaluator(models, [8, 4, 2], grid_mcm(layout, num_pes=256), cost_model=_CM)


def test_registry_has_the_baselines():
    names = dict(list_policies())
    for n in ("scar", "standalone", "random", "greedy", "simba"):
        assert n in names and names[n]


def test_standalone_one_chiplet_per_model_same_windows_as_scar():
    ev = _evaluator()
    s = StandalonePolicy().schedule(ev)
    ev.validate(s, require_paths=True)
    assert all(len(a.segments) == 1 for w in s.windows for a in w.assignments)
    expected = split_crowded_windows(mcm_reconfig(ev, 4).windows, 9)
    got = [{a.model: (a.start, a.stop) for a in w.assignments} for w in s.windows]
    assert got == expected
    assert s == StandalonePolicy().schedule(ev)  # deterministic
    assert s.meta["policy"] == "standalone"


def test_random_policy_is_valid_and_seeded():
    ev = _evaluator()
    runs = [RandomPolicy().schedule(ev, seed=s) for s in range(8)]
    for r in runs:
        ev.validate(r, require_paths=True)
    assert RandomPolicy().schedule(ev, seed=3).windows == runs[3].windows
    assert len({r.windows for r in runs}) > 1
    small = Evaluator(ev.models, ev.batches, grid_mcm("NS", num_pes=256), cost_model=_CM)
    for s in range(5):
        small.validate(RandomPolicy().schedule(small, seed=s), require_paths=True)


def test_greedy_policy_is_valid_and_deterministic():
    ev = _evaluator("NSN/SNS/NSN")
    g = GreedyPolicy().schedule(ev)
    ev.validate(g)
    assert g.windows == GreedyPolicy().schedule(ev).windows
    assert g.meta["evaluations"] >= 0 and g.meta["policy"] == "greedy"


def test_simba_alias_refuses_heterogeneous_mcms():
    with pytest.raises(ConfigError, match="homogeneous"):
        SimbaPolicy().schedule(_evaluator("NSN/NSN/NSN"))
    ev = _evaluator("NNN/NNN/NNN")
    ev.validate(make_policy("simba").schedule(ev), require_paths=True)


def test_cli_schedule_writes_a_file_evaluate_rereads(tmp_path, capsys):
    out = tmp_path / "s.json"
    png = tmp_path / "s.png"
    assert main(["schedule", "--scenario", "sc8", "--mcm", "het-sides-3x3", "--policy", "standalone",
                 "--json", str(out), "--gantt", str(png)]) == 0
    text = capsys.readouterr().out
    assert "edp_js" in text and "scheduler_s" in text and "we publish ours" in text
    doc = json.loads(out.read_text())
    assert {"latency_s", "energy_j", "edp_js", "scheduler_s", "result"} <= set(doc)
    assert doc["meta"]["scheduler_s"] > 0
    schedule, _, _ = load_schedule_json(out)
    assert main(["evaluate", str(out)]) == 0
    assert f"{doc['edp_js']:.6g}" in capsys.readouterr().out
    assert png.stat().st_size > 0
    assert main(["schedule", "--scenario", "sc8", "--mcm", "nvd-3x3", "--policy", "standalone", "--k", "3"]) == 2
