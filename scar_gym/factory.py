"""Evaluators from names: the one place where cost-model settings are chosen.

Every site that scores schedules -- the CLI commands, the benchmark, the reproduction tables, the
environments, the agents' trainer and expert iteration, the scripts -- builds its
:class:`~scar_gym.evaluator.Evaluator` with :func:`make_evaluator` and, where several evaluators
share cost tables, the shared :class:`~scar_gym.costmodel.tables.CostModel` with
:func:`make_cost_model`. A new cost-model setting is therefore one keyword argument of
:func:`make_cost_model`: :func:`make_evaluator` passes its cost options through unchanged, so every
caller can use the new keyword at once.
"""

from __future__ import annotations

import inspect
from typing import Any

from scar_gym.costmodel.energy import EnergyPreset
from scar_gym.costmodel.presets import CostPreset
from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError
from scar_gym.evaluator import DEFAULT_MEMO_SIZE, Evaluator
from scar_gym.hardware import MCM
from scar_gym.presets import load_mcm
from scar_gym.scenarios import Instance
from scar_gym.suites import scenario as load_scenario_spec


def make_cost_model(*, preset: str | CostPreset | None = None,
                    energy: str | EnergyPreset | None = None) -> CostModel:
    """A cost model (cost-table cache) with the given settings; ``None`` means the cost model's
    own default (so ``make_cost_model()`` is ``CostModel()``, what an evaluator built without one uses).

    Args:
        preset: cost preset name (``paper``, the default; ``maestro``; ``legacy``) or a
            :class:`~scar_gym.costmodel.presets.CostPreset`: the per-layer template, default
            bandwidths and energy constants (:mod:`scar_gym.costmodel.presets`).
        energy: on-chiplet energy preset name (``maestro``, ``eyeriss``, ``paper``) or an
            :class:`~scar_gym.costmodel.energy.EnergyPreset` overriding the preset's.
    """
    settings = {"preset": preset, "energy": energy}
    return CostModel(**{k: v for k, v in settings.items() if v is not None})


#: The cost options :func:`make_evaluator` forwards (the keyword arguments of :func:`make_cost_model`).
COST_OPTIONS: tuple[str, ...] = tuple(inspect.signature(make_cost_model).parameters)


def make_evaluator(scenario: str | Instance, mcm: str | MCM, *, objective: str = "edp",
                   cost_model: CostModel | None = None, memo_size: int = DEFAULT_MEMO_SIZE,
                   **cost_options: Any) -> Evaluator:
    """The evaluator of ``scenario`` on ``mcm``; it carries the scenario's domain, and its MCM the
    domain's PEs per chiplet (unless the MCM sets its own).

    Args:
        scenario: a scenario id (``sc4``) or YAML path, a :class:`~scar_gym.scenarios.Scenario` or a
            :class:`~scar_gym.scenarios.ModelSet`.
        mcm: anything :func:`~scar_gym.presets.load_mcm` takes, or an :class:`~scar_gym.hardware.MCM`.
        objective: what :meth:`Evaluator.score` returns (``edp``, ``latency``, ``energy``).
        cost_model: a shared cost model (from :func:`make_cost_model`), so evaluators of several
            scenarios or policies cost each layer once; a new one with ``cost_options`` by default.
        memo_size: assignments memoised.
        cost_options: keyword arguments of :func:`make_cost_model` (``preset``, ``energy``); ``None``
            values mean the default. Not allowed together with ``cost_model``, whose settings are fixed.
    """
    unknown = sorted(set(cost_options) - set(COST_OPTIONS))
    if unknown:
        raise ConfigError(unknown[0], "not a cost-model option", f"use one of: {', '.join(COST_OPTIONS)}")
    given = {k: v for k, v in cost_options.items() if v is not None}
    if cost_model is None:
        cost_model = make_cost_model(**given)
    elif given:
        name = sorted(given)[0]
        raise ConfigError(name, "given together with a shared cost_model",
                          f"build the shared one with make_cost_model({name}=...) instead")
    inst = load_scenario_spec(scenario) if isinstance(scenario, str) else scenario
    hw = mcm if isinstance(mcm, MCM) else load_mcm(mcm)
    return Evaluator(inst.build_models(), list(inst.batches), hw.for_domain(inst.domain), cost_model=cost_model,
                     objective=objective, cache_size=memo_size, domain=inst.domain)
