"""``ScarGym/Schedule-v0``: place one layer per step on a chiplet of the current time window."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from scar_gym.costmodel.tables import CostModel
from scar_gym.evaluator import ModelWindowResult
from scar_gym.hardware import MCM
from scar_gym.schedule import Assignment, Schedule, Segment, Window
from scar_gym.envs import features as F
from scar_gym.envs.base import ScarEnvBase, as_index


class ScheduleEnv(ScarEnvBase):
    """Schedule a multi-model scenario on a multi-chiplet module, one layer per step.

    ## Description

    An episode schedules one scenario (a set of DNN models with batch sizes) on one MCM (a grid of
    chiplets with NVDLA-like or ShiDianNao-like dataflows). The scenario is first cut into time windows
    by SCAR's MCM-Reconfig (``n_splits`` periodic boundaries, first-fit; or the ``windows`` given).
    Then the agent places layers in this fixed order: window by window; inside a window **model by
    model in index order** (not interleaved: a model's pipeline is built completely before the next
    model starts, so "enough free chiplets for the models still to come" is a simple count); inside a
    model, layer by layer in topological order. Each layer goes either on the chiplet of its model's
    open segment (extending it) or on a free chiplet (closing the open segment and starting a new
    one). The result is a :class:`~scar_gym.schedule.Schedule`: per window, per model, contiguous
    segments forming an inter-chiplet pipeline, scored by the shared
    :class:`~scar_gym.evaluator.Evaluator`. A window holding more models than the MCM has chiplets
    is split into consecutive windows (a window needs one chiplet per model).

    ## Action Space

    ``Discrete(C_max)``: the chiplet (row-major index) for the current layer. ``C_max`` is the MCM's
    chiplet count, or ``max_chiplets`` to pad several MCM sizes to one action space (padding actions
    are always masked). The valid actions (``action_masks()``, ``obs["action_mask"]``,
    ``info["action_mask"]``, True/1 = valid) are:

    * the open segment's chiplet (continue), unless this is the model's first layer in the window;
    * a free chiplet of the window (start a segment), provided that at least one free chiplet remains
      for every model still to come in the window (and, with ``require_paths=True``, the chiplet
      neighbours the open segment's chiplet).

    Chiplets used by another model in the window, or earlier by this model, are never valid
    (contiguity; one model per chiplet per window). **The mask of a non-terminal state is never
    empty**: at the start of the ``k``-th of ``n`` models of a window at least ``n - k`` chiplets are
    free (true for ``k = 0`` because windows have at most ``C`` models; a model may only take a new
    chiplet while the free count after taking it is still ``>= n - k - 1``, which is then exactly
    the invariant for model ``k + 1``). So the first layer of a model always has a free chiplet, and
    every later layer can continue its open segment. After the last step the mask is all zero.

    Invalid actions (off-mask, out of range, not an integer): with ``invalid_action="penalize"`` (the
    default; Gymnasium's and SB3's checkers step unmasked random actions) the state does not change,
    the reward is ``invalid_penalty`` and ``info["invalid_action"]`` is True (with
    ``info["invalid_reason"]``); after ``max_invalid`` invalid actions in an episode it is truncated.
    With ``invalid_action="raise"`` a :class:`~scar_gym.errors.InvalidActionError` names the action and why.

    ## Observation Space

    A ``Dict`` (sorted keys), every Box float32 in [0, 1]; see :mod:`scar_gym.envs.features` for the
    columns and scalings:

    * ``action_mask``: ``MultiBinary(C_max)``, the mask above.
    * ``chiplets``: ``(C_max, 16)``: dataflow one-hot, exists, row, col, DRAM-side hops, free / this
      model / other model / open segment, load (busy time of its segment this window, squashed by the
      window's expected latency), hops from the open segment, relative speed and energy efficiency of
      the current layer on this chiplet's dataflow, memory use (segment weights / L2).
    * ``global``: ``(18,)``: window / model / layer / episode progress, free chiplets, segments, the
      partial schedule's latency and energy squashed by a scenario reference, batch, minibatch ratio,
      scenario size and domain.
    * ``layer``: ``(24,)``: the current layer's latency and energy per dataflow (log-scaled and relative
      to the best dataflow), op one-hot, log sizes (MACs, weight/input/output bytes), first/last in
      window, expected share of the window.

    All shapes depend only on ``C_max``, so one policy serves every scenario on MCMs of that size.
    With ``flatten=True`` the observation is the ``Box`` given by ``gymnasium.spaces.flatten`` of that
    Dict (FlattenObservation semantics); ``action_masks()`` keeps working.

    ## Rewards

    ``reward`` names a function of :mod:`scar_gym.rewards`: ``edp``, ``edp_shaped``, ``edp_relative``,
    ``edp_log_ratio``, ``edp_log_ratio_shaped`` (default), and the same for ``latency`` / ``energy``.
    **Start with** ``edp_log_ratio_shaped`` **(or** ``edp_log_ratio`` **)** for SB3: they are scale-free (the
    episode sums to ``log(EDP_ref / EDP)``, O(0.1-1) on every scenario, positive when beating the
    reference), whereas raw EDP spans four orders of magnitude across the paper's scenarios and breaks
    PPO's value function. The shaped variant is dense (a potential difference per step) and helps with
    episodes of several hundred steps; use ``gamma`` close to 1. The reference is the ``reference``
    policy's schedule (Standalone by default) on the same scenario and MCM, computed once and cached.
    ``edp_shaped`` sums exactly to ``-EDP`` (each step the change of ``-EDP`` of the partial schedule).

    The final step's ``info`` always holds ``latency_s``, ``energy_j``, ``edp_js``, ``objective``,
    ``reference_edp_js``, ``edp_ratio_vs_ref`` (EDP / reference EDP), ``objective_ratio_vs_ref``,
    ``n_invalid``, ``n_decisions``, ``n_windows`` and ``scenario``; every step's ``info`` holds
    ``action_mask`` and ``invalid_action``. The complete schedule is ``env.unwrapped.schedule`` and
    its result ``env.unwrapped.result``.

    ## Starting State

    The first layer of the first model of the first window, nothing placed. The scenario comes from
    ``scenario`` (drawn with ``np_random`` when several are possible), or ``reset(options={"scenario":
    ...})``; the windows from MCM-Reconfig, or ``windows=`` / ``reset(options={"windows": ...})``
    (a list of ``{model: (start, stop)}``, a ``TimeWindows`` or a ``Schedule``).

    ## Episode End

    Terminated when every layer is placed (``n_decisions`` = layers of the scenario). Truncated only
    after ``max_invalid`` invalid actions in one episode. There is no time limit.

    ## Arguments

    * ``scenario``: ``"sc4"``, a scenario YAML path, ``"paper"`` / ``"datacenter"`` / ``"arvr"``,
      ``"random"`` (with ``generator_kwargs`` for :class:`~scar_gym.scenarios.RandomScenarioGenerator`),
      a ``Scenario``, a :class:`~scar_gym.envs.generator.ModelSet`, a list, or any ``sample(rng)`` object.
    * ``mcm``: a preset name (``"het-sides-3x3"``), any :func:`~scar_gym.presets.load_mcm` string, or an
      :class:`~scar_gym.hardware.MCM`; its PE count follows each scenario's domain.
    * ``reward``, ``reference``: see Rewards. ``reference=None`` skips the reference (ratios are NaN;
      only rewards that do not need it).
    * ``n_splits`` (4), ``windows``: the time windows.
    * ``max_chiplets``: pad the action and chiplet dimensions to this many chiplets.
    * ``flatten``: Box observation instead of Dict.
    * ``invalid_action`` (``"penalize"`` | ``"raise"``), ``invalid_penalty`` (-1.0), ``max_invalid`` (1000, None = never truncate).
    * ``require_paths``: new segments must neighbour the open one (SCAR's DFS paths); off by default.
    * ``render_mode``: ``"ansi"`` (occupancy text) or ``"rgb_array"`` (Gantt chart).
    * ``cost_model``, ``cache_size`` (scenario contexts kept, LRU), ``memo_size`` (assignments memoised
      per evaluator).

    ## Version History

    * v0: initial version (sequential model order within a window, 16 chiplet / 18 global / 24 layer features).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, scenario: Any = "sc4", mcm: str | MCM = "het-sides-3x3", *,
                 reward: str = "edp_log_ratio_shaped", reference: str | None = "standalone",
                 n_splits: int = 4, windows: Any = None, max_chiplets: int | None = None,
                 flatten: bool = False, invalid_action: str = "penalize", invalid_penalty: float = -1.0,
                 max_invalid: int | None = 1000, require_paths: bool = False,
                 generator_kwargs: dict | None = None, render_mode: str | None = None,
                 cost_model: CostModel | None = None, cache_size: int = 64, memo_size: int = 20_000):
        super().__init__(scenario, mcm, reward=reward, reference=reference, n_splits=n_splits, windows=windows,
                         max_chiplets=max_chiplets, flatten=flatten, invalid_action=invalid_action,
                         invalid_penalty=invalid_penalty, max_invalid=max_invalid,
                         generator_kwargs=generator_kwargs, render_mode=render_mode, cost_model=cost_model,
                         cache_size=cache_size, memo_size=memo_size)
        self.require_paths = bool(require_paths)
        c_max, C = self.c_max, self.mcm.num_chiplets
        self.action_space = spaces.Discrete(c_max)
        self.dict_space = spaces.Dict({
            "action_mask": spaces.MultiBinary(c_max),
            "chiplets": spaces.Box(0.0, 1.0, (c_max, F.CHIPLET_DIM), np.float32),
            "global": spaces.Box(0.0, 1.0, (F.GLOBAL_DIM,), np.float32),
            "layer": spaces.Box(0.0, 1.0, (F.LAYER_DIM,), np.float32),
        })
        self.observation_space = spaces.flatten_space(self.dict_space) if self.flatten else self.dict_space

        self._ch_static = F.chiplet_static_features(self.mcm, c_max)
        self._hops_n = F.hops_features(self.mcm, c_max)
        adj = np.zeros((c_max, c_max), dtype=bool)
        for u, v in self.mcm.graph.edges:
            adj[u, v] = adj[v, u] = True
        self._adj = adj
        self._real = np.zeros(c_max, dtype=bool)
        self._real[:C] = True

    # -- public state ------------------------------------------------------------------------------
    @property
    def position(self) -> tuple[int, int, int]:
        """(window, model, layer) of the next decision; (n_windows, -1, -1) at the end."""
        self._need_reset()
        if self._wi >= len(self._plan.windows):
            return (self._wi, -1, -1)
        return (self._wi, self._m, self._pos)

    @property
    def num_decisions(self) -> int:
        """Decisions accepted so far in this episode."""
        self._need_reset()
        return self._n_dec

    def _current_schedule(self) -> Schedule:
        wins = list(self._windows_done)
        if self._wi < len(self._plan.windows):
            assigns = list(self._win_assign)
            if self._cur_assign is not None:
                assigns.append(self._cur_assign)
            if assigns:
                wins.append(Window(tuple(assigns)))
        return Schedule(tuple(wins), {"policy": "env", "scenario": self._data.id})

    def action_masks(self) -> np.ndarray:
        """(C_max,) bool, True = valid (sb3-contrib MaskablePPO's hook). A fresh array."""
        self._need_reset()
        return self._mask.copy()

    # -- gym API -----------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        data, windows = self._select(options)
        self._data = data
        self._plan = data.plan(windows, self.n_splits)
        self._reset_reward()
        self._begin()
        return self._obs(), {"action_mask": self._mask.copy(), "invalid_action": False}

    def step(self, action):
        self._check_running()
        a = as_index(action)
        if a is None or a < 0 or a >= self.c_max or not self._mask[a]:
            return self._reject(action, self._why_invalid(a))
        self._n_dec += 1
        m, pos, dyn = self._m, self._pos, self._dyn
        if a != self._open_c:  # start a new segment on free chiplet a
            if self._open_c >= 0:
                self._closed.append(Segment(self._open_start, pos, self._open_c))
                dyn[self._open_c, 3] = 0.0
            self._open_c, self._open_start = a, pos
            self._owner[a] = m
            self._free[a] = False
            self._free_count -= 1
            dyn[a, 0] = 0.0
            dyn[a, 1] = 1.0
            dyn[a, 3] = 1.0
            dyn[:, 5] = self._hops_n[a]
        self._pos = pos + 1
        data = self._data
        self._est_en_placed += data.est_en_layer[m][pos]
        segs = (*self._closed, Segment(self._open_start, self._pos, a))
        assign = Assignment(m, segs)
        res = data.evaluator.evaluate_assignment(assign)
        self._cur, self._cur_assign = res, assign
        reps = data.evaluator.batches[m] // res.minibatch
        wref = self._wref
        for s, st in zip(segs, res.stage_latency_s):
            busy = st * reps
            dyn[s.chiplet, 4] = busy / (busy + wref) if wref > 0 else 1.0
        cw = data.cum_weight_bytes[m]
        dyn[a, 8] = min(1.0, (cw[self._pos] - cw[self._open_start]) / self._l2[a])
        if self._pos == self._stop:
            self._finish_model()
        terminated = self._wi >= len(self._plan.windows)
        info: dict[str, Any]
        if terminated:
            self._mask = np.zeros(self.c_max, dtype=bool)
            self._cur = self._cur_assign = None
            reward, info = self._finish_episode(self._current_schedule(), self._n_dec, self._n_invalid,
                                                self.require_paths)
            info = {"action_mask": self._mask.copy(), "invalid_action": False, **info}
        else:
            self._update_mask()
            reward = self.reward_fn(self._reward_input(*self._partial(), self._estimate))
            info = {"action_mask": self._mask.copy(), "invalid_action": False}
        return self._obs(), float(reward), terminated, False, info

    # -- episode mechanics -------------------------------------------------------------------------
    def _begin(self) -> None:
        data = self._data
        self._l2 = [0.0] * self.c_max
        for c in range(self.mcm.num_chiplets):
            self._l2[c] = float(data.mcm.spec_for(data.mcm.dataflows[c]).l2_bytes)
        self._windows_done: list[Window] = []
        self._done_lat = 0.0
        self._done_en = 0.0
        self._est_en_placed = 0.0
        self._est_en_total = float(sum(c[-1] for c in data.est_en_cum))
        self._n_dec = 0
        self._n_invalid = 0
        self._final = None
        self._batch_feat = [min(1.0, float(np.log2(b)) / 8) for b in data.evaluator.batches]
        self._scn_feat = (min(1.0, data.num_models / 8), float(data.domain == "datacenter"),
                          self.mcm.num_chiplets / self.c_max, min(1.0, len(self._plan.windows) / 16))
        self._over = False
        self._wi = 0
        self._start_window()
        self._update_mask()

    def _start_window(self) -> None:
        self._win = self._plan.windows[self._wi]
        self._wref = self._plan.window_ref_s[self._wi]
        self._owner = [-1] * self.c_max
        self._free = self._real.copy()
        self._free_count = self.mcm.num_chiplets
        self._dyn = np.zeros((self.c_max, F.CHIPLET_DIM - F.CHIPLET_STATIC), dtype=np.float32)
        self._dyn[:, 0] = self._free
        self._win_assign: list[Assignment] = []
        self._win_lat = 0.0
        self._win_en = 0.0
        self._k = 0
        self._start_model()

    def _start_model(self) -> None:
        self._m, self._start, self._stop = self._win[self._k]
        self._pos = self._start
        self._closed: list[Segment] = []
        self._open_c = -1
        self._open_start = self._start
        self._cur: ModelWindowResult | None = None
        self._cur_assign: Assignment | None = None
        dyn = self._dyn
        dyn[:, 2] = np.maximum(dyn[:, 2], dyn[:, 1])  # the previous model's chiplets become "other"
        dyn[:, 1] = 0.0
        dyn[:, 3] = 0.0
        dyn[:, 5] = 0.0

    def _finish_model(self) -> None:
        res = self._cur
        self._win_assign.append(self._cur_assign)
        self._win_lat = max(self._win_lat, res.latency_s)
        self._win_en += res.energy_j
        self._k += 1
        if self._k < len(self._win):
            self._start_model()
            return
        self._windows_done.append(Window(tuple(self._win_assign)))
        self._done_lat += self._win_lat
        self._done_en += self._win_en
        self._wi += 1
        if self._wi < len(self._plan.windows):
            self._start_window()
        else:
            self._cur = None
            self._cur_assign = None

    def _update_mask(self) -> None:
        after = len(self._win) - self._k - 1
        if self._free_count - 1 >= after:
            mask = self._free.copy()
            if self.require_paths and self._open_c >= 0:
                mask &= self._adj[self._open_c]
        else:
            mask = np.zeros(self.c_max, dtype=bool)
        if self._open_c >= 0:
            mask[self._open_c] = True
        self._mask = mask

    def _partial(self) -> tuple[float, float]:
        cur = self._cur
        if cur is None:
            return self._done_lat + self._win_lat, self._done_en + self._win_en
        return (self._done_lat + max(self._win_lat, cur.latency_s),
                self._done_en + self._win_en + cur.energy_j)

    def _estimate(self) -> tuple[float, float]:
        plan, data, wi, k = self._plan, self._data, self._wi, self._k
        tails = plan.est_tail_max_s[wi]
        cur = self._cur
        if cur is None:
            wl, en_cur = max(self._win_lat, tails[k]), 0.0
        else:
            lat = data.est_lat_cum[self._m]
            wl = max(self._win_lat, cur.latency_s + (lat[self._stop] - lat[self._pos]), tails[k + 1])
            en_cur = cur.energy_j
        return (self._done_lat + wl + plan.est_future_s[wi],
                self._done_en + self._win_en + en_cur + max(0.0, self._est_en_total - self._est_en_placed))

    def _why_invalid(self, a: int | None) -> str:
        wi, m, pos = self.position
        where = f"window {wi}, model {m}, layer {pos}"
        if a is None:
            return "not an integer chiplet index"
        if not 0 <= a < self.c_max:
            return f"chiplet {a} out of range 0..{self.c_max - 1}"
        if a >= self.mcm.num_chiplets:
            return f"chiplet {a} is padding (the MCM has {self.mcm.num_chiplets} chiplets)"
        owner = self._owner[a]
        if owner >= 0 and owner != m:
            return f"{where}: chiplet {a} already holds model {owner} in this window"
        if owner == m:
            return f"{where}: chiplet {a} holds an earlier segment of this model (segments are contiguous)"
        after = len(self._win) - self._k - 1
        if self._free_count - 1 < after:
            return (f"{where}: a new segment would leave {self._free_count - 1} free chiplets for the {after} "
                    "model(s) still to come in this window")
        return f"{where}: chiplet {a} does not neighbour the open segment's chiplet {self._open_c} (require_paths)"

    # -- observation -------------------------------------------------------------------------------
    def _obs(self):
        dyn, data, plan = self._dyn, self._data, self._plan
        nw = len(plan.windows)
        live = self._wi < nw
        wref = self._wref
        C = self.mcm.num_chiplets
        lat, en = self._partial()
        if live:
            m, pos = self._m, self._pos
            dyn[:, 6:8] = data.chip_cost[m][pos]
            layer = plan.layer_rows[m][pos].copy()
            cur = self._cur
            n_win = len(self._win)
            glob = [
                self._wi / nw, self._k / n_win, (n_win - self._k - 1) / C, self._free_count / C,
                (pos - self._start) / (self._stop - self._start), pos / data.layer_counts[m],
                self._n_dec / plan.num_decisions, (len(self._closed) + (self._open_c >= 0)) / C,
                lat / (lat + plan.ref_latency_s), en / (en + plan.ref_energy_j),
                self._win_lat / (self._win_lat + wref) if wref > 0 else 0.0,
                cur.latency_s / (cur.latency_s + wref) if cur is not None and wref > 0 else 0.0,
                self._batch_feat[m],
                cur.minibatch / data.evaluator.batches[m] if cur is not None else 1.0,
                *self._scn_feat,
            ]
        else:
            dyn[:, 6:8] = 0.0
            layer = np.zeros(F.LAYER_DIM, dtype=np.float32)
            glob = [1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, lat / (lat + plan.ref_latency_s),
                    en / (en + plan.ref_energy_j), 0.0, 0.0, 0.0, 1.0, *self._scn_feat]
        chiplets = np.concatenate((self._ch_static, dyn), axis=1)
        g = np.array(glob, dtype=np.float32)
        mask = self._mask.astype(np.int8)
        if self.flatten:
            return np.concatenate((mask, chiplets.ravel(), g, layer), dtype=np.float32)
        return {"action_mask": mask, "chiplets": chiplets, "global": g, "layer": layer}
