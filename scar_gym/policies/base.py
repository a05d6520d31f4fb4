"""The policy interface every scheduler implements (heuristics, baselines, searches, agents)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

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

    @abstractmethod
    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        """Return a complete, valid schedule for the evaluator's models on its MCM."""

    def params(self) -> dict[str, Any]:
        """Constructor parameters, for provenance."""
        return {}
