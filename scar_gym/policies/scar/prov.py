"""PROV: how many chiplets ("nodes") each model of a time window gets (spec 5.3).

Rule mode (the paper's)::

    N_i = round(E[P_i] / sum_j E[P_j] x |C|),  N_i >= 1

where ``P_i`` is the objective's expected value for model ``i``'s layers in the window, computed
from the per-layer expected costs over the MCM's dataflow mix (:func:`expected_layer_costs`):

* ``latency``: ``E[lat_i] = sum_l E[lat(l)]``;
* ``energy``: ``E[en_i] = sum_l E[en(l)]``;
* ``edp`` **[choice]**: ``E[lat_i] x E[en_i]`` (the objective applied to the model's expected totals,
  the literal reading of "the objective's expected value"). It weighs heavy models quadratically,
  so they get more of the chiplets than under a latency share.

**[choice]** Rounding is largest-remainder (Hamilton) so that the counts sum to exactly ``|C|``;
with the ``>= 1`` floor and the per-model caps (a model cannot use more chiplets than it has layers
in the window, nor more than an optional node cap) the method is applied iteratively: start from
``clamp(floor(q_i), 1, cap_i)``, then hand out the missing chiplets one by one to the model with
the largest remainder ``q_i - N_i`` that is below its cap, or take surplus ones back from the
model with the smallest remainder that has more than one. The total is ``min(|C|, sum cap_i)``.

**[choice]** More models in a window than chiplets is an error here (:class:`ConfigError`): the
SCAR policy never asks, because it first splits such a window into consecutive sub-windows of at
most ``|C|`` models (:func:`scar_gym.policies.windows.split_crowded_windows`).

Exhaustive mode enumerates every allocation: the compositions of the total into the present models
with ``1 <= N_i <= cap_i``.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.evaluator import objective_value


def expected_objective(objective: str, e_latency_s: float, e_energy_j: float) -> float:
    """``P`` of one model in one window: the objective applied to its expected totals."""
    return objective_value(objective, e_latency_s, e_energy_j)


def _check(num_models: int, num_chiplets: int, caps: Sequence[int] | None) -> list[int]:
    if num_models < 1:
        raise ConfigError("models", "a window needs at least one model", "")
    if num_models > num_chiplets:
        raise ConfigError("window", f"{num_models} models but only {num_chiplets} chiplets",
                          "split the window so that every model gets a chiplet (SCAR does this itself)")
    caps = [num_chiplets] * num_models if caps is None else [int(c) for c in caps]
    if len(caps) != num_models:
        raise ConfigError("caps", f"{len(caps)} caps for {num_models} models", "give one cap per model")
    if min(caps) < 1:
        raise ConfigError("caps", f"every cap must be >= 1, got {caps}", "")
    return caps


def provision(weights: Sequence[float], num_chiplets: int, caps: Sequence[int] | None = None) -> tuple[int, ...]:
    """Chiplets per model proportional to ``weights`` (largest remainder, >= 1, <= cap).

    Args:
        weights: ``E[P_i]`` of each model (non-negative; all zero means equal shares).
        num_chiplets: ``|C|``.
        caps: optional upper bound per model (layers in the window, node cap).

    Returns:
        ``N_i`` per model; the sum is ``min(num_chiplets, sum(caps))``.
    """
    m = len(weights)
    caps = _check(m, num_chiplets, caps)
    w = np.asarray(weights, dtype=np.float64)
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ConfigError("weights", f"must be finite and >= 0, got {list(w)}", "")
    if w.sum() <= 0:
        w = np.ones(m)
    total = min(num_chiplets, sum(caps))
    q = w / w.sum() * num_chiplets
    n = [min(max(1, int(np.floor(x))), c) for x, c in zip(q, caps)]
    while sum(n) < total:
        i = max((i for i in range(m) if n[i] < caps[i]), key=lambda i: (q[i] - n[i], -i))
        n[i] += 1
    while sum(n) > total:
        i = min((i for i in range(m) if n[i] > 1), key=lambda i: (q[i] - n[i], i))
        n[i] -= 1
    return tuple(n)


def all_provisions(num_models: int, num_chiplets: int, caps: Sequence[int] | None = None) -> Iterator[tuple[int, ...]]:
    """Every allocation (exhaustive PROV): ``1 <= N_i <= cap_i`` summing to ``min(|C|, sum caps)``.

    Yielded in lexicographic order. There are ``C(|C|-1, |M|-1)`` of them without caps.
    """
    caps = _check(num_models, num_chiplets, caps)
    total = min(num_chiplets, sum(caps))

    def rec(i: int, left: int) -> Iterator[tuple[int, ...]]:
        if i == num_models - 1:
            if 1 <= left <= caps[i]:
                yield (left,)
            return
        rest_min = num_models - 1 - i
        rest_max = sum(caps[i + 1:])
        for v in range(max(1, left - rest_max), min(caps[i], left - rest_min) + 1):
            for tail in rec(i + 1, left - v):
                yield (v, *tail)

    yield from rec(0, total)
