r"""The ``legacy`` per-layer template: the project's first model, kept reachable by name.

It is not the default: :mod:`scar_gym.costmodel.maestro` follows MAESTRO's mappings, which this
template departs from (a square Shi array, one depthwise channel per NVD cluster, no stride-aware
input traffic, no off-chip refill; ``shared/spec/calibration.md`` section 1). Select it with the
``legacy`` cost preset to reproduce results made before the change. It is also the model of Eye
(row-stationary) chiplets under every preset, since MAESTRO's Eyeriss mapping is not modelled.

This is a first-order re-derivation of MAESTRO's data-centric model (Kwon et al., MICRO 2019) for
the three dataflow templates of ``shared/spec/cost-model-background.md``. Symbols (per sample,
per group, see :mod:`scar_gym.workloads.layers`): ``K C R S`` filter, ``Y' X'`` output plane,
``Y X`` input plane (padded), ``G`` groups, ``n`` the batch handed to the chiplet at once;
``P`` PEs in ``P / cs`` clusters of ``cs`` PEs; ``ceil`` is written :math:`\lceil\cdot\rceil`.

Spatial mapping and compute (utilisation comes only from the ceil divisions: edge effects)
------------------------------------------------------------------------------------------
* **NVD** (weight stationary, NVDLA-like). ``G*K`` across the ``P/cs`` clusters, ``C`` across the
  ``cs`` PEs of a cluster; ``R S`` and the output plane are temporal, the batch is folded into the
  output-pixel loop so a weight tile is reused by every sample::

      steps = ceil(G K / (P/cs)) * ceil(C / cs) * R S * n Y' X'

  Poor when ``C`` is small (first conv: 3 of 64 lanes busy) and for depthwise (``C = 1``).
* **Shi** (output stationary, ShiDianNao-like). Output rows across ``P/cs`` PE rows, output
  columns across ``cs`` PE columns (a square array by default); ``G K C R S`` temporal, partial
  sums stay in the PE::

      steps = ceil(n / fill) * ceil(Y' / (P/cs)) * ceil(X' / cs) * G K C R S

  where ``fill = floor(rows / min(Y', rows)) * floor(cols / min(X', cols))`` planes of different
  samples sit side by side when one plane is smaller than the array (they share every broadcast
  weight, which is what output stationary allows). Poor when the output plane is small and the
  batch cannot fill the array (late convs at batch 1; GEMMs, whose plane is tokens x 1).
* **Eye** (row stationary, Eyeriss-like). Output rows across the ``P/cs`` PE rows, filter rows
  ``R`` across PE columns folded with output columns: ``steps = n * ceil(Y'/(P/cs)) *
  ceil(R X' / cs) * G K C S``. Degenerates when ``R = S = 1``.
* **add** (element-wise) is a vector op on every dataflow: ``steps = ceil(n G K Y' X' / P)``.

L2 -> L1 traffic by the coupling rule
-------------------------------------
An operand is re-fetched once per iteration of every temporal loop outside its resident tile that
is not one of its own dimensions (W couples K C R S, I couples N C Y X, O couples N K Y' X');
a multicast counts once at L2.

* NVD: ``W = G K C R S`` (once per batch; for a matmul the right operand is an activation, so
  ``n`` times), ``I = ceil(K/(P/cs)) * n G C Y X`` (inputs re-read per K tile),
  ``O = n G K Y' X' (2 ceil(C/cs) - 1)`` (partial sums spill between C tiles).
* Shi: ``W = ceil(n/fill) ceil(Y'/rows) ceil(X'/cols) G K C R S`` (broadcast weights re-read per
  output tile and pass), ``I = n tiles G C y_t x_t * (1 if the tile's inputs fit the PEs' L1 else K)`` where
  ``y_t = (rows-1) stride + R`` is the tile's input extent with its halo, ``O = n G K Y' X'``.
* Eye: ``W = n ceil(Y'/rows) G K C R S`` (filter rows re-read per output-row tile),
  ``I = n G C Y X`` (input rows are reused diagonally, read once), ``O = n G K Y' X' (2 C - 1)``
  (C is temporal outside the PE array, so partial sums revisit L2 once per input channel).

L1 accesses and latency
-----------------------
``L1 = 2 MACs + sum_operands(traffic x fan-out)``: one read of the streamed operand and one
partial-sum update per MAC, plus the writes of every L2 transfer into each PE that receives it
(inputs fan out to the active K clusters on NVD; weights to the active PEs on Shi).
``latency = max(steps, L2 bytes / L2 bandwidth)`` cycles (double-buffered, so traffic hides under
compute until it is the bound). ``energy = pj_per_mac * (MACs e_mac + L1 e_l1 + L2 e_l2)`` pJ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from scar_gym.costmodel.energy import EnergyPreset
from scar_gym.hardware import ChipletSpec, square_side
from scar_gym.workloads.layers import Layer


@dataclass(frozen=True)
class LayerArrays:
    """Layer dimensions as int64 arrays of shape (L,), the cost model's vectorised input."""

    k: np.ndarray
    c: np.ndarray
    r: np.ndarray
    s: np.ndarray
    y_out: np.ndarray
    x_out: np.ndarray
    y_in: np.ndarray  # padded input extent
    x_in: np.ndarray
    stride: np.ndarray
    groups: np.ndarray
    has_weights: np.ndarray  # bool
    is_add: np.ndarray  # bool
    macs: np.ndarray  # per sample

    @staticmethod
    def from_layers(layers: Sequence[Layer]) -> "LayerArrays":
        def col(f):
            return np.array([f(l) for l in layers], dtype=np.int64)

        return LayerArrays(
            k=col(lambda l: l.k), c=col(lambda l: l.c), r=col(lambda l: l.r), s=col(lambda l: l.s),
            y_out=col(lambda l: l.y_out), x_out=col(lambda l: l.x_out),
            y_in=col(lambda l: l.y_in + 2 * l.pad), x_in=col(lambda l: l.x_in + 2 * l.pad),
            stride=col(lambda l: l.stride), groups=col(lambda l: l.groups),
            has_weights=np.array([l.has_weights for l in layers], dtype=bool),
            is_add=np.array([l.is_elementwise for l in layers], dtype=bool),
            macs=col(lambda l: l.macs),
        )

    def __len__(self) -> int:
        return len(self.k)

    def take(self, idx: np.ndarray) -> "LayerArrays":
        """The layers at positions ``idx``."""
        return LayerArrays(**{f: getattr(self, f)[idx] for f in self.__dataclass_fields__})


