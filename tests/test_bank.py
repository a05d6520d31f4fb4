"""The scenario bank (scar_gym.envs.bank): same episodes with and without it, keys, refusals, training configs."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import scar_gym  # noqa: F401
from scar_gym.envs.bank import BankOptions, ScenarioBank, build_bank
from scar_gym.errors import ConfigError
from scar_gym.suites import Suite


@pytest.fixture(scope="module")
def scenarios():
    return Suite.random(0, 2, domain="arvr", min_models=2, max_models=2).all()


@pytest.fixture(scope="module")
def bank(tmp_path_factory, scenarios):
    out = tmp_path_factory.mktemp("bank") / "b"
    report = build_bank(out, scenarios, recipe={"source": "random", "seed": 0, "n": 2, "domain": "arvr",
                                                "min_models": 2, "max_models": 2})
    assert (report.added, report.kept, report.failed) == (2, 0, [])
    return out


def _episodes(scenarios, bank, relocate):
    """Observations, rewards and infos of random masked episodes (twice per scenario)."""
    env = gym.make("ScarGym/Window-v0", mcm="het-sides-3x3", relocate=relocate, bank=bank,
                   disable_env_checker=True).unwrapped
    rng = np.random.default_rng(7)
    out = []
    for sc in list(scenarios) * 2:
        obs, info = env.reset(options={"scenario": sc})
        out.append((obs, env.candidates and [c.assignment for c in env.candidates]))
        done = False
        while not done:
            valid = np.flatnonzero(info["action_mask"])
            obs, r, term, trunc, info = env.step(int(valid[rng.integers(len(valid))]))
            done = term or trunc
            out.append((obs, r, {k: v for k, v in info.items() if k != "action_mask"},
                        [c.assignment for c in env.candidates]))
    return out, env


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("relocate", [0, 24])
def test_episodes_identical_with_and_without_bank(scenarios, bank, relocate, monkeypatch):
    plain, _ = _episodes(scenarios, None, relocate)

    def no_policy(name, *a, **k):
        raise AssertionError(f"{name} ran although the bank holds its schedule")

    monkeypatch.setattr("scar_gym.envs.types.make_policy", no_policy)  # the bank must replace SCAR's run
    banked, env = _episodes(scenarios, str(bank), relocate)
    assert _same(plain, banked)
    assert env.contexts.get(scenarios[0]).extras[("bank", str(bank))] is True


def test_bank_entry_equals_fresh_computation(scenarios, bank):
    """The stored pools are the ones the env builds (value by value), and SCAR's reference EDP too."""
    from scar_gym.envs.candidates import CandidatePools

    env = gym.make("ScarGym/Window-v0", mcm="het-sides-3x3", disable_env_checker=True).unwrapped
    loaded = gym.make("ScarGym/Window-v0", mcm="het-sides-3x3", bank=str(bank), disable_env_checker=True).unwrapped
    sc = scenarios[1]
    env.reset(options={"scenario": sc})
    loaded.reset(options={"scenario": sc})
    fresh_pools = CandidatePools.for_data(env.scenario_data, objective="edp", k=3, per_signature=2)
    banked = CandidatePools.for_data(loaded.scenario_data, objective="edp", k=3, per_signature=2).built_pools()
    assert banked and env.plan.windows == loaded.plan.windows
    fields = ("assignment", "mask", "size", "latency_s", "energy_j", "value", "minibatch", "weight_load_s", "chiplets",
              "dataflow_share")
    for (window, slot), pool in banked.items():
        fresh = fresh_pools.pool(window, slot)
        assert [[getattr(c, f) for f in fields] for c in pool] == [[getattr(c, f) for f in fields] for c in fresh]
        for column in ("values", "sizes", "masks"):  # what Window-v0 filters on, without making candidates
            assert getattr(pool, column).tolist() == getattr(fresh, column).tolist()
    assert loaded.scenario_data.reference("scar").edp_js == env.scenario_data.reference("scar").edp_js


def test_keys_follow_content_mcm_and_cost_model(scenarios):
    a = BankOptions.of("het-sides-3x3")
    sc = scenarios[0]
    renamed = type(sc)(id="other-id", use_case="x", domain=sc.domain, models=sc.models)
    assert a.key(sc) == a.key(renamed)  # the id and labels do not matter, the content does
    assert a.key(sc) != a.key(scenarios[1])
    assert a.key(sc) != BankOptions.of("nvd-3x3").key(sc)
    assert a.key(sc) != BankOptions.of("het-sides-3x3", cost_preset="legacy").key(sc)
    assert a.key(sc) != BankOptions.of("het-sides-3x3", k=4).key(sc)


def test_bank_refusals(bank, tmp_path):
    with pytest.raises(ConfigError, match="was built with mcm = 'het-sides-3x3', not 'nvd-3x3'"):
        gym.make("ScarGym/Window-v0", mcm="nvd-3x3", bank=str(bank))
    with pytest.raises(ConfigError, match="objective = 'edp', not 'latency'"):
        gym.make("ScarGym/Window-v0", reward="latency_log_ratio_shaped", bank=str(bank))
    with pytest.raises(ConfigError, match="not a scenario bank"):
        gym.make("ScarGym/Window-v0", bank=str(tmp_path))
    old = tmp_path / "old"
    old.mkdir()
    man = json.loads((bank / "bank.json").read_text())
    (old / "bank.json").write_text(json.dumps({**man, "format": 0}))
    with pytest.raises(ConfigError, match="format 0.*rebuild"):
        ScenarioBank.open(old)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.txt").write_text("x")
    with pytest.raises(ConfigError, match="--out: .*exists and is not a scenario bank"):
        build_bank(tmp_path / "junk", [])


def test_build_keeps_existing_entries(bank, scenarios):
    report = build_bank(bank, scenarios[:1])
    assert (report.added, report.kept) == (0, 1)
    assert len(ScenarioBank.open(bank)) == 2 and ScenarioBank.open(bank).recipes[0]["seed"] == 0


def test_training_config_bank_key(bank, tmp_path):
    from agents.config import load_config
    from agents.envs import env_kwargs_for, suite_of

    base = {"bank": str(bank), "scenarios.train.source": "bank", "env_id": "scar_gym:ScarGym/Window-v0",
            "env_kwargs": {}}
    cfg = load_config("smoke", base)
    assert env_kwargs_for(cfg)["bank"] == str(bank)
    assert [s.id for s in suite_of(cfg.scenarios.train, str(bank)).all()] == ["rand-0-0", "rand-0-1"]
    with pytest.raises(ConfigError, match="^bank: .*no bank.json|bank: .*not a scenario bank"):
        load_config("smoke", {**base, "bank": str(tmp_path)})
    with pytest.raises(ConfigError, match="scenarios.train.source: source: bank without a bank"):
        load_config("smoke", {**base, "bank": None})
    with pytest.raises(ConfigError, match="bank: a scenario bank is Window-v0's"):
        load_config("smoke", {**base, "env_id": "scar_gym:ScarGym/Schedule-v0"})
    with pytest.raises(ConfigError, match="bank: .*mcm = 'het-sides-3x3', not 'nvd-3x3'"):
        load_config("smoke", {**base, "mcm": "nvd-3x3"})
    val = tmp_path / "val"
    build_bank(val, [], recipe={"source": "random", "seed": 10000})
    with pytest.raises(ConfigError, match="scenarios.train.source: .*not drawn from train seeds"):
        load_config("smoke", {**base, "bank": str(val)})
