"""The genome shared by every search policy: per window, per model, a segmentation and a placement.

Windows are fixed before a search starts (MCM-Reconfig with a given ``n_splits``, explicit ranges,
or the windows of a warm-start schedule); the genome decides everything inside them:

* **Gene** ``(cuts, chiplets)`` for one model in one window whose layers are ``[start, stop)``:
  ``cuts`` are the absolute layer positions where a new segment begins (strictly increasing, inside
  ``(start, stop)``), ``chiplets`` the chiplet of each segment in pipeline order, so
  ``len(chiplets) == len(cuts) + 1`` is the model's node count in that window. Any distinct
  chiplets are allowed (not only SCAR's DFS paths): a pipeline over non-neighbours simply pays the
  extra NoP hops in the cost model.
* **Window genes**: one gene per model present in the window, in ascending model order; the
  chiplets of all genes of a window are pairwise distinct. Chiplets may stay idle.
* **Genome**: one tuple of window genes per window. Everything is a nested tuple of ints, so
  genomes are hashable and can be memoised.

Node counts are free by default (a move or a crossover may change them); a :class:`SearchSpace`
built with ``node_counts`` keeps them fixed (e.g. at SCAR's PROV allocation), which disables the
node-count moves. A window holding more models than the MCM has chiplets cannot be scheduled (each
model needs its own chiplet), so :class:`SearchSpace` splits such a window, in model order, into
consecutive windows of at most ``|C|`` models.

Neighbourhood moves (:meth:`SearchSpace.neighbour`), each inside one window:

========== =========================================================================================
``cut``     move one cut of one model (half the time by one layer, else anywhere between its
            neighbouring cuts)
``chiplet`` put one segment on an idle chiplet
``swap``    swap the chiplets of two segments (of two models, or two stages of one model)
``nodes``   +1: split a segment (>= 2 layers) at a random point onto an idle chiplet;
            -1: merge two consecutive segments, keeping one of their chiplets
``transfer`` merge two segments of one model and give the freed chiplet to another model (split)
========== =========================================================================================

Crossover (:meth:`SearchSpace.crossover`, MAGMA-style): per window, either the whole window from
one parent (always valid) or every model gene from a parent chosen by a coin flip, followed by
:meth:`SearchSpace.repair_window` (a chiplet claimed twice is replaced by an idle one, or the
segment is merged into its neighbour when none is idle; a model left without chiplets takes an idle
one or one from the model with most segments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.schedule import Assignment, Schedule, Window

Gene = tuple[tuple[int, ...], tuple[int, ...]]
WindowGenes = tuple[Gene, ...]
Genome = tuple[WindowGenes, ...]

MOVES: tuple[str, ...] = ("cut", "chiplet", "swap", "nodes", "transfer")
#: Relative frequency of each move in :meth:`SearchSpace.neighbour`.
MOVE_WEIGHTS: dict[str, float] = {"cut": 0.3, "chiplet": 0.2, "swap": 0.2, "nodes": 0.2, "transfer": 0.1}


@dataclass(frozen=True)
class WindowSpec:
    """The models of one window and their layer ranges, in ascending model order."""

    models: tuple[int, ...]
    ranges: tuple[tuple[int, int], ...]

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(b - a for a, b in self.ranges)

    def as_dict(self) -> dict[int, tuple[int, int]]:
        return dict(zip(self.models, self.ranges))


def window_ranges(windows: Any) -> list[dict[int, tuple[int, int]]]:
    """Per window ``{model: (start, stop)}`` from a :class:`~scar_gym.policies.windows.TimeWindows`,
    a list of such mappings, or a :class:`~scar_gym.schedule.Schedule` (its windows' ranges)."""
    if isinstance(windows, Schedule):
        return [{a.model: (a.start, a.stop) for a in w.assignments} for w in windows.windows]
    wins = getattr(windows, "windows", windows)
    return [{int(m): (int(r[0]), int(r[1])) for m, r in dict(w).items()} for w in wins]


class SearchSpace:
    """Valid schedules with fixed windows, as genomes; sampling, moves, crossover and repair.

    Args:
        num_chiplets: chiplets of the MCM.
        windows: per window ``{model: (start, stop)}`` (see :func:`window_ranges`).
        num_layers: layers of each model; when given, the windows are checked to cover every layer
            of every model exactly once, in order.
        node_counts: optional fixed node count per window per model (``{model: n}`` per window of
            ``windows``, before any split); ``None`` lets the genome choose.
        max_nodes: optional cap on any model's node count in a window (SCAR's heuristic 2).
    """

    def __init__(self, num_chiplets: int, windows: Any, num_layers: Sequence[int] | None = None,
                 node_counts: Sequence[Mapping[int, int]] | None = None, max_nodes: int | None = None):
        self.num_chiplets = int(num_chiplets)
        if self.num_chiplets < 1:
            raise ConfigError("num_chiplets", f"must be >= 1, got {num_chiplets}", "use a real MCM")
        if max_nodes is not None and max_nodes < 1:
            raise ConfigError("max_nodes", f"must be >= 1, got {max_nodes}", "use None for no cap")
        self.max_nodes = max_nodes
        ranges = window_ranges(windows)
        if node_counts is not None and len(node_counts) != len(ranges):
            raise ConfigError("node_counts", f"{len(node_counts)} entries for {len(ranges)} windows", "give one per window")
        specs: list[WindowSpec] = []
        fixed: list[tuple[int, ...]] = []
        for wi, win in enumerate(ranges):
            models = sorted(win)
            if not models:
                continue
            for i in range(0, len(models), self.num_chiplets):  # split windows with more models than chiplets
                chunk = models[i:i + self.num_chiplets]
                spec = WindowSpec(tuple(chunk), tuple(win[m] for m in chunk))
                for (a, b) in spec.ranges:
                    if b <= a:
                        raise ConfigError(f"windows[{wi}]", f"empty layer range ({a}, {b})", "drop the model from the window")
                specs.append(spec)
                if node_counts is not None:
                    nc = tuple(int(node_counts[wi][m]) for m in chunk)
                    if sum(nc) > self.num_chiplets or any(n < 1 or n > L for n, L in zip(nc, spec.lengths)):
                        raise ConfigError(f"node_counts[{wi}]", f"{dict(zip(chunk, nc))} is not feasible",
                                          "give each model 1..its layers nodes, in total at most the chiplets")
                    fixed.append(nc)
        self.windows: tuple[WindowSpec, ...] = tuple(specs)
        self.node_counts: tuple[tuple[int, ...], ...] | None = tuple(fixed) if node_counts is not None else None
        if num_layers is not None:
            nxt = [0] * len(num_layers)
            for wi, spec in enumerate(self.windows):
                for m, (a, b) in zip(spec.models, spec.ranges):
                    if not 0 <= m < len(num_layers) or a != nxt[m]:
                        raise ConfigError(f"windows[{wi}]", f"model {m} range ({a}, {b}) does not continue at {nxt[m] if 0 <= m < len(nxt) else '?'}",
                                          "windows must take each model's layers in order")
                    nxt[m] = b
            if list(nxt) != list(num_layers):
                raise ConfigError("windows", f"cover layers {nxt} of models with {list(num_layers)} layers",
                                  "windows must cover every layer")

    # -- basic facts ---------------------------------------------------------------------------------
    @property
    def num_windows(self) -> int:
        return len(self.windows)

    @property
    def num_genes(self) -> int:
        return sum(len(w.models) for w in self.windows)

    @property
    def fixed_nodes(self) -> bool:
        return self.node_counts is not None

    def kmax(self, wi: int, j: int) -> int:
        """Largest node count model ``j`` of window ``wi`` may have (every other model needs one chiplet)."""
        spec = self.windows[wi]
        k = min(spec.lengths[j], self.num_chiplets - (len(spec.models) - 1))
        return min(k, self.max_nodes) if self.max_nodes is not None else k

    def window_size(self, wi: int) -> int:
        """Number of distinct valid window gene tuples of window ``wi`` (exact count)."""
        spec = self.windows[wi]
        C = self.num_chiplets
        # count[k] = ways (over the models so far) to use k chiplets in total, ignoring which ones.
        ways = {0: 1}
        for j, L in enumerate(spec.lengths):
            ks = [self.node_counts[wi][j]] if self.fixed_nodes else range(1, self.kmax(wi, j) + 1)
            new: dict[int, int] = {}
            for tot, w in ways.items():
                for k in ks:
                    if tot + k <= C:
                        new[tot + k] = new.get(tot + k, 0) + w * math.comb(L - 1, k - 1)
            ways = new
        return sum(w * math.perm(C, tot) for tot, w in ways.items())

    def size(self) -> int:
        """Number of distinct valid schedules in the space (exact)."""
        return math.prod(self.window_size(wi) for wi in range(self.num_windows))

    def assignments_to_enumerate(self) -> int:
        """Distinct per-model assignments over all windows (what exhaustive enumeration evaluates)."""
        total = 0
        C = self.num_chiplets
        for wi, spec in enumerate(self.windows):
            for j, L in enumerate(spec.lengths):
                ks = [self.node_counts[wi][j]] if self.fixed_nodes else range(1, self.kmax(wi, j) + 1)
                total += sum(math.comb(L - 1, k - 1) * math.perm(C, k) for k in ks)
        return total

    # -- genome <-> schedule -------------------------------------------------------------------------
    def assignment(self, wi: int, j: int, gene: Gene) -> Assignment:
        spec = self.windows[wi]
        a, b = spec.ranges[j]
        return Assignment.from_cuts(spec.models[j], a, b, gene[0], gene[1])

    def decode(self, genome: Genome, meta: dict | None = None) -> Schedule:
        wins = tuple(Window(tuple(self.assignment(wi, j, g) for j, g in enumerate(genes)))
                     for wi, genes in enumerate(genome))
        return Schedule(wins, dict(meta or {}))

    def encode(self, schedule: Schedule) -> Genome:
        """The genome of a schedule whose windows have exactly this space's layer ranges."""
        if [w.as_dict() for w in self.windows] != window_ranges(schedule):
            raise ConfigError("schedule", "its windows differ from the search space's windows",
                              "build the space from the schedule (SearchSpace(..., windows=schedule))")
        out = []
        for wi, w in enumerate(schedule.windows):
            by_model = {a.model: a for a in w.assignments}
            out.append(tuple((tuple(s.start for s in by_model[m].segments[1:]), by_model[m].chiplets)
                             for m in self.windows[wi].models))
        genome = tuple(out)
        self.check(genome)
        return genome

    def check(self, genome: Genome) -> None:
        """Raise ``ValueError`` if ``genome`` breaks a rule of this space (debugging aid)."""
        if len(genome) != self.num_windows:
            raise ValueError(f"{len(genome)} windows, expected {self.num_windows}")
        for wi, genes in enumerate(genome):
            spec = self.windows[wi]
            if len(genes) != len(spec.models):
                raise ValueError(f"window {wi}: {len(genes)} genes for {len(spec.models)} models")
            used: list[int] = []
            for j, (cuts, chips) in enumerate(genes):
                a, b = spec.ranges[j]
                bounds = [a, *cuts, b]
                if any(y <= x for x, y in zip(bounds, bounds[1:])):
                    raise ValueError(f"window {wi} model {spec.models[j]}: bad cuts {cuts} in ({a}, {b})")
                if len(chips) != len(cuts) + 1:
                    raise ValueError(f"window {wi} model {spec.models[j]}: {len(chips)} chiplets for {len(cuts) + 1} segments")
                if self.fixed_nodes and len(chips) != self.node_counts[wi][j]:
                    raise ValueError(f"window {wi} model {spec.models[j]}: node count {len(chips)} is fixed at {self.node_counts[wi][j]}")
                used.extend(chips)
            if len(set(used)) != len(used) or any(not 0 <= c < self.num_chiplets for c in used):
                raise ValueError(f"window {wi}: chiplets {used} not distinct or out of range")

    # -- sampling ------------------------------------------------------------------------------------
    def random_node_counts(self, wi: int, rng: np.random.Generator) -> list[int]:
        """Node counts for window ``wi``: one each, plus a uniform number of extra chiplets spread at random."""
        if self.fixed_nodes:
            return list(self.node_counts[wi])
        spec = self.windows[wi]
        n = len(spec.models)
        caps = [self.kmax(wi, j) for j in range(n)]
        ks = [1] * n
        extra = int(rng.integers(0, min(self.num_chiplets, sum(caps)) - n + 1))
        for _ in range(extra):
            open_ = [j for j in range(n) if ks[j] < caps[j]]
            if not open_:
                break
            ks[open_[int(rng.integers(len(open_)))]] += 1
        return ks

    def random_cuts(self, a: int, b: int, k: int, rng: np.random.Generator) -> tuple[int, ...]:
        if k <= 1:
            return ()
        pos = rng.choice(np.arange(a + 1, b), size=k - 1, replace=False)
        return tuple(sorted(int(p) for p in pos))

    def random_window(self, wi: int, rng: np.random.Generator, ks: Sequence[int] | None = None) -> WindowGenes:
        spec = self.windows[wi]
        ks = list(ks) if ks is not None else self.random_node_counts(wi, rng)
        perm = [int(c) for c in rng.permutation(self.num_chiplets)]
        genes, i = [], 0
        for j, k in enumerate(ks):
            a, b = spec.ranges[j]
            genes.append((self.random_cuts(a, b, k, rng), tuple(perm[i:i + k])))
            i += k
        return tuple(genes)

    def random_genome(self, rng: np.random.Generator) -> Genome:
        return tuple(self.random_window(wi, rng) for wi in range(self.num_windows))

    # -- moves ---------------------------------------------------------------------------------------
    def neighbour(self, genome: Genome, rng: np.random.Generator, move: str | None = None) -> tuple[Genome, str]:
        """One random neighbourhood move (see the module docstring) in a random window.

        Returns ``(genome, move name)``; ``(genome, "none")`` when no move applies anywhere (a space
        with a single schedule).
        """
        order = [int(w) for w in rng.permutation(self.num_windows)]
        for wi in order:
            new = self._move_window(wi, genome[wi], rng, move)
            if new is not None:
                genes, name = new
                return genome[:wi] + (genes,) + genome[wi + 1:], name
        return genome, "none"

    def mutate(self, genome: Genome, rng: np.random.Generator, rate: float) -> Genome:
        """Apply one random move to each window with probability ``rate`` (GA mutation)."""
        out = list(genome)
        for wi in range(self.num_windows):
            if rng.random() < rate:
                new = self._move_window(wi, out[wi], rng, None)
                if new is not None:
                    out[wi] = new[0]
        return tuple(out)

    def _move_window(self, wi: int, genes: WindowGenes, rng: np.random.Generator,
                     move: str | None) -> tuple[WindowGenes, str] | None:
        names = [m for m in MOVES if not (self.fixed_nodes and m in ("nodes", "transfer"))]
        if move is not None:
            names = [move]
        # weighted random order without replacement (Efraimidis-Spirakis keys u^(1/w))
        u = rng.random(len(names))
        order = sorted(range(len(names)), key=lambda i: -u[i] ** (1.0 / MOVE_WEIGHTS[names[i]]))
        for i in order:
            out = getattr(self, f"_move_{names[i]}")(wi, [(list(c), list(p)) for c, p in genes], rng)
            if out is not None:
                return tuple((tuple(c), tuple(p)) for c, p in out), names[i]
        return None

    def _free(self, genes: list) -> list[int]:
        used = {c for _, chips in genes for c in chips}
        return [c for c in range(self.num_chiplets) if c not in used]

    def _move_cut(self, wi: int, genes: list, rng: np.random.Generator) -> list | None:
        cand = [j for j, (cuts, _) in enumerate(genes) if cuts]
        if not cand:
            return None
        for j in rng.permutation(cand):
            cuts = genes[j][0]
            a, b = self.windows[wi].ranges[j]
            for t in rng.permutation(len(cuts)):
                lo = cuts[t - 1] + 1 if t > 0 else a + 1
                hi = cuts[t + 1] - 1 if t + 1 < len(cuts) else b - 1
                options = [p for p in range(lo, hi + 1) if p != cuts[t]]
                if not options:
                    continue
                near = [p for p in options if abs(p - cuts[t]) == 1]
                pool = near if near and rng.random() < 0.5 else options
                cuts[t] = int(pool[int(rng.integers(len(pool)))])
                return genes
        return None

    def _move_chiplet(self, wi: int, genes: list, rng: np.random.Generator) -> list | None:
        free = self._free(genes)
        if not free:
            return None
        j = int(rng.integers(len(genes)))
        s = int(rng.integers(len(genes[j][1])))
        genes[j][1][s] = int(free[int(rng.integers(len(free)))])
        return genes

    def _move_swap(self, wi: int, genes: list, rng: np.random.Generator) -> list | None:
        slots = [(j, s) for j, (_, chips) in enumerate(genes) for s in range(len(chips))]
        if len(slots) < 2:
            return None
        x, y = rng.choice(len(slots), size=2, replace=False)
        (j1, s1), (j2, s2) = slots[int(x)], slots[int(y)]
        genes[j1][1][s1], genes[j2][1][s2] = genes[j2][1][s2], genes[j1][1][s1]
        return genes

    def _split(self, wi: int, genes: list, j: int, chiplet: int, rng: np.random.Generator) -> bool:
        """Split a random segment (>= 2 layers) of gene ``j``; the new segment goes on ``chiplet``."""
        cuts, chips = genes[j]
        if len(chips) >= self.kmax(wi, j):
            return False
        a, b = self.windows[wi].ranges[j]
        bounds = [a, *cuts, b]
        long_ = [s for s in range(len(chips)) if bounds[s + 1] - bounds[s] >= 2]
        if not long_:
            return False
        s = int(long_[int(rng.integers(len(long_)))])
        p = int(rng.integers(bounds[s] + 1, bounds[s + 1]))
        cuts.insert(s, p)
        chips.insert(s + 1 if rng.random() < 0.5 else s, chiplet)
        return True

    def _merge(self, genes: list, j: int, rng: np.random.Generator) -> int | None:
        """Merge two consecutive segments of gene ``j``; returns the freed chiplet."""
        cuts, chips = genes[j]
        if not cuts:
            return None
        s = int(rng.integers(len(cuts)))
        del cuts[s]
        drop = s if rng.random() < 0.5 else s + 1
        return chips.pop(drop)

    def _move_nodes(self, wi: int, genes: list, rng: np.random.Generator) -> list | None:
        free = self._free(genes)
        grow = rng.random() < 0.5
        for attempt in (grow, not grow):
            if attempt and free:
                for j in rng.permutation(len(genes)):
                    if self._split(wi, genes, int(j), int(free[int(rng.integers(len(free)))]), rng):
                        return genes
            if not attempt:
                cand = [j for j, (cuts, _) in enumerate(genes) if cuts]
                if cand:
                    self._merge(genes, int(cand[int(rng.integers(len(cand)))]), rng)
                    return genes
        return None

    def _move_transfer(self, wi: int, genes: list, rng: np.random.Generator) -> list | None:
        donors = [j for j, (cuts, _) in enumerate(genes) if cuts]
        if not donors or len(genes) < 2:
            return None
        for d in rng.permutation(donors):
            for r in rng.permutation(len(genes)):
                if r == d:
                    continue
                trial = [(list(c), list(p)) for c, p in genes]
                freed = self._merge(trial, int(d), rng)
                if self._split(wi, trial, int(r), freed, rng):
                    return trial
        return None

    # -- crossover and repair ------------------------------------------------------------------------
    def crossover(self, a: Genome, b: Genome, rng: np.random.Generator, p_window: float = 0.5) -> Genome:
        """A child of ``a`` and ``b``: per window, the whole window of one parent (probability
        ``p_window``) or each model's gene from a random parent, then repaired."""
        out = []
        for wi in range(self.num_windows):
            if rng.random() < p_window:
                out.append(a[wi] if rng.random() < 0.5 else b[wi])
            else:
                genes = [a[wi][j] if rng.random() < 0.5 else b[wi][j] for j in range(len(a[wi]))]
                out.append(self.repair_window(wi, genes, rng))
        return tuple(out)

    def repair_window(self, wi: int, genes: Sequence[Gene], rng: np.random.Generator) -> WindowGenes:
        """Make a window valid: each chiplet used once (replace a clash by an idle chiplet, or merge the
        segment into a neighbour if none is idle); every model keeps at least one chiplet. Fixed node
        counts are preserved (the fixed counts fit the MCM, so idle chiplets always suffice)."""
        work = [(list(c), list(p)) for c, p in genes]
        n = len(work)
        claimed: set[int] = set()
        clashes: list[tuple[int, int]] = []  # (gene, segment) that lost its chiplet
        for j in [int(x) for x in rng.permutation(n)]:
            for s, c in enumerate(work[j][1]):
                if c in claimed or not 0 <= c < self.num_chiplets:
                    clashes.append((j, s))
                else:
                    claimed.add(c)
        free = [c for c in range(self.num_chiplets) if c not in claimed]
        rng.shuffle(free)
        dead: dict[int, set[int]] = {}
        for j, s in clashes:
            if free:
                work[j][1][s] = int(free.pop())
            else:
                dead.setdefault(j, set()).add(s)
        for j, ss in dead.items():  # merge segments that have no chiplet into a living neighbour
            cuts, chips = work[j]
            keep = [s for s in range(len(chips)) if s not in ss]
            if not keep:
                work[j] = ([], [])  # filled below
                continue
            a, b = self.windows[wi].ranges[j]
            bounds = [a, *cuts, b]
            # a dropped segment's layers go to the previous kept segment (or the next one at the start)
            new_cuts = [bounds[s] for s in keep[1:]]
            work[j] = (new_cuts, [chips[s] for s in keep])
        for j in range(n):
            if work[j][1]:
                continue
            used = {c for _, p in work for c in p}
            idle = [c for c in range(self.num_chiplets) if c not in used]
            if not idle:
                donor = max(range(n), key=lambda x: len(work[x][1]))
                idle = [self._merge(work, donor, rng)]
            work[j] = ([], [int(idle[int(rng.integers(len(idle)))])])
        out = tuple((tuple(c), tuple(p)) for c, p in work)
        return out

    def describe(self) -> dict[str, Any]:
        return {"windows": [{str(m): list(r) for m, r in zip(w.models, w.ranges)} for w in self.windows],
                "num_chiplets": self.num_chiplets, "fixed_nodes": self.fixed_nodes,
                "log10_size": round(math.log10(self.size()), 2)}

