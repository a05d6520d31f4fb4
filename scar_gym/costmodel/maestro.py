r"""MAESTRO's NVD (KC-P) and Shi (YX-P) mappings as closed forms, vectorised over layers and batch.

The SCAR paper costed every layer with MAESTRO (Kwon et al., MICRO 2019). MAESTRO enumerates the
iteration cases of a mapping (init / steady / edge per loop) and, per case and cluster level,
takes ``max(compute delay, NoC ingress delay, NoC egress delay)`` (double buffering), summed over
the cases' occurrences. The two mappings used here have only a handful of distinct cases, so this
module writes them down directly; ``tests/test_costmodel_reference.py`` checks the result against
MAESTRO's own numbers (``tests/data/maestro/``), and ``scripts/maestro_reference.py`` makes more
of them from a MAESTRO build. Edge cases that MAESTRO treats idiosyncratically (its last input-
channel tile charged as a full one for weights, per-case sub-cluster sizes) are followed where
they move latency, not everywhere they move energy; the tests bound what is left. Notation (per sample, per group): ``K C R S`` filter, ``Yo Xo``
output plane, ``Y X`` padded input, ``s`` stride, ``P`` PEs, ``B`` NoC (L2 -> PE) bandwidth and
``O`` off-chip bandwidth in elements per cycle, ``h`` the NoC hop latency in cycles.

Runtime rules (MAESTRO's, ``CA_cost-analysis-engine``)
------------------------------------------------------
* NoC delay of ``t`` elements: ``noc(t) = h + ceil(t / B) - 1`` (a pipe; ``B`` unset: one send).
* A cluster's compute delay is its sub-cluster's runtime; a sub-cluster that runs one iteration
  pays ``compute + noc(ingress)`` (its only case is the all-init one, which cannot overlap).
* Per top-level iteration: ``max(compute, noc(ingress), noc(egress), off_in, off_out)`` where the
  off-chip terms refill the L2 tile: ``off_in = floor((input + weight tile) / O)``,
  ``off_out = floor(output tile / O)``, tiles of the first (all-init) iteration. Because this is
  charged on *every* iteration, NVD moves about one off-chip element per MAC and runs at about
  ``O`` MACs per cycle once ``O`` is below its compute rate -- MAESTRO's behaviour, and the lever
  that sets the paper's Shi/NVD ratios (``shared/spec/calibration.md``).
* The all-init iteration cannot hide its ingress: it takes ``max(compute + noc(ingress), off_in, off_out)``.

NVD, KC-P (``SpatialMap K; TemporalMap(64,64) C; R S; Y; X; Cluster(64); SpatialMap C``)
-------------------------------------------------------------------------------------------
``K`` across ``P/64`` clusters (``ka`` active), ``C`` across the 64 PEs of a cluster (``ca``
active); every top iteration computes one output pixel of ``ka`` channels over ``ca`` input
channels, ``R S`` MACs per PE: ``sub = R S + noc(2 ca R S)``. Iterations per (K, C) tile pair:
one tile start (inputs ``ca R S`` and weights ``ka ca R S``), ``Yo - 1`` row starts (``ca R S``),
``Yo (Xo - 1)`` column steps (``ca R min(s, S)`` new inputs); each writes ``ka`` partial sums.
Depthwise layers use MAESTRO's channel-parallel set instead (``SpatialMap(1,1) C`` over all ``P``
PEs, one level): the same three iteration kinds with ``ca = min(C, P)`` channels, no ``K``.

Shi, YX-P (``K; C; SpatialMap(R,1) Y; TemporalMap(T,8) X; Cluster(8); SpatialMap(S,1) X``)
-------------------------------------------------------------------------------------------
Output rows across ``P/8`` clusters (``ya`` active), 8 output columns per cluster (``xa``): a
``(P/8) x 8`` array, not a square one, so a token-GEMM (``Xo = 1``) uses 1/8 of it. ``K`` and
``C`` are outer temporal loops, one channel pair at a time: ``sub = R S + noc(xa R S + R S)`` (each
PE fetches its own ``R x S`` window). ``cols = (xa - 1) s + S`` is a cluster's input width
(stride-aware); per (k, c) there are ``ceil(Yo/(P/8))`` row tiles, each starting with
``rows cols`` inputs (``rows = ya R``: MAESTRO does not share the overlapping input rows of
neighbouring clusters) plus ``R S`` weights, then ``ceil(Xo/8) - 1`` column steps of
``rows min(8 s, cols)`` new inputs. Every iteration writes ``ya xa`` partial sums back to L2 (the
output is revisited once per input channel), and inputs are re-read for every ``k``.

Accesses and energy (MAESTRO's accounting)
------------------------------------------
* L1: one read of each operand and one partial-sum read and write per MAC (``4 MACs``), plus the
  L1 writes of every element that arrives from L2 (inputs and weights).
* L2: the reads above (ingress) plus the output read-out, and writes of the loaded input and
  weight tensors and of every partial sum sent up (egress).
* ``energy = pj_per_mac (MACs e_mac + L1 e_l1 + L2 e_l2)``; MAESTRO's units are 1 / 1.68 / 18.61.

Layer types MAESTRO has no template for
---------------------------------------
* Grouped layers (attention matmuls with heads, grouped convs) run their groups one after
  another, each as one MAESTRO layer: every cost times ``G``.
* Element-wise adds are a vector op on every dataflow: ``ceil(Kout / P)`` iterations, each
  reading ``2 P`` and writing ``P`` elements through the NoC and the off-chip refill.
* Batch: a chiplet given ``n`` samples runs the layer ``n`` times (MAESTRO's N loop is outermost),
  so every cost is linear in ``n``.
* Eyeriss-like chiplets (``eye``) have no MAESTRO-validated template here; they keep the first-order
  model of :mod:`scar_gym.costmodel.dataflow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from scar_gym.costmodel.dataflow import LayerArrays, LayerCosts, _ceil_div
from scar_gym.costmodel.energy import EnergyPreset

@dataclass(frozen=True)
class MaestroHardware:
    """What the MAESTRO templates read of a chiplet.

    Attributes:
        dataflow: ``nvd`` or ``shi``.
        num_pes: PEs (1 MAC per cycle each).
        cluster: PEs per cluster (64 for NVD, 8 for Shi in MAESTRO's templates).
        noc_bw: L2 -> PE elements per cycle; ``None`` = unconstrained (one send per transfer).
        offchip_bw: off-chip -> L2 elements per cycle; ``None`` = unconstrained.
        hop_cycles: NoC head latency in cycles, paid once per transfer at every cluster level.
    """

    dataflow: str
    num_pes: int
    cluster: int
    noc_bw: float | None = None
    offchip_bw: float | None = None
    hop_cycles: int = 1


class _Rules:
    """MAESTRO's delay rules at one chiplet's bandwidths (arrays in, arrays out)."""

    def __init__(self, hw: MaestroHardware):
        self.hw = hw

    def noc(self, elems: np.ndarray) -> np.ndarray:
        e = np.asarray(elems, dtype=np.float64)
        sends = (e > 0).astype(np.float64) if self.hw.noc_bw is None else np.ceil(e / self.hw.noc_bw)
        return np.maximum(self.hw.hop_cycles + sends - 1, 0.0)  # nothing to send and no hop latency: 0

    def off(self, elems: np.ndarray) -> np.ndarray:
        if self.hw.offchip_bw is None:
            return np.zeros(np.shape(elems))
        return np.floor(np.asarray(elems, dtype=np.float64) / self.hw.offchip_bw)


@dataclass(frozen=True)
class _PerSample:
    """Costs of one sample (all groups), arrays of shape (L,)."""

    runtime: np.ndarray
    compute: np.ndarray
    l1: np.ndarray
    l2: np.ndarray


def _iterations(rules: _Rules, counts, ingress, egress, sub, off) -> np.ndarray:
    """Runtime of iteration kinds ``counts[i]`` (each ``max(sub, noc(in), noc(out), off)``).

    The first kind holds the all-init iteration, which cannot overlap its ingress with compute:
    it takes ``max(sub + noc(in), off)`` instead.
    """
    total = np.zeros_like(sub, dtype=np.float64)
    out_d = rules.noc(egress)
    first = None
    for n, t_in in zip(counts, ingress):
        each = np.maximum.reduce([sub, rules.noc(t_in), out_d, off])
        first = each if first is None else first
        total += n * each
    init = np.maximum(sub + rules.noc(ingress[0]), off)
    return total + init - first


def _kcp_conv(a: LayerArrays, hw: MaestroHardware, rules: _Rules) -> _PerSample:
    K, C, R, S, Yo, Xo, st = a.k, a.c, a.r, a.s, a.y_out, a.x_out, a.stride
    ncl = hw.num_pes // hw.cluster
    ka, kt = np.minimum(K, ncl), _ceil_div(K, ncl)
    ca, ct = np.minimum(C, hw.cluster), _ceil_div(C, hw.cluster)
    rs = R * S
    tiles = kt * ct
    win = ca * rs  # one pixel's input window over the cluster's channels
    step = ca * R * np.minimum(st, S)  # new input columns when the window slides along X
    w_tile = ka * ca * rs
    sub = rs + rules.noc(2 * win)
    off = np.maximum(rules.off(win + w_tile), rules.off(ka))
    counts = (tiles, tiles * (Yo - 1), tiles * Yo * (Xo - 1))
    runtime = _iterations(rules, counts, (win + w_tile, win, step), ka, sub, off)
    in_rd = tiles * (Yo * win + Yo * (Xo - 1) * step)
    w_rd = K * ct * ca * rs  # MAESTRO charges the last C tile as a full one
    psum_wr = K * ct * Yo * Xo
    return _PerSample(runtime, (tiles * Yo * Xo * rs).astype(np.float64),
                      *_accesses(a, in_rd, w_rd, psum_wr, depthwise=False))


def _kcp_depthwise(a: LayerArrays, hw: MaestroHardware, rules: _Rules) -> _PerSample:
    C, R, S, Yo, Xo, st = a.groups, a.r, a.s, a.y_out, a.x_out, a.stride
    ca, ct = np.minimum(C, hw.num_pes), _ceil_div(C, hw.num_pes)
    rs = R * S
    win = ca * rs
    step = ca * R * np.minimum(st, S)
    off = np.maximum(rules.off(2 * win), rules.off(ca))
    counts = (ct, ct * (Yo - 1), ct * Yo * (Xo - 1))
    runtime = _iterations(rules, counts, (2 * win, win, step), ca, rs.astype(np.float64), off)
    in_rd = ct * (Yo * win + Yo * (Xo - 1) * step)
    w_rd = ct * ca * rs
    out_wr = C * Yo * Xo  # R S stays inside the PE: no partial sums leave it
    return _PerSample(runtime, (ct * Yo * Xo * rs).astype(np.float64),
                      *_accesses(a, in_rd, w_rd, out_wr, depthwise=True))


def _yxp(a: LayerArrays, hw: MaestroHardware, rules: _Rules, depthwise: bool) -> _PerSample:
    R, S, Yo, Xo, st = a.r, a.s, a.y_out, a.x_out, a.stride
    K = np.ones_like(a.k) if depthwise else a.k
    C = a.groups if depthwise else a.c
    ncl = hw.num_pes // hw.cluster
    ya, yt = np.minimum(Yo, ncl), _ceil_div(Yo, ncl)
    xa, xt = np.minimum(Xo, hw.cluster), _ceil_div(Xo, hw.cluster)
    rs = R * S
    # MAESTRO does not share overlapping input rows between clusters, nor windows between the PEs
    # of a cluster: each cluster fetches its own R rows, each PE its own R x S window.
    rows = ya * R
    cols = (xa - 1) * st + S
    first = rows * cols + rs
    step = rows * np.minimum(hw.cluster * st, cols)
    sub = rs + rules.noc(xa * rs + rs)
    psums = ya * xa
    off = np.maximum(rules.off(first), rules.off(psums))
    kc = K * C
    counts = (kc * yt, kc * yt * (xt - 1))
    runtime = _iterations(rules, counts, (first, step), psums, sub, off)
    in_rd = kc * yt * (rows * cols + (xt - 1) * step)
    w_rd = kc * yt * rs
    psum_wr = kc * Yo * Xo
    return _PerSample(runtime, (kc * yt * xt * rs).astype(np.float64),
                      *_accesses(a, in_rd, w_rd, psum_wr, depthwise))


def _accesses(a: LayerArrays, in_rd, w_rd, out_wr, depthwise: bool) -> tuple[np.ndarray, np.ndarray]:
    """(L1, L2) accesses: of one group for dense layers, of all channels for depthwise ones."""
    ch = a.groups if depthwise else 1  # a depthwise layer's k = c = 1 per group
    macs = a.k * a.c * a.r * a.s * a.y_out * a.x_out * ch
    in_size = a.c * a.y_in * a.x_in * ch
    w_size = a.k * a.c * a.r * a.s * ch
    out_size = a.k * a.y_out * a.x_out * ch
    l1 = 4 * macs + in_rd + w_rd
    l2 = in_rd + w_rd + out_wr + in_size + w_size + out_size
    return l1.astype(np.float64), l2.astype(np.float64)


def _vector_add(a: LayerArrays, hw: MaestroHardware, rules: _Rules) -> _PerSample:
    n = a.groups * a.k * a.y_out * a.x_out
    P = hw.num_pes
    lanes = np.minimum(n, P)
    steps = _ceil_div(n, P)
    off = np.maximum(rules.off(2 * lanes), rules.off(lanes))
    runtime = _iterations(rules, (steps,), (2 * lanes,), lanes, np.ones(len(n)), off)
    return _PerSample(runtime, steps.astype(np.float64), (3 * n).astype(np.float64), (3 * n).astype(np.float64))


def maestro_layer_costs(arr: LayerArrays, hw: MaestroHardware, batches: Sequence[int] | np.ndarray,
                        energy: EnergyPreset) -> LayerCosts:
    """Latency, energy and accesses of every layer of ``arr`` on ``hw`` for each batch size.

    Args:
        arr: layers, shape (L,).
        hw: the chiplet as MAESTRO sees it (dataflow ``nvd`` or ``shi``, bandwidths in elements per cycle).
        batches: samples given to the chiplet at once, shape (B,).
        energy: access energies (MAC = 1) and pJ per MAC.

    Returns:
        :class:`~scar_gym.costmodel.dataflow.LayerCosts` with arrays of shape (B, L).
    """
    if hw.dataflow not in ("nvd", "shi"):
        raise ValueError(f"no MAESTRO template for dataflow {hw.dataflow!r}")
    rules = _Rules(hw)
    dw = (arr.groups > 1) & (arr.k == 1) & (arr.c == 1) & arr.has_weights & ~arr.is_add
    kinds = ((arr.is_add, _vector_add), (dw, _DEPTHWISE[hw.dataflow]), (~(dw | arr.is_add), _DENSE[hw.dataflow]))
    runtime, compute, l1, l2 = (np.empty(len(arr)) for _ in range(4))
    for mask, template in kinds:
        if not mask.any():
            continue  # each template runs on its own layers only: a model is mostly one kind
        idx = np.flatnonzero(mask)
        part = template(arr.take(idx), hw, rules)
        runtime[idx], compute[idx], l1[idx], l2[idx] = part.runtime, part.compute, part.l1, part.l2
    n = np.asarray(batches, dtype=np.float64).reshape(-1, 1)
    macs = arr.macs.astype(np.float64)
    e_pj = energy.pj_per_mac * (macs * energy.mac + l1 * energy.l1 + l2 * energy.l2)
    util = np.where(arr.is_add, 1.0, macs / (hw.num_pes * compute))
    ones = np.ones_like(n)
    return LayerCosts(latency_cycles=n * runtime, compute_cycles=n * compute, energy_pj=n * e_pj,
                      l1_accesses=n * l1, l2_accesses=n * l2, utilization=ones * util)


def _grouped(template):
    """Dense and grouped layers: one MAESTRO layer per group, the groups run one after another."""
    def run(a: LayerArrays, hw: MaestroHardware, rules: _Rules) -> _PerSample:
        one = template(a, hw, rules)
        return _PerSample(*(f * a.groups for f in (one.runtime, one.compute, one.l1, one.l2)))
    return run


_DENSE = {"nvd": _grouped(_kcp_conv), "shi": _grouped(lambda a, hw, rules: _yxp(a, hw, rules, depthwise=False))}
_DEPTHWISE = {"nvd": _kcp_depthwise, "shi": lambda a, hw, rules: _yxp(a, hw, rules, depthwise=True)}
