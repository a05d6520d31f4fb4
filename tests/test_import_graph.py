"""The import graph of scar_gym/ and agents/: no arrow from the library to agents, none from
scar_gym.policies to scar_gym.envs, and no cycle.

Built from the source with ``ast`` (every ``import`` and ``from ... import``, at module level or
inside functions, so a lazy import counts as much as a top-level one), one node per module
(a package is its ``__init__``); plus the ``"module:Class"`` strings of the policy registry, which
are imports by another name. networkx finds the cycles.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from scar_gym.paths import REPO_ROOT
from scar_gym.policies.registry import POLICIES

PACKAGES = ("scar_gym", "agents")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((REPO_ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _nearest(name: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted name lives in (``scar_gym.envs.features.squash`` -> ``scar_gym.envs.features``)."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in modules else None


def import_graph() -> nx.DiGraph:
    modules = _modules()
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for mod, path in modules.items():
        package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
                names = [f"{base}.{a.name}" for a in node.names]  # a submodule, else the name's module
            else:
                continue
            for name in names:
                target = _nearest(name, modules)
                if target is not None and target != mod:
                    g.add_edge(mod, target, line=node.lineno)
    for target, _ in POLICIES.values():
        g.add_edge("scar_gym.policies.registry", _nearest(target.split(":")[0], modules), line=0)
    return g


def _arrows(g: nx.DiGraph, src: str, dst: str) -> list[str]:
    def under(m: str, p: str) -> bool:
        return m == p or m.startswith(p + ".")

    return sorted(f"{u} -> {v} (line {g.edges[u, v]['line']})" for u, v in g.edges if under(u, src) and under(v, dst))


def test_the_graph_sees_every_module_and_lazy_imports():
    g = import_graph()
    assert {"scar_gym.envs.window_env", "scar_gym.factory", "agents.policy"} <= set(g)
    assert g.has_edge("agents.policy", "scar_gym.envs.rollout_search")
    assert g.has_edge("scar_gym.benchmark", "scar_gym.suites")  # imported inside a function
    assert g.has_edge("scar_gym.policies.registry", "scar_gym.policies.scar.policy")  # a registry string


def test_the_library_never_imports_agents():
    assert _arrows(import_graph(), "scar_gym", "agents") == []


def test_policies_never_import_envs():
    assert _arrows(import_graph(), "scar_gym.policies", "scar_gym.envs") == []


def test_no_import_cycle():
    cycles = sorted(nx.simple_cycles(import_graph()), key=len)
    assert cycles == [], f"{len(cycles)} cycles, e.g. {' -> '.join(cycles[0] + cycles[0][:1])}"
