"""``scar-gym layer-costs --model NAME``: every layer's latency, energy and utilisation per dataflow.

The numbers are the cost model's per-layer table (:mod:`scar_gym.costmodel.maestro` under the
default ``paper`` and the ``maestro`` presets) for one chiplet of each dataflow: ``--batch``
samples at once, ``--pes`` PEs (default: the model's domain, 4096 datacenter / 256 AR/VR),
chiplet memory, bandwidths and clock from ``--mcm`` (default Table II values; an MCM also
restricts the dataflows to those it contains). ``--noc-bw`` and ``--offchip-bw`` set the L2 -> PE
and off-chip bandwidths of every chiplet in elements per cycle, over the MCM's and the preset's,
so a row of MAESTRO's output can be checked at MAESTRO's own settings:
``layer-costs --model M --pes 256 --noc-bw 1000 --offchip-bw 50 --cost-preset maestro``. ``--csv``
writes one row per (layer, dataflow) with the columns model, layer, op, dataflow, pes,
latency_cycles, latency_s, energy_j, utilization.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from scar_gym.commands.args import count, number
from scar_gym.commands.schedule import add_cost_arguments
from scar_gym.hardware import BANDWIDTH_RANGE, MAX_PES
from scar_gym.scenarios import MAX_BATCH
from scar_gym.textfmt import format_table

CSV_COLUMNS = ("model", "layer", "op", "dataflow", "pes", "latency_cycles", "latency_s", "energy_j", "utilization")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("layer-costs", help="per-layer latency/energy/utilisation on each dataflow",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, metavar="NAME", help="zoo id or a .yaml/.csv layer-table path")
    p.add_argument("--pes", type=count(MAX_PES, "PEs per chiplet"), default=None, metavar="N",
                   help="PEs per chiplet (default: the MCM's, else the model's domain: 4096 / 256)")
    p.add_argument("--batch", type=count(MAX_BATCH, "samples per model"), default=1, metavar="B",
                   help="samples processed together (default 1)")
    p.add_argument("--mcm", default=None, metavar="NAME",
                   help="take dataflows, chiplet memory and clock from this MCM (default: nvd, shi, eye)")
    p.add_argument("--noc-bw", type=number(*BANDWIDTH_RANGE, "elements per cycle"), default=None, metavar="X",
                   help="L2 -> PE bandwidth of every chiplet, elements per cycle (default: the MCM's, else the "
                        "preset's: unconstrained)")
    p.add_argument("--offchip-bw", type=number(*BANDWIDTH_RANGE, "elements per cycle"), default=None, metavar="Y",
                   help="off-chip -> L2 bandwidth of every chiplet, elements per cycle (default: the MCM's, else "
                        "the preset's: 256 under paper, unconstrained under maestro)")
    add_cost_arguments(p)
    p.add_argument("--csv", default=None, metavar="FILE", help="write one row per (layer, dataflow)")
    p.set_defaults(func=layer_costs_cmd)


def default_pes(model_spec: str) -> int:
    """PEs of the model's domain (zoo models); 4096 (datacenter) for anything else."""
    from scar_gym.hardware import DOMAIN_PES
    from scar_gym.workloads.zoo import MODEL_INFO

    info = MODEL_INFO.get(model_spec)
    return DOMAIN_PES[info.domain if info is not None else "datacenter"]


