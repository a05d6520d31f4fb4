"""Cost tables: every layer of a model on every chiplet class of an MCM, for each batch size.

A :class:`CostModel` owns a cost preset (template, energy constants, default bandwidths; see
:mod:`scar_gym.costmodel.presets`) and a cache keyed by layer shapes, so the same model (or two
models with identical layers) is costed once per chiplet class and batch size, however many
environments, evaluators or policies ask. The cache lives in the object, never in a module
global, and its key carries the preset (:attr:`CostModel.key`): two cost models with different
presets never share entries.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from scar_gym.costmodel.dataflow import LayerArrays, LayerCosts, layer_costs
from scar_gym.costmodel.energy import EnergyPreset, get_energy_preset
from scar_gym.costmodel.maestro import MaestroHardware, maestro_layer_costs
from scar_gym.costmodel.presets import CostPreset, cost_preset_from_dict, get_cost_preset
from scar_gym.errors import ConfigError
from scar_gym.hardware import MCM, ChipletSpec
from scar_gym.workloads.model import Model


def divisors(n: int) -> tuple[int, ...]:
    """The divisors of ``n`` in ascending order (in O(sqrt n) steps)."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return tuple(small + [n // d for d in reversed(small) if d * d != n])


@dataclass(frozen=True, eq=False)
class ModelCostTable:
    """Costs of one model on the chiplet classes of one MCM.

    Attributes:
        model: the model.
        classes: chiplet classes, indexed by ``d`` below (``MCM.classes``).
        batches: batch sizes ``n`` costed, ascending (divisors of the scenario batch).
        latency_s: (D, B, L) seconds to run layer ``l`` on class ``d`` for ``batches[b]`` samples.
        energy_j: (D, B, L) Joules of the same (on-chiplet compute and memory only).
        utilization: (D, B, L) PE utilisation.
        weight_bytes: (L,) bytes of DRAM-resident weights.
        input_bytes: (L,) bytes of activation operands one sample reads.
        output_bytes: (L,) bytes one sample writes.
    """

    model: Model
    classes: tuple[ChipletSpec, ...]
    batches: tuple[int, ...]
    latency_s: np.ndarray
    latency_cycles: np.ndarray
    energy_j: np.ndarray
    utilization: np.ndarray
    weight_bytes: np.ndarray
    input_bytes: np.ndarray
    output_bytes: np.ndarray

    @cached_property
    def cum_latency_s(self) -> np.ndarray:
        """(D, B, L+1) prefix sums, so a segment [a, b) costs ``cum[..., b] - cum[..., a]``."""
        return _prefix(self.latency_s)

    @cached_property
    def cum_energy_j(self) -> np.ndarray:
        return _prefix(self.energy_j)

    @cached_property
    def cum_weight_bytes(self) -> np.ndarray:
        return _prefix(self.weight_bytes.astype(np.float64))

    @cached_property
    def footprint_bytes(self) -> np.ndarray:
        """(L,) activation bytes one sample keeps on chip while the layer runs (inputs + outputs)."""
        return (self.input_bytes + self.output_bytes).astype(np.float64)

    def batch_index(self, n: int) -> int:
        try:
            return self.batches.index(n)
        except ValueError:
            raise KeyError(f"batch {n} not costed for {self.model.name} (have {self.batches})") from None


def _prefix(a: np.ndarray) -> np.ndarray:
    out = np.zeros(a.shape[:-1] + (a.shape[-1] + 1,), dtype=np.float64)
    np.cumsum(a, axis=-1, out=out[..., 1:])
    return out


