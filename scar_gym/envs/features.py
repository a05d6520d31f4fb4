"""Observation layout of ``ScarGym/Schedule-v0`` and the feature scalings (all values in [0, 1]).

Scalings:

* ``logscale(x, lo, hi)``: ``clip((log10 x - log10 lo) / (log10 hi - log10 lo), 0, 1)``: absolute
  magnitudes that span decades (seconds, joules, bytes) with fixed, scenario-independent ranges.
* ``squash(x, ref) = x / (x + ref)``: a quantity relative to a per-scenario reference, 0.5 when
  ``x == ref``; bounded without clipping.
* relative speed / efficiency: ``min over classes / value``: 1 on the best dataflow for the layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scar_gym.hardware import DATAFLOWS, MCM
from scar_gym.workloads.layers import OP_TYPES, Layer

# -- chiplets: (C_max, CHIPLET_DIM) ----------------------------------------------------------------
CHIPLET_COLUMNS: tuple[str, ...] = (
    *(f"dataflow_{d}" for d in DATAFLOWS),  # one-hot; all 0 on a padding row
    "exists",  # 1 for a real chiplet, 0 for padding up to max_chiplets
    "row", "col",  # position / (rows-1), / (cols-1)
    "dram_hops",  # hops to the nearer side DRAM interface / max over the MCM
    "free",  # not used by any model in the current window
    "this_model",  # holds a (closed or open) segment of the model being placed
    "other_model",  # holds a segment of another model in this window
    "open_segment",  # holds the current model's open segment (the "continue" action)
    "load",  # squash(busy time of its segment this window (stage latency x batch/minibatch), window ref)
    "hops_from_open",  # routed hops from the open segment's chiplet / max hops (0 without an open segment)
    "layer_speed",  # relative speed of the current layer on this chiplet's dataflow (1 = best)
    "layer_efficiency",  # relative energy efficiency of the current layer here (1 = best)
    "memory",  # weights of its segment this window / L2 bytes (clipped to 1)
)
CHIPLET_DIM = len(CHIPLET_COLUMNS)
CHIPLET_STATIC = 7  # columns 0..6 never change within an episode

# -- current layer: (LAYER_DIM,) --------------------------------------------------------------------
LAYER_COLUMNS: tuple[str, ...] = (
    *(f"latency_{d}" for d in DATAFLOWS),  # logscale(latency at full batch, 1 ns .. 1000 s); 0 if absent
    *(f"energy_{d}" for d in DATAFLOWS),  # logscale(energy at full batch, 1 nJ .. 1000 J); 0 if absent
    *(f"speed_{d}" for d in DATAFLOWS),  # min latency over the MCM's dataflows / latency; 0 if absent
    *(f"efficiency_{d}" for d in DATAFLOWS),  # min energy / energy; 0 if absent
    *(f"op_{o}" for o in OP_TYPES),  # one-hot
    "macs",  # logscale(MACs per sample, 1 .. 1e13)
    "weight_bytes",  # logscale(bytes, 1 .. 1e10)
    "input_bytes",  # per sample
    "output_bytes",  # per sample
    # dynamic
    "first_in_window",  # first layer of its model in this window (must start a segment)
    "last_in_window",
    "expected_share",  # squash(expected latency of the layer, window ref)
)
LAYER_DIM = len(LAYER_COLUMNS)
LAYER_STATIC = LAYER_DIM - 3

# -- global progress: (GLOBAL_DIM,) -----------------------------------------------------------------
GLOBAL_COLUMNS: tuple[str, ...] = (
    "window",  # window index / windows
    "model_slot",  # index of the current model among the window's models / their count
    "models_after",  # models still to come in this window / chiplets
    "free_chiplets",  # free chiplets / chiplets
    "window_progress",  # layers of the current model placed in this window / its layers in the window
    "model_progress",  # layers of the current model placed / its layers
    "episode_progress",  # decisions made / decisions in the episode
    "segments",  # segments of the current model in this window / chiplets
    "partial_latency",  # squash(partial schedule latency, plan reference latency)
    "partial_energy",  # squash(partial schedule energy, plan reference energy)
    "window_latency",  # squash(latency of the current window so far, window ref)
    "model_latency",  # squash(current model's partial latency in this window, window ref)
    "batch",  # log2(batch) / 8, clipped
    "minibatch_ratio",  # minibatch / batch of the current model's partial pipeline
    "num_models",  # models in the scenario / 8, clipped
    "datacenter",  # 1 datacenter, 0 AR/VR
    "chiplets",  # real chiplets / max_chiplets
    "num_windows",  # windows / 16, clipped
)
GLOBAL_DIM = len(GLOBAL_COLUMNS)


def logscale(x: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    x = np.maximum(np.asarray(x, dtype=np.float64), 1e-300)
    return np.clip((np.log10(x) - np.log10(lo)) / (np.log10(hi) - np.log10(lo)), 0.0, 1.0)


def squash(x: float, ref: float) -> float:
    return x / (x + ref) if ref > 0 else (1.0 if x > 0 else 0.0)


def layer_static_features(layers: Sequence[Layer], lat: np.ndarray, en: np.ndarray, class_df: Sequence[int],
                          table) -> np.ndarray:
    """(L, LAYER_STATIC) float32 static features from the (D, L) full-batch latency/energy per class."""
    L = len(layers)
    nd = len(DATAFLOWS)
    out = np.zeros((L, LAYER_STATIC), dtype=np.float64)
    rel_l = np.maximum(lat.min(axis=0), 1e-30) / np.maximum(lat, 1e-30)
    rel_e = np.maximum(en.min(axis=0), 1e-30) / np.maximum(en, 1e-30)
    for d, df in enumerate(class_df):
        out[:, df] = logscale(lat[d], 1e-9, 1e3)
        out[:, nd + df] = logscale(en[d], 1e-9, 1e3)
        out[:, 2 * nd + df] = rel_l[d]
        out[:, 3 * nd + df] = rel_e[d]
    base = 4 * nd
    for i, layer in enumerate(layers):
        out[i, base + OP_TYPES.index(layer.op)] = 1.0
    base += len(OP_TYPES)
    out[:, base] = logscale(np.array([l.macs for l in layers], dtype=np.float64) + 1, 1, 1e13)
    out[:, base + 1] = logscale(np.asarray(table.weight_bytes, dtype=np.float64) + 1, 1, 1e10)
    out[:, base + 2] = logscale(np.asarray(table.input_bytes, dtype=np.float64) + 1, 1, 1e10)
    out[:, base + 3] = logscale(np.asarray(table.output_bytes, dtype=np.float64) + 1, 1, 1e10)
    return out.astype(np.float32)


def chiplet_static_features(mcm: MCM, c_max: int) -> np.ndarray:
    """(C_max, CHIPLET_STATIC) float32: dataflow one-hot, exists, row, col, DRAM hops."""
    out = np.zeros((c_max, CHIPLET_STATIC), dtype=np.float32)
    dh = mcm.dram_hops
    dmax = max(1, int(dh.max()))
    for c in range(mcm.num_chiplets):
        r, col = mcm.coords(c)
        out[c, DATAFLOWS.index(mcm.dataflows[c])] = 1.0
        out[c, 3] = 1.0
        out[c, 4] = r / (mcm.rows - 1) if mcm.rows > 1 else 0.0
        out[c, 5] = col / (mcm.cols - 1) if mcm.cols > 1 else 0.0
        out[c, 6] = dh[c] / dmax
    return out


def hops_features(mcm: MCM, c_max: int) -> np.ndarray:
    """(C_max, C_max) float32 routed hops / max hops (0 for padding)."""
    out = np.zeros((c_max, c_max), dtype=np.float32)
    h = mcm.hops.astype(np.float64)
    n = mcm.num_chiplets
    out[:n, :n] = h / max(1.0, float(h.max()))
    return out
