"""``ScarGym/Schedule-v0``: place one layer per step on a chiplet of the current time window."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from scar_gym.costmodel.tables import CostModel
from scar_gym.hardware import MCM
from scar_gym.schedule import Assignment, Schedule, Segment, Window
from scar_gym.envs import features as F
from scar_gym.envs.base import ScarEnvBase, as_index
from scar_gym.envs.config import ScheduleConfig
from scar_gym.envs.types import ScheduleState

#: Column indices of the chiplet rows' dynamic part (``ScheduleState.dyn``).
_D = F.index_of(F.CHIPLET_DYNAMIC_COLUMNS)
_FREE, _THIS, _OTHER, _OPEN = _D["free"], _D["this_model"], _D["other_model"], _D["open_segment"]
_LOAD, _HOPS, _MEMORY = _D["load"], _D["hops_from_open"], _D["memory"]
#: The current layer's relative speed and efficiency per chiplet (adjacent columns: one slice).
_LAYER_COST = slice(_D["layer_speed"], _D["layer_efficiency"] + 1)
_L = F.index_of(F.LAYER_COLUMNS)


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
    ``info["invalid_reason"]``); after ``max_invalid`` (100) invalid actions in an episode it is
    truncated. With ``invalid_action="raise"`` a :class:`~scar_gym.errors.InvalidActionError` names
    the action and why. With ``invalid_action="nearest"`` (for learners that cannot use masks, e.g.
    SB3's plain PPO) an integer action off the mask or out of range is replaced by the valid chiplet
    of nearest index (ties: the lower), which is applied as if chosen: the step's reward is its
    reward, and ``info`` adds ``invalid_action=True``, ``invalid_reason``, ``mapped_action`` (the
    applied index) and ``n_invalid`` (so far); so every step places a layer and the episode has
    exactly ``n_decisions`` steps. Non-integer actions are still rejected as with ``penalize``.

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

    Terminated when every layer is placed (``n_decisions`` = layers of the scenario). Truncated after
    ``max_invalid`` invalid actions in one episode. The registered ids set ``max_episode_steps`` to
    a bound no episode of their default scenarios reaches (:mod:`scar_gym.registration`: the most
    layers of a paper or default random scenario, 727, plus the default ``max_invalid``); a larger
    scenario of your own warns at ``reset`` and needs a larger ``gym.make(..., max_episode_steps=)``.

    ## Arguments

    * ``scenario``: any suite spec of :mod:`scar_gym.suites`: ``"sc4"``, a scenario YAML path,
      ``"paper"`` / ``"datacenter"`` / ``"arvr"``, ``"random-N"``, ``"random"`` (with
      ``generator_kwargs`` for :class:`~scar_gym.scenarios.RandomScenarioGenerator`), a ``Scenario``,
      a :class:`~scar_gym.scenarios.ModelSet`, a list, or any ``sample(rng)`` object.
    * ``mcm``: a preset name (``"het-sides-3x3"``), any :func:`~scar_gym.presets.load_mcm` string, or an
      :class:`~scar_gym.hardware.MCM`; its PE count follows each scenario's domain.
    * ``cost_model``: a shared :class:`~scar_gym.costmodel.tables.CostModel` (from
      :func:`~scar_gym.factory.make_cost_model`); a default one otherwise.

    Every other keyword is an option, validated into a :class:`~scar_gym.envs.config.ScheduleConfig`
    (``config=`` gives a whole one; keywords override it). An unknown option is a
    :class:`~scar_gym.errors.ConfigError` naming it.

    * ``reward``, ``reference``: see Rewards. ``reference=None`` skips the reference (ratios are NaN;
      only rewards that do not need it).
    * ``n_splits`` (4), ``windows``: the time windows.
    * ``max_chiplets``: pad the action and chiplet dimensions to this many chiplets.
    * ``flatten``: Box observation instead of Dict.
    * ``invalid_action`` (``"penalize"`` | ``"raise"`` | ``"nearest"``), ``invalid_penalty`` (-1.0),
      ``max_invalid`` (100, None = never truncate): see Action Space.
    * ``require_paths``: new segments must neighbour the open one (SCAR's DFS paths); off by default.
    * ``render_mode``: ``"ansi"`` (a status line, then each window's occupancy grid) or ``"rgb_array"``
      (the Gantt chart so far, drawn by :class:`~scar_gym.viewer.GanttRaster`: a few ms per frame, one
      frame size per MCM).
    * ``cache_size`` (scenario contexts kept, LRU), ``memo_size`` (assignments memoised per evaluator).
    * ``cost_preset``: the per-layer cost preset (``paper`` by default; ``maestro``, ``legacy``) when no
      ``cost_model`` is given; a training config records it in ``env_kwargs``.

    ## Version History

    * v0: initial version (sequential model order within a window, 16 chiplet / 18 global / 24 layer features).
      Later, without a version bump because episodes with valid actions are unchanged:
      ``invalid_action="nearest"``; ``max_invalid`` 1000 -> 100; ``max_episode_steps`` registered.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, scenario: Any = "sc4", mcm: str | MCM = "het-sides-3x3", *,
                 cost_model: CostModel | None = None, config: ScheduleConfig | None = None, **options: Any):
        super().__init__(scenario, mcm, ScheduleConfig.build(options, config), cost_model)
        c_max, C = self.c_max, self.mcm.num_chiplets
        self.action_space = spaces.Discrete(c_max)
        self.dict_space = spaces.Dict({
            "action_mask": spaces.MultiBinary(c_max),
            "chiplets": spaces.Box(0.0, 1.0, (c_max, F.CHIPLET_DIM), np.float32),
            "global": spaces.Box(0.0, 1.0, (F.GLOBAL_DIM,), np.float32),
            "layer": spaces.Box(0.0, 1.0, (F.LAYER_DIM,), np.float32),
        })
        self.observation_space = spaces.flatten_space(self.dict_space) if self.config.flatten else self.dict_space

        self._ch_static = F.chiplet_static_features(self.mcm, c_max)
        self._hops_n = F.hops_features(self.mcm, c_max)
        adj = np.zeros((c_max, c_max), dtype=bool)
        for u, v in self.mcm.graph.edges:
            adj[u, v] = adj[v, u] = True
        self._adj = adj
        self._real = np.zeros(c_max, dtype=bool)
        self._real[:C] = True
        self._state: ScheduleState | None = None

    # -- public state ------------------------------------------------------------------------------
    @property
    def position(self) -> tuple[int, int, int]:
        """(window, model, layer) of the next decision; (n_windows, -1, -1) at the end."""
        st = self._need_reset()
        if not st.running:
            return (st.wi, -1, -1)
        return (st.wi, st.m, st.pos)

    @property
    def num_decisions(self) -> int:
        """Decisions accepted so far in this episode."""
        return self._need_reset().n_decisions

    def _current_schedule(self, st: ScheduleState) -> Schedule:
        wins = list(st.windows_done)
        if st.running:
            assigns = list(st.win_assign)
            if st.cur_assign is not None:
                assigns.append(st.cur_assign)
            if assigns:
                wins.append(Window(tuple(assigns)))
        return Schedule(tuple(wins), {"policy": "env", "scenario": st.data.id})

    @staticmethod
    def _n_total(st: ScheduleState) -> int:
        return st.plan.num_decisions

    # -- gym API -----------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        data, windows = self._select(options)
        plan = data.plan(windows, self.config.n_splits)
        self._reset_reward(data)
        self._state = st = self._begin(data, plan)
        self._warn_time_limit(self._n_total(st))
        return self._obs(), {"action_mask": st.mask.copy(), "invalid_action": False}

    def step(self, action):
        st = self._check_running()
        a = as_index(action)
        mapped = None
        if a is None or a < 0 or a >= self.c_max or not st.mask[a]:
            reason = self._why_invalid(a)
            mapped = self._map_invalid(a, reason)
            if mapped is None:
                return self._reject(action, reason)
            a = mapped[0]
        st.n_decisions += 1
        m, pos, dyn = st.m, st.pos, st.dyn
        if a != st.open_c:  # start a new segment on free chiplet a
            if st.open_c >= 0:
                st.closed.append(Segment(st.open_start, pos, st.open_c))
                dyn[st.open_c, _OPEN] = 0.0
            st.open_c, st.open_start = a, pos
            st.owner[a] = m
            st.free[a] = False
            st.free_count -= 1
            dyn[a, _FREE] = 0.0
            dyn[a, _THIS] = 1.0
            dyn[a, _OPEN] = 1.0
            dyn[:, _HOPS] = self._hops_n[a]
        st.pos = pos + 1
        data = st.data
        st.est_en_placed_j += data.est_en_layer[m][pos]
        segs = (*st.closed, Segment(st.open_start, st.pos, a))
        assign = Assignment(m, segs)
        res = data.evaluator.evaluate_assignment(assign)
        st.cur, st.cur_assign = res, assign
        reps = data.evaluator.batches[m] // res.minibatch
        wref = st.wref_s
        for s, stage_s in zip(segs, res.stage_latency_s):
            busy = stage_s * reps
            dyn[s.chiplet, _LOAD] = busy / (busy + wref) if wref > 0 else 1.0
        cw = data.cum_weight_bytes[m]
        dyn[a, _MEMORY] = min(1.0, (cw[st.pos] - cw[st.open_start]) / st.l2_bytes[a])
        if st.pos == st.stop:
            self._finish_model(st)
        terminated = not st.running
        info: dict[str, Any]
        if terminated:
            st.mask = np.zeros(self.c_max, dtype=bool)
            st.cur = st.cur_assign = None
            reward, info = self._finish_episode(self.config.require_paths)
            info = {"action_mask": st.mask.copy(), "invalid_action": False, **info}
        else:
            self._update_mask(st)
            reward = self.reward_fn(self._reward_input(*self._partial(st), self._estimate))
            info = {"action_mask": st.mask.copy(), "invalid_action": False}
        if mapped is not None:
            info.update(mapped[1])
        return self._obs(), float(reward), terminated, False, info

    # -- episode mechanics -------------------------------------------------------------------------
    def _begin(self, data, plan) -> ScheduleState:
        l2 = [0.0] * self.c_max
        for c in range(self.mcm.num_chiplets):
            l2[c] = float(data.mcm.spec_for(data.mcm.dataflows[c]).l2_bytes)
        st = ScheduleState(
            data=data, plan=plan, mask=np.zeros(self.c_max, dtype=bool), l2_bytes=l2,
            est_en_total_j=float(sum(c[-1] for c in data.est_en_cum)),
            batch_feat=[min(1.0, float(np.log2(b)) / 8) for b in data.evaluator.batches],
            scn_feat=F.scenario_features(data.num_models, data.domain, self.mcm.num_chiplets, self.c_max,
                                         len(plan.windows)))
        self._start_window(st)
        self._update_mask(st)
        return st

    def _start_window(self, st: ScheduleState) -> None:
        st.win = st.plan.windows[st.wi]
        st.wref_s = st.plan.window_ref_s[st.wi]
        st.owner = [-1] * self.c_max
        st.free = self._real.copy()
        st.free_count = self.mcm.num_chiplets
        st.dyn = np.zeros((self.c_max, len(F.CHIPLET_DYNAMIC_COLUMNS)), dtype=np.float32)
        st.dyn[:, _FREE] = st.free
        st.win_assign = []
        st.win_lat_s = 0.0
        st.win_en_j = 0.0
        st.k = 0
        self._start_model(st)

    def _start_model(self, st: ScheduleState) -> None:
        st.m, st.start, st.stop = st.win[st.k]
        st.pos = st.start
        st.closed = []
        st.open_c = -1
        st.open_start = st.start
        st.cur = None
        st.cur_assign = None
        dyn = st.dyn
        dyn[:, _OTHER] = np.maximum(dyn[:, _OTHER], dyn[:, _THIS])  # the previous model's chiplets become "other"
        dyn[:, _THIS] = 0.0
        dyn[:, _OPEN] = 0.0
        dyn[:, _HOPS] = 0.0

    def _finish_model(self, st: ScheduleState) -> None:
        st.finish_model(st.cur_assign, st.cur.latency_s, st.cur.energy_j)
        if st.k < len(st.win):
            self._start_model(st)
            return
        st.finish_window()
        if st.running:
            self._start_window(st)
        else:
            st.cur = None
            st.cur_assign = None

    def _update_mask(self, st: ScheduleState) -> None:
        after = len(st.win) - st.k - 1
        if st.free_count - 1 >= after:
            mask = st.free.copy()
            if self.config.require_paths and st.open_c >= 0:
                mask &= self._adj[st.open_c]
        else:
            mask = np.zeros(self.c_max, dtype=bool)
        if st.open_c >= 0:
            mask[st.open_c] = True
        st.mask = mask

    @staticmethod
    def _partial(st: ScheduleState) -> tuple[float, float]:
        cur = st.cur
        if cur is None:
            return st.done_lat_s + st.win_lat_s, st.done_en_j + st.win_en_j
        return (st.done_lat_s + max(st.win_lat_s, cur.latency_s),
                st.done_en_j + st.win_en_j + cur.energy_j)

    def _estimate(self) -> tuple[float, float]:
        st = self._state
        plan, data, wi, k = st.plan, st.data, st.wi, st.k
        tails = plan.est_tail_max_s[wi]
        cur = st.cur
        if cur is None:
            wl, en_cur = max(st.win_lat_s, tails[k]), 0.0
        else:
            lat = data.est_lat_cum[st.m]
            wl = max(st.win_lat_s, cur.latency_s + (lat[st.stop] - lat[st.pos]), tails[k + 1])
            en_cur = cur.energy_j
        return (st.done_lat_s + wl + plan.est_future_s[wi],
                st.done_en_j + st.win_en_j + en_cur + max(0.0, st.est_en_total_j - st.est_en_placed_j))

    def _why_invalid(self, a: int | None) -> str:
        st = self._state
        wi, m, pos = self.position
        where = f"window {wi}, model {m}, layer {pos}"
        if a is None:
            return "not an integer chiplet index"
        if not 0 <= a < self.c_max:
            return f"chiplet {a} out of range 0..{self.c_max - 1}"
        if a >= self.mcm.num_chiplets:
            return f"chiplet {a} is padding (the MCM has {self.mcm.num_chiplets} chiplets)"
        owner = st.owner[a]
        if owner >= 0 and owner != m:
            return f"{where}: chiplet {a} already holds model {owner} in this window"
        if owner == m:
            return f"{where}: chiplet {a} holds an earlier segment of this model (segments are contiguous)"
        after = len(st.win) - st.k - 1
        if st.free_count - 1 < after:
            return (f"{where}: a new segment would leave {st.free_count - 1} free chiplets for the {after} "
                    "model(s) still to come in this window")
        return f"{where}: chiplet {a} does not neighbour the open segment's chiplet {st.open_c} (require_paths)"

    # -- observation -------------------------------------------------------------------------------
    def _obs(self):
        st = self._state
        dyn, data, plan = st.dyn, st.data, st.plan
        wref = st.wref_s
        C = self.mcm.num_chiplets
        lat, en = self._partial(st)
        shared = {**st.progress_features(C), **st.scn_feat}
        if st.running:
            m, pos = st.m, st.pos
            dyn[:, _LAYER_COST] = data.chip_cost[m][pos]
            layer = plan.layer_rows[m][pos].copy()
            cur = st.cur
            glob = {
                **shared,
                "window_progress": (pos - st.start) / (st.stop - st.start),
                "model_progress": pos / data.layer_counts[m],
                "episode_progress": st.n_decisions / plan.num_decisions,
                "segments": (len(st.closed) + (st.open_c >= 0)) / C,
                "partial_latency": lat / (lat + plan.ref_latency_s),
                "partial_energy": en / (en + plan.ref_energy_j),
                "window_latency": st.win_lat_s / (st.win_lat_s + wref) if wref > 0 else 0.0,
                "model_latency": cur.latency_s / (cur.latency_s + wref) if cur is not None and wref > 0 else 0.0,
                "batch": st.batch_feat[m],
                "minibatch_ratio": cur.minibatch / data.evaluator.batches[m] if cur is not None else 1.0,
            }
        else:
            dyn[:, _LAYER_COST] = 0.0
            layer = np.zeros(F.LAYER_DIM, dtype=np.float32)
            glob = {
                **shared,
                "window_progress": 1.0, "model_progress": 1.0, "episode_progress": 1.0, "segments": 0.0,
                "partial_latency": lat / (lat + plan.ref_latency_s), "partial_energy": en / (en + plan.ref_energy_j),
                "window_latency": 0.0, "model_latency": 0.0, "batch": 0.0, "minibatch_ratio": 1.0,
            }
        chiplets_obs = np.concatenate((self._ch_static, dyn), axis=1)
        g = F.vector(F.GLOBAL_COLUMNS, glob)
        mask = st.mask.astype(np.int8)
        if self.config.flatten:
            return np.concatenate((mask, chiplets_obs.ravel(), g, layer), dtype=np.float32)
        return {"action_mask": mask, "chiplets": chiplets_obs, "global": g, "layer": layer}
