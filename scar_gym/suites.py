"""Scenario suites and the train / validation / test seed split: the one place that names them.

A *suite spec* names a set of scenarios; every part of scar-gym that takes one (``scar-gym eval
--suite``, the environments' ``scenario=`` argument, training configs, the reproduction tables)
resolves it here:

=========================  ============================================================================
spec                       scenarios
=========================  ============================================================================
``paper``                  the ten Table III scenarios ``sc1`` .. ``sc10``
``datacenter``, ``arvr``   the paper's two domains: ``sc1`` .. ``sc5`` and ``sc6`` .. ``sc10``
``random-N``               ``N`` test scenarios: :func:`test_generator` (seed ``TEST_SEED_BASE + seed``,
                           2-4 models) indices ``0 .. N-1``
``random``                 an endless stream of a :class:`~scar_gym.scenarios.RandomScenarioGenerator`
                           (environments only: an episode draws one)
``large-RxC``              8 scenarios, each with its own MCM (:func:`large_suite`): the paper's sc4 .. sc7
                           and 4 seeded random test scenarios of 4-12 models (seed ``TEST_SEED_BASE +
                           seed``), alternately on ``het-cross-RxC`` and ``het-sides-RxC`` (``large-6x6``,
                           ``large-8x8``; ``large-5x5`` for a size an agent was not trained on)
``sc4``, ``4``, a path     that one scenario (a built-in id or a scenario YAML file)
a list                     those scenarios (ids, paths, :class:`~scar_gym.scenarios.Scenario` or
                           :class:`~scar_gym.scenarios.ModelSet` objects)
=========================  ============================================================================

Seed split of the random generators (held-out convention):

==================  ==================  ===================================================================
generator seeds     split               used by
==================  ==================  ===================================================================
0 .. 9999           train               training episodes (``scenarios.train.seed`` of a training config)
10000 .. 19999      validation          evaluation during training, best-model choice, expert iteration
20000 ..            test                ``random-N`` suites (``scar-gym eval --suite random-N --seed S``)
==================  ==================  ===================================================================

so the test scenarios are never seen in training nor used to pick a checkpoint. Independent draws
can still coincide in content (the space is finite): ``RandomScenarioGenerator.generate(exclude=)``.

:class:`Suite` is the suite as the environments and the trainer consume it: a finite list drawn
uniformly (``sample``) or fed in order (``suite[i]``, cycling), or an endless stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from scar_gym.errors import ConfigError, UnknownNameError
from scar_gym.scenarios import SCENARIO_IDS, Instance, ModelSet, RandomScenarioGenerator, Scenario, load_scenario

TRAIN_SEED_BASE = 0
VALIDATION_SEED_BASE = 10_000
TEST_SEED_BASE = 20_000
#: split -> [first, last] generator seed (``None``: unbounded).
SEED_SPLITS: dict[str, tuple[int, int | None]] = {
    "train": (TRAIN_SEED_BASE, VALIDATION_SEED_BASE - 1),
    "validation": (VALIDATION_SEED_BASE, TEST_SEED_BASE - 1),
    "test": (TEST_SEED_BASE, None),
}

#: The named sets of Table III scenarios.
NAMED_SUITES: dict[str, tuple[str, ...]] = {
    "paper": SCENARIO_IDS,
    "datacenter": tuple(f"sc{i}" for i in range(1, 6)),
    "arvr": tuple(f"sc{i}" for i in range(6, 11)),
}
#: Models per scenario of the ``random-N`` test suites.
TEST_MIN_MODELS, TEST_MAX_MODELS = 2, 4
#: What a suite spec may be, for error messages.
SUITE_FORMS: tuple[str, ...] = (*NAMED_SUITES, "random-N", "large-RxC", *SCENARIO_IDS, "<a scenario .yaml path>",
                                "<a list of these>")
#: The ``large-RxC`` suites: paper scenarios, MCM families (alternated), random scenarios and their sizes.
LARGE_PAPER: tuple[str, ...] = ("sc4", "sc5", "sc6", "sc7")
LARGE_FAMILIES: tuple[str, ...] = ("het-cross", "het-sides")
LARGE_RANDOM = 4
LARGE_MIN_MODELS, LARGE_MAX_MODELS = 4, 12
#: Grid sides of the ``large-RxC`` suites (het-cross needs 3; SCAR, the reference, schedules at most 8x8).
LARGE_MIN_SIDE, LARGE_MAX_CHIPLETS = 3, 64


# -- the seed split -------------------------------------------------------------------------------

def split_of(seed: int) -> str:
    """``train``, ``validation`` or ``test``: the split a generator seed belongs to."""
    for split, (lo, hi) in SEED_SPLITS.items():
        if seed >= lo and (hi is None or seed <= hi):
            return split
    raise ConfigError("seed", f"expected an integer >= 0, got {seed!r}", "use e.g. 0")


def check_seed(seed: int, split: str, field: str, file: str | None = None) -> None:
    """Raise a :class:`ConfigError` naming ``field`` unless generator ``seed`` is in ``split``."""
    lo, hi = SEED_SPLITS[split]
    if split_of(seed) != split:
        span = f"{lo} .. {hi}" if hi is not None else f"{lo} and above"
        raise ConfigError(field, f"{seed} is a {split_of(seed)} seed, not a {split} seed ({span})",
                          f"{split} seeds are {span} (see scar_gym.suites)", file)


def seed_split(suite: str | None = None, seed: int = 0) -> dict[str, Any]:
    """The split as the benchmark's JSON records it: first and last seed per split, and the test
    seed that ``random-N`` suites drew from (None for other suites)."""
    out: dict[str, Any] = {s: [lo, hi] for s, (lo, hi) in SEED_SPLITS.items() if hi is not None}
    out["test"] = TEST_SEED_BASE + seed if isinstance(suite, str) and suite.startswith("random-") else None
    return out


def train_eval_generators(seed: int = TRAIN_SEED_BASE, **kwargs: Any) -> tuple[RandomScenarioGenerator,
                                                                             RandomScenarioGenerator]:
    """A training generator with ``seed`` and a validation one with ``VALIDATION_SEED_BASE + seed``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or split_of(seed) != "train":
        raise ConfigError("seed", f"training seeds are 0 .. {VALIDATION_SEED_BASE - 1}, got {seed!r}",
                          "pick a smaller seed; validation seeds start at VALIDATION_SEED_BASE")
    return (RandomScenarioGenerator(seed=seed, **kwargs),
            RandomScenarioGenerator(seed=VALIDATION_SEED_BASE + seed, **kwargs))


