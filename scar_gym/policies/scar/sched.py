"""SCHED: placement of a window's segmented models on chiplet paths (spec 5.5).

A *tree* is an ordering of roots (one start chiplet per model) and, from each root, a depth-first
walk over free neighbouring chiplets that gives the path for that model's segments in order;
chiplets taken by earlier models are excluded. Paths are enumerated deterministically: roots in
increasing chiplet index, neighbours in increasing index (``MCM.neighbors``), so path ``j`` of a
model is the ``j``-th simple path of the right length the DFS meets.

A candidate is ``2 x |M|`` integers: per model (in the window's model order) a segmentation choice
(an index into that model's top-k list) and a path choice (an index into the DFS enumeration of
simple paths of that segmentation's length over the chiplets still free, taken modulo the number
of such paths). :func:`decode` turns a candidate into assignments, repairing choices that cannot
be placed (see there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator, Sequence

from scar_gym.hardware import MCM
from scar_gym.schedule import Assignment

Path = tuple[int, ...]


class Adjacency(tuple):
    """The NoP's neighbour lists (per chiplet, increasing index) with, as ``masks``, each chiplet's
    neighbours as a bit mask, which the path search walks."""

    masks: tuple[int, ...]


def neighbour_masks(adj: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """Per chiplet, its neighbours as a bit mask."""
    return tuple(sum(1 << nb for nb in set(nbs)) for nbs in adj)


@lru_cache(maxsize=16)  # MCMs hash by identity: one entry per MCM object in use
def _adjacency(mcm: MCM) -> Adjacency:
    adj = Adjacency(mcm.neighbors(i) for i in range(mcm.num_chiplets))
    adj.masks = neighbour_masks(adj)
    return adj


@lru_cache(maxsize=64)
def _class_masks(class_of: tuple[int, ...]) -> dict[int, int]:
    """Class -> bit mask of the chiplets of that class."""
    out: dict[int, int] = {}
    for i, c in enumerate(class_of):
        out[c] = out.get(c, 0) | (1 << i)
    return out


def paths_from(adj: Sequence[Sequence[int]], root: int, length: int, free_mask: int,
               max_steps: int | None = None, classes: Sequence[int] | None = None,
               class_of: Sequence[int] | None = None, check: bool = True) -> Iterator[Path]:
    """Simple paths of ``length`` chiplets starting at ``root`` over chiplets in ``free_mask`` (DFS
    order, neighbours in increasing index).

    ``max_steps`` bounds the DFS expansions (long paths on large grids need exponential
    backtracking); the walk then stops early, having yielded what it found. With ``classes`` (a
    class per position) and ``class_of`` (the class of each chiplet), only paths whose chiplet
    classes follow ``classes`` are walked. ``check=False`` skips the :func:`start_mask` test (for
    callers that made it once for many roots).
    """
    if not (free_mask >> root) & 1:
        return
    if check and not (start_mask(tuple(map(tuple, adj)), length, free_mask, None if classes is None else tuple(classes),
                                 None if classes is None else tuple(class_of)) >> root) & 1:
        return  # no such path can exist: the DFS below would only exhaust its step limit
    if classes is not None:
        masks = _class_masks(tuple(class_of))
        allowed = [masks.get(c, 0) for c in classes]  # per depth: chiplets of the wanted class
        if not (allowed[0] >> root) & 1:
            return
    else:
        allowed = None
    if length == 1:
        yield (root,)
        return
    # Iterative DFS; per depth a bit mask of the neighbours still to try. The chiplets a position
    # may take (free, unused, of the wanted class) do not change while the walk stays at or below
    # that depth, so a level's candidates are fixed when it is entered, and the lowest bit first
    # is the increasing neighbour order.
    nbm = adj.masks if isinstance(adj, Adjacency) else neighbour_masks(adj)
    limit = max_steps if max_steps is not None else float("inf")
    steps = 0
    path = [root]
    avail = free_mask & ~(1 << root)
    depth, last = 1, length - 1  # the position the walk fills next; the final position
    todo = [nbm[root] & (avail if allowed is None else avail & allowed[1])]
    while todo:
        cand = todo[-1]
        if not cand:
            todo.pop()
            avail |= 1 << path.pop()
            depth -= 1
            continue
        low = cand & -cand
        todo[-1] = cand ^ low
        nb = low.bit_length() - 1
        steps += 1
        if steps > limit:
            return
        if depth == last:
            yield (*path, nb)
            continue
        path.append(nb)
        avail ^= low
        depth += 1
        todo.append(nbm[nb] & (avail if allowed is None else avail & allowed[depth]))


def simple_paths(mcm: MCM, length: int, free_mask: int | None = None, limit_per_root: int | None = None,
                 max_steps: int | None = None) -> list[Path]:
    """All simple paths of ``length`` chiplets over the free chiplets, roots in increasing order.

    ``limit_per_root`` caps the paths taken from each root and ``max_steps`` the DFS expansions per
    root (for large MCMs, where the count explodes).
    """
    adj = _adjacency(mcm)
    if free_mask is None:
        free_mask = (1 << mcm.num_chiplets) - 1
    out: list[Path] = []
    for root in range(mcm.num_chiplets):
        for i, p in enumerate(paths_from(adj, root, length, free_mask, max_steps)):
            if limit_per_root is not None and i >= limit_per_root:
                break
            out.append(p)
    return out


def mask_of(chiplets: Sequence[int]) -> int:
    m = 0
    for c in chiplets:
        m |= 1 << c
    return m


@lru_cache(maxsize=16)  # MCMs hash by identity: one entry per MCM object in use
def _lookups(mcm: MCM) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """The MCM's class of each chiplet, DRAM side hops and hop table as Python ints."""
    return tuple(int(c) for c in mcm.class_of), tuple(int(d) for d in mcm.dram_hops), mcm.hop_rows


