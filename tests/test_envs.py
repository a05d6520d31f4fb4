"""ScarGym/Schedule-v0 and ScarGym/Window-v0: registration, masks, replay, rewards, seeding, rendering."""

from __future__ import annotations

import math
import random
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

import scar_gym
from scar_gym.envs import ModelSet, ScheduleEnv, ToyGenerator
from scar_gym.envs.adapters import PolicyAgent, RandomMaskedAgent, ScheduleFollower, run_episode
from scar_gym.envs.types import split_overfull
from scar_gym.envs.window_env import WindowEnv
from scar_gym.errors import ConfigError, InvalidActionError, ScarGymError, UnknownNameError
from scar_gym.factory import make_cost_model
from scar_gym.hardware import MCM
from scar_gym.registration import ENV_IDS, register_envs
from scar_gym.rewards import REWARD_NAMES
from scar_gym.scenarios import RandomScenarioGenerator

TOYS = ToyGenerator().pool(6, seed=1)


def toy_env(**kw) -> ScheduleEnv:
    kw.setdefault("scenario", TOYS[0])
    kw.setdefault("mcm", "het-sides-3x3")
    return ScheduleEnv(**kw)


def masked_episode(env, rng: np.random.Generator, seed=None, options=None):
    """Random masked rollout checking the per-step invariants; returns (steps, rewards, final info)."""
    obs, info = env.reset(seed=seed, options=options)
    u = env.unwrapped
    steps, rewards = 0, []
    bound = u.plan.num_decisions if isinstance(u, ScheduleEnv) else sum(len(w) for w in u.plan.windows)
    while True:
        mask = u.action_masks()
        assert mask.any(), "empty mask in a non-terminal state"
        assert np.array_equal(obs["action_mask"], mask.astype(np.int8))
        assert np.array_equal(info["action_mask"], mask)
        assert env.observation_space.contains(obs)
        valid = np.flatnonzero(mask)
        obs, r, terminated, truncated, info = env.step(int(valid[rng.integers(len(valid))]))
        steps += 1
        rewards.append(r)
        assert not info["invalid_action"] and not truncated
        if terminated:
            assert env.observation_space.contains(obs)
            assert not u.action_masks().any()
            break
        assert steps <= bound
    assert steps == bound
    return steps, rewards, info


# -- registration ---------------------------------------------------------------------------------

def test_registered_idempotently_and_makeable():
    register_envs()
    register_envs()
    for env_id in ENV_IDS:
        assert env_id in gym.registry
    env = gym.make("ScarGym/Schedule-v0", scenario="sc4", mcm="het-sides-3x3")
    obs, info = env.reset(seed=0)
    assert env.action_space == gym.spaces.Discrete(9)
    assert env.observation_space.contains(obs)
    assert env.spec.to_json()
    # The mask is reachable through the wrappers the way SB3 / sb3-contrib reach it.
    assert np.array_equal(env.get_wrapper_attr("action_masks")(), info["action_mask"])
    env2 = gym.make("scar_gym:ScarGym/Schedule-v0", scenario="sc8")
    env2.reset(seed=0)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="max_chiplets"):
        toy_env(max_chiplets=4)
    with pytest.raises(ConfigError, match="invalid_action"):
        toy_env(invalid_action="explode")
    with pytest.raises(ConfigError, match="reward"):
        toy_env(reward="edp_squared")
    with pytest.raises(ConfigError, match="reference"):
        toy_env(reward="edp_relative", reference=None)
    env = toy_env()
    with pytest.raises(ConfigError, match="options.foo"):
        env.reset(options={"foo": 1})
    with pytest.raises(gym.error.ResetNeeded):
        toy_env().step(0)


# -- masks and random episodes --------------------------------------------------------------------

MCMS = [MCM("x", "NSN/NSN/NSN"), MCM("2x2", "NS/SN"), MCM("row", "NSN")]


