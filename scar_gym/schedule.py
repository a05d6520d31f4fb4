"""The schedule: time windows -> per model: contiguous segments of layers -> chiplet.

Positions refer to ``Model.layers`` (the model's fixed topological order). A segment ``[start,
stop)`` of model ``m`` runs on one chiplet; a model's segments in a window are consecutive ranges
and form an inter-chiplet pipeline in that order. The structural rules (checked by
:func:`validate`):

1. every layer of every model is scheduled exactly once, windows taking each model's layers in
   order (so the topological order is kept);
2. inside a window a chiplet serves at most one model, and a model uses a chiplet at most once;
3. segments are non-empty and contiguous;
4. optionally (``require_paths=True``) consecutive segments sit on neighbouring chiplets, as
   SCAR's DFS paths do. Off by default: other schedulers may pay extra hops instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from scar_gym.errors import ConfigError, ScheduleError


class Segment(NamedTuple):
    """Layers ``[start, stop)`` of a model, on ``chiplet``.

    A named tuple rather than a frozen dataclass: SCAR builds and hashes a million of them on an
    8x8 MCM, and a tuple is made and hashed in C (about a tenth of SCAR's time there)."""

    start: int
    stop: int
    chiplet: int

    @property
    def num_layers(self) -> int:
        return self.stop - self.start


#: ``Segment`` from a ``(start, stop, chiplet)`` tuple without the named tuple's Python ``__new__``.
_new_segment = partial(tuple.__new__, Segment)


@dataclass(frozen=True)
class Assignment:
    """One model's pipeline in one window: its segments in order."""

    model: int
    segments: tuple[Segment, ...]

    @property
    def start(self) -> int:
        return self.segments[0].start

    @property
    def stop(self) -> int:
        return self.segments[-1].stop

    @property
    def chiplets(self) -> tuple[int, ...]:
        return tuple(s.chiplet for s in self.segments)

    @staticmethod
    def from_cuts(model: int, start: int, stop: int, cuts: Sequence[int], chiplets: Sequence[int]) -> "Assignment":
        """Segments of ``[start, stop)`` split before each position in ``cuts``, on ``chiplets`` in order."""
        bounds = [start, *cuts, stop]
        if len(chiplets) != len(bounds) - 1:
            raise ScheduleError(f"model {model}: {len(bounds) - 1} segments but {len(chiplets)} chiplets")
        return Assignment(model, tuple(map(_new_segment, zip(bounds[:-1], bounds[1:], chiplets))))


@dataclass(frozen=True)
class Window:
    """Models running concurrently between two barriers."""

    assignments: tuple[Assignment, ...]

    @property
    def chiplets(self) -> tuple[int, ...]:
        return tuple(c for a in self.assignments for c in a.chiplets)

    def assignment_of(self, model: int) -> Assignment | None:
        for a in self.assignments:
            if a.model == model:
                return a
        return None


@dataclass(frozen=True)
class Schedule:
    """Windows run back to back. ``meta`` carries free-form provenance (policy, seed, runtime)."""

    windows: tuple[Window, ...]
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def num_windows(self) -> int:
        return len(self.windows)

    # -- JSON ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "windows": [
                [{"model": a.model, "segments": [[s.start, s.stop, s.chiplet] for s in a.segments]}
                 for a in w.assignments]
                for w in self.windows
            ],
            "meta": self.meta,
        }

    @staticmethod
    def from_dict(data: Any, file: str | None = None) -> "Schedule":
        """A schedule from its :meth:`to_dict` form, checked strictly: every number an integer (not a
        float, string or bool), every segment ``[start, stop, chiplet]``, no unknown keys."""
        if not isinstance(data, dict):
            raise ConfigError("(top level)", f"expected a mapping, got {_kind(data)}",
                              "a schedule file is a JSON object with a 'windows' list", file)
        if "windows" not in data:
            raise ConfigError("windows", "missing", "a schedule file has a 'windows' list", file)
        windows_d = data["windows"]
        if not isinstance(windows_d, list) or not windows_d:
            raise ConfigError("windows", f"expected a non-empty list of windows, got {_kind(windows_d)}",
                              _WINDOWS_FIX, file)
        windows = []
        for wi, w in enumerate(windows_d):
            where = f"windows[{wi}]"
            if not isinstance(w, list) or not w:
                raise ConfigError(where, f"expected a non-empty list of assignments, got {_kind(w)}", _WINDOWS_FIX, file)
            assigns = []
            for ai, a in enumerate(w):
                at = f"{where}[{ai}]"
                if not isinstance(a, dict) or set(a) != {"model", "segments"}:
                    got = f"keys {sorted(map(str, a))}" if isinstance(a, dict) else _kind(a)
                    raise ConfigError(at, f"expected {{model, segments}}, got {got}", _WINDOWS_FIX, file)
                model = _index(a["model"], f"{at}.model", file)
                segs_d = a["segments"]
                if not isinstance(segs_d, list) or not segs_d:
                    raise ConfigError(f"{at}.segments", f"expected a non-empty list, got {_kind(segs_d)}",
                                      "give every model at least one segment", file)
                segs = []
                for si, seg in enumerate(segs_d):
                    st = f"{at}.segments[{si}]"
                    if not isinstance(seg, list) or len(seg) != 3:
                        raise ConfigError(st, f"expected [start, stop, chiplet], got {seg!r}"[:200], _WINDOWS_FIX, file)
                    segs.append(Segment(*(_index(v, st, file) for v in seg)))
                assigns.append(Assignment(model, tuple(segs)))
            windows.append(Window(tuple(assigns)))
        meta = data.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise ConfigError("meta", f"expected a mapping, got {_kind(meta)}", "remove meta or write it as an object",
                              file)
        return Schedule(tuple(windows), dict(meta or {}))


