"""scar_gym.factory: evaluators from names, and the one place cost-model settings are chosen."""

from __future__ import annotations

import pytest

from scar_gym.costmodel.energy import ENERGY_PRESETS
from scar_gym.costmodel.presets import get_cost_preset
from scar_gym.envs.generator import ToyGenerator
from scar_gym.errors import ConfigError
from scar_gym.factory import COST_OPTIONS, make_cost_model, make_evaluator
from scar_gym.hardware import DOMAIN_PES
from scar_gym.presets import load_mcm
from scar_gym.scenarios import load_scenario


def test_names_and_objects_give_the_same_evaluator():
    by_name = make_evaluator("sc7", "het-sides-3x3", objective="latency")
    by_object = make_evaluator(load_scenario("sc7"), load_mcm("het-sides-3x3"), objective="latency")
    for ev in (by_name, by_object):
        assert ev.domain == "arvr" and ev.mcm.pes == DOMAIN_PES["arvr"] and ev.objective == "latency"
        assert ev.batches == load_scenario("sc7").batches
    assert [m.name for m in by_name.models] == [m.name for m in by_object.models]
    assert by_name.tables[0].latency_s.tobytes() == by_object.tables[0].latency_s.tobytes()


def test_model_sets_carry_their_domain():
    toy = ToyGenerator(domain="arvr").pool(1)[0]
    ev = make_evaluator(toy, "NS/SN")
    assert ev.domain == "arvr" and ev.mcm.pes == DOMAIN_PES["arvr"] and ev.models == toy.models


def test_cost_options_choose_the_cost_model_and_are_checked():
    assert COST_OPTIONS == ("preset", "energy")
    default = make_cost_model()
    assert default.preset is get_cost_preset("paper") and default.energy == ENERGY_PRESETS[default.preset.energy]
    assert make_evaluator("sc1", "nvd-3x3", energy="eyeriss").cost_model.energy == ENERGY_PRESETS["eyeriss"]
    assert make_evaluator("sc1", "nvd-3x3", energy=None).cost_model.energy == default.energy
    maestro = make_evaluator("sc1", "nvd-3x3", preset="maestro").cost_model
    assert maestro.preset.name == "maestro" and maestro.energy == ENERGY_PRESETS["maestro"]
    shared = make_cost_model(energy="eyeriss")
    a, b = make_evaluator("sc1", "nvd-3x3", cost_model=shared), make_evaluator("sc2", "nvd-3x3", cost_model=shared)
    assert a.cost_model is b.cost_model is shared
    with pytest.raises(ConfigError, match="energy: given together with a shared cost_model"):
        make_evaluator("sc1", "nvd-3x3", cost_model=shared, energy="maestro")
    with pytest.raises(ConfigError, match="enrgy: not a cost-model option; use one of: preset, energy"):
        make_evaluator("sc1", "nvd-3x3", enrgy="eyeriss")


def test_fresh_evaluators_share_tables_not_memo():
    ev = make_evaluator("sc1", "het-sides-3x3", memo_size=10)
    other = ev.fresh()
    assert other.tables[0].energy_j.tobytes() == ev.tables[0].energy_j.tobytes()
    assert other.cost_model is ev.cost_model and other.domain == ev.domain and other.objective == ev.objective
    assert other.num_evaluations == 0 and other._cache_size == 10 and ev.fresh(cache_size=0)._cache_size == 0
