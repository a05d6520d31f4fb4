"""The one evaluator: latency, energy and EDP of a (partial) schedule on an MCM.

Every policy (SCAR, the baselines, the search methods, the agents) and the environments score
schedules with this class, so their numbers are always comparable.

Model (``shared/spec/scar-method.md`` 4.2-4.3), per window and model with batch ``b``:

* **Transfers.** Data move along the model's DAG edges. Producer and consumer on one chiplet:
  free. On two chiplets of the same window: a NoP transfer, ``bytes / BW_nop + hops x t_hop``
  and ``bits x hops x e_nop``. Producer in an earlier window (or the model input): a DRAM read,
  ``bytes / BW_dram + side_hops x t_hop + t_dram`` and ``bits x (e_dram + side_hops x e_nop)``.
  An output consumed in a later window (or a model output) is written to DRAM the same way. A
  tensor is moved once per consuming segment, however many layers of that segment read it.
* **Weights.** Each segment loads its layers' weights from DRAM at window start, in parallel
  with the other segments (no contention term, the spec's default): the model's pipeline starts
  after the slowest load.
* **Pipeline.** Mini-batch ``b'`` is the largest divisor of ``b`` such that on every segment's
  chiplet the segment's weights plus ``b'`` samples of its peak layer footprint (inputs +
  outputs of one layer) fit the L2 (at least 1). A stage's latency is its layers' compute for
  ``b'`` samples plus its input and output transfers for ``b'`` samples; the model's latency is
  ``load + sum(stage) + (b/b' - 1) x max(stage)``.
* **Aggregation.** Window latency = max over its models; scenario latency = sum of windows;
  energy sums everything (compute, NoP, DRAM); EDP = latency x energy in J s.

A model's result in a window depends only on its own assignment, so results are memoised per
assignment: searches that recombine the same per-model choices pay for each only once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from scar_gym.costmodel.tables import CostModel, ModelCostTable
from scar_gym.errors import ConfigError
from scar_gym.hardware import MCM
from scar_gym.schedule import Assignment, Schedule, Window, validate
from scar_gym.workloads.model import Model

OBJECTIVES = ("edp", "latency", "energy")


@dataclass(frozen=True)
class ModelWindowResult:
    """One model's pipeline in one window."""

    model: int
    minibatch: int
    latency_s: float
    weight_load_s: float
    stage_latency_s: tuple[float, ...]
    compute_j: float
    nop_j: float
    dram_j: float

    @property
    def energy_j(self) -> float:
        return self.compute_j + self.nop_j + self.dram_j


@dataclass(frozen=True)
class WindowResult:
    models: tuple[ModelWindowResult, ...]

    @property
    def latency_s(self) -> float:
        return max((m.latency_s for m in self.models), default=0.0)

    @property
    def energy_j(self) -> float:
        return sum(m.energy_j for m in self.models)


@dataclass(frozen=True)
class ScheduleResult:
    """Totals of a schedule. ``model_finish_s[m]`` is when model ``m``'s last layer completes."""

    windows: tuple[WindowResult, ...]
    model_names: tuple[str, ...]
    latency_s: float = field(init=False)
    energy_j: float = field(init=False)
    compute_j: float = field(init=False)
    nop_j: float = field(init=False)
    dram_j: float = field(init=False)

    def __post_init__(self) -> None:
        ms = [m for w in self.windows for m in w.models]
        object.__setattr__(self, "latency_s", float(sum(w.latency_s for w in self.windows)))
        object.__setattr__(self, "compute_j", float(sum(m.compute_j for m in ms)))
        object.__setattr__(self, "nop_j", float(sum(m.nop_j for m in ms)))
        object.__setattr__(self, "dram_j", float(sum(m.dram_j for m in ms)))
        object.__setattr__(self, "energy_j", self.compute_j + self.nop_j + self.dram_j)

    @property
    def edp_js(self) -> float:
        return self.latency_s * self.energy_j

    def objective(self, name: str) -> float:
        return objective_value(name, self.latency_s, self.energy_j)

    @property
    def model_finish_s(self) -> dict[str, float]:
        finish: dict[str, float] = {}
        t = 0.0
        for w in self.windows:
            for m in w.models:
                finish[self.model_names[m.model]] = t + m.latency_s
            t += w.latency_s
        return finish

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_s": self.latency_s,
            "energy_j": self.energy_j,
            "edp_js": self.edp_js,
            "energy_breakdown_j": {"compute": self.compute_j, "nop": self.nop_j, "dram": self.dram_j},
            "model_finish_s": self.model_finish_s,
            "windows": [
                {"latency_s": w.latency_s, "energy_j": w.energy_j,
                 "models": [{"model": self.model_names[m.model], "latency_s": m.latency_s, "energy_j": m.energy_j,
                             "compute_j": m.compute_j, "nop_j": m.nop_j, "dram_j": m.dram_j,
                             "minibatch": m.minibatch, "weight_load_s": m.weight_load_s,
                             "stage_latency_s": list(m.stage_latency_s)} for m in w.models]}
                for w in self.windows
            ],
        }