_WINDOWS_FIX = "write each window as a list of {model: i, segments: [[start, stop, chiplet], ...]}"
#: Integers in a schedule file are at most this (a layer position, model or chiplet index).
_MAX_INDEX = 2**31 - 1


def _kind(x: Any) -> str:
    return f"{type(x).__name__} {x!r}"[:120]


def _index(value: Any, field: str, file: str | None) -> int:
    """An integer 0 .. 2**31 - 1 from JSON: a float (70.9, even 70.0), string or bool is refused."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_INDEX:
        raise ConfigError(field, f"expected an integer index >= 0, got {_kind(value)}",
                          "write whole numbers as scar-gym saved them", file)
    return value


def validate(schedule: Schedule, num_layers: Sequence[int], num_chiplets: int,
             adjacency: Any = None, require_paths: bool = False, allow_partial: bool = False) -> None:
    """Raise :class:`ScheduleError` naming the first broken rule (see the module docstring).

    Args:
        num_layers: layers of each model of the scenario, by model index.
        num_chiplets: chiplets of the MCM.
        adjacency: the MCM's chiplet graph (``MCM.graph``), needed with ``require_paths``.
        allow_partial: accept a schedule that has placed only a prefix of each model's layers
            (what an environment has built so far).
    """
    next_pos = [0] * len(num_layers)
    for wi, window in enumerate(schedule.windows):
        where = f"window {wi}"
        seen_models: set[int] = set()
        owner: dict[int, int] = {}
        if not window.assignments:
            raise ScheduleError(f"{where}: empty window")
        for a in window.assignments:
            m = a.model
            if not 0 <= m < len(num_layers):
                raise ScheduleError(f"{where}: model index {m} out of range 0..{len(num_layers) - 1}")
            if m in seen_models:
                raise ScheduleError(f"{where}: model {m} has two assignments")
            seen_models.add(m)
            if not a.segments:
                raise ScheduleError(f"{where}, model {m}: no segments")
            if a.start != next_pos[m]:
                raise ScheduleError(f"{where}, model {m}: starts at layer {a.start} but layer {next_pos[m]} is next "
                                    "(every layer exactly once, in topological order)")
            prev = None
            for s in a.segments:
                if s.stop <= s.start:
                    raise ScheduleError(f"{where}, model {m}: empty segment [{s.start}, {s.stop})")
                if prev is not None and s.start != prev.stop:
                    raise ScheduleError(f"{where}, model {m}: segment [{s.start}, {s.stop}) does not continue "
                                        f"[{prev.start}, {prev.stop})")
                if not 0 <= s.chiplet < num_chiplets:
                    raise ScheduleError(f"{where}, model {m}: chiplet {s.chiplet} out of range 0..{num_chiplets - 1}")
                if s.chiplet in owner:
                    other = owner[s.chiplet]
                    what = "twice by the same model" if other == m else f"by models {other} and {m}"
                    raise ScheduleError(f"{where}: chiplet {s.chiplet} used {what}")
                owner[s.chiplet] = m
                if require_paths and prev is not None and not adjacency.has_edge(prev.chiplet, s.chiplet):
                    raise ScheduleError(f"{where}, model {m}: chiplets {prev.chiplet} and {s.chiplet} of consecutive "
                                        "segments are not neighbours")
                prev = s
            if a.stop > num_layers[m]:
                raise ScheduleError(f"{where}, model {m}: segment ends at {a.stop} beyond its {num_layers[m]} layers")
            next_pos[m] = a.stop
    if not allow_partial:
        missing = [f"model {m}: layers {p}..{n - 1}" for m, (p, n) in enumerate(zip(next_pos, num_layers)) if p != n]
        if missing:
            raise ScheduleError("unscheduled layers: " + "; ".join(missing))


#: The format a schedule file is written in, and those it can be read from (``/1`` files predate the
#: ``context`` record: they are checked against their stored result only).
SCHEDULE_FORMAT = "scar-gym-schedule/2"
READ_FORMATS = ("scar-gym-schedule/1", SCHEDULE_FORMAT)
#: Top-level keys of a schedule file (``latency_s`` .. ``scheduler_s``: the summary ``scar-gym
#: schedule --json`` adds).
FILE_KEYS = ("format", "scenario", "mcm", "windows", "meta", "cost_model", "context", "result",
             "latency_s", "energy_j", "edp_js", "scheduler_s")


def save_schedule_json(path: str | Path, schedule: Schedule, scenario: dict, mcm: dict,
                       result: dict | None = None, cost_model: dict | None = None, context: dict | None = None,
                       summary: dict | None = None) -> None:
    """Write a self-contained schedule file: the scenario and MCM definitions travel with it.

    Args:
        cost_model: the cost preset the result was computed under (``CostModel.describe()``);
            ``scar-gym evaluate`` scores the file under it again.
        context: what the schedule was made for (:meth:`scar_gym.evaluator.Evaluator.context`:
            scenario, MCM, batches, cost model, each model's layer digest); ``scar-gym evaluate``
            refuses the file when its scenario, MCM or cost model no longer match it. Default: the
            given scenario, MCM and cost model without the layer digests.
        summary: extra top-level numbers (``latency_s``, ``edp_js``, ...; keys of :data:`FILE_KEYS`).
    """
    doc = {"format": SCHEDULE_FORMAT, "scenario": scenario, "mcm": mcm, **schedule.to_dict()}
    if cost_model is not None:
        doc["cost_model"] = cost_model
    doc["context"] = context if context is not None else {"scenario": scenario, "mcm": mcm, "cost_model": cost_model}
    if result is not None:
        doc["result"] = result
    for k, v in (summary or {}).items():
        if k not in FILE_KEYS or k in doc:
            raise ConfigError("summary", f"{k!r} is not a summary field of a schedule file", "use latency_s, "
                              "energy_j, edp_js, scheduler_s")
        doc[k] = v
    Path(path).write_text(json.dumps(doc, indent=1))


@dataclass(frozen=True)
class ScheduleFile:
    """A schedule file, read and checked (:func:`read_schedule_file`)."""

    path: str
    format: str
    schedule: Schedule
    scenario: dict
    mcm: dict
    cost_model: dict | None
    context: dict | None
    result: dict | None


def read_schedule_file(path: str | Path) -> ScheduleFile:
    """Read a file written by :func:`save_schedule_json`, checking every part's type (not yet the
    scenario, MCM and cost model themselves: building them does)."""
    from scar_gym.fileio import read_json

    file = str(path)
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise ConfigError("(top level)", f"expected a JSON object, got {_kind(doc)}",
                          "give a schedule file written by scar-gym schedule --json", file)
    unknown = sorted(set(doc) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(str(unknown[0]), "unknown field of a schedule file", f"use only {', '.join(FILE_KEYS)}",
                          file)
    fmt = doc.get("format")
    if fmt not in READ_FORMATS:
        raise ConfigError("format", f"{fmt!r} is not a scar-gym schedule format" if fmt is not None else "missing",
                          f"give a file written by scar-gym schedule --json (format {SCHEDULE_FORMAT})", file)
    for key in ("scenario", "mcm"):
        if key not in doc:
            raise ConfigError(key, "missing", "schedule files carry the scenario and mcm they were made for", file)
        if not isinstance(doc[key], dict):
            raise ConfigError(key, f"expected a mapping, got {_kind(doc[key])}",
                              "schedule files carry the scenario and mcm they were made for", file)
    for key in ("cost_model", "context", "result"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise ConfigError(key, f"expected a mapping, got {_kind(doc[key])}",
                              "remove the field or write the record scar-gym saved", file)
    if fmt == SCHEDULE_FORMAT and doc.get("context") is None:
        raise ConfigError("context", "missing", f"a {SCHEDULE_FORMAT} file records what it was made for", file)
    return ScheduleFile(file, fmt, Schedule.from_dict(doc, file), doc["scenario"], doc["mcm"], doc.get("cost_model"),
                        doc.get("context"), doc.get("result"))


def load_schedule_cost_record(path: str | Path) -> dict | None:
    """The ``cost_model`` record of a schedule file (``None`` for files written before it existed)."""
    return read_schedule_file(path).cost_model


def load_schedule_json(path: str | Path) -> tuple[Schedule, dict, dict]:
    """Read a file written by :func:`save_schedule_json`; returns (schedule, scenario dict, mcm dict)."""
    f = read_schedule_file(path)
    return f.schedule, f.scenario, f.mcm
