"""The cost model against MAESTRO's own numbers: reading reference rows and measuring agreement.

A reference CSV has one row per (layer, dataflow, hardware) in the format of
``shared/reference/maestro/curated_layers.csv`` (MAESTRO's ``K C R S Y X stride``, the padded input
``Y X``, ``dataflow`` KC-P = NVD or YX-P = Shi, ``num_pes``, ``noc_bw``, ``offchip_bw`` in elements
per cycle, ``runtime_cycles``, ``energy_total_xmac`` in MAC units, a ``status``). Each row is
costed through the public API -- :class:`~scar_gym.costmodel.tables.CostModel` with the
``maestro`` preset on a :class:`~scar_gym.hardware.ChipletSpec` at the row's PEs and bandwidths --
and :func:`agreement` gives the figures the cost model is held to (``tests/test_costmodel_reference.py``,
``scripts/maestro_reference.py compare``).
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

DATAFLOW_OF = {"KC-P": "nvd", "YX-P": "shi"}
#: Two latencies (or energies) within this factor are a tie: neither dataflow wins.
TIE = 1.05


def read_reference(path: str | Path, status: str | None = "ok") -> list[dict]:
    """Rows of a reference CSV (``.gz`` allowed), only those with ``status`` (all for ``None``)."""
    raw = Path(path).read_bytes()
    text = (gzip.decompress(raw) if str(path).endswith(".gz") else raw).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    return [r for r in rows if status is None or r.get("status", "ok") == status]


def reference_layer(row: dict):
    """The scar-gym layer MAESTRO's row describes (padded input, so ``pad = 0``)."""
    from scar_gym.workloads.layers import Layer

    K, C, R, S, Y, X, st = (int(row[k]) for k in ("K", "C", "R", "S", "Y", "X", "stride"))
    name = f"{row.get('model', '')}:{row.get('layer', '')}"
    if row["maestro_layer_type"] == "DSCONV":
        return Layer(name, "dwconv", k=1, c=1, y_in=Y, x_in=X, r=R, s=S, stride=st, groups=C)
    if R == S == 1 and X == 1 and st == 1:
        return Layer(name, "gemm", k=K, c=C, y_in=Y)
    return Layer(name, "conv", k=K, c=C, y_in=Y, x_in=X, r=R, s=S, stride=st)


def model_costs(rows: Sequence[dict], preset: str = "maestro") -> list[dict]:
    """(latency cycles, energy in MAC units) of every row on its own hardware, through ``CostModel``."""
    from scar_gym.costmodel.tables import CostModel
    from scar_gym.hardware import ChipletSpec
    from scar_gym.workloads.model import chain

    cm = CostModel(preset)
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        key = (r["dataflow"], int(r["num_pes"]), float(r["noc_bw"]), float(r["offchip_bw"]))
        groups.setdefault(key, []).append(i)
    out: list[dict] = [{} for _ in rows]
    for (df, pes, noc, off), idx in groups.items():
        spec = ChipletSpec(DATAFLOW_OF[df], pes, noc_bw=noc, offchip_bw=off)
        layers = [reference_layer(rows[i]) for i in idx]
        model = chain("reference", [replace(l, name=f"{j}:{l.name}") for j, l in enumerate(layers)])
        c = cm.layer_costs(model, spec, (1,))
        for j, i in enumerate(idx):
            out[i] = {"latency_cycles": float(c.latency_cycles[0, j]),
                      "energy_xmac": float(c.energy_pj[0, j]) / cm.energy.pj_per_mac,
                      "utilized_pes": float(c.utilization[0, j]) * pes}
    return out


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    def ranks(x):
        x = np.asarray(x, dtype=np.float64)
        order = np.argsort(x, kind="mergesort")
        r = np.empty(len(x))
        r[order] = np.arange(len(x), dtype=np.float64)
        for v in np.unique(x):  # ties share their mean rank
            sel = x == v
            if sel.sum() > 1:
                r[sel] = r[sel].mean()
        return r
    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def winner(nvd: float, shi: float, tie: float = TIE) -> str:
    """``nvd``, ``shi`` or ``tie`` (the two within ``tie`` of each other)."""
    if max(nvd, shi) <= tie * min(nvd, shi):
        return "tie"
    return "nvd" if nvd < shi else "shi"