def test_generator(seed: int = 0) -> RandomScenarioGenerator:
    """The generator of the ``random-N`` test suites (seed ``TEST_SEED_BASE + seed``)."""
    return RandomScenarioGenerator(seed=TEST_SEED_BASE + seed, min_models=TEST_MIN_MODELS,
                                   max_models=TEST_MAX_MODELS)


test_generator.__test__ = False  # a library function, not a pytest test


# -- suites -------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _builtin(sid: str) -> Scenario:
    return load_scenario(sid)


def scenario(spec: str) -> Scenario:
    """A scenario by id (``sc4``, ``4``) or YAML path; built-in ids are parsed once per process
    (scenarios are immutable, so sharing them is safe)."""
    sid = f"sc{spec.strip()}" if spec.strip().isdigit() else spec.strip()
    return _builtin(sid) if sid in SCENARIO_IDS else load_scenario(spec)


def _instance(spec: Any) -> Instance:
    if isinstance(spec, (Scenario, ModelSet)):
        return spec
    if isinstance(spec, str):
        return scenario(spec)
    raise ConfigError("scenario", f"expected a scenario id, a Scenario or a ModelSet, got {type(spec).__name__}",
                      "give e.g. 'sc4'")


#: Scenarios of a ``random-N`` suite at most (every policy runs on each).
MAX_RANDOM_SUITE = 1000


def _random_n(spec: str, seed: int, field: str) -> list[Scenario]:
    n = spec.split("-", 1)[1]
    if not (n.isascii() and n.isdigit()) or int(n[:12]) <= 0:
        raise ConfigError(field, f"bad random suite {spec!r}", "write random-N with N > 0, e.g. random-20")
    if len(n) > 9 or int(n) > MAX_RANDOM_SUITE:
        raise ConfigError(field, f"{spec!r}: at most {MAX_RANDOM_SUITE:,} random scenarios per suite",
                          "use e.g. random-20, or several seeds (--seed)")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError("--seed", f"expected an integer >= 0, got {seed!r}", "use e.g. 0")
    return test_generator(seed).generate(int(n))


