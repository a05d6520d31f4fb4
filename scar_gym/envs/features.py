"""Observation layouts of ``ScarGym/Schedule-v0`` and ``ScarGym/Window-v0`` and the feature scalings
(all values in [0, 1]).

Every column is named here, once; the environments write columns by name (:func:`index_of`,
:func:`vector`), so a reordering or a new column changes this module only.

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
#: The columns that never change within an episode, first in both envs' chiplet rows.
CHIPLET_STATIC_COLUMNS: tuple[str, ...] = (
    *(f"dataflow_{d}" for d in DATAFLOWS),  # one-hot; all 0 on a padding row
    "exists",  # 1 for a real chiplet, 0 for padding up to max_chiplets
    "row", "col",  # position / (rows-1), / (cols-1)
    "dram_hops",  # hops to the nearer side DRAM interface / max over the MCM
)
CHIPLET_COLUMNS: tuple[str, ...] = (
    *CHIPLET_STATIC_COLUMNS,
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
CHIPLET_STATIC = len(CHIPLET_STATIC_COLUMNS)
#: The columns an episode updates (the env keeps them as one array beside the static ones).
CHIPLET_DYNAMIC_COLUMNS: tuple[str, ...] = CHIPLET_COLUMNS[CHIPLET_STATIC:]

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
LAYER_STATIC = LAYER_COLUMNS.index("first_in_window")  # the static columns come first

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

# -- Window-v0 --------------------------------------------------------------------------------------
#: ``candidates``: (k_max, len) per listed candidate (zero rows for empty slots).
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "valid",
    "anchor",  # SCAR's own choice for this (window, model)
    "latency",  # squash(latency, window ref)
    "energy",  # squash(energy, the model's expected energy in the window)
    "value_ratio",  # best own objective among the listed candidates / this one's
    "latency_ratio",  # min latency listed / this one's
    "energy_ratio",  # min energy listed / this one's
    "segments",  # segments / chiplets
    "chiplet_share",  # chiplets used / free chiplets
    "window_increase",  # squash(max(0, latency - window latency so far), window ref)
    *(f"dataflow_{d}" for d in DATAFLOWS),  # fraction of its chiplets with each dataflow
    "minibatch_ratio",  # minibatch / batch
    "weight_load_share",  # weight load time / latency
)
#: ``chiplets``: (C_max, len): the static columns, then whether the chiplet is free in the window
#: and its load (squash(busy time of its segment this window, window ref)).
WINDOW_CHIPLET_COLUMNS: tuple[str, ...] = (*CHIPLET_STATIC_COLUMNS, "free", "load")
WINDOW_CHIPLET_DYNAMIC_COLUMNS: tuple[str, ...] = WINDOW_CHIPLET_COLUMNS[CHIPLET_STATIC:]
#: ``global``: (len,).
WINDOW_GLOBAL_COLUMNS: tuple[str, ...] = (
    "window",  # window index / windows
    "model_slot",  # index of the current model among the window's models / their count
    "models_after",  # models still to come in this window / chiplets
    "free_chiplets",  # free chiplets / chiplets
    "partial_latency",  # squash(partial schedule latency, plan reference latency)
    "partial_energy",  # squash(partial schedule energy, plan reference energy)
    "window_latency",  # squash(latency of the current window so far, window ref)
    "window_energy",  # squash(energy of the current window so far, the model's expected energy there)
    "model_expected_latency",  # squash(the current model's expected latency in the window, window ref)
    "model_expected_energy",  # squash(its expected energy there, plan reference energy)
    "batch",  # log2(batch) / 8, clipped
    "window_layers",  # the model's layers in the window / 64, clipped
    "model_share",  # the model's layers in the window / its layers
    "future_windows",  # squash(expected latency of the later windows, plan reference latency)
    "episode_progress",  # decisions made / decisions in the episode
    "num_models", "datacenter", "chiplets", "num_windows",  # as Schedule-v0's
    *(f"op_{o}" for o in OP_TYPES),  # op mix of the model's layers in the window
)


def index_of(columns: Sequence[str]) -> dict[str, int]:
    """Column name -> index, for writing a column by name."""
    return {c: i for i, c in enumerate(columns)}


def vector(columns: Sequence[str], values: dict[str, float]) -> np.ndarray:
    """A float32 row holding ``values`` in ``columns`` order; every column must be given, once."""
    if len(values) != len(columns):
        extra = sorted(set(values) - set(columns)) or sorted(set(columns) - set(values))
        raise KeyError(f"columns and values differ: {extra}")  # a bug in an env, not user input
    return np.array([values[c] for c in columns], dtype=np.float32)


def matrix(columns: Sequence[str], rows: Sequence[dict[str, float]]) -> np.ndarray:
    """:func:`vector` of each of ``rows``, stacked: ``(len(rows), len(columns))`` float32."""
    for values in rows:
        if len(values) != len(columns):
            vector(columns, values)  # raises, naming the columns that differ
    return np.array([[values[c] for c in columns] for values in rows], dtype=np.float32).reshape(len(rows), len(columns))


_LAYER = index_of(LAYER_COLUMNS)
_CHIPLET = index_of(CHIPLET_COLUMNS)


def scenario_features(num_models: int, domain: str, num_chiplets: int, c_max: int,
                      num_windows: int) -> dict[str, float]:
    """The global features both envs share about the episode's scenario, MCM and windows."""
    return {"num_models": min(1.0, num_models / 8), "datacenter": float(domain == "datacenter"),
            "chiplets": num_chiplets / c_max, "num_windows": min(1.0, num_windows / 16)}


