"""``ScarGym/Window-v0``: choose one model's whole pipeline in a window per step, among SCAR's candidates."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError
from scar_gym.hardware import DATAFLOWS, MCM
from scar_gym.schedule import Schedule, Window
from scar_gym.workloads.layers import OP_TYPES
from scar_gym.envs import features as F
from scar_gym.envs.base import ScarEnvBase, as_index
from scar_gym.envs.candidates import CandidatePools, WindowCandidate, candidate_of, select_slots
from scar_gym.policies.scar.steps import is_large
from scar_gym.envs.config import WINDOW_MODES, WindowConfig
from scar_gym.envs.types import WindowState, normalise_windows

#: Column indices of the chiplet rows' dynamic part (``WindowState.dyn``).
_D = F.index_of(F.WINDOW_CHIPLET_DYNAMIC_COLUMNS)
_FREE, _LOAD = _D["free"], _D["load"]


_DATAFLOW_KEYS = tuple(f"dataflow_{d}" for d in DATAFLOWS)  # the candidates' dataflow share columns


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
    invariant as Schedule-v0 a free chiplet with room to spare always exists. Invalid actions as
    Schedule-v0 (``invalid_action``): with ``"nearest"`` an empty or out-of-range slot becomes the
    listed slot of nearest index (so a slot past the list becomes the last listed one).

    ## Observation Space

    ``Dict`` (every Box float32 in [0, 1]): ``action_mask`` ``MultiBinary(k_max)``; ``candidates``
    ``(k_max, 15)`` (:data:`~scar_gym.envs.features.CANDIDATE_COLUMNS`; zero rows for empty slots);
    ``candidate_chiplets`` ``(k_max, C_max)`` (1 where a candidate puts a segment); ``chiplets``
    ``(C_max, 9)`` (:data:`~scar_gym.envs.features.WINDOW_CHIPLET_COLUMNS`: dataflow, position, free,
    load); ``global`` ``(24,)`` (:data:`~scar_gym.envs.features.WINDOW_GLOBAL_COLUMNS`: progress,
    partial latency/energy, the current model's expected cost, future windows' share, op mix).
    ``flatten=True`` gives the flattened ``Box``. With ``obs_mode="sets"`` two more keys carry the
    NoP graph: ``nop_adjacency`` ``(C_max, C_max)`` (1 for a link, mesh or triangular) and
    ``nop_hops`` ``(C_max, C_max)`` (routed hops / max hops), so that a network can treat chiplets and
    candidates as sets over a graph (``agents/set_policy.py``: one network for every MCM of up to
    ``max_chiplets`` chiplets; padding rows and empty slots are all zero).

    ## Rewards

    As Schedule-v0 (:mod:`scar_gym.rewards`), one decision per (window, model); default
    ``edp_log_ratio_shaped`` against ``reference`` (``"scar"`` by default here: a positive return
    means the agent beat SCAR). The final info carries the same keys as Schedule-v0.

    ## Starting State

    The first model of the first window, nothing placed. First use of a scenario runs SCAR once (only
    for ``windows="scar"``, the anchor or a ``"scar"`` reward reference) and builds the candidate pools
    (cached per scenario and MCM).

    ## Episode End

    Terminated after the last (window, model). Truncated after ``max_invalid`` invalid actions.
    ``max_episode_steps`` is registered as for Schedule-v0 (there are never more (window, model)
    decisions than layers).

    ## Arguments

    ``scenario``, ``mcm``, ``cost_model`` as Schedule-v0. The options are validated into a
    :class:`~scar_gym.envs.config.WindowConfig` (``config=``, keywords override it): ``reward``,
    ``max_chiplets``, ``flatten``, ``invalid_action``, ``invalid_penalty``, ``max_invalid``,
    ``generator_kwargs``, ``render_mode``, ``cache_size``, ``memo_size`` as Schedule-v0, plus:

    * ``reference``: reference policy of the ratios and relative rewards (default ``"scar"``).
    * ``windows``: ``"scar"`` (SCAR's windows, default), ``"reconfig"`` (MCM-Reconfig with ``n_splits``)
      or explicit windows as in Schedule-v0.
    * ``k_max``: candidate slots (16). ``anchor``: put SCAR's choice in slot 0 (needs ``windows="scar"``).
    * ``k``, ``per_signature``: candidate pool parameters (:class:`~scar_gym.envs.candidates.CandidatePools`).
    * ``bank``: a scenario bank directory (:mod:`scar_gym.envs.bank`, ``scar-gym bank build``): the
      first reset of a scenario in it reads SCAR's schedule and the candidate pools from disk
      instead of computing them (same results; other scenarios are computed as usual).
    * ``obs_mode``: ``"slots"`` (default) or ``"sets"`` (adds the NoP keys above).
    * ``pool_segment_cap``, ``pool_paths_per_root``: a cap on the candidates' segments (raised to a
      quarter of the chiplets on MCMs of more than 48) and the DFS paths per root chiplet on every
      MCM (``None``: the defaults of :class:`~scar_gym.envs.candidates.CandidatePools`). With ``windows="reconfig"`` and
      ``anchor=False`` the env runs no SCAR at all: the size-agnostic agents use 12 and 2, which keeps
      a 6x6 / 8x8 episode under a second.
    * ``pool_seg_limit``, ``pool_max_probes``, ``pool_seg_radius``: SEG's effort for the pools' cut
      sets on MCMs of more than 16 chiplets (``None``: SCAR's, 2000 cut sets enumerated per segment
      count, 24 probe class sequences, perturbations of the balanced cuts by up to 2 layers): the
      cut-set scoring is most of a pool's cost there; the size-agnostic search runs 200, 8 and 1
      (:data:`~scar_gym.envs.rollout_search.ANY_SIZE_ENV`). Smaller MCMs keep SCAR's SEG: it is cheap
      there, and a light one misses cut sets (paper sc4 on het-sides-3x3: EDP / SCAR 1.02 -> 1.48
      with 200 and 8).
    * ``relocate``: up to this many **relocations** per decision (0 = off, the default of v0): pool
      candidates blocked by chiplets taken earlier in the window, moved onto free chiplets of the
      same class (:meth:`~scar_gym.envs.candidates.CandidatePools.relocated`). They compete for the
      slots with the pool's own candidates by the model's objective.

    ## Version History

    * v0: initial version. Later, with valid actions unchanged: ``invalid_action="nearest"``,
      ``max_invalid`` 1000 -> 100, ``max_episode_steps`` registered; ``obs_mode``,
      ``pool_segment_cap``, ``pool_paths_per_root``, ``pool_seg_limit``, ``pool_max_probes``,
      ``pool_seg_radius`` (defaults leave v0's episodes unchanged);
      ``pool_segment_cap`` scales with MCMs of more than 48 chiplets (none was trained on).
    """

    def __init__(self, scenario: Any = "sc4", mcm: str | MCM = "het-sides-3x3", *,
                 cost_model: CostModel | None = None, config: WindowConfig | None = None, **options: Any):
        super().__init__(scenario, mcm, WindowConfig.build(options, config), cost_model)
        cfg = self.config
        k_max, c_max = cfg.k_max, self.c_max
        self.pool_kwargs = {"k": cfg.k, "per_signature": cfg.per_signature}
        if cfg.pool_segment_cap is not None:
            self.pool_kwargs["segment_cap"] = cfg.pool_segment_cap
        if cfg.pool_paths_per_root is not None:
            self.pool_kwargs["paths_per_root"] = cfg.pool_paths_per_root
        if is_large(self.mcm):  # small MCMs keep SCAR's SEG: cheap there, and it finds what a light one misses
            if cfg.pool_seg_limit is not None:
                self.pool_kwargs["seg_limit"] = cfg.pool_seg_limit
            if cfg.pool_max_probes is not None:
                self.pool_kwargs["max_probes"] = cfg.pool_max_probes
            if cfg.pool_seg_radius is not None:
                self.pool_kwargs["seg_radius"] = cfg.pool_seg_radius
        self.action_space = spaces.Discrete(k_max)
        self._nop: dict[str, np.ndarray] = {}
        if cfg.obs_mode == "sets":
            self._nop = {"nop_adjacency": F.adjacency_features(self.mcm, c_max),
                         "nop_hops": F.hops_features(self.mcm, c_max)}
        self.dict_space = spaces.Dict({
            "action_mask": spaces.MultiBinary(k_max),
            "candidate_chiplets": spaces.Box(0.0, 1.0, (k_max, c_max), np.float32),
            "candidates": spaces.Box(0.0, 1.0, (k_max, len(F.CANDIDATE_COLUMNS)), np.float32),
            "chiplets": spaces.Box(0.0, 1.0, (c_max, len(F.WINDOW_CHIPLET_COLUMNS)), np.float32),
            "global": spaces.Box(0.0, 1.0, (len(F.WINDOW_GLOBAL_COLUMNS),), np.float32),
            **{key: spaces.Box(0.0, 1.0, (c_max, c_max), np.float32) for key in self._nop},
        })
        self.observation_space = spaces.flatten_space(self.dict_space) if cfg.flatten else self.dict_space
        self._ch_static = F.chiplet_static_features(self.mcm, c_max)
        self._state: WindowState | None = None
        self.bank = None
        if cfg.bank is not None:
            from scar_gym.envs.bank import BankOptions, ScenarioBank

            self.bank = ScenarioBank.open(cfg.bank)
            self.bank.check_matches(BankOptions(self.mcm.to_dict(), self.contexts.cost_model.describe(),
                                                self.reward_fn.objective, cfg.k, cfg.per_signature))

    # -- public state ------------------------------------------------------------------------------
    @property
    def position(self) -> tuple[int, int]:
        """(window, model) of the next decision; (n_windows, -1) at the end."""
        st = self._need_reset()
        if not st.running:
            return (st.wi, -1)
        return (st.wi, st.win[st.k][0])

    @property
    def candidates(self) -> list[WindowCandidate]:
        """The listed candidates of the current decision (slot order)."""
        return list(self._need_reset().slots)

    @property
    def anchor_slot(self) -> int | None:
        """The slot of SCAR's own choice for the current decision (0), or ``None`` when it is not
        offered (``anchor=False``, a blocked anchor, or the episode is over)."""
        st = self._need_reset()
        return st.anchor_slot if st.running else None

    def _current_schedule(self, st: WindowState) -> Schedule:
        wins = list(st.windows_done)
        if st.running and st.win_assign:
            wins.append(Window(tuple(st.win_assign)))
        return Schedule(tuple(wins), {"policy": "env-window", "scenario": st.data.id})

    # -- gym API -----------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        data, windows = self._select(options)
        if self.bank is not None and windows == "scar":
            self.bank.prime(data)
        anchor_sched = None
        if isinstance(windows, str):
            if windows == "scar":
                anchor_sched = data.policy_schedule("scar")[0]
                windows = anchor_sched
            elif windows == "reconfig":
                windows = None
            else:
                raise ConfigError("windows", f"unknown mode {windows!r}", f"use {', '.join(WINDOW_MODES)} or a list")
        plan = data.plan(windows, self.config.n_splits)
        anchors: dict[tuple[int, int], WindowCandidate] = {}
        if self.config.anchor and anchor_sched is not None:
            spec = normalise_windows(anchor_sched, data.num_layers)
            if spec == plan.windows:
                obj = self.reward_fn.objective
                for wi, w in enumerate(anchor_sched.windows):
                    for a in w.assignments:
                        anchors[(wi, a.model)] = candidate_of(data.evaluator, a, obj)
        pools = CandidatePools.for_data(data, objective=self.reward_fn.objective, **self.pool_kwargs)
        self._reset_reward(data)
        self._state = st = WindowState(data=data, plan=plan, mask=np.zeros(self.config.k_max, dtype=bool),
                                       anchors=anchors, pools=pools,
                                       est_en_total_j=float(sum(c[-1] for c in data.est_en_cum)))
        self._start_window(st)
        self._warn_time_limit(self._n_total(st))
        return self._obs(), {"action_mask": st.mask.copy(), "invalid_action": False}

    def step(self, action):
        st = self._check_running()
        k_max = self.config.k_max
        a = as_index(action)
        mapped = None
        if a is None or not 0 <= a < k_max or not st.mask[a]:
            if a is None:
                reason = "not an integer slot index"
            elif not 0 <= a < k_max:
                reason = f"slot {a} out of range 0..{k_max - 1}"
            else:
                reason = f"slot {a} is empty: only {len(st.slots)} candidates are placeable for this model"
            mapped = self._map_invalid(a, reason)
            if mapped is None:
                return self._reject(action, reason)
            a = mapped[0]
        extra = mapped[1] if mapped is not None else {}
        st.n_decisions += 1
        cand = st.slots[a]
        data = st.data
        m, lo, hi = st.win[st.k]
        st.finish_model(cand.assignment, cand.latency_s, cand.energy_j)
        st.est_en_placed_j += data.est_en_cum[m][hi] - data.est_en_cum[m][lo]
        st.taken |= cand.mask
        st.free_count -= cand.size
        res = data.evaluator.evaluate_assignment(cand.assignment)
        reps = data.evaluator.batches[m] // res.minibatch
        wref = st.wref_s
        for s, stage_s in zip(cand.assignment.segments, res.stage_latency_s):
            busy = stage_s * reps
            st.dyn[s.chiplet, _FREE] = 0.0
            st.dyn[s.chiplet, _LOAD] = busy / (busy + wref) if wref > 0 else 1.0
        if st.k == len(st.win):
            st.finish_window()
            if st.running:
                self._start_window(st)
        else:
            self._fill_slots(st)
        if not st.running:
            st.slots = []
            st.mask = np.zeros(k_max, dtype=bool)
            reward, info = self._finish_episode()
            return self._obs(), float(reward), True, False, {"action_mask": st.mask.copy(),
                                                             "invalid_action": False, **info, **extra}
        lat, en = st.done_lat_s + st.win_lat_s, st.done_en_j + st.win_en_j
        reward = self.reward_fn(self._reward_input(lat, en, self._estimate))
        return self._obs(), float(reward), False, False, {"action_mask": st.mask.copy(), "invalid_action": False,
                                                          **extra}

    # -- mechanics ---------------------------------------------------------------------------------
    def _start_window(self, st: WindowState) -> None:
        st.win = st.plan.windows[st.wi]
        st.wref_s = st.plan.window_ref_s[st.wi]
        st.win_assign = []
        st.win_lat_s = st.win_en_j = 0.0
        st.taken = 0
        st.free_count = self.mcm.num_chiplets
        st.dyn = np.zeros((self.c_max, len(F.WINDOW_CHIPLET_DYNAMIC_COLUMNS)), dtype=np.float32)
        st.dyn[: self.mcm.num_chiplets, _FREE] = 1.0
        st.k = 0
        self._fill_slots(st)

    def _fill_slots(self, st: WindowState) -> None:
        k_max, relocate = self.config.k_max, self.config.relocate
        m = st.win[st.k][0]
        room = st.free_count - (len(st.win) - st.k - 1)
        taken = st.taken
        anchor = st.anchors.get((st.wi, m))
        if anchor is not None and (anchor.mask & taken or anchor.size > room):
            anchor = None
        moved = st.pools.relocated(st.win, st.k, taken, room, relocate) if relocate and taken else []
        chosen = select_slots(st.pools.pool(st.win, st.k), moved, taken, room, anchor, k_max)
        slots = ([anchor] if anchor is not None else []) + chosen
        st.slots = slots
        st.anchor_slot = 0 if anchor is not None else None
        mask = np.zeros(k_max, dtype=bool)
        mask[: len(slots)] = True
        st.mask = mask

    def empty_window_candidates(self, wi: int, slot: int, k: int) -> list[WindowCandidate]:
        """What Window-v0 would list for model ``slot`` of window ``wi`` with ``k`` slots if the
        window were empty (every other model still keeping a chiplet): the first candidate of every
        segment count, then the best ones (:func:`~scar_gym.envs.candidates.select_slots`). For
        searches that re-solve a whole window at once (the rollout search's polish)."""
        st = self._need_reset()
        spec = st.plan.windows[wi]
        room = self.mcm.num_chiplets - (len(spec) - 1)
        return select_slots(st.pools.pool(spec, slot), [], 0, room, None, k)

    def slot_outlook(self) -> np.ndarray:
        """Per listed slot, the scenario's estimated ``(latency_s, energy_j)`` if it is taken:
        ``(len(candidates), 2)``. A one-step lookahead on the scenario objective, where the slot order
        ranks each candidate by the model's own objective alone. What is placed counts as is and the
        candidate at its own cost; the window's later models share the chiplets the candidate leaves
        free, as ideal pipelines (their single-chiplet latencies on their best classes, summed, over
        the free chiplets; at most the longest of them, each having one chiplet at least); later
        windows and all energy still to come at the optimistic per-layer estimates the rewards use."""
        st = self._need_reset()
        out = np.zeros((len(st.slots), 2))
        if not st.running or not st.slots:
            return out
        data, plan, wi, k = st.data, st.plan, st.wi, st.k
        m, lo, hi = st.win[k]
        cum = data.est_en_cum[m]
        rest_en = max(0.0, st.est_en_total_j - st.est_en_placed_j - (cum[hi] - cum[lo]))
        later = [float(data.est_lat_cum[m2][b] - data.est_lat_cum[m2][a]) for m2, a, b in st.win[k + 1:]]
        later_sum, later_max = sum(later), max(later, default=0.0)
        for j, c in enumerate(st.slots):
            free = st.free_count - c.size
            later_lat = min(later_max, later_sum / free) if later else 0.0
            out[j, 0] = st.done_lat_s + max(st.win_lat_s, later_lat, c.latency_s) + plan.est_future_s[wi]
            out[j, 1] = st.done_en_j + st.win_en_j + c.energy_j + rest_en
        return out

    def _estimate(self) -> tuple[float, float]:
        st = self._state
        plan, wi = st.plan, st.wi
        wl = max(st.win_lat_s, plan.est_tail_max_s[wi][st.k])
        return (st.done_lat_s + wl + plan.est_future_s[wi],
                st.done_en_j + st.win_en_j + max(0.0, st.est_en_total_j - st.est_en_placed_j))

    def _obs(self):
        st = self._state
        data, plan = st.data, st.plan
        C, K = self.mcm.num_chiplets, self.config.k_max
        nw = len(plan.windows)
        cand = np.zeros((K, len(F.CANDIDATE_COLUMNS)), dtype=np.float32)
        cch = np.zeros((K, self.c_max), dtype=np.float32)
        lat, en = st.done_lat_s + st.win_lat_s, st.done_en_j + st.win_en_j
        shared = {**st.progress_features(C),
                  **F.scenario_features(data.num_models, data.domain, C, self.c_max, nw)}
        if st.running:
            m, lo, hi = st.win[st.k]
            wref = st.wref_s
            el = data.exp_lat_cum[m][hi] - data.exp_lat_cum[m][lo]
            ee = data.exp_en_cum[m][hi] - data.exp_en_cum[m][lo]
            slots = st.slots
            if slots:
                best_v = min(c.value for c in slots)
                best_l = min(c.latency_s for c in slots)
                best_e = min(c.energy_j for c in slots)
                anchor = st.anchors.get((st.wi, m))
                b = data.evaluator.batches[m]
                free, win_lat = st.free_count, st.win_lat_s
                rows, on_rows, on_cols = [], [], []  # one array per observation, not one per candidate
                for j, c in enumerate(slots):
                    lt, en_c = c.latency_s, c.energy_j
                    inc = lt - win_lat if lt > win_lat else 0.0
                    rows.append({
                        "valid": 1.0,
                        "anchor": float(c is anchor),
                        "latency": lt / (lt + wref) if wref > 0 else 1.0,
                        "energy": en_c / (en_c + ee) if ee > 0 else 1.0,
                        "value_ratio": best_v / c.value if c.value > 0 else 1.0,
                        "latency_ratio": best_l / lt if lt > 0 else 1.0,
                        "energy_ratio": best_e / en_c if en_c > 0 else 1.0,
                        "segments": c.size / C,
                        "chiplet_share": c.size / free,
                        "window_increase": inc / (inc + wref) if wref > 0 else 0.0,
                        **dict(zip(_DATAFLOW_KEYS, c.dataflow_share)),
                        "minibatch_ratio": c.minibatch / b,
                        "weight_load_share": c.weight_load_s / lt if lt > 0 else 0.0,
                    })
                    on_rows.extend([j] * len(c.chiplets))
                    on_cols.extend(c.chiplets)
                cand[: len(rows)] = F.matrix(F.CANDIDATE_COLUMNS, rows)
                cch[on_rows, on_cols] = 1.0
            glob = {
                **shared,
                "partial_latency": F.squash(lat, plan.ref_latency_s),
                "partial_energy": F.squash(en, plan.ref_energy_j),
                "window_latency": F.squash(st.win_lat_s, wref),
                "window_energy": F.squash(st.win_en_j, ee),
                "model_expected_latency": F.squash(el, wref),
                "model_expected_energy": F.squash(ee, plan.ref_energy_j),
                "batch": min(1.0, float(np.log2(data.evaluator.batches[m])) / 8),
                "window_layers": min(1.0, (hi - lo) / 64),
                "model_share": (hi - lo) / data.layer_counts[m],
                "future_windows": F.squash(plan.future_s[st.wi], plan.ref_latency_s),
                "episode_progress": st.n_decisions / self._n_total(st),
                **{f"op_{o}": share for o, share in zip(OP_TYPES, self._op_share(st, m, lo, hi))},
            }
            dyn = st.dyn
        else:
            glob = {
                **shared,
                "partial_latency": F.squash(lat, plan.ref_latency_s), "partial_energy": F.squash(en, plan.ref_energy_j),
                "window_latency": 0.0, "window_energy": 0.0, "model_expected_latency": 0.0,
                "model_expected_energy": 0.0, "batch": 0.0, "window_layers": 0.0, "model_share": 0.0,
                "future_windows": 0.0, "episode_progress": 1.0, **{f"op_{o}": 0.0 for o in OP_TYPES},
            }
            dyn = np.zeros((self.c_max, len(F.WINDOW_CHIPLET_DYNAMIC_COLUMNS)), dtype=np.float32)
        obs = {
            "action_mask": st.mask.astype(np.int8),
            "candidate_chiplets": cch,
            "candidates": cand,
            "chiplets": np.concatenate((self._ch_static, dyn), axis=1),
            "global": F.vector(F.WINDOW_GLOBAL_COLUMNS, glob),
            **{k: v.copy() for k, v in self._nop.items()},  # fresh arrays: callers may keep or modify them
        }
        if self.config.flatten:
            return np.concatenate([obs[k].ravel() for k in sorted(obs)], dtype=np.float32)
        return obs

    @staticmethod
    def _n_total(st: WindowState) -> int:
        return sum(len(w) for w in st.plan.windows)

    @staticmethod
    def _op_share(st: WindowState, m: int, lo: int, hi: int) -> np.ndarray:
        """Fraction of each op type among model ``m``'s layers ``[lo, hi)`` (prefix counts cached per scenario)."""
        key = ("op_counts", m)
        cum = st.data.extras.get(key)
        if cum is None:
            layers = st.data.evaluator.models[m].layers
            onehot = np.zeros((len(layers) + 1, len(OP_TYPES)))
            for i, layer in enumerate(layers):
                onehot[i + 1, OP_TYPES.index(layer.op)] = 1.0
            cum = st.data.extras[key] = np.cumsum(onehot, axis=0)
        return (cum[hi] - cum[lo]) / (hi - lo)