def test_1000_random_masked_episodes_end_valid():
    """1,000 random masked episodes over random toy scenarios (1-5 models of 1-8 layers; short on
    purpose, so that the test is fast: paper scenarios have 130-730 layers) on 3x3, 2x2 (windows of
    5 models get split) and 1x3 MCMs, plus a padded action space: every step has a non-empty mask
    equal to the observation's, and every final schedule passes the validator with one decision
    per layer. Each env draws its episodes from 40 toy scenarios (building cost tables for 1,000
    fresh scenarios would dominate the test's time)."""
    gen = ToyGenerator(n_models=(1, 5), n_layers=(1, 8))
    rng = np.random.default_rng(0)
    n = 0
    for i, (mcm, c_max) in enumerate([(MCMS[0], None), (MCMS[1], None), (MCMS[2], None), (MCMS[1], 9)]):
        env = ScheduleEnv(gen.pool(40, seed=100 + i), mcm, reward="edp_shaped", reference=None, max_chiplets=c_max)
        for ep in range(250):
            steps, rewards, info = masked_episode(env, rng, seed=ep if ep == 0 else None)
            u = env.unwrapped
            u.evaluator.validate(u.schedule)  # complete and valid
            assert info["n_decisions"] == sum(u.evaluator.num_layers) == steps
            assert math.isclose(sum(rewards), -info["edp_js"], rel_tol=1e-9)
            for w in u.plan.windows:
                assert len(w) <= mcm.num_chiplets
            n += 1
    assert n == 1000


def test_mask_rules():
    """Contiguity, one model per chiplet, no reuse, room for the models still to come."""
    inst = ModelSet("three", tuple(ToyGenerator(n_models=(1, 1), n_layers=(3, 3)).sample(np.random.default_rng(i)).models[0]
                                   for i in range(3)), (1, 1, 1))
    env = ScheduleEnv(inst, MCM("x", "NSN"), reward="edp", reference=None, windows=[{0: (0, 3), 1: (0, 3), 2: (0, 3)}])
    obs, info = env.reset()
    # model 0, layer 0: any chiplet (3 free, 2 models to come)
    assert info["action_mask"].tolist() == [True, True, True]
    obs, *_ , info = env.step(0)
    # layer 1: continue on 0; a new segment would leave 1 free chiplet for 2 models
    assert info["action_mask"].tolist() == [True, False, False]
    env.step(0), env.step(0)
    # model 1, first layer: chiplet 0 is taken by model 0
    assert env.action_masks().tolist() == [False, True, True]
    *_, info = env.step(2)
    assert info["action_mask"].tolist() == [False, False, True]
    env.step(2), env.step(2)
    assert env.action_masks().tolist() == [False, True, False]


def test_require_paths_and_overfull_split():
    assert split_overfull((((0, 0, 1), (1, 0, 1), (2, 0, 1)),), 2) == (((0, 0, 1), (1, 0, 1)), ((2, 0, 1),))
    env = toy_env(require_paths=True, scenario=TOYS[1])
    rng = np.random.default_rng(3)
    for _ in range(20):
        masked_episode(env, rng)
        env.unwrapped.evaluator.validate(env.unwrapped.schedule, require_paths=True)


# -- invalid actions --------------------------------------------------------------------------------

def test_invalid_action_penalize_keeps_state():
    env = toy_env(invalid_penalty=-2.5)
    obs, info = env.reset(seed=0)
    bad = int(np.flatnonzero(~info["action_mask"])[0]) if not info["action_mask"].all() else None
    for action in [bad, 99, -1, 1.5, "x", [0, 1]]:
        if action is None:
            continue
        obs2, r, term, trunc, info2 = env.step(action)
        assert r == -2.5 and not term and not trunc
        assert info2["invalid_action"] and info2["invalid_reason"]
        assert data_equivalence(obs, obs2)
    valid = int(np.flatnonzero(info["action_mask"])[0])
    while True:
        obs, r, term, trunc, info = env.step(valid if env.unwrapped.action_masks()[valid]
                                             else int(np.flatnonzero(env.unwrapped.action_masks())[0]))
        if term:
            break
    assert info["n_invalid"] == 5


def test_invalid_action_raise_names_action_and_reason():
    env = toy_env(invalid_action="raise", max_chiplets=12)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"action 10 .*padding"):
        env.step(10)
    with pytest.raises(InvalidActionError, match="out of range"):
        env.step(12)
    a = int(np.flatnonzero(env.action_masks())[0])
    env.step(a)
    # the next layer may continue on a or take a free chiplet; a chiplet of another model or an
    # earlier one of this model is never valid: finish this model, then try its chiplet again
    u = env.unwrapped
    m0 = u.position[1]
    while u.position[1] == m0 and u.position[0] == 0:
        env.step(int(np.flatnonzero(env.action_masks())[0]))
    if u.position[0] == 0:
        with pytest.raises(InvalidActionError, match="already holds model"):
            env.step(a)