def path_signature(mcm: MCM, path: Path, cache: dict | None = None) -> tuple:
    """What the evaluator's result of a segmentation on ``path`` depends on: classes, DRAM side
    hops and pairwise hops. Paths with equal signatures give equal results, so one is evaluated.
    ``cache`` (a dict) memoises signatures by path."""
    if cache is not None:
        sig = cache.get(path)
        if sig is not None:
            return sig
    class_of, dram_hops, rows = _lookups(mcm)
    cls = tuple(class_of[c] for c in path)
    dh = tuple(dram_hops[c] for c in path)
    hops = tuple(rows[a][b] for i, a in enumerate(path) for b in path[i + 1:])
    sig = (cls, dh, hops)
    if cache is not None:
        cache[path] = sig
    return sig


def _components(adj: Sequence[Sequence[int]], nodes: int) -> list[int]:
    """Connected components (bit masks) of the subgraph induced by the chiplets in ``nodes``."""
    out, left = [], nodes
    while left:
        low = left & -left
        comp, frontier = low, low
        while frontier:
            bit = frontier & -frontier
            frontier ^= bit
            for nb in adj[bit.bit_length() - 1]:
                b = 1 << nb
                if (left & b) and not (comp & b):
                    comp |= b
                    frontier |= b
        out.append(comp)
        left &= ~comp
    return out


def _fits(components: list[int], size: int) -> int:
    """The chiplets of the components with at least ``size`` chiplets."""
    out = 0
    for comp in components:
        if comp.bit_count() >= size:
            out |= comp
    return out


@lru_cache(maxsize=4096)
def start_mask(adj: tuple[tuple[int, ...], ...], length: int, free: int, classes: tuple[int, ...] | None = None,
               class_of: tuple[int, ...] | None = None) -> int:
    """Chiplets from which a simple path of ``length`` free chiplets (following ``classes``) may start.

    A relaxation, so a proof where it excludes a chiplet: every maximal run of one class must lie
    in a connected component of that class's free chiplets with at least as many chiplets as the
    run (without classes: the path in a free component of at least ``length`` chiplets), and a walk
    through those components must lead from the start to the last position. :func:`paths_from`
    returns at once from an excluded root instead of exhausting its step limit, so what it yields
    never changes; impossible requests (many, on large MCMs) just stop costing a full search.
    """
    if classes is None:
        return _fits(_components(adj, free), length)
    masks = _class_masks(class_of)
    comps: dict[int, list[int]] = {}
    allowed: list[int] = []
    i = 0
    while i < length:
        c = classes[i]
        j = i
        while j < length and classes[j] == c:
            j += 1
        if c not in comps:
            comps[c] = _components(adj, masks.get(c, 0) & free)
        fits = _fits(comps[c], j - i)
        if not fits:
            return 0
        allowed += [fits] * (j - i)
        i = j
    reach = allowed[-1]  # backwards: where position d can be, given that d+1.. can follow
    for want in reversed(allowed[:-1]):
        prev = 0
        f = reach
        while f:
            bit = f & -f
            f ^= bit
            for nb in adj[bit.bit_length() - 1]:
                prev |= 1 << nb
        reach = prev & want
        if not reach:
            return 0
    return reach


