"""Plugins: the library runs without ``agents/``, and ``agents/`` adds ``ppo`` and ``train`` through
entry points (scar_gym.policies.registry, scar_gym.cli)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import pytest

from scar_gym.policies import registry

#: Run first in a child interpreter: importing ``agents`` (or any submodule) fails as if it were not installed.
HIDE_AGENTS = """
import importlib.abc, sys
class HideAgents(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "agents" or name.startswith("agents."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, HideAgents())
"""

LIBRARY_RUN = HIDE_AGENTS + """
import contextlib, io, inspect, json
import scar_gym
from scar_gym.cli import main
from scar_gym.errors import ConfigError
from scar_gym.envs.generator import ToyGenerator
from scar_gym.factory import make_evaluator
from scar_gym.policies import list_policies, make_policy
from scar_gym.policies.registry import POLICIES, plugin_policies, policy_class

listed = dict(list_policies())
toy = ToyGenerator(n_models=(2, 2), n_layers=(2, 3)).pool(1, seed=0)[0]
edp = {}
library = [*POLICIES, *(n for n, ep in plugin_policies().items() if ep.module.split(".")[0] == "scar_gym")]
for name in library:
    fast = {"budget": 300} if "budget" in inspect.signature(policy_class(name).__init__).parameters else {}
    mcm = "nvd-2x2" if name == "simba" else "NS/SN"
    ev = make_evaluator(toy, mcm)
    edp[name] = ev.evaluate(make_policy(name, **fast).schedule(ev, seed=0)).edp_js
try:
    make_policy("ppo")
    ppo_error = None
except ConfigError as e:
    ppo_error = str(e)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["list", "policies"])
with contextlib.redirect_stdout(io.StringIO()) as help_out:
    main(["--help"])
print(json.dumps({"listed": listed, "edp": edp, "ppo_error": ppo_error, "list_code": code,
                  "help": help_out.getvalue(), "agents_imported": any(m.split(".")[0] == "agents" for m in sys.modules)}))
"""


def test_library_lists_and_runs_every_policy_without_agents():
    proc = subprocess.run([sys.executable, "-c", LIBRARY_RUN], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout.splitlines()[-1])
    assert not r["agents_imported"]
    env_policies = {"window-ls", "window-ls-any"}  # the library's own, registered through the entry point
    assert set(registry.POLICIES) | env_policies <= set(r["listed"]) and r["list_code"] == 0
    assert set(r["edp"]) == set(registry.POLICIES) | env_policies and all(v > 0 for v in r["edp"].values())
    # the agent's entry point is still in the installed metadata: listed as unavailable, refused by name
    assert all(r["listed"][name].startswith("unavailable:") for name in ("ppo", "ppo-any", "ppo-3x3"))
    assert "policy 'ppo' (agents.policy:PPOPolicy" in r["ppo_error"] and "No module named 'agents" in r["ppo_error"]
    help_text = " ".join(r["help"].split())  # argparse wraps the list of unavailable commands
    assert all(f"{c} (needs agents" in help_text for c in ("convert-agent", "sweep", "train"))


def test_ppo_is_found_through_the_entry_point():
    from agents.policy import PPOPolicy

    eps = {ep.name: ep.value for ep in metadata.entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert eps["ppo"] == "agents.policy:PPOPolicy"
    assert eps["window-ls"] == "scar_gym.envs.rollout_search:WindowSearchPolicy"
    assert eps["ppo-any"] == "agents.policy:AnySizePPOPolicy"
    assert eps["ppo-3x3"] == "agents.policy:Anchored3x3PPOPolicy"
    assert eps["window-ls-any"] == "scar_gym.envs.rollout_search:AnySizeWindowSearchPolicy"
    assert not {"ppo", "ppo-any", "ppo-3x3", "window-ls"} & set(registry.POLICIES)  # scar_gym.policies names none
    assert registry.policy_class("ppo") is PPOPolicy
    assert dict(registry.list_policies())["ppo"] == PPOPolicy.description
    assert set(registry.AGENT_POLICIES) == {"ppo", "ppo-any", "ppo-3x3"}  # every name the benchmark treats as an agent


def test_train_command_is_found_through_the_entry_point(capsys):
    from scar_gym.cli import ENTRY_POINT_GROUP, main

    assert {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}["train"] == "agents.cli:register"
    assert main(["train", "--help"]) == 0
    assert "CONFIG" in capsys.readouterr().out


class _NotAPolicy:
    pass


def test_a_broken_plugin_is_reported_by_name(monkeypatch):
    eps = metadata.EntryPoints([
        metadata.EntryPoint("missing", "no_such_package.mod:Thing", registry.ENTRY_POINT_GROUP),
        metadata.EntryPoint("wrong", f"{__name__}:_NotAPolicy", registry.ENTRY_POINT_GROUP),
        metadata.EntryPoint("scar", f"{__name__}:_NotAPolicy", registry.ENTRY_POINT_GROUP),
    ])
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group: eps if group == registry.ENTRY_POINT_GROUP
                        else metadata.EntryPoints([]))
    listed = dict(registry.list_policies())
    assert listed["missing"].startswith("unavailable: policy 'missing' (no_such_package.mod:Thing")
    assert "is not a Policy subclass" in listed["wrong"]
    assert listed["scar"].startswith("SCAR heuristic")  # a plugin cannot take a library name
    with pytest.raises(Exception, match="install the package that provides 'no_such_package"):
        registry.make_policy("missing")
