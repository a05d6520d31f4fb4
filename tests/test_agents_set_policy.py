"""The size- and layout-agnostic agent (issue 15): one network on every MCM size and layout, no SCAR
run at inference, and a one-line error for an agent used where it cannot run."""

from __future__ import annotations

import pytest

pytest.importorskip("sb3_contrib")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import scar_gym  # noqa: E402,F401  (registers the envs)
from agents.agentfile import load_agent, save_agent  # noqa: E402
from agents.config import config_from_dict, load_config  # noqa: E402
from agents.policy import Anchored3x3PPOPolicy, PPOPolicy  # noqa: E402
from agents.set_policy import NopSetExtractor, SetPointerPolicy  # noqa: E402
from scar_gym.costmodel.tables import CostModel  # noqa: E402
from scar_gym.errors import ConfigError  # noqa: E402
from scar_gym.factory import make_evaluator  # noqa: E402
from scar_gym.scenarios import RandomScenarioGenerator  # noqa: E402

CONFIG = "configs/train/window_any_size.yaml"


def _policy(max_chiplets: int = 64, k_max: int = 16, seed: int = 0) -> SetPointerPolicy:
    import torch

    torch.manual_seed(seed)
    env = gym.make("ScarGym/Window-v0", scenario="sc4", mcm="het-sides-3x3", windows="reconfig", anchor=False,
                   max_chiplets=max_chiplets, k_max=k_max, obs_mode="sets", reward="edp", reference=None)
    return SetPointerPolicy(env.observation_space, env.action_space, lambda _: 3e-4,
                            net_arch=dict(pi=[32, 32], vf=[32, 32]), features_extractor_class=NopSetExtractor,
                            features_extractor_kwargs=dict(token_dim=32, n_layers=1, n_heads=2))


def _agent_dir(tmp_path, max_chiplets: int = 64):
    """An (untrained) agent directory with the any-size training config."""
    cfg = load_config(CONFIG).to_dict()
    cfg["env_kwargs"] = {**cfg["env_kwargs"], "max_chiplets": max_chiplets}
    if max_chiplets < 36:
        for key in ("mcms", "eval_mcms"):
            cfg[key] = [m for m in cfg[key] if "6x6" not in m and "5x5" not in m]
    out = tmp_path / f"agent{max_chiplets}"
    save_agent(_policy(max_chiplets), out, config_from_dict(cfg).to_dict(), {"test": True})
    return out


@pytest.fixture(scope="module")
def cost_model():
    return CostModel()


def test_parameter_count_does_not_depend_on_the_padding_or_the_slots():
    counts = {(c, k): sum(p.numel() for p in _policy(c, k).parameters()) for c, k in [(16, 8), (64, 16), (36, 24)]}
    assert len(set(counts.values())) == 1, counts


def _no_scar(monkeypatch):
    from scar_gym.policies.scar.policy import ScarPolicy

    def refuse(self, evaluator, seed=None):
        raise AssertionError("SCAR was run")

    monkeypatch.setattr(ScarPolicy, "schedule", refuse)


def test_one_network_schedules_every_size_and_layout_without_running_scar(tmp_path, cost_model, monkeypatch):
    _no_scar(monkeypatch)
    agent = PPOPolicy(str(_agent_dir(tmp_path)), samples=2)
    one = RandomScenarioGenerator(seed=1, min_models=1, max_models=1).scenario(0)
    eight = RandomScenarioGenerator(seed=1, min_models=8, max_models=8, domain="arvr").scenario(0)
    cases = [("sc4", "nvd-2x2"), ("sc4", "het-sides-3x3"), ("sc4", "het-3x3-tri"), ("sc4", "het-cross-6x6"),
             (one, "het-cb-4x4"), (eight, "het-sides-3x3")]
    for scenario, mcm in cases:
        ev = make_evaluator(scenario, mcm, cost_model=cost_model)
        sched = agent.schedule(ev, seed=0)
        ev.validate(sched)  # every layer of every model scheduled exactly once, no chiplet shared in a window
        placed = {m: sum(a.stop - a.start for w in sched.windows for a in w.assignments if a.model == m)
                  for m in range(len(ev.models))}
        assert placed == dict(enumerate(ev.num_layers)), (scenario, mcm)
        assert sched.meta["reference_s"] == 0.0 and sched.meta["own_s"] > 0
    assert len(eight.models) == 8 and len(one.models) == 1