def test_max_invalid_truncates():
    env = toy_env(max_invalid=3)
    env.reset(seed=0)
    flags = [env.step(99)[3] for _ in range(3)]
    assert flags == [False, False, True]
    with pytest.raises(ScarGymError):
        env.step(0)


# -- replay ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", ["sc4", "toy"])
def test_scar_replay_gives_scar_edp_exactly(scenario):
    inst = TOYS[2] if scenario == "toy" else scenario
    env = gym.make("ScarGym/Schedule-v0", scenario=inst, mcm="het-sides-3x3", reward="edp_shaped")
    agent = PolicyAgent("scar")
    info, total, sched = run_episode(env, agent, seed=0)
    u = env.unwrapped
    ref = u.evaluator.evaluate(agent.follower.schedule)
    assert abs(info["edp_js"] - ref.edp_js) <= 1e-12 * ref.edp_js
    assert sched == agent.follower.schedule
    assert math.isclose(total, -ref.edp_js, rel_tol=1e-9)
    # The same through the raw action list of a ScheduleFollower.
    follower = ScheduleFollower(agent.follower.schedule)
    env.reset(options=follower.reset_options())
    for a in follower.actions():
        *_, term, _, info = env.step(a)
    assert term and info["edp_js"] == ref.edp_js


def test_follower_rejects_other_windows():
    env = toy_env(scenario=TOYS[2])
    info, _, sched = run_episode(env, PolicyAgent("standalone"), seed=0)
    follower = ScheduleFollower(sched)
    env.reset(options={"windows": [{m: (0, n) for m, n in enumerate(env.unwrapped.evaluator.num_layers)}]})
    if env.unwrapped.plan.windows != follower._spec:
        with pytest.raises(ConfigError, match="windows"):
            follower.predict(None, env)


# -- rewards --------------------------------------------------------------------------------------

@pytest.mark.parametrize("reward", REWARD_NAMES)
def test_reward_sums(reward):
    env = toy_env(scenario=TOYS[3], reward=reward)
    rng = np.random.default_rng(1)
    for seed in range(3):
        _, rewards, info = masked_episode(env, rng, seed=seed)
        objective, kind = reward.partition("_")[0], reward.partition("_")[2]
        value = {"edp": info["edp_js"], "latency": info["latency_s"], "energy": info["energy_j"]}[objective]
        ref = value / info["objective_ratio_vs_ref"]
        expected = {"": -value, "shaped": -value, "relative": -value / ref,
                    "log_ratio": math.log(ref / value), "log_ratio_shaped": math.log(ref / value)}[kind]
        assert math.isclose(sum(rewards), expected, rel_tol=1e-9, abs_tol=1e-12), (reward, sum(rewards), expected)
        if kind in ("", "log_ratio"):
            assert all(r == 0.0 for r in rewards[:-1])
        assert info["edp_ratio_vs_ref"] == info["edp_js"] / info["reference_edp_js"]


def test_final_info_keys():
    env = toy_env()
    _, _, info = masked_episode(env, np.random.default_rng(0), seed=0)
    for k in ("latency_s", "energy_j", "edp_js", "edp_ratio_vs_ref", "n_invalid", "n_decisions"):
        assert k in info
    assert info["edp_js"] == pytest.approx(info["latency_s"] * info["energy_j"], rel=1e-12)


# -- seeding, options, caching ------------------------------------------------------------------------

def rollout(env, seed, agent_seed):
    rng = np.random.default_rng(agent_seed)
    out = []
    obs, info = env.reset(seed=seed)
    out.append((obs, info))
    for _ in range(2):  # two episodes: the second reset draws from the seeded np_random
        while True:
            valid = np.flatnonzero(env.unwrapped.action_masks())
            step = env.step(int(valid[rng.integers(len(valid))]))
            out.append(step)
            if step[2]:
                break
        out.append(env.reset())
    return out


def test_seeded_episodes_identical():
    gen = RandomScenarioGenerator(seed=3, domain="arvr", min_models=2, max_models=2)
    kw = dict(scenario=gen, mcm="het-cb-3x3", reward="edp_log_ratio_shaped")
    a = rollout(ScheduleEnv(**kw), 7, 11)
    np.random.seed(123), random.random(), np.random.random()  # global RNGs must not matter
    b = rollout(ScheduleEnv(**kw), 7, 11)
    assert len(a) == len(b)
    assert data_equivalence(a, b, exact=True)
    c = rollout(ScheduleEnv(**kw), 8, 11)
    assert not data_equivalence(a, c)


