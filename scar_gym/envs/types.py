"""The environments' data types (Jumanji's ``types.py``): what is precomputed once, and the state
of one episode.

:class:`ScenarioData` holds the shared :class:`~scar_gym.evaluator.Evaluator` (cost tables, memo),
expected per-layer costs, the static observation features and lazily computed reference results.
:class:`WindowPlan` holds one partition of the scenario into time windows. Both are immutable
apart from the reference cache and are shared by every episode on the same instance, so a reset
only picks them from :class:`ContextCache` and starts a new episode state.

:class:`EpisodeState` is everything that changes during one episode, common to both envs;
:class:`ScheduleState` (Schedule-v0: one layer per step) and :class:`WindowState` (Window-v0: one
(window, model) pipeline per step) add their own. An env holds one state object, made on
``reset``; nothing else about an episode lives on the env.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator, ModelWindowResult, ScheduleResult
from scar_gym.factory import make_cost_model, make_evaluator
from scar_gym.hardware import DATAFLOWS, MCM
from scar_gym.policies.registry import make_policy
from scar_gym.policies.windows import TimeWindows, expected_layer_costs, mcm_reconfig, split_crowded_windows
from scar_gym.schedule import Assignment, Schedule, Segment, Window
from scar_gym.envs.generator import Instance, instance_key
from scar_gym.envs import features as F

#: One window of a plan: ``(model, start, stop)`` per present model, sorted by model index.
WindowSpec = tuple[tuple[int, int, int], ...]
_LAYER = F.index_of(F.LAYER_COLUMNS)

@dataclass(eq=False)
class ScenarioData:
    """Everything static about one scenario on one MCM (the MCM's PEs follow the scenario domain).

    Attributes:
        evaluator: the shared evaluator (memoises assignments across episodes).
        exp_lat_cum, exp_en_cum: per model, (L+1,) prefix sums of the expected latency / energy of
            each layer at the model's full batch over the MCM's dataflow mix (spec 5.1).
        layer_static: per model, (L, F.LAYER_STATIC) float32 features of each layer.
        chip_cost: per model, (L, C_max, 2) float32: relative speed and energy efficiency of the
            layer on each chiplet's class (1 = the best class for this layer, 0 = padding).
        est_lat_cum, est_en_cum, est_en_layer: as ``exp_*`` but with each layer on its best class
            (the optimistic per-layer costs of the rewards' completion estimate).
    """

    key: tuple
    instance: Instance
    mcm: MCM
    c_max: int
    evaluator: Evaluator
    exp_lat_cum: list[np.ndarray]
    exp_en_cum: list[np.ndarray]
    layer_static: list[np.ndarray]
    chip_cost: list[np.ndarray]
    exp_en_layer: list[list[float]] = field(default_factory=list)
    est_lat_cum: list[np.ndarray] = field(default_factory=list)
    est_en_cum: list[np.ndarray] = field(default_factory=list)
    est_en_layer: list[list[float]] = field(default_factory=list)
    cum_weight_bytes: list[list[float]] = field(default_factory=list)
    references: dict[str, tuple[Schedule, ScheduleResult]] = field(default_factory=dict)
    #: Wall time (s) of computing each entry of ``references`` (a reference policy's run is not the
    #: work of an agent that uses it: the agents report it apart from their own time).
    reference_s: dict[str, float] = field(default_factory=dict)
    plans: dict[Any, "WindowPlan"] = field(default_factory=dict)
    #: Free-form caches of the environments (e.g. Window-v0's candidate pools), keyed by their owner.
    extras: dict[Any, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.instance.id

    @property
    def domain(self) -> str:
        return self.instance.domain

    @property
    def num_models(self) -> int:
        return len(self.evaluator.models)

    @property
    def num_layers(self) -> tuple[int, ...]:
        return self.evaluator.num_layers

    @cached_property
    def layer_counts(self) -> list[int]:
        return list(self.evaluator.num_layers)

    def policy_schedule(self, policy: str) -> tuple[Schedule, ScheduleResult]:
        """A policy's schedule of this instance and its result (computed once, seed 0)."""
        hit = self.references.get(policy)
        if hit is None:
            t0 = time.perf_counter()
            sched: Schedule = make_policy(policy).schedule(self.evaluator, seed=0)
            hit = (sched, self.evaluator.evaluate(sched))
            self.references[policy] = hit
            self.reference_s[policy] = time.perf_counter() - t0
        return hit

    def reference(self, policy: str) -> ScheduleResult:
        """The reference policy's result on this instance (computed once, seed 0)."""
        return self.policy_schedule(policy)[1]

    def plan(self, windows: Any = None, n_splits: int = 4) -> "WindowPlan":
        """The window plan for explicit ``windows`` (see :func:`normalise_windows`) or MCM-Reconfig."""
        if windows is None:
            key: Any = ("reconfig", n_splits)
            spec = None
        else:
            spec = normalise_windows(windows, self.num_layers)
            key = spec
        hit = self.plans.get(key)
        if hit is None:
            if spec is None:
                spec = normalise_windows(mcm_reconfig(self.evaluator, n_splits=n_splits), self.num_layers)
            hit = WindowPlan.build(self, split_overfull(spec, self.mcm.num_chiplets))
            self.plans[key] = hit
        return hit


def normalise_windows(windows: Any, num_layers: Sequence[int]) -> tuple[WindowSpec, ...]:
    """Windows as a tuple of :data:`WindowSpec`, checked to cover every layer once, in order.

    Accepts a :class:`~scar_gym.policies.windows.TimeWindows`, a :class:`~scar_gym.schedule.Schedule`
    (its windows' layer ranges), or a sequence of mappings ``model -> (start, stop)`` (keys may be
    strings of integers, as after a JSON round trip).
    """
    if isinstance(windows, TimeWindows):
        raw: Sequence[Any] = windows.windows
    elif isinstance(windows, Schedule):
        raw = [{a.model: (a.start, a.stop) for a in w.assignments} for w in windows.windows]
    else:
        raw = windows
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence) or not raw:
        raise ConfigError("windows", f"expected a non-empty list of {{model: (start, stop)}}, got {windows!r}",
                          "pass TimeWindows, a Schedule, or e.g. [{0: (0, 5), 1: (0, 3)}, {0: (5, 9)}]")
    nxt = [0] * len(num_layers)
    out = []
    for wi, w in enumerate(raw):
        if not isinstance(w, Mapping) or not w:
            raise ConfigError(f"windows[{wi}]", f"expected a non-empty mapping model -> (start, stop), got {w!r}",
                              "write e.g. {0: (0, 5)}")
        rows = []
        for k, rng in w.items():
            try:
                m, (a, b) = int(k), rng
                a, b = int(a), int(b)
            except (TypeError, ValueError):
                raise ConfigError(f"windows[{wi}]", f"bad entry {k!r}: {rng!r}", "write model: (start, stop)") from None
            if not 0 <= m < len(num_layers):
                raise ConfigError(f"windows[{wi}]", f"model {m} out of range 0..{len(num_layers) - 1}", "fix the index")
            if a != nxt[m] or not a < b <= num_layers[m]:
                raise ConfigError(f"windows[{wi}]", f"model {m} range ({a}, {b}) does not continue at layer {nxt[m]} "
                                  f"(model has {num_layers[m]} layers)", "give contiguous non-empty ranges in order")
            nxt[m] = b
            rows.append((m, a, b))
        out.append(tuple(sorted(rows)))
    missing = [m for m, (p, n) in enumerate(zip(nxt, num_layers)) if p != n]
    if missing:
        raise ConfigError("windows", f"models {missing} are not fully covered", "cover every layer of every model")
    return tuple(out)


def split_overfull(windows: tuple[WindowSpec, ...], num_chiplets: int) -> tuple[WindowSpec, ...]:
    """The policies' rule (:func:`~scar_gym.policies.windows.split_crowded_windows`) on window specs."""
    return tuple(split_crowded_windows(windows, num_chiplets))


@dataclass(frozen=True, eq=False)
class WindowPlan:
    """One partition of the scenario into windows, with the per-window expected latencies.

    Attributes:
        windows: per window, ``(model, start, stop)`` sorted by model (the order of decisions).
        window_ref_s: per window, the max over its models of their expected latency there.
        tail_max_s: per window, (n+1,) suffix maxima over slots ``>= k`` of the models' expected latency.
        future_s: per window, the sum of ``window_ref_s`` of the later windows.
        est_tail_max_s, est_future_s: the same with the optimistic per-layer costs (``est_lat_cum``).
        ref_latency_s, ref_energy_j: sums over the plan (normalisers of the observation).
        num_decisions: layers in the scenario (one decision each).
        layer_rows: per model, (L, F.LAYER_DIM) float32 layer features for Schedule-v0 (the static
            ones plus first/last in its window and its expected share of the window).
    """

    windows: tuple[WindowSpec, ...]
    window_ref_s: tuple[float, ...]
    tail_max_s: tuple[tuple[float, ...], ...]
    future_s: tuple[float, ...]
    ref_latency_s: float
    ref_energy_j: float
    num_decisions: int
    layer_rows: tuple[np.ndarray, ...] = ()
    est_tail_max_s: tuple[tuple[float, ...], ...] = ()
    est_future_s: tuple[float, ...] = ()

    @staticmethod
    def _tails(lat: list[np.ndarray], windows: tuple[WindowSpec, ...]):
        refs, tails = [], []
        for w in windows:
            per = [float(lat[m][b] - lat[m][a]) for m, a, b in w]
            tail = [0.0] * (len(per) + 1)
            for k in range(len(per) - 1, -1, -1):
                tail[k] = max(tail[k + 1], per[k])
            refs.append(tail[0])
            tails.append(tuple(tail))
        future = [0.0] * len(windows)
        for i in range(len(windows) - 2, -1, -1):
            future[i] = future[i + 1] + refs[i + 1]
        return refs, tails, future

    @classmethod
    def build(cls, data: ScenarioData, windows: tuple[WindowSpec, ...]) -> "WindowPlan":
        lat = data.exp_lat_cum
        refs, tails, future = cls._tails(lat, windows)
        _, est_tails, est_future = cls._tails(data.est_lat_cum, windows)
        rows = []
        for m, static in enumerate(data.layer_static):
            r = np.zeros((static.shape[0], F.LAYER_DIM), dtype=np.float32)
            r[:, :F.LAYER_STATIC] = static
            rows.append(r)
        for w, ref in zip(windows, refs):
            for m, a, b in w:
                r = rows[m]
                r[a, _LAYER["first_in_window"]] = 1.0
                r[b - 1, _LAYER["last_in_window"]] = 1.0
                el = np.diff(lat[m][a:b + 1])
                r[a:b, _LAYER["expected_share"]] = el / (el + ref) if ref > 0 else 0.0
        for r in rows:
            r.setflags(write=False)
        return cls(windows=windows, window_ref_s=tuple(refs), tail_max_s=tuple(tails), future_s=tuple(future),
                   ref_latency_s=float(sum(refs)), ref_energy_j=float(sum(e[-1] for e in data.exp_en_cum)),
                   num_decisions=int(sum(data.num_layers)), layer_rows=tuple(rows),
                   est_tail_max_s=tuple(est_tails), est_future_s=tuple(est_future))

    def as_time_windows(self) -> list[dict[int, tuple[int, int]]]:
        """The plan in :class:`~scar_gym.policies.windows.TimeWindows` form (model -> (start, stop))."""
        return [{m: (a, b) for m, a, b in w} for w in self.windows]


def build_scenario_data(inst: Instance, mcm: MCM, c_max: int, cost_model: CostModel,
                        memo_size: int = 20_000) -> ScenarioData:
    """Build the evaluator and the static features of ``inst`` on ``mcm`` (PEs from the domain)."""
    ev = make_evaluator(inst, mcm, cost_model=cost_model, memo_size=memo_size)
    mcm_d = ev.mcm
    exp_lat, exp_en = expected_layer_costs(ev)
    lat_cum = [np.concatenate(([0.0], np.cumsum(x))) for x in exp_lat]
    en_cum = [np.concatenate(([0.0], np.cumsum(x))) for x in exp_en]
    class_df = [DATAFLOWS.index(c.dataflow) for c in mcm_d.classes]
    layer_static, chip_cost, best_lat, best_en = [], [], [], []
    C = mcm_d.num_chiplets
    for table, b in zip(ev.tables, ev.batches):
        bi = table.batch_index(b)
        lat = table.latency_s[:, bi, :]  # (D, L)
        en = table.energy_j[:, bi, :]
        best_lat.append(lat.min(axis=0))
        best_en.append(en.min(axis=0))
        layer_static.append(F.layer_static_features(table.model.layers, lat, en, class_df, table))
        rel_l = np.maximum(lat.min(axis=0), 1e-30) / np.maximum(lat, 1e-30)
        rel_e = np.maximum(en.min(axis=0), 1e-30) / np.maximum(en, 1e-30)
        cc = np.zeros((lat.shape[1], c_max, 2), dtype=np.float32)
        cc[:, :C, 0] = rel_l[mcm_d.class_of].T
        cc[:, :C, 1] = rel_e[mcm_d.class_of].T
        chip_cost.append(cc)
    return ScenarioData(key=instance_key(inst), instance=inst, mcm=mcm_d, c_max=c_max, evaluator=ev,
                        exp_lat_cum=lat_cum, exp_en_cum=en_cum, layer_static=layer_static, chip_cost=chip_cost,
                        exp_en_layer=[x.tolist() for x in exp_en],
                        est_lat_cum=[np.concatenate(([0.0], np.cumsum(x))) for x in best_lat],
                        est_en_cum=[np.concatenate(([0.0], np.cumsum(x))) for x in best_en],
                        est_en_layer=[x.tolist() for x in best_en],
                        cum_weight_bytes=[t.cum_weight_bytes.tolist() for t in ev.tables])


class ContextCache:
    """LRU cache of :class:`ScenarioData` per instance for one MCM, sharing one :class:`CostModel`."""

    def __init__(self, mcm: MCM, c_max: int, cost_model: CostModel | None = None, max_size: int = 64,
                 memo_size: int = 20_000):
        self.mcm = mcm
        self.memo_size = memo_size
        self.c_max = c_max
        self.cost_model = cost_model or make_cost_model()
        self.max_size = max_size
        self._data: OrderedDict[tuple, ScenarioData] = OrderedDict()

    def get(self, inst: Instance) -> ScenarioData:
        key = instance_key(inst)
        hit = self._data.get(key)
        if hit is not None:
            self._data.move_to_end(key)
            return hit
        data = build_scenario_data(inst, self.mcm, self.c_max, self.cost_model, self.memo_size)
        self._data[key] = data
        if len(self._data) > self.max_size:
            self._data.popitem(last=False)
        return data

    def __len__(self) -> int:
        return len(self._data)


@dataclass(eq=False, slots=True)
class EpisodeState:
    """What changes during one episode, in both envs.

    Attributes:
        data, plan: the scenario's precomputed data and this episode's windows.
        mask: the current action mask (True = valid).
        over: the episode has ended (terminated or truncated).
        final: the complete schedule's result, at the end.
        n_decisions, n_invalid: accepted decisions and rejected actions so far.
        windows_done: the finished windows' assignments.
        done_lat_s, done_en_j: latency and energy of the finished windows.
        est_en_placed_j, est_en_total_j: the optimistic energy estimate (rewards) of the placed
            layers and of the whole scenario.
        wi: the current window (``len(plan.windows)`` at the end); win: its ``(model, start, stop)``
            rows; wref_s: its expected latency (the observations' scale).
        k: the current model's slot in the window.
        win_assign: the current window's finished assignments; win_lat_s, win_en_j: their totals.
        free_count: chiplets free in the window.
        dyn: the chiplet rows' dynamic columns (``C_max`` rows; see :mod:`.features`).
    """

    data: ScenarioData
    plan: WindowPlan
    mask: np.ndarray
    over: bool = False
    final: ScheduleResult | None = None
    n_decisions: int = 0
    n_invalid: int = 0
    windows_done: list[Window] = field(default_factory=list)
    done_lat_s: float = 0.0
    done_en_j: float = 0.0
    est_en_placed_j: float = 0.0
    est_en_total_j: float = 0.0
    wi: int = 0
    win: WindowSpec = ()
    wref_s: float = 0.0
    k: int = 0
    win_assign: list[Assignment] = field(default_factory=list)
    win_lat_s: float = 0.0
    win_en_j: float = 0.0
    free_count: int = 0
    dyn: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    @property
    def running(self) -> bool:
        """A window is still open (false after the last decision)."""
        return self.wi < len(self.plan.windows)

    def progress_features(self, num_chiplets: int) -> dict[str, float]:
        """The global features both envs share about where the episode is (:mod:`.features`)."""
        if not self.running:
            return {"window": 1.0, "model_slot": 1.0, "models_after": 0.0, "free_chiplets": 1.0}
        n_win = len(self.win)
        return {"window": self.wi / len(self.plan.windows), "model_slot": self.k / n_win,
                "models_after": (n_win - self.k - 1) / num_chiplets, "free_chiplets": self.free_count / num_chiplets}

    def finish_model(self, assignment: Assignment, latency_s: float, energy_j: float) -> None:
        """The current model's pipeline in the window is complete: add it to the window's totals and
        move to the next model slot."""
        self.win_assign.append(assignment)
        self.win_lat_s = max(self.win_lat_s, latency_s)
        self.win_en_j += energy_j
        self.k += 1

    def finish_window(self) -> None:
        """Every model of the window is placed: record the window and move to the next one."""
        self.windows_done.append(Window(tuple(self.win_assign)))
        self.done_lat_s += self.win_lat_s
        self.done_en_j += self.win_en_j
        self.wi += 1


@dataclass(eq=False, slots=True)
class ScheduleState(EpisodeState):
    """Schedule-v0's episode: the model being placed layer by layer in the current window.

    Attributes:
        m, start, stop: the current model and its layers ``[start, stop)`` in the window.
        pos: the next layer to place.
        closed: the model's finished segments in the window.
        open_c, open_start: the chiplet and first layer of its open segment (``open_c = -1``: none yet).
        cur, cur_assign: the model's partial pipeline so far (segments up to ``pos``) and its result.
        owner: per chiplet, the model holding it in the window (-1: free).
        free: per chiplet (``C_max``), free in the window.
        l2_bytes: per chiplet, its L2 size (0 for padding).
        batch_feat, scn_feat: the episode's constant global features (per-model batch; scenario).
    """

    m: int = 0
    start: int = 0
    stop: int = 0
    pos: int = 0
    closed: list[Segment] = field(default_factory=list)
    open_c: int = -1
    open_start: int = 0
    cur: ModelWindowResult | None = None
    cur_assign: Assignment | None = None
    owner: list[int] = field(default_factory=list)
    free: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    l2_bytes: list[float] = field(default_factory=list)
    batch_feat: list[float] = field(default_factory=list)
    scn_feat: dict[str, float] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class WindowState(EpisodeState):
    """Window-v0's episode: the candidates listed for the current (window, model).

    Attributes:
        anchors: SCAR's own choice per (window, model), when offered (``anchor=True``).
        pools: the scenario's candidate pools (a :class:`~scar_gym.envs.candidates.CandidatePools`).
        taken: bit mask of the chiplets taken in the window.
        slots: the listed candidates, in slot order; anchor_slot: SCAR's choice's slot, if listed.
    """

    anchors: dict[tuple[int, int], Any] = field(default_factory=dict)
    pools: Any = None
    taken: int = 0
    slots: list = field(default_factory=list)
    anchor_slot: int | None = None
