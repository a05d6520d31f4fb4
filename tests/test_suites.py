"""scar_gym.suites: the named suites, random-N test draws, lists and files, the Suite consumers
read, and the train / validation / test seed split."""

from __future__ import annotations

import numpy as np
import pytest

from scar_gym import suites
from scar_gym.envs.generator import ToyGenerator
from scar_gym.errors import ConfigError
from scar_gym.scenarios import RandomScenarioGenerator, load_scenario
from scar_gym.suites import Suite, suite_ids, suite_scenarios


def test_named_suites_are_the_paper_scenarios():
    assert suite_ids("paper") == tuple(f"sc{i}" for i in range(1, 11))
    assert suite_ids("datacenter") + suite_ids("arvr") == suite_ids("paper")
    assert {s.domain for s in suite_scenarios("datacenter")} == {"datacenter"}
    assert {s.domain for s in suite_scenarios("arvr")} == {"arvr"}
    assert suite_scenarios("paper")[3] == load_scenario("sc4")


def test_random_n_is_a_fixed_test_draw():
    a = suite_scenarios("random-3", seed=0)
    assert [s.models for s in a] == [s.models for s in suite_scenarios("random-3", seed=0)]
    assert [s.id for s in a] != [s.id for s in suite_scenarios("random-3", seed=1)]
    assert all(s.id.startswith(f"rand-{suites.TEST_SEED_BASE}-") for s in a)
    assert all(2 <= len(s.models) <= 4 for s in suite_scenarios("random-20"))


def test_ids_files_and_lists(tmp_path):
    path = tmp_path / "mine.yaml"
    load_scenario("sc2").to_yaml(path)
    assert suite_ids("4") == ("sc4",)
    assert suite_ids(str(path)) == ("sc2",)
    assert suite_ids(["sc1", str(path), load_scenario("sc9")]) == ("sc1", "sc2", "sc9")


@pytest.mark.parametrize("bad", ["random-x", "random-0", "nope", []])
def test_bad_suites_name_the_field(bad):
    with pytest.raises(ConfigError) as e:
        suite_scenarios(bad)
    assert e.value.field == "--suite"
    if bad == "nope":
        assert "unknown suite 'nope'" in str(e.value) and "random-N" in str(e.value)


def test_suite_of_a_spec_samples_uniformly_and_indexes_in_order():
    s = Suite.of("datacenter")
    assert s.finite and len(s) == 5 and s.label == "datacenter" and s.fixed is None
    assert [s[i].id for i in range(7)] == ["sc1", "sc2", "sc3", "sc4", "sc5", "sc1", "sc2"]
    drawn = {s.sample(np.random.default_rng(k)).id for k in range(40)}
    assert drawn == set(suite_ids("datacenter"))
    one = Suite.of("sc4")
    assert one.fixed is not None and one.fixed.id == "sc4" and one.sample(np.random.default_rng(0)) is one.fixed
    assert Suite.of(s) is s


def test_endless_suites():
    r = Suite.of("random", generator_kwargs={"seed": 5, "max_models": 3})
    assert not r.finite and len(r) == 0 and r.all() == []
    assert r[2] == RandomScenarioGenerator(seed=5, max_models=3).scenario(2)
    gen = RandomScenarioGenerator(seed=5, max_models=3)
    assert r.sample(np.random.default_rng(0)) == gen.sample(np.random.default_rng(0))
    toy = Suite.of(ToyGenerator())
    assert toy.label == "ToyGenerator" and toy.sample(np.random.default_rng(0)).id.startswith("toy-")
    with pytest.raises(ConfigError, match="generator_kwargs"):
        Suite.of("paper", generator_kwargs={"seed": 1})


def test_random_suite_first_n_or_stream():
    finite = Suite.random(10_000, n=3, domain="arvr")
    assert finite.finite and [x.id for x in finite.all()] == [f"rand-10000-{i}" for i in range(3)]
    stream = Suite.random(7)
    assert stream[12].id == "rand-7-12"


def test_seed_split():
    assert [suites.split_of(s) for s in (0, 9999, 10_000, 19_999, 20_000, 10**6)] == [
        "train", "train", "validation", "validation", "test", "test"]
    suites.check_seed(10_003, "validation", "x")
    with pytest.raises(ConfigError) as e:
        suites.check_seed(10_001, "train", "scenarios.train.seed", "cfg.yaml")
    assert str(e.value).startswith("cfg.yaml: scenarios.train.seed: 10001 is a validation seed, not a train seed")
    assert suites.seed_split("random-5", 2) == {"train": [0, 9999], "validation": [10000, 19999], "test": 20002}
    assert suites.seed_split("paper")["test"] is None


def test_train_and_validation_generators_are_held_out():
    train, evaluation = suites.train_eval_generators(0)
    assert (train.seed, evaluation.seed) == (0, suites.VALIDATION_SEED_BASE)
    assert train.generate(10) != evaluation.generate(10)
    seen = train.generate(500)
    seen_keys = {(t.domain, t.models) for t in seen}
    assert evaluation.generate(50, exclude=seen) == [
        s for s in evaluation.generate(50) if (s.domain, s.models) not in seen_keys]
    assert train.generate(10, exclude=train.generate(10)) == []
    with pytest.raises(ConfigError, match="seed"):
        suites.train_eval_generators(suites.VALIDATION_SEED_BASE)
