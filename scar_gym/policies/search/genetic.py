"""``ga``: a MAGMA-style genetic algorithm over the genome (Kao & Krishna, HPCA 2022, adapted).

* **Population** of ``population`` genomes (default: ``clip(budget / (8 x genes), elite + 4, 24)``,
  i.e. 24 unless the budget is small): the warm start (if any) plus random samples.
* **Selection**: tournaments of ``tournament`` individuals (the lowest objective wins).
* **Crossover** (probability ``p_crossover``), per window: the whole window from one parent
  (probability ``p_window``; MAGMA's block crossover, always valid) or every (model) gene from a
  random parent followed by repair to validity (clashing chiplets replaced by idle ones or merged
  away); see :meth:`~scar_gym.policies.search.genome.SearchSpace.crossover`.
* **Mutation**: each window of a child, with probability ``p_mutation``, gets one neighbourhood move
  (the SA moves); a child identical to an already scored genome gets one extra move, so the budget
  is spent on new schedules.
* **Elitism**: the ``elite`` best of each generation survive unchanged.

Children are scored as they are made; the search stops when the next child would overrun the budget.
"""

from __future__ import annotations

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.policies.search.common import SearchPolicy
from scar_gym.policies.search.genome import Genome, SearchSpace
from scar_gym.policies.search.scoring import Scorer


class GeneticPolicy(SearchPolicy):
    """Genetic algorithm (see the module docstring); other parameters as :class:`SearchPolicy`."""

    name = "ga"

    def __init__(self, budget: int = 2000, seed: int | None = None, objective: str | None = None,
                 n_splits: int = 4, windows=None, init: str = "random", nodes: str = "free",
                 budget_unit: str = "assignments", max_nodes: int | None = None,
                 population: int | None = None, tournament: int = 3, elite: int = 2, p_crossover: float = 0.9,
                 p_window: float = 0.5, p_mutation: float = 0.3):
        super().__init__(budget, seed, objective, n_splits, windows, init, nodes, budget_unit, max_nodes)
        if population is not None and population < 2:
            raise ConfigError("population", f"must be >= 2, got {population}", "e.g. 24, or None for automatic")
        if tournament < 1:
            raise ConfigError("tournament", f"must be >= 1, got {tournament}", "e.g. 3")
        if elite < 0 or (population is not None and elite >= population):
            raise ConfigError("elite", f"must be in 0..population-1, got {elite}", "e.g. 2")
        for name, p in (("p_crossover", p_crossover), ("p_window", p_window), ("p_mutation", p_mutation)):
            if not 0.0 <= p <= 1.0:
                raise ConfigError(name, f"must be a probability, got {p}", "use a value in [0, 1]")
        self.population = None if population is None else int(population)
        self.tournament, self.elite = int(tournament), int(elite)
        self._pop_size = 0
        self.p_crossover, self.p_window, self.p_mutation = float(p_crossover), float(p_window), float(p_mutation)
        self._generations = 0

    def params(self) -> dict:
        return {**super().params(), "population": self.population, "tournament": self.tournament,
                "elite": self.elite, "p_crossover": self.p_crossover, "p_window": self.p_window,
                "p_mutation": self.p_mutation}

    def extra_meta(self) -> dict:
        return {"generations": self._generations, "population_size": self._pop_size}

    def population_size(self, space: SearchSpace) -> int:
        """``population``, or automatically ``clip(budget / (8 x genes per schedule), elite + 4, 24)``
        so that a small budget still runs several generations instead of only the random initial one."""
        if self.population is not None:
            return self.population
        per = max(1, space.num_genes) if self.budget_unit == "assignments" else 1
        return int(min(24, max(self.elite + 4, self.budget // (8 * per))))

    def _select(self, pop: list[tuple[float, Genome]], rng: np.random.Generator) -> Genome:
        idx = rng.integers(len(pop), size=self.tournament)  # tournament with replacement
        return min((pop[int(i)] for i in idx), key=lambda x: x[0])[1]

    def _search(self, space: SearchSpace, scorer: Scorer, rng: np.random.Generator, init: Genome | None) -> None:
        self._generations = 0
        size = self._pop_size = self.population_size(space)
        g0, v0 = self.first_point(space, scorer, rng, init)
        pop: list[tuple[float, Genome]] = [(v0, g0)]
        while len(pop) < size and not scorer.exhausted:
            g = space.random_genome(rng)
            v = scorer.score(g)
            if v is not None:
                pop.append((v, g))
        while not scorer.exhausted:
            pop.sort(key=lambda x: x[0])
            nxt = pop[:self.elite]
            while len(nxt) < size:
                a = self._select(pop, rng)
                if rng.random() < self.p_crossover:
                    child = space.crossover(a, self._select(pop, rng), rng, self.p_window)
                else:
                    child = a
                child = space.mutate(child, rng, self.p_mutation)
                for _ in range(3):
                    if not scorer.seen(child):
                        break
                    child, _ = space.neighbour(child, rng)
                v = scorer.score(child)
                if v is None:
                    break
                nxt.append((v, child))
            pop = nxt
            self._generations += 1
