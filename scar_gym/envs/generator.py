"""Where an environment's episodes come from: scenario sources and a toy generator (Jumanji-style).

An environment is given a ``scenario`` argument and turns it into a :class:`ScenarioSource` whose
:meth:`~ScenarioSource.sample` draws one instance per episode from the environment's ``np_random``:

* a built-in id (``"sc4"`` or ``"4"``) or a scenario YAML path: always that scenario;
* ``"paper"`` (sc1..sc10), ``"datacenter"`` (sc1..sc5), ``"arvr"`` (sc6..sc10): uniform over the set;
* ``"random"``: a :class:`~scar_gym.scenarios.RandomScenarioGenerator` built from ``generator_kwargs``
  (train on random mixes, test on the paper's ten);
* a :class:`~scar_gym.scenarios.Scenario`, a :class:`ModelSet` (hand-built models), or a list of any
  of these: uniform over the list;
* any object with ``sample(rng) -> Scenario | ModelSet`` (a ``RandomScenarioGenerator``, a :class:`ToyGenerator`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, Union

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.scenarios import DOMAINS, SCENARIO_IDS, RandomScenarioGenerator, Scenario, load_scenario
from scar_gym.workloads.layers import add, conv, gemm
from scar_gym.workloads.model import Model, ModelBuilder


@dataclass(frozen=True, eq=False)
class ModelSet:
    """A scenario made of already-built models (tests, toy problems, user models not in the zoo).

    Attributes:
        id: a label for reports.
        models: the models, in schedule order.
        batches: one positive batch per model.
        domain: ``datacenter`` or ``arvr`` (decides the PEs per chiplet).
    """

    id: str
    models: tuple[Model, ...]
    batches: tuple[int, ...]
    domain: str = "datacenter"

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "batches", tuple(int(b) for b in self.batches))
        if self.domain not in DOMAINS:
            raise ConfigError("domain", f"unknown domain {self.domain!r}", f"use one of {', '.join(DOMAINS)}")
        if not self.models or len(self.models) != len(self.batches):
            raise ConfigError("batches", f"{len(self.batches)} batches for {len(self.models)} models",
                              "give at least one model and one batch per model")

    def build_models(self) -> list[Model]:
        return list(self.models)


Instance = Union[Scenario, ModelSet]


def instance_key(inst: Instance) -> tuple:
    """Cache key of an instance: its content for a Scenario, the model objects for a ModelSet."""
    if isinstance(inst, Scenario):
        return ("scenario", inst.id, inst.domain, inst.models)
    return ("modelset", inst.domain, tuple(id(m) for m in inst.models), inst.batches)


class Sampler(Protocol):
    def sample(self, rng: np.random.Generator) -> Instance: ...


_SETS = {
    "paper": SCENARIO_IDS,
    "datacenter": tuple(f"sc{i}" for i in range(1, 6)),
    "arvr": tuple(f"sc{i}" for i in range(6, 11)),
}


@lru_cache(maxsize=None)
def _builtin(sid: str) -> Scenario:
    return load_scenario(sid)


def _load(spec: str) -> Scenario:
    """A scenario by id or path; built-in ids are parsed once per process (scenarios are immutable)."""
    sid = f"sc{spec.strip()}" if spec.strip().isdigit() else spec.strip()
    return _builtin(sid) if sid in SCENARIO_IDS else load_scenario(spec)


def _resolve_one(spec: Any) -> Instance:
    if isinstance(spec, (Scenario, ModelSet)):
        return spec
    if isinstance(spec, str):
        return _load(spec)
    raise ConfigError("scenario", f"expected a scenario id, a Scenario or a ModelSet, got {type(spec).__name__}",
                      "give e.g. 'sc4'")


@dataclass(eq=False)
class ScenarioSource:
    """Draws the instance of each episode. ``fixed`` is the single instance when there is only one."""

    instances: tuple[Instance, ...] = ()
    sampler: Sampler | None = None
    label: str = ""

    @classmethod
    def from_arg(cls, scenario: Any, generator_kwargs: dict | None = None) -> "ScenarioSource":
        if isinstance(scenario, ScenarioSource):
            return scenario
        if isinstance(scenario, str) and scenario in _SETS:
            return cls(tuple(_load(s) for s in _SETS[scenario]), label=scenario)
        if isinstance(scenario, str) and scenario == "random":
            return cls(sampler=RandomScenarioGenerator(**(generator_kwargs or {})), label="random")
        if generator_kwargs:
            raise ConfigError("generator_kwargs", "only used with scenario='random'", "drop generator_kwargs")
        if hasattr(scenario, "sample") and not isinstance(scenario, (Scenario, ModelSet)):
            return cls(sampler=scenario, label=type(scenario).__name__)
        if isinstance(scenario, Sequence) and not isinstance(scenario, str):
            if not scenario:
                raise ConfigError("scenario", "empty list", "give at least one scenario")
            insts = tuple(_resolve_one(s) for s in scenario)
            return cls(insts, label=",".join(i.id for i in insts))
        inst = _resolve_one(scenario)
        return cls((inst,), label=inst.id)

    @property
    def fixed(self) -> Instance | None:
        return self.instances[0] if self.sampler is None and len(self.instances) == 1 else None

    def sample(self, rng: np.random.Generator) -> Instance:
        if self.sampler is not None:
            return self.sampler.sample(rng)
        if len(self.instances) == 1:
            return self.instances[0]
        return self.instances[int(rng.integers(len(self.instances)))]


@dataclass(frozen=True, eq=False)
class ToyGenerator:
    """Small random chain models (conv / gemm / residual add), for fast tests and toy training.

    Each :meth:`sample` draws ``n_models`` models of ``n_layers`` layers each (inclusive ranges) with
    batches from ``batches``. Layers are small (a few MMACs), so the cost tables build in milliseconds.
    The models built for one draw are new objects, so every draw is a new cache entry: use
    :meth:`pool` for a fixed, reusable set.
    """

    n_models: tuple[int, int] = (1, 4)
    n_layers: tuple[int, int] = (1, 8)
    batches: tuple[int, ...] = (1, 2, 4, 8)
    domain: str = "datacenter"

    def _model(self, rng: np.random.Generator, name: str) -> Model:
        n = int(rng.integers(self.n_layers[0], self.n_layers[1] + 1))
        b = ModelBuilder(name, "toy model from ToyGenerator")
        if rng.random() < 0.5:  # a small CNN with residual adds
            ch, hw = int(rng.choice([8, 16, 32])), int(rng.choice([8, 16, 28]))
            prev = b.add(conv(f"{name}.c0", 3, ch, hw, hw, 3))
            skip = prev
            for i in range(1, n):
                if i % 3 == 2:
                    prev = b.add(add(f"{name}.a{i}", ch, hw, hw), prev, skip)
                    skip = prev
                else:
                    prev = b.add(conv(f"{name}.c{i}", ch, ch, hw, hw, int(rng.choice([1, 3]))), prev)
        else:  # an MLP over tokens
            tokens, width = int(rng.choice([16, 64, 128])), int(rng.choice([64, 128, 256]))
            prev = b.add(gemm(f"{name}.g0", tokens, width, width))
            for i in range(1, n):
                prev = b.add(gemm(f"{name}.g{i}", tokens, width, width), prev)
        return b.build()

    def sample(self, rng: np.random.Generator) -> ModelSet:
        k = int(rng.integers(self.n_models[0], self.n_models[1] + 1))
        tag = int(rng.integers(1 << 31))
        models = tuple(self._model(rng, f"toy{tag}-{i}") for i in range(k))
        batches = tuple(int(rng.choice(self.batches)) for _ in range(k))
        return ModelSet(f"toy-{tag}", models, batches, self.domain)

    def pool(self, n: int, seed: int = 0) -> list[ModelSet]:
        """``n`` fixed instances drawn from ``default_rng([seed, i])``."""
        return [self.sample(np.random.default_rng([seed, i])) for i in range(n)]
