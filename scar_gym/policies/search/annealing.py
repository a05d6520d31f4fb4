"""``sa``: simulated annealing over the genome's neighbourhood moves.

Moves (:meth:`~scar_gym.policies.search.genome.SearchSpace.neighbour`): move a cut, put a segment on
an idle chiplet, swap two segments' chiplets (between models or within one), change a model's node
count (split onto an idle chiplet / merge two segments), transfer a chiplet between models.

Acceptance works on the *log* of the objective, so it is scale free (EDP spans orders of magnitude
between scenarios): a candidate ``x'`` of current ``x`` is accepted when ``d = ln f(x') - ln f(x) <= 0``,
else with probability ``exp(-d / T)``.

**Temperature schedule** (geometric in the budget spent): ``T = t_start x (t_end / t_start) ^ p``
where ``p`` in [0, 1] is the fraction of the budget used (or of the proposal cap, whichever is
further along). Defaults ``t_start = 0.05`` (a 5% worse schedule is accepted with probability
``1/e`` at the start) and ``t_end = 0.0005`` (a 0.05% worse one at the end). **Restarts**: after
``restart_after`` consecutive proposals without a new best the walk returns to the best schedule and
applies ``kick`` random moves to it (iterated-local-search style), so that a walk stuck among
already-scored schedules (which cost no budget) moves on. **Fresh neighbours**: a proposal that was
scored before is redrawn up to ``fresh_tries`` times (a revisit costs no budget but teaches nothing).
"""

from __future__ import annotations

import math

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.policies.search.common import SearchPolicy
from scar_gym.policies.search.genome import Genome, SearchSpace
from scar_gym.policies.search.scoring import Scorer


class AnnealingPolicy(SearchPolicy):
    """Simulated annealing (see the module docstring); other parameters as :class:`SearchPolicy`."""

    name = "sa"

    def __init__(self, budget: int = 2000, seed: int | None = None, objective: str | None = None,
                 n_splits: int = 4, windows=None, init: str = "random", nodes: str = "free",
                 budget_unit: str = "assignments", max_nodes: int | None = None,
                 t_start: float = 0.05, t_end: float = 0.0005, restart_after: int = 500, kick: int = 3,
                 fresh_tries: int = 8):
        super().__init__(budget, seed, objective, n_splits, windows, init, nodes, budget_unit, max_nodes)
        if not (t_start > 0 and t_end > 0):
            raise ConfigError("t_start/t_end", f"must be > 0, got {t_start}, {t_end}", "e.g. 0.05 and 0.0005")
        if restart_after < 1:
            raise ConfigError("restart_after", f"must be >= 1, got {restart_after}", "e.g. 2000")
        if kick < 0:
            raise ConfigError("kick", f"must be >= 0, got {kick}", "e.g. 3")
        self.t_start, self.t_end, self.restart_after = float(t_start), float(t_end), int(restart_after)
        self.kick = int(kick)
        self.fresh_tries = max(1, int(fresh_tries))
        self._moves: dict[str, list[int]] = {}
        self._restarts = 0

    def params(self) -> dict:
        return {**super().params(), "t_start": self.t_start, "t_end": self.t_end, "restart_after": self.restart_after,
                "kick": self.kick, "fresh_tries": self.fresh_tries}

    def extra_meta(self) -> dict:
        return {"restarts": self._restarts,
                "moves": {k: {"proposed": v[0], "accepted": v[1]} for k, v in sorted(self._moves.items())}}

    def temperature(self, progress: float) -> float:
        p = min(max(progress, 0.0), 1.0)
        return self.t_start * (self.t_end / self.t_start) ** p

    def _search(self, space: SearchSpace, scorer: Scorer, rng: np.random.Generator, init: Genome | None) -> None:
        self._moves, self._restarts = {}, 0
        cur, cur_v = self.first_point(space, scorer, rng, init)
        stale = 0
        while not scorer.exhausted:
            for _ in range(self.fresh_tries):  # prefer a neighbour not scored yet (revisits teach nothing)
                cand, move = space.neighbour(cur, rng)
                if move == "none" or not scorer.seen(cand):
                    break
            if move == "none":
                break
            best_before = scorer.best_value
            v = scorer.score(cand)
            if v is None:
                break
            stats = self._moves.setdefault(move, [0, 0])
            stats[0] += 1
            d = _log_ratio(v, cur_v)
            progress = max(scorer.used / scorer.budget, scorer.proposals / scorer.max_proposals)
            if d <= 0 or rng.random() < math.exp(-d / self.temperature(progress)):
                cur, cur_v = cand, v
                stats[1] += 1
            stale = 0 if scorer.best_value < best_before else stale + 1
            if stale >= self.restart_after:  # restart from the best schedule, kicked by a few random moves
                cur, stale = scorer.best_genome, 0
                for _ in range(self.kick):
                    cur, _ = space.neighbour(cur, rng)
                cur_v = scorer.score(cur)
                if cur_v is None:
                    break
                self._restarts += 1


def _log_ratio(new: float, old: float) -> float:
    if new == old:
        return 0.0
    if old <= 0 or new <= 0:
        return new - old
    return math.log(new) - math.log(old)