def test_reset_options_scenario_and_windows_and_speed():
    env = gym.make("ScarGym/Schedule-v0", scenario="sc4", mcm="het-sides-3x3")
    env.reset(seed=0)
    u = env.unwrapped
    assert u.scenario_data.id == "sc4" and u.scenario_data.mcm.pes == 4096
    env.reset(options={"scenario": "sc10"})
    assert u.scenario_data.id == "sc10" and u.scenario_data.mcm.pes == 256  # PEs follow the domain
    wins = [{0: (0, 10), 1: (0, 5)}, {0: (10, u.evaluator.num_layers[0]), 1: (5, u.evaluator.num_layers[1])}]
    env.reset(options={"scenario": "sc10", "windows": wins})
    assert u.windows == wins
    with pytest.raises(ConfigError, match="windows"):
        env.reset(options={"scenario": "sc10", "windows": [{0: (0, 10)}]})
    times = []
    for _ in range(30):
        t = time.perf_counter()
        env.reset(options={"scenario": "sc4"})
        times.append(time.perf_counter() - t)
    assert np.median(times) < 0.020, f"reset with cached tables took {np.median(times) * 1e3:.1f} ms"


def test_scenario_sources():
    env = ScheduleEnv(["sc8", "sc10"], "het-sides-3x3", reference=None, reward="edp")
    seen = {env.reset(seed=s)[0] is not None and env.unwrapped.scenario_data.id for s in range(12)}
    assert seen == {"sc8", "sc10"}
    env = ScheduleEnv("random", "het-sides-3x3", reference=None, reward="edp",
                      generator_kwargs={"seed": 0, "domain": "arvr", "min_models": 2, "max_models": 2})
    env.reset(seed=0)
    assert env.scenario_data.id.startswith("rand-")


# -- observations -----------------------------------------------------------------------------------

def test_flatten_matches_gymnasium_flatten():
    env_d = toy_env(scenario=TOYS[4], max_chiplets=12)
    env_f = toy_env(scenario=TOYS[4], max_chiplets=12, flatten=True)
    od, _ = env_d.reset(seed=0)
    of, _ = env_f.reset(seed=0)
    rng = np.random.default_rng(0)
    while True:
        assert np.array_equal(gym.spaces.flatten(env_d.observation_space, od), of)
        assert env_f.observation_space.contains(of)
        assert np.array_equal(env_d.action_masks(), env_f.action_masks())
        valid = np.flatnonzero(env_d.action_masks())
        a = int(valid[rng.integers(len(valid))])
        od, _, term, _, _ = env_d.step(a)
        of, _, _, _, _ = env_f.step(a)
        if term:
            break


def test_fresh_arrays_every_step():
    env = toy_env()
    o1, i1 = env.reset(seed=0)
    o2, *_ , i2 = env.step(int(np.flatnonzero(i1["action_mask"])[0]))
    for k in o1:
        assert not np.shares_memory(o1[k], o2[k])
    assert not np.shares_memory(i1["action_mask"], i2["action_mask"])
    assert not np.shares_memory(env.action_masks(), env.action_masks())


# -- rendering ----------------------------------------------------------------------------------------

def test_render_modes():
    for mode, kind in [("ansi", str), ("rgb_array", np.ndarray)]:
        env = toy_env(render_mode=mode)
        env.reset(seed=0)
        env.step(int(np.flatnonzero(env.action_masks())[0]))
        out = env.render()
        assert isinstance(out, kind)
        if mode == "rgb_array":
            assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert ScheduleEnv.metadata["render_modes"] == ["ansi", "rgb_array"]
    env = WindowEnv(TOYS[0], "het-sides-3x3", render_mode="ansi")
    env.reset(seed=0)
    env.step(0)
    assert isinstance(env.render(), str)


# -- Window-v0 -----------------------------------------------------------------------------------------

