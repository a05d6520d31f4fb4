"""Run directories that never lose work: refused when taken, --overwrite, --resume keeps the best model,
names hashed by config, everything validated before the directory is made."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")

from agents.config import CHIPLET_ATTENTION_KWARGS, load_config  # noqa: E402
from agents.rundir import config_hash, default_run_dir  # noqa: E402
from agents.train import LATEST, latest_checkpoint, train  # noqa: E402
from scar_gym.cli import main  # noqa: E402
from scar_gym.errors import ConfigError  # noqa: E402


def _smoke(**over):
    return load_config("smoke", {"progress_bar": False, **over})


def test_a_taken_run_directory_is_refused_and_overwrite_replaces_it(tmp_path, capsys):
    run = train(_smoke(n_timesteps=128), run_dir=tmp_path / "run", argv=["first"])
    (run / "notes.txt").write_text("mine")
    before = sorted(p.name for p in run.iterdir())
    with pytest.raises(ConfigError, match=r"--run-dir: .* already holds a run; give --resume to continue it, "
                                          r"--overwrite to replace it"):
        train(_smoke(n_timesteps=128), run_dir=run, argv=["second"])
    assert sorted(p.name for p in run.iterdir()) == before  # nothing touched
    # the same through the command line: one line, exit 2
    assert main(["train", "smoke", "--run-dir", str(run), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err
    with pytest.raises(ConfigError, match="--overwrite: cannot be combined with --resume"):
        train(_smoke(), run_dir=run, resume=LATEST, overwrite=True)

    train(_smoke(n_timesteps=128), run_dir=run, argv=["third"], overwrite=True)
    assert not (run / "notes.txt").exists() and (run / "command.txt").read_text() == "third\n"
    assert np.load(run / "eval" / "evaluations.npz")["timesteps"].tolist() == [128]  # one run's evaluations only
    assert len((run / "eval" / "edp_vs_ref.csv").read_text().splitlines()) == 2  # header + one row, no duplicate

    # --overwrite deletes only run directories; an empty directory is free to use
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    with pytest.raises(ConfigError, match="--overwrite: .* is not a run directory"):
        train(_smoke(n_timesteps=128), run_dir=other, overwrite=True)
    assert (other / "thesis.tex").exists()
    (tmp_path / "empty").mkdir()
    train(_smoke(n_timesteps=64, **{"eval.freq": 64, "checkpoint.freq": 64}), run_dir=tmp_path / "empty")


def _mean_best(run):
    return (run / "best_model.zip").read_bytes(), (run / "best_agent" / "policy.pt").read_bytes()


def test_resume_keeps_earlier_logs_and_the_best_model_unless_a_better_one_appears(tmp_path):
    run = train(_smoke(), run_dir=tmp_path / "run", argv=["first"])  # evaluations at 128 and 256
    progress0 = (run / "progress.csv").read_text().splitlines()
    best0 = _mean_best(run)
    path = run / "eval" / "evaluations.npz"
    z = dict(np.load(path))
    # an earlier evaluation better than anything this tiny run can reach (as a long run's best would be)
    z["results"] = np.full_like(z["results"], 1e9)
    np.savez(path, **z)
    train(_smoke(n_timesteps=384), run_dir=run, resume=LATEST, argv=["second"])  # the latest: final_model at 256
    assert _mean_best(run) == best0  # the worse evaluation at 384 does not replace it
    progress = (run / "progress.csv").read_text().splitlines()
    assert progress[:len(progress0)] == progress0 and len(progress) > len(progress0)
    assert np.load(path)["timesteps"].tolist() == [128, 256, 384]
    assert [ln.split(",")[0] for ln in (run / "eval" / "edp_vs_ref.csv").read_text().splitlines()] == [
        "timesteps", "128", "256", "384"]

    # every earlier evaluation worse: the next one is a better one, and replaces the best model
    z = dict(np.load(path))
    z["results"] = np.full_like(z["results"], -1e9)
    np.savez(path, **z)
    assert latest_checkpoint(run).name == "final_model.zip"
    train(_smoke(n_timesteps=512), run_dir=run, resume=LATEST, argv=["third"])
    assert _mean_best(run)[0] != best0[0] and _mean_best(run)[1] != best0[1]
    assert (run / "command.txt").read_text().splitlines()[0] == "first"


def test_latest_checkpoint_needs_one(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(ConfigError, match="--resume: .* has no checkpoint"):
        latest_checkpoint(tmp_path)


def test_default_names_hash_the_config_but_not_its_length(tmp_path):
    base = _smoke()
    assert default_run_dir(base, tmp_path).name == f"ScarGym-Schedule-v0_smoke_s0_{config_hash(base.to_dict())}"
    assert default_run_dir(_smoke(**{"ppo.learning_rate": 1.0e-4}), tmp_path) != default_run_dir(base, tmp_path)
    assert default_run_dir(_smoke(**{"policy.net_arch": [8]}), tmp_path) != default_run_dir(base, tmp_path)
    # a resumed run may train longer, quieter or on more threads: it keeps its directory
    assert default_run_dir(_smoke(n_timesteps=10_000, progress_bar=True, torch_threads=2), tmp_path) == \
        default_run_dir(base, tmp_path)
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1}) != config_hash({"a": 2, "b": [1, 2]})


@pytest.mark.parametrize("override, field", [
    ({"mcm": "nope-3x3"}, "mcm"),
    ({"env_kwargs.mcm": "zzz"}, "env_kwargs.mcm"),
    ({"scenarios.eval.ids": ["sc10", "sc99"]}, r"scenarios.eval.ids\[1\]"),
    ({"eval.reference": "nope"}, "eval.reference"),
    ({"env_kwargs.reference": "nope"}, "env_kwargs.reference"),
    ({"policy.extractor_kwargs": {"token_dim": 8}}, "policy.extractor_kwargs"),
    ({"policy.extractor": "chiplet_attention", "policy.extractor_kwargs": {"bogus": 1}},
     "policy.extractor_kwargs.bogus"),
    ({"env_kwargs.reward_mode": "edp"}, "env_kwargs.reward_mode"),
])
def test_the_whole_config_is_checked_before_anything_is_made(tmp_path, capsys, override, field):
    argv = ["train", "smoke", "--runs-root", str(tmp_path / "runs"), "-q"]
    for k, v in override.items():
        argv += ["--set", f"{k}={v}"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert __import__("re").search(rf"smoke\.yaml: {field}: ", err), err
    assert not (tmp_path / "runs").exists()


def test_the_attention_options_are_the_extractors():
    from agents.extractors import ChipletSetExtractor

    params = list(inspect.signature(ChipletSetExtractor.__init__).parameters)
    assert tuple(params[2:]) == CHIPLET_ATTENTION_KWARGS  # after self and observation_space
