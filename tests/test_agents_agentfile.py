"""Agent files hold weights only (``agents/agentfile.py``): the shipped agents load without trust and
the SCAR-anchored 3x3 one (``ppo-3x3``, shipped as ``ppo`` until issue 15) decides exactly as its SB3 zip did; a crafted agent file runs no code through any command; a
Stable-Baselines3 zip loads only with ``--trust``."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")

import bad_input_cases as bic  # noqa: E402
from agents import ANCHORED_3X3_AGENT, DEFAULT_AGENT, PRETRAINED_DIR  # noqa: E402
from agents.agentfile import AGENT_JSON, WEIGHTS, load_agent, load_sb3_zip, save_agent  # noqa: E402
from agents.policy import Anchored3x3PPOPolicy, PPOPolicy  # noqa: E402
from scar_gym.cli import main  # noqa: E402
from scar_gym.errors import ConfigError  # noqa: E402
from scar_gym.factory import make_evaluator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    f = tmp_path_factory.mktemp("crafted")
    bic._make_agents(f)
    return f


def run(*argv) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, err.getvalue()


@pytest.mark.parametrize("cls, agent", [(PPOPolicy, DEFAULT_AGENT), (Anchored3x3PPOPolicy, ANCHORED_3X3_AGENT)])
def test_the_shipped_agents_are_weights_only_and_load_without_trust(cls, agent):
    d = PRETRAINED_DIR / agent
    assert {p.name for p in d.iterdir()} >= {AGENT_JSON, WEIGHTS, "config.yaml"}
    assert not list(d.glob("*.zip")) and not list(d.glob("*.pkl"))  # nothing pickled is shipped
    pol = cls(None)
    assert pol.model_path == d and not pol.trust
    assert pol.config.env_id == "scar_gym:ScarGym/Window-v0" and pol.config.env_kwargs["relocate"] == 24


@pytest.mark.parametrize("scenario, edp, greedy", [
    # recorded with the SB3 zip (model.zip, loaded by MaskablePPO.load) before the conversion, as repr
    ("sc7", "1.9197578695592954", "2.529470609018879"),
    ("sc10", "0.024876110956378098", "0.024876110956378098"),
])
def test_the_converted_anchored_agent_decides_as_the_zip_did(scenario, edp, greedy):
    ev = make_evaluator(scenario, "het-sides-3x3")
    sched = Anchored3x3PPOPolicy(None).schedule(ev, seed=0)
    assert repr(ev.evaluate(sched).edp_js) == edp and repr(sched.meta["greedy_edp_js"]) == greedy


def test_save_and_load_give_the_same_network_bit_for_bit(crafted, tmp_path):
    model = load_sb3_zip(crafted / "zipagent" / "valid.zip", trust=True)
    out = save_agent(model.policy, tmp_path / "agent", bic.SMOKE)
    agent = load_agent(out)
    a, b = model.policy.state_dict(), agent.policy.state_dict()
    assert list(a) == list(b) and all(bool((a[k] == b[k]).all()) for k in a)
    zipped = PPOPolicy(str(crafted / "zipagent" / "valid.zip"), samples=1, trust=True)
    converted = PPOPolicy(str(out), samples=1)
    env = converted.make_env(make_evaluator("sc8", "het-sides-3x3"))
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        la, lb = zipped._logits(obs), converted._logits(obs)
        np.testing.assert_array_equal(la, lb)
        masked = np.where(env.action_masks(), la, -np.inf)
        obs, _, done, _, _ = env.step(int(np.argmax(masked)))
        if done:
            break


def test_an_sb3_zip_needs_trust_and_says_why(crafted):
    z = crafted / "zipagent" / "valid.zip"
    with pytest.raises(ConfigError) as e:
        PPOPolicy(str(z))
    assert "unpickles Python objects" in e.value.problem and "--trust" in e.value.fix
    ev = make_evaluator("sc8", "het-sides-3x3")
    ev.validate(PPOPolicy(str(z), samples=1, trust=True).schedule(ev, seed=0))
    code, err = run("schedule", "--scenario", "sc8", "--mcm", "het-sides-3x3", "--policy", f"ppo:{z}", "--samples", 1)
    assert code == 2 and "--trust" in err
    assert run("schedule", "--scenario", "sc8", "--mcm", "het-sides-3x3", "--policy", f"ppo:{z}", "--samples", 1,
               "--trust")[0] == 0


def test_a_crafted_agent_file_runs_no_code_through_any_command(crafted, tmp_path):
    marker = crafted / bic.MARKER
    zips = [crafted / "zipagent" / "evil_data.zip", crafted / "zipagent" / "evil_pth.zip"]
    dirs = [crafted / "agents" / "weights-evil-pickle", crafted / "evilrun"]
    commands = []
    for z in zips + dirs:
        commands += [["schedule", "--scenario", "sc8", "--mcm", "het-sides-3x3", "--policy", f"ppo:{z}"],
                     ["eval", "--suite", "sc8", "--no-baselines", "--agent", z],
                     ["eval", "--suite", "sc8", "--no-baselines", "--policy", f"ppo:{z}"]]
    for z in zips:
        commands += [["train", crafted / "smoke.yaml", "--run-dir", tmp_path / "run", "--resume", z],
                     ["convert-agent", z, tmp_path / "out"]]
    for argv in commands:
        code, err = run(*argv)
        assert code == 2 and err.startswith("error: "), (argv, err)
        assert not marker.exists(), argv
    from agents.expert import ExpertConfig, expert_iteration

    for z in zips + dirs:
        with pytest.raises(ConfigError):
            expert_iteration(z, tmp_path / "exit", ExpertConfig(iterations=1), log=lambda *_: None)
        assert not marker.exists()
    # the control: the crafted zip's payload is live -- trusting it runs it
    code, _ = run("convert-agent", zips[0], tmp_path / "trusted", "--trust")
    assert marker.exists() and code == 2
    marker.unlink()


def test_the_crafted_weights_are_live_pickles(crafted):
    """The weights-only loader is what stops them: a plain torch.load would run the payload."""
    import torch

    marker = crafted / bic.MARKER
    with pytest.raises(ConfigError, match="not a weights-only tensor file"):
        load_agent(crafted / "agents" / "weights-evil-pickle")
    assert not marker.exists()
    torch.load(crafted / "agents" / "weights-evil-pickle" / WEIGHTS, weights_only=False)
    assert marker.exists()
    marker.unlink()


def test_convert_agent_writes_an_agent_that_loads_without_trust(crafted, tmp_path):
    code, err = run("convert-agent", crafted / "zipagent" / "valid.zip", tmp_path / "a", "--trust")
    assert code == 0, err
    doc = json.loads((tmp_path / "a" / AGENT_JSON).read_text())
    assert doc["source"]["converted_from"] == "valid.zip" and doc["train_config"]["env_id"].endswith("Schedule-v0")
    assert run("schedule", "--scenario", "sc8", "--mcm", "het-sides-3x3", "--policy", f"ppo:{tmp_path / 'a'}",
               "--samples", 1)[0] == 0


def test_the_library_never_imports_torch_for_a_weights_only_check():
    """Reading agent.json and refusing a zip needs no torch: the refusal comes before any unpickling."""
    code = ("import sys; from agents.agentfile import read_agent_json; "
            f"read_agent_json({str(PRETRAINED_DIR / DEFAULT_AGENT)!r}); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
