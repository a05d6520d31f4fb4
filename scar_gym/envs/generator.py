"""Where an environment's episodes come from (Jumanji's generator role).

An environment's ``scenario`` argument is a suite spec resolved by :class:`scar_gym.suites.Suite`
(a built-in id, a YAML path, ``paper`` / ``datacenter`` / ``arvr``, ``random-N``, ``random`` with
``generator_kwargs``, a :class:`~scar_gym.scenarios.Scenario`, a
:class:`~scar_gym.scenarios.ModelSet`, a list, or any object with ``sample(rng)``); each
``reset`` draws one instance from it with the environment's ``np_random``.

This module adds what only the environments need: :class:`ToyGenerator` (small random models for
fast tests and toy training) and :func:`instance_key` (the cache key of an instance's
precomputed data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scar_gym.scenarios import Instance, ModelSet, Scenario
from scar_gym.workloads.layers import add, conv, gemm
from scar_gym.workloads.model import Model, ModelBuilder

__all__ = ["Instance", "ModelSet", "ToyGenerator", "instance_key"]  # ModelSet lives in scar_gym.scenarios


def instance_key(inst: Instance) -> tuple:
    """Cache key of an instance: its content for a Scenario, the model objects for a ModelSet."""
    if isinstance(inst, Scenario):
        return ("scenario", inst.id, inst.domain, inst.models)
    return ("modelset", inst.domain, tuple(id(m) for m in inst.models), inst.batches)


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