def test_the_anchored_3x3_agent_on_a_larger_mcm_is_one_line_naming_both(monkeypatch):
    agent = Anchored3x3PPOPolicy(None, samples=1)

    def no_network(self, obs):
        raise AssertionError("the network ran")

    monkeypatch.setattr(PPOPolicy, "_logits", no_network)
    ev = make_evaluator("sc4", "het-cross-6x6")
    with pytest.raises(ConfigError) as e:
        agent.schedule(ev, seed=0)
    msg = str(e.value)
    assert "\n" not in msg and e.value.field == "agent"
    assert "trained for ScarGym/Window-v0 on het-sides-3x3" in msg and "exactly 9 chiplets" in msg
    assert "given het-cross-6x6 with 36 chiplets" in msg
    assert "size-agnostic agent (--policy ppo)" in e.value.fix  # ppo is the one that runs there


def test_a_padded_agent_on_an_mcm_past_its_padding_says_so(tmp_path):
    agent = PPOPolicy(str(_agent_dir(tmp_path, max_chiplets=16)), samples=1)
    ev = make_evaluator("sc4", "het-cross-6x6")
    with pytest.raises(ConfigError) as e:
        agent.schedule(ev, seed=0)
    assert "padded to 16 chiplets" in str(e.value) and "36 chiplets" in str(e.value)
    assert "at most 16 chiplets" in e.value.fix


def test_agent_directory_round_trip_keeps_the_pointer_network(tmp_path):
    d = _agent_dir(tmp_path)
    a = load_agent(d)
    assert type(a.policy).__name__ == "SetPointerPolicy" and a.network["features_extractor"] == "NopSetExtractor"
    env = gym.make("ScarGym/Window-v0", scenario="sc1", mcm="het-sides-8x8", windows="reconfig", anchor=False,
                   max_chiplets=64, obs_mode="sets", reward="edp", reference=None, pool_segment_cap=4,
                   pool_paths_per_root=1).unwrapped
    obs, _ = env.reset(seed=0)
    import torch

    t = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)[None]) for k, v in obs.items()}
    with torch.no_grad():
        logits = a.policy.get_distribution(t).distribution.logits
    assert logits.shape == (1, 16) and torch.isfinite(logits).all()


def test_training_config_across_mcms_is_checked():
    base = load_config(CONFIG).to_dict()
    bad = {**base, "env_kwargs": {k: v for k, v in base["env_kwargs"].items() if k != "max_chiplets"}}
    with pytest.raises(ConfigError) as e:
        config_from_dict(bad)
    assert e.value.field == "env_kwargs.max_chiplets" and "at least 36" in e.value.fix
    with pytest.raises(ConfigError) as e:
        config_from_dict({**base, "mcms": ["het-sides-3x3", "no-such-mcm"]})
    assert e.value.field == "mcms[1]"
    with pytest.raises(ConfigError) as e:
        config_from_dict({**base, "eval_mcms": ["het-sides-5x5", "nope-3x3"]})
    assert e.value.field == "eval_mcms[1]"
    with pytest.raises(ConfigError) as e:
        config_from_dict({**base, "mcms": [], "mcm": "het-sides-3x3"})
    assert e.value.field == "eval_mcms"


def test_feeder_runs_every_scenario_on_every_mcm():
    from agents.envs import make_env
    from agents.config import SuiteConfig

    kw = {"reward": "edp", "reference": None, "windows": "reconfig", "anchor": False, "max_chiplets": 16,
          "obs_mode": "sets", "pool_segment_cap": 3, "pool_paths_per_root": 1}
    src = SuiteConfig(source="list", ids=("sc1", "sc6"))
    env = make_env("scar_gym:ScarGym/Window-v0", kw, src, 0, 1, mcms=("het-sides-3x3", "nvd-2x2"))
    seen = []
    for _ in range(4):
        env.reset()
        done = False
        while not done:
            mask = env.unwrapped.action_masks()
            _, _, done, trunc, info = env.step(int(np.flatnonzero(mask)[0]))
            done = done or trunc
        seen.append((info["scenario"], info["mcm"]))
    assert sorted(seen) == sorted([("sc1", "het-sides-3x3"), ("sc1", "nvd-2x2"), ("sc6", "het-sides-3x3"),
                                   ("sc6", "nvd-2x2")])


