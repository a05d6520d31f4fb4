"""Named MCMs: the built-in presets in ``configs/mcm`` and generated layouts of any size.

:func:`load_mcm` accepts, in this order of precedence:

1. a preset name (:data:`MCM_NAMES`, one YAML file each in ``configs/mcm``);
2. a path to an MCM YAML file (ends in ``.yaml``/``.yml``, or names an existing file);
3. a generated family ``<family>-<R>x<C>`` with an optional ``-tri`` suffix for the triangular
   NoP, e.g. ``het-sides-4x5`` or ``het-cross-6x6-tri`` (see :data:`FAMILIES`);
4. a layout string: rows of ``N``/``S``/``E`` separated by ``/`` or ``,`` (``NSN/SNS/NSN``,
   ``nsn,sns,nsn``) with an optional ``@tri`` (or ``@mesh``) suffix. A single-row layout without a
   separator must be upper case (``NSSN``), so that a mistyped lower-case name is reported as
   unknown rather than read as a 1-row MCM.

Generated families (``R`` rows x ``C`` columns, chiplet ``(r, c)``; ``k(n) = max(1, n // 3)`` is
the width of an *outer band*: the first and last ``k(n)`` rows or columns of a dimension ``n``):

* ``nvd``: every chiplet NVD.  ``shi``: every chiplet Shi.
* ``het-cb``: checkerboard, ``(r + c)`` even is NVD; every mesh neighbour has the other dataflow.
* ``het-sides``: columns in the outer band are NVD (next to the side DRAM interfaces), the
  middle columns Shi. 3 columns: ``NSN``; 4: ``NSSN``; 5: ``NSSSN``; 6: ``NNSSNN``. Needs C >= 3.
* ``het-cross``: a chiplet is NVD when both its row and its column are in the outer band, so the
  corner blocks are NVD and the middle rows and columns form a Shi cross. 6x6: four 2x2 NVD corners
  (16 N, 20 S); 3x3: ``NSN/SSS/NSN``. Needs R >= 3 and C >= 3.

The 3x3 and 6x6 presets equal the generated layouts of the same name; the presets add a
description and fix the name. No preset sets ``num_pes``: it follows the scenario's domain
(:meth:`~scar_gym.hardware.MCM.for_domain`) unless ``load_mcm(..., num_pes=...)`` sets it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from scar_gym.errors import ConfigError, UnknownNameError
from scar_gym.fileio import is_file
from scar_gym.hardware import MCM, TOPOLOGIES, check_grid, grid_mcm, load_mcm_file, parse_layout
from scar_gym.paths import MCM_DIR

#: Built-in preset names, sorted (one ``<name>.yaml`` each in ``configs/mcm``).
MCM_NAMES: tuple[str, ...] = tuple(sorted(p.stem for p in MCM_DIR.glob("*.yaml")))


def _outer(i: int, n: int) -> bool:
    """Whether index ``i`` of a dimension of size ``n`` is in its outer band (first/last ``max(1, n//3)``)."""
    k = max(1, n // 3)
    return i < k or i >= n - k


def _nvd(r: int, c: int, rows: int, cols: int) -> str:
    return "N"


def _shi(r: int, c: int, rows: int, cols: int) -> str:
    return "S"


def _checkerboard(r: int, c: int, rows: int, cols: int) -> str:
    return "N" if (r + c) % 2 == 0 else "S"


def _sides(r: int, c: int, rows: int, cols: int) -> str:
    return "N" if _outer(c, cols) else "S"


def _cross(r: int, c: int, rows: int, cols: int) -> str:
    return "N" if _outer(r, rows) and _outer(c, cols) else "S"


#: family -> (letter of chiplet (r, c) in an R x C grid, minimum rows, minimum columns).
FAMILIES: dict[str, tuple[Callable[[int, int, int, int], str], int, int]] = {
    "nvd": (_nvd, 1, 1),
    "shi": (_shi, 1, 1),
    "het-cb": (_checkerboard, 1, 1),
    "het-sides": (_sides, 1, 3),
    "het-cross": (_cross, 3, 3),
}

_FAMILY_RE = re.compile(r"^(?P<family>[a-z-]+?)-(?P<rows>\d+)x(?P<cols>\d+)(?P<tri>-tri)?$")
_LAYOUT_RE = re.compile(r"^[NSE]+(?:[/,][NSE]+)*(?:@(?P<topology>\w+))?$", re.IGNORECASE)

#: What :func:`load_mcm` accepts besides the preset names (shown in the unknown-name error).
ACCEPTED_PATTERNS: tuple[str, ...] = (
    f"<family>-<R>x<C>[-tri] with family in {{{', '.join(FAMILIES)}}}",
    "<layout>[@tri] such as NSN/SNS/NSN or nsn,sns,nsn",
    "<path to an MCM .yaml file>",
)


def family_layout(family: str, rows: int, cols: int) -> tuple[str, ...]:
    """The layout of a generated family (see the module docstring) on an ``rows x cols`` grid."""
    if family not in FAMILIES:
        raise UnknownNameError("MCM family", family, tuple(FAMILIES))
    letter, min_rows, min_cols = FAMILIES[family]
    if rows < min_rows or cols < min_cols:
        raise ConfigError("mcm", f"{family} needs at least {min_rows} rows and {min_cols} columns, got {rows}x{cols}",
                          f"use e.g. {family}-{max(3, min_rows)}x{max(3, min_cols)}")
    return tuple("".join(letter(r, c, rows, cols) for c in range(cols)) for r in range(rows))


def _looks_like_path(spec: str) -> bool:
    return spec.lower().endswith((".yaml", ".yml")) or is_file(spec)


def _from_family(spec: str) -> MCM | None:
    m = _FAMILY_RE.match(spec.lower())
    if m is None or m["family"] not in FAMILIES:
        return None
    rows, cols = int(m["rows"]), int(m["cols"])
    if rows < 1 or cols < 1:
        raise ConfigError("mcm", f"grid {rows}x{cols} in {spec!r} is empty", "use at least 1x1")
    check_grid(rows, cols, "mcm")
    layout = family_layout(m["family"], rows, cols)
    return MCM(name=spec.lower(), layout=layout, topology="tri" if m["tri"] else "mesh")


def _from_layout_string(spec: str) -> MCM | None:
    spec = "".join(spec.split())  # "N S N / S N S" is the same layout as "NSN/SNS"
    m = _LAYOUT_RE.match(spec)
    if m is None:
        return None
    body = spec.split("@", 1)[0]
    if not any(sep in body for sep in "/,") and body != body.upper():
        return None  # a lone lower-case word is far more likely a mistyped name than a 1-row MCM
    topology = (m["topology"] or "mesh").lower()
    if topology not in TOPOLOGIES:
        raise ConfigError("mcm", f"unknown topology {m['topology']!r} in {spec!r}",
                          f"end the layout with @{' or @'.join(TOPOLOGIES)}")
    rows = parse_layout(body, field="mcm")
    name = "/".join(rows) + ("@tri" if topology == "tri" else "")
    return grid_mcm("/".join(rows), topology=topology, name=name)


def load_mcm(spec: str, num_pes: int | None = None) -> MCM:
    """An MCM from a preset name, a YAML path, a ``<family>-RxC[-tri]`` pattern or a layout string.

    Args:
        spec: see the module docstring for the accepted forms and their precedence.
        num_pes: PEs per chiplet; ``None`` keeps the file's value (presets: none, i.e. the
            scenario domain decides, 4096 datacenter / 256 AR/VR).

    Raises:
        UnknownNameError: ``spec`` matches none of the accepted forms.
        ConfigError: a file or layout is invalid (the message names the field and file).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError("mcm", f"expected a non-empty name, got {spec!r}", "give a preset name such as het-sides-3x3")
    spec = spec.strip()
    if spec in MCM_NAMES:
        mcm = load_mcm_file(MCM_DIR / f"{spec}.yaml")
    elif _looks_like_path(spec):
        mcm = load_mcm_file(spec)
    else:
        mcm = _from_family(spec) or _from_layout_string(spec)
        if mcm is None:
            raise UnknownNameError("MCM", spec, MCM_NAMES + ACCEPTED_PATTERNS, field="mcm")
    return mcm.with_pes(num_pes) if num_pes is not None else mcm


def list_mcms() -> list[MCM]:
    """Every built-in preset, in :data:`MCM_NAMES` order."""
    return [load_mcm(name) for name in MCM_NAMES]