def realisable(mcm: MCM, classes: Sequence[int], free_mask: int | None = None, max_steps: int = 20_000) -> Path | None:
    """A simple path whose chiplet classes follow ``classes`` (first found by DFS), or ``None``."""
    adj = _adjacency(mcm)
    free = (1 << mcm.num_chiplets) - 1 if free_mask is None else free_mask
    class_of = mcm.class_of.tolist()
    if not start_mask(adj, len(classes), free, tuple(classes), tuple(class_of)):
        return None
    for root in range(mcm.num_chiplets):
        p = next(paths_from(adj, root, len(classes), free, max_steps, classes, class_of), None)
        if p is not None:
            return p
    return None


def probe_class_sequences(mcm: MCM, length: int, max_probes: int = 24, limit_per_root: int = 200,
                          max_steps: int | None = 20_000) -> list[tuple[int, ...]]:
    """Class sequences of simple paths of ``length`` chiplets (heuristic 1's probes), at most ``max_probes``.

    Structured sequences first, kept when some simple path realises them: the homogeneous ones,
    then those with a single switch between two classes (``c1^a c2^(s-a)``, the pipelines that
    move a model from one dataflow to another once). Then the other sequences met by a DFS sample
    of paths (at most ``limit_per_root`` paths and ``max_steps`` expansions per root), spread evenly.
    On a homogeneous MCM there is one.
    """
    if length > mcm.num_chiplets:
        return []
    if mcm.is_homogeneous:
        return [(0,) * length]
    n_cls = len(mcm.classes)
    structured = [(c,) * length for c in range(n_cls)]
    structured += [(c1,) * a + (c2,) * (length - a) for a in range(1, length)
                   for c1 in range(n_cls) for c2 in range(n_cls) if c1 != c2]
    seqs = [q for q in structured if realisable(mcm, q, max_steps=max_steps or 20_000) is not None]
    if len(seqs) >= max_probes:
        return seqs[:max_probes]
    seen = dict.fromkeys(seqs)
    rest: dict[tuple[int, ...], None] = {}
    class_of = _lookups(mcm)[0]
    for p in simple_paths(mcm, length, limit_per_root=limit_per_root, max_steps=max_steps):
        q = tuple([class_of[c] for c in p])
        if q not in seen:
            rest.setdefault(q, None)
    rest_l = list(rest)
    take = max_probes - len(seqs)
    if len(rest_l) > take:
        step = len(rest_l) / take
        rest_l = [rest_l[int(i * step)] for i in range(take)]
    return seqs + rest_l


@dataclass(frozen=True)
class ModelOptions:
    """The segmentation choices of one model in a window (its top-k, best first) and fallbacks.

    ``cuts[j]`` are absolute cut positions of choice ``j`` of layers ``[lo, hi)``; ``fallbacks``
    holds the best cut set for every segment count, used when a choice cannot be placed.
    ``probes`` maps a cut set to the class sequence it scored best on (heuristic 1), which guides
    the path enumeration of the evolutionary search.
    """

    model: int
    lo: int
    hi: int
    cuts: tuple[tuple[int, ...], ...]
    fallbacks: tuple[tuple[int, ...], ...] = ()
    probes: dict = field(default_factory=dict, compare=False, hash=False)

    def assignment(self, cuts: Sequence[int], path: Sequence[int]) -> Assignment:
        return Assignment.from_cuts(self.model, self.lo, self.hi, cuts, path)


