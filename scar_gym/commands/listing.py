"""``scar-gym list {mcms,models,scenarios,policies} [NAME ...]``: what is built in, as text tables.

Without names each listing shows every built-in item; with names (presets, ``<family>-RxC``
patterns, layout strings, YAML paths, zoo ids or layer tables) it shows just those, which also
checks a user's file.
"""

from __future__ import annotations

import argparse
from typing import Any

from scar_gym.textfmt import format_table

_DESCRIPTION_CHARS = 72  # keeps a table row on a wide terminal line unless --full is given


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("list", help="list MCMs, models, scenarios or policies",
                                   description=__doc__.split("\n\n")[0])
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)

    p = kinds.add_parser("mcms", help="MCM presets (or the MCMs named)")
    p.add_argument("names", nargs="*", metavar="MCM",
                   help="preset, <family>-RxC[-tri], layout such as NSN/SNS/NSN[@tri], or a YAML path")
    p.add_argument("--full", action="store_true", help="show whole descriptions")
    p.set_defaults(func=list_mcms_cmd)

    p = kinds.add_parser("models", help="zoo models (or the models named)")
    p.add_argument("names", nargs="*", metavar="MODEL", help="zoo id or a .yaml/.csv layer-table path")
    p.set_defaults(func=list_models_cmd)

    p = kinds.add_parser("scenarios", help="Table III scenarios (or the scenarios named)")
    p.add_argument("names", nargs="*", metavar="SCENARIO", help="scenario id (sc4 or 4) or a YAML path")
    p.set_defaults(func=list_scenarios_cmd)

    p = kinds.add_parser("policies", help="scheduling policies")
    p.set_defaults(func=list_policies_cmd)


def _shorten(text: str, full: bool) -> str:
    text = " ".join(text.split())
    if full or len(text) <= _DESCRIPTION_CHARS:
        return text
    return text[: _DESCRIPTION_CHARS - 3].rstrip() + "..."


def list_mcms_cmd(args: argparse.Namespace) -> int:
    from scar_gym.presets import MCM_NAMES, load_mcm

    mcms = [load_mcm(n) for n in (args.names or MCM_NAMES)]
    with_eye = any(m.count("eye") for m in mcms)
    headers = ["name", "grid", "topology", "layout", "#N", "#S"] + (["#E"] if with_eye else []) + ["description"]
    rows = []
    for m in mcms:
        counts = [m.count("nvd"), m.count("shi")] + ([m.count("eye")] if with_eye else [])
        rows.append([m.name, m.shape, m.topology, "/".join(m.layout), *counts, _shorten(m.description, args.full)])
    print(format_table(headers, rows))
    return 0


def list_models_cmd(args: argparse.Namespace) -> int:
    from scar_gym.scenarios import model_domain
    from scar_gym.workloads import resolve_model
    from scar_gym.workloads.zoo import MODEL_IDS

    rows = []
    for spec in args.names or MODEL_IDS:
        model = resolve_model(spec)
        rows.append([model.name, model_domain(spec) or "-", model.num_layers,
                     f"{model.macs / 1e9:.2f}", f"{model.param_elems / 1e6:.1f}"])
    print(format_table(["id", "domain", "layers", "GMACs (batch 1)", "params (M)"], rows, align="llrrr"))
    return 0


def list_scenarios_cmd(args: argparse.Namespace) -> int:
    from scar_gym.scenarios import SCENARIO_IDS, load_scenario

    rows = []
    for spec in args.names or SCENARIO_IDS:
        s = load_scenario(spec)
        if args.names:
            s.build_models()  # a named file is checked whole: its layer tables and model names too
        rows.append([s.id, s.domain, s.use_case, s.summary()])
    print(format_table(["id", "domain", "use case", "models (batch; AR/VR: fps)"], rows))
    return 0


def _policy_row(entry: Any) -> list[str]:
    """A policy as (name, description): a string, a (name, description) pair, or an object with
    ``name`` and optionally ``description`` attributes."""
    if isinstance(entry, str):
        return [entry, ""]
    if isinstance(entry, (tuple, list)):
        return [str(entry[0]), str(entry[1]) if len(entry) > 1 else ""]
    return [str(getattr(entry, "name", entry)), str(getattr(entry, "description", "") or "")]


def list_policies_cmd(args: argparse.Namespace) -> int:
    try:
        from scar_gym.policies import list_policies
    except ImportError as e:  # the registry is not written yet, or one of its dependencies is missing
        print(f"no policies available ({e})")
        return 0
    rows = [_policy_row(p) for p in list_policies()]
    print(format_table(["name", "description"], rows) if rows else "no policies available")
    return 0
