"""The SCAR policy end to end: validity (DFS paths), meta, determinism, and SCAR vs Standalone."""

import pytest

from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.factory import make_evaluator
from scar_gym.hardware import grid_mcm
from scar_gym.policies.baselines import StandalonePolicy
from scar_gym.policies.registry import make_policy
from scar_gym.policies.scar import ScarPolicy
from scar_gym.workloads.layers import add, conv, gemm
from scar_gym.workloads.model import ModelBuilder, chain

_CM = CostModel()


def _small_models():
    lm = chain("lm", [gemm(f"g{i}", 64, 256, 256) for i in range(12)])
    b = ModelBuilder("cnn")
    x = b.add(conv("c0", 3, 32, 64, 64, 3))
    y = b.add(conv("c1", 32, 32, 64, 64, 3), x)
    z = b.add(add("a1", 32, 64, 64), x, y)
    w = b.add(conv("c2", 32, 64, 64, 64, 3, stride=2), z)
    b.add(conv("c3", 64, 64, 32, 32, 3), w)
    return [lm, b.build(), chain("tiny", [gemm("t0", 8, 64, 64), gemm("t1", 8, 64, 64)])]


def _small_evaluator(layout="NSN/NSN/NSN", objective="edp"):
    return Evaluator(_small_models(), [8, 4, 2], grid_mcm(layout, num_pes=256), cost_model=_CM, objective=objective)


@pytest.mark.parametrize("layout", ["NSN/NSN/NSN", "NSN/SNS/NSN", "NNN/NNN/NNN"])
@pytest.mark.parametrize("objective", ["edp", "latency", "energy"])
def test_scar_schedules_are_valid_with_paths(layout, objective):
    ev = _small_evaluator(layout, objective)
    s = ScarPolicy().schedule(ev, seed=0)
    ev.validate(s, require_paths=True)
    meta = s.meta
    assert meta["policy"] == "scar" and meta["objective"] == objective
    assert meta["evaluations"] > 0 and meta["scheduler_s"] > 0 and meta["params"]["k"] == 3
    # every model present in a window owns at least one chiplet (validate checks disjointness)
    for w, info in zip(s.windows, meta["windows"]):
        assert sorted(a.model for a in w.assignments) == sorted(int(m) for m in info["models"])
        assert all(n >= 1 for n in info["nodes"].values())
        assert sum(info["nodes"].values()) <= 9


def test_scar_options_and_modes():
    ev = _small_evaluator()
    base = ev.evaluate(ScarPolicy(boundary_candidates=1, refine=False).schedule(ev)).edp_js
    exh = ev.evaluate(ScarPolicy(boundary_candidates=1, refine=False, prov="exhaustive").schedule(ev)).edp_js
    assert exh <= base * (1 + 1e-9)  # exhaustive PROV includes the rule's allocation
    refined = ev.evaluate(ScarPolicy(boundary_candidates=1).schedule(ev)).edp_js
    assert refined <= base * (1 + 1e-9)
    more = ev.evaluate(ScarPolicy(boundary_candidates=4).schedule(ev, seed=0)).edp_js
    assert more <= refined * (1 + 1e-9)  # the periodic set is always among the candidates
    capped = ScarPolicy(node_cap=1).schedule(ev)
    assert all(len(a.segments) == 1 for w in capped.windows for a in w.assignments)
    one = ScarPolicy(n_splits=0).schedule(ev)
    assert one.num_windows == 1
    for bad in (dict(k=0), dict(prov="x"), dict(search="x"), dict(objective="x"), dict(n_splits=-1),
                dict(node_cap=0), dict(prov_metric="x")):
        with pytest.raises(ConfigError):
            ScarPolicy(**bad)


def test_scar_splits_windows_with_more_models_than_chiplets():
    ev = Evaluator(_small_models(), [8, 4, 2], grid_mcm("NS", num_pes=256), cost_model=_CM)
    s = ScarPolicy().schedule(ev)
    ev.validate(s, require_paths=True)
    assert all(len(w.assignments) <= 2 for w in s.windows)


def test_evolutionary_scar_is_seeded():
    ev = _small_evaluator("NSNS/SNSN/NSNS/SNSN")
    a = ScarPolicy(search="evolutionary").schedule(ev, seed=3)
    b = ScarPolicy(search="evolutionary").schedule(ev, seed=3)
    assert a.windows == b.windows
    ev.validate(a, require_paths=True)
    ev.validate(ScarPolicy(search="auto", exhaustive_max_chiplets=4).schedule(ev, seed=1), require_paths=True)


def test_registry_builds_scar_with_cli_style_options():
    p = make_policy("scar", n_splits=3, k=None, objective=None)
    assert isinstance(p, ScarPolicy) and p.options.n_splits == 3 and p.options.k == 3
    with pytest.raises(ConfigError, match="budget"):
        make_policy("scar", budget=10)


@pytest.mark.parametrize("scenario,mcm", [("sc1", "het-sides-3x3"), ("sc8", "het-sides-3x3"),
                                          ("sc10", "het-cb-3x3"), ("sc8", "nvd-3x3")])
def test_scar_never_worse_than_standalone(scenario, mcm):
    ev = make_evaluator(scenario, mcm, cost_model=_CM)
    scar = ScarPolicy().schedule(ev, seed=0)
    ev.validate(scar, require_paths=True)
    alone = StandalonePolicy().schedule(ev)
    assert ev.evaluate(scar).edp_js <= ev.evaluate(alone).edp_js


def test_provenance_is_every_option():
    """``params()`` is ``asdict`` of the options: every constructor option, so none can be left out."""
    import dataclasses

    from scar_gym.policies.scar.policy import ScarOptions

    p = ScarPolicy(n_splits=2, boundaries=[1, 2.5], jitter=0.25)
    assert p.params() == dataclasses.asdict(p.options)
    assert set(p.params()) == set(ScarPolicy.option_names()) == {f.name for f in dataclasses.fields(ScarOptions)}
    assert p.params()["boundaries"] == (1.0, 2.5) and p.params()["jitter"] == 0.25
    assert ScarPolicy(ScarOptions(k=5), refine=False).options == ScarOptions(k=5, refine=False)
    ev = make_evaluator("sc1", "het-sides-3x3", cost_model=_CM)
    assert ScarPolicy(boundary_candidates=1).schedule(ev).meta["params"] == ScarPolicy(boundary_candidates=1).params()
    with pytest.raises(ConfigError, match="budgett: not an option of policy 'scar'"):
        ScarPolicy(budgett=3)
