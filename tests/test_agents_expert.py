"""Expert iteration: distillation fits search targets, and the whole loop writes a loadable agent."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")

from agents.expert import ExpertConfig, _record, distil, expert_iteration  # noqa: E402
from agents.policy import Anchored3x3PPOPolicy, PPOPolicy  # noqa: E402
from scar_gym.errors import ConfigError  # noqa: E402
from scar_gym.factory import make_evaluator  # noqa: E402


def test_distil_makes_the_greedy_rollout_follow_the_targets():
    pol = Anchored3x3PPOPolicy(None, samples=1)  # expert iteration's default agent (agents.ANCHORED_3X3_AGENT)
    env = pol.make_env(make_evaluator("sc10", "het-sides-3x3"))
    greedy = pol._rollout(env).actions
    # a target that leaves the greedy choice wherever a second candidate exists
    env.reset(seed=0)
    target, done = [], False
    while not done:
        valid = np.flatnonzero(env.action_masks())
        a = int(valid[1]) if len(valid) > 1 else int(valid[0])
        target.append(a)
        _, _, done, _, _ = env.step(a)
    assert target != greedy
    obs, masks = _record(env, target)
    loss = distil(pol.model, obs, masks, target, ExpertConfig(epochs=150, lr=3e-3, batch_size=8),
                  np.random.default_rng(0))
    assert loss < 0.05
    assert pol._rollout(env).actions == target


def test_expert_iteration_writes_a_loadable_agent(tmp_path):
    out = expert_iteration(None, tmp_path / "exit", ExpertConfig(iterations=1, samples=4, epochs=3),
                           argv=["test"], train_n=2, eval_n=1, log=lambda *_: None)
    for name in ("best_agent/agent.json", "best_agent/policy.pt", "final_agent/agent.json", "config.yaml",
                 "expert_iteration.csv"):
        assert (out / name).exists(), name
    with (out / "expert_iteration.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["iteration"] for r in rows] == ["0", "1"]
    assert float(rows[1]["expert_vs_scar"]) <= float(rows[0]["train_greedy_vs_scar"]) + 1e-12  # search never loses
    ev = make_evaluator("sc8", "het-sides-3x3")
    distilled = PPOPolicy(str(out), samples=1)
    # None starts from the SCAR-anchored 3x3 agent (ppo-3x3), not from the shipped size-agnostic one
    assert distilled.config.env_kwargs == Anchored3x3PPOPolicy(None).config.env_kwargs
    ev.validate(distilled.schedule(ev, seed=0))


@pytest.mark.parametrize("kwargs, field", [({"iterations": 0}, "iterations"), ({"samples": 1.5}, "samples"),
                                           ({"lr": 0}, "lr"), ({"batch_size": True}, "batch_size")])
def test_bad_expert_settings_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as e:
        ExpertConfig(**kwargs)
    assert e.value.field == field
