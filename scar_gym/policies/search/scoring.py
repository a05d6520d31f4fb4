"""Budgeted scoring of genomes with the shared evaluator.

**Budget unit.** By default a search is charged one unit per *distinct per-model assignment*
(``(model, segments)`` in one window) it has the evaluator score: exactly the quantity
:attr:`scar_gym.evaluator.Evaluator.num_evaluations` counts on a fresh evaluator (memo misses), i.e.
the number of cost-model calls. Re-scoring a schedule, or a schedule that differs from an earlier one
in a single model's gene, costs only the genes not seen before, as it does in the evaluator. The
count is kept by the search itself (a set of the assignments it has requested), so it does not
depend on what other policies have already put into the evaluator's memo, and seeded runs repeat
exactly. ``unit="schedules"`` charges one unit per distinct full schedule instead.

The budget is never exceeded: a genome whose new assignments would overrun it is not scored and
the search stops (:attr:`Scorer.exhausted`). Because a search may keep proposing genomes that cost
nothing (all seen), the number of proposals is also capped (``max_proposals``, default
``5 x budget + 1000``; the search also stops once every schedule of the space has been scored).

``Scorer.trace`` records ``(units used, best objective so far)`` at every improvement: the
sample-efficiency curve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator, objective_value
from scar_gym.policies.search.genome import Genome, SearchSpace

BUDGET_UNITS = ("assignments", "schedules")


@dataclass
class Scorer:
    evaluator: Evaluator
    space: SearchSpace
    budget: int
    objective: str = "edp"
    unit: str = "assignments"
    max_proposals: int | None = None
    used: int = 0
    proposals: int = 0
    schedules_scored: int = 0
    exhausted: bool = False
    best_genome: Genome | None = None
    best_value: float = float("inf")
    best_lat_energy: tuple[float, float] = (float("inf"), float("inf"))
    trace: list[tuple[int, float]] = field(default_factory=list)
    _genes: dict[tuple, tuple[float, float]] = field(default_factory=dict)
    _genomes: dict[Genome, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.unit not in BUDGET_UNITS:
            raise ConfigError("budget_unit", f"unknown unit {self.unit!r}", f"use one of {', '.join(BUDGET_UNITS)}")
        if not isinstance(self.budget, int) or self.budget < 1:
            raise ConfigError("budget", f"must be a positive integer, got {self.budget!r}", "e.g. --budget 2000")
        objective_value(self.objective, 1.0, 1.0)
        if self.max_proposals is None:
            self.max_proposals = 5 * self.budget + 1000
        self._space_size = self.space.size()

    # -- cost ----------------------------------------------------------------------------------------
    def cost(self, genome: Genome) -> int:
        """Units scoring ``genome`` would use now."""
        if self.unit == "schedules":
            return 0 if genome in self._genomes else 1
        return sum(1 for wi, genes in enumerate(genome) for j, g in enumerate(genes) if (wi, j, g) not in self._genes)

    def seen(self, genome: Genome) -> bool:
        """Whether ``genome`` has been scored already."""
        return genome in self._genomes

    def remaining(self) -> int:
        return self.budget - self.used

    def mark_seen(self, genome: Genome) -> None:
        """Record a genome's assignments as already paid for (a warm start charged separately)."""
        for wi, genes in enumerate(genome):
            for j, g in enumerate(genes):
                key = (wi, j, g)
                if key not in self._genes:
                    r = self.evaluator.evaluate_assignment(self.space.assignment(wi, j, g))
                    self._genes[key] = (r.latency_s, r.energy_j)

    def charge(self, units: int) -> None:
        self.used += int(units)

    # -- scoring -------------------------------------------------------------------------------------
    def lat_energy(self, genome: Genome) -> tuple[float, float]:
        """Scenario latency and energy of ``genome`` (no budget accounting)."""
        lat = en = 0.0
        for wi, genes in enumerate(genome):
            wl = 0.0
            for j, g in enumerate(genes):
                key = (wi, j, g)
                r = self._genes.get(key)
                if r is None:
                    res = self.evaluator.evaluate_assignment(self.space.assignment(wi, j, g))
                    r = self._genes[key] = (res.latency_s, res.energy_j)
                wl = max(wl, r[0])
                en += r[1]
            lat += wl
        return lat, en

    def score(self, genome: Genome, force: bool = False) -> float | None:
        """The objective of ``genome``, charging its new assignments; ``None`` (and :attr:`exhausted`)
        when the budget cannot pay for it. ``force`` scores it regardless (the first schedule of a
        search, so that every search returns something)."""
        self.proposals += 1
        if self.proposals > self.max_proposals:
            self.exhausted = True
        hit = self._genomes.get(genome)
        if hit is not None:
            return hit
        c = self.cost(genome)
        if not force and (self.exhausted or self.used + c > self.budget):
            self.exhausted = True
            return None
        self.used += c
        self.schedules_scored += 1
        lat, en = self.lat_energy(genome)
        v = objective_value(self.objective, lat, en)
        self._genomes[genome] = v
        if len(self._genomes) >= self._space_size:  # every schedule of the space has been scored
            self.exhausted = True
        if v < self.best_value:
            self.best_value, self.best_genome, self.best_lat_energy = v, genome, (lat, en)
            self.trace.append((self.used, v))
        return v

    def meta(self) -> dict[str, Any]:
        return {"evaluations": self.used, "budget": self.budget, "budget_unit": self.unit,
                "schedules_scored": self.schedules_scored, "distinct_assignments": len(self._genes),
                "proposals": self.proposals, "best_objective": self.best_value,
                "trace": [[int(u), float(v)] for u, v in self.trace]}
