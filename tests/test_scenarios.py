"""Table III scenarios, round trips, the random generator and every bad-input message."""

from __future__ import annotations

import random

import numpy as np
import pytest

from scar_gym.errors import ConfigError, UnknownNameError
from scar_gym.scenarios import (DEFAULT_BATCH_CHOICES, SCENARIO_IDS, ModelInstance,
                                RandomScenarioGenerator, Scenario, list_scenarios, load_scenario,
                                domain_models, load_scenario_file, model_domain)
from scar_gym.workloads.zoo import MODEL_IDS

# Table III of the paper: id -> (domain, [(model, batch), ...]).
TABLE_III = {
    "sc1": ("datacenter", [("gpt-l", 1), ("bert-large", 3)]),
    "sc2": ("datacenter", [("gpt-l", 1), ("bert-large", 3), ("resnet50", 1)]),
    "sc3": ("datacenter", [("gpt-l", 1), ("bert-large", 3), ("resnet50", 32)]),
    "sc4": ("datacenter", [("gpt-l", 8), ("bert-large", 24), ("unet", 1), ("resnet50", 32)]),
    "sc5": ("datacenter", [("gpt-l", 8), ("bert-large", 24), ("bert-base", 24), ("unet", 1), ("resnet50", 32),
                           ("googlenet", 32)]),
    "sc6": ("arvr", [("d2go", 10), ("planercnn", 15), ("midas", 30), ("emformer", 3), ("hrvit", 10)]),
    "sc7": ("arvr", [("planercnn", 15), ("hand-tracking", 45), ("midas", 30)]),
    "sc8": ("arvr", [("d2go", 30), ("emformer", 3)]),
    "sc9": ("arvr", [("eyecod", 60), ("hand-tracking", 30), ("sparse-to-dense", 30)]),
    "sc10": ("arvr", [("eyecod", 60), ("hand-tracking", 45)]),
}