def test_window_env_anchor_replays_scar():
    env = gym.make("ScarGym/Window-v0", scenario="sc8", mcm="het-sides-3x3", reward="edp_shaped")
    obs, info = env.reset(seed=0)
    total, term = 0.0, False
    while not term:
        assert obs["candidates"][0, 1] == 1.0  # slot 0 is SCAR's own choice
        obs, r, term, _, info = env.step(0)
        total += r
    u = env.unwrapped
    sched, res = u.scenario_data.policy_schedule("scar")
    assert u.schedule == sched
    assert abs(info["edp_js"] - res.edp_js) <= 1e-12 * res.edp_js
    assert info["edp_ratio_vs_ref"] == 1.0
    assert math.isclose(total, -res.edp_js, rel_tol=1e-9)


def test_window_env_random_episodes():
    rng = np.random.default_rng(0)
    for mcm in MCMS[:2]:
        env = WindowEnv(ToyGenerator(n_models=(1, 5), n_layers=(1, 8)).pool(5, seed=7), mcm, k_max=6)
        for _ in range(15):
            masked_episode(env, rng)
            env.unwrapped.evaluator.validate(env.unwrapped.schedule)


def test_window_env_invalid_actions():
    env = WindowEnv(TOYS[5], "het-sides-3x3", k_max=32, invalid_penalty=-3.0)
    obs, info = env.reset(seed=0)
    n = int(info["action_mask"].sum())
    if n < 32:
        obs2, r, *_ , info2 = env.step(31)
        assert r == -3.0 and info2["invalid_action"] and data_equivalence(obs, obs2)
    env = WindowEnv(TOYS[5], "het-sides-3x3", invalid_action="raise")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="out of range"):
        env.step(100)
    with pytest.raises(ConfigError, match="anchor"):
        WindowEnv(TOYS[5], "het-sides-3x3", windows="reconfig")
    env = WindowEnv(TOYS[5], "het-sides-3x3", windows="reconfig", anchor=False, reference="standalone")
    masked_episode(env, np.random.default_rng(0), seed=0)


def test_random_masked_agent_and_scenario_object():
    from scar_gym.scenarios import load_scenario

    env = ScheduleEnv(load_scenario("sc10"), "het-sides-3x3")
    info, total, sched = run_episode(env, RandomMaskedAgent(0), seed=0)
    env.evaluator.validate(sched)
    assert math.isclose(total, math.log(1 / info["edp_ratio_vs_ref"]), rel_tol=1e-9)
    assert scar_gym.__version__


# -- Window-v0 relocations -------------------------------------------------------------------------------

def test_window_env_relocations_are_valid_and_use_only_free_chiplets():
    rng = np.random.default_rng(3)
    for mcm in MCMS[:2]:
        env = WindowEnv(ToyGenerator(n_models=(2, 5), n_layers=(2, 8)).pool(5, seed=11), mcm, k_max=8, relocate=6)
        u = env.unwrapped
        for _ in range(10):
            masked_episode(env, rng)  # masks never empty, obs in space, one step per (window, model)
            u.evaluator.validate(u.schedule)  # every layer once, no chiplet shared inside a window


def test_window_env_slots_never_repeat_a_placement():
    from scar_gym.scenarios import load_scenario

    rng = np.random.default_rng(0)
    for sc in ("sc6", "sc9"):
        env = WindowEnv(load_scenario(sc), "het-sides-3x3", relocate=24)
        for _ in range(3):
            env.reset(seed=0)
            done = False
            while not done:
                placed = [c.assignment for c in env.candidates]
                assert len(placed) == len(set(placed))
                _, _, done, _, _ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))


def test_relocation_keeps_segmentation_and_classes_on_free_chiplets():
    from scar_gym.scenarios import load_scenario

    env = WindowEnv(load_scenario("sc6"), "het-sides-3x3", relocate=24)
    env.reset(seed=0)
    for _ in range(3):  # the first three decisions take SCAR's placements
        env.step(0)
    u = env.unwrapped
    st = u._state
    taken = st.taken
    pool = st.pools.pool(st.win, st.k)
    room = st.free_count - (len(st.win) - st.k - 1)
    moved = st.pools.relocated(st.win, st.k, taken, room, 24)
    assert moved, "SCAR's heavy model blocks every multi-chiplet path of the next model"
    cls = u.mcm.class_of
    blocked = {tuple((s.start, s.stop) for s in c.assignment.segments): c for c in pool if c.mask & taken}
    for c in moved:
        assert not c.mask & taken and c.size <= room
        bounds = tuple((s.start, s.stop) for s in c.assignment.segments)
        assert bounds in blocked  # a pool segmentation, moved
        # chiplet classes along the pipeline equal those of some blocked pool candidate with that segmentation
        assert any(tuple(cls[list(p.chiplets)]) == tuple(cls[list(c.chiplets)])
                   for p in pool if p.mask & taken and tuple((s.start, s.stop) for s in p.assignment.segments) == bounds)
        r = u.evaluator.evaluate_assignment(c.assignment)
        assert (c.latency_s, c.energy_j) == (r.latency_s, r.energy_j)
    # the slots now offer multi-segment placements; without relocations only single chiplets fit here
    plain = WindowEnv(load_scenario("sc6"), "het-sides-3x3")
    plain.reset(seed=0)
    for _ in range(3):
        plain.step(0)
    assert max(c.size for c in plain.unwrapped.candidates) < max(c.size for c in u.candidates)


