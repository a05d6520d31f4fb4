"""``ScarGym/Window-v0``: choose one model's whole pipeline in a window per step, among SCAR's candidates."""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
from gymnasium import spaces

from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError
from scar_gym.hardware import DATAFLOWS, MCM
from scar_gym.schedule import Assignment, Schedule, Window
from scar_gym.workloads.layers import OP_TYPES
from scar_gym.envs import features as F
from scar_gym.envs.base import ScarEnvBase, as_index
from scar_gym.envs.candidates import CandidatePools, WindowCandidate, candidate_of
from scar_gym.envs.types import normalise_windows

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "valid",
    "anchor",  # SCAR's own choice for this (window, model)
    "latency",  # squash(latency, window ref)
    "energy",  # squash(energy, the model's expected energy in the window)
    "value_ratio",  # best own objective among the listed candidates / this one's
    "latency_ratio",  # min latency listed / this one's
    "energy_ratio",  # min energy listed / this one's
    "segments",  # segments / chiplets
    "chiplet_share",  # chiplets used / free chiplets
    "window_increase",  # squash(max(0, latency - window latency so far), window ref)
    *(f"dataflow_{d}" for d in DATAFLOWS),  # fraction of its chiplets with each dataflow
    "minibatch_ratio",  # minibatch / batch
    "weight_load_share",  # weight load time / latency
)
CHIPLET_COLUMNS: tuple[str, ...] = (*(f"dataflow_{d}" for d in DATAFLOWS), "exists", "row", "col", "dram_hops",
                                    "free", "load")
GLOBAL_COLUMNS: tuple[str, ...] = (
    "window", "model_slot", "models_after", "free_chiplets", "partial_latency", "partial_energy",
    "window_latency", "window_energy", "model_expected_latency", "model_expected_energy", "batch",
    "window_layers", "model_share", "future_windows", "episode_progress", "num_models", "datacenter", "chiplets",
    "num_windows", *(f"op_{o}" for o in OP_TYPES),
)
WINDOW_MODES = ("scar", "reconfig")


