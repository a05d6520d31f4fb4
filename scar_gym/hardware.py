"""Multi-chiplet-module (MCM) hardware: chiplets, the package network (NoP) and DRAM interfaces.

Defaults are the paper's Table II (Simba-based, 28 nm); see ``shared/spec/scar-method.md`` section 2.

Chiplets are numbered row-major: chiplet ``i`` sits at ``(row, col) = divmod(i, cols)``. The
dataflow layout is a grid of letters, one row per line (``"NSN/NSN/NSN"``): ``N`` NVDLA-like weight
stationary, ``S`` ShiDianNao-like output stationary, ``E`` Eyeriss-like row stationary.

Topologies:
    * ``mesh``: 4-neighbour 2-D mesh, dimension-order (XY) routing: first along the row to the
      destination column, then along the column. Hops = Manhattan distance.
    * ``tri``: the mesh plus one diagonal per cell (``(r, c) - (r+1, c+1)``), i.e. a triangulated
      mesh; routes are shortest paths (diagonal moves first, then XY), hops = max(|dr|, |dc|) when
      the signs of dr and dc agree, Manhattan distance otherwise.

DRAM sits behind two interfaces on the left and right sides of the package. A transfer goes to the
nearer side and pays the hops to that side's outer column: ``dram_hops(i) = min(col, cols-1-col)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from scar_gym.errors import ConfigError, require_count, require_in_range, require_positive

DATAFLOW_LETTERS = {"N": "nvd", "S": "shi", "E": "eye"}
DATAFLOWS = tuple(DATAFLOW_LETTERS.values())
TOPOLOGIES = ("mesh", "tri")
#: PEs per chiplet by scenario domain (Table II).
DOMAIN_PES = {"datacenter": 4096, "arvr": 256}
#: Size bounds (a value above one is an error that states it): chiplets per MCM (32x32; a
#: policy's work grows with the grid, the paper's largest is 6x6), PEs per chiplet, bytes of one
#: chiplet's memories, and the element width (INT8 = 1 .. FP64 = 8).
MAX_CHIPLETS = 1024
MAX_PES = 2**20
MAX_MEMORY_BYTES = 2**50
MAX_BYTES_PER_ELEMENT = 8
MAX_HOP_CYCLES = 10**9
#: Chiplet bandwidths (elements per cycle) and package constants (SI units) must lie in these
#: ranges: far outside them a product of the cost model overflows or underflows the float range.
BANDWIDTH_RANGE = (1e-3, 1e12)
PACKAGE_RANGE = (1e-15, 1e15)


@dataclass(frozen=True)
class PackageSpec:
    """Package-level constants shared by every chiplet (Table II; INT8 operands)."""

    clock_hz: float = 500e6
    dram_latency_s: float = 200e-9
    dram_energy_j_per_bit: float = 14.8e-12
    dram_bandwidth_bytes_per_s: float = 64e9  # per side interface
    nop_hop_latency_s: float = 35e-9
    nop_energy_j_per_bit: float = 2.04e-12
    nop_bandwidth_bytes_per_s: float = 100e9  # per chiplet
    bytes_per_element: int = 1

    def __post_init__(self) -> None:
        for f in ("clock_hz", "dram_latency_s", "dram_energy_j_per_bit", "dram_bandwidth_bytes_per_s",
                  "nop_hop_latency_s", "nop_energy_j_per_bit", "nop_bandwidth_bytes_per_s"):
            require_in_range(getattr(self, f), f"package.{f}", *PACKAGE_RANGE, "in SI units (Hz, s, J/bit, B/s)")
        require_positive(self.bytes_per_element, "package.bytes_per_element")
        if self.bytes_per_element > MAX_BYTES_PER_ELEMENT:
            raise ConfigError("package.bytes_per_element", f"{self.bytes_per_element:,} bytes per element, above "
                              f"the bound of {MAX_BYTES_PER_ELEMENT}", "use 1 (INT8), 2 (FP16), 4 (FP32) or 8")


@dataclass(frozen=True)
class ChipletSpec:
    """One chiplet class: a dataflow, a PE array, its memories and bandwidths.

    Attributes:
        dataflow: ``nvd``, ``shi`` or ``eye``.
        num_pes: processing elements (MAC units, one MAC per cycle).
        l2_bytes: shared on-chiplet buffer (10 MB in Table II).
        l1_bytes_per_pe: private PE buffer (the ``legacy`` cost template keeps a Shi tile's inputs
            resident when they fit).
        cluster_size: PEs in one cluster (the inner spatial dimension). ``None``: MAESTRO's
            templates, 64 for NVD (input channels per cluster) and 8 for Shi (output columns per
            PE row, a ``(P/8) x 8`` array); ``sqrt(num_pes)`` for Eye.
        noc_bw: L2 -> PE (NoC) bandwidth in elements per cycle. ``None``: the cost preset's
            (unconstrained in ``maestro`` and ``paper``).
        offchip_bw: off-chip -> L2 bandwidth in elements per cycle, the refill of every L2 tile
            that MAESTRO charges per iteration. ``None``: the cost preset's (``paper`` sets one,
            ``maestro`` leaves it unconstrained).
        noc_hop_cycles: NoC head latency per transfer, in cycles (MAESTRO's ``noc_hop_latency``;
            1 in the reference configurations).
    """

    dataflow: str
    num_pes: int
    l2_bytes: int = 10 * 1024 * 1024
    l1_bytes_per_pe: int = 512
    cluster_size: int | None = None
    noc_bw: float | None = None
    offchip_bw: float | None = None
    noc_hop_cycles: int = 1

    def __post_init__(self) -> None:
        if self.dataflow not in DATAFLOWS:
            raise ConfigError("chiplet.dataflow", f"unknown dataflow {self.dataflow!r}",
                              f"use one of {', '.join(DATAFLOWS)}")
        check_pes(self.num_pes, "chiplet.num_pes")
        for f in ("l2_bytes", "l1_bytes_per_pe"):
            require_positive(getattr(self, f), f"chiplet.{f}")
            if getattr(self, f) > MAX_MEMORY_BYTES:
                raise ConfigError(f"chiplet.{f}", f"{getattr(self, f):,} bytes, above the bound of "
                                  f"{MAX_MEMORY_BYTES:,}", "check the value (Table II: 10 MB of L2)")
        if self.cluster_size is not None:
            require_positive(self.cluster_size, "chiplet.cluster_size")
            if self.num_pes % self.cluster_size:
                raise ConfigError("chiplet.cluster_size", f"{self.cluster_size} does not divide num_pes={self.num_pes}",
                                  "choose a divisor of num_pes")
        for f in ("noc_bw", "offchip_bw"):
            if getattr(self, f) is not None:
                require_in_range(getattr(self, f), f"chiplet.{f}", *BANDWIDTH_RANGE, "elements per cycle")
        if (not isinstance(self.noc_hop_cycles, int) or isinstance(self.noc_hop_cycles, bool)
                or not 0 <= self.noc_hop_cycles <= MAX_HOP_CYCLES):
            raise ConfigError("chiplet.noc_hop_cycles", f"expected an integer 0 .. {MAX_HOP_CYCLES:,}, got "
                              f"{self.noc_hop_cycles!r}", "write the NoC hop latency in whole cycles, e.g. 1")

    @property
    def cluster(self) -> int:
        """PEs per cluster (inner spatial dimension); MAESTRO's template sizes by default."""
        if self.cluster_size is not None:
            return self.cluster_size
        if self.dataflow == "nvd":
            return min(64, self.num_pes)
        if self.dataflow == "shi":
            return min(8, self.num_pes)
        return square_side(self.num_pes)

    @property
    def num_clusters(self) -> int:
        return self.num_pes // self.cluster


