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
                 "final_model.zip", "best_agent/agent.json", "best_agent/policy.pt", "final_agent/agent.json",
                 "final_agent/policy.pt", "eval/evaluations.npz", "eval/edp_vs_ref.csv", "train_summary.json"):
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

    rows = run_benchmark([f"ppo:{run / 'final_agent'}"], scenarios=[load_scenario("sc10")],
                         reference="standalone")
    assert [r.policy for r in rows] == ["standalone", "ppo:run/final_agent"]
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
    agent = ev.evaluate(make_policy(f"ppo:{run / 'final_agent'}", samples=1).schedule(ev, seed=0)).edp_js
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


def _rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_resume_keeps_everything_and_says_which_steps_are_trained_again(tmp_path):
    import json

    run = train(_smoke(), run_dir=tmp_path / "run", argv=["first"])  # checkpoints at 128 and 256
    before = {name: (run / name).read_text() for name in ("config.yaml", "versions.json")}
    progress0 = _rows(run / "progress.csv")
    monitor0 = (run / "monitor" / "train_0.monitor.csv").read_text().splitlines()
    evals0 = np.load(run / "eval" / "evaluations.npz")["timesteps"].tolist()
    assert [r["time/total_timesteps"] for r in progress0][-1] == "256"
    # a run that died after logging step 256 but before its last checkpoint
    (run / "checkpoints" / "rl_model_256_steps.zip").unlink()
    final = (run / "final_model.zip").read_bytes()
    notes = []
    train(_smoke(n_timesteps=384), run_dir=run, resume=run / "checkpoints" / "rl_model_128_steps.zip",
          argv=["second"], log=notes.append)
    assert any("the 128 steps after the checkpoint are not in it and are trained again" in n for n in notes), notes
    # nothing written before is gone
    assert {name: (run / name).read_text() for name in before} == before
    progress = _rows(run / "progress.csv")
    assert progress[:len(progress0)] == progress0 and len(progress) > len(progress0)
    assert progress[-1]["time/total_timesteps"] == "384"
    monitor = (run / "monitor" / "train_0.monitor.csv").read_text().splitlines()
    assert monitor[:len(monitor0)] == monitor0 and len(monitor) > len(monitor0)
    evals = np.load(run / "eval" / "evaluations.npz")["timesteps"].tolist()
    assert evals[:len(evals0)] == evals0 and evals[-1] == 384
    assert (run / "command.txt").read_text().splitlines()[0] == "first" and "second" in (run / "command.txt").read_text()
    assert (run / "checkpoints" / "final_model_256_steps.zip").read_bytes() == final  # the earlier final is kept
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["timesteps"] == 384 and summary["earlier"][0]["timesteps"] == 256


def test_resume_refuses_what_would_lose_or_mix_work(tmp_path):
    from scar_gym.errors import ConfigError

    run = train(_smoke(), run_dir=tmp_path / "run", argv=["first"])
    with pytest.raises(ConfigError, match="already has checkpoints past step 128"):
        train(_smoke(n_timesteps=384), run_dir=run, resume=run / "checkpoints" / "rl_model_128_steps.zip")
    with pytest.raises(ConfigError, match="mcm = 'het-sides-3x3', this config has 'het-sides-4x4'"):
        train(_smoke(mcm="het-sides-4x4", n_timesteps=384), run_dir=tmp_path / "other", resume=run / "final_model.zip")
    with pytest.raises(ConfigError, match="no such file"):
        train(_smoke(), run_dir=tmp_path / "never", resume=tmp_path / "nope.zip")
    assert not (tmp_path / "never").exists()  # refused before anything was written
    loose = tmp_path / "loose" / "ckpt.zip"  # a checkpoint without its run's config.yaml: the weights tell
    loose.parent.mkdir()
    loose.write_bytes((run / "final_model.zip").read_bytes())
    with pytest.raises(ConfigError, match=r"does not fit this config's environment and network"):
        train(load_config("smoke", {"policy.net_arch": [8]}), run_dir=tmp_path / "net", resume=loose)
    assert not (tmp_path / "net").exists()


def test_a_weights_only_resume_restores_what_sb3_load_restores(tmp_path):
    """The checkpoint read without unpickling gives the model MaskablePPO.load gives: same weights,
    optimizer state and step counters."""
    import torch
    from sb3_contrib import MaskablePPO

    from agents.agentfile import load_checkpoint_into, read_checkpoint
    from agents.envs import make_vec
    from agents.train import build_model

    cfg = _smoke()
    run = train(cfg, run_dir=tmp_path / "run", argv=["first"])
    venv = make_vec(cfg, "train")
    ours = build_model(cfg, venv, None)
    load_checkpoint_into(ours, read_checkpoint(run / "final_model.zip"))
    theirs = MaskablePPO.load(str(run / "final_model.zip"), env=venv, device="cpu")
    assert ours.num_timesteps == theirs.num_timesteps == 256 and ours._n_updates == theirs._n_updates
    for a, b in zip(ours.policy.state_dict().values(), theirs.policy.state_dict().values()):
        assert torch.equal(a, b)
    sa, sb = ours.policy.optimizer.state_dict(), theirs.policy.optimizer.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for k in sa["state"]:
        for name in sa["state"][k]:
            assert torch.equal(torch.as_tensor(sa["state"][k][name]), torch.as_tensor(sb["state"][k][name]))
    venv.close()
