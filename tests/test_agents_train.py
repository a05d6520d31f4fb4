"""The training loop end to end (train -> save -> load -> schedule -> eval), determinism, and (slow) learning."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")

from agents.config import load_config  # noqa: E402
from agents.train import train  # noqa: E402
from scar_gym.factory import make_evaluator  # noqa: E402
from scar_gym.policies.registry import make_policy  # noqa: E402
from scar_gym.scenarios import load_scenario  # noqa: E402


def _smoke(**over):
    return load_config("smoke", over)


def test_train_save_load_schedule_eval(tmp_path):
    run = train(_smoke(), run_dir=tmp_path / "run", argv=["test"])
    for name in ("config.yaml", "command.txt", "versions.json", "progress.csv", "best_model.zip",
                 "final_model.zip", "eval/evaluations.npz", "eval/edp_vs_ref.csv", "train_summary.json"):
        assert (run / name).exists(), name
    assert list((run / "checkpoints").glob("rl_model_*_steps.zip"))
    assert list((run / "tb").iterdir())
    # the saved config is the resolved one and loads again
    assert load_config(run / "config.yaml") == _smoke()

    # the agent as a Policy, scored by the shared Evaluator
    pol = make_policy(f"ppo:{run}", samples=3)
    ev = make_evaluator("sc10", "het-sides-3x3")
    sched = pol.schedule(ev, seed=0)
    res = ev.evaluate(sched)
    m = sched.meta
    assert m["rollouts"] == 3 and m["evaluations"] > 0
    assert res.edp_js == pytest.approx(m["best_objective"]) and m["best_objective"] <= m["greedy_objective"]
    again = make_policy(f"ppo:{run}", samples=3).schedule(
        make_evaluator("sc10", "het-sides-3x3"), seed=0)
    assert again.windows == sched.windows  # deterministic given the seed

    # the benchmark harness with the agent (cheap reference)
    from scar_gym.benchmark import run_benchmark

    rows = run_benchmark([f"ppo:{run / 'final_model.zip'}"], scenarios=[load_scenario("sc10")],
                         reference="standalone")
    assert [r.policy for r in rows] == ["standalone", "ppo:run/final_model"]
    assert rows[1].edp_vs_scar > 0 and rows[1].num_evaluations > 0

    # resume continues the step counter
    cfg = _smoke(n_timesteps=320)
    run2 = train(cfg, run_dir=tmp_path / "run2", resume=run / "final_model.zip", argv=["test"])
    import json
    assert json.loads((run2 / "train_summary.json").read_text())["timesteps"] >= 320


def test_same_seed_same_first_evaluation(tmp_path):
    cfg = _smoke(n_timesteps=128)
    runs = [train(cfg, run_dir=tmp_path / f"r{i}", argv=["test"]) for i in range(2)]
    evals = [np.load(r / "eval" / "evaluations.npz") for r in runs]
    assert evals[0]["timesteps"].tolist() == evals[1]["timesteps"].tolist() == [128]
    np.testing.assert_array_equal(evals[0]["results"], evals[1]["results"])
    rows = []
    for r in runs:
        with (r / "eval" / "edp_vs_ref.csv").open() as f:
            rows.append(next(csv.DictReader(f))["geomean_edp_vs_ref"])
    assert rows[0] == rows[1]


@pytest.mark.slow
def test_short_training_beats_random(tmp_path):
    """4k steps of Window-v0 on one small AR/VR scenario: the greedy agent beats the masked-random policy."""
    import gymnasium as gym

    over = {"env_id": "scar_gym:ScarGym/Window-v0", "env_kwargs": {"reward": "edp_log_ratio_shaped", "reference": "scar"},
            "n_timesteps": 4096, "ppo.n_steps": 256, "ppo.batch_size": 64, "ppo.n_epochs": 8,
            "policy.net_arch": [64, 64], "scenarios.train.ids": ["sc10"], "scenarios.eval.ids": ["sc10"],
            "eval.freq": 100000, "checkpoint.freq": 100000}
    cfg = _smoke(**over)
    run = train(cfg, run_dir=tmp_path / "run", argv=["test"])
    ev = make_evaluator("sc10", "het-sides-3x3")
    agent = ev.evaluate(make_policy(f"ppo:{run / 'final_model.zip'}", samples=1).schedule(ev, seed=0)).edp_js
    env = gym.make(cfg.env_id, scenario="sc10", mcm="het-sides-3x3", reward="edp", reference=None).unwrapped
    rng = np.random.default_rng(0)
    rand = []
    for _ in range(10):
        env.reset(seed=0)
        done = False
        while not done:
            a = int(rng.choice(np.flatnonzero(env.action_masks())))
            _, _, te, tr, info = env.step(a)
            done = te or tr
        rand.append(info["edp_js"])
    assert agent < np.mean(rand), (agent, rand)