def check_pes(value: Any, field: str = "num_pes", file: str | None = None) -> int:
    """``value`` if it is an integer 1 .. :data:`MAX_PES`, else a :class:`ConfigError` naming ``field``."""
    return require_count(value, field, MAX_PES, "PEs per chiplet", "use e.g. 4096 (Table II: 4096 datacenter, 256 "
                         "AR/VR)", file)


def check_grid(rows: int, cols: int, field: str = "layout", file: str | None = None) -> None:
    """Refuse grids of more than :data:`MAX_CHIPLETS` chiplets (before any table of them is built)."""
    if rows * cols > MAX_CHIPLETS:
        raise ConfigError(field, f"{rows}x{cols} = {rows * cols:,} chiplets, above the bound of {MAX_CHIPLETS:,}",
                          "use at most 32x32 chiplets", file)


def square_side(num_pes: int) -> int:
    """The largest divisor of ``num_pes`` not above its square root (a near-square PE array)."""
    side = int(math.isqrt(num_pes))
    while num_pes % side:
        side -= 1
    return side


#: Chiplet fields an MCM may set for all classes, or per dataflow under ``nvd:``/``shi:``/``eye:``.
CHIPLET_FIELDS = ("l2_bytes", "l1_bytes_per_pe", "cluster_size", "noc_bw", "offchip_bw", "noc_hop_cycles")