def longest_free_path(adj: Sequence[Sequence[int]], free_mask: int, upto: int, max_steps: int = 20_000) -> int:
    """Length (in chiplets, at most ``upto``) of the longest simple path found over the free chiplets
    (a DFS bounded by ``max_steps`` expansions per root and length, so possibly an underestimate)."""
    best = 0
    for root in range(len(adj)):
        if not (free_mask >> root) & 1:
            continue
        for length in range(max(best + 1, 1), upto + 1):
            if next(paths_from(adj, root, length, free_mask, max_steps), None) is None:
                break
            best = length
        if best >= upto:
            break
    return best


def path_for_gene(adj: Sequence[Sequence[int]], length: int, free_mask: int, gene: int,
                  per_root: int = 64, max_steps: int = 20_000, classes: Sequence[int] | None = None,
                  class_of: Sequence[int] | None = None) -> Path | None:
    """The path a path gene names.

    With ``classes`` (the class sequence the cut set scored best on), an even gene walks only the
    paths that follow it and an odd gene any path; ``gene // 2`` then names the path (without
    ``classes``, all of ``gene`` does): with ``F`` free chiplets (increasing order), the root is free
    chiplet ``g % F`` and the path is number ``(g // F) % per_root`` of the DFS from that root
    (modulo the paths found there). A root with no path of that length passes to the next free
    chiplet, cyclically; when no free chiplet starts a path following ``classes``, any path is
    taken. ``None`` when no free chiplet starts a path of that length at all.
    """
    roots = [c for c in range(len(adj)) if (free_mask >> c) & 1]
    if not roots:
        return None
    if classes is not None:
        constraints = (classes, None) if gene % 2 == 0 else (None,)
        gene //= 2
    else:
        constraints = (None,)
    first = gene % len(roots)
    j = (gene // len(roots)) % per_root
    for constraint in constraints:
        for off in range(len(roots)):
            root = roots[(first + off) % len(roots)]
            found: list[Path] = []
            for p in paths_from(adj, root, length, free_mask, max_steps, constraint, class_of):
                found.append(p)
                if len(found) > j:
                    break
            if found:
                return found[j % len(found)]
    return None


def decode(mcm: MCM, options: Sequence[ModelOptions], genes: Sequence[int], order: Sequence[int] | None = None,
           per_root: int = 64, adj=None) -> list[Assignment]:
    """Assignments of a candidate ``genes = [seg_0, path_0, seg_1, path_1, ...]`` (per option).

    Models are placed in ``order`` (default: the options' order). For each, the cut set
    ``options[i].cuts[seg_i % k]`` is placed on the path that ``path_i`` names among the free
    chiplets (:func:`path_for_gene`), walking first the paths that follow the class sequence the
    cut set scored best on (``options[i].probes``). Repair: when no path of that length is left, the model takes
    its best fallback cut set that fits the longest free path found (a single segment always fits,
    as a window has no more models than chiplets).
    """
    adj = adj or _adjacency(mcm)
    class_of = mcm.class_of.tolist()
    free = (1 << mcm.num_chiplets) - 1
    order = range(len(options)) if order is None else order
    out: dict[int, Assignment] = {}
    for i in order:
        opt = options[i]
        seg_gene, path_gene = genes[2 * i], genes[2 * i + 1]
        cuts = opt.cuts[seg_gene % len(opt.cuts)]
        path = path_for_gene(adj, len(cuts) + 1, free, path_gene, per_root, classes=opt.probes.get(cuts),
                             class_of=class_of)
        if path is None:
            room = longest_free_path(adj, free, len(cuts) + 1)
            fits = [f for f in opt.fallbacks if len(f) + 1 <= room]
            cuts = max(fits, key=len) if fits else ()
            path = path_for_gene(adj, len(cuts) + 1, free, path_gene, per_root, classes=opt.probes.get(cuts),
                                 class_of=class_of)
        out[i] = opt.assignment(cuts, path)
        free &= ~mask_of(path)
    return [out[i] for i in range(len(options))]
