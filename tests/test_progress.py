"""scar_gym.progress: bars on stderr, a plain fallback without tqdm, nothing with --quiet; stdout stays clean."""

from __future__ import annotations

import io

import pytest

from scar_gym import progress
from scar_gym.cli import main
from scar_gym.progress import ProgressBar


def test_plain_lines_without_tqdm(monkeypatch):
    monkeypatch.setattr(progress, "_tqdm_class", lambda: None)  # the core without the rl extra
    out = io.StringIO()
    with ProgressBar(4, "eval", file=out, min_interval_s=0.0, unit="run") as bar:
        bar.update()
        bar.set_postfix("last x1.02")
        bar.update(3)
        bar.write("a result line")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("eval: 1/4 run (25%), 00:00 elapsed")
    assert lines[1].startswith("eval: 4/4 run (100%)") and lines[1].endswith("last x1.02")
    assert lines[2] == "a result line" and lines[-1].startswith("eval: 4/4 run (100%)")  # once more on close
    with pytest.raises(ImportError, match="tqdm is not installed"):
        ProgressBar(1, "x", use_tqdm=True)


def test_plain_lines_are_throttled(monkeypatch):
    out = io.StringIO()
    bar = ProgressBar(None, "steps", file=out, min_interval_s=3600, use_tqdm=False)
    for _ in range(100):
        bar.update()
    bar.close()
    bar.close()
    assert [ln.split(",")[0] for ln in out.getvalue().splitlines()] == ["steps: 1 it", "steps: 100 it"]


def test_disabled_prints_only_what_is_written():
    out = io.StringIO()
    with ProgressBar(3, "x", enabled=False, file=out) as bar:
        bar.update(3)
        bar.set_description("y")
    assert out.getvalue() == ""


@pytest.mark.parametrize("use_tqdm", [None, False])
def test_a_lazy_bar_draws_nothing_before_its_first_update(use_tqdm):
    if use_tqdm is None:
        pytest.importorskip("tqdm")
    out = io.StringIO()
    bar = ProgressBar(3, "eval", file=out, lazy=True, use_tqdm=use_tqdm, min_interval_s=0.0)
    assert out.getvalue() == ""
    bar.close()  # a command that failed before its first run: only its error line is printed
    assert out.getvalue() == ""
    with ProgressBar(3, "eval", file=out, lazy=True, use_tqdm=use_tqdm, min_interval_s=0.0) as bar:
        bar.update(2)
    assert "2/3" in out.getvalue()


def test_tqdm_bar_goes_to_its_file():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    with ProgressBar(2, "train", file=out, unit="step") as bar:
        bar.update(2)
    assert "train" in out.getvalue() and "2/2" in out.getvalue()


@pytest.mark.parametrize("quiet", [False, True])
def test_eval_progress_is_on_stderr_and_quiet_silences_it(capsys, quiet):
    argv = ["eval", "--suite", "sc10", "--no-baselines", "--policy", "greedy"] + (["-q"] if quiet else [])
    assert main(argv) == 0
    cap = capsys.readouterr()
    assert cap.out.splitlines()[0].startswith("suite sc10") and "run/s" not in cap.out and "eval sc10" not in cap.out
    if quiet:
        assert cap.err == ""
    else:
        assert "eval sc10" in cap.err and "2/2" in cap.err and "x1.000 SCAR" in cap.err


def test_train_shows_the_setup_and_the_steps_and_no_progress_is_quiet(tmp_path, capsys):
    pytest.importorskip("sb3_contrib")
    tiny = ["--set", "n_timesteps=64", "--set", "eval.freq=64", "--set", "checkpoint.freq=64"]
    assert main(["train", "smoke", "--run-dir", str(tmp_path / "a"), *tiny]) == 0
    cap = capsys.readouterr()
    for stage in ("standalone EDP of the validation scenarios", "first scenarios of 1 training env(s)", "trained",
                  "64/64", "validation EDP/standalone"):
        assert stage in cap.err, stage
    assert "run directory:" in cap.out and "step/s" not in cap.out
    from scar_gym.cli import build_parser

    for flag in ("-q", "--quiet", "--no-progress"):  # --no-progress: the earlier name, kept
        assert build_parser().parse_args(["train", "smoke", flag]).quiet
