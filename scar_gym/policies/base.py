"""The policy interface every scheduler implements (heuristics, baselines, searches, agents)."""

from __future__ import annotations

import dataclasses
import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.schedule import Schedule


class Policy(ABC):
    """A scheduler: given the shared evaluator of a (scenario, MCM), return a complete schedule.

    Policies never score schedules themselves: they call ``evaluator`` so that every policy is
    judged by the same cost model. ``seed`` makes a stochastic policy repeatable; deterministic
    policies ignore it. Implementations put provenance (policy name, parameters, number of
    evaluations) into ``Schedule.meta``.
    """

    name: str = "policy"
    #: The policy's options as a frozen dataclass (validated in its ``__post_init__``), for policies
    #: that declare one: the constructor takes exactly its fields, ``self.options`` holds them and
    #: :meth:`params` is their ``asdict``, so the provenance lists every option by construction (as
    #: SB3 saves its constructor data).
    Options: ClassVar[type | None] = None
    options: Any = None

    @abstractmethod
    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        """Return a complete, valid schedule for the evaluator's models on its MCM."""

    def params(self) -> dict[str, Any]:
        """Constructor parameters, for provenance."""
        return dataclasses.asdict(self.options) if self.Options is not None else {}

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """The keyword arguments the constructor takes."""
        if cls.Options is not None:
            return tuple(f.name for f in dataclasses.fields(cls.Options))
        return tuple(p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "args", "kwargs"))

    @classmethod
    def make_options(cls, options: Any = None, overrides: Mapping[str, Any] | None = None) -> Any:
        """``cls.Options`` from an options object (or defaults) and keyword overrides, unknown names
        rejected by name."""
        known = cls.option_names()
        unknown = sorted(set(overrides or {}) - set(known))
        if unknown:
            raise ConfigError(unknown[0], f"not an option of policy {cls.name!r}", f"it takes: {', '.join(known)}")
        if options is not None and not isinstance(options, cls.Options):
            raise ConfigError("options", f"expected {cls.Options.__name__}, got {type(options).__name__}",
                              f"build it with {cls.Options.__name__}(...)")
        return dataclasses.replace(options if options is not None else cls.Options(), **(overrides or {}))
