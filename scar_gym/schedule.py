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
from pathlib import Path
from typing import Any, Sequence

from scar_gym.errors import ConfigError, ScheduleError


@dataclass(frozen=True)
class Segment:
    """Layers ``[start, stop)`` of a model, on ``chiplet``."""

    start: int
    stop: int
    chiplet: int

    @property
    def num_layers(self) -> int:
        return self.stop - self.start


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
        return Assignment(model, tuple(Segment(a, b, c) for a, b, c in zip(bounds[:-1], bounds[1:], chiplets)))


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
        if not isinstance(data, dict) or "windows" not in data:
            raise ConfigError("windows", "missing", "a schedule file has a 'windows' list", file)
        windows = []
        try:
            for wi, w in enumerate(data["windows"]):
                assigns = []
                for a in w:
                    segs = tuple(Segment(int(s[0]), int(s[1]), int(s[2])) for s in a["segments"])
                    if not segs:
                        raise ConfigError(f"windows[{wi}].segments", "empty", "give every model at least one segment", file)
                    assigns.append(Assignment(int(a["model"]), segs))
                windows.append(Window(tuple(assigns)))
        except (KeyError, TypeError, IndexError, ValueError) as e:
            if isinstance(e, ConfigError):
                raise
            raise ConfigError("windows", f"malformed entry ({e!r})",
                              "write each window as a list of {model: i, segments: [[start, stop, chiplet], ...]}",
                              file) from None
        return Schedule(tuple(windows), dict(data.get("meta") or {}))


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


def save_schedule_json(path: str | Path, schedule: Schedule, scenario: dict, mcm: dict,
                       result: dict | None = None, cost_model: dict | None = None) -> None:
    """Write a self-contained schedule file: the scenario and MCM definitions travel with it.

    ``cost_model`` is the cost preset the result was computed under (``CostModel.describe()``);
    ``scar-gym evaluate`` scores the file under it again.
    """
    doc = {"format": "scar-gym-schedule/1", "scenario": scenario, "mcm": mcm, **schedule.to_dict()}
    if cost_model is not None:
        doc["cost_model"] = cost_model
    if result is not None:
        doc["result"] = result
    Path(path).write_text(json.dumps(doc, indent=1))


def load_schedule_cost_record(path: str | Path) -> dict | None:
    """The ``cost_model`` record of a schedule file (``None`` for files written before it existed)."""
    doc = json.loads(Path(path).read_text())
    rec = doc.get("cost_model") if isinstance(doc, dict) else None
    if rec is not None and not isinstance(rec, dict):
        raise ConfigError("cost_model", f"expected a mapping, got {type(rec).__name__}",
                          "remove the field or write the record scar-gym saved", str(path))
    return rec


def load_schedule_json(path: str | Path) -> tuple[Schedule, dict, dict]:
    """Read a file written by :func:`save_schedule_json`; returns (schedule, scenario dict, mcm dict)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("path", f"no such file {str(path)!r}", "check the path") from None
    except json.JSONDecodeError as e:
        raise ConfigError("(json)", f"malformed JSON: {e}", "fix the file", str(path)) from None
    for key in ("scenario", "mcm"):
        if key not in doc:
            raise ConfigError(key, "missing", "schedule files carry the scenario and mcm they were made for", str(path))
    return Schedule.from_dict(doc, str(path)), doc["scenario"], doc["mcm"]