def check_chiplet_fields(chiplet: Any, file: str | None = None) -> dict[str, Any]:
    """Validate an MCM's ``chiplet`` mapping (shared fields and per-dataflow overrides)."""
    if not isinstance(chiplet, dict):
        raise ConfigError("chiplet", "expected a mapping", "write chiplet fields as 'key: value'", file)
    for key, value in chiplet.items():
        if key == "l2_bandwidth_bytes_per_cycle":
            raise ConfigError("chiplet.l2_bandwidth_bytes_per_cycle", "replaced by noc_bw",
                              "write noc_bw in elements per cycle (bytes per cycle / bytes_per_element)", file)
        if key in DATAFLOWS:
            if not isinstance(value, dict):
                raise ConfigError(f"chiplet.{key}", "expected a mapping of chiplet fields for this dataflow",
                                  f"write e.g. '{key}: {{offchip_bw: 128}}'", file)
            bad = sorted(set(value) - set(CHIPLET_FIELDS))
            if bad:
                raise ConfigError(f"chiplet.{key}.{bad[0]}", "unknown chiplet field",
                                  f"use one of {', '.join(CHIPLET_FIELDS)}", file)
        elif key not in CHIPLET_FIELDS:
            raise ConfigError(f"chiplet.{key}", "unknown chiplet field",
                              f"use one of {', '.join(CHIPLET_FIELDS)}, or a dataflow name ({', '.join(DATAFLOWS)}) "
                              "holding per-dataflow fields", file)
    return dict(chiplet)


def parse_layout(layout: str | list[str] | tuple[str, ...], field: str = "layout", file: str | None = None) -> tuple[str, ...]:
    """Parse ``"NSN/SNS/NSN"`` (or ``,``/newline separated, or a list of rows) into rows of letters.

    Whitespace inside a row is ignored, so the output of :meth:`MCM.render` (``"N S N"`` per line)
    parses back to the same layout.
    """
    if isinstance(layout, str):
        rows = ["".join(r.split()) for r in layout.replace(",", "/").replace("\n", "/").split("/") if r.strip()]
    elif isinstance(layout, (list, tuple)):
        rows = ["".join(str(r).split()) for r in layout]
    else:
        raise ConfigError(field, f"expected a string like 'NSN/NSN/NSN' or a list of rows, got {type(layout).__name__}",
                          "write one row of letters per grid row", file)
    if not rows or not rows[0]:
        raise ConfigError(field, "empty layout", "write at least one row, e.g. 'NSN/NSN/NSN'", file)
    check_grid(len(rows), max(len(r) for r in rows), field, file)
    rows = [r.upper() for r in rows]
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ConfigError(field, f"rows have different lengths {[len(r) for r in rows]}",
                          "give every row the same number of chiplets", file)
    for r in rows:
        bad = sorted(set(r) - set(DATAFLOW_LETTERS))
        if bad:
            raise ConfigError(field, f"unknown dataflow letter(s) {bad} in row {r!r}",
                              "use N (nvd), S (shi) or E (eye)", file)
    return tuple(rows)