@dataclass(frozen=True)
class LayerCosts:
    """Cost of each layer on one chiplet class; every array has shape (B, L) for B batch sizes."""

    latency_cycles: np.ndarray
    compute_cycles: np.ndarray
    energy_pj: np.ndarray
    l1_accesses: np.ndarray
    l2_accesses: np.ndarray  # L2 <-> L1 elements
    utilization: np.ndarray  # MACs / (P * compute_cycles)


def _ceil_div(a, b):
    return -(-a // b)


def legacy_cluster(spec: ChipletSpec) -> int:
    """This template's cluster: 64 for NVD, a square array for Shi and Eye (unless set)."""
    if spec.cluster_size is not None:
        return spec.cluster_size
    return min(64, spec.num_pes) if spec.dataflow == "nvd" else square_side(spec.num_pes)


def legacy_l2_bandwidth_bytes(spec: ChipletSpec, bytes_per_element: int = 1) -> float:
    """L2 -> L1 bytes per cycle: the chiplet's ``noc_bw`` if set, else ``num_pes / 16`` (at least 1)."""
    if spec.noc_bw is not None:
        return float(spec.noc_bw) * bytes_per_element
    return max(1.0, spec.num_pes / 16)


def layer_costs(arr: LayerArrays, spec: ChipletSpec, batches: Sequence[int] | np.ndarray,
                energy: EnergyPreset, bytes_per_element: int = 1) -> LayerCosts:
    """Latency, energy and accesses of every layer of ``arr`` on ``spec`` for each batch size.

    Args:
        arr: layers, shape (L,).
        spec: chiplet class (dataflow, PEs, cluster, L1, L2 bandwidth).
        batches: samples processed together, shape (B,).
        energy: access energy preset.
        bytes_per_element: operand width in bytes.

    Returns:
        :class:`LayerCosts` with arrays of shape (B, L).
    """
    n = np.asarray(batches, dtype=np.int64).reshape(-1, 1)
    P = spec.num_pes
    cs = legacy_cluster(spec)
    ncl = P // cs
    K, C, R, S, G = arr.k, arr.c, arr.r, arr.s, arr.groups
    Yo, Xo, Yi, Xi = arr.y_out, arr.x_out, arr.y_in, arr.x_in
    macs = n * arr.macs
    w_batch = np.where(arr.has_weights, 1, n)  # a matmul's right operand changes with every sample
    kcrs = G * K * C * R * S
    out = n * G * K * Yo * Xo

    if spec.dataflow == "nvd":
        k_tiles = _ceil_div(G * K, ncl)
        c_tiles = _ceil_div(C, cs)
        steps = k_tiles * c_tiles * R * S * n * Yo * Xo
        w_tr = w_batch * kcrs
        i_tr = _ceil_div(K, ncl) * n * G * C * Yi * Xi
        o_tr = out * (2 * c_tiles - 1)
        fan_w, fan_i = 1, np.minimum(K, ncl)  # a group's inputs reach only its own clusters
    elif spec.dataflow == "shi":
        rows, cols = ncl, cs
        y_t, x_t = _ceil_div(Yo, rows), _ceil_div(Xo, cols)
        # A plane smaller than the array leaves room for other samples' planes beside it; they
        # share every broadcast weight, so the batch fills the array before it iterates.
        fill = (rows // np.minimum(Yo, rows)) * (cols // np.minimum(Xo, cols))
        n_t = _ceil_div(n, fill)
        steps = n_t * y_t * x_t * kcrs
        w_tr = n_t * y_t * x_t * kcrs
        tile_y = np.minimum(Yi, (np.minimum(Yo, rows) - 1) * arr.stride + R)
        tile_x = np.minimum(Xi, (np.minimum(Xo, cols) - 1) * arr.stride + S)
        tile_in = G * C * tile_y * tile_x
        resident = tile_in * np.minimum(n, fill) * bytes_per_element <= P * spec.l1_bytes_per_pe
        i_tr = n * y_t * x_t * tile_in * np.where(resident, 1, K)
        o_tr = out
        fan_w, fan_i = np.minimum(Yo, rows) * np.minimum(Xo, cols) * np.minimum(n, fill), 1
    elif spec.dataflow == "eye":
        rows, cols = ncl, cs
        y_t = _ceil_div(Yo, rows)
        steps = n * y_t * _ceil_div(R * Xo, cols) * G * K * C * S
        w_tr = n * y_t * kcrs
        i_tr = n * G * C * Yi * Xi
        o_tr = out * np.where(C > 1, 2 * C - 1, 1)
        fan_w, fan_i = np.minimum(Yo, rows), R
    else:  # pragma: no cover - ChipletSpec validates the dataflow
        raise ValueError(spec.dataflow)

    # Element-wise adds bypass the MAC mapping on every dataflow.
    add_steps = _ceil_div(out, P)
    steps = np.where(arr.is_add, add_steps, steps)
    w_tr = np.where(arr.is_add, 0, w_tr)
    i_tr = np.where(arr.is_add, 2 * out, i_tr)
    o_tr = np.where(arr.is_add, out, o_tr)
    fan_w = np.where(arr.is_add, 1, fan_w)
    fan_i = np.where(arr.is_add, 1, fan_i)

    l2 = w_tr + i_tr + o_tr
    l1 = np.where(arr.is_add, out, 2 * macs) + w_tr * fan_w + i_tr * fan_i + o_tr
    bw_cycles = np.ceil(l2 * bytes_per_element / legacy_l2_bandwidth_bytes(spec, bytes_per_element))
    latency = np.maximum(steps, bw_cycles)
    e_pj = energy.pj_per_mac * (macs * energy.mac + l1 * energy.l1 + l2 * energy.l2)
    util = macs / (P * steps.astype(np.float64))
    return LayerCosts(latency_cycles=latency.astype(np.float64), compute_cycles=steps.astype(np.float64),
                      energy_pj=e_pj.astype(np.float64), l1_accesses=l1.astype(np.float64),
                      l2_accesses=l2.astype(np.float64), utilization=np.where(arr.is_add, 1.0, util))
