"""scar-gym sweep (agents/sweep.py): expansion of a sweep file, the summary, and real sweeps on a local Ray instance."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from agents.sweep import SPLITS, Trial, expand, load_sweep, summarize_sweep, write_summary
from scar_gym.errors import ConfigError


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_expand_grid_sample_and_seeds(tmp_path):
    p = _write(tmp_path, """
base: smoke
set: {n_timesteps: 128}
grid: {ppo.learning_rate: [3.0e-4, 1.0e-3], ppo.n_epochs: [1, 2]}
sample: {n: 3, seed: 5, space: {ppo.ent_coef: {loguniform: [1.0e-3, 1.0e-1]}, ppo.n_steps: {randint: [32, 64]},
                                policy.activation: {choice: [tanh, relu]}}}
seeds: [0, 7]
""")
    spec = load_sweep(p)
    trials = expand(spec)
    assert len(trials) == 2 * 2 * 3 * 2
    ids = sorted({t.config_id for t in trials})
    assert ids == [f"c{i:02d}" for i in range(12)]
    assert [t.seed for t in trials[:4]] == [0, 7, 0, 7] and trials[0].name == "c00_s0"
    for t in trials:
        o = t.overrides
        assert o["n_timesteps"] == 128 and 1e-3 <= o["ppo.ent_coef"] <= 1e-1 and 32 <= o["ppo.n_steps"] <= 64
        assert isinstance(o["ppo.n_steps"], int) and o["policy.activation"] in ("tanh", "relu")
    # grid points in order, each with its sampled points; the same file always gives the same trials
    assert [t.overrides["ppo.learning_rate"] for t in trials[::6]] == [3e-4, 3e-4, 1e-3, 1e-3]
    assert expand(load_sweep(p)) == trials
    assert len({t.overrides["ppo.ent_coef"] for t in trials}) == 12  # a fresh draw per config
    # --set overrides every trial (and may not collide with a swept key)
    assert expand(load_sweep(p, {"eval.freq": 64}))[0].overrides["eval.freq"] == 64
    with pytest.raises(ConfigError, match="ppo.n_epochs: given in more than one"):
        load_sweep(p, {"ppo.n_epochs": 3})


@pytest.mark.parametrize("text, match", [
    ("base: smoke\ngrids: {}\n", "grids: unknown key"),
    ("grid: {}\n", "base: missing"),
    ("base: smoke\ngrid: {ppo.gamma: []}\n", r"grid.ppo.gamma: expected a non-empty list"),
    ("base: smoke\ngrid: {seed: [1, 2]}\n", "seed: the training seed is the sweep's seeds list"),
    ("base: smoke\nseeds: [1, 1]\n", "seeds: expected a list of distinct"),
    ("base: smoke\nsample: {n: 2, space: {ppo.gamma: {normal: [0, 1]}}}\n", "unknown distribution 'normal'"),
    ("base: smoke\nsample: {n: 2, space: {ppo.learning_rate: {loguniform: [0, 1]}}}\n", "bad bounds"),
    ("base: smoke\nsample: {n: 2}\n", "sample.space: empty"),
    ("base: smoke\nevaluate: {samples: 0}\n", "evaluate.samples"),
    ("base: smoke\nevaluate: {test_suite: random-x}\n", "evaluate.test_suite"),
    ("base: smoke\nevaluate: {reference: nobody}\n", "evaluate.reference: unknown policy 'nobody'"),
])
def test_bad_sweep_files(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_sweep(_write(tmp_path, text))


def test_bad_trial_config_is_caught_before_running(tmp_path):
    from agents.sweep import trial_config

    spec = load_sweep(_write(tmp_path, "base: smoke\ngrid: {ppo.gamma: [0.99, 2.0]}\n"))
    trial_config(spec, expand(spec)[0])
    with pytest.raises(ConfigError, match=r"c01: ppo.gamma: must be in \(0, 1\]"):
        trial_config(spec, expand(spec)[1])


def test_summary_over_seeds_and_scenarios(tmp_path):
    """Hand-made trial results: the geometric mean, W/T/L and the files, and a missing seed left out."""
    ratios = {("c00", 0): {"validation": {"a": 0.5, "b": 1.0}, "test": {"x": 2.0, "y": 1.0, "z": 0.9}},
              ("c00", 1): {"validation": {"a": 2.0, "b": 1.0}, "test": {"x": 1.0, "y": 4.0, "z": 1.0}},
              ("c01", 0): {"validation": {"a": 0.8, "b": 0.8}, "test": {"x": 0.8, "y": 0.8, "z": 0.8}}}
    trials = [Trial("c00", {"ppo.gamma": 0.9}, 0), Trial("c00", {"ppo.gamma": 0.9}, 1),
              Trial("c01", {"ppo.gamma": 0.99}, 0), Trial("c01", {"ppo.gamma": 0.99}, 1)]  # c01_s1 failed
    for (cid, seed), r in ratios.items():
        d = tmp_path / "runs" / f"{cid}_s{seed}"
        d.mkdir(parents=True)
        (d / "sweep_eval.json").write_text(json.dumps(r))
    rows = summarize_sweep(tmp_path, trials, reps=200)
    assert [(r.config_id, r.split) for r in rows] == [(c, s) for c in ("c00", "c01") for s in SPLITS]
    val = rows[0].summary
    assert (val.n_runs, val.n_tasks) == (2, 2) and rows[0].seeds == (0, 1)
    assert val.geomean.point == pytest.approx(1.0)  # (0.5 * 1 * 2 * 1) ** (1/4)
    assert (val.wins, val.ties, val.losses) == (1, 2, 1)
    test = rows[1].summary
    assert test.geomean.point == pytest.approx(math.exp(np.mean(np.log([2, 1, 0.9, 1, 4, 1]))))
    assert test.geomean.lo <= test.geomean.point <= test.geomean.hi and test.geomean.lo < test.geomean.hi
    one = rows[2].summary  # one seed, equal ratios: a degenerate interval at 0.8
    assert (one.n_runs, one.geomean.lo, one.geomean.hi, one.wins) == (1, pytest.approx(0.8), pytest.approx(0.8), 2)
    text = write_summary(tmp_path, rows, [("c01_s1", "ValueError: boom")], "scar")
    assert "c00 test" in text and "c01_s1: ValueError: boom" in text and "c00: ppo.gamma=0.9" in text
    doc = json.loads((tmp_path / "summary.json").read_text())
    assert doc["rows"][1]["geomean"]["lo"] == test.geomean.lo and doc["failed"][0]["trial"] == "c01_s1"
    assert (tmp_path / "summary.csv").read_text().count("\n") == 5
    from agents.sweep import unfinished_trials

    assert unfinished_trials(tmp_path, trials, []) == ["c01_s1"]  # interrupted, to be resumed
    assert unfinished_trials(tmp_path, trials, ["c01_s1"]) == []


# -- on Ray -----------------------------------------------------------------------------------------
SWEEP = """
base: smoke
set: {{n_timesteps: 128, eval.freq: 64, checkpoint.freq: 128}}
grid: {grid}
seeds: {seeds}
evaluate: {{test_suite: random-1, samples: 1, reference: standalone}}
"""


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance for the module (Ray starts in seconds, not milliseconds)."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.tune")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def test_sweep_2_configs_x_2_seeds_then_resume(local_ray, tmp_path, capsys):
    from scar_gym.cli import main

    p = _write(tmp_path, SWEEP.format(grid="{ppo.learning_rate: [3.0e-4, 1.0e-3]}", seeds="[0, 1]"))
    out = tmp_path / "sw"
    assert main(["sweep", str(p), "--out", str(out), "--jobs", "2", "-q"]) == 0
    runs = sorted(d.name for d in (out / "runs").iterdir())
    assert runs == ["c00_s0", "c00_s1", "c01_s0", "c01_s1"]
    for name in runs:
        run = out / "runs" / name
        assert (run / "final_model.zip").is_file() and (run / "config.yaml").is_file()
        seed = int(name[-1])
        assert f"seed: {seed}" in (run / "config.yaml").read_text()
        res = json.loads((run / "sweep_eval.json").read_text())
        assert set(res["validation"]) == {"sc10"} and len(res["test"]) == 1  # validation and test kept apart
    doc = json.loads((out / "summary.json").read_text())
    assert [(r["config_id"], r["split"], r["n_runs"]) for r in doc["rows"]] == [
        ("c00", "validation", 2), ("c00", "test", 2), ("c01", "validation", 2), ("c01", "test", 2)]
    for r in doc["rows"]:
        assert r["geomean"]["lo"] <= r["geomean"]["point"] <= r["geomean"]["hi"]
        assert r["iqm"]["lo"] <= r["iqm"]["point"] <= r["iqm"]["hi"]
    text = (out / "summary.txt").read_text()
    assert "EDP/standalone geomean [95% CI]" in text and text in capsys.readouterr().out
    # the same command again: resumed from Tune's state, nothing retrained
    stamp = {n: (out / "runs" / n / "final_model.zip").stat().st_mtime_ns for n in runs}
    assert main(["sweep", str(p), "--out", str(out), "--jobs", "2", "-q"]) == 0
    assert "resuming the sweep" in capsys.readouterr().out
    assert stamp == {n: (out / "runs" / n / "final_model.zip").stat().st_mtime_ns for n in runs}
    # another sweep file may not reuse the directory
    other = _write(tmp_path, SWEEP.format(grid="{ppo.learning_rate: [1.0e-4]}", seeds="[0]"), "o.yaml")
    assert main(["sweep", str(other), "--out", str(out), "--jobs", "2", "-q"]) == 2
    assert "error: --out: " in capsys.readouterr().err and (out / "runs" / "c00_s0").is_dir()


def test_failing_trial_is_reported_and_the_others_finish(local_ray, tmp_path, capsys):
    from scar_gym.cli import main

    # every config is valid (bad configs are refused before Ray starts), so the failure is one only
    # the trial meets: a stray file where its run directory goes
    p = _write(tmp_path, SWEEP.format(grid="{ppo.learning_rate: [3.0e-4, 1.0e-3]}", seeds="[0]"))
    out = tmp_path / "sw"
    (out / "runs").mkdir(parents=True)
    (out / "runs" / "c01_s0").write_text("not a run directory")
    assert main(["sweep", str(p), "--out", str(out), "--jobs", "2", "-q"]) == 1
    printed = capsys.readouterr().out
    assert "1 failed trial(s)" in printed and "c01_s0" in printed and "NotADirectoryError" in printed
    assert (out / "runs" / "c00_s0" / "sweep_eval.json").is_file()
    doc = json.loads((out / "summary.json").read_text())
    assert {r["config_id"] for r in doc["rows"]} == {"c00"} and doc["failed"][0]["trial"] == "c01_s0"


def test_parallel_map_and_eval_on_ray(local_ray):
    """--address runs the same items on the Ray cluster: ordered outcomes, per-item errors, serial rows."""
    import math as m

    from scar_gym.benchmark import run_benchmark
    from scar_gym.parallel import parallel_map
    from scar_gym.scenarios import load_scenario

    out = parallel_map(m.sqrt, [4.0, -1.0, 9.0], address="already-connected")
    assert [o.value for o in out] == [2.0, None, 3.0]
    assert out[1].error.kind == "ValueError" and "math domain error" in out[1].error.message
    kw = dict(scenarios=[load_scenario("sc8")], reference="standalone", seed=1)
    serial = run_benchmark(["greedy", "random"], **kw)
    on_ray = run_benchmark(["greedy", "random"], address="already-connected", **kw)
    assert [(r.policy, r.edp_js, r.schedule) for r in on_ray] == [(r.policy, r.edp_js, r.schedule) for r in serial]
