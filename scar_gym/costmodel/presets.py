"""Named cost presets: which per-layer template, which energy constants, which default bandwidths.

A preset fills in what an MCM leaves unset; a value written in the MCM (``chiplet.noc_bw``,
``chiplet.offchip_bw``, per dataflow or for all chiplets) always wins. Every schedule's JSON and
every cost-table cache records the preset (:meth:`CostPreset.to_dict`), so numbers made under
different presets are never mixed.

* ``paper`` (the default): MAESTRO's mappings with the off-chip bandwidth (224 elements per cycle
  per chiplet) and energy constants (the Eyeriss relative table at 0.01 pJ per unit) that best
  reproduce the paper's Tables IV and V, chosen once for every scenario, model and chiplet on a
  160-point grid (``scripts/calibrate_paper_preset.py``, ``results/calibration/grid.csv``); the
  fit is written up in ``results/README.md`` (section "The paper preset").
* ``maestro``: MAESTRO's mappings and energy units at the MCM's own bandwidths; anything unset is
  unconstrained (MAESTRO's ``noc_bw 1000 / offchip_bw 70000`` reference configuration).
* ``legacy``: the project's first model (:mod:`scar_gym.costmodel.dataflow`), for results made
  before the MAESTRO templates; its NoC default is ``num_pes / 16`` bytes per cycle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from scar_gym.errors import ConfigError, UnknownNameError, require_in_range

TEMPLATES = ("maestro", "legacy")


@dataclass(frozen=True)
class CostPreset:
    """A named choice of per-layer template, energy preset and default chiplet bandwidths.

    Attributes:
        name: preset name, recorded in schedules and cache keys.
        template: ``maestro`` (:mod:`scar_gym.costmodel.maestro`) or ``legacy``.
        energy: energy preset name (:data:`scar_gym.costmodel.energy.ENERGY_PRESETS`).
        noc_bw: L2 -> PE elements per cycle for chiplets that leave ``noc_bw`` unset; ``None`` =
            unconstrained.
        offchip_bw: off-chip -> L2 elements per cycle for chiplets that leave ``offchip_bw``
            unset; ``None`` = unconstrained.
    """

    name: str
    template: str = "maestro"
    energy: str = "maestro"
    noc_bw: float | None = None
    offchip_bw: float | None = None

    def __post_init__(self) -> None:
        if self.template not in TEMPLATES:
            raise ConfigError("cost_preset.template", f"unknown template {self.template!r}",
                              f"use one of {', '.join(TEMPLATES)}")
        from scar_gym.costmodel.energy import get_energy_preset

        get_energy_preset(self.energy)
        from scar_gym.hardware import BANDWIDTH_RANGE

        for f in ("noc_bw", "offchip_bw"):
            if getattr(self, f) is not None:
                require_in_range(getattr(self, f), f"cost_preset.{f}", *BANDWIDTH_RANGE, "elements per cycle")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Off-chip elements per cycle per chiplet of the ``paper`` preset, fitted with its energy constants
#: (the ``paper`` energy preset) by scripts/calibrate_paper_preset.py; results/README.md has the fit.
PAPER_OFFCHIP_BW = 224.0

COST_PRESETS: dict[str, CostPreset] = {
    "paper": CostPreset("paper", energy="paper", offchip_bw=PAPER_OFFCHIP_BW),
    "maestro": CostPreset("maestro"),
    "legacy": CostPreset("legacy", template="legacy"),
}
DEFAULT_COST_PRESET = "paper"


def get_cost_preset(preset: str | CostPreset | None = None) -> CostPreset:
    """The preset of that name (the default for ``None``), or ``preset`` itself."""
    if isinstance(preset, CostPreset):
        return preset
    name = DEFAULT_COST_PRESET if preset is None else preset
    try:
        return COST_PRESETS[name]
    except (KeyError, TypeError):
        raise UnknownNameError("cost preset", str(name), tuple(COST_PRESETS)) from None


def cost_preset_from_dict(data: Any, file: str | None = None) -> CostPreset:
    """A preset recorded by :meth:`CostPreset.to_dict` (a name alone is looked up)."""
    if isinstance(data, str):
        return get_cost_preset(data)
    if not isinstance(data, dict) or "name" not in data:
        raise ConfigError("cost_preset", f"expected a preset name or a mapping with 'name', got {data!r}",
                          f"write one of {', '.join(COST_PRESETS)}", file)
    known = set(CostPreset.__dataclass_fields__)
    bad = sorted(set(data) - known)
    if bad:
        raise ConfigError(f"cost_preset.{bad[0]}", "unknown field", f"use only {', '.join(sorted(known))}", file)
    try:
        return CostPreset(**data)
    except ConfigError as e:
        raise ConfigError(e.field, e.problem, e.fix, file) from None
