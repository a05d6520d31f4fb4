"""``scar-gym evaluate SCHEDULE.json [--json OUT] [--rescore]``: score a saved schedule with the shared evaluator.

The file is one written by :func:`scar_gym.schedule.save_schedule_json`: it carries the scenario
and MCM definitions and the cost preset it was made under, and a ``context`` record of what it was
made for (scenario, batches, MCM, cost model, each model's layer digest), so the numbers printed
here are exactly the library's (``make_evaluator(scenario, mcm, preset=...).evaluate(schedule)``).
A file whose scenario, MCM, cost model or layer tables no longer match its context, or whose
stored result differs from this evaluation, is refused; ``--rescore`` scores it anyway and says
what changed. ``--cost-preset`` / ``--energy`` score it under another preset (said in a note).
The schedule is validated first; a broken rule is reported as an error naming the window, model
and rule.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any, Callable

from scar_gym.commands.schedule import add_cost_arguments
from scar_gym.textfmt import format_table

#: Relative EDP difference above which a stored result counts as different from a re-evaluation.
RESULT_TOLERANCE = 1e-9


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("evaluate", help="latency, energy and EDP of a saved schedule (JSON)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("schedule", metavar="SCHEDULE.json", help="a file written by scar-gym schedule --json")
    p.add_argument("--json", default=None, metavar="OUT", help="also write the full result as JSON")
    add_cost_arguments(p)
    p.add_argument("--require-paths", action="store_true",
                   help="also require consecutive segments on neighbouring chiplets")
    p.add_argument("--rescore", action="store_true",
                   help="score a schedule whose scenario, MCM, cost model or stored result no longer match what "
                        "it was made for (the changes are printed)")
    p.set_defaults(func=evaluate_cmd)


def _flat(x: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(x, dict):
        out: dict[str, Any] = {}
        for k, v in x.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or {prefix: {}}
    if isinstance(x, list):
        out = {}
        for i, v in enumerate(x):
            out.update(_flat(v, f"{prefix}[{i}]"))
        return out or {prefix: []}
    return {prefix: x}


def context_changes(made_for: dict, now: dict) -> list[str]:
    """``path: old -> new`` for every leaf that differs between two context records (missing = absent)."""
    a, b = _flat(made_for), _flat(now)
    changes = []
    for key in sorted(set(a) | set(b)):
        old, new = a.get(key, "(absent)"), b.get(key, "(absent)")
        if old != new and not (isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new)):
            changes.append(f"{key} {old!r} -> {new!r}")
    return changes


def _summary(changes: list[str], n: int = 4) -> str:
    more = f" (and {len(changes) - n} more)" if len(changes) > n else ""
    return "; ".join(c[:120] for c in changes[:n]) + more


def evaluate_file(path: str | Path, energy: str | None = None, require_paths: bool = False,
                  cost_preset: str | None = None, rescore: bool = False, report: Callable[[str], Any] = print):
    """(scenario, evaluator, schedule, result) of a saved schedule file.

    The cost preset is ``cost_preset`` if given, else the one the file records, else the default.
    The file's scenario, MCM and cost model are checked against its ``context`` record, and the
    stored result against this evaluation: a difference is an error unless ``rescore``, when it is
    reported (``report``) and the file scored anyway.
    """
    from scar_gym.costmodel.tables import CostModel
    from scar_gym.errors import ConfigError
    from scar_gym.factory import make_cost_model, make_evaluator
    from scar_gym.hardware import mcm_from_dict
    from scar_gym.scenarios import Scenario
    from scar_gym.schedule import read_schedule_file

    sf = read_schedule_file(path)
    file = sf.path
    scenario = Scenario.from_dict(sf.scenario, file)
    mcm = mcm_from_dict(sf.mcm, file)
    explicit = cost_preset is not None or energy is not None
    recorded = CostModel.from_record(sf.cost_model, file) if sf.cost_model is not None else None
    if cost_preset is None and recorded is not None:
        cm = make_cost_model(preset=recorded.preset, energy=recorded.energy if energy is None else energy)
    else:
        cm = make_cost_model(preset=cost_preset, energy=energy)
    ev = make_evaluator(scenario, mcm, cost_model=cm)

    def refuse_or_report(field: str, problem: str) -> None:
        if not rescore:
            raise ConfigError(field, problem, "evaluate it with --rescore to score it as the file now stands, "
                              "or schedule it again", file)
        report(f"rescoring: {problem}")

    changes: list[str] = []
    if sf.context is not None:
        made_for = {k: sf.context.get(k) for k in ("scenario", "mcm", "cost_model")}
        now: dict[str, Any] = {"scenario": sf.scenario, "mcm": sf.mcm, "cost_model": sf.cost_model}
        if "models" in sf.context:
            made_for["models"] = sf.context["models"]
            now["models"] = ev.context()["models"]
        changes = context_changes(made_for, json.loads(json.dumps(now)))
        if changes:
            refuse_or_report("context", f"the file no longer matches what the schedule was made for: {_summary(changes)}")
    elif sf.result is None:
        refuse_or_report("context", f"the file ({sf.format}) records neither what the schedule was made for nor a "
                         "result to check it against")
    ev.validate(sf.schedule, require_paths=require_paths)
    result = ev.evaluate(sf.schedule, check=False)
    if explicit:
        made = recorded or CostModel()
        if (made.preset, made.energy) != (cm.preset, cm.energy):
            report(f"note: scored under cost preset {cm.preset.name} (energy {cm.energy.name}); the schedule was "
                   f"made under {made.preset.name} (energy {made.energy.name})")
    elif sf.result is not None and not changes:
        stored = sf.result.get("edp_js")
        if isinstance(stored, bool) or not isinstance(stored, (int, float)) or not math.isfinite(stored) or stored <= 0:
            raise ConfigError("result.edp_js", f"expected a positive finite number, got {stored!r}",
                              "remove the result or write the one scar-gym saved", file)
        if abs(stored - result.edp_js) > RESULT_TOLERANCE * abs(result.edp_js):
            refuse_or_report("result", f"the file's stored EDP {stored:.6g} J s differs from this evaluation's "
                             f"{result.edp_js:.6g} J s under the same context (the result was edited, or the cost "
                             "model changed since the file was written)")
    return scenario, ev, sf.schedule, result


def evaluate_cmd(args: argparse.Namespace) -> int:
    from scar_gym.fileio import check_outputs, write_text

    check_outputs({"--json": args.json}, [args.schedule])
    notes: list[str] = []
    scenario, ev, schedule, r = evaluate_file(args.schedule, args.energy, args.require_paths, args.cost_preset,
                                              args.rescore, notes.append)
    check_outputs({"--json": args.json}, [args.schedule, *scenario.table_paths])
    for line in notes:
        print(line)
    print(f"scenario {scenario.id}: {scenario.summary()}")
    print(f"mcm {ev.mcm.name}: {ev.mcm.shape} {ev.mcm.topology}, {'/'.join(ev.mcm.layout)}, "
          f"{ev.mcm.pes} PEs per chiplet; cost preset {ev.cost_model.preset.name}, "
          f"energy preset {ev.cost_model.energy.name}")
    print(f"windows {len(schedule.windows)}")
    print(f"latency_s  {r.latency_s:.6g}")
    print(f"energy_j   {r.energy_j:.6g}  (compute {r.compute_j:.6g}, nop {r.nop_j:.6g}, dram {r.dram_j:.6g})")
    print(f"edp_js     {r.edp_js:.6g}")
    print()
    rows = []
    t0 = 0.0
    for wi, (w, wr) in enumerate(zip(schedule.windows, r.windows)):
        for a, m in zip(w.assignments, wr.models):
            rows.append([wi, ev.models[a.model].name, f"[{a.start},{a.stop})", len(a.segments),
                         " ".join(str(c) for c in a.chiplets), f"{m.minibatch}/{ev.batches[a.model]}",
                         f"{m.latency_s:.4g}", f"{t0 + m.latency_s:.4g}", f"{m.energy_j:.4g}",
                         f"{m.compute_j:.4g}", f"{m.nop_j:.4g}", f"{m.dram_j:.4g}"])
        t0 += wr.latency_s
    print(format_table(["window", "model", "layers", "segs", "chiplets", "b'/b", "latency_s", "ends_s",
                        "energy_j", "compute_j", "nop_j", "dram_j"], rows, align="rllrlrrrrrrr"))
    print()
    print(format_table(["window", "latency_s", "energy_j"],
                       [[i, f"{w.latency_s:.4g}", f"{w.energy_j:.4g}"] for i, w in enumerate(r.windows)],
                       align="rrr"))
    print()
    print(format_table(["model", "finish_s"], [[n, f"{t:.6g}"] for n, t in r.model_finish_s.items()], align="lr"))
    if args.json:
        doc = {"scenario": scenario.id, "mcm": ev.mcm.name, "energy_preset": ev.cost_model.energy.name,
               "cost_model": ev.cost_model.describe(), **r.to_dict()}
        write_text(args.json, json.dumps(doc, indent=1), "--json")
        print(f"\nwrote {args.json}")
    return 0

