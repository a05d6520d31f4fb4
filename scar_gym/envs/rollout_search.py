"""Schedulers that roll out a ``ScarGym`` env with a prior over actions, then search around the best rollout.

They live beside the environments they drive (a policy in :mod:`scar_gym.policies` never builds an
env): the env is made on the evaluator's own models, batches, MCM, cost tables and domain.

:class:`RolloutSearchPolicy` is the inference engine of the learned agents
(:class:`agents.policy.PPOPolicy`, whose prior is the trained network) and of ``window-ls``
(:class:`WindowSearchPolicy`, whose prior is the env's own slot order, i.e. no learning: it
measures what the search alone adds to SCAR, so the agents' gains can be told apart from it).

Every rollout starts from ``env.reset(seed=0)`` and is scored by the caller's shared evaluator:

* one **greedy** rollout (argmax of the masked prior), always reported in ``Schedule.meta``;
* greedy rollouts of the prior on other windows (``window_sets``: SCAR's candidate boundary sets,
  for an env on MCM-Reconfig windows; ``prior_sets`` bounds how many of them the prior rolls out
  on), then, with ``lookahead=True``, greedy rollouts on every one of the ``window_sets`` under
  the **lookahead** prior instead: Window-v0's
  :meth:`~scar_gym.envs.window_env.WindowEnv.slot_outlook`, each slot ranked by the scenario's
  estimated objective if it is taken (the slot order ranks by the model's own objective alone);
* then, up to ``samples`` rollouts in all, more, kept if better:

  - ``improve="local"`` (default): a first-improvement descent over one-decision changes of the
    best rollout so far, each continued greedily under the prior that made that rollout. The changes
    are tried in this order: decisions that left SCAR's own choice (Window-v0's anchor slot) taken
    back to it, then every other alternative by decreasing prior probability. Deterministic: ``seed`` does not matter. A rollout
    replays the unchanged prefix without calling the prior (its states are the parent's).
  - ``improve="sample"``: whole rollouts sampled from the masked prior with
    ``numpy.random.default_rng(seed)``.

With ``polish=True`` (Window-v0) the best schedule's windows are then re-solved jointly, one at a
time, by branch and bound over the candidates Window-v0 lists for each model (:meth:`polish_windows`).

``Schedule.meta`` carries the greedy result, the best, the rollouts made, the cost-model
evaluations used (the env's -- SCAR's run and the candidate pools on Window-v0 -- and the
scoring's) and ``trace`` ([evaluations, best objective] after each rollout).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import gymnasium as gym

from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator, ScheduleResult, objective_value
from scar_gym.policies.base import Policy
from scar_gym.scenarios import ModelSet
from scar_gym.schedule import Schedule, Window

IMPROVE_MODES = ("local", "sample")
#: Rollouts per schedule at most (each is a full episode; past this a schedule takes hours).
MAX_SAMPLES = 10_000
#: Window sets a rollout search tries at most (``window_sets``).
MAX_WINDOW_SETS = 16
#: Reward of the env at inference: needs no reference policy, so no extra SCAR/Standalone run.
INFERENCE_REWARD = "edp"
#: The search of the schedulers that run no SCAR (``ppo``, ``window-ls-any``): the greedy rollout of
#: the prior on SCAR's periodic boundary set, greedy rollouts of the lookahead on five (the periodic
#: one and four jittered), then the local search, 12 rollouts in all, then the window polish. Each
#: step of it, measured: results/agents/scaling/README.md. The prior rolled out on all five sets too
#: until those rollouts were found to end best in 2 of 34 suite cases (the lookahead's or the local
#: search's won the rest) while costing ``ppo`` two fifths of its network calls; without them each
#: suite's EDP / SCAR moved by at most 0.003, either way, and 6x6 went from 0.25x to 0.19x SCAR's
#: time (one run; results/agents/scaling/README.md).
ANY_SIZE_SEARCH: dict[str, Any] = {"samples": 12, "window_sets": 5, "prior_sets": 1, "lookahead": True,
                                   "polish": True}
#: The polish (``polish=True``): candidates per model and window (the first of every segment count,
#: then the best), branch-and-bound nodes per window, passes over the windows.
POLISH_CANDIDATES = 28
POLISH_NODES = 20_000
POLISH_PASSES = 2
#: Window-v0's pool options at inference for the schedulers that run no SCAR: 12 segments at most
#: (a quarter of the chiplets past 48), 2 DFS paths per root chiplet, and a lighter SEG than SCAR's
#: on MCMs of more than 16 chiplets (200 cut sets enumerated per segment count, 8 probe class
#: sequences, balanced cuts moved by 1 layer; SCAR: 2000, 24, 2): the cut-set scoring was most of a
#: 6x6 schedule's time. Measured when chosen (large-6x6, window-ls-any): 200 and 8 took 2.2 -> 1.45
#: CPU-s, EDP / SCAR 0.969 -> 0.974; radius 1 then 0.97 -> 0.73 CPU-s, 0.974 -> 0.975 (8x8: 0.983 ->
#: 0.987). An agent's own ``env_kwargs`` win over these.
ANY_SIZE_ENV: dict[str, Any] = {"windows": "reconfig", "anchor": False, "pool_segment_cap": 12,
                                "pool_paths_per_root": 2, "pool_seg_limit": 200, "pool_max_probes": 8,
                                "pool_seg_radius": 1}


@dataclass
class _Rollout:
    schedule: Schedule
    actions: list[int]
    probs: list[np.ndarray | None]  # masked action probabilities where the policy decided; None where replayed
    anchors: list[int | None]  # the env's slot of SCAR's own choice at each decision (Window-v0), if offered
    score: float = float("inf")
    options: dict[str, Any] | None = None  # the reset options it ran under (its windows)
    prior: str = "policy"  # what chose its undetermined decisions: "policy" or "lookahead"


@dataclass
class SearchResult:
    greedy: _Rollout
    greedy_result: ScheduleResult
    best: _Rollout
    best_rollout: int  # index of the best among the rollouts made (0 = the greedy one)
    rollouts: int
    trace: list[list[float]]  # [evaluations, best objective] after each rollout


class RolloutSearchPolicy(Policy):
    """Greedy rollout of a prior plus a search around it (see the module docstring).

    Subclasses give the env (:meth:`make_env`) and the prior (:meth:`_logits`).

    Args:
        samples: rollouts in total, the greedy one included; 1 = greedy only.
        improve: ``"local"`` or ``"sample"`` (see the module docstring).
        window_sets: windows the greedy rollouts try (1: the env's own; more: SCAR's boundary sets,
            on an env with ``windows="reconfig"``).
        prior_sets: how many of these windows (the first ones) the prior's greedy rollouts try;
            ``None``: all. The lookahead's try all of them.
        lookahead: also roll out greedily under the lookahead prior (Window-v0 only).
        polish: then re-solve each window of the best schedule jointly (Window-v0 only; see
            :meth:`polish_windows`).
    """

    def __init__(self, samples: int = 8, improve: str = "local", window_sets: int = 1, lookahead: bool = False,
                 polish: bool = False, prior_sets: int | None = None):
        if not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= MAX_SAMPLES:
            raise ConfigError("samples", f"expected an integer 1 .. {MAX_SAMPLES}, got {samples!r}", "use e.g. 8")
        if improve not in IMPROVE_MODES:
            raise ConfigError("improve", f"unknown mode {improve!r}", f"use one of {', '.join(IMPROVE_MODES)}")
        if (not isinstance(window_sets, int) or isinstance(window_sets, bool)
                or not 1 <= window_sets <= MAX_WINDOW_SETS):
            raise ConfigError("window_sets", f"expected an integer 1 .. {MAX_WINDOW_SETS}, got {window_sets!r}",
                              "use 1 (the env's windows) or e.g. 3 (SCAR's boundary sets)")
        if prior_sets is not None and (not isinstance(prior_sets, int) or isinstance(prior_sets, bool)
                                       or not 1 <= prior_sets <= MAX_WINDOW_SETS):
            raise ConfigError("prior_sets", f"expected an integer 1 .. {MAX_WINDOW_SETS} or none, got {prior_sets!r}",
                              "use 1 (the prior on the env's own windows only) or leave it out (all window sets)")
        for name, value in (("lookahead", lookahead), ("polish", polish)):
            if not isinstance(value, bool):
                raise ConfigError(name, f"expected true or false, got {value!r}", f"pass {name}=True or nothing")
        self.polish = polish
        self.samples = samples
        self.lookahead = lookahead
        self.improve = improve
        self.window_sets = window_sets
        self.prior_sets = prior_sets

    def params(self) -> dict[str, Any]:
        return {"samples": self.samples, "improve": self.improve, "window_sets": self.window_sets,
                "prior_sets": self.prior_sets, "lookahead": self.lookahead, "polish": self.polish}

    def window_options(self, env, evaluator: Evaluator) -> list[dict[str, Any] | None]:
        """Reset options of the greedy rollouts: ``[None]`` (the env's own windows), or with
        ``window_sets > 1`` on an env with ``windows="reconfig"`` the windows of the boundary sets SCAR
        considers (:func:`~scar_gym.policies.scar.policy.boundary_sets`: the periodic set, then
        ``window_sets - 1`` jittered ones from ``default_rng(0)``, as ``ScarPolicy`` draws them for
        seed 0), packed by first fit -- SCAR's candidate windows without SCAR's search."""
        if self.window_sets == 1 or getattr(getattr(env, "config", None), "windows", None) != "reconfig":
            return [None]
        from scar_gym.policies.scar.policy import boundary_sets
        from scar_gym.policies.windows import expected_layer_costs, first_fit_windows

        lat, _ = expected_layer_costs(env.evaluator)
        horizon = max(float(np.sum(x)) for x in lat)
        sets = boundary_sets(horizon, env.config.n_splits, self.window_sets, np.random.default_rng(0))
        out: list[dict[str, Any] | None] = [None]  # the env's own windows (the periodic set) first
        seen = {tuple(map(tuple, (sorted(w.items()) for w in first_fit_windows(lat, sets[0]).windows)))}
        for b in sets[1:]:
            tw = first_fit_windows(lat, b)
            key = tuple(map(tuple, (sorted(w.items()) for w in tw.windows)))
            if key not in seen:
                seen.add(key)
                out.append({"windows": tw})
        return out

    def make_env(self, evaluator: Evaluator):
        """An unwrapped env over the evaluator's models, batches, MCM and cost tables."""
        raise NotImplementedError

    def _logits(self, obs: Any) -> np.ndarray:
        """Unmasked action logits for one observation, shape ``(n_actions,)``."""
        raise NotImplementedError

    @staticmethod
    def env_for(evaluator: Evaluator, env_id: str, **kwargs: Any):
        """``gym.make(env_id)`` on the evaluator's instance, with the inference reward, unwrapped."""
        if evaluator.domain is None:
            raise ConfigError("evaluator.domain", "unknown: the evaluator was built from bare models",
                              "build it with scar_gym.factory.make_evaluator (or pass domain= to Evaluator)")
        kw = dict(kwargs)
        kw.update(mcm=evaluator.mcm, reward=INFERENCE_REWARD, reference=None, cost_model=evaluator.cost_model,
                  invalid_action="raise")
        inst = ModelSet(id="policy-input", models=tuple(evaluator.models), batches=tuple(evaluator.batches),
                        domain=evaluator.domain)
        return gym.make(env_id, scenario=inst, disable_env_checker=True, **kw).unwrapped

    def _lookahead_logits(self, env, objective: str) -> np.ndarray:
        """The lookahead prior: slots ranked by the scenario objective of Window-v0's
        :meth:`~scar_gym.envs.window_env.WindowEnv.slot_outlook` (best first, each rank e times
        less likely than the one before it, as ``window-ls``'s slot order)."""
        out = np.full(len(env.action_masks()), -1e9)
        outlook = env.slot_outlook()
        order = np.argsort(objective_value(objective, outlook[:, 0], outlook[:, 1]), kind="stable")
        out[order] = -np.arange(len(order), dtype=np.float64)
        return out

    def _rollout(self, env, prefix: Sequence[int] = (), rng: np.random.Generator | None = None,
                 parent: _Rollout | None = None, options: dict[str, Any] | None = None,
                 prior: str = "policy", objective: str = "edp") -> _Rollout:
        """Replay ``prefix``, then follow the prior: argmax, or a sample when ``rng`` is given.

        Records each decision's masked probabilities. The prefix's states are those of ``parent``
        (which made the same decisions before them), so their probabilities are copied, not recomputed.
        ``options``: the env's reset options (other windows, :meth:`window_options`). ``prior``:
        ``"policy"`` (:meth:`_logits`) or ``"lookahead"`` (:meth:`_lookahead_logits` on ``objective``)."""
        obs, _ = env.reset(seed=0, options=options)
        actions: list[int] = []
        probs: list[np.ndarray | None] = []
        anchors: list[int | None] = []
        done = False
        while not done:
            if len(actions) < len(prefix):
                d = len(actions)
                action, p = int(prefix[d]), (parent.probs[d] if parent is not None else None)
            else:
                mask = np.asarray(env.action_masks(), dtype=bool)
                raw = self._logits(obs) if prior == "policy" else self._lookahead_logits(env, objective)
                logits = np.where(mask, raw, -np.inf)
                p = np.exp(logits - logits.max())
                p /= p.sum()
                action = int(np.argmax(p)) if rng is None else int(rng.choice(len(p), p=p))
            actions.append(action)
            probs.append(p)
            anchors.append(getattr(env, "anchor_slot", None))
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        return _Rollout(env.schedule, actions, probs, anchors, options=options, prior=prior)

    def _neighbours(self, base: _Rollout, tried: set[tuple[int, ...]]) -> list[tuple[float, tuple[int, ...]]]:
        """Prefixes that change one decision of ``base``: first the decisions that left SCAR's own
        choice (Window-v0's anchor slot) taken back to it, then every other alternative, most probable
        under the policy first. A confident mistake has a tiny probability for its alternatives, so
        without the first group one bad decision could outlast the whole budget."""
        out = []
        for d, (a, p, anchor) in enumerate(zip(base.actions, base.probs, base.anchors)):
            if p is None:
                continue
            for j in np.flatnonzero(p > 0):
                key = (*base.actions[:d], int(j))
                if j != a and key not in tried:
                    out.append((-2.0 if j == anchor else -float(p[j]), key))
        out.sort()
        return out

    def search(self, env, evaluator: Evaluator, seed: int | None = None) -> SearchResult:
        """The greedy rollout, then up to ``samples - 1`` more per ``improve``, on a reset ``env``
        (from :meth:`make_env`), each scored by ``evaluator``. Expert iteration (:mod:`agents.expert`)
        uses the best rollout's actions as training targets."""
        for name, needs in (("lookahead", "slot_outlook"), ("polish", "empty_window_candidates")):
            if getattr(self, name) and not hasattr(env, needs):
                raise ConfigError(name, f"needs ScarGym/Window-v0 ({needs}); {type(env).__name__} has none",
                                  f"use {name}=False with this env")
        n0 = evaluator.num_evaluations
        e0 = env.evaluator.num_evaluations if env.evaluator is not evaluator else 0

        def used() -> int:  # cost-model evaluations so far: the env's (SCAR, candidates) and the scoring's
            return env.evaluator.num_evaluations - e0 + evaluator.num_evaluations - n0

        greedy = best = self._rollout(env)
        greedy_result = evaluator.evaluate(greedy.schedule, check=True)
        greedy.score = greedy_result.objective(evaluator.objective)
        trace = [[used(), greedy.score]]
        n_rollouts, best_k = 1, 0
        windows = self.window_options(env, evaluator)
        starts = [(o, "policy") for o in windows[: self.prior_sets]]  # the first: the greedy rollout's
        if self.lookahead:  # after the policy's greedy rollouts: the lookahead's, on every window set
            starts += [(o, "lookahead") for o in windows]
        for options, prior in starts[1:]:  # greedy rollouts on other windows and under the lookahead
            if n_rollouts >= self.samples:
                break
            r = self._rollout(env, options=options, prior=prior, objective=evaluator.objective)
            n_rollouts += 1
            r.score = evaluator.score(r.schedule, check=True)
            if r.score < best.score:
                best, best_k = r, n_rollouts - 1
            trace.append([used(), best.score])
        rng = np.random.default_rng(0 if seed is None else seed)
        tried: set[tuple[int, ...]] = set()
        queue = self._neighbours(best, tried) if self.improve == "local" else []
        while n_rollouts < self.samples:
            if self.improve == "sample":
                r = self._rollout(env, rng=rng, options=best.options, prior=best.prior, objective=evaluator.objective)
            elif queue:  # "local": first-improvement descent over one-decision changes, ranked by the prior
                _, prefix = queue.pop(0)
                tried.add(prefix)
                r = self._rollout(env, prefix, parent=best, options=best.options, prior=best.prior,
                                  objective=evaluator.objective)
            else:
                break
            n_rollouts += 1
            r.score = evaluator.score(r.schedule, check=True)
            if r.score < best.score:
                best, best_k = r, n_rollouts - 1
                if self.improve == "local":
                    queue = self._neighbours(best, tried)
            trace.append([used(), best.score])
        return SearchResult(greedy, greedy_result, best, best_k, n_rollouts, trace)

    def polish_windows(self, env, evaluator: Evaluator, rollout: _Rollout) -> tuple[Schedule, int]:
        """Coordinate descent over the windows of ``rollout``'s schedule, as SCAR refines its own: each
        window in turn is re-solved jointly, the other windows fixed, by branch and bound
        (:func:`~scar_gym.policies.scar.search.branch_and_bound`) over, per model, the
        :data:`POLISH_CANDIDATES` Window-v0 lists for it in an empty window plus its current
        placement, on the scenario objective; a window changes only when that improves, for up to
        :data:`POLISH_PASSES` passes. The rollouts place a window's models one at a time, each
        blind to what the later ones need; this places them together. Returns the schedule and the
        number of windows changed."""
        from scar_gym.envs.candidates import candidate_of
        from scar_gym.policies.scar.search import branch_and_bound, window_objective

        env.reset(seed=0, options=rollout.options)
        objective = evaluator.objective
        windows = list(rollout.schedule.windows)
        results = [evaluator.evaluate_window(w) for w in windows]
        changed = 0
        for _ in range(POLISH_PASSES):
            improved = False
            for wi, spec in enumerate(env.plan.windows):
                others = [r for j, r in enumerate(results) if j != wi]
                f = window_objective(objective, sum(r.latency_s for r in others), sum(r.energy_j for r in others))
                now = {a.model: a for a in windows[wi].assignments}
                lists = []
                for slot, (m, _, _) in enumerate(spec):
                    cands = env.empty_window_candidates(wi, slot, POLISH_CANDIDATES)
                    cands.append(candidate_of(evaluator, now[m], objective))
                    lists.append(sorted(cands, key=lambda c: f(c.latency_s, c.energy_j)))
                sol = branch_and_bound(lists, f, POLISH_NODES)
                if sol is not None and sol.value < f(results[wi].latency_s, results[wi].energy_j) * (1 - 1e-12):
                    windows[wi] = Window(tuple(sorted(sol.assignments, key=lambda a: a.model)))
                    results[wi] = evaluator.evaluate_window(windows[wi])
                    changed += 1
                    improved = True
            if not improved:
                break
        return Schedule(tuple(windows), rollout.schedule.meta), changed

    def schedule(self, evaluator: Evaluator, seed: int | None = None) -> Schedule:
        t0 = time.perf_counter()
        env = self.make_env(evaluator)
        t1 = time.perf_counter()
        env.reset(seed=0)  # builds the env's per-scenario context (Window-v0: SCAR's windows + candidate pools)
        t2 = time.perf_counter()
        setup_evals = env.evaluator.num_evaluations  # a fresh env: all of them are the setup's
        res = self.search(env, evaluator, seed)
        greedy_res = res.greedy_result
        best_schedule, polished = res.best.schedule, None
        if self.polish:
            best_schedule, changed = self.polish_windows(env, evaluator, res.best)
            polished = {"objective": evaluator.score(best_schedule, check=True), "windows_changed": changed}
        t3 = time.perf_counter()
        reference_s = float(sum(env.scenario_data.reference_s.values()))  # SCAR's run for windows / anchors
        env.close()
        meta = {
            "policy": self.name, **self.params(), "seed": seed,
            "rollouts": res.rollouts, "best_rollout": res.best_rollout,
            "objective": evaluator.objective, "greedy_objective": res.greedy.score,
            # the best rollout's objective; with polish, "polished" has the returned schedule's
            "best_objective": res.best.score, "polished": polished,
            "greedy_edp_js": greedy_res.edp_js, "greedy_latency_s": greedy_res.latency_s,
            "greedy_energy_j": greedy_res.energy_j,
            "evaluations": setup_evals + res.trace[-1][0],
            # [evaluations, best objective] after each rollout, counting the setup's evaluations too
            "trace": [[setup_evals + u, v] for u, v in res.trace],
            "runtime_s": time.perf_counter() - t0,
            "setup_s": t2 - t1,  # the env's context: cost tables, (Window-v0) SCAR windows and candidates
            "rollouts_s": t3 - t2,  # the policy's own work: all rollouts, their scoring and the polish
            # of setup_s, the reference policies' runs (SCAR, for windows="scar" / the anchor); 0 when
            # the env needs none (windows="reconfig", anchor=False: the size-agnostic agents)
            "reference_s": reference_s,
            "own_s": time.perf_counter() - t0 - reference_s,
        }
        return Schedule(best_schedule.windows, meta)


class WindowSearchPolicy(RolloutSearchPolicy):
    """``window-ls``: the rollout search on ``ScarGym/Window-v0`` with no learned prior.

    The prior prefers lower slots (slot 0 = SCAR's own choice, then the env's candidates by the
    model's own objective), so the greedy rollout is SCAR's schedule and the local search tries
    one-decision changes to the next-best candidates, earliest decisions first. It is the agents'
    ablation: the same search, the same env (``relocate`` as the shipped configs), no training.

    Args:
        samples, improve, lookahead, polish, window_sets, prior_sets: as :class:`RolloutSearchPolicy`.
        relocate, k_max: Window-v0's arguments.
    """

    name = "window-ls"
    description = ("SCAR improved by one-decision changes in ScarGym/Window-v0 "
                   "(the agents' search, no learned prior)")

    def __init__(self, samples: int = 8, improve: str = "local", relocate: int = 24, k_max: int = 16,
                 lookahead: bool = False, polish: bool = False, window_sets: int = 1, prior_sets: int | None = None):
        super().__init__(samples, improve, window_sets, lookahead, polish, prior_sets)
        self.relocate = relocate
        self.k_max = k_max

    def params(self) -> dict[str, Any]:
        return {**super().params(), "relocate": self.relocate, "k_max": self.k_max}

    def make_env(self, evaluator: Evaluator):
        return self.env_for(evaluator, "ScarGym/Window-v0", relocate=self.relocate, k_max=self.k_max)

    def _logits(self, obs: Any) -> np.ndarray:
        # each slot e times less likely than the one before it: the env's own order, nothing learned
        return -np.arange(self.k_max, dtype=np.float64)


class AnySizeWindowSearchPolicy(WindowSearchPolicy):
    """``window-ls-any``: the same search without SCAR, in the env of the size-agnostic agents
    (``ppo``, alias ``ppo-any``: MCM-Reconfig windows, no SCAR anchor, capped pools, greedy rollouts
    on SCAR's candidate boundary sets): ``ppo``'s ablation, the slot order (each model's own
    objective) as the prior instead of the network. Its defaults are ``ppo``'s: :data:`ANY_SIZE_SEARCH`."""

    name = "window-ls-any"
    description = "ppo's search with no learned prior (no SCAR run: MCM-Reconfig windows, no anchor)"

    def __init__(self, samples: int = ANY_SIZE_SEARCH["samples"], improve: str = "local", relocate: int = 24,
                 k_max: int = 16, window_sets: int = ANY_SIZE_SEARCH["window_sets"],
                 lookahead: bool = ANY_SIZE_SEARCH["lookahead"], polish: bool = ANY_SIZE_SEARCH["polish"],
                 prior_sets: int | None = ANY_SIZE_SEARCH["prior_sets"]):
        super().__init__(samples, improve, relocate, k_max, lookahead, polish, window_sets, prior_sets)

    def make_env(self, evaluator: Evaluator):
        return self.env_for(evaluator, "ScarGym/Window-v0", relocate=self.relocate, k_max=self.k_max, **ANY_SIZE_ENV)