@dataclass(frozen=True, eq=False)
class MCM:
    """A multi-chiplet module.

    Attributes:
        name: preset name or a user label.
        layout: rows of dataflow letters; the grid size is ``len(layout) x len(layout[0])``.
        topology: ``mesh`` or ``tri``.
        num_pes: PEs per chiplet; ``None`` means "from the scenario's domain" (see :meth:`for_domain`)
            and is resolved to 4096 when a concrete number is needed without a domain.
        chiplet: chiplet fields (:data:`CHIPLET_FIELDS`: memory, cluster size, NoC and off-chip
            bandwidth) for every class, and per-dataflow overrides under ``nvd``/``shi``/``eye``
            (``{"offchip_bw": 256, "shi": {"noc_bw": 64}}``); the dataflow comes from the layout
            and the PE count from ``num_pes``.
        package: package-level constants.
    """

    name: str
    layout: tuple[str, ...]
    topology: str = "mesh"
    num_pes: int | None = None
    chiplet: dict[str, Any] = field(default_factory=dict)
    package: PackageSpec = field(default_factory=PackageSpec)
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "layout", parse_layout(self.layout))
        if self.topology not in TOPOLOGIES:
            raise ConfigError("topology", f"unknown topology {self.topology!r}", f"use one of {', '.join(TOPOLOGIES)}")
        if self.num_pes is not None:
            check_pes(self.num_pes, "num_pes")
        check_chiplet_fields(self.chiplet)
        # Validate the chiplet fields now rather than at first use.
        for df in set(self.dataflows):
            self.spec_for(df)

    # -- geometry --------------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        return len(self.layout)

    @property
    def cols(self) -> int:
        return len(self.layout[0])

    @property
    def num_chiplets(self) -> int:
        return self.rows * self.cols

    @property
    def shape(self) -> str:
        return f"{self.rows}x{self.cols}"

    def coords(self, chiplet: int) -> tuple[int, int]:
        return divmod(chiplet, self.cols)

    def index(self, row: int, col: int) -> int:
        return row * self.cols + col

    @cached_property
    def dataflows(self) -> tuple[str, ...]:
        """Dataflow of each chiplet, row-major."""
        return tuple(DATAFLOW_LETTERS[ch] for row in self.layout for ch in row)

    @property
    def pes(self) -> int:
        return self.num_pes if self.num_pes is not None else DOMAIN_PES["datacenter"]

    def spec_for(self, dataflow: str) -> ChipletSpec:
        shared = {k: v for k, v in self.chiplet.items() if k not in DATAFLOWS}
        fields = {**shared, **self.chiplet.get(dataflow, {})}
        try:
            return ChipletSpec(dataflow=dataflow, num_pes=self.pes, **fields)
        except ConfigError as e:
            if dataflow in self.chiplet and e.field.startswith("chiplet."):
                name = e.field.split(".", 1)[1]
                if name in self.chiplet[dataflow]:
                    raise ConfigError(f"chiplet.{dataflow}.{name}", e.problem, e.fix) from None
            raise

    @cached_property
    def dataflow_index(self) -> tuple[int, ...]:
        """Per chiplet, the index of its dataflow in :data:`DATAFLOWS` (row-major)."""
        return tuple(DATAFLOWS.index(d) for d in self.dataflows)

    @cached_property
    def classes(self) -> tuple[ChipletSpec, ...]:
        """Distinct chiplet classes, in the order N, S, E (only those present)."""
        present = set(self.dataflows)
        return tuple(self.spec_for(df) for df in DATAFLOWS if df in present)

    @cached_property
    def class_of(self) -> np.ndarray:
        """(C,) int: index into :attr:`classes` of each chiplet."""
        names = [c.dataflow for c in self.classes]
        return np.array([names.index(df) for df in self.dataflows], dtype=np.int64)

    def count(self, dataflow: str) -> int:
        return sum(1 for d in self.dataflows if d == dataflow)

    @property
    def is_homogeneous(self) -> bool:
        return len(set(self.dataflows)) == 1

    # -- network ---------------------------------------------------------------------------------
    @cached_property
    def graph(self) -> nx.Graph:
        """Chiplet adjacency graph (nodes are chiplet indices with ``row``, ``col``, ``dataflow``)."""
        g = nx.Graph()
        for i in range(self.num_chiplets):
            r, c = self.coords(i)
            g.add_node(i, row=r, col=c, dataflow=self.dataflows[i])
        for i in range(self.num_chiplets):
            r, c = self.coords(i)
            if c + 1 < self.cols:
                g.add_edge(i, self.index(r, c + 1))
            if r + 1 < self.rows:
                g.add_edge(i, self.index(r + 1, c))
            if self.topology == "tri" and r + 1 < self.rows and c + 1 < self.cols:
                g.add_edge(i, self.index(r + 1, c + 1))
        return g

    def neighbors(self, chiplet: int) -> tuple[int, ...]:
        return tuple(sorted(self.graph.neighbors(chiplet)))

    def route(self, src: int, dst: int) -> list[int]:
        """Chiplets visited from ``src`` to ``dst`` (both included) by the topology's routing."""
        r0, c0 = self.coords(src)
        r1, c1 = self.coords(dst)
        path = [src]
        r, c = r0, c0
        if self.topology == "tri":
            # Diagonal links exist only along (+1, +1), so they help when dr and dc share a sign.
            while (r1 - r) * (c1 - c) > 0:
                step = 1 if r1 > r else -1
                r, c = r + step, c + step
                path.append(self.index(r, c))
        while c != c1:
            c += 1 if c1 > c else -1
            path.append(self.index(r, c))
        while r != r1:
            r += 1 if r1 > r else -1
            path.append(self.index(r, c))
        return path

    @cached_property
    def hops(self) -> np.ndarray:
        """(C, C) int matrix of routed hop counts."""
        # Closed form of :meth:`route`'s length (tests/test_hardware.py checks the two agree): XY
        # routing walks |dr| + |dc| links; on ``tri`` a diagonal replaces a row and a column step
        # when dr and dc have the same sign.
        r, c = np.divmod(np.arange(self.num_chiplets, dtype=np.int64), self.cols)
        dr = r[None, :] - r[:, None]
        dc = c[None, :] - c[:, None]
        h = np.abs(dr) + np.abs(dc)
        if self.topology == "tri":
            h = np.where(dr * dc > 0, np.maximum(np.abs(dr), np.abs(dc)), h)
        h.setflags(write=False)
        return h

    @cached_property
    def hop_rows(self) -> tuple[tuple[int, ...], ...]:
        """:attr:`hops` as nested tuples of ints, for scalar lookups in Python loops (indexing a numpy
        array one element at a time is an order of magnitude slower there)."""
        return tuple(tuple(int(h) for h in row) for row in self.hops)

    @cached_property
    def dram_hops(self) -> np.ndarray:
        """(C,) hops from each chiplet to the nearer side DRAM interface (0 in the outer columns)."""
        d = np.array([min(c, self.cols - 1 - c) for _, c in (self.coords(i) for i in range(self.num_chiplets))],
                     dtype=np.int64)
        d.setflags(write=False)
        return d

    # -- variants --------------------------------------------------------------------------------
    def for_domain(self, domain: str) -> MCM:
        """This MCM with the domain's PE count (4096 datacenter, 256 AR/VR) unless ``num_pes`` was set."""
        if domain not in DOMAIN_PES:
            raise ConfigError("domain", f"unknown domain {domain!r}", f"use one of {', '.join(DOMAIN_PES)}")
        if self.num_pes is not None:
            return self
        return replace(self, num_pes=DOMAIN_PES[domain])

    def with_pes(self, num_pes: int) -> MCM:
        return replace(self, num_pes=num_pes)

    def render(self) -> str:
        """The layout as a small text grid (``N S N`` per row)."""
        return "\n".join(" ".join(row) for row in self.layout)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "layout": "/".join(self.layout), "topology": self.topology}
        if self.num_pes is not None:
            d["num_pes"] = self.num_pes
        if self.chiplet:
            d["chiplet"] = dict(self.chiplet)
        default = asdict(PackageSpec())
        pkg = {k: v for k, v in asdict(self.package).items() if v != default[k]}
        if pkg:
            d["package"] = pkg
        if self.description:
            d["description"] = self.description
        return d

    def __repr__(self) -> str:
        return f"MCM({self.name!r}, {self.shape} {self.topology}, {'/'.join(self.layout)}, pes={self.num_pes})"