def logscale(x: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    x = np.maximum(np.asarray(x, dtype=np.float64), 1e-300)
    return np.clip((np.log10(x) - np.log10(lo)) / (np.log10(hi) - np.log10(lo)), 0.0, 1.0)


def squash(x: float, ref: float) -> float:
    return x / (x + ref) if ref > 0 else (1.0 if x > 0 else 0.0)


def layer_static_features(layers: Sequence[Layer], lat: np.ndarray, en: np.ndarray, class_df: Sequence[int],
                          table) -> np.ndarray:
    """(L, LAYER_STATIC) float32 static features from the (D, L) full-batch latency/energy per class."""
    col = _LAYER
    out = np.zeros((len(layers), LAYER_STATIC), dtype=np.float64)
    rel_l = np.maximum(lat.min(axis=0), 1e-30) / np.maximum(lat, 1e-30)
    rel_e = np.maximum(en.min(axis=0), 1e-30) / np.maximum(en, 1e-30)
    for d, df in enumerate(class_df):
        name = DATAFLOWS[df]
        out[:, col[f"latency_{name}"]] = logscale(lat[d], 1e-9, 1e3)
        out[:, col[f"energy_{name}"]] = logscale(en[d], 1e-9, 1e3)
        out[:, col[f"speed_{name}"]] = rel_l[d]
        out[:, col[f"efficiency_{name}"]] = rel_e[d]
    for i, layer in enumerate(layers):
        out[i, col[f"op_{layer.op}"]] = 1.0
    out[:, col["macs"]] = logscale(np.array([l.macs for l in layers], dtype=np.float64) + 1, 1, 1e13)
    out[:, col["weight_bytes"]] = logscale(np.asarray(table.weight_bytes, dtype=np.float64) + 1, 1, 1e10)
    out[:, col["input_bytes"]] = logscale(np.asarray(table.input_bytes, dtype=np.float64) + 1, 1, 1e10)
    out[:, col["output_bytes"]] = logscale(np.asarray(table.output_bytes, dtype=np.float64) + 1, 1, 1e10)
    return out.astype(np.float32)


def chiplet_static_features(mcm: MCM, c_max: int) -> np.ndarray:
    """(C_max, CHIPLET_STATIC) float32: dataflow one-hot, exists, row, col, DRAM hops."""
    col = _CHIPLET
    out = np.zeros((c_max, CHIPLET_STATIC), dtype=np.float32)
    dh = mcm.dram_hops
    dmax = max(1, int(dh.max()))
    for c in range(mcm.num_chiplets):
        r, cl = mcm.coords(c)
        out[c, col[f"dataflow_{mcm.dataflows[c]}"]] = 1.0
        out[c, col["exists"]] = 1.0
        out[c, col["row"]] = r / (mcm.rows - 1) if mcm.rows > 1 else 0.0
        out[c, col["col"]] = cl / (mcm.cols - 1) if mcm.cols > 1 else 0.0
        out[c, col["dram_hops"]] = dh[c] / dmax
    return out


def hops_features(mcm: MCM, c_max: int) -> np.ndarray:
    """(C_max, C_max) float32 routed hops / max hops (0 for padding)."""
    out = np.zeros((c_max, c_max), dtype=np.float32)
    h = mcm.hops.astype(np.float64)
    n = mcm.num_chiplets
    out[:n, :n] = h / max(1.0, float(h.max()))
    return out


def adjacency_features(mcm: MCM, c_max: int) -> np.ndarray:
    """(C_max, C_max) float32: 1 where two chiplets share a NoP link (mesh or triangular), 0 elsewhere
    and for padding."""
    out = np.zeros((c_max, c_max), dtype=np.float32)
    for c in range(mcm.num_chiplets):
        out[c, list(mcm.neighbors(c))] = 1.0
    return out