class CostModel:
    """Builds and caches cost tables.

    Args:
        preset: cost preset name (``paper`` by default, ``maestro``, ``legacy``) or a
            :class:`~scar_gym.costmodel.presets.CostPreset`.
        energy: energy preset name (``maestro``, ``eyeriss``) or an :class:`EnergyPreset`
            overriding the cost preset's.
    """

    def __init__(self, preset: str | CostPreset | None = None, energy: str | EnergyPreset | None = None):
        self.preset = get_cost_preset(preset)
        self.energy = get_energy_preset(self.preset.energy if energy is None else energy)
        self._arrays: dict[tuple, LayerArrays] = {}
        self._costs: dict[tuple, LayerCosts] = {}

    @property
    def key(self) -> tuple:
        """What the costs depend on besides layers and hardware: part of every cache key."""
        return (tuple(sorted(self.preset.to_dict().items())), self.energy)

    def describe(self) -> dict:
        """The preset and the energy constants in use, as recorded in schedules and results."""
        return {"preset": self.preset.to_dict(), "energy": asdict(self.energy)}

    @classmethod
    def from_record(cls, record: Any, file: str | None = None) -> "CostModel":
        """The cost model a :meth:`describe` record was made with (a preset name is accepted too)."""
        if isinstance(record, str):
            return cls(record)
        if not isinstance(record, dict) or "preset" not in record:
            raise ConfigError("cost_model", f"expected a record with 'preset' (and 'energy'), got {record!r}",
                              "write a preset name or the record scar-gym saved", file)
        preset = cost_preset_from_dict(record["preset"], file)
        energy = record.get("energy")
        if energy is None:
            return cls(preset)
        if not isinstance(energy, dict):
            raise ConfigError("cost_model.energy", f"expected a mapping, got {energy!r}",
                              "write name, mac, l1, l2, pj_per_mac", file)
        fields = set(EnergyPreset.__dataclass_fields__)
        if set(energy) != fields:
            raise ConfigError("cost_model.energy", f"expected the fields {sorted(fields)}, got {sorted(energy)}",
                              "write name, mac, l1, l2, pj_per_mac", file)
        try:
            return cls(preset, energy=EnergyPreset(**energy))
        except ConfigError as e:
            raise ConfigError(f"cost_model.{e.field}", e.problem, e.fix, file) from None

    @staticmethod
    def _shape_key(model: Model) -> tuple:
        return tuple((l.op, l.k, l.c, l.y_in, l.x_in, l.r, l.s, l.stride, l.pad, l.groups) for l in model.layers)

    def arrays(self, model: Model) -> LayerArrays:
        key = self._shape_key(model)
        if key not in self._arrays:
            self._arrays[key] = LayerArrays.from_layers(model.layers)
        return self._arrays[key]

    def hardware(self, spec: ChipletSpec) -> MaestroHardware:
        """``spec`` as the MAESTRO template sees it, with the preset's bandwidths where it sets none."""
        return MaestroHardware(
            dataflow=spec.dataflow, num_pes=spec.num_pes, cluster=spec.cluster,
            noc_bw=spec.noc_bw if spec.noc_bw is not None else self.preset.noc_bw,
            offchip_bw=spec.offchip_bw if spec.offchip_bw is not None else self.preset.offchip_bw,
            hop_cycles=spec.noc_hop_cycles)

    def layer_costs(self, model: Model, spec: ChipletSpec, batches: Sequence[int], bytes_per_element: int = 1) -> LayerCosts:
        """Per-layer costs of ``model`` on ``spec``; arrays of shape (len(batches), L), in cycles and pJ."""
        key = (self.key, self._shape_key(model), spec, tuple(batches), bytes_per_element)
        if key not in self._costs:
            self._costs[key] = self.compute(self.arrays(model), spec, batches, bytes_per_element)
        return self._costs[key]

    def compute(self, arr: LayerArrays, spec: ChipletSpec, batches: Sequence[int],
                bytes_per_element: int = 1) -> LayerCosts:
        """The preset's template on ``arr`` (uncached): MAESTRO's mappings for NVD and Shi chiplets,
        the legacy model for Eye chiplets and under the ``legacy`` preset."""
        if self.preset.template == "maestro" and spec.dataflow in ("nvd", "shi"):
            return maestro_layer_costs(arr, self.hardware(spec), batches, self.energy)
        if self.preset.noc_bw is not None and spec.noc_bw is None:
            spec = replace(spec, noc_bw=self.preset.noc_bw)
        return layer_costs(arr, spec, batches, self.energy, bytes_per_element)

    def model_table(self, model: Model, mcm: MCM, batch: int) -> ModelCostTable:
        """Cost table of ``model`` on ``mcm``'s classes for every divisor of ``batch`` (the mini-batches)."""
        batches = divisors(batch)
        bpe = mcm.package.bytes_per_element
        per_class = [self.layer_costs(model, spec, batches, bpe) for spec in mcm.classes]
        cycles = np.stack([c.latency_cycles for c in per_class])
        layers = model.layers
        return ModelCostTable(
            model=model, classes=mcm.classes, batches=batches,
            latency_s=cycles / mcm.package.clock_hz, latency_cycles=cycles,
            energy_j=np.stack([c.energy_pj for c in per_class]) * 1e-12,
            utilization=np.stack([c.utilization for c in per_class]),
            weight_bytes=np.array([l.param_elems * bpe for l in layers], dtype=np.float64),
            input_bytes=np.array([l.input_elems * bpe for l in layers], dtype=np.float64),
            output_bytes=np.array([l.output_elems * bpe for l in layers], dtype=np.float64),
        )
