#!/usr/bin/env python
"""Make MAESTRO reference numbers for the zoo's layers, and compare the cost model with them.

scar-gym does not depend on MAESTRO; this is a developer's tool for checking the ``maestro``
templates (:mod:`scar_gym.costmodel.maestro`) against the real thing. Build MAESTRO yourself
(https://github.com/maestro-project/maestro, ``scons`` with Boost) and give its binary:

    python scripts/maestro_reference.py generate --maestro /path/to/maestro --out ref.csv.gz
    python scripts/maestro_reference.py compare ref.csv.gz            # or the curated set:
    python scripts/maestro_reference.py compare ../shared/reference/maestro/curated_layers.csv

``generate`` runs every distinct conv / depthwise / GEMM / attention-matmul shape of the zoo on
both mappings (KC-P = NVD, YX-P = Shi, the directives of ``shared/reference/maestro/README.md``)
at 256, 1024 and 4096 PEs and six NoC / off-chip bandwidth settings, with MAESTRO's reference
options (multicast NoC, one hop of latency 1, double buffering, 1 MAC per PE per cycle). Rows whose
MAC count MAESTRO gets wrong (its stride-2 output-stationary mappings) get the status
``mac_count_mismatch``, as in the curated set. ``tests/data/maestro/zoo_layers.csv.gz`` was made
this way (MAESTRO commit 4eb08d17). ``compare`` prints the issue's agreement targets and the
per-template error of latency and energy.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

#: (num_pes, noc_bw, offchip_bw) of the generated set: unconstrained, the paper-preset range, MAESTRO's
#: shipped example (offchip 50) and two NoC-limited settings.
CONFIGS = [(p, nb, ob) for p in (256, 1024, 4096)
           for nb, ob in ((1000, 70000), (1000, 128), (1000, 256), (1000, 50), (64, 70000), (256, 70000))]
COLUMNS = ("model", "layer", "op_type", "maestro_layer_type", "K", "C", "R", "S", "Y", "X", "stride", "Yo", "Xo",
           "dataflow", "num_pes", "noc_bw", "offchip_bw", "status", "num_macs", "runtime_cycles", "avg_utilized_pes",
           "energy_total_xmac", "input_l2_read", "filter_l2_read", "output_l2_write")


def directives(dataflow: str, layer_type: str, S: int, X: int) -> list[str]:
    """The reference mappings (outermost first), written as MAESTRO's DSL."""
    if dataflow == "KC-P":
        if layer_type == "DSCONV":  # channel-parallel: one channel per PE
            return ["SpatialMap(1,1) C;", "TemporalMap(Sz(R),1) Y;", "TemporalMap(Sz(S),1) X;",
                    "TemporalMap(Sz(R),Sz(R)) R;", "TemporalMap(Sz(S),Sz(S)) S;"]
        inner = ["TemporalMap(Sz(R),1) Y;", "TemporalMap(Sz(S),1) X;", "TemporalMap(Sz(R),Sz(R)) R;",
                 "TemporalMap(Sz(S),Sz(S)) S;"]
        return (["SpatialMap(1,1) K;", "TemporalMap(64,64) C;", "TemporalMap(Sz(R),Sz(R)) R;",
                 "TemporalMap(Sz(S),Sz(S)) S;", "TemporalMap(Sz(R),1) Y;", "TemporalMap(Sz(S),1) X;",
                 "Cluster(64, P);", "SpatialMap(1,1) C;"] + inner)
    width = min(8 + S - 1, X)
    head = [] if layer_type == "DSCONV" else ["TemporalMap(1,1) K;"]
    return head + ["TemporalMap(1,1) C;", "SpatialMap(Sz(R),1) Y;", f"TemporalMap({width},8) X;", "Cluster(8, P);",
                   "SpatialMap(Sz(S),1) X;", "TemporalMap(Sz(R),Sz(R)) R;", "TemporalMap(Sz(S),Sz(S)) S;"]


def zoo_shapes() -> list[dict]:
    """One MAESTRO layer per distinct shape of the zoo (adds have no MAESTRO template)."""
    from scar_gym.workloads.zoo import MODEL_IDS, get_model

    seen: dict[tuple, dict] = {}
    for mid in MODEL_IDS:
        for l in get_model(mid).layers:
            if l.op == "add":
                continue
            dw = l.op == "dwconv"
            shape = dict(K=1 if dw else l.k, C=l.groups if dw else l.c, R=l.r, S=l.s, Y=l.y_in + 2 * l.pad,
                         X=l.x_in + 2 * l.pad, stride=l.stride, maestro_layer_type="DSCONV" if dw else "CONV")
            key = tuple(shape.values())
            if key not in seen:  # a grouped matmul is costed per head: one head is the MAESTRO layer
                seen[key] = dict(model=mid, layer=l.name, op_type=l.op, **shape)
    return list(seen.values())


