"""Name -> policy class, for ``scar-gym list policies`` and ``--policy NAME``.

Two sources, one namespace:

* the policies of this package (:data:`POLICIES`): ``"module:Class"`` strings imported on demand,
  so listing policies imports no policy module and a policy with a missing optional dependency
  does not break the others;
* policies registered through the entry-point group :data:`ENTRY_POINT_GROUP` (the way pytest
  plugins are found), e.g. in a ``pyproject.toml``::

      [project.entry-points."scar_gym.policies"]
      my-policy = "my_package.module:MyPolicy"

  This repository registers two that way: ``window-ls`` (:mod:`scar_gym.envs.rollout_search`: it
  drives an env, and this package never reaches into ``scar_gym.envs``) and ``ppo``, ``ppo-any``,
  ``ppo-3x3`` (``agents/``, which the library never imports). A plugin cannot take a name of :data:`POLICIES`; one that
  fails to import is listed as unavailable and reported by name when asked for.
"""

from __future__ import annotations

import importlib
import inspect
from importlib import metadata
from typing import Any

from scar_gym.errors import ConfigError, UnknownNameError
from scar_gym.policies.base import Policy

#: Entry-point group of the policies other packages provide.
ENTRY_POINT_GROUP = "scar_gym.policies"
#: The policy that loads trained agents (``ppo`` = the shipped one, ``ppo:PATH`` another); provided
#: by ``agents/`` through the entry point. The CLI's ``--agent PATH`` is ``--policy ppo:PATH``.
AGENT_POLICY = "ppo"
#: Every policy name that loads a trained agent: ``ppo-any`` is ``ppo``'s earlier name (the
#: size-agnostic agent), ``ppo-3x3`` the SCAR-anchored 3x3 agent shipped as ``ppo`` before it.
AGENT_POLICIES = (AGENT_POLICY, "ppo-any", "ppo-3x3")

#: The library's policies: name -> ("module:Class", one-line description); filled at the end of this module.
POLICIES: dict[str, tuple[str, str]] = {}


def register_policy(name: str, target: str, description: str) -> None:
    POLICIES[name] = (target, description)


def plugin_policies() -> dict[str, metadata.EntryPoint]:
    """name -> entry point of the policies other packages register (names the library uses are skipped)."""
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name not in POLICIES}


def policy_names() -> tuple[str, ...]:
    """Every policy name, the library's and the plugins', sorted."""
    return tuple(sorted({*POLICIES, *plugin_policies()}))


def _load_plugin(name: str, ep: metadata.EntryPoint) -> type[Policy]:
    try:
        cls = ep.load()
    except ImportError as e:
        dist = ep.dist.name if ep.dist is not None else "its package"
        raise ConfigError("--policy", f"policy {name!r} ({ep.value}, registered by {dist}) cannot be imported: {e}",
                          f"install the package that provides {e.name or ep.module!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, Policy)):
        raise ConfigError("--policy", f"entry point {name} = {ep.value!r} is not a Policy subclass",
                          f"fix the [project.entry-points.\"{ENTRY_POINT_GROUP}\"] table of its package")
    return cls


def _description(cls: type[Policy]) -> str:
    return getattr(cls, "description", "") or (inspect.getdoc(cls) or "").split("\n", 1)[0]


def list_policies() -> list[tuple[str, str]]:
    """(name, description) of every policy, sorted by name; a plugin that cannot be imported says so."""
    out = [(name, desc) for name, (_, desc) in POLICIES.items()]
    for name, ep in plugin_policies().items():
        try:
            out.append((name, _description(_load_plugin(name, ep))))
        except ConfigError as e:
            out.append((name, f"unavailable: {e.problem}"))
    return sorted(out)


def policy_class(name: str) -> type[Policy]:
    if name in POLICIES:
        module, cls = POLICIES[name][0].split(":")
        return getattr(importlib.import_module(module), cls)
    plugins = plugin_policies()
    if name in plugins:
        return _load_plugin(name, plugins[name])
    raise UnknownNameError("policy", name, (*POLICIES, *plugins))


def make_policy(name: str, **kwargs: Any) -> Policy:
    """Instantiate policy ``name``; keyword arguments the policy does not take are rejected by name.

    A value of ``None`` means "the policy's default" and is dropped, so a CLI can pass every
    option it has without knowing which policy takes which.
    """
    name, sep, arg = name.partition(":")  # "ppo:PATH": ARG fills the class's ``name_arg`` parameter
    cls = policy_class(name)
    accepted = cls.option_names()
    given = {k: v for k, v in kwargs.items() if v is not None}
    if sep:
        if not getattr(cls, "name_arg", None):
            raise ConfigError("--policy", f"policy {name!r} takes no ':ARG' suffix", f"write just {name!r}")
        given[cls.name_arg] = arg
    unknown = sorted(k for k in given if k not in accepted)
    if unknown:
        raise ConfigError(f"--{unknown[0].replace('_', '-')}", f"policy {name!r} does not take this option",
                          f"it takes: {', '.join(accepted) or 'no options'}")
    return cls(**given)


# -- search policies (scar_gym.policies.search) --------------------------------------------------------
register_policy("random-search", "scar_gym.policies.search.random_search:RandomSearchPolicy",
                "random valid schedules within a budget of cost-model evaluations, keep the best")
register_policy("sa", "scar_gym.policies.search.annealing:AnnealingPolicy",
                "simulated annealing over cuts, chiplets and node counts (budgeted, seeded)")
register_policy("ga", "scar_gym.policies.search.genetic:GeneticPolicy",
                "MAGMA-style genetic algorithm: tournament, per-window/model crossover + repair, elitism")
register_policy("exhaustive", "scar_gym.policies.search.exhaustive:ExhaustivePolicy",
                "exact optimum over all schedules with fixed windows (small instances only)")

# -- SCAR and the baselines (scar_gym.policies.scar, scar_gym.policies.baselines) ---------------------
register_policy("scar", "scar_gym.policies.scar.policy:ScarPolicy",
                "SCAR heuristic: time windows, PROV node counts, top-k SEG, DFS-path SCHED, exhaustive/evolutionary search")
register_policy("simba", "scar_gym.policies.baselines:SimbaPolicy",
                "SCAR restricted to homogeneous MCMs (the paper's Simba baselines; use with nvd-3x3 / shi-3x3)")
register_policy("standalone", "scar_gym.policies.baselines:StandalonePolicy",
                "one chiplet per model per window, no pipelining (SCAR's windows; greedy best chiplet)")
register_policy("random", "scar_gym.policies.baselines:RandomPolicy",
                "one random valid schedule: random windows, node counts, cuts and DFS-walk paths (seeded)")
register_policy("greedy", "scar_gym.policies.baselines:GreedyPolicy",
                "HEFT-style list scheduler: balanced segments, each on the free chiplet with the earliest finish")

# window-ls (scar_gym.envs.rollout_search) and ppo (agents/) come through the entry point: see the
# module docstring.