def large_random_scenario(seed: int, i: int) -> ModelSet:
    """Random test scenario ``i`` of the ``large-RxC`` suites: 4-12 zoo models of one domain drawn
    **with replacement** (a domain has at most 8 distinct models; a repeated model is a copy named
    ``<name>-2``, ``-3``, ...) with batches from :data:`~scar_gym.scenarios.DEFAULT_BATCH_CHOICES`,
    from the stream ``[TEST_SEED_BASE + seed, i]`` and with the id ``large-<seed>-<i>``."""
    import dataclasses

    from scar_gym.scenarios import DEFAULT_BATCH_CHOICES, DOMAINS, domain_models
    from scar_gym.workloads import resolve_model

    rng = np.random.default_rng([TEST_SEED_BASE + seed, int(i)])
    domain = DOMAINS[int(rng.integers(len(DOMAINS)))]
    pool = domain_models()[domain]
    k = int(rng.integers(LARGE_MIN_MODELS, LARGE_MAX_MODELS + 1))
    picks = sorted(int(x) for x in rng.choice(len(pool), size=k, replace=True))
    models, batches, seen = [], [], {}
    for p in picks:
        mid = pool[p]
        choices = DEFAULT_BATCH_CHOICES.get(mid, DEFAULT_BATCH_CHOICES[domain])
        batches.append(int(choices[int(rng.integers(len(choices)))]))
        model = resolve_model(mid)
        seen[mid] = seen.get(mid, 0) + 1
        models.append(model if seen[mid] == 1 else dataclasses.replace(model, name=f"{model.name}-{seen[mid]}"))
    return ModelSet(id=f"large-{seed}-{i}", models=tuple(models), batches=tuple(batches), domain=domain)


def _large_size(spec: str, field: str) -> tuple[int, int] | None:
    """(rows, cols) of a ``large-RxC`` spec, ``None`` for another spec."""
    if not spec.startswith("large-"):
        return None
    size = spec[len("large-"):]
    r, sep, c = size.partition("x")
    if not (sep and r.isascii() and r.isdigit() and c.isascii() and c.isdigit()) or len(size) > 7:
        raise ConfigError(field, f"bad large suite {spec!r}", "write large-RxC, e.g. large-6x6")
    rows, cols = int(r), int(c)
    if min(rows, cols) < LARGE_MIN_SIDE or rows * cols > LARGE_MAX_CHIPLETS:
        raise ConfigError(field, f"{spec!r}: the large suites take {LARGE_MIN_SIDE}x{LARGE_MIN_SIDE} to "
                          f"{LARGE_MAX_CHIPLETS} chiplets", "use e.g. large-5x5, large-6x6 or large-8x8")
    return rows, cols


def large_suite(rows: int, cols: int, seed: int = 0) -> list[tuple[Instance, str]]:
    """The ``large-RxC`` suite: (scenario, MCM name) pairs, see the module docstring."""
    mcms = [f"{f}-{rows}x{cols}" for f in LARGE_FAMILIES]
    out: list[tuple[Instance, str]] = [(scenario(s), mcms[j % len(mcms)]) for j, s in enumerate(LARGE_PAPER)]
    out += [(large_random_scenario(seed, i), mcms[i % len(mcms)]) for i in range(LARGE_RANDOM)]
    return out


def suite_mcms(spec: Any, seed: int = 0, field: str = "--suite") -> list[str] | None:
    """Per scenario of the suite, the MCM it runs on, for the suites that fix their MCMs
    (``large-RxC``); ``None`` for the others (they run on the caller's MCM)."""
    size = _large_size(spec, field) if isinstance(spec, str) else None
    if size is None:
        return None
    return [m for _, m in large_suite(*size, seed)]


def suite_scenarios(spec: Any, seed: int = 0, field: str = "--suite") -> list[Instance]:
    """The scenarios of a finite suite spec (see the module docstring), in order.

    ``seed`` selects the test draw of ``random-N``; ``field`` is what an error names.
    """
    if isinstance(spec, str):
        if spec in NAMED_SUITES:
            return [scenario(s) for s in NAMED_SUITES[spec]]
        if spec.startswith("random-"):
            return _random_n(spec, seed, field)
        size = _large_size(spec, field)
        if size is not None:
            return [sc for sc, _ in large_suite(*size, seed)]
        try:
            return [scenario(spec)]
        except UnknownNameError:
            raise UnknownNameError("suite", spec, SUITE_FORMS, field=field) from None
    if isinstance(spec, (Scenario, ModelSet)):
        return [spec]
    if isinstance(spec, Sequence):
        if not spec:
            raise ConfigError(field, "empty list", "give at least one scenario")
        return [_instance(s) for s in spec]
    raise ConfigError(field, f"expected a suite name, a scenario id, a Scenario, a ModelSet or a list, "
                      f"got {type(spec).__name__}", "give e.g. 'paper' or 'sc4'")


