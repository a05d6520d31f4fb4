"""Reward functions of the scar_gym environments.

A reward is named ``<objective>[_<kind>]``, objective in ``edp`` / ``latency`` / ``energy``:

=========================  ====================================================================  ==================
name                       per step                                                              episode sum
=========================  ====================================================================  ==================
``edp``                    0; at the end ``-EDP``                                                ``-EDP``
``edp_shaped``             ``-(P(s') - P(s))``, ``P`` = objective of the partial schedule        ``-EDP`` (exactly,
                           (finished windows + the current partial window, evaluated              up to float
                           with ``allow_partial``); ``P`` of the empty schedule is 0             rounding)
``edp_relative``           ``edp_shaped / EDP_ref``                                              ``-EDP / EDP_ref``
``edp_log_ratio``          0; at the end ``log(EDP_ref / EDP)``                                  ``log(EDP_ref/EDP)``
``edp_log_ratio_shaped``   ``Phi(s') - Phi(s)`` with ``Phi(s) = -log(EST(s) / EDP_ref)`` and     ``log(EDP_ref/EDP)``
                           ``Phi(s_0) := 0``; ``EST`` is a completion estimate (below)
=========================  ====================================================================  ==================

``EDP_ref`` is the objective of a reference policy's schedule (Standalone by default) on the
same scenario and MCM, cached per (scenario, MCM) by the environment.

**Completion estimate** (``*_log_ratio_shaped``): ``EST(s)`` is the objective of the partial schedule
completed with an optimistic, Standalone-like guess for the remaining work, in which every
unplaced layer runs at the model's full batch on the best dataflow of the MCM for that layer (no
pipelining, no communication, no weight loads): latency of the current window = ``max(window
latency so far, max over its unfinished models of (partial latency + the rest of the model's
layers in the window))``; each later window adds the max over its models of their layers' sum;
energy adds every unplaced layer's energy. ``EST`` equals the exact objective at the end, so the
sum telescopes to the terminal log-ratio. Because ``Phi(s_0)`` is defined as 0 rather than
``-log(EST(s_0)/EDP_ref)``, the first step also carries the scenario's predicted ratio
``log(EDP_ref / EST(s_1))`` (about +0.2 on scenario 4 / Het-Sides against Standalone; the
per-step terms after it are typically 1e-4 .. 1e-2, larger for a choice that hurts).

Which one to start with (SB3 / MaskablePPO): ``edp_log_ratio_shaped`` (the default) or
``edp_log_ratio``. Both are scale-free: raw EDP spans orders of magnitude across scenarios
(0.006 J s for scenario 1, ~10 J s for scenario 5) and breaks PPO's value function; a log ratio
to a per-scenario reference is O(0.1-1) everywhere and positive when the agent beats the reference.
``edp_relative`` is also scale-free but its per-step terms grow quadratically towards the end of
an episode (EDP = latency x energy, both accumulating).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

from scar_gym.errors import ConfigError
from scar_gym.evaluator import OBJECTIVES

KINDS = ("", "shaped", "relative", "log_ratio", "log_ratio_shaped")
#: Every accepted reward name.
REWARD_NAMES: tuple[str, ...] = tuple(f"{o}_{k}" if k else o for o in OBJECTIVES for k in KINDS)


@dataclass(frozen=True)
class RewardInput:
    """What the environment hands a reward function after each accepted decision.

    Attributes:
        partial: objective of the partial schedule after the decision.
        estimate: objective of the completion estimate after the decision (see the module docstring).
        final: exact objective of the complete schedule at the last step, else ``None``.
    """

    partial: float
    estimate: float
    final: float | None = None


class RewardFn(ABC):
    """One episode's reward stream. :meth:`reset` at episode start, :meth:`__call__` per accepted step."""

    #: ``edp``, ``latency`` or ``energy``.
    objective: str = "edp"
    #: True when the reward needs the reference policy's objective.
    needs_reference: bool = False
    name: str = ""

    def __init__(self, objective: str = "edp"):
        if objective not in OBJECTIVES:
            raise ConfigError("reward", f"unknown objective {objective!r}", f"use one of {', '.join(OBJECTIVES)}")
        self.objective = objective
        self.reference: float | None = None

    def reset(self, reference: float | None = None) -> None:
        if self.needs_reference:
            if reference is None or not reference > 0:
                raise ConfigError("reward", f"{self.name} needs a positive reference objective, got {reference!r}",
                                  "give the environment a reference policy")
        self.reference = reference

    @abstractmethod
    def __call__(self, x: RewardInput) -> float:
        """Reward for the decision that led to ``x``."""


class TerminalReward(RewardFn):
    """``-objective`` of the complete schedule, at the last step only."""

    def __call__(self, x: RewardInput) -> float:
        return -x.final if x.final is not None else 0.0


class ShapedReward(RewardFn):
    """Change of ``-objective(partial schedule)``; the episode sum is ``-objective``."""

    def reset(self, reference: float | None = None) -> None:
        super().reset(reference)
        self._prev = 0.0

    def __call__(self, x: RewardInput) -> float:
        cur = x.final if x.final is not None else x.partial
        r = self._prev - cur
        self._prev = cur
        return r


class RelativeReward(ShapedReward):
    """:class:`ShapedReward` divided by the reference objective; the sum is ``-objective / reference``."""

    needs_reference = True

    def __call__(self, x: RewardInput) -> float:
        return super().__call__(x) / self.reference


class LogRatioReward(RewardFn):
    """``log(reference / objective)`` at the last step."""

    needs_reference = True

    def __call__(self, x: RewardInput) -> float:
        return math.log(self.reference / x.final) if x.final is not None else 0.0


class LogRatioShapedReward(RewardFn):
    """Potential-based ``Phi(s') - Phi(s)``, ``Phi = -log(EST / reference)``, ``Phi(s_0) = 0``."""

    needs_reference = True

    def reset(self, reference: float | None = None) -> None:
        super().reset(reference)
        self._phi = 0.0

    def __call__(self, x: RewardInput) -> float:
        est = x.final if x.final is not None else x.estimate
        phi = -math.log(max(est, 1e-300) / self.reference)
        r = phi - self._phi
        self._phi = phi
        return r


_KIND_CLASS: dict[str, type[RewardFn]] = {
    "": TerminalReward,
    "shaped": ShapedReward,
    "relative": RelativeReward,
    "log_ratio": LogRatioReward,
    "log_ratio_shaped": LogRatioShapedReward,
}


def make_reward(name: str) -> RewardFn:
    """A fresh reward function from its name (see :data:`REWARD_NAMES`)."""
    if not isinstance(name, str) or name not in REWARD_NAMES:
        raise ConfigError("reward", f"unknown reward {name!r}", f"use one of {', '.join(REWARD_NAMES)}")
    objective, _, kind = name.partition("_")
    fn = _KIND_CLASS[kind](objective)
    fn.name = name
    return fn
