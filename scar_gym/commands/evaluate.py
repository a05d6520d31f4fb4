"""``scar-gym evaluate SCHEDULE.json [--json OUT]``: score a saved schedule with the shared evaluator.

The file is one written by :func:`scar_gym.schedule.save_schedule_json`: it carries the scenario
and MCM definitions and the cost preset it was made under, so the numbers printed here are exactly
the library's (``make_evaluator(scenario, mcm, preset=...).evaluate(schedule)``); ``--cost-preset``
scores it under another preset. The schedule is validated first;
a broken rule is reported as an error naming the window, model and rule.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scar_gym.commands.schedule import add_cost_arguments
from scar_gym.textfmt import format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("evaluate", help="latency, energy and EDP of a saved schedule (JSON)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("schedule", metavar="SCHEDULE.json", help="a file written by schedule.save_schedule_json")
    p.add_argument("--json", default=None, metavar="OUT", help="also write the full result as JSON")
    add_cost_arguments(p)
    p.add_argument("--require-paths", action="store_true",
                   help="also require consecutive segments on neighbouring chiplets")
    p.set_defaults(func=evaluate_cmd)


def evaluate_file(path: str | Path, energy: str | None = None, require_paths: bool = False,
                  cost_preset: str | None = None):
    """(scenario, evaluator, schedule, result) of a saved schedule file.

    The cost preset is ``cost_preset`` if given, else the one the file records, else the default.
    """
    from scar_gym.costmodel.tables import CostModel
    from scar_gym.factory import make_cost_model, make_evaluator
    from scar_gym.hardware import mcm_from_dict
    from scar_gym.scenarios import Scenario
    from scar_gym.schedule import load_schedule_cost_record, load_schedule_json

    schedule, scenario_d, mcm_d = load_schedule_json(path)
    scenario = Scenario.from_dict(scenario_d, str(path))
    mcm = mcm_from_dict(mcm_d, str(path))
    record = load_schedule_cost_record(path)
    if cost_preset is None and record is not None:
        recorded = CostModel.from_record(record, str(path))
        cm = make_cost_model(preset=recorded.preset, energy=recorded.energy if energy is None else energy)
    else:
        cm = make_cost_model(preset=cost_preset, energy=energy)
    ev = make_evaluator(scenario, mcm, cost_model=cm)
    ev.validate(schedule, require_paths=require_paths)
    return scenario, ev, schedule, ev.evaluate(schedule, check=False)


def evaluate_cmd(args: argparse.Namespace) -> int:
    scenario, ev, schedule, r = evaluate_file(args.schedule, args.energy, args.require_paths, args.cost_preset)
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
    stored = _stored_result(args.schedule)
    if stored is not None and stored.get("edp_js") is not None:
        rel = abs(stored["edp_js"] - r.edp_js) / max(abs(r.edp_js), 1e-300)
        if rel > 1e-9:
            print(f"\nnote: the file's stored result has EDP {stored['edp_js']:.6g} J s, this evaluation "
                  f"{r.edp_js:.6g} J s (cost model or energy preset changed?)")
    if args.json:
        doc = {"scenario": scenario.id, "mcm": ev.mcm.name, "energy_preset": ev.cost_model.energy.name,
               "cost_model": ev.cost_model.describe(), **r.to_dict()}
        Path(args.json).write_text(json.dumps(doc, indent=1))
        print(f"\nwrote {args.json}")
    return 0


def _stored_result(path: str) -> dict | None:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    res = doc.get("result") if isinstance(doc, dict) else None
    return res if isinstance(res, dict) else None