def suite_ids(spec: Any, seed: int = 0) -> tuple[str, ...]:
    """The scenario ids of a finite suite (``suite_ids("datacenter")`` = ``("sc1", ..., "sc5")``)."""
    if isinstance(spec, str) and spec in NAMED_SUITES:
        return NAMED_SUITES[spec]
    return tuple(s.id for s in suite_scenarios(spec, seed))


class Sampler(Protocol):
    """An endless scenario source: ``sample(rng)`` draws from ``rng``; ``scenario(i)``, where it
    exists (:class:`~scar_gym.scenarios.RandomScenarioGenerator`), is the ``i``-th of a fixed stream."""

    def sample(self, rng: np.random.Generator) -> Instance: ...


@dataclass(frozen=True, eq=False)
class Suite:
    """A suite as its consumers read it: ``instances`` (finite) or ``sampler`` (endless).

    * :meth:`sample` draws one instance with the caller's generator: uniform over ``instances``,
      or ``sampler.sample(rng)`` (what an environment's ``reset`` does);
    * ``suite[i]`` is the ``i``-th instance, cycling through a finite suite, or scenario ``i`` of
      an endless generator's fixed stream (what the trainer's scenario feeder does: no randomness).

    Build one with :meth:`of` (any suite spec; ``"random"`` with ``generator_kwargs``) or
    :meth:`random` (a generator's first ``n`` scenarios, or its endless stream when ``n == 0``).
    """

    instances: tuple[Instance, ...] = ()
    sampler: Sampler | None = None
    label: str = ""

    @classmethod
    def of(cls, spec: Any, generator_kwargs: dict | None = None, seed: int = 0) -> "Suite":
        """The suite of ``spec``: a :class:`Suite`, any spec of the module docstring, ``"random"`` (a
        :class:`~scar_gym.scenarios.RandomScenarioGenerator` of ``generator_kwargs``), or any object
        with ``sample(rng)`` (a generator, :class:`~scar_gym.envs.generator.ToyGenerator`)."""
        if isinstance(spec, Suite):
            return spec
        if isinstance(spec, str) and spec == "random":
            return cls(sampler=RandomScenarioGenerator(**(generator_kwargs or {})), label="random")
        if generator_kwargs:
            raise ConfigError("generator_kwargs", "only used with scenario='random'", "drop generator_kwargs")
        if hasattr(spec, "sample") and not isinstance(spec, (Scenario, ModelSet)):
            return cls(sampler=spec, label=type(spec).__name__)
        insts = tuple(suite_scenarios(spec, seed, field="scenario"))
        named = isinstance(spec, str) and (spec in NAMED_SUITES or spec.startswith("random-"))
        return cls(insts, label=spec if named else ",".join(i.id for i in insts))

    @classmethod
    def random(cls, seed: int, n: int = 0, **generator_kwargs: Any) -> "Suite":
        """Scenarios ``0 .. n-1`` of ``RandomScenarioGenerator(seed, **generator_kwargs)``, or its
        endless stream (``n == 0``)."""
        gen = RandomScenarioGenerator(seed=seed, **generator_kwargs)
        if n:
            return cls(tuple(gen.scenario(i) for i in range(n)), sampler=None, label=f"random(seed={seed}, n={n})")
        return cls(sampler=gen, label=f"random(seed={seed})")

    @property
    def finite(self) -> bool:
        return self.sampler is None

    @property
    def fixed(self) -> Instance | None:
        """The only instance, when there is exactly one."""
        return self.instances[0] if self.sampler is None and len(self.instances) == 1 else None

    def __len__(self) -> int:
        """Instances of a finite suite; 0 for an endless one."""
        return len(self.instances)

    def __getitem__(self, i: int) -> Instance:
        if self.sampler is None:
            return self.instances[i % len(self.instances)]
        return self.sampler.scenario(i)

    def all(self) -> list[Instance]:
        """Every instance of a finite suite (empty for an endless one)."""
        return list(self.instances)

    def sample(self, rng: np.random.Generator) -> Instance:
        if self.sampler is not None:
            return self.sampler.sample(rng)
        if len(self.instances) == 1:
            return self.instances[0]
        return self.instances[int(rng.integers(len(self.instances)))]
