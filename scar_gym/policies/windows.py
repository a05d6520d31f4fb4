"""Expected layer latency over an MCM's dataflow mix, and MCM-Reconfig time windows (spec 5.1-5.2).

Shared by SCAR, the baselines and the environments, so that all of them cut a scenario into the
same windows for the same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator

#: One window: model index -> layer range ``(start, stop)`` of that model in the window.
WindowRanges = dict[int, tuple[int, int]]


def expected_layer_costs(evaluator: Evaluator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """E[latency] and E[energy] of every layer at its model's full batch, over the dataflow mix.

    ``E[x(l)] = sum_d (n_d / |C|) x(l on class d)`` where ``n_d`` chiplets have class ``d``.

    Returns:
        (latency_s, energy_j): one (L,) array per model.
    """
    mcm = evaluator.mcm
    weights = np.bincount(mcm.class_of, minlength=len(mcm.classes)) / mcm.num_chiplets
    lat, en = [], []
    for table, b in zip(evaluator.tables, evaluator.batches):
        bi = table.batch_index(b)
        lat.append(weights @ table.latency_s[:, bi, :])
        en.append(weights @ table.energy_j[:, bi, :])
    return lat, en


#: Window boundaries at most (every policy's windows come from here; the paper uses 4).
MAX_SPLITS = 64


def periodic_boundaries(horizon_s: float, n_splits: int) -> np.ndarray:
    """``n_splits`` boundaries splitting ``[0, horizon_s]`` into ``n_splits + 1`` equal windows."""
    if not isinstance(n_splits, (int, np.integer)) or isinstance(n_splits, bool) or not 0 <= n_splits <= MAX_SPLITS:
        raise ConfigError("n_splits", f"must be an integer 0 .. {MAX_SPLITS}, got {n_splits!r}", "use e.g. 4 (5 windows)")
    return horizon_s * np.arange(1, n_splits + 1) / (n_splits + 1)


@dataclass(frozen=True)
class TimeWindows:
    """The result of MCM-Reconfig: per window, each present model's layer range."""

    windows: tuple[WindowRanges, ...]
    boundaries_s: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.windows)


def first_fit_windows(expected_latency_s: Sequence[np.ndarray], boundaries_s: Sequence[float]) -> TimeWindows:
    """Pack each model's layers, in order, into the windows cut at ``boundaries_s`` (first fit).

    Each model keeps its own clock starting at 0. A layer that would straddle the next boundary
    moves to the next window and the clock jumps to that boundary -- unless the model has placed
    nothing yet in the current window, in which case the layer stays (a layer longer than a window
    would otherwise never be placed). The last window is open-ended. Windows in which no model
    has a layer are dropped.
    """
    bounds = [float(b) for b in boundaries_s]
    if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:])) or any(b <= 0 for b in bounds):
        raise ConfigError("boundaries_s", f"must be positive and strictly increasing, got {bounds}", "sort them")
    n_win = len(bounds) + 1
    per_window: list[WindowRanges] = [dict() for _ in range(n_win)]
    for m, lat in enumerate(expected_latency_s):
        t, w, start = 0.0, 0, 0
        for pos, dt in enumerate(np.asarray(lat, dtype=np.float64)):
            # Leave windows the clock has already passed (an over-long layer can overrun several),
            # and the current one when this layer would straddle its end and it already holds work.
            while w < n_win - 1 and (t >= bounds[w] or (t + dt > bounds[w] and pos > start)):
                if pos > start:
                    per_window[w][m] = (start, pos)
                t, w, start = max(t, bounds[w]), w + 1, pos
            t += dt
        per_window[w][m] = (start, len(lat))
    kept = tuple(dict(sorted(win.items())) for win in per_window if win)
    return TimeWindows(kept, tuple(bounds))


def split_crowded_windows(windows: Sequence, num_chiplets: int) -> list:
    """Split every window holding more models than chiplets into consecutive sub-windows of at most
    ``num_chiplets`` models, in model-index order **[choice]**: a window needs one chiplet per model
    (no sharing inside a window), so such a window has no valid schedule, and running its models in
    groups back to back is the smallest change. A window is a mapping ``model -> range`` (the result
    keeps mappings) or a sequence of per-model entries sorted by model (the result keeps its type).
    """
    out = []
    for w in windows:
        items = sorted(w.items()) if isinstance(w, Mapping) else list(w)
        for i in range(0, len(items), num_chiplets):
            chunk = items[i:i + num_chiplets]
            out.append(dict(chunk) if isinstance(w, Mapping) else type(w)(chunk))
    return out


def mcm_reconfig(evaluator: Evaluator, n_splits: int = 4, boundaries_s: Sequence[float] | None = None) -> TimeWindows:
    """Time windows for the evaluator's scenario: periodic boundaries over the worst model's expected latency."""
    lat, _ = expected_layer_costs(evaluator)
    if boundaries_s is None:
        horizon = max(float(np.sum(x)) for x in lat)
        boundaries_s = periodic_boundaries(horizon, n_splits)
    return first_fit_windows(lat, boundaries_s)