def layer_cost_rows(model_spec: str, pes: int | None = None, batch: int = 1, mcm_name: str | None = None,
                    energy: str | None = None, cost_preset: str | None = None, noc_bw: float | None = None,
                    offchip_bw: float | None = None) -> list[dict]:
    """One dict per (layer, dataflow) with the :data:`CSV_COLUMNS` keys, layers in schedule order."""
    from dataclasses import replace

    from scar_gym.errors import ConfigError, require_in_range
    from scar_gym.factory import make_cost_model
    from scar_gym.hardware import DATAFLOWS, MCM, PackageSpec, check_pes
    from scar_gym.scenarios import check_batch
    from scar_gym.workloads import resolve_model

    check_batch(batch, "--batch")
    if pes is not None:
        check_pes(pes, "--pes")
    for flag, value in (("--noc-bw", noc_bw), ("--offchip-bw", offchip_bw)):
        if value is not None:
            require_in_range(value, flag, *BANDWIDTH_RANGE, "elements per cycle")
    cm = make_cost_model(preset=cost_preset, energy=energy)
    model = resolve_model(model_spec)
    if mcm_name is not None:
        from scar_gym.presets import load_mcm

        mcm = load_mcm(mcm_name)
        pes = pes or mcm.num_pes or default_pes(model_spec)
        mcm = mcm.with_pes(pes)
        specs = mcm.classes
        package = mcm.package
    else:
        pes = pes or default_pes(model_spec)
        grid = MCM("all-dataflows", ("NSE",), num_pes=pes)
        specs = tuple(grid.spec_for(df) for df in DATAFLOWS)
        package = PackageSpec()
    overrides = {k: v for k, v in (("noc_bw", noc_bw), ("offchip_bw", offchip_bw)) if v is not None}
    specs = tuple(replace(s, **overrides) for s in specs)
    rows = []
    per_df = {s.dataflow: cm.layer_costs(model, s, (batch,), package.bytes_per_element) for s in specs}
    for i, layer in enumerate(model.layers):
        for df, c in per_df.items():
            cycles = float(c.latency_cycles[0, i])
            row = {"model": model.name, "layer": layer.name, "op": layer.op, "dataflow": df, "pes": pes,
                   "latency_cycles": cycles, "latency_s": cycles / package.clock_hz,
                   "energy_j": float(c.energy_pj[0, i]) * 1e-12, "utilization": float(c.utilization[0, i])}
            bad = [k for k in ("latency_cycles", "latency_s", "energy_j", "utilization")
                   if not (math.isfinite(row[k]) and row[k] >= 0)]
            if bad:
                raise ConfigError(bad[0], f"layer {layer.name!r} on {df}: {row[bad[0]]!r} is not a finite number >= 0",
                                  "the bandwidths or chiplet constants are out of range; check them")
            rows.append(row)
    return rows


def layer_costs_cmd(args: argparse.Namespace) -> int:
    from scar_gym.factory import make_cost_model
    from scar_gym.fileio import check_outputs
    from scar_gym.workloads import resolve_model

    check_outputs({"--csv": args.csv}, [args.model, args.mcm])
    rows = layer_cost_rows(args.model, args.pes, args.batch, args.mcm, args.energy, args.cost_preset,
                           args.noc_bw, args.offchip_bw)
    model = resolve_model(args.model)
    dfs = list(dict.fromkeys(r["dataflow"] for r in rows))
    by = {(r["layer"], r["dataflow"]): r for r in rows}
    pes = rows[0]["pes"] if rows else args.pes
    cm = make_cost_model(preset=args.cost_preset, energy=args.energy)
    bw = ", ".join(f"{name} {value:g} elements/cycle" for name, value in (("noc", args.noc_bw), ("off-chip", args.offchip_bw))
                   if value is not None)
    print(f"{model.name}: {model.num_layers} layers, batch {args.batch}, {pes} PEs per chiplet, "
          f"cost preset {cm.preset.name}, energy preset {cm.energy.name}" + (f", {bw}" if bw else ""))
    headers = ["#", "layer", "shape"]
    for df in dfs:
        headers += [f"{df} cycles", f"{df} util", f"{df} uJ"]
    table = []
    for i, layer in enumerate(model.layers):
        line = [i, layer.name, layer.describe()]
        for df in dfs:
            r = by[(layer.name, df)]
            line += [f"{r['latency_cycles']:.0f}", f"{r['utilization']:.3f}", f"{r['energy_j'] * 1e6:.4g}"]
        table.append(line)
    print(format_table(headers, table, align="rll" + "rrr" * len(dfs)))
    print()
    macs = sum(l.macs for l in model.layers) * args.batch
    totals = []
    for df in dfs:
        rs = [r for r in rows if r["dataflow"] == df]
        cycles = sum(r["latency_cycles"] for r in rs)
        # Whole-model utilisation: MACs over PE-cycles of the latency (adds included as ops).
        totals.append([df, f"{cycles:.0f}", f"{sum(r['latency_s'] for r in rs):.6g}",
                       f"{sum(r['energy_j'] for r in rs):.6g}", f"{macs / (pes * cycles):.3f}" if cycles else "-"])
    print(format_table(["dataflow", "total cycles", "total s", "total J", "util (MACs / PE-cycles)"], totals,
                       align="lrrrr"))
    if args.csv:
        with Path(args.csv).open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
            w.writeheader()
            w.writerows(rows)
        print(f"\nwrote {len(rows)} rows to {args.csv}")
    return 0