def mcm_from_dict(data: Any, file: str | None = None, default_name: str | None = None) -> MCM:
    """Build an :class:`MCM` from a parsed YAML mapping, with errors that name the field and file."""
    if not isinstance(data, dict):
        raise ConfigError("(top level)", f"expected a mapping, got {type(data).__name__}",
                          "write the MCM as 'name: ..., layout: ...'", file)
    known = {"name", "layout", "topology", "num_pes", "chiplet", "package", "description"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(unknown[0], "unknown field", f"use only {', '.join(sorted(known))}", file)
    if "layout" not in data:
        raise ConfigError("layout", "missing", "add e.g. 'layout: NSN/NSN/NSN'", file)
    name = data.get("name", default_name)
    if not name:
        raise ConfigError("name", "missing", "add 'name: my-mcm'", file)
    if not isinstance(name, (str, int)) or isinstance(name, bool):
        raise ConfigError("name", f"expected a string, got {name!r}", "write e.g. 'name: my-mcm'", file)
    if not isinstance(data.get("description") or "", str):
        raise ConfigError("description", f"expected text, got {type(data['description']).__name__}",
                          "write the description as one string", file)
    layout = parse_layout(data["layout"], "layout", file)
    chiplet = check_chiplet_fields(data.get("chiplet") or {}, file)
    package_data = data.get("package") or {}
    if not isinstance(package_data, dict):
        raise ConfigError("package", "expected a mapping", "write package fields as 'key: value'", file)
    pkg_fields = set(PackageSpec.__dataclass_fields__)
    bad = sorted(set(package_data) - pkg_fields)
    if bad:
        raise ConfigError(f"package.{bad[0]}", "unknown field", f"use one of {', '.join(sorted(pkg_fields))}", file)
    # YAML reads "14.8e-12" (no dot before the e) as a string, so numeric strings are converted here.
    converted: dict[str, Any] = {}
    for k, v in package_data.items():
        try:
            converted[k] = float(v) if isinstance(v, str) else v
        except ValueError:
            raise ConfigError(f"package.{k}", f"expected a number, got {v!r}", "write numbers, e.g. 14.8e-12",
                              file) from None
    try:
        package = PackageSpec(**converted)
        return MCM(name=str(name), layout=layout, topology=data.get("topology", "mesh"),
                   num_pes=data.get("num_pes"), chiplet=dict(chiplet), package=package,
                   description=str(data.get("description") or ""))
    except ConfigError as e:
        if e.file is None:
            raise ConfigError(e.field, e.problem, e.fix, file) from None
        raise


def mcm_to_yaml(mcm: MCM, path: str | Path) -> None:
    import yaml

    Path(path).write_text(yaml.safe_dump(mcm.to_dict(), sort_keys=False))


def load_mcm_file(path: str | Path) -> MCM:
    from scar_gym.fileio import read_yaml

    path = Path(path)
    data = read_yaml(path)
    return mcm_from_dict(data, str(path), default_name=path.stem)


def grid_mcm(layout: str, topology: str = "mesh", name: str | None = None, num_pes: int | None = None) -> MCM:
    """An MCM of any size straight from a layout string (``"NSNS/SNSN"``)."""
    rows = parse_layout(layout)
    return MCM(name=name or "/".join(rows), layout=rows, topology=topology, num_pes=num_pes)