def test_window_sets_add_greedy_rollouts_on_scars_boundary_sets(tmp_path, cost_model, monkeypatch):
    _no_scar(monkeypatch)
    d = str(_agent_dir(tmp_path))
    one = PPOPolicy(d, samples=1, window_sets=1)
    three = PPOPolicy(d, samples=3, window_sets=3)
    ev1, ev3 = (make_evaluator("sc4", "het-sides-3x3", cost_model=cost_model) for _ in range(2))
    env = three.make_env(ev3)
    env.reset(seed=0)
    opts = three.window_options(env, ev3)
    assert opts[0] is None and 2 <= len(opts) <= 3 and all("windows" in o for o in opts[1:])
    s1, s3 = one.schedule(ev1, seed=0), three.schedule(ev3, seed=0)
    assert s3.meta["greedy_objective"] == s1.meta["best_objective"]  # the env's own windows come first
    assert s3.meta["best_objective"] <= s1.meta["best_objective"] and s3.meta["window_sets"] == 3
    ev3.validate(s3)
    with pytest.raises(ConfigError) as e:
        PPOPolicy(d, window_sets=0)
    assert e.value.field == "window_sets"


def test_the_anchored_agent_reports_scars_run_apart_from_its_own_time(cost_model):
    sched = Anchored3x3PPOPolicy(None, samples=1).schedule(make_evaluator("sc1", "het-sides-3x3",
                                                                          cost_model=cost_model))
    m = sched.meta
    assert 0 < m["reference_s"] <= m["setup_s"] and m["own_s"] == pytest.approx(m["runtime_s"] - m["reference_s"],
                                                                                abs=0.05)


@pytest.mark.slow
def test_training_across_mcms_validates_on_each_and_an_unseen_one(tmp_path):
    import json

    from agents.train import train

    over = {"n_timesteps": 128, "n_envs": 1, "ppo.n_steps": 64, "ppo.batch_size": 32, "ppo.n_epochs": 1,
            "eval.freq": 64, "eval.reference": "standalone", "checkpoint.freq": 100000, "progress_bar": False,
            "mcms": ["nvd-2x2", "het-sides-3x3"], "eval_mcms": ["nvd-2x2", "het-sides-3x3", "het-cb-4x4"],
            "scenarios.train": {"source": "list", "ids": ["sc1", "sc6"]},
            "scenarios.eval": {"source": "list", "ids": ["sc7"]},
            "policy.extractor_kwargs": {"token_dim": 16, "n_layers": 1, "n_heads": 2}}
    cfg = load_config(CONFIG, over)
    run = train(cfg, run_dir=tmp_path / "run", argv=["test"])
    with open(run / "eval" / "edp_vs_ref.csv") as f:
        last = f.read().strip().splitlines()[-1]
    per = json.loads(last.split(",", 5)[5].strip('"').replace('""', '"'))
    assert set(per) == {"sc7@nvd-2x2", "sc7@het-sides-3x3", "sc7@het-cb-4x4"} and all(v > 0 for v in per.values())
    ev = make_evaluator("sc7", "het-sides-5x5")
    ev.validate(PPOPolicy(str(run / "final_agent"), samples=1).schedule(ev, seed=0))


def test_reconfig_agents_take_the_any_size_search_unless_told_otherwise(tmp_path):
    from scar_gym.envs.rollout_search import ANY_SIZE_SEARCH

    d = str(_agent_dir(tmp_path))
    default = PPOPolicy(d)
    assert {k: getattr(default, k) for k in ANY_SIZE_SEARCH} == ANY_SIZE_SEARCH
    told = PPOPolicy(d, samples=4, window_sets=2, lookahead=False)
    assert (told.samples, told.window_sets, told.lookahead) == (4, 2, False)
    anchored = Anchored3x3PPOPolicy(None)  # trained on SCAR's windows: 8 rollouts, its env's windows, no lookahead
    assert (anchored.samples, anchored.window_sets, anchored.lookahead, anchored.polish) == (8, 1, False, False)
    shipped = PPOPolicy(None)  # the shipped agent is a reconfig one
    assert {k: getattr(shipped, k) for k in ANY_SIZE_SEARCH} == ANY_SIZE_SEARCH
    with pytest.raises(ConfigError) as e:
        PPOPolicy(d, lookahead="yes")
    assert e.value.field == "lookahead"
