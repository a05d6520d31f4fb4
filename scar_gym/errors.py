"""Errors raised on bad input. Every message names the offending field and, where known, the file."""

from __future__ import annotations

import math


class ScarGymError(Exception):
    """Base class of every error scar-gym raises on purpose."""


class ConfigError(ScarGymError, ValueError):
    """A configuration value (YAML field, CLI argument, constructor argument) is invalid.

    The message always has the form ``<file>: <field>: <problem>; <fix>`` so that a user
    can find and mend the value without reading the code.
    """

    def __init__(self, field: str, problem: str, fix: str = "", file: str | None = None):
        self.field = field
        self.problem = problem
        self.fix = fix
        self.file = file
        where = f"{file}: " if file else ""
        tail = f"; {fix}" if fix else ""
        super().__init__(f"{where}{field}: {problem}{tail}")


class UnknownNameError(ConfigError, KeyError):
    """A name (model, MCM, scenario, policy) that is not in its registry."""

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...], field: str | None = None,
                 file: str | None = None):
        self.kind = kind
        self.name = name
        self.known = tuple(known)
        super().__init__(field or kind, f"unknown {kind} {name!r}",
                         f"choose one of: {', '.join(sorted(self.known))}", file)

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return Exception.__str__(self)


class ScheduleError(ScarGymError, ValueError):
    """A schedule breaks one of the structural rules (see :mod:`scar_gym.schedule`)."""


class InvalidActionError(ScarGymError, ValueError):
    """An environment action that the action mask forbids, raised when ``invalid_action="raise"``."""


def require_positive(value, field: str, file: str | None = None, integer: bool = True):
    """Return ``value`` if it is a positive number (an int when ``integer``), else raise ConfigError."""
    ok_type = isinstance(value, int) and not isinstance(value, bool) if integer else (
        isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok_type:
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigError(field, f"expected {kind}, got {value!r} ({type(value).__name__})",
                          f"write {field} as {kind}", file)
    if not math.isfinite(value):  # NaN slips through "<= 0" and infinity through everything
        raise ConfigError(field, f"must be a finite number, got {value!r}", f"set {field} to a positive value", file)
    if value <= 0:
        raise ConfigError(field, f"must be > 0, got {value!r}", f"set {field} to a positive value", file)
    return value


def require_count(value, field: str, maximum: int, unit: str, fix: str, file: str | None = None) -> int:
    """Return ``value`` if it is an integer 1 .. ``maximum``, else raise ConfigError stating the bound."""
    require_positive(value, field, file)
    if value > maximum:
        raise ConfigError(field, f"{value:,} {unit}, above the bound of {maximum:,}", fix, file)
    return value


def require_in_range(value, field: str, lo: float, hi: float, unit: str = "", file: str | None = None):
    """Return ``value`` if it is a finite number in ``[lo, hi]``, else raise ConfigError stating the range."""
    require_positive(value, field, file, integer=False)
    if not lo <= value <= hi:
        unit = f" {unit}" if unit else ""
        raise ConfigError(field, f"{value!r} is outside the range {lo:g} .. {hi:g}{unit}",
                          f"set {field} within the range", file)
    return value