def write(tmp_path, text, name="bad.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- Table III -----------------------------------------------------------------------------------

def test_table_iii():
    assert SCENARIO_IDS == tuple(f"sc{i}" for i in range(1, 11))
    got = {s.id: (s.domain, [(m.model, m.batch) for m in s.models]) for s in list_scenarios()}
    assert got == TABLE_III
    for s in list_scenarios():
        assert s.use_case and s.description


def test_domains_cover_the_zoo():
    assert domain_models() == {
        "datacenter": ("gpt-l", "bert-large", "bert-base", "resnet50", "unet", "googlenet"),
        "arvr": ("d2go", "planercnn", "midas", "emformer", "hrvit", "hand-tracking", "eyecod", "sparse-to-dense"),
    }
    assert sorted(sum(domain_models().values(), ())) == sorted(MODEL_IDS)
    assert model_domain("resnet50") == "datacenter" and model_domain("eyecod") == "arvr"
    assert model_domain("net.yaml") is None
    for sid, (domain, models) in TABLE_III.items():
        assert all(model_domain(m) == domain for m, _ in models), sid


def test_load_by_number_and_path():
    assert load_scenario("4") == load_scenario("sc4")
    from scar_gym.paths import SCENARIO_DIR
    assert load_scenario(str(SCENARIO_DIR / "sc7.yaml")) == load_scenario("sc7")


def test_build_models():
    s = load_scenario("sc8")
    models = s.build_models()
    assert [m.name for m in models] == list(s.model_names)
    assert all(m.num_layers > 0 and m.macs > 0 for m in models)


# -- round trips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sid", ["sc1", "sc5", "sc9"])
def test_round_trip(sid, tmp_path):
    s = load_scenario(sid)
    assert Scenario.from_dict(s.to_dict()) == s
    path = tmp_path / "copy.yaml"
    s.to_yaml(path)
    assert load_scenario(str(path)) == s


def test_default_id_and_relative_table_path(tmp_path):
    (tmp_path / "net.yaml").write_text("# a layer table; not built here\n")
    path = write(tmp_path, "domain: arvr\nmodels:\n  - {model: net.yaml, batch: 30}\n  - {model: d2go, batch: 10}\n",
                 name="mine.yaml")
    s = load_scenario_file(path)
    assert s.id == "mine"
    assert s.models[0].model == str(tmp_path / "net.yaml")  # resolved beside the scenario file
    assert s.batches == (30, 10)


def test_layer_table_scenario_builds(tmp_path):
    from scar_gym.workloads import get_model, save_model_file

    (tmp_path / "tables").mkdir()
    save_model_file(get_model("eyecod"), tmp_path / "tables" / "gaze.csv")
    path = write(tmp_path, "id: custom\ndomain: arvr\nmodels:\n  - {model: tables/gaze.csv, batch: 60}\n"
                           "  - {model: hand-tracking, batch: 30}\n", name="custom.yaml")
    gaze, hands = load_scenario(str(path)).build_models()
    assert gaze.num_layers == get_model("eyecod").num_layers and gaze.macs == get_model("eyecod").macs
    assert hands is get_model("hand-tracking")


# -- random scenarios ----------------------------------------------------------------------------

def test_random_determinism():
    a, b = RandomScenarioGenerator(seed=3).generate(20), RandomScenarioGenerator(seed=3).generate(20)
    assert a == b
    assert a != RandomScenarioGenerator(seed=4).generate(20)
    assert [s.id for s in a[:3]] == ["rand-3-0", "rand-3-1", "rand-3-2"]
    # Scenario i does not depend on how many are generated or where generation starts.
    assert RandomScenarioGenerator(seed=3).generate(5, start=10) == a[10:15]
    assert RandomScenarioGenerator(seed=3).scenario(7) == a[7]


def test_random_sample_uses_only_the_given_rng():
    gen = RandomScenarioGenerator(seed=1)
    np_state, py_state = np.random.get_state()[1].copy(), random.getstate()
    s1 = gen.sample(np.random.default_rng(42))
    s2 = gen.sample(np.random.default_rng(42))
    assert s1 == s2
    assert (np.random.get_state()[1] == np_state).all() and random.getstate() == py_state
    rng = np.random.default_rng(42)
    assert gen.sample(rng) == s1 and gen.sample(rng) != s1  # the generator advances


def test_random_domain_purity_and_ranges():
    scenarios = RandomScenarioGenerator(seed=0).generate(200)
    assert {s.domain for s in scenarios} == {"datacenter", "arvr"}
    for s in scenarios:
        pool = domain_models()[s.domain]
        assert all(m in pool for m in s.model_names)
        assert len(set(s.model_names)) == len(s.models)
        assert 2 <= len(s.models) <= 6
        assert list(s.model_names) == sorted(s.model_names, key=pool.index)  # canonical order
        for m in s.models:
            assert m.batch in DEFAULT_BATCH_CHOICES.get(m.model, DEFAULT_BATCH_CHOICES[s.domain])
    assert max(len(s.models) for s in scenarios) == 6 and min(len(s.models) for s in scenarios) == 2


def test_random_options():
    arvr = RandomScenarioGenerator(seed=5, domain="arvr", min_models=3, max_models=3).generate(30)
    assert all(s.domain == "arvr" and len(s.models) == 3 for s in arvr)
    pool = ("resnet50", "unet", "googlenet")
    small = RandomScenarioGenerator(seed=5, models=pool, batch_choices=(7,)).generate(30)
    assert all(set(s.model_names) <= set(pool) and set(s.batches) == {7} for s in small)
    per_model = RandomScenarioGenerator(seed=5, models=pool, batch_choices={"unet": (2,), "datacenter": (9,)})
    for s in per_model.generate(30):
        assert all(m.batch == (2 if m.model == "unet" else 9) for m in s.models)
    # The domain's pool is capped: 8 AR/VR models, max_models above that is fine.
    assert all(len(s.models) <= 8 for s in RandomScenarioGenerator(seed=1, domain="arvr", max_models=20).generate(20))


@pytest.mark.parametrize("kwargs,field", [
    (dict(seed=-1), "seed"),
    (dict(seed=1.5), "seed"),
    (dict(min_models=0), "min_models"),
    (dict(min_models=4, max_models=3), "max_models"),
    (dict(domain="mobile"), "domain"),
    (dict(models=("resnet50", "alexnet")), "models"),
    (dict(models=("resnet50", "resnet50", "unet")), "models"),
    (dict(models=("resnet50",)), "models"),  # cannot fill min_models=2
    (dict(models=("resnet50", "net.yaml")), "domain"),  # a table has no domain of its own
    (dict(batch_choices=()), "batch_choices"),
    (dict(batch_choices=(4, 0)), "batch_choices"),
    (dict(batch_choices={"datacenter": (1,)}), "batch_choices"),  # nothing for arvr
])
def test_bad_generator(kwargs, field):
    with pytest.raises(ConfigError) as info:
        RandomScenarioGenerator(**kwargs)
    assert info.value.field == field


# -- bad input -----------------------------------------------------------------------------------

GOOD_MODELS = "models:\n  - {model: gpt-l, batch: 1}\n"

BAD_FILES = [
    # (YAML text, field named in the error, words the message must contain)
    ("id: x\ndomain: datacenter\n", "models", "missing"),
    ("id: x\ndomain: datacenter\nmodels: []\n", "models", "non-empty list"),
    ("id: x\ndomain: datacenter\nmodels: {gpt-l: 1}\n", "models", "non-empty list"),
    ("id: x\ndomain: datacenter\nmodels:\n  - gpt-l\n", "models[0]", "expected a mapping"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l}\n", "models[0].batch", "missing"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {batch: 2}\n", "models[0].model", "missing"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l, batch: 0}\n", "models[0].batch", "> 0"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l, batch: -3}\n", "models[0].batch", "> 0"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l, batch: 2.5}\n", "models[0].batch", "integer"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l, batch: '4'}\n", "models[0].batch", "integer"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l, batch: true}\n", "models[0].batch", "integer"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l, batch: 1, seq: 128}\n", "models[0].seq", "unknown"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l, batch: 1}\n  - {model: gpt-l, batch: 2}\n",
     "models[1].model", "already appears as models[0]"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: 5, batch: 1}\n", "models[0].model", "expected a model id"),
    ("id: x\ndomain: datacenter\nmodels:\n  - {model: missing.csv, batch: 1}\n", "models[0].model",
     "no such layer table"),
    ("id: x\ndomain: mobile\n" + GOOD_MODELS, "domain", "unknown domain 'mobile'"),
    ("id: x\n" + GOOD_MODELS, "domain", "missing"),
    ("id: x\ndomain: datacenter\npriority: high\n" + GOOD_MODELS, "priority", "unknown field"),
    ("id: ''\ndomain: datacenter\n" + GOOD_MODELS, "id", "missing"),
    ("- a\n- b\n", "(top level)", "expected a mapping"),
    ("", "(top level)", "expected a mapping"),
    ("id: x\ndomain: [datacenter\n", "(yaml)", "malformed YAML"),
    ("id: x\n domain: arvr\nmodels: 3\n", "(yaml)", "malformed YAML"),
]


