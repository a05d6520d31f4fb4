"""The one evaluator: latency, energy and EDP of a (partial) schedule on an MCM.

Every policy (SCAR, the baselines, the search methods, the agents) and the environments score
schedules with this class, so their numbers are always comparable.

Model (``shared/spec/scar-method.md`` 4.2-4.3), per window and model with batch ``b``:

* **Transfers.** Data move along the model's DAG edges. Producer and consumer on one chiplet:
  free. On two chiplets of the same window: a NoP transfer, ``bytes / BW_nop + hops x t_hop``
  and ``bits x hops x e_nop``. Producer in an earlier window (or the model input): a DRAM read,
  ``bytes / BW_dram + side_hops x t_hop + t_dram`` and ``bits x (e_dram + side_hops x e_nop)``.
  An output consumed in a later window (or a model output) is written to DRAM the same way. A
  tensor is moved once per consuming segment, however many layers of that segment read it; the
  model input is one tensor, read from DRAM by every segment holding a source layer.
* **Weights.** Each segment loads its layers' weights from DRAM at window start, in parallel
  with the other segments (no contention term, the spec's default): the model's pipeline starts
  after the slowest load. A segment whose weights do not fit its chiplet's L2 beside one sample
  cannot keep them: it streams them, re-reading all its weights from DRAM in every mini-batch
  (a [choice]: the spec's rule is silent on weights larger than the memory, and keeping 700 MB
  of GPT-L weights "resident" in a 10 MB L2 would make pipelining over more chiplets pointless).
* **Pipeline.** Mini-batch ``b'`` is the largest divisor of ``b`` such that on every segment's
  chiplet the segment's weights (its largest layer's, if it streams) plus ``b'`` samples of its
  peak layer footprint (inputs + outputs of one layer) fit the L2 (at least 1). A stage's latency is its layers' compute for
  ``b'`` samples plus its input and output transfers for ``b'`` samples; the model's latency is
  ``load + sum(stage) + (b/b' - 1) x max(stage)``.
* **Aggregation.** Window latency = max over its models; scenario latency = sum of windows;
  energy sums everything (compute, NoP, DRAM); EDP = latency x energy in J s.

A model's result in a window depends only on its own assignment, so results are memoised per
assignment: searches that recombine the same per-model choices pay for each only once.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from scar_gym.costmodel.tables import CostModel, ModelCostTable
from scar_gym.errors import ConfigError, ScheduleError
from scar_gym.hardware import MCM
from scar_gym.scenarios import check_batch, check_model_names
from scar_gym.schedule import Assignment, Schedule, Window, validate
from scar_gym.workloads.model import Model

OBJECTIVES = ("edp", "latency", "energy")
#: Assignments an evaluator memoises by default.
DEFAULT_MEMO_SIZE = 200_000
_flat = itertools.chain.from_iterable


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
        if not (math.isfinite(self.latency_s) and math.isfinite(self.energy_j) and math.isfinite(self.edp_js)):
            # Inputs are checked where they enter (finite, positive, bounded), but constants near the
            # ends of the float range can still overflow a product: never report such a number.
            raise ConfigError("result", f"latency {self.latency_s!r} s, energy {self.energy_j!r} J: not a finite "
                              "number", "the MCM's package or chiplet constants are out of range; check them")

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
    """Per-model lookups the evaluator reads on every call, built once as Python lists.

    An assignment touches a handful of segments, so plain list indexing beats numpy's per-call
    overhead by an order of magnitude here (the env and the searches call this in their inner loop).

    ``live[p]`` lists the tensors alive across the cut before position ``p``: producers ``u < p``
    with a consumer at or after ``p`` (model outputs count as consumed at the end). They are the
    only candidates for a transfer into a segment starting at ``p``; in real models there are one
    to a few (a residual, U-Net's skips, Q/K/V reading one block input).
    """

    def __init__(self, table: ModelCostTable, batch: int):
        model = table.model
        L = model.num_layers
        self.batch = batch
        self.batches = list(table.batches)
        self.cum_l = table.cum_latency_s.tolist()  # [class][batch index][pos]
        self.cum_e = table.cum_energy_j.tolist()
        self.cum_w = table.cum_weight_bytes.tolist()
        self.layer_w_max = RangeMax(table.weight_bytes)
        self.footprint_max = RangeMax(table.footprint_bytes)
        self.out_bytes = table.output_bytes.tolist()
        consumers: list[list[int]] = [[] for _ in range(L)]
        for u, v in model.edges.tolist():
            consumers[u].append(v)
        last_use = [max(c) if c else -1 for c in consumers]
        for u in model.sinks.tolist():
            last_use[u] = L
        self.consumers = [sorted(c) + ([L] if last_use[u] == L else []) for u, c in enumerate(consumers)]
        self.live: list[tuple[int, ...]] = []
        alive: list[int] = []
        for p in range(L + 1):
            alive = [u for u in alive if last_use[u] >= p]
            self.live.append(tuple(alive))
            if p < L:
                alive.append(p)
        # Source layers read the model input: one tensor, fetched once per segment that reads it.
        source_bytes = np.zeros(L)
        source_bytes[model.sources] = table.input_bytes[model.sources]
        self.source_max = RangeMax(source_bytes)
        self._plans: dict[tuple[int, ...], _CutPlan] = {}
        self._spans: dict[tuple[int, int], tuple] = {}
        self._cum_np: tuple[np.ndarray, np.ndarray] | None = None

    def span(self, a: int, b: int) -> tuple[float, float, float, float, tuple[tuple[int, float], ...]]:
        """What a segment of layers ``[a, b)`` holds whatever the rest of its cut set (cached: the
        cut sets of one window share most of their segments): its weight bytes, the range maxima
        of footprint, layer weights and source bytes, and the tensors it reads across its start
        as ``(producer, bytes)``."""
        hit = self._spans.get((a, b))
        if hit is None:
            reads = []
            for u in self.live[a]:
                cons = self.consumers[u]
                i = bisect_left(cons, a)
                if i < len(cons) and cons[i] < b:  # else alive across the cut but not read by this segment
                    reads.append((u, self.out_bytes[u]))
            hit = self._spans[(a, b)] = (self.cum_w[b] - self.cum_w[a], self.footprint_max.at(a, b),
                                         self.layer_w_max.at(a, b), self.source_max.at(a, b), tuple(reads))
        return hit

    def cum_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The cumulative latency and energy tables as arrays ``[class, batch index, pos]`` (for
        :meth:`Evaluator.evaluate_paths`)."""
        if self._cum_np is None:
            self._cum_np = (np.asarray(self.cum_l, dtype=np.float64), np.asarray(self.cum_e, dtype=np.float64))
        return self._cum_np

    def plan(self, bounds: tuple[int, ...]) -> "_CutPlan":
        """The chiplet-independent part of an assignment whose segments span ``bounds`` (starts, then
        the last stop): searches place one cut set on many paths, and this part is most of the work."""
        p = self._plans.get(bounds)
        if p is None:
            if len(self._plans) >= PLAN_MEMO_SIZE:
                self._plans.clear()
            p = self._plans[bounds] = _CutPlan.build(self, bounds)
        return p


#: Cut sets whose plans one model keeps (a SCAR run on 8x8 meets a few thousand).
PLAN_MEMO_SIZE = 65_536


@dataclass(frozen=True)
class _CutPlan:
    """Per segment of one cut set: weight bytes, the range maxima the mini-batch rule reads, source
    bytes, and the tensors it reads (bytes, producing segment or -1 for DRAM); then the window's
    outputs that go to DRAM (producing segment, bytes), and ``io_bytes``, the activation bytes per
    sample moved to and from DRAM (no chiplet changes them; summed in the order the per-segment
    reads and writes come). :meth:`Evaluator._compute` applies chiplets to it in the order it always
    used, so results are bit-identical to computing from scratch."""

    w_bytes: tuple[float, ...]
    peak: tuple[float, ...]
    layer_w_max: tuple[float, ...]
    source: tuple[float, ...]
    reads: tuple[tuple[tuple[float, int], ...], ...]
    outputs: tuple[tuple[int, float], ...]
    io_bytes: float

    @staticmethod
    def build(d: _ModelData, bounds: tuple[int, ...]) -> "_CutPlan":
        starts, lo, hi = bounds[:-1], bounds[0], bounds[-1]
        spans = [d.span(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        reads = tuple(tuple((by, bisect_right(starts, u) - 1 if u >= lo else -1) for u, by in sp[4]) for sp in spans)
        outputs = tuple((bisect_right(starts, u) - 1, d.out_bytes[u]) for u in d.live[hi] if u >= lo)
        w_bytes, peak, layer_w_max, source, _ = zip(*spans)
        io_bytes = 0.0
        for src, seg_reads in zip(source, reads):
            if src:
                io_bytes += src
            for by, pj in seg_reads:
                if pj < 0:
                    io_bytes += by
        for _, by in outputs:
            io_bytes += by
        return _CutPlan(w_bytes=w_bytes, peak=peak, layer_w_max=layer_w_max, source=source, reads=reads,
                        outputs=outputs, io_bytes=io_bytes)


@dataclass(frozen=True)
class PathResults:
    """:meth:`Evaluator.evaluate_paths`: per path, as the fields of :class:`ModelWindowResult`."""

    latency_s: np.ndarray
    energy_j: np.ndarray
    minibatch: np.ndarray
    weight_load_s: np.ndarray


class Evaluator:
    """Scores schedules of ``models`` (with ``batches``) on ``mcm``.

    Build one from names with :func:`scar_gym.factory.make_evaluator`, which also chooses the
    cost-model settings; this constructor takes the parts already built.

    Args:
        models: the scenario's models, indexed by ``Assignment.model``.
        batches: samples of each model (its batch size or frames per second).
        mcm: the MCM, with its PE count resolved (see ``MCM.for_domain``).
        cost_model: shared cost-table cache; one with the default settings if not given.
        objective: ``edp``, ``latency`` or ``energy``; what :meth:`score` returns.
        cache_size: assignments memoised (0 disables the memo).
        domain: the scenario's domain (``datacenter`` / ``arvr``), for whoever needs it beside the
            PE count (the environments' features); ``None`` when built from bare models.
    """

    def __init__(self, models: Sequence[Model], batches: Sequence[int], mcm: MCM,
                 cost_model: CostModel | None = None, objective: str = "edp", cache_size: int = DEFAULT_MEMO_SIZE,
                 domain: str | None = None):
        if len(models) != len(batches):
            raise ConfigError("batches", f"{len(batches)} batches for {len(models)} models", "give one batch per model")
        for m, b in zip(models, batches):
            check_batch(int(b) if isinstance(b, np.integer) else b, f"batch of {m.name}")
        check_model_names(models)
        objective_value(objective, 1.0, 1.0)
        self.models = tuple(models)
        self.num_layers = tuple(m.num_layers for m in self.models)
        self.batches = tuple(int(b) for b in batches)
        self.mcm = mcm
        self.objective = objective
        self.domain = domain
        self.cost_model = cost_model or CostModel()
        self.tables = tuple(self.cost_model.model_table(m, mcm, b) for m, b in zip(models, self.batches))
        self._data = tuple(_ModelData(t, b) for t, b in zip(self.tables, self.batches))
        self._pkg = mcm.package
        self._class_of_l = mcm.class_of.tolist()
        self._hops_l = mcm.hops.tolist()
        self._dram_hops_l = mcm.dram_hops.tolist()
        self._l2_l = [float(c.l2_bytes) for c in mcm.classes]
        self._arrays = {"class_of": np.asarray(mcm.class_of, dtype=np.int64), "hops": np.asarray(mcm.hops),
                        "dram_hops": np.asarray(mcm.dram_hops), "l2": np.asarray(self._l2_l)}
        self._cache: dict[tuple, ModelWindowResult] = {}
        self._cache_size = cache_size
        self.num_evaluations = 0  # assignments actually computed (memo misses)

    def fresh(self, cache_size: int | None = None) -> "Evaluator":
        """A new evaluator of the same instance, objective and cost tables with an empty memo (so
        its ``num_evaluations`` counts only its own work); ``cache_size`` defaults to this one's."""
        return Evaluator(self.models, self.batches, self.mcm, cost_model=self.cost_model, objective=self.objective,
                         cache_size=self._cache_size if cache_size is None else cache_size, domain=self.domain)

    def context(self, scenario: dict | None = None) -> dict[str, Any]:
        """What a schedule made with this evaluator was made for, as recorded in schedule files: the
        scenario (as given), the MCM (PEs resolved), the cost model, and each model's name, batch,
        layer count and layer digest."""
        return {"scenario": scenario, "mcm": self.mcm.to_dict(), "cost_model": self.cost_model.describe(),
                "models": [{"name": m.name, "batch": b, "layers": m.num_layers, "digest": m.digest}
                           for m, b in zip(self.models, self.batches)]}

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
        # A flat tuple of ints, not (model, segments): the garbage collector stops tracking it, where
        # a key holding Segment objects stays tracked, and every full collection of a SCAR run on
        # 8x8 walked the ~800,000 of them (1.7 of its ~10 CPU-s, 0.3 s with this key).
        key = (a.model, *_flat(a.segments))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        res = self._compute(a)
        self._remember(key, res)
        return res

    def evaluate_placement(self, model: int, bounds: tuple[int, ...], chiplets: tuple[int, ...]) -> ModelWindowResult:
        """:meth:`evaluate_assignment` of the assignment of ``model`` with segments ``[bounds[j],
        bounds[j+1])`` on ``chiplets[j]``, without building it (the same memo: Window-v0's
        relocations score dozens of placements per decision and keep a few)."""
        key = (model, *_flat(zip(bounds[:-1], bounds[1:], chiplets)))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        res = self._compute_parts(model, bounds[:-1], bounds[1:], chiplets)
        self._remember(key, res)
        return res

    def _remember(self, key: tuple, res: ModelWindowResult) -> None:
        if self._cache_size:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[key] = res

    def clear_cache(self) -> None:
        self._cache.clear()

    def evaluate_paths(self, model: int, bounds: tuple[int, ...], paths: np.ndarray) -> PathResults:
        """One cut set of ``model`` on many chiplet paths at once: :meth:`evaluate_assignment` of
        each ``Assignment`` with segments ``[bounds[j], bounds[j+1])`` on ``paths[p, j]``, vectorised
        over the paths. ``paths``: ``(P, len(bounds) - 1)`` chiplet indices. Bit-identical to
        :meth:`_compute` (see :meth:`evaluate_cut_sets`, which this is for one cut set). Counts
        ``P`` evaluations."""
        return self.evaluate_cut_sets(model, [(bounds, paths)])[0]

    def evaluate_cut_sets(self, model: int, jobs: Sequence[tuple[tuple[int, ...], np.ndarray]]) -> list[PathResults]:
        """:meth:`evaluate_paths` of several cut sets of ``model`` in one vectorised pass: ``jobs`` is
        ``[(bounds, paths)]``, each ``paths`` of shape ``(P_k, len(bounds) - 1)``; returns one
        :class:`PathResults` per job. Counts ``sum P_k`` evaluations.

        A candidate pool scores a dozen cut sets on a few dozen paths each: one pass over all of
        them, vectorised over (placement, segment), replaces a dozen passes whose cost was numpy's
        per-call overhead, not arithmetic. Rows are padded to the longest cut set and to the most
        reads a segment has; padding adds an exact ``+0.0`` to every sum or is skipped through
        ``np.where``. Every real element goes through the same floating-point operations in the
        same order as :meth:`_compute` (a segment's time term by term, the sums over segments one
        segment at a time, the placement-free DRAM bytes as Python floats), so the numbers are
        bit-identical. The memo is neither read nor filled: a pool scores thousands of placements
        of which a few are ever scheduled."""
        if not jobs:
            return []
        d = self._data[model]
        path_arrays = []
        for bounds, paths in jobs:
            p = np.asarray(paths, dtype=np.int64)
            if p.size == 0:
                p = p.reshape(0, len(bounds) - 1)
            if p.ndim != 2 or p.shape[1] != len(bounds) - 1:
                raise ScheduleError(f"model {model}: {len(bounds) - 1} segments but paths of {p.shape[-1]} chiplets")
            path_arrays.append(p)
        n_jobs = len(jobs)
        sizes = [len(p) for p in path_arrays]
        n_rows = sum(sizes)
        self.num_evaluations += n_rows
        plans = [d.plan(tuple(bounds)) for bounds, _ in jobs]
        n_segs = [len(bounds) - 1 for bounds, _ in jobs]
        n_seg = max(n_segs)
        n_reads = max((len(r) for plan in plans for r in plan.reads), default=0)
        n_outs = max((len(plan.outputs) for plan in plans), default=0)
        # Per cut set, padded: segment fields (padding: 0 bytes and the empty layer range [0, 0)),
        # reads (producer -2: none, -1: DRAM, j: segment j) and outputs.
        seg_f = np.zeros((5, n_jobs, n_seg))  # w_bytes, peak, layer_w_max, source, valid
        span = np.zeros((2, n_jobs, n_seg), dtype=np.int64)
        read_by = np.zeros((n_jobs, n_seg, n_reads))
        read_from = np.full((n_jobs, n_seg, n_reads), -2, dtype=np.int64)
        out_seg = np.zeros((n_jobs, n_outs), dtype=np.int64)
        out_by = np.zeros((n_jobs, n_outs))
        # the (segment, read) pairs some cut set reads over the NoP / from DRAM (the loops below
        # visit them in _compute's order)
        nop_at: set[tuple[int, int]] = set()
        dram_at: set[tuple[int, int]] = set()
        for k, ((bounds, _), plan, s) in enumerate(zip(jobs, plans, n_segs)):
            seg_f[:, k, :s] = (plan.w_bytes, plan.peak, plan.layer_w_max, plan.source, (1.0,) * s)
            span[:, k, :s] = (bounds[:-1], bounds[1:])
            for j, reads in enumerate(plan.reads):
                for r, (by, pj) in enumerate(reads):
                    read_by[k, j, r], read_from[k, j, r] = by, pj
                    (nop_at if pj >= 0 else dram_at).add((j, r))
            for o, (j, by) in enumerate(plan.outputs):
                out_seg[k, o], out_by[k, o] = j, by
        has_source = seg_f[3].any(axis=0).tolist()
        job = np.repeat(np.arange(n_jobs), sizes)
        paths = np.zeros((n_rows, n_seg), dtype=np.int64)  # padding: chiplet 0, its costs never counted
        at = 0
        for p in path_arrays:
            paths[at:at + len(p), :p.shape[1]] = p
            at += len(p)
        w, peak, layer_w_max, source, valid = seg_f[:, job]  # each (R, S)
        valid = valid > 0
        starts, stops = span[:, job]
        read_by, read_from = read_by[job], read_from[job]  # (R, S, reads)
        out_seg, out_by = out_seg[job], out_by[job]  # (R, outputs); padding: 0 bytes
        out_ok = np.arange(n_outs)[None, :] < np.asarray([len(p.outputs) for p in plans])[job][:, None]

        pkg = self._pkg
        nop_bw, dram_bw = pkg.nop_bandwidth_bytes_per_s, pkg.dram_bandwidth_bytes_per_s
        hop_s, dram_s = pkg.nop_hop_latency_s, pkg.dram_latency_s
        b = d.batch
        arrays = self._arrays
        cls = arrays["class_of"][paths]  # (R, S)
        dh = arrays["dram_hops"][paths]
        mem = arrays["l2"][cls]
        streams = w + peak > mem  # never on padding (0 bytes)
        room = mem - np.where(streams, layer_w_max, w)
        ratio = np.where(valid, 0.0, np.inf)  # padding bounds no mini-batch
        np.divide(room, peak, out=ratio, where=(room > 0) & valid)
        cap = np.minimum.reduce(ratio, axis=1, initial=np.inf)
        fits = np.asarray(d.batches)[None, :] <= cap[:, None]
        last = fits.shape[1] - 1 - np.argmax(fits[:, ::-1], axis=1)
        bi = np.where(fits.any(axis=1), last, 0)
        n = np.asarray(d.batches)[bi]
        reps = b // n
        ncol = n[:, None]
        cum_l, cum_e = d.cum_arrays()

        # Each segment's time, term by term in _compute's order, all segments at once.
        row = (cls * cum_l.shape[1] + bi[:, None]) * cum_l.shape[2]  # cum_l[cls, bi, pos] = flat[row + pos]
        flat_l, flat_e = cum_l.reshape(-1), cum_e.reshape(-1)
        t = flat_l.take(row + stops) - flat_l.take(row + starts)  # (R, S); padding: x - x = 0.0
        seg_e = flat_e.take(row + stops) - flat_e.take(row + starts)
        w_load = w / dram_bw + dh * hop_s + dram_s  # a segment's weights from DRAM
        t = np.where(streams, t + w_load, t)
        dh_s = dh * hop_s
        if any(has_source):
            t = np.where(source != 0, t + (source * ncol / dram_bw + dh_s + dram_s), t)
        rows = np.arange(n_rows)[:, None]
        nop_bh, dram_bh = {}, {}  # (j, r): bytes x hops of that read, per row
        for r in range(n_reads):
            by, pj = read_by[:, :, r], read_from[:, :, r]
            if any(k[1] == r for k in nop_at):  # produced by an earlier segment of this window
                over_nop = pj >= 0
                h = arrays["hops"][paths[rows, np.maximum(pj, 0)], paths]
                t = np.where(over_nop, t + (by * ncol / nop_bw + h * hop_s), t)
                bh = np.where(over_nop, by, 0.0) * h
                nop_bh.update({(j, rr): bh[:, j] for j, rr in nop_at if rr == r})
            if any(k[1] == r for k in dram_at):  # produced in an earlier window: from DRAM
                from_dram = pj == -1
                t = np.where(from_dram, t + (by * ncol / dram_bw + dh_s + dram_s), t)
                bh = np.where(from_dram, by, 0.0) * dh
                dram_bh.update({(j, rr): bh[:, j] for j, rr in dram_at if rr == r})
        # Outputs still needed after the window go to DRAM, one at a time (two may share a segment).
        stages = t
        out_bh = []
        for o in range(n_outs):
            j, by, ok = out_seg[:, o], out_by[:, o], out_ok[:, o]
            dj = dh[rows[:, 0], j]
            now = stages[rows[:, 0], j]
            stages[rows[:, 0], j] = np.where(ok, now + (by * n / dram_bw + dj * hop_s + dram_s), now)
            out_bh.append(by * dj)

        # The sums over segments, one segment (and read) at a time as _compute adds them.
        src_bh = source * dh
        compute_j = np.zeros(n_rows)
        nop_byte_hops = np.zeros(n_rows)
        io_byte_hops = np.zeros(n_rows)
        for j in range(n_seg):
            compute_j = compute_j + seg_e[:, j]
            if has_source[j]:
                io_byte_hops = io_byte_hops + src_bh[:, j]
            for r in range(n_reads):
                if (j, r) in nop_bh:
                    nop_byte_hops = nop_byte_hops + nop_bh[j, r]
                if (j, r) in dram_bh:
                    io_byte_hops = io_byte_hops + dram_bh[j, r]
        for bh in out_bh:
            io_byte_hops = io_byte_hops + bh
        loads = np.where((w > 0) & ~streams, w_load, 0.0)
        load_s = loads.max(axis=1)
        total = stages[:, 0]
        top = stages[:, 0]
        for j in range(1, n_seg):
            total = total + stages[:, j]
            top = np.maximum(top, stages[:, j])
        latency = load_s + total + (reps - 1) * top
        w_read = np.where(streams, w * reps[:, None], w)
        w_read_hops = w_read * dh
        w_total = w_read[:, 0]
        w_hops = w_read_hops[:, 0]
        for j in range(1, n_seg):
            w_total = w_total + w_read[:, j]
            w_hops = w_hops + w_read_hops[:, j]
        io_bytes = np.array([plan.io_bytes for plan in plans])[job]
        dram_j = (io_bytes * b + w_total) * 8 * pkg.dram_energy_j_per_bit
        nop_j = ((nop_byte_hops + io_byte_hops) * b + w_hops) * 8 * pkg.nop_energy_j_per_bit
        energy = compute_j * reps + nop_j + dram_j
        out, at = [], 0
        for size in sizes:
            sl = slice(at, at + size)
            out.append(PathResults(latency_s=latency[sl], energy_j=energy[sl], minibatch=n[sl], weight_load_s=load_s[sl]))
            at += size
        return out

    # -- the model -------------------------------------------------------------------------------
    def _compute(self, a: Assignment) -> ModelWindowResult:
        starts, stops, chips = zip(*a.segments)
        return self._compute_parts(a.model, starts, stops, chips)

    def _compute_parts(self, model: int, starts: Sequence[int], stops: Sequence[int],
                       chips: Sequence[int]) -> ModelWindowResult:
        self.num_evaluations += 1
        d = self._data[model]
        pkg = self._pkg
        nop_bw, dram_bw = pkg.nop_bandwidth_bytes_per_s, pkg.dram_bandwidth_bytes_per_s
        hop_s, dram_s = pkg.nop_hop_latency_s, pkg.dram_latency_s
        hops, dram_hops, class_of, l2 = self._hops_l, self._dram_hops_l, self._class_of_l, self._l2_l
        plan = d.plan((*starts, stops[-1]))
        w_bytes = plan.w_bytes
        b = d.batch
        classes = [class_of[c] for c in chips]

        # Mini-batch: the largest divisor of b that fits every segment's chiplet memory. A segment
        # whose weights cannot stay resident next to one sample streams them instead: it then
        # holds one layer's weights at a time and re-reads all of them for every mini-batch.
        streams = []
        cap = float("inf")
        load_s = 0.0  # the resident segments load their weights in parallel: the longest load counts
        for j, c in enumerate(chips):
            mem = l2[classes[j]]
            peak = plan.peak[j]
            w = w_bytes[j]
            stream = w + peak > mem
            streams.append(stream)
            room = mem - (plan.layer_w_max[j] if stream else w)
            cap = min(cap, room / peak if room > 0 else 0.0)
            if w > 0 and not stream:
                load_s = max(load_s, w / dram_bw + dram_hops[c] * hop_s + dram_s)
        bi = 0
        for i, nb in enumerate(d.batches):
            if nb <= cap:
                bi = i
        n = d.batches[bi]
        reps = b // n

        stages: list[float] = []
        compute_j = 0.0
        nop_byte_hops = 0.0  # inter-chiplet activations, per sample
        io_byte_hops = 0.0  # hops to the side interface of the DRAM reads and writes of activations
        for j, c in enumerate(chips):
            cum_l = d.cum_l[classes[j]][bi]
            cum_e = d.cum_e[classes[j]][bi]
            start, stop = starts[j], stops[j]
            t = cum_l[stop] - cum_l[start]
            compute_j += cum_e[stop] - cum_e[start]
            if streams[j]:
                t += w_bytes[j] / dram_bw + dram_hops[c] * hop_s + dram_s
            src = plan.source[j]
            if src:
                t += src * n / dram_bw + dram_hops[c] * hop_s + dram_s
                io_byte_hops += src * dram_hops[c]
            for by, pj in plan.reads[j]:
                if pj >= 0:  # produced by an earlier segment of this window: over the NoP
                    h = hops[chips[pj]][c]
                    t += by * n / nop_bw + h * hop_s
                    nop_byte_hops += by * h
                else:  # produced in an earlier window: from DRAM
                    t += by * n / dram_bw + dram_hops[c] * hop_s + dram_s
                    io_byte_hops += by * dram_hops[c]
            stages.append(t)
        # Outputs still needed after this window (or model outputs) go to DRAM.
        for j, by in plan.outputs:
            c = chips[j]
            stages[j] += by * n / dram_bw + dram_hops[c] * hop_s + dram_s
            io_byte_hops += by * dram_hops[c]

        latency = load_s + sum(stages) + (reps - 1) * max(stages)
        w_read = [w * reps if st else w for w, st in zip(w_bytes, streams)]  # bytes read from DRAM
        w_total = sum(w_read)
        w_hops = sum([w * dram_hops[c] for c, w in zip(chips, w_read)])
        dram_j = (plan.io_bytes * b + w_total) * 8 * pkg.dram_energy_j_per_bit
        nop_j = ((nop_byte_hops + io_byte_hops) * b + w_hops) * 8 * pkg.nop_energy_j_per_bit
        return ModelWindowResult(model=model, minibatch=n, latency_s=latency, weight_load_s=load_s,
                                 stage_latency_s=tuple(stages), compute_j=compute_j * reps,
                                 nop_j=nop_j, dram_j=dram_j)


class RangeMax:
    """Range-maximum queries in O(1) (a sparse table), vectorised or one at a time."""

    def __init__(self, values: np.ndarray):
        v = np.asarray(values, dtype=np.float64)
        levels = [v]  # level k: the maxima of the windows of 2**k values
        k = 1
        while 2 * k <= len(v):
            prev = levels[-1]
            levels.append(np.maximum(prev[:-k], prev[k:]))
            k *= 2
        self._lists = [lvl.tolist() for lvl in levels]  # scalar queries on the hot path
        # The levels as one (levels, n) table (short ones padded, never read): one gather per query.
        self._table = np.full((len(levels), len(v)), -np.inf)
        for k, lvl in enumerate(levels):
            self._table[k, : len(lvl)] = lvl

    def query(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """max(values[a:b]) elementwise, ``b > a``."""
        k = np.floor(np.log2(b - a)).astype(np.int64)
        return np.maximum(self._table[k, a], self._table[k, b - np.left_shift(1, k)])

    def at(self, a: int, b: int) -> float:
        """max(values[a:b]) for one range, ``b > a``."""
        k = (b - a).bit_length() - 1
        table = self._lists[k]
        return max(table[a], table[b - (1 << k)])


#: Elements (probes x cut sets x segments) above which :meth:`CutSetEstimator.evaluate_groups`
#: evaluates a segment count alone. Measured on the SEG calls of whole runs (best of 5): padding
#: every count made SCAR's SEG 40-170% slower (its lists are large); with this bound SCAR's is as
#: fast as one count at a time and the pools' (8 probes, short lists) 20-25% faster.
PAD_ELEMENTS = 4096


class CutSetEstimator:
    """Latency and energy of many cut sets of one model's window layers ``[lo, hi)`` at once.

    A vectorised estimate of :meth:`Evaluator.evaluate_assignment` for ranking thousands of
    candidates (SCAR's heuristic 1, the Window env's candidate pools): chiplets are given only as
    a sequence of chiplet classes, so NoP transfers across cuts are taken at one hop, DRAM
    side-hops are ignored and a tensor is counted once per reading layer rather than per reading
    segment; everything else (mini-batch rule, weight streaming, pipeline formula, weight loads)
    is the evaluator's. It lives here, beside the exact model, so that the two change together;
    ``tests/test_scar_seg.py`` checks they agree on a chain model.
    """

    def __init__(self, evaluator: "Evaluator", model: int, lo: int, hi: int):
        self.ev = evaluator
        self.model = model
        self.lo, self.hi = lo, hi
        table = evaluator.tables[model]
        m = evaluator.models[model]
        pkg = evaluator.mcm.package
        self.pkg = pkg
        self.batch = evaluator.batches[model]
        self.batches = np.array(table.batches, dtype=np.int64)
        self.cum_l = table.cum_latency_s  # (D, B, L+1)
        self.cum_e = table.cum_energy_j
        self._cum_l_flat, self._cum_e_flat = self.cum_l.ravel(), self.cum_e.ravel()
        self.cum_w = table.cum_weight_bytes
        self.l2 = np.array([c.l2_bytes for c in evaluator.mcm.classes], dtype=np.float64)
        self.peak = evaluator._data[model].footprint_max  # the exact model's tables, built once
        self.layer_w = evaluator._data[model].layer_w_max
        out_bytes = table.output_bytes
        edges = m.edges
        L = m.num_layers
        # NoP bytes crossing each gap p of the window: tensors made in [lo, p) and read in [p, hi).
        last_in = np.full(L, -1, dtype=np.int64)
        inside = (edges[:, 0] >= lo) & (edges[:, 1] < hi) if len(edges) else np.zeros(0, bool)
        if np.any(inside):
            np.maximum.at(last_in, edges[inside, 0], edges[inside, 1])
        diff = np.zeros(L + 2)
        for src in range(lo, hi):
            if last_in[src] > src:
                diff[src + 1] += out_bytes[src]
                diff[last_in[src] + 1] -= out_bytes[src]
        self.cross = np.cumsum(diff)[: L + 1]  # cross[p] for a cut at p
        # DRAM traffic per layer (reads from earlier windows / model input, writes to later ones).
        io_bytes = np.zeros(L)
        io_count = np.zeros(L)
        ext = (edges[:, 0] < lo) & (edges[:, 1] >= lo) & (edges[:, 1] < hi) if len(edges) else np.zeros(0, bool)
        if np.any(ext):
            np.add.at(io_bytes, edges[ext, 1], out_bytes[edges[ext, 0]])
            np.add.at(io_count, edges[ext, 1], 1)
        srcs = m.sources[(m.sources >= lo) & (m.sources < hi)]
        np.add.at(io_bytes, srcs, table.input_bytes[srcs])
        np.add.at(io_count, srcs, 1)
        last = np.full(L, -1, dtype=np.int64)
        if len(edges):
            np.maximum.at(last, edges[:, 0], edges[:, 1])
        last[m.sinks] = L
        wr = np.arange(lo, hi)[last[lo:hi] >= hi]
        np.add.at(io_bytes, wr, out_bytes[wr])
        np.add.at(io_count, wr, 1)
        self.cum_io = np.concatenate([[0.0], np.cumsum(io_bytes)])
        self.cum_io_n = np.concatenate([[0.0], np.cumsum(io_count)])
        self.dram_io_j = float(self.cum_io[hi] - self.cum_io[lo]) * self.batch * 8 * pkg.dram_energy_j_per_bit

    def evaluate(self, cuts: np.ndarray, classes: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(latency_s, energy_j) of each cut set (rows of ``cuts``, shape (n, s-1)) on class sequences.

        ``classes`` is one sequence (s,) -- results have shape (n,) -- or several (P, s) -- results
        have shape (P, n).
        """
        cls = np.asarray(classes, dtype=np.int64)
        single = cls.ndim == 1
        cls = cls.reshape(-1, cls.shape[-1])  # (P, s)
        n = cuts.shape[0]
        cuts = cuts.astype(np.int64)
        latency, energy = self._evaluate(cuts, np.ones(cuts.shape, dtype=bool), cls[:, None, :])
        if single:
            return latency[0], energy[0]
        return latency, energy

    def evaluate_groups(self, groups: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`evaluate` of several ``(cuts (n, s-1), classes (P, s))`` pairs of different segment
        counts ``s`` at once, bit for bit: the cut sets are padded with empty segments to a common
        count, which add exact zeros to every sum and are neutral in every minimum and maximum.
        Returns ``(latency_s, energy_j)`` of shape ``(P, n)`` per pair, in order.

        A sum over segments keeps its rounding only while padding leaves numpy's summation order
        alone: sequential below 8 terms, 8 pairwise partial sums then the rest in order from 8 to 15
        terms. So segment counts are batched within {1..7}, {8}, {9..15} (their cut counts then
        stay within {0..6}, {7}, {8..14}), and from 16 on one by one. A pair that would hold more
        than :data:`PAD_ELEMENTS` (probe, cut set, segment) elements at its batch's width is
        evaluated alone: there the arithmetic outweighs numpy's per-call overhead and padding would
        only add to it (SCAR's SEG: 24 probes, up to 2,000 cut sets per count; the pools' lighter
        SEG: 8 probes, at most 200)."""
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(groups)
        batches: dict[tuple[str, int], list[int]] = {}
        for i, (cuts, probes) in enumerate(groups):
            s = cuts.shape[1] + 1
            bucket, width = (1, 7) if s <= 7 else (8, 8) if s == 8 else (9, 15) if s <= 15 else (s, s)
            if cuts.shape[0] * len(probes) * width > PAD_ELEMENTS:
                batches[("alone", i)] = [i]
            else:
                batches.setdefault(("padded", bucket), []).append(i)
        for members in batches.values():
            width = max(groups[i][0].shape[1] for i in members)
            n_max = max(len(groups[i][1]) for i in members)
            rows = sum(groups[i][0].shape[0] for i in members)
            cuts = np.full((rows, width), self.hi, dtype=np.int64)
            valid = np.zeros((rows, width), dtype=bool)
            cls = np.zeros((n_max, rows, width + 1), dtype=np.int64)
            r = 0
            for i in members:
                c, probes = groups[i]
                k, w = c.shape
                cuts[r:r + k, :w] = c
                valid[r:r + k, :w] = True
                cls[: len(probes), r:r + k, : w + 1] = np.asarray(probes, dtype=np.int64)[:, None, :]
                r += k
            lat, en = self._evaluate(cuts, valid, cls)
            r = 0
            for i in members:
                k, p = groups[i][0].shape[0], len(groups[i][1])
                out[i] = (lat[:p, r:r + k], en[:p, r:r + k])
                r += k
        return out  # type: ignore[return-value]

    def _evaluate(self, cuts: np.ndarray, valid: np.ndarray, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The estimate of cut sets ``cuts`` (n, s-1) whose cut ``j`` is real where ``valid`` (a
        padded cut sits at ``hi`` and makes an empty segment) on class sequences ``cls`` (P, n or 1,
        s); returns ``(latency_s, energy_j)``, each (P, n)."""
        pkg = self.pkg
        n = cuts.shape[0]
        s = cuts.shape[1] + 1
        starts = np.concatenate([np.full((n, 1), self.lo), cuts], axis=1)
        stops = np.concatenate([cuts, np.full((n, 1), self.hi)], axis=1)
        seg_ok = np.concatenate([np.ones((n, 1), dtype=bool), valid], axis=1)  # (n, s): a real segment
        padded = not valid.all()
        # Probe-independent parts.
        w = self.cum_w[stops] - self.cum_w[starts]  # (n, s)
        if padded:  # an empty segment's range is queried as the first layer's, then zeroed
            q_lo = np.where(seg_ok, starts, self.lo).ravel()
            q_hi = np.where(seg_ok, stops, self.lo + 1).ravel()
            peak = np.where(seg_ok, self.peak.query(q_lo, q_hi).reshape(n, s), 0.0)
            w_max = np.where(seg_ok, self.layer_w.query(q_lo, q_hi).reshape(n, s), 0.0)
        else:
            peak = self.peak.query(starts.ravel(), stops.ravel()).reshape(n, s)
            w_max = self.layer_w.query(starts.ravel(), stops.ravel()).reshape(n, s)
        cross = np.where(valid, self.cross[cuts], 0.0) if s > 1 else np.zeros((n, 0))
        io_b = self.cum_io[stops] - self.cum_io[starts]
        io_n = self.cum_io_n[stops] - self.cum_io_n[starts]
        nop_e = cross.sum(axis=1) * 8 * self.batch * pkg.nop_energy_j_per_bit
        # Per (probe, cut set, segment): does the segment stream its weights (they do not fit the
        # chiplet's L2 beside one sample), and the mini-batch the memory rule allows. An empty
        # segment never streams and allows any mini-batch (room / 0 = inf).
        mem = self.l2[cls]  # (P, n or 1, s)
        stream = (w + peak)[None] > mem  # (P, n, s)
        room = mem - np.where(stream, w_max[None], w[None])
        with np.errstate(divide="ignore", invalid="ignore"):
            cap = np.min(np.where(room > 0, np.floor(room / peak[None]), 0.0), axis=2)
        bi = np.maximum(np.searchsorted(self.batches, cap, side="right") - 1, 0)  # (P, n)
        mb = self.batches[bi]
        reps = self.batch // mb
        # cum_l[cls, bi, pos] as one gather from the flat table (numpy's broadcast fancy indexing
        # over three index arrays took twice as long for the same elements)
        row = (cls * self.cum_l.shape[1] + bi[:, :, None]) * self.cum_l.shape[2]  # (P, n, s)
        at_stop, at_start = row + stops[None], row + starts[None]
        stage = self._cum_l_flat.take(at_stop) - self._cum_l_flat.take(at_start)  # (P, n, s)
        comp_e = np.sum(self._cum_e_flat.take(at_stop) - self._cum_e_flat.take(at_start), axis=2) * reps
        w_load = w / pkg.dram_bandwidth_bytes_per_s + pkg.dram_latency_s  # (n, s)
        stage += np.where(stream, w_load[None], 0.0)
        nop_t = cross[None] * mb[:, :, None] / pkg.nop_bandwidth_bytes_per_s + pkg.nop_hop_latency_s
        stage[:, :, 1:] += np.where(valid[None], nop_t, 0.0) if padded else nop_t
        stage += io_b[None] * mb[:, :, None] / pkg.dram_bandwidth_bytes_per_s + io_n[None] * pkg.dram_latency_s
        load = np.where(~stream & (w[None] > 0), w_load[None], 0.0).max(axis=2)  # (P, n)
        latency = load + stage.sum(axis=2) + (reps - 1) * stage.max(axis=2)
        w_read = np.where(stream, w[None] * reps[:, :, None], w[None]).sum(axis=2)
        energy = comp_e + nop_e[None] + self.dram_io_j + w_read * 8 * pkg.dram_energy_j_per_bit
        return latency, energy
