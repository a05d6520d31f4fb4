"""Map a function over items on local processes or a Ray cluster, results in item order.

:func:`parallel_map` is what ``scar-gym eval --jobs N`` and ``scar-gym bank build --jobs N`` share:

* ``jobs=1`` and no address: a plain loop in this process (the serial reference);
* ``jobs>1``: a :class:`concurrent.futures.ProcessPoolExecutor` of ``jobs`` *spawned* workers (no
  fork: the same on Linux, macOS and Windows, and safe with torch threads in the parent);
* ``address`` (or ``RAY_ADDRESS`` in the environment): one Ray task per item on that cluster
  (``ray.init(address=...)``; every node needs scar-gym installed as on the driver).

``fn`` must be a module-level function and the items picklable (they travel to other processes).
An item whose call raises does not stop the others: its :class:`Outcome` carries an
:class:`ItemError` (the exception's type, message and the worker's traceback) instead of a value,
and the caller decides what a failure means. Ray is imported only when an address is used, so the
library imports without it.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from typing import Callable, Generic, Sequence, TypeVar

from scar_gym.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")

#: Largest --jobs accepted (a typo like 1000 would fork a thousand interpreters).
MAX_JOBS = 1024


@dataclass(frozen=True)
class ItemError:
    """Why one item failed: ``kind`` the exception type, ``message`` its text, ``traceback`` the worker's."""

    index: int
    kind: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """The result of one item: ``value`` or ``error`` (exactly one is set)."""

    index: int
    value: R | None = None
    error: ItemError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def ray_address(address: str | None) -> str | None:
    """The Ray cluster to use: ``address``, else ``RAY_ADDRESS`` from the environment, else ``None``."""
    return address or os.environ.get("RAY_ADDRESS") or None


def check_jobs(jobs: int, flag: str = "--jobs") -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        raise ConfigError(flag, f"must be 1 .. {MAX_JOBS}, got {jobs!r}", f"use e.g. {flag} {os.cpu_count() or 1}")
    return jobs


def _call(fn: Callable[[T], R], index: int, item: T) -> Outcome[R]:
    """Run one item where it is sent, turning an exception into an :class:`ItemError` (so the worker
    stays alive and the traceback is the worker's, not the pool's)."""
    try:
        return Outcome(index, value=fn(item))
    except Exception as e:  # noqa: BLE001 - reported per item by design
        return Outcome(index, error=ItemError(index, type(e).__name__, str(e), traceback.format_exc()))


def parallel_map(fn: Callable[[T], R], items: Sequence[T], jobs: int = 1, address: str | None = None,
                 on_result: Callable[[Outcome[R]], None] | None = None) -> list[Outcome[R]]:
    """``[fn(item) for item in items]`` as :class:`Outcome` s in item order, run serially, on ``jobs``
    spawned processes, or on the Ray cluster at ``address`` (see the module docstring).

    ``on_result(outcome)`` is called in this process as each item finishes (completion order), e.g.
    to advance a progress bar.
    """
    items = list(items)
    check_jobs(jobs)
    out: list[Outcome[R] | None] = [None] * len(items)

    def done(o: Outcome[R]) -> None:
        out[o.index] = o
        if on_result is not None:
            on_result(o)

    if address is not None:
        _ray_map(fn, items, address, done)
    elif jobs == 1 or len(items) <= 1:
        for i, item in enumerate(items):
            done(_call(fn, i, item))
    else:
        _process_map(fn, items, jobs, done)
    return [o for o in out if o is not None]


def _process_map(fn, items, jobs, done) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=ctx) as pool:
        futures = {pool.submit(_call, fn, i, item): i for i, item in enumerate(items)}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                done(fut.result())
            except Exception as e:  # noqa: BLE001 - the worker died (e.g. killed): the item failed
                done(Outcome(i, error=ItemError(i, type(e).__name__, str(e) or "worker process died")))


def _ray_map(fn, items, address, done) -> None:
    try:
        import ray
    except ImportError:
        raise ConfigError("--address", "needs Ray, which is not installed",
                          "pip install 'scar-gym[sweep]' (or drop --address to use local processes)") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, log_to_driver=False, include_dashboard=False)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(_call)
        pending = {remote.remote(fn, i, item): i for i, item in enumerate(items)}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    done(ray.get(ref))
                except Exception as e:  # noqa: BLE001 - the task or its node died
                    done(Outcome(i, error=ItemError(i, type(e).__name__, str(e)[:500])))
    finally:
        if started:
            ray.shutdown()


def raise_failures(outcomes: Sequence[Outcome], label: Callable[[int], str], what: str = "items") -> None:
    """Raise one :class:`~scar_gym.errors.ScarGymError` naming every failed item (``label(index)``)
    and its error; nothing when all succeeded."""
    from scar_gym.errors import ScarGymError

    bad = [o.error for o in outcomes if o.error is not None]
    if bad:
        lines = "; ".join(f"{label(e.index)}: {e}"[:300] for e in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise ScarGymError(f"{len(bad)} of {len(outcomes)} {what} failed: {lines}{more}")


__all__ = ["ItemError", "Outcome", "check_jobs", "parallel_map", "raise_failures", "ray_address"]
