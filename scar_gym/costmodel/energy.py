"""Named energy presets for on-chiplet accesses.

On-chiplet energy is counted in units of one MAC and scaled by ``pj_per_mac`` (absolute pJ of one
INT8 MAC). MAESTRO's defaults are MAC 1, L1 1.68, L2 18.61 (``BASE_constants.hpp``); the Eyeriss
table (ISCA 2016) is register file 1, inter-PE array 2, global buffer 6, DRAM 200. DRAM and NoP
energy are not in these presets: they come from the package constants in Joules per bit
(:class:`scar_gym.hardware.PackageSpec`), as in the paper's Table II.

``pj_per_mac = 0.2``: an 8-bit multiply-add at 45 nm costs about 0.2 pJ (Horowitz, ISSCC 2014,
commonly cited, unverified); we keep that figure for 28 nm as a conservative bound, which puts
one DRAM byte (118 pJ) at about 600 MACs -- the balance that makes weight traffic matter. The
``paper`` preset is the Eyeriss table at the scale fitted to the paper's tables (the default cost
preset's, :mod:`scar_gym.costmodel.presets`); ``maestro`` is MAESTRO's.
"""

from __future__ import annotations

from dataclasses import dataclass

from scar_gym.errors import UnknownNameError, require_in_range

#: Relative access energies and pJ per MAC lie in this range (far outside it energies overflow).
ENERGY_RANGE = (1e-9, 1e9)


@dataclass(frozen=True)
class EnergyPreset:
    """Relative energies of one access (MAC = 1) and the absolute pJ of one MAC."""

    name: str
    mac: float
    l1: float
    l2: float
    pj_per_mac: float = 0.2

    def __post_init__(self) -> None:
        for f in ("mac", "l1", "l2", "pj_per_mac"):
            require_in_range(getattr(self, f), f"energy.{f}", *ENERGY_RANGE)


ENERGY_PRESETS: dict[str, EnergyPreset] = {
    "maestro": EnergyPreset("maestro", mac=1.0, l1=1.68, l2=18.61),
    "eyeriss": EnergyPreset("eyeriss", mac=1.0, l1=1.0, l2=6.0),
    # The paper cost preset's: the Eyeriss table at the scale fitted to Tables IV/V (results/README.md,
    # "The paper preset"). 0.01 pJ per unit is well below a physical 28 nm INT8 MAC; it is what the
    # tables imply: their Shi/NVD energy ratios (about 1.06 on the LM scenarios) leave on-chiplet
    # energy a minority beside DRAM (8-37% of SCAR's energy on the NVD-based 3x3 MCMs).
    "paper": EnergyPreset("paper", mac=1.0, l1=1.0, l2=6.0, pj_per_mac=0.01),
}


def get_energy_preset(name: str | EnergyPreset) -> EnergyPreset:
    if isinstance(name, EnergyPreset):
        return name
    try:
        return ENERGY_PRESETS[name]
    except KeyError:
        raise UnknownNameError("energy preset", name, tuple(ENERGY_PRESETS)) from None