@pytest.mark.parametrize("text,field,words", BAD_FILES)
def test_bad_scenario_file(text, field, words, tmp_path):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenario(str(path))
    assert info.value.field == field
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: {field}: ")
    assert words in str(info.value)


def test_unknown_model_in_file(tmp_path):
    path = write(tmp_path, "id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l, batch: 1}\n"
                           "  - {model: alexnet, batch: 4}\n")
    with pytest.raises(UnknownNameError) as info:
        load_scenario(str(path))
    e = info.value
    assert (e.field, e.file, e.name) == ("models[1].model", str(path), "alexnet")
    assert "resnet50" in str(e) and str(path) in str(e)


def test_unknown_scenario_and_missing_file(tmp_path):
    with pytest.raises(UnknownNameError) as info:
        load_scenario("sc11")
    assert "sc1" in str(info.value) and "sc10" in str(info.value) and ".yaml" in str(info.value)
    with pytest.raises(ConfigError, match="no such file"):
        load_scenario(str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="is a directory, not a file"):
        load_scenario_file(tmp_path)


def test_bad_constructors():
    with pytest.raises(ConfigError, match="batch"):
        ModelInstance("resnet50", 0)
    with pytest.raises(ConfigError, match="model"):
        ModelInstance("", 1)
    ok = (ModelInstance("resnet50", 1),)
    with pytest.raises(ConfigError, match="domain"):
        Scenario("x", "", "edge", ok)
    with pytest.raises(ConfigError, match="models"):
        Scenario("x", "", "datacenter", ())
    with pytest.raises(ConfigError, match="already appears"):
        Scenario("x", "", "datacenter", ok * 2)
