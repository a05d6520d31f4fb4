"""A scenario bank: Window-v0's per-scenario setup computed once and kept on disk.

A fresh scenario costs Window-v0 one SCAR run (its windows, the anchors in slot 0 and the reference
EDP) and the candidate pools of every (window, model) -- seconds of CPU against a fraction of a
millisecond per step, so training on random scenarios runs at 3-25 steps/s. A bank stores exactly
what those computations produce, per (scenario, MCM, cost model, pool options):

* SCAR's schedule (its result is re-evaluated on load: one schedule evaluation);
* the pool of every (window, slot) of SCAR's window plan, candidate by candidate in pool order,
  with their latency, energy, objective value, minibatch, weight-load time and dataflow shares
  (float64, exact), so a loaded pool is the one the env would build. Candidates are made from the
arrays as the env reads them (:class:`LazyPool`): an episode reads a few dozen per decision.

The env takes a bank through its ``bank`` option (``gym.make("ScarGym/Window-v0", bank=DIR)``):
on the first reset of a scenario found in the bank it fills the scenario's caches from the entry
instead of computing them; scenarios not in the bank are computed as usual, so results with and
without a bank are identical (tested). Relocations (``relocate``) depend on the episode and stay lazy.

Layout of a bank directory ``DIR``: ``DIR/bank.json`` (the manifest: format, MCM, cost model, pool
options, how the scenarios were drawn, and one ``{id, key, scenario}`` per entry) and
``DIR/entries/<key>.npz`` (one compressed numpy archive per entry: flat integer and float arrays
of the pools plus a JSON string with the scenario and SCAR's schedule; read with
``allow_pickle=False``, nothing is pickled). ``key`` is a
hash of the scenario's content (domain, models, batches; layer tables by their bytes), the MCM,
the cost-model record, the pool options and :data:`FORMAT_VERSION` -- bump that whenever SCAR, the
pools or the cost model change their results, and old banks are refused, not silently reused.

Build one with ``scar-gym bank build`` (:func:`build_bank`, in parallel through
:mod:`scar_gym.parallel`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from scar_gym.errors import ConfigError

#: Version of the entries' content and layout (part of every key).
FORMAT_VERSION = 2
MANIFEST = "bank.json"
ENTRIES = "entries"


# -- keys ------------------------------------------------------------------------------------------
def scenario_content(sc: Any) -> dict[str, Any]:
    """What a scenario's setup depends on: domain, models with batches (layer tables by their bytes'
    SHA-256); not its id or description."""
    from scar_gym.scenarios import _is_table_path

    models = []
    for m in sc.models:
        name = m.model
        if _is_table_path(name):
            name = "table:" + hashlib.sha256(Path(name).read_bytes()).hexdigest()
        models.append([name, m.batch])
    return {"domain": sc.domain, "models": models}


@dataclass(frozen=True)
class BankOptions:
    """What besides the scenario an entry depends on: the MCM, the cost model and the pool options
    (Window-v0's ``k``, ``per_signature`` and its reward's objective)."""

    mcm: dict[str, Any]
    cost_model: dict[str, Any]
    objective: str = "edp"
    k: int = 3
    per_signature: int = 2

    def header(self) -> dict[str, Any]:
        return {"format": FORMAT_VERSION, "mcm": self.mcm, "cost_model": self.cost_model,
                "objective": self.objective, "k": self.k, "per_signature": self.per_signature}

    def digest(self) -> str:
        return hashlib.sha256(_canon(self.header()).encode()).hexdigest()

    def key(self, sc: Any, digest: str | None = None) -> str:
        """The entry key of scenario ``sc`` (24 hex digits)."""
        text = (digest or self.digest()) + _canon(scenario_content(sc))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    @classmethod
    def of(cls, mcm: Any, cost_preset: str | None = None, objective: str = "edp", k: int = 3,
           per_signature: int = 2) -> "BankOptions":
        from scar_gym.envs.base import resolve_mcm
        from scar_gym.factory import make_cost_model

        return cls(resolve_mcm(mcm).to_dict(), make_cost_model(preset=cost_preset).describe(), objective, k,
                   per_signature)


def _canon(x: Any) -> str:
    return json.dumps(x, sort_keys=True, separators=(",", ":"))


# -- entries ---------------------------------------------------------------------------------------
def _encode_pools(pools: Sequence[tuple[Any, int, Sequence[Any]]]) -> tuple[list[list[Any]], dict[str, np.ndarray]]:
    """The pools of one scenario as flat arrays (one row per distinct cost tuple, per candidate, per
    segment) and the ``[window, slot]`` list naming them, in order."""
    values: list[tuple] = []
    index: dict[tuple, int] = {}
    cand_value, seg_off, segs, pool_off, names = [], [0], [], [0], []
    for window, slot, pool in pools:
        names.append([[list(t) for t in window], slot])
        for c in pool:
            v = (c.latency_s, c.energy_j, c.value, float(c.minibatch), c.weight_load_s, *c.dataflow_share)
            i = index.get(v)
            if i is None:
                i = index[v] = len(values)
                values.append(v)
            cand_value.append(i)
            segs.extend((sg.start, sg.stop, sg.chiplet) for sg in c.assignment.segments)
            seg_off.append(len(segs))
        pool_off.append(len(cand_value))
    arrays = {"values": np.array(values, dtype=np.float64).reshape(len(values), -1),
              "cand_value": np.array(cand_value, dtype=np.int32), "seg_off": np.array(seg_off, dtype=np.int64),
              "segs": np.array(segs, dtype=np.int32).reshape(-1, 3), "pool_off": np.array(pool_off, dtype=np.int64)}
    return names, arrays


class LazyPool(SequenceABC):
    """A stored pool, decoded into :class:`~scar_gym.envs.candidates.WindowCandidate` s one by one
    as they are read (Window-v0 usually reads only the first few dozen of a pool), each once."""

    __slots__ = ("_model", "_lo", "_n", "_shared", "_items", "_num_chiplets", "_arrays")

    def __init__(self, model: int, lo: int, hi: int, shared: tuple, num_chiplets: int):
        self._model, self._lo, self._n, self._shared = model, lo, hi - lo, shared
        self._items: list[Any] = [None] * (hi - lo)
        self._num_chiplets = num_chiplets
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values, sizes, chiplet bit masks) of the pool's candidates, as
        :class:`~scar_gym.envs.candidates.CandidateArray` has them, without making the candidates."""
        if self._arrays is None:
            from scar_gym.envs.candidates import mask_array

            values, cand_value, seg_off, flat, _ = self._shared
            lo, hi = self._lo, self._lo + self._n
            vals = np.array([values[cand_value[i]][2] for i in range(lo, hi)], dtype=np.float64)
            offs = seg_off[lo:hi + 1]
            masks = []
            for i in range(self._n):
                mask = 0
                for r in range(3 * offs[i] + 2, 3 * offs[i + 1], 3):
                    mask |= 1 << flat[r]
                masks.append(mask)
            self._arrays = (vals, np.diff(np.array(offs, dtype=np.int64)), mask_array(masks, self._num_chiplets))
        return self._arrays

    @property
    def values(self) -> np.ndarray:
        return self._columns()[0]

    @property
    def sizes(self) -> np.ndarray:
        return self._columns()[1]

    @property
    def masks(self) -> np.ndarray:
        return self._columns()[2]

    def placement_at(self, j: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """``(bounds, chiplets)`` of candidate ``j`` (as :class:`~scar_gym.envs.candidates.CandidateArray`)."""
        c = self[j]
        return c.bounds, c.chiplets

    def contains(self, bounds: tuple[int, ...], chiplets: tuple[int, ...]) -> bool:
        """Whether the pool holds the placement of segments ``bounds`` on ``chiplets``."""
        from scar_gym.envs.candidates import holds

        return holds(self, bounds, chiplets)

    def __len__(self) -> int:
        return self._n

    def _make(self, j: int) -> Any:
        from scar_gym.envs.candidates import WindowCandidate
        from scar_gym.schedule import Assignment, Segment

        values, cand_value, seg_off, flat, seg_cache = self._shared
        i = self._lo + j
        lat, en, val, mb, wl, *share = values[cand_value[i]]
        segments, chips, mask = [], [], 0
        for r in range(3 * seg_off[i], 3 * seg_off[i + 1], 3):
            start, stop, ch = flat[r], flat[r + 1], flat[r + 2]
            key = (start << 32) | (stop << 12) | ch  # one Segment object per distinct segment of the entry
            sg = seg_cache.get(key)
            if sg is None:
                sg = seg_cache[key] = Segment(start, stop, ch)
            segments.append(sg)
            chips.append(ch)
            mask |= 1 << ch
        c = self._items[j] = WindowCandidate(Assignment(self._model, tuple(segments)), mask, len(chips), lat, en, val,
                                             int(mb), wl, tuple(chips), tuple(share))
        return c

    def __getitem__(self, j):
        if isinstance(j, slice):
            return [self[k] for k in range(*j.indices(self._n))]
        if j < 0:
            j += self._n
        if not 0 <= j < self._n:
            raise IndexError(j)
        c = self._items[j]
        return c if c is not None else self._make(j)

    def __iter__(self):
        items = self._items
        for j in range(self._n):
            c = items[j]
            yield c if c is not None else self._make(j)


@dataclass(frozen=True)
class EntryTask:
    """One scenario to put in a bank (picklable: it travels to a worker)."""

    scenario: Any
    mcm: str
    cost_preset: str | None
    objective: str
    k: int
    per_signature: int


def compute_entry(task: EntryTask) -> dict[str, np.ndarray]:
    """A bank entry, computed by Window-v0 itself: one reset on the scenario (SCAR, anchors, plan),
    then the pool of every (window, slot) of SCAR's plan. Returns the arrays of the entry's ``.npz``
    (``doc``: a JSON string with the scenario, SCAR's schedule and the pools' names)."""
    import gymnasium as gym

    import scar_gym  # noqa: F401  (registers the ids in a spawned worker)
    from scar_gym.envs.candidates import CandidatePools

    # by id, not by class: window_env imports this module (the env's bank option)
    env = gym.make("ScarGym/Window-v0", scenario=task.scenario, mcm=task.mcm, cost_preset=task.cost_preset,
                   reward=f"{task.objective}_log_ratio_shaped", k=task.k, per_signature=task.per_signature,
                   disable_env_checker=True).unwrapped
    env.reset(seed=0)
    data = env.scenario_data
    sched, _ = data.policy_schedule("scar")
    pools = CandidatePools.for_data(data, objective=task.objective, k=task.k, per_signature=task.per_signature)
    names, arrays = _encode_pools([(w, slot, pools.pool(w, slot)) for w in env.plan.windows for slot in range(len(w))])
    meta = json.loads(json.dumps(sched.meta, default=str))
    doc = {"format": FORMAT_VERSION, "scenario": task.scenario.to_dict(),
           "scar": {"windows": sched.to_dict()["windows"], "meta": meta}, "pools": names}
    return {"doc": np.array(json.dumps(doc)), **arrays}


# -- the bank --------------------------------------------------------------------------------------
class ScenarioBank:
    """An opened bank directory (the manifest is read once; entries are read on demand)."""

    def __init__(self, path: str | Path, manifest: dict[str, Any]):
        self.path = Path(path)
        self.manifest = manifest
        self.options = BankOptions(manifest["mcm"], manifest["cost_model"], manifest["objective"], manifest["k"],
                                   manifest["per_signature"])
        self._digest = self.options.digest()
        self.keys = {e["key"] for e in manifest["entries"]}

    @classmethod
    def open(cls, path: str | Path, field: str = "bank") -> "ScenarioBank":
        p = Path(path)
        man = p / MANIFEST
        if not man.is_file():
            raise ConfigError(field, f"{str(p)!r} is not a scenario bank (no {MANIFEST})",
                              "build one with: scar-gym bank build --n 200 --out DIR")
        try:
            data = json.loads(man.read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(field, f"cannot read {man} ({e})"[:300], "rebuild the bank") from None
        need = ("format", "mcm", "cost_model", "objective", "k", "per_signature", "entries")
        if not isinstance(data, dict) or any(k not in data for k in need):
            raise ConfigError(field, f"{man} is not a bank manifest (needs {', '.join(need)})", "rebuild the bank")
        if data["format"] != FORMAT_VERSION:
            raise ConfigError(field, f"{man} has format {data['format']!r}, this scar-gym reads {FORMAT_VERSION}",
                              "rebuild the bank with this version (scar-gym bank build)")
        return cls(p, data)

    def __len__(self) -> int:
        return len(self.manifest["entries"])

    def scenarios(self) -> list[Any]:
        """The bank's scenarios, in manifest order."""
        from scar_gym.scenarios import Scenario

        return [Scenario.from_dict(e["scenario"], file=str(self.path / MANIFEST)) for e in self.manifest["entries"]]

    @property
    def recipes(self) -> list[dict[str, Any]]:
        """How the scenarios were drawn, one record per build (``{"source": "random", "seed", ...}``)."""
        return list(self.manifest.get("recipes", []))

    def check_matches(self, options: BankOptions, field: str = "bank") -> None:
        """Refuse a bank built for another MCM, cost model or pool options than ``options``."""
        mine, theirs = self.options.header(), options.header()
        for k in ("mcm", "cost_model", "objective", "k", "per_signature"):
            if mine[k] != theirs[k]:
                a = mine[k].get("name", mine[k]) if k == "mcm" else mine[k]
                b = theirs[k].get("name", theirs[k]) if k == "mcm" else theirs[k]
                if k == "cost_model":
                    a, b = mine[k]["preset"].get("name"), theirs[k]["preset"].get("name")
                raise ConfigError(field, f"the bank {str(self.path)!r} was built with {k} = {a!r}, not {b!r}"[:300], f"build a bank for these options (scar-gym bank build --{k.replace('_', '-')} ...)"
                                  if k != "cost_model" else "build a bank with --cost-preset of the env")

    def key(self, sc: Any) -> str:
        return self.options.key(sc, self._digest)

    def entry_path(self, key: str) -> Path:
        return self.path / ENTRIES / f"{key}.npz"

    def read(self, key: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """An entry's JSON document and arrays (read without pickles)."""
        with np.load(self.entry_path(key), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        return json.loads(str(arrays.pop("doc"))), arrays

    def prime(self, data: Any) -> bool:
        """Fill a :class:`~scar_gym.envs.types.ScenarioData`'s SCAR reference and candidate pools from
        the bank; ``False`` (nothing changed) when the scenario is not in it. Idempotent."""
        from scar_gym.envs.candidates import CandidatePools
        from scar_gym.scenarios import Scenario
        from scar_gym.schedule import Schedule

        inst = data.instance
        if not isinstance(inst, Scenario):
            return False
        mark = ("bank", str(self.path))
        if mark in data.extras:
            return data.extras[mark]
        key = self.key(inst)
        hit = key in self.keys and self.entry_path(key).is_file()
        data.extras[mark] = hit
        if not hit:
            return False
        doc, arrays = self.read(key)
        if "scar" not in data.references:
            sched = Schedule.from_dict({"windows": doc["scar"]["windows"], "meta": doc["scar"]["meta"]})
            data.references["scar"] = (sched, data.evaluator.evaluate(sched))
        o = self.options
        pools = CandidatePools.for_data(data, objective=o.objective, k=o.k, per_signature=o.per_signature)
        # tolist() once per entry: the candidates are then made from plain Python numbers, as the env's own.
        # The segments go flat (one list of small ints, not one list per row: fewer objects for the
        # garbage collector to walk in a process that holds many scenarios).
        shared = (arrays["values"].tolist(), arrays["cand_value"].tolist(), arrays["seg_off"].tolist(),
                  arrays["segs"].ravel().tolist(), {})
        off = arrays["pool_off"].tolist()
        for p, (window_l, slot) in enumerate(doc["pools"]):
            window = tuple(tuple(t) for t in window_l)
            pools.preload(window, slot, LazyPool(window[slot][0], off[p], off[p + 1], shared, data.mcm.num_chiplets))
        return True


@dataclass(frozen=True)
class BuildReport:
    path: Path
    added: int
    kept: int
    failed: list[tuple[str, str]]


def build_bank(out: str | Path, scenarios: Sequence[Any], mcm: str = "het-sides-3x3", cost_preset: str | None = None,
               objective: str = "edp", k: int = 3, per_signature: int = 2, recipe: dict[str, Any] | None = None,
               jobs: int = 1, address: str | None = None,
               on_result: Callable[[Any], None] | None = None) -> BuildReport:
    """Compute the entries of ``scenarios`` not yet in the bank at ``out`` (in parallel) and write
    them and the manifest. An existing bank must have the same options; its entries are kept, so an
    interrupted build continues where it stopped. A scenario whose computation fails is reported
    in the result and left out."""
    from scar_gym.parallel import parallel_map

    out = Path(out)
    opts = BankOptions.of(mcm, cost_preset, objective, k, per_signature)
    digest = opts.digest()
    old: dict[str, Any] = {}
    old_recipes: list[dict[str, Any]] = []
    if (out / MANIFEST).is_file():
        bank = ScenarioBank.open(out, "--out")
        bank.check_matches(opts, "--out")
        old = {e["key"]: e for e in bank.manifest["entries"]}
        old_recipes = bank.recipes
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError("--out", f"{str(out)!r} exists and is not a scenario bank",
                          "give a new or empty directory, or an existing bank to extend")
    (out / ENTRIES).mkdir(parents=True, exist_ok=True)
    keys = [opts.key(sc, digest) for sc in scenarios]
    todo = [(key, sc) for key, sc in dict(zip(keys, scenarios)).items()
            if not (out / ENTRIES / f"{key}.npz").is_file()]
    tasks = [EntryTask(sc, mcm, cost_preset, objective, k, per_signature) for _, sc in todo]
    failed: list[tuple[str, str]] = []

    def save(o) -> None:  # each entry is written as soon as it arrives: an interrupted build keeps it
        key, sc = todo[o.index]
        if o.ok:
            _write_npz(out / ENTRIES / f"{key}.npz", o.value)
        else:
            failed.append((sc.id, str(o.error)))
        if on_result is not None:
            on_result(o)

    parallel_map(compute_entry, tasks, jobs=jobs, address=address, on_result=save)
    entries = dict(old)
    for key, sc in zip(keys, scenarios):
        if key not in entries and (out / ENTRIES / f"{key}.npz").is_file():
            entries[key] = {"id": sc.id, "key": key, "scenario": sc.to_dict()}
    recipes = list(old_recipes)
    if recipe is not None and recipe not in recipes:
        recipes.append(recipe)
    manifest = {**opts.header(), "recipes": recipes, "entries": list(entries.values())}
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, out / MANIFEST)
    return BuildReport(out, len(todo) - len(failed), len(scenarios) - len(todo), failed)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


__all__ = ["BankOptions", "BuildReport", "EntryTask", "FORMAT_VERSION", "ScenarioBank", "build_bank",
           "LazyPool", "compute_entry", "scenario_content"]