def objective_value(name: str, latency_s: float, energy_j: float) -> float:
    """The scalar a scheduler minimises: ``edp`` (J s), ``latency`` (s) or ``energy`` (J)."""
    if name == "edp":
        return latency_s * energy_j
    if name == "latency":
        return latency_s
    if name == "energy":
        return energy_j
    raise ConfigError("objective", f"unknown objective {name!r}", f"use one of {', '.join(OBJECTIVES)}")


class _ModelData:
    """Per-model arrays the evaluator slices on every call (built once)."""

    def __init__(self, table: ModelCostTable, batch: int):
        model = table.model
        self.table = table
        self.batch = batch
        self.num_layers = model.num_layers
        e = model.edges
        by_dst = np.lexsort((e[:, 0], e[:, 1])) if len(e) else np.zeros(0, dtype=np.int64)
        self.e_src = e[by_dst, 0] if len(e) else np.zeros(0, dtype=np.int64)
        self.e_dst = e[by_dst, 1] if len(e) else np.zeros(0, dtype=np.int64)
        self.out_bytes = table.output_bytes
        self.sources = model.sources
        self.source_bytes = table.input_bytes[model.sources]
        # Last consumer of each layer's output; a model output counts as consumed after the end.
        last = np.full(self.num_layers, -1, dtype=np.int64)
        if len(e):
            np.maximum.at(last, e[:, 0], e[:, 1])
        last[model.sinks] = self.num_layers
        self.last_use = last
        self.cum_w = table.cum_weight_bytes
        self.footprint = table.footprint_bytes
        self.batches = np.array(table.batches, dtype=np.int64)