class WindowEnv(ScarEnvBase):
    """Schedule a scenario one (window, model) pipeline at a time, choosing among SCAR's candidates.

    ## Description

    The macro variant of ``ScarGym/Schedule-v0``. The scenario is cut into time windows (by default
    SCAR's own windows for this scenario and MCM). Each step chooses the complete pipeline (a
    segmentation of the model's layers in the window and the chiplet path it runs on) of the next
    model of the current window, models in index order. The choices come from SCAR's engines (see
    :mod:`scar_gym.envs.candidates`): SEG's top-``k`` cut sets and per-segment-count fallbacks, on
    every SCHED DFS path, scored by the shared evaluator. SCAR solves each window on its own
    (a per-window best); an agent here sees the whole scenario (past windows' totals, future windows'
    expected load) and can trade latency in one window against energy in another.

    ## Action Space

    ``Discrete(k_max)``: slot ``j`` is the ``j``-th candidate listed for the current model. Slot 0 is
    SCAR's own choice when ``anchor=True`` and it is still placeable (so always taking 0 reproduces
    SCAR's schedule exactly); then the other candidates by the model's own objective in the window.
    Only candidates that avoid the chiplets taken earlier in the window and leave at least one free
    chiplet for every model still to come are listed; the mask is True for the listed slots.
    **Never empty**: every single-chiplet placement is in the pool, and by the same counting
    invariant as Schedule-v0 a free chiplet with room to spare always exists.

    ## Observation Space

    ``Dict`` (every Box float32 in [0, 1]): ``action_mask`` ``MultiBinary(k_max)``; ``candidates``
    ``(k_max, 15)`` (see :data:`CANDIDATE_COLUMNS`; zero rows for empty slots); ``candidate_chiplets``
    ``(k_max, C_max)`` (1 where a candidate puts a segment); ``chiplets`` ``(C_max, 9)`` (dataflow, position,
    free, load); ``global`` ``(24,)`` (progress, partial latency/energy, the current model's expected
    cost, future windows' share, op mix). ``flatten=True`` gives the flattened ``Box``.

    ## Rewards

    As Schedule-v0 (:mod:`scar_gym.rewards`), one decision per (window, model); default
    ``edp_log_ratio_shaped`` against ``reference`` (``"scar"`` by default here: a positive return
    means the agent beat SCAR). The final info carries the same keys as Schedule-v0.

    ## Starting State

    The first model of the first window, nothing placed. First use of a scenario runs SCAR once and
    builds the candidate pools (cached per scenario and MCM).

    ## Episode End

    Terminated after the last (window, model). Truncated after ``max_invalid`` invalid actions.

    ## Arguments

    ``scenario``, ``mcm``, ``reward``, ``max_chiplets``, ``flatten``, ``invalid_action``,
    ``invalid_penalty``, ``max_invalid``, ``generator_kwargs``, ``render_mode``, ``cost_model``,
    ``cache_size``, ``memo_size`` as Schedule-v0, plus:

    * ``reference``: reference policy of the ratios and relative rewards (default ``"scar"``).
    * ``windows``: ``"scar"`` (SCAR's windows, default), ``"reconfig"`` (MCM-Reconfig with ``n_splits``)
      or explicit windows as in Schedule-v0.
    * ``k_max``: candidate slots (16). ``anchor``: put SCAR's choice in slot 0 (needs ``windows="scar"``).
    * ``k``, ``per_signature``: candidate pool parameters (:class:`~scar_gym.envs.candidates.CandidatePools`).
    * ``relocate``: up to this many **relocations** per decision (0 = off, the default of v0): pool
      candidates blocked by chiplets taken earlier in the window, moved onto free chiplets of the
      same class (:meth:`~scar_gym.envs.candidates.CandidatePools.relocated`). They compete for the
      slots with the pool's own candidates by the model's objective.

    ## Version History

    * v0: initial version.
    """

    def __init__(self, scenario: Any = "sc4", mcm: str | MCM = "het-sides-3x3", *,
                 reward: str = "edp_log_ratio_shaped", reference: str | None = "scar", n_splits: int = 4,
                 windows: Any = "scar", k_max: int = 16, anchor: bool = True, k: int = 3, per_signature: int = 2,
                 relocate: int = 0,
                 max_chiplets: int | None = None, flatten: bool = False, invalid_action: str = "penalize",
                 invalid_penalty: float = -1.0, max_invalid: int | None = 1000,
                 generator_kwargs: dict | None = None, render_mode: str | None = None,
                 cost_model: CostModel | None = None, cache_size: int = 64, memo_size: int = 200_000):
        super().__init__(scenario, mcm, reward=reward, reference=reference, n_splits=n_splits, windows=windows,
                         max_chiplets=max_chiplets, flatten=flatten, invalid_action=invalid_action,
                         invalid_penalty=invalid_penalty, max_invalid=max_invalid,
                         generator_kwargs=generator_kwargs, render_mode=render_mode, cost_model=cost_model,
                         cache_size=cache_size, memo_size=memo_size)
        if not isinstance(k_max, int) or k_max < 1:
            raise ConfigError("k_max", f"expected an integer >= 1, got {k_max!r}", "use e.g. 16")
        if anchor and windows != "scar":
            raise ConfigError("anchor", "SCAR's choice exists only on SCAR's windows", "use windows='scar' or anchor=False")
        if not isinstance(relocate, int) or isinstance(relocate, bool) or relocate < 0:
            raise ConfigError("relocate", f"expected an integer >= 0, got {relocate!r}", "use 0 (off) or e.g. 24")
        self.k_max = k_max
        self.anchor = bool(anchor)
        self.relocate = relocate
        self.pool_kwargs = {"k": k, "per_signature": per_signature}
        c_max = self.c_max
        self.action_space = spaces.Discrete(k_max)
        self.dict_space = spaces.Dict({
            "action_mask": spaces.MultiBinary(k_max),
            "candidate_chiplets": spaces.Box(0.0, 1.0, (k_max, c_max), np.float32),
            "candidates": spaces.Box(0.0, 1.0, (k_max, len(CANDIDATE_COLUMNS)), np.float32),
            "chiplets": spaces.Box(0.0, 1.0, (c_max, len(CHIPLET_COLUMNS)), np.float32),
            "global": spaces.Box(0.0, 1.0, (len(GLOBAL_COLUMNS),), np.float32),
        })
        self.observation_space = spaces.flatten_space(self.dict_space) if self.flatten else self.dict_space
        self._ch_static = F.chiplet_static_features(self.mcm, c_max)

    # -- public state ------------------------------------------------------------------------------
    @property
    def position(self) -> tuple[int, int]:
        """(window, model) of the next decision; (n_windows, -1) at the end."""
        self._need_reset()
        if self._wi >= len(self._plan.windows):
            return (self._wi, -1)
        return (self._wi, self._win[self._k][0])

    @property
    def candidates(self) -> list[WindowCandidate]:
        """The listed candidates of the current decision (slot order)."""
        self._need_reset()
        return list(self._slots)

    @property
    def anchor_slot(self) -> int | None:
        """The slot of SCAR's own choice for the current decision (0), or ``None`` when it is not
        offered (``anchor=False``, a blocked anchor, or the episode is over)."""
        self._need_reset()
        return self._anchor_slot if self._wi < len(self._plan.windows) else None

    def action_masks(self) -> np.ndarray:
        self._need_reset()
        return self._mask.copy()

    def _current_schedule(self) -> Schedule:
        wins = list(self._windows_done)
        if self._wi < len(self._plan.windows) and self._win_assign:
            wins.append(Window(tuple(self._win_assign)))
        return Schedule(tuple(wins), {"policy": "env-window", "scenario": self._data.id})

    # -- gym API -----------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        data, windows = self._select(options)
        self._data = data
        anchor_sched = None
        if isinstance(windows, str):
            if windows == "scar":
                anchor_sched = data.policy_schedule("scar")[0]
                windows = anchor_sched
            elif windows == "reconfig":
                windows = None
            else:
                raise ConfigError("windows", f"unknown mode {windows!r}", f"use {', '.join(WINDOW_MODES)} or a list")
        self._plan = data.plan(windows, self.n_splits)
        self._anchors: dict[tuple[int, int], WindowCandidate] = {}
        if self.anchor and anchor_sched is not None:
            spec = normalise_windows(anchor_sched, data.num_layers)
            if spec == self._plan.windows:
                obj = self.reward_fn.objective
                for wi, w in enumerate(anchor_sched.windows):
                    for a in w.assignments:
                        self._anchors[(wi, a.model)] = candidate_of(data.evaluator, a, obj)
        self._pools = CandidatePools.for_data(data, objective=self.reward_fn.objective, **self.pool_kwargs)
        self._reset_reward()
        self._windows_done: list[Window] = []
        self._done_lat = self._done_en = 0.0
        self._est_en_placed = 0.0
        self._est_en_total = float(sum(c[-1] for c in data.est_en_cum))
        self._n_dec = self._n_invalid = 0
        self._final = None
        self._over = False
        self._wi = 0
        self._start_window()
        return self._obs(), {"action_mask": self._mask.copy(), "invalid_action": False}

    def step(self, action):
        self._check_running()
        a = as_index(action)
        if a is None or not 0 <= a < self.k_max or not self._mask[a]:
            if a is None:
                reason = "not an integer slot index"
            elif not 0 <= a < self.k_max:
                reason = f"slot {a} out of range 0..{self.k_max - 1}"
            else:
                reason = f"slot {a} is empty: only {len(self._slots)} candidates are placeable for this model"
            return self._reject(action, reason)
        self._n_dec += 1
        cand = self._slots[a]
        data = self._data
        m, lo, hi = self._win[self._k]
        self._win_assign.append(cand.assignment)
        self._win_lat = max(self._win_lat, cand.latency_s)
        self._win_en += cand.energy_j
        self._est_en_placed += data.est_en_cum[m][hi] - data.est_en_cum[m][lo]
        self._taken |= cand.mask
        self._free_count -= cand.size
        res = data.evaluator.evaluate_assignment(cand.assignment)
        reps = data.evaluator.batches[m] // res.minibatch
        wref = self._wref
        for s, st in zip(cand.assignment.segments, res.stage_latency_s):
            busy = st * reps
            self._dyn[s.chiplet, 0] = 0.0
            self._dyn[s.chiplet, 1] = busy / (busy + wref) if wref > 0 else 1.0
        self._k += 1
        if self._k == len(self._win):
            self._windows_done.append(Window(tuple(self._win_assign)))
            self._done_lat += self._win_lat
            self._done_en += self._win_en
            self._wi += 1
            if self._wi < len(self._plan.windows):
                self._start_window()
        else:
            self._fill_slots()
        if self._wi >= len(self._plan.windows):
            self._slots = []
            self._mask = np.zeros(self.k_max, dtype=bool)
            reward, info = self._finish_episode(self._current_schedule(), self._n_dec, self._n_invalid)
            return self._obs(), float(reward), True, False, {"action_mask": self._mask.copy(),
                                                             "invalid_action": False, **info}
        lat, en = self._done_lat + self._win_lat, self._done_en + self._win_en
        reward = self.reward_fn(self._reward_input(lat, en, self._estimate))
        return self._obs(), float(reward), False, False, {"action_mask": self._mask.copy(), "invalid_action": False}

    # -- mechanics ---------------------------------------------------------------------------------
    def _start_window(self) -> None:
        self._win = self._plan.windows[self._wi]
        self._wref = self._plan.window_ref_s[self._wi]
        self._win_assign: list[Assignment] = []
        self._win_lat = self._win_en = 0.0
        self._taken = 0
        self._free_count = self.mcm.num_chiplets
        self._dyn = np.zeros((self.c_max, 2), dtype=np.float32)
        self._dyn[: self.mcm.num_chiplets, 0] = 1.0
        self._k = 0
        self._fill_slots()

    def _fill_slots(self) -> None:
        m = self._win[self._k][0]
        room = self._free_count - (len(self._win) - self._k - 1)
        taken = self._taken
        anchor = self._anchors.get((self._wi, m))
        if anchor is not None and (anchor.mask & taken or anchor.size > room):
            anchor = None
        # Feasible candidates in pool order (best own objective first); the best of every
        # segment count is kept even when better ones would fill the slots, so that "fewer
        # chiplets, leave room for the others" stays an option.
        feasible: list[WindowCandidate] = []
        best_per_size: dict[int, WindowCandidate] = {}
        stream = self._pools.pool(self._win, self._k)
        if self.relocate and taken:
            moved = self._pools.relocated(self._win, self._k, taken, room, self.relocate)
            stream = heapq.merge(stream, moved, key=lambda c: (c.value, c.size))
        for c in stream:
            if c.mask & taken or c.size > room:
                continue
            if anchor is not None and c.mask == anchor.mask and c.assignment == anchor.assignment:
                continue
            if len(feasible) < self.k_max:
                feasible.append(c)
            if c.size not in best_per_size:
                best_per_size[c.size] = c
            if len(feasible) >= self.k_max and len(best_per_size) >= room:
                break
        budget = self.k_max - (anchor is not None)
        must = [c for c in best_per_size.values()][:budget]
        must_ids = {id(c) for c in must}
        rest = [c for c in feasible if id(c) not in must_ids][: budget - len(must)]
        chosen = sorted(must + rest, key=lambda c: (c.value, c.size))
        slots = ([anchor] if anchor is not None else []) + chosen
        self._slots = slots
        self._anchor_slot = 0 if anchor is not None else None
        mask = np.zeros(self.k_max, dtype=bool)
        mask[: len(slots)] = True
        self._mask = mask

    def _estimate(self) -> tuple[float, float]:
        plan, wi = self._plan, self._wi
        wl = max(self._win_lat, plan.est_tail_max_s[wi][self._k])
        return (self._done_lat + wl + plan.est_future_s[wi],
                self._done_en + self._win_en + max(0.0, self._est_en_total - self._est_en_placed))

    def _obs(self):
        data, plan = self._data, self._plan
        C, K = self.mcm.num_chiplets, self.k_max
        nw = len(plan.windows)
        cand = np.zeros((K, len(CANDIDATE_COLUMNS)), dtype=np.float32)
        cch = np.zeros((K, self.c_max), dtype=np.float32)
        lat, en = self._done_lat + self._win_lat, self._done_en + self._win_en
        scn = [min(1.0, data.num_models / 8), float(data.domain == "datacenter"), C / self.c_max, min(1.0, nw / 16)]
        if self._wi < nw:
            m, lo, hi = self._win[self._k]
            wref = self._wref
            el = data.exp_lat_cum[m][hi] - data.exp_lat_cum[m][lo]
            ee = data.exp_en_cum[m][hi] - data.exp_en_cum[m][lo]
            slots = self._slots
            if slots:
                best_v = min(c.value for c in slots)
                best_l = min(c.latency_s for c in slots)
                best_e = min(c.energy_j for c in slots)
                anchor = self._anchors.get((self._wi, m))
                b = data.evaluator.batches[m]
                free, win_lat = self._free_count, self._win_lat
                rows = []
                for j, c in enumerate(slots):
                    lt, en_c = c.latency_s, c.energy_j
                    inc = lt - win_lat if lt > win_lat else 0.0
                    rows.append((1.0, float(c is anchor), lt / (lt + wref) if wref > 0 else 1.0,
                                 en_c / (en_c + ee) if ee > 0 else 1.0,
                                 best_v / c.value if c.value > 0 else 1.0, best_l / lt if lt > 0 else 1.0,
                                 best_e / en_c if en_c > 0 else 1.0, c.size / C, c.size / free,
                                 inc / (inc + wref) if wref > 0 else 0.0, *c.dataflow_share,
                                 c.minibatch / b, c.weight_load_s / lt if lt > 0 else 0.0))
                    cch[j, c.chiplets] = 1.0
                cand[: len(rows)] = rows
            ops = self._op_share(m, lo, hi)
            n_win = len(self._win)
            glob = [self._wi / nw, self._k / n_win, (n_win - self._k - 1) / C, self._free_count / C,
                    F.squash(lat, plan.ref_latency_s), F.squash(en, plan.ref_energy_j),
                    F.squash(self._win_lat, wref), F.squash(self._win_en, ee), F.squash(el, wref),
                    F.squash(ee, plan.ref_energy_j), min(1.0, float(np.log2(data.evaluator.batches[m])) / 8),
                    min(1.0, (hi - lo) / 64), (hi - lo) / data.layer_counts[m],
                    F.squash(plan.future_s[self._wi], plan.ref_latency_s), self._n_dec / self._n_total,
                    *scn, *ops]
            dyn = self._dyn
        else:
            glob = [1.0, 1.0, 0.0, 1.0, F.squash(lat, plan.ref_latency_s), F.squash(en, plan.ref_energy_j),
                    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, *scn, *([0.0] * len(OP_TYPES))]
            dyn = np.zeros((self.c_max, 2), dtype=np.float32)
        obs = {
            "action_mask": self._mask.astype(np.int8),
            "candidate_chiplets": cch,
            "candidates": cand,
            "chiplets": np.concatenate((self._ch_static, dyn), axis=1),
            "global": np.array(glob, dtype=np.float32),
        }
        if self.flatten:
            return np.concatenate([obs[k].ravel() for k in sorted(obs)], dtype=np.float32)
        return obs

    @property
    def _n_total(self) -> int:
        return sum(len(w) for w in self._plan.windows)

    def _op_share(self, m: int, lo: int, hi: int) -> np.ndarray:
        """Fraction of each op type among model ``m``'s layers ``[lo, hi)`` (prefix counts cached per scenario)."""
        key = ("op_counts", m)
        cum = self._data.extras.get(key)
        if cum is None:
            layers = self._data.evaluator.models[m].layers
            onehot = np.zeros((len(layers) + 1, len(OP_TYPES)))
            for i, layer in enumerate(layers):
                onehot[i + 1, OP_TYPES.index(layer.op)] = 1.0
            cum = self._data.extras[key] = np.cumsum(onehot, axis=0)
        return (cum[hi] - cum[lo]) / (hi - lo)