def test_relocate_zero_is_the_plain_env_and_bad_values_are_rejected():
    a = WindowEnv(TOYS[2], "het-sides-3x3")
    b = WindowEnv(TOYS[2], "het-sides-3x3", relocate=0)
    oa, _ = a.reset(seed=0)
    ob, _ = b.reset(seed=0)
    while True:
        assert data_equivalence(oa, ob)
        oa, ra, ta, _, _ = a.step(0)
        ob, rb, _, _, _ = b.step(0)
        assert ra == rb
        if ta:
            break
    for bad in (-1, 2.5, True):
        with pytest.raises(ConfigError, match="relocate"):
            WindowEnv(TOYS[2], "het-sides-3x3", relocate=bad)


def test_cost_preset_option_chooses_the_per_layer_costs():
    paper = ScheduleEnv("sc9", "het-sides-3x3")
    maestro = ScheduleEnv("sc9", "het-sides-3x3", cost_preset="maestro")
    for env in (paper, maestro):
        env.reset(seed=0)
    assert paper.unwrapped.evaluator.cost_model.preset.name == "paper"
    assert maestro.unwrapped.evaluator.cost_model.preset.name == "maestro"
    assert paper.unwrapped.evaluator.tables[0].latency_s.tobytes() != maestro.unwrapped.evaluator.tables[0].latency_s.tobytes()
    with pytest.raises(UnknownNameError, match="unknown cost preset 'zigzag'"):
        ScheduleEnv("sc9", "het-sides-3x3", cost_preset="zigzag")
    with pytest.raises(ConfigError, match="cost_preset"):
        ScheduleEnv("sc9", "het-sides-3x3", cost_preset="maestro", cost_model=make_cost_model(preset="paper")).reset(seed=0)


def _slots_one_by_one(pool, moved, taken, room, anchor, k_max):
    """Window-v0's slot rule written candidate by candidate (the definition select_slots vectorises):
    walk the pool and the relocations merged by (value, size), pool first on ties; keep the first
    feasible one of every segment count, then the first feasible ones, k_max minus the anchor."""
    import heapq

    feasible, best_per_size = [], {}
    for c in heapq.merge(list(pool), moved, key=lambda c: (c.value, c.size)):
        if c.mask & taken or c.size > room:
            continue
        if anchor is not None and c.mask == anchor.mask and c.assignment == anchor.assignment:
            continue
        if len(feasible) < k_max:
            feasible.append(c)
        best_per_size.setdefault(c.size, c)
    budget = k_max - (anchor is not None)
    must = list(best_per_size.values())[:budget]
    rest = [c for c in feasible if all(c is not m for m in must)][: budget - len(must)]
    return sorted(must + rest, key=lambda c: (c.value, c.size))


@pytest.mark.parametrize("mcm,kwargs", [
    ("het-sides-3x3", {"relocate": 24}),  # SCAR's windows, the anchor, relocations
    ("het-cross-6x6", {"windows": "reconfig", "anchor": False, "relocate": 24, "pool_segment_cap": 12,
                       "pool_paths_per_root": 2}),
])
def test_listed_slots_follow_the_candidate_by_candidate_rule(mcm, kwargs):
    env = gym.make("ScarGym/Window-v0", scenario="sc5", mcm=mcm, reward="edp", reference=None, **kwargs).unwrapped
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(2):
        _, info = env.reset(seed=0)
        done = False
        while not done:
            st = env._state
            m = st.win[st.k][0]
            room = st.free_count - (len(st.win) - st.k - 1)
            anchor = st.anchors.get((st.wi, m))
            if anchor is not None and (anchor.mask & st.taken or anchor.size > room):
                anchor = None
            moved = st.pools.relocated(st.win, st.k, st.taken, room, 24) if st.taken else []
            want = _slots_one_by_one(st.pools.pool(st.win, st.k), moved, st.taken, room, anchor, 16)
            got = env.candidates[1:] if anchor is not None else env.candidates
            assert [c.assignment for c in got] == [c.assignment for c in want]
            checked += 1
            valid = np.flatnonzero(info["action_mask"])
            _, _, term, trunc, info = env.step(int(valid[rng.integers(len(valid))]))
            done = term or trunc
    assert checked > 20