class Evaluator:
    """Scores schedules of ``models`` (with ``batches``) on ``mcm``.

    Args:
        models: the scenario's models, indexed by ``Assignment.model``.
        batches: samples of each model (its batch size or frames per second).
        mcm: the MCM, with its PE count resolved (see ``MCM.for_domain``).
        cost_model: shared cost-table cache; a fresh one by default.
        objective: ``edp``, ``latency`` or ``energy``; what :meth:`score` returns.
        cache_size: assignments memoised (0 disables the memo).
    """

    def __init__(self, models: Sequence[Model], batches: Sequence[int], mcm: MCM,
                 cost_model: CostModel | None = None, objective: str = "edp", cache_size: int = 200_000):
        if len(models) != len(batches):
            raise ConfigError("batches", f"{len(batches)} batches for {len(models)} models", "give one batch per model")
        for m, b in zip(models, batches):
            if not isinstance(b, (int, np.integer)) or b <= 0:
                raise ConfigError(f"batch of {m.name}", f"must be a positive integer, got {b!r}", "fix the scenario")
        objective_value(objective, 1.0, 1.0)
        self.models = tuple(models)
        self.batches = tuple(int(b) for b in batches)
        self.mcm = mcm
        self.objective = objective
        self.cost_model = cost_model or CostModel()
        self.tables = tuple(self.cost_model.model_table(m, mcm, b) for m, b in zip(models, self.batches))
        self._data = tuple(_ModelData(t, b) for t, b in zip(self.tables, self.batches))
        pkg = mcm.package
        self._class_of = mcm.class_of
        self._hops = mcm.hops.astype(np.float64)
        self._dram_hops = mcm.dram_hops.astype(np.float64)
        self._l2 = np.array([c.l2_bytes for c in mcm.classes], dtype=np.float64)
        self._pkg = pkg
        self._cache: dict[tuple, ModelWindowResult] = {}
        self._cache_size = cache_size
        self.num_evaluations = 0  # assignments actually computed (memo misses)

    @classmethod
    def from_scenario(cls, scenario, mcm: MCM, **kwargs) -> "Evaluator":
        """Evaluator for a :class:`scar_gym.scenarios.Scenario`; the MCM takes the scenario domain's PEs."""
        models = scenario.build_models()
        return cls(models, [mi.batch for mi in scenario.models], mcm.for_domain(scenario.domain), **kwargs)

    @property
    def num_layers(self) -> tuple[int, ...]:
        return tuple(m.num_layers for m in self.models)

    # -- public API ----------------------------------------------------------------------------
    def validate(self, schedule: Schedule, require_paths: bool = False, allow_partial: bool = False) -> None:
        validate(schedule, self.num_layers, self.mcm.num_chiplets, self.mcm.graph, require_paths, allow_partial)

    def evaluate(self, schedule: Schedule, check: bool = True, allow_partial: bool = False) -> ScheduleResult:
        """Latency, energy and EDP of ``schedule`` (validated first unless ``check=False``)."""
        if check:
            self.validate(schedule, allow_partial=allow_partial)
        return ScheduleResult(tuple(self.evaluate_window(w) for w in schedule.windows),
                              tuple(m.name for m in self.models))

    def evaluate_window(self, window: Window) -> WindowResult:
        return WindowResult(tuple(self.evaluate_assignment(a) for a in window.assignments))

    def score(self, schedule: Schedule, check: bool = False) -> float:
        r = self.evaluate(schedule, check=check)
        return r.objective(self.objective)

    def evaluate_assignment(self, a: Assignment) -> ModelWindowResult:
        key = (a.model, a.segments)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        res = self._compute(a)
        if self._cache_size:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[key] = res
        return res

    def clear_cache(self) -> None:
        self._cache.clear()

    # -- the model -------------------------------------------------------------------------------
    def _compute(self, a: Assignment) -> ModelWindowResult:
        self.num_evaluations += 1
        d = self._data[a.model]
        pkg = self._pkg
        segs = a.segments
        k = len(segs)
        lo, hi = segs[0].start, segs[-1].stop
        starts = np.fromiter((s.start for s in segs), dtype=np.int64, count=k)
        stops = np.fromiter((s.stop for s in segs), dtype=np.int64, count=k)
        chips = np.fromiter((s.chiplet for s in segs), dtype=np.int64, count=k)
        cls = self._class_of[chips]
        dram_hops = self._dram_hops[chips]
        b = d.batch

        # Mini-batch: the largest divisor of b that fits every segment's chiplet memory.
        w_bytes = d.cum_w[stops] - d.cum_w[starts]
        peak = np.maximum.reduceat(d.footprint[lo:hi], starts - lo)
        room = self._l2[cls] - w_bytes
        cap = np.min(np.floor(room / peak)) if np.all(room > 0) else 0.0
        fits = d.batches[d.batches <= cap]
        bi = len(fits) - 1 if len(fits) else 0
        n = int(d.batches[bi])
        reps = b // n

        # Compute: prefix sums of the layer tables at mini-batch n.
        cum_l = d.table.cum_latency_s[cls, bi]
        cum_e = d.table.cum_energy_j[cls, bi]
        stage = cum_l[np.arange(k), stops] - cum_l[np.arange(k), starts]
        compute_j = float(np.sum(cum_e[np.arange(k), stops] - cum_e[np.arange(k), starts])) * reps

        # Incoming tensors: one transfer per (producer, consuming segment).
        i0, i1 = np.searchsorted(d.e_dst, [lo, hi])
        src, dst = d.e_src[i0:i1], d.e_dst[i0:i1]
        seg_dst = np.searchsorted(starts, dst, side="right") - 1
        _, first = np.unique(src * (k + 1) + seg_dst, return_index=True)
        src, seg_dst = src[first], seg_dst[first]
        inside = src >= lo
        byts = d.out_bytes[src]
        nop_src = np.searchsorted(starts, src[inside], side="right") - 1
        hops = self._hops[chips[nop_src], chips[seg_dst[inside]]]
        nop_bytes = byts[inside]
        moved = hops > 0  # producer and consumer segments may share a chiplet only across windows
        stage_in = np.bincount(seg_dst[inside][moved],
                               weights=nop_bytes[moved] * n / pkg.nop_bandwidth_bytes_per_s
                               + hops[moved] * pkg.nop_hop_latency_s, minlength=k)
        nop_bits = float(np.sum(nop_bytes * hops)) * 8 * b

        # DRAM reads: tensors from earlier windows, and the model input.
        ext = ~inside
        s_lo, s_hi = np.searchsorted(d.sources, [lo, hi])
        rd_seg = np.concatenate([seg_dst[ext], np.searchsorted(starts, d.sources[s_lo:s_hi], side="right") - 1])
        rd_bytes = np.concatenate([byts[ext], d.source_bytes[s_lo:s_hi]])
        # DRAM writes: outputs consumed after this window (or model outputs).
        pos = np.arange(lo, hi)
        wr = pos[d.last_use[lo:hi] >= hi]
        wr_seg = np.searchsorted(starts, wr, side="right") - 1
        wr_bytes = d.out_bytes[wr]
        io_seg = np.concatenate([rd_seg, wr_seg])
        io_bytes = np.concatenate([rd_bytes, wr_bytes])
        io_hops = dram_hops[io_seg]
        stage_io = np.bincount(io_seg, weights=io_bytes * n / pkg.dram_bandwidth_bytes_per_s
                               + io_hops * pkg.nop_hop_latency_s + pkg.dram_latency_s, minlength=k)
        stages = stage + stage_in + stage_io

        load = w_bytes / pkg.dram_bandwidth_bytes_per_s + dram_hops * pkg.nop_hop_latency_s + pkg.dram_latency_s
        load_s = float(np.max(np.where(w_bytes > 0, load, 0.0)))
        latency = load_s + float(np.sum(stages)) + (reps - 1) * float(np.max(stages))

        io_bits = float(np.sum(io_bytes)) * 8 * b
        io_hop_bits = float(np.sum(io_bytes * io_hops)) * 8 * b
        w_bits = float(np.sum(w_bytes)) * 8
        w_hop_bits = float(np.sum(w_bytes * dram_hops)) * 8
        dram_j = (io_bits + w_bits) * pkg.dram_energy_j_per_bit
        nop_j = (nop_bits + io_hop_bits + w_hop_bits) * pkg.nop_energy_j_per_bit
        return ModelWindowResult(model=a.model, minibatch=n, latency_s=latency, weight_load_s=load_s,
                                 stage_latency_s=tuple(float(x) for x in stages), compute_j=compute_j,
                                 nop_j=nop_j, dram_j=dram_j)