@dataclass
class Agreement:
    """How well the model tracks a reference; see :func:`agreement`."""

    pairs: int
    latency_winner: float
    energy_winner: float
    ratio_log2_error_median: float
    spearman: dict[str, float]
    spearman_min_per_config: dict[str, float]
    log2_error: dict[str, dict[str, float]] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"layer x hardware pairs with both dataflows: {self.pairs}",
                 f"latency winner agreement (tie within {TIE:g}x): {100 * self.latency_winner:.1f}%",
                 f"energy winner agreement: {100 * self.energy_winner:.1f}%",
                 f"median |log2| error of the Shi/NVD latency ratio: {self.ratio_log2_error_median:.3f}"]
        for df in self.spearman:
            lines.append(f"Spearman of latency, {df}: {self.spearman[df]:.4f} pooled, "
                         f"{self.spearman_min_per_config[df]:.4f} worst hardware configuration")
        lines.append("|log2(ours / MAESTRO)| by dataflow and layer type (median / 90th percentile / max):")
        for k, v in sorted(self.log2_error.items()):
            lines.append(f"  {k:<22} latency {v['latency_median']:.3f} / {v['latency_p90']:.3f} / {v['latency_max']:.3f}"
                         f"   energy {v['energy_median']:.3f} / {v['energy_p90']:.3f} / {v['energy_max']:.3f}"
                         f"   ({int(v['rows'])} rows)")
        if self.disagreements:
            lines.append("disagreements:")
            lines += [f"  {d}" for d in self.disagreements]
        return "\n".join(lines)


def agreement(rows: Sequence[dict], ours: Sequence[dict], tie: float = TIE) -> Agreement:
    """Winner agreement, rank correlation and ratio error of ``ours`` (from :func:`model_costs`) on ``rows``."""
    hw = lambda r: (int(r["num_pes"]), float(r["noc_bw"]), float(r["offchip_bw"]))  # noqa: E731
    pairs: dict[tuple, dict] = {}
    for r, o in zip(rows, ours):
        key = (r.get("model"), r.get("layer"), r["K"], r["C"], r["R"], r["S"], r["Y"], r["X"], r["stride"], hw(r))
        pairs.setdefault(key, {})[r["dataflow"]] = (float(r["runtime_cycles"]), float(r["energy_total_xmac"]), o)
    lat_ok, en_ok, ratio_err, bad = [], [], [], []
    for key, p in pairs.items():
        if set(p) != {"KC-P", "YX-P"}:
            continue
        (rn, en, on), (rs, es, os_) = p["KC-P"], p["YX-P"]
        w_ref, w_ours = winner(rn, rs, tie), winner(on["latency_cycles"], os_["latency_cycles"], tie)
        e_ref, e_ours = winner(en, es, tie), winner(on["energy_xmac"], os_["energy_xmac"], tie)
        lat_ok.append(w_ref == w_ours)
        en_ok.append(e_ref == e_ours)
        ratio_err.append(abs(np.log2((os_["latency_cycles"] / on["latency_cycles"]) / (rs / rn))))
        if w_ref != w_ours or e_ref != e_ours:
            bad.append(f"{key[0]}:{key[1]} at {key[-1]}: latency winner MAESTRO {w_ref} ours {w_ours} "
                       f"(Shi/NVD {rs / rn:.3g} vs {os_['latency_cycles'] / on['latency_cycles']:.3g}); energy winner "
                       f"MAESTRO {e_ref} ours {e_ours} ({es / en:.3g} vs {os_['energy_xmac'] / on['energy_xmac']:.3g})")
    rho, rho_min, errs = {}, {}, {}
    for df in ("KC-P", "YX-P"):
        sel = [i for i, r in enumerate(rows) if r["dataflow"] == df]
        if not sel:
            continue
        rho[df] = spearman([float(rows[i]["runtime_cycles"]) for i in sel], [ours[i]["latency_cycles"] for i in sel])
        per = {}
        for i in sel:
            per.setdefault(hw(rows[i]), []).append(i)
        rho_min[df] = min(spearman([float(rows[i]["runtime_cycles"]) for i in g], [ours[i]["latency_cycles"] for i in g])
                          for g in per.values() if len(g) > 2)
        by_op: dict[str, list[int]] = {}
        for i in sel:
            by_op.setdefault(f"{df} {rows[i].get('op_type', rows[i]['maestro_layer_type'])}", []).append(i)
        for k, idx in by_op.items():
            le = np.abs(np.log2([ours[i]["latency_cycles"] / float(rows[i]["runtime_cycles"]) for i in idx]))
            ee = np.abs(np.log2([ours[i]["energy_xmac"] / float(rows[i]["energy_total_xmac"]) for i in idx]))
            errs[k] = {"latency_median": float(np.median(le)), "latency_p90": float(np.quantile(le, 0.9)),
                       "latency_max": float(le.max()), "energy_median": float(np.median(ee)),
                       "energy_p90": float(np.quantile(ee, 0.9)), "energy_max": float(ee.max()), "rows": len(idx)}
    return Agreement(pairs=len(lat_ok), latency_winner=float(np.mean(lat_ok)), energy_winner=float(np.mean(en_ok)),
                     ratio_log2_error_median=float(np.median(ratio_err)), spearman=rho,
                     spearman_min_per_config=rho_min, log2_error=errs, disagreements=bad)
