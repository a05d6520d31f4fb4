"""Interval estimates for EDP ratios (the definitions of Agarwal et al., NeurIPS 2021, as rliable computes them).

Stand-in of the API the statistics work (issue 14, item 3) provides; that module replaces this one.
Scores are ``(n_runs, n_tasks)`` arrays (runs = seeds of one config, tasks = scenarios).

* :func:`iqm`: the interquartile mean, the 25 %-trimmed mean of the flattened scores (rliable's IQM).
* :func:`stratified_bootstrap_ci`: resample runs with replacement independently within each task
  (column), evaluate ``statistic`` on each resampled matrix, percentile interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from scar_gym.textfmt import format_table


@dataclass(frozen=True)
class Interval:
    point: float
    lo: float
    hi: float


def iqm(values) -> float:
    """25 %-trimmed mean of the flattened values (scipy.stats.trim_mean(x, 0.25), as rliable)."""
    x = np.sort(np.asarray(values, dtype=float).ravel())
    n = len(x)
    cut = int(0.25 * n)
    return float(np.mean(x[cut:n - cut]))


def geomean(values) -> float:
    x = np.asarray(values, dtype=float).ravel()
    return float(np.exp(np.mean(np.log(x))))


def stratified_bootstrap_ci(scores, statistic: Callable[[np.ndarray], float], reps: int = 2000,
                            confidence: float = 0.95, seed: int = 0) -> Interval:
    s = np.asarray(scores, dtype=float)
    if s.ndim != 2:
        raise ValueError(f"scores must be (n_runs, n_tasks), got shape {s.shape}")
    n_runs, n_tasks = s.shape
    rng = np.random.default_rng(seed)
    cols = np.arange(n_tasks)
    stats = np.empty(reps)
    for i in range(reps):
        idx = rng.integers(0, n_runs, size=(n_runs, n_tasks))
        stats[i] = statistic(s[idx, cols])
    alpha = (1 - confidence) / 2
    lo, hi = np.percentile(stats, [100 * alpha, 100 * (1 - alpha)])
    return Interval(float(statistic(s)), float(lo), float(hi))


@dataclass(frozen=True)
class Summary:
    n_runs: int
    n_tasks: int
    geomean: Interval
    iqm: Interval
    wins: int
    ties: int
    losses: int


def summarize(ratios, reps: int = 2000, seed: int = 0) -> Summary:
    """Per config: ratios (n_runs, n_tasks) of EDP / EDP_SCAR; a win is a ratio < 1 - 1e-9."""
    r = np.asarray(ratios, dtype=float)
    wins = int(np.sum(r < 1 - 1e-9))
    ties = int(np.sum(np.abs(r - 1) <= 1e-9))
    return Summary(r.shape[0], r.shape[1], stratified_bootstrap_ci(r, geomean, reps, seed=seed),
                   stratified_bootstrap_ci(r, iqm, reps, seed=seed), wins, ties, r.size - wins - ties)


def format_summary_table(rows: Mapping[str, Summary]) -> str:
    def ci(iv: Interval) -> str:
        return f"{iv.point:.4f} [{iv.lo:.4f}, {iv.hi:.4f}]"

    table = [[name, s.n_runs, s.n_tasks, ci(s.geomean), ci(s.iqm), f"{s.wins}/{s.ties}/{s.losses}"]
             for name, s in rows.items()]
    return format_table(["config", "runs", "tasks", "geomean EDP/SCAR [95% CI]", "IQM [95% CI]", "W/T/L"], table,
                        align="lrrrrr")


__all__ = ["Interval", "Summary", "format_summary_table", "geomean", "iqm", "stratified_bootstrap_ci",
           "summarize"]
