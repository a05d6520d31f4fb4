"""``random-search``: sample valid schedules uniformly at random from the genome space, keep the best.

Each sample draws, per window, node counts (one chiplet per model plus a uniform number of extra
chiplets spread at random), random cuts and a random permutation of the chiplets
(:meth:`~scar_gym.policies.search.genome.SearchSpace.random_window`). Sampling stops when the next
sample would overrun the budget.
"""

from __future__ import annotations

import numpy as np

from scar_gym.policies.search.common import SearchPolicy
from scar_gym.policies.search.genome import Genome, SearchSpace
from scar_gym.policies.search.scoring import Scorer


class RandomSearchPolicy(SearchPolicy):
    """Budgeted random sampling of valid schedules (see :mod:`~scar_gym.policies.search.common`)."""

    name = "random-search"

    def _search(self, space: SearchSpace, scorer: Scorer, rng: np.random.Generator, init: Genome | None) -> None:
        self.first_point(space, scorer, rng, init)
        while not scorer.exhausted:
            scorer.score(space.random_genome(rng))
