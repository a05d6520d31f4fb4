"""Aggregate scores with confidence intervals: the definitions of Agarwal et al., "Deep RL at the Edge
of the Statistical Precipice" (NeurIPS 2021), as the ``rliable`` package computes them.

Scores are EDP / EDP_SCAR ratios (lower is better, 1 = SCAR's schedule) in a matrix of shape
``(n_runs, n_tasks)``: a run is one seed of one config (or one policy), a task one scenario.

* :func:`iqm`: interquartile mean of all the values, rliable's ``aggregate_iqm``
  (``scipy.stats.trim_mean(x, 0.25, axis=None)``: sort the ``n`` values, drop the
  ``floor(n / 4)`` lowest and highest, average the rest).
* :func:`geomean`: geometric mean of all the values (the leaderboard's headline).
* :func:`stratified_bootstrap_ci`: rliable's ``get_interval_estimates(..., method="percentile")``:
  each bootstrap replicate resamples the runs with replacement *within each task* (so every task
  keeps its weight), the interval is the percentile interval of the replicates. The random
  stream is ``numpy.random.RandomState(seed).choice``, drawn in the order rliable draws it, so
  for the same stream the replicates are rliable's own (``tests/test_stats.py``).

With one run (one seed, e.g. a single ``scar-gym eval``) no run is left to resample within a task:
the interval then comes from resampling the *tasks* with replacement (rliable's
``task_bootstrap=True`` on a one-row matrix) -- the spread over scenarios. With several runs the
interval is over runs within tasks (rliable's default), i.e. it says how much the aggregate would
move with other seeds on these scenarios; ``task_bootstrap=True`` resamples the tasks as well, for
the spread over both seeds and scenarios.

numpy only (no scipy, no rliable): the library core must not need the ``rl`` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.textfmt import format_table

#: |ratio - 1| at or below this is a tie with SCAR (the leaderboard's tolerance: the same schedule
#: evaluated twice differs by float rounding only).
TIE_TOLERANCE = 1e-9
#: Bootstrap replicates by default (rliable's performance profiles use 2000; intervals move by
#: about 1e-4 of a ratio between two seeds of the bootstrap at this count on 10 x 3 scores).
DEFAULT_REPS = 2000
MAX_REPS = 1_000_000


@dataclass(frozen=True)
class Interval:
    """A point estimate and its confidence interval ``[lo, hi]`` (95% unless stated)."""

    point: float
    lo: float
    hi: float

    def as_list(self) -> list[float]:
        return [self.point, self.lo, self.hi]


def _values(values) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("no values to aggregate")
    return x


def iqm(values) -> float:
    """Interquartile mean of the flattened ``values``: the mean of the sorted values after dropping
    ``floor(n / 4)`` at each end (``scipy.stats.trim_mean(values, 0.25, axis=None)``)."""
    x = np.sort(_values(values))
    cut = int(0.25 * x.size)
    return float(np.mean(x[cut:x.size - cut]))


def geomean(values) -> float:
    """Geometric mean of the flattened ``values``, which must all be finite and > 0 (a ratio of
    EDPs; a zero or NaN is an error, not dropped)."""
    x = _values(values)
    if not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise ValueError(f"geomean needs finite positive values, got {x[~(np.isfinite(x) & (x > 0))][:3].tolist()}")
    return float(np.exp(np.mean(np.log(x))))


def _matrix(scores, name: str = "scores") -> np.ndarray:
    """``scores`` as a finite float matrix ``(n_runs, n_tasks)``; a 1-D array is one run."""
    a = np.asarray(scores, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ConfigError(name, f"expected a non-empty (n_runs, n_tasks) matrix, got shape {a.shape}",
                          "give one row per run (seed) and one column per task (scenario)")
    if not np.all(np.isfinite(a)):
        raise ConfigError(name, f"{int(np.sum(~np.isfinite(a)))} value(s) are NaN or infinite",
                          "every run must have a finite score on every task")
    return a


def stratified_bootstrap_ci(scores: np.ndarray, statistic: Callable[[np.ndarray], float], reps: int = DEFAULT_REPS,
                            confidence: float = 0.95, seed: int = 0, *, task_bootstrap: bool = False) -> Interval:
    """Point estimate ``statistic(scores)`` and its stratified-bootstrap percentile interval.

    Args:
        scores: ``(n_runs, n_tasks)`` (a 1-D array is one run).
        statistic: the aggregate, called on a ``(n_runs, n_tasks)`` matrix (e.g. :func:`iqm`).
        reps: bootstrap replicates.
        confidence: coverage of the interval (0.95: the 2.5th and 97.5th percentiles).
        seed: seed of the resampling (``numpy.random.RandomState``): same seed, same interval.
        task_bootstrap: also resample the tasks (rliable's ``task_bootstrap``). Implied when
            ``n_runs == 1``, where resampling the tasks is the only stratification left.

    Each replicate: with several runs, ``idx = choice(n_runs, (n_runs, n_tasks))`` and
    ``scores[idx[i, j], j]`` (runs resampled independently within each task); with
    ``task_bootstrap`` the columns are then drawn by ``choice(n_tasks, (1, n_tasks))``.
    The interval is linear-interpolated percentiles ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2`` of the ``reps`` replicate statistics (``numpy.percentile``).
    """
    a = _matrix(scores)
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or not 1 <= reps <= MAX_REPS:
        raise ConfigError("reps", f"must be an integer 1 .. {MAX_REPS:,}, got {reps!r}", f"use e.g. {DEFAULT_REPS}")
    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise ConfigError("confidence", f"must be in (0, 1), got {confidence!r}", "use e.g. 0.95")
    stats = _replicates(a, statistic, int(reps), seed, task_bootstrap or a.shape[0] == 1)
    alpha = (1.0 - confidence) / 2  # written as arch's conf_int writes it: the same floats
    lo, hi = np.percentile(stats, [100 * alpha, 100 * (1.0 - alpha)])
    return Interval(float(statistic(a)), float(lo), float(hi))


def _replicates(a: np.ndarray, statistic: Callable[[np.ndarray], float], reps: int, seed: int,
                over_tasks: bool) -> np.ndarray:
    """The ``reps`` bootstrap values of ``statistic`` (see :func:`stratified_bootstrap_ci`)."""
    n_runs, n_tasks = a.shape
    rng = np.random.RandomState(seed)
    columns = np.arange(n_tasks)[None, :]
    if over_tasks and n_runs > 1:  # two draws per replicate, interleaved as rliable draws them
        samples = np.empty((reps, n_runs, n_tasks))
        for k in range(reps):
            runs = rng.choice(n_runs, (n_runs, n_tasks), replace=True)
            samples[k] = a[runs, rng.choice(n_tasks, (1, n_tasks), replace=True)]
    elif over_tasks:  # one run: choice(1, ...) would draw nothing from the stream, so only the tasks are drawn
        samples = a[0][rng.choice(n_tasks, (reps, 1, n_tasks), replace=True)]
    else:  # one draw per replicate: drawing them at once gives the same stream
        samples = a[rng.choice(n_runs, (reps, n_runs, n_tasks), replace=True), columns]
    flat = samples.reshape(reps, -1)
    if statistic is geomean:  # the two statistics the project uses, on all replicates at once
        if not np.all(a > 0):
            raise ValueError("geomean needs finite positive values")
        return np.exp(np.mean(np.log(flat), axis=1))
    if statistic is iqm:
        cut = int(0.25 * flat.shape[1])
        return np.mean(np.sort(flat, axis=1)[:, cut:flat.shape[1] - cut], axis=1)
    return np.array([statistic(x) for x in samples], dtype=float)


@dataclass(frozen=True)
class Summary:
    """One policy's (or config's) scores against SCAR: geometric mean and IQM of EDP / EDP_SCAR with
    their 95% intervals (:func:`stratified_bootstrap_ci`), and wins / ties / losses counted over
    every (run, task) ratio (win: below 1 by more than :data:`TIE_TOLERANCE`)."""

    n_runs: int
    n_tasks: int
    geomean: Interval
    iqm: Interval
    wins: int
    ties: int
    losses: int


def summarize(ratios: np.ndarray, reps: int = DEFAULT_REPS, seed: int = 0, *, task_bootstrap: bool = False) -> Summary:
    """:class:`Summary` of EDP / EDP_SCAR ``ratios``, shape ``(n_runs, n_tasks)`` (1-D: one run).

    Both intervals use the same bootstrap replicates (same ``seed``). With one run they are over
    the scenarios; with several, over the runs within each scenario (``task_bootstrap``: both).
    """
    a = _matrix(ratios, "ratios")
    if not np.all(a > 0):
        raise ConfigError("ratios", f"EDP ratios must be > 0, got {a[a <= 0][:3].tolist()}",
                          "divide each EDP by SCAR's EDP on the same scenario")
    ties = int(np.sum(np.abs(a - 1) <= TIE_TOLERANCE))
    wins = int(np.sum(a < 1 - TIE_TOLERANCE))
    return Summary(n_runs=a.shape[0], n_tasks=a.shape[1],
                   geomean=stratified_bootstrap_ci(a, geomean, reps, seed=seed, task_bootstrap=task_bootstrap),
                   iqm=stratified_bootstrap_ci(a, iqm, reps, seed=seed, task_bootstrap=task_bootstrap),
                   wins=wins, ties=ties, losses=a.size - wins - ties)


def format_interval(iv: Interval, digits: int = 4) -> str:
    """``0.9963 [0.9921, 1.0000]``."""
    return f"{iv.point:.{digits}f} [{iv.lo:.{digits}f}, {iv.hi:.{digits}f}]"


def format_summary_table(rows: Mapping[str, Summary], reference: str = "SCAR", label: str = "policy") -> str:
    """Plain-text table, one line per policy / config (``label`` heads that column): runs x tasks,
    geometric mean and IQM of EDP / EDP_reference with their 95% intervals, wins / ties / losses
    against the reference (in the given order)."""
    table = [[name, f"{s.n_runs}x{s.n_tasks}" if s.n_runs > 1 else str(s.n_tasks), format_interval(s.geomean),
              format_interval(s.iqm), f"{s.wins}/{s.ties}/{s.losses}"] for name, s in rows.items()]
    return format_table([label, "n", f"EDP/{reference} geomean [95% CI]", "IQM [95% CI]", "W/T/L"], table,
                        align="lrrrr")


def summary_dict(s: Summary) -> dict[str, object]:
    """JSON-able form of a :class:`Summary` (intervals as ``[point, lo, hi]``)."""
    return {"n_runs": s.n_runs, "n_tasks": s.n_tasks, "geomean": s.geomean.as_list(), "iqm": s.iqm.as_list(),
            "wins": s.wins, "ties": s.ties, "losses": s.losses}


__all__ = ["Interval", "Summary", "TIE_TOLERANCE", "format_interval", "format_summary_table", "geomean", "iqm",
           "stratified_bootstrap_ci", "summarize", "summary_dict"]