def test_chiplet_masks_past_64_chiplets_stay_exact():
    """Pools on MCMs of more than 64 chiplets keep their bit masks as Python ints (a uint64 would
    wrap): a 9x9 MCM's chiplet 80 still overlaps, chiplet 0 still does not."""
    from scar_gym.envs.candidates import mask_array, overlaps

    small = mask_array([0b11, 1 << 63], 64)
    big = mask_array([1 << 80 | 1, 1 << 70], 81)
    assert small.dtype == np.uint64 and big.dtype == object
    assert overlaps(small, 1 << 63).tolist() == [False, True]
    assert overlaps(big, 1 << 80).tolist() == [True, False] and overlaps(big, 1 << 1).tolist() == [False, False]
    assert overlaps(mask_array([], 9), 5).tolist() == []


def test_windows_asking_seg_the_same_question_share_one_pool_equal_to_a_fresh_build():
    """Pools are keyed by (model, layers, n_max, n_i): across boundary sets the same key recurs and
    is built once; the shared pool is exactly the one a fresh CandidatePools builds for that window."""
    from scar_gym.envs.candidates import CandidatePools
    from scar_gym.envs.rollout_search import ANY_SIZE_ENV
    from scar_gym.policies.windows import expected_layer_costs, first_fit_windows
    from scar_gym.policies.scar.policy import boundary_sets

    env = gym.make("ScarGym/Window-v0", scenario="sc5", mcm="het-cross-6x6", reward="edp", reference=None,
                   **ANY_SIZE_ENV).unwrapped
    env.reset(seed=0)
    pools = env._state.pools
    lat, _ = expected_layer_costs(env.evaluator)
    sets = boundary_sets(max(float(np.sum(x)) for x in lat), env.config.n_splits, 5, np.random.default_rng(0))
    specs = []
    for b in sets:
        env.reset(seed=0, options={"windows": first_fit_windows(lat, b)})
        specs += [(w, slot) for w in env.plan.windows for slot in range(len(w))]
    by_key: dict = {}
    for w, slot in specs:
        by_key.setdefault(pools.seg_key(w, slot), []).append((w, slot))
    shared = [v for v in by_key.values() if len({w for w, _ in v}) > 1]
    assert shared, "no two windows of the five boundary sets share a model's SEG question"
    for group in shared[:3]:
        built = [pools.pool(w, s) for w, s in group]
        assert all(p is built[0] for p in built)
        w, s = group[-1]
        fresh = CandidatePools(pools.data, **env.pool_kwargs).pool(w, s)
        assert [c.assignment for c in fresh] == [c.assignment for c in built[0]]
        assert [c.value for c in fresh] == [c.value for c in built[0]]
    # a different n_i (or model, or layers) is a different pool
    keys = list(by_key)
    assert len({id(pools.pool(*by_key[k][0])) for k in keys}) == len(keys)


def test_feature_matrix_is_the_stacked_vectors_and_names_a_wrong_column():
    from scar_gym.envs import features as F

    cols = ("a", "b", "c")
    rows = [{"a": 1.0, "b": 0.1, "c": 1 / 3}, {"c": 2.0, "a": 1e-9, "b": 0.7}]
    got = F.matrix(cols, rows)
    assert got.dtype == np.float32 and got.shape == (2, 3)
    assert np.array_equal(got, np.stack([F.vector(cols, r) for r in rows]))
    assert F.matrix(cols, []).shape == (0, 3)
    with pytest.raises(KeyError, match="d"):
        F.matrix(cols, [rows[0], {**rows[1], "d": 0.0}])
    with pytest.raises(KeyError, match="c"):
        F.matrix(cols, [{"a": 1.0, "b": 2.0}])