def run_maestro(binary: str, layers: list[dict], dataflow: str, num_pes: int, noc_bw: int, offchip_bw: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        lines = ["Network N {"]
        for i, l in enumerate(layers):
            lines += [f"Layer L{i} {{", f"Type: {l['maestro_layer_type']}", f"Stride {{ X: {l['stride']}, Y: {l['stride']} }}",
                      f"Dimensions {{ K: {l['K']}, C: {l['C']}, R: {l['R']}, S: {l['S']}, Y: {l['Y']}, X: {l['X']} }}",
                      "Dataflow {", *directives(dataflow, l["maestro_layer_type"], l["S"], l["X"]), "}", "}"]
        lines.append("}")
        Path(tmp, "net.m").write_text("\n".join(lines))
        # MAESTRO names its CSV after the mapping file, relative to the working directory.
        out = subprocess.run([binary, f"--num_pes={num_pes}", f"--noc_bw_cstr={noc_bw}", f"--offchip_bw_cstr={offchip_bw}",
                              "--noc_hops=1", "--noc_hop_latency=1", "--noc_mc_support=true",
                              "--l1_size_cstr=100000000", "--l2_size_cstr=1000000000", "--Mapping_file=net.m",
                              "--print_res=true", "--print_res_csv_file=true", "--print_log_file=false"],
                             cwd=tmp, capture_output=True, text=True, check=True)
        util = [float(x.split(":")[1]) for x in out.stdout.splitlines() if x.startswith("Average number of utilized PEs")]
        rows = list(csv.reader(open(os.path.join(tmp, "net.csv"))))
    header = [h.strip() for h in rows[0]]
    results = []
    for row, u in zip(rows[1:], util):
        d = {h: v.strip() for h, v in zip(header, row)}
        f = lambda k: float(d[k])  # noqa: E731
        l1 = sum(f(f"{t} l1 {a}") for t in ("input", "filter", "output") for a in ("read", "write"))
        l2 = sum(f(f"{t} l2 {a}") for t in ("input", "filter", "output") for a in ("read", "write"))
        results.append(dict(num_macs=f("Num MACs"), runtime_cycles=f("Runtime (Cycles)"), avg_utilized_pes=u,
                            energy_total_xmac=f("Num MACs") + 1.68 * l1 + 18.61 * l2,
                            input_l2_read=f("input l2 read"), filter_l2_read=f("filter l2 read"),
                            output_l2_write=f("output l2 write")))
    if len(results) != len(layers):
        raise RuntimeError(f"MAESTRO returned {len(results)} rows for {len(layers)} layers:\n{out.stdout[-2000:]}")
    return results


def generate(binary: str, out: str) -> None:
    shapes = zoo_shapes()
    table = []
    for p, nb, ob in CONFIGS:
        for df in ("KC-P", "YX-P"):
            for l, r in zip(shapes, run_maestro(binary, shapes, df, p, nb, ob)):
                yo = (l["Y"] - l["R"]) // l["stride"] + 1
                xo = (l["X"] - l["S"]) // l["stride"] + 1
                macs = l["K"] * l["C"] * l["R"] * l["S"] * yo * xo
                table.append(dict(l, Yo=yo, Xo=xo, dataflow=df, num_pes=p, noc_bw=nb, offchip_bw=ob,
                                  status="ok" if r["num_macs"] == macs else "mac_count_mismatch", **r))
            print(f"{p} PEs, noc {nb}, off-chip {ob}, {df}: {len(shapes)} layers", file=sys.stderr)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows({k: row[k] for k in COLUMNS} for row in table)
    data = buf.getvalue().encode()
    Path(out).write_bytes(gzip.compress(data, mtime=0) if out.endswith(".gz") else data)
    print(f"wrote {len(table)} rows to {out}")


def compare(path: str) -> int:
    from scar_gym.costmodel.validation import agreement, model_costs, read_reference

    ref = read_reference(path)
    ours = model_costs(ref)
    a = agreement(ref, ours)
    print(a.report())
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="run MAESTRO on the zoo's layer shapes")
    g.add_argument("--maestro", required=True, help="path to a MAESTRO binary built from source")
    g.add_argument("--out", required=True, help="CSV to write (.gz compresses)")
    c = sub.add_parser("compare", help="the cost model against a reference CSV")
    c.add_argument("reference", help="a CSV in the curated set's format (.gz allowed)")
    args = ap.parse_args(argv)
    if args.cmd == "generate":
        generate(args.maestro, args.out)
        return 0
    return compare(args.reference)


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
