"""Scenarios: sets of models with batch sizes, run once to completion on one MCM.

The ten scenarios of the paper's Table III live in ``configs/scenarios/sc1.yaml`` .. ``sc10.yaml``.
A scenario file looks like::

    id: sc7
    use_case: AR gaming
    domain: arvr                 # datacenter | arvr (decides the PEs per chiplet: 4096 | 256)
    description: optional text
    models:
      - {model: planercnn, batch: 15}      # a zoo id ...
      - {model: my_net.yaml, batch: 30}    # ... or a layer-table path (.yaml/.csv)

``batch`` is the number of samples (datacenter) or, for AR/VR, the model's target frames per
second, so an AR/VR scenario is one second of frames. A relative layer-table path is resolved
against the scenario file's directory when the file exists there, else against the working
directory.

A model may appear only once per scenario: two entries of one model would give two models of the
same name in every schedule and report. Merge them into one entry with the summed batch instead.

Random scenarios (:class:`RandomScenarioGenerator`) draw 2-6 distinct zoo models of one domain with
domain-appropriate batches. Which generator seeds are for training, validation and testing, and
which scenarios form a suite (``paper``, ``random-N``, ...), is :mod:`scar_gym.suites`' business.
Two independent draws can coincide in content (the space is finite); use
:meth:`RandomScenarioGenerator.generate` with ``exclude`` to drop such scenarios where that matters.

:class:`ModelSet` is a scenario of already-built models (tests, toy problems); an
:data:`Instance` is either kind, which is what evaluators and environment episodes are built from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from scar_gym.errors import ConfigError, UnknownNameError, require_count, require_positive
from scar_gym.fileio import is_file
from scar_gym.hardware import DOMAIN_PES
from scar_gym.paths import SCENARIO_DIR

if TYPE_CHECKING:
    from scar_gym.workloads.model import Model

DOMAINS: tuple[str, ...] = tuple(DOMAIN_PES)
#: Batch choices for random scenarios, looked up by model id first, then by domain. Datacenter
#: batches follow Table III's range (1..32) with the language models lower (GPT-L <= 8, BERT <= 24);
#: AR/VR batches are frame rates (3 fps speech .. 60 fps gaze tracking).
DEFAULT_BATCH_CHOICES: dict[str, tuple[int, ...]] = {
    "datacenter": (1, 2, 4, 8, 16, 24, 32),
    "gpt-l": (1, 2, 4, 8),
    "bert-large": (1, 2, 3, 4, 8, 16, 24),
    "bert-base": (1, 2, 4, 8, 16, 24),
    "arvr": (3, 10, 15, 30, 45, 60),
}
#: Samples (or frames per second) of one model at most: cost tables hold every divisor of the batch
#: and the cost model's integer arithmetic multiplies by it (see scar_gym.workloads.layers.MAX_MACS).
#: Table III's largest is 60.
MAX_BATCH = 65_536
#: Models per scenario at most (Table III's largest scenario has 6).
MAX_MODELS = 64
_TOP_FIELDS = ("id", "use_case", "domain", "description", "models")
_MODEL_FIELDS = ("model", "batch")


def check_batch(value: Any, field: str = "batch", file: str | None = None) -> int:
    """``value`` if it is an integer 1 .. :data:`MAX_BATCH`, else a :class:`ConfigError` naming ``field``."""
    return require_count(value, field, MAX_BATCH, "samples per model", "split the work into several scenarios", file)


def check_model_names(models: Sequence[Model], fields: Sequence[str] | None = None,
                      specs: Sequence[str] | None = None) -> None:
    """Refuse two models of one name: every schedule, result and report keys models by name."""
    seen: dict[str, int] = {}
    for i, m in enumerate(models):
        if m.name in seen:
            j = seen[m.name]
            field = fields[i] if fields else f"models[{i}]"
            what = f" ({specs[i]!r} and {specs[j]!r})" if specs else ""
            raise ConfigError(field, f"model name {m.name!r} is also the name of models[{j}]{what}; their results "
                              "would merge into one entry", "give each model its own name (a layer table's "
                              "'name:' field or '# name:' line)")
        seen[m.name] = i


# The zoo is imported inside functions: importing it builds no model, but keeping it lazy lets this
# module (and the CLI) import even where the zoo cannot.
def _zoo_ids() -> tuple[str, ...]:
    from scar_gym.workloads.zoo import MODEL_IDS

    return tuple(MODEL_IDS)


def domain_models() -> dict[str, tuple[str, ...]]:
    """Domain -> the zoo models of that domain, in the zoo's (Table III) order."""
    from scar_gym.workloads.zoo import MODEL_INFO

    return {d: tuple(i for i, info in MODEL_INFO.items() if info.domain == d) for d in DOMAINS}


def model_domain(model: str) -> str | None:
    """The domain of a zoo model id, ``None`` for anything else (a layer-table path)."""
    from scar_gym.workloads.zoo import MODEL_INFO

    info = MODEL_INFO.get(model)
    return info.domain if info is not None else None


def _is_table_path(model: str) -> bool:
    """Whether ``model`` names a layer-table file (by suffix) rather than a zoo id."""
    from scar_gym.workloads.table import SUFFIXES

    return Path(model).suffix.lower() in SUFFIXES


@dataclass(frozen=True)
class ModelInstance:
    """One model of a scenario.

    Attributes:
        model: a zoo id (``resnet50``) or a path to a layer table (``.yaml``/``.csv``).
        batch: samples to run (datacenter), or frames per second (AR/VR); a positive integer.
    """

    model: str
    batch: int

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigError("model", f"expected a model id or a layer-table path, got {self.model!r}",
                              "write e.g. 'model: resnet50'")
        check_batch(self.batch)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "batch": self.batch}


@dataclass(frozen=True)
class Scenario:
    """A set of models with batches, to run once to completion on one MCM.

    Attributes:
        id: ``sc1`` .. ``sc10`` for Table III, ``rand-<seed>-<i>`` for random ones, else the user's.
        use_case: short label (``datacenter: LMs``, ``AR gaming``).
        domain: ``datacenter`` or ``arvr``; decides the PEs per chiplet (4096 / 256).
        models: the model instances, in schedule order; each model at most once.
        description: free text.
    """

    id: str
    use_case: str
    domain: str
    models: tuple[ModelInstance, ...]
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        if self.domain not in DOMAINS:
            raise ConfigError("domain", f"unknown domain {self.domain!r}", f"use one of {', '.join(DOMAINS)}")
        if not self.models:
            raise ConfigError("models", "no models", "list at least one '{model: <id>, batch: <n>}'")
        if len(self.models) > MAX_MODELS:
            raise ConfigError("models", f"{len(self.models)} models, above the bound of {MAX_MODELS}",
                              "split them into several scenarios")
        seen: dict[str, int] = {}
        for i, inst in enumerate(self.models):
            if not isinstance(inst, ModelInstance):
                raise ConfigError(f"models[{i}]", f"expected a ModelInstance, got {type(inst).__name__}",
                                  "build entries with ModelInstance(model, batch)")
            if inst.model in seen:
                raise ConfigError(f"models[{i}].model", f"{inst.model!r} already appears as models[{seen[inst.model]}]",
                                  "list each model once; merge duplicates into one entry with the summed batch")
            seen[inst.model] = i

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(m.model for m in self.models)

    @property
    def batches(self) -> tuple[int, ...]:
        return tuple(m.batch for m in self.models)

    @property
    def table_paths(self) -> tuple[str, ...]:
        """The layer-table files the scenario reads (its models that are not zoo ids)."""
        return tuple(m.model for m in self.models if _is_table_path(m.model))

    def build_models(self) -> list[Model]:
        """The :class:`~scar_gym.workloads.model.Model` of every instance, in order (batch not applied)."""
        from scar_gym.workloads import resolve_model

        models = [resolve_model(m.model) for m in self.models]
        check_model_names(models, [f"models[{i}].model" for i in range(len(models))], self.model_names)
        return models

    def summary(self) -> str:
        """``gpt-l (1), bert-large (3)``: the models with their batches, Table III style."""
        return ", ".join(f"{m.model} ({m.batch})" for m in self.models)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "use_case": self.use_case, "domain": self.domain}
        if self.description:
            d["description"] = self.description
        d["models"] = [m.to_dict() for m in self.models]
        return d

    @classmethod
    def from_dict(cls, data: Any, file: str | None = None, default_id: str | None = None) -> Scenario:
        """Build and validate a scenario from a parsed YAML mapping; errors name the field and ``file``."""
        try:
            return _scenario_from_dict(data, file, default_id)
        except ConfigError as e:
            if e.file is None and file is not None:
                raise _with_file(e, file) from None
            raise

    def to_yaml(self, path: str | Path) -> None:
        import yaml

        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))


def _with_file(e: ConfigError, file: str) -> ConfigError:
    """The same error with ``file`` filled in (an UnknownNameError stays one)."""
    if isinstance(e, UnknownNameError):
        return UnknownNameError(e.kind, e.name, e.known, field=e.field, file=file)
    return ConfigError(e.field, e.problem, e.fix, file)


def _model_instance(entry: Any, i: int, base_dir: Path | None, known_ids: Sequence[str]) -> ModelInstance:
    where = f"models[{i}]"
    if not isinstance(entry, dict):
        raise ConfigError(where, f"expected a mapping, got {entry!r}", "write '- {model: resnet50, batch: 32}'")
    unknown = sorted(set(entry) - set(_MODEL_FIELDS))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", "unknown field", f"use only {', '.join(_MODEL_FIELDS)}")
    for f in _MODEL_FIELDS:
        if f not in entry:
            raise ConfigError(f"{where}.{f}", "missing", "write '- {model: resnet50, batch: 32}'")
    model, batch = entry["model"], entry["batch"]
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(f"{where}.model", f"expected a model id or a layer-table path, got {model!r}",
                          "write e.g. 'model: resnet50'")
    model = model.strip()
    if _is_table_path(model):
        if base_dir is not None and not Path(model).is_absolute() and is_file(base_dir / model):
            model = str(base_dir / model)
        if not is_file(model):
            raise ConfigError(f"{where}.model", f"no such layer table {model!r}",
                              "give a path relative to the scenario file or the working directory")
    elif model not in known_ids:
        raise UnknownNameError("model", model, known_ids, field=f"{where}.model")
    check_batch(batch, f"{where}.batch")
    return ModelInstance(model, batch)


def _scenario_from_dict(data: Any, file: str | None, default_id: str | None) -> Scenario:
    if not isinstance(data, dict):
        raise ConfigError("(top level)", f"expected a mapping, got {type(data).__name__}",
                          "write the scenario as 'id: ..., domain: ..., models: [...]'")
    unknown = sorted(set(data) - set(_TOP_FIELDS))
    if unknown:
        raise ConfigError(unknown[0], "unknown field", f"use only {', '.join(_TOP_FIELDS)}")
    sid = data.get("id", default_id)
    if sid is None or not str(sid).strip():
        raise ConfigError("id", "missing", "add 'id: my-scenario'")
    if "domain" not in data:
        raise ConfigError("domain", "missing", f"add 'domain: {DOMAINS[0]}' (one of {', '.join(DOMAINS)})")
    if data["domain"] not in DOMAINS:
        raise ConfigError("domain", f"unknown domain {data['domain']!r}", f"use one of {', '.join(DOMAINS)}")
    models = data.get("models")
    if models is None:
        raise ConfigError("models", "missing", "add 'models:' with entries '- {model: <id>, batch: <n>}'")
    if not isinstance(models, list) or not models:
        raise ConfigError("models", f"expected a non-empty list, got {models!r}",
                          "write entries '- {model: <id>, batch: <n>}'")
    if len(models) > MAX_MODELS:
        raise ConfigError("models", f"{len(models)} models, above the bound of {MAX_MODELS}",
                          "split them into several scenarios")
    base_dir = Path(file).parent if file else None
    known_ids = _zoo_ids()
    instances = tuple(_model_instance(entry, i, base_dir, known_ids) for i, entry in enumerate(models))
    return Scenario(id=str(sid).strip(), use_case=str(data.get("use_case") or ""), domain=data["domain"],
                    models=instances, description=str(data.get("description") or ""))


def _natural_key(name: str) -> tuple:
    """Sort ``sc2`` before ``sc10``."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


#: Built-in scenario ids (Table III), in natural order: sc1 .. sc10.
SCENARIO_IDS: tuple[str, ...] = tuple(sorted((p.stem for p in SCENARIO_DIR.glob("*.yaml")), key=_natural_key))


def load_scenario_file(path: str | Path) -> Scenario:
    """A scenario from a YAML file; the id defaults to the file's stem."""
    from scar_gym.fileio import read_yaml

    path = Path(path)
    data = read_yaml(path)
    return Scenario.from_dict(data, str(path), default_id=path.stem)


def load_scenario(spec: str) -> Scenario:
    """A built-in scenario by id (``sc4``, or just ``4``) or a scenario YAML file by path."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError("scenario", f"expected a non-empty id or path, got {spec!r}", "give e.g. sc4")
    spec = spec.strip()
    sid = f"sc{spec}" if spec.isdigit() else spec
    if sid in SCENARIO_IDS:
        return load_scenario_file(SCENARIO_DIR / f"{sid}.yaml")
    if spec.lower().endswith((".yaml", ".yml")) or is_file(spec):
        return load_scenario_file(spec)
    raise UnknownNameError("scenario", spec, SCENARIO_IDS + ("<path to a scenario .yaml file>",), field="scenario")


def list_scenarios() -> list[Scenario]:
    """Every built-in scenario, in :data:`SCENARIO_IDS` order."""
    return [load_scenario(sid) for sid in SCENARIO_IDS]


@dataclass(frozen=True, eq=False)
class ModelSet:
    """A scenario made of already-built models (tests, toy problems, user models not in the zoo).

    Attributes:
        id: a label for reports.
        models: the models, in schedule order.
        batches: one positive batch per model.
        domain: ``datacenter`` or ``arvr`` (decides the PEs per chiplet).
    """

    id: str
    models: tuple[Model, ...]
    batches: tuple[int, ...]
    domain: str = "datacenter"

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        for i, b in enumerate(self.batches):
            check_batch(int(b) if isinstance(b, np.integer) else b, f"batches[{i}]")
        object.__setattr__(self, "batches", tuple(int(b) for b in self.batches))
        if self.domain not in DOMAINS:
            raise ConfigError("domain", f"unknown domain {self.domain!r}", f"use one of {', '.join(DOMAINS)}")
        if not self.models or len(self.models) != len(self.batches):
            raise ConfigError("batches", f"{len(self.batches)} batches for {len(self.models)} models",
                              "give at least one model and one batch per model")
        check_model_names(self.models)

    def build_models(self) -> list[Model]:
        return list(self.models)


#: What an evaluator or an environment episode is built from.
Instance = Union[Scenario, ModelSet]


BatchChoices = Sequence[int] | Mapping[str, Sequence[int]]


@dataclass(frozen=True, eq=False)
class RandomScenarioGenerator:
    """Seeded random scenarios: ``min_models``..``max_models`` distinct zoo models of one domain.

    Scenario ``i`` of :meth:`generate` is drawn from its own stream ``np.random.default_rng([seed, i])``,
    so it does not depend on how many scenarios are generated, and no global RNG is touched.

    Attributes:
        seed: non-negative integer; :mod:`scar_gym.suites` splits the seeds into train / validation / test.
        min_models, max_models: models per scenario (capped by the size of the domain's pool).
        domain: draw only this domain; ``None`` draws the domain uniformly per scenario among those
            whose pool has at least ``min_models`` models.
        models: the pool; ``None`` is the whole zoo split by :func:`domain_models`. Zoo ids are
            grouped by their domain; layer-table paths are allowed only with ``domain`` set.
        batch_choices: a sequence of batches for every model, or a mapping from model id or domain
            to batches (looked up in that order); ``None`` is :data:`DEFAULT_BATCH_CHOICES`.
    """

    seed: int = 0
    min_models: int = 2
    max_models: int = 6
    domain: str | None = None
    models: tuple[str, ...] | None = None
    batch_choices: BatchChoices | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool) or self.seed < 0:
            raise ConfigError("seed", f"expected an integer >= 0, got {self.seed!r}", "use e.g. seed=0")
        require_positive(self.min_models, "min_models")
        require_positive(self.max_models, "max_models")
        if self.max_models < self.min_models:
            raise ConfigError("max_models", f"{self.max_models} < min_models={self.min_models}",
                              "set max_models >= min_models")
        if self.domain is not None and self.domain not in DOMAINS:
            raise ConfigError("domain", f"unknown domain {self.domain!r}", f"use one of {', '.join(DOMAINS)} or None")
        if self.models is not None:
            object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "_pools", self._build_pools())
        object.__setattr__(self, "_choices", self._build_choices())

    # -- setup -----------------------------------------------------------------------------------
    def _build_pools(self) -> dict[str, tuple[str, ...]]:
        """domain -> candidate models, keeping only domains that can fill ``min_models``."""
        if self.models is None:
            pools = domain_models()
        else:
            models = tuple(self.models)
            if len(set(models)) != len(models):
                raise ConfigError("models", f"duplicates in {models}", "list each model once")
            known = _zoo_ids()
            for m in models:
                if not _is_table_path(m) and m not in known:
                    raise UnknownNameError("model", m, known, field="models")
            if self.domain is not None:
                pools = {self.domain: models}  # the user's explicit pool, whatever the zoo's domains
            else:
                tables = [m for m in models if model_domain(m) is None]
                if tables:
                    raise ConfigError("domain", f"layer tables {tables} have no domain",
                                      f"set domain to one of {', '.join(DOMAINS)}")
                pools = {d: tuple(m for m in models if model_domain(m) == d) for d in DOMAINS}
        if self.domain is not None:
            pools = {self.domain: pools.get(self.domain, ())}
        pools = {d: ms for d, ms in pools.items() if len(ms) >= self.min_models}
        if not pools:
            raise ConfigError("models", f"no domain has {self.min_models} candidate models",
                              "lower min_models or widen the model pool")
        return pools

    def _build_choices(self) -> dict[str, tuple[int, ...]]:
        """model -> batch choices for every model in the pools."""
        raw = DEFAULT_BATCH_CHOICES if self.batch_choices is None else self.batch_choices
        out: dict[str, tuple[int, ...]] = {}
        for domain, models in self._pools.items():
            for m in models:
                if isinstance(raw, Mapping):
                    choices = raw.get(m, raw.get(domain))
                    if choices is None:
                        raise ConfigError("batch_choices", f"no entry for model {m!r} or domain {domain!r}",
                                          f"add '{domain}: [1, 2, 4]'")
                else:
                    choices = raw
                choices = tuple(choices)
                if not choices:
                    raise ConfigError("batch_choices", f"empty choices for {m!r}", "give at least one batch")
                for b in choices:
                    require_positive(b, "batch_choices")
                out[m] = choices
        return out

    # -- drawing ---------------------------------------------------------------------------------
    @property
    def domains(self) -> tuple[str, ...]:
        """Domains this generator draws from."""
        return tuple(self._pools)

    def sample(self, rng: np.random.Generator, scenario_id: str | None = None) -> Scenario:
        """One random scenario drawn from ``rng`` (advances it).

        ``scenario_id`` defaults to ``rand-<seed>-r<draw>`` with a number drawn from ``rng``, so the
        same ``rng`` state gives the same scenario and id.
        """
        domains = self.domains
        domain = domains[int(rng.integers(len(domains)))]
        pool = self._pools[domain]
        hi = min(self.max_models, len(pool))
        k = int(rng.integers(self.min_models, hi + 1))
        picked = sorted(rng.choice(len(pool), size=k, replace=False).tolist())  # pool order: canonical scenarios
        instances = []
        for idx in picked:
            choices = self._choices[pool[idx]]
            instances.append(ModelInstance(pool[idx], int(choices[int(rng.integers(len(choices)))])))
        if scenario_id is None:
            scenario_id = f"rand-{self.seed}-r{int(rng.integers(1 << 31))}"
        return Scenario(id=scenario_id, use_case=f"random {domain}", domain=domain, models=tuple(instances),
                        description=f"random scenario from RandomScenarioGenerator(seed={self.seed})")

    def scenario(self, i: int) -> Scenario:
        """Scenario ``i`` (id ``rand-<seed>-<i>``), drawn from its own stream ``[seed, i]``."""
        if not isinstance(i, (int, np.integer)) or i < 0:
            raise ConfigError("index", f"expected an integer >= 0, got {i!r}", "use 0, 1, 2, ...")
        return self.sample(np.random.default_rng([self.seed, int(i)]), scenario_id=f"rand-{self.seed}-{i}")

    def generate(self, n: int, start: int = 0, exclude: Iterable[Scenario] = ()) -> list[Scenario]:
        """Scenarios ``start`` .. ``start + n - 1``, skipping any whose models and batches equal one in
        ``exclude`` (skipped indices are not replaced, so fewer than ``n`` may be returned)."""
        if not isinstance(n, int) or n < 0:
            raise ConfigError("n", f"expected an integer >= 0, got {n!r}", "use e.g. 10")
        banned = {_content_key(s) for s in exclude}
        out = [self.scenario(i) for i in range(start, start + n)]
        return [s for s in out if _content_key(s) not in banned]


def _content_key(s: Scenario) -> tuple:
    return (s.domain, s.models)
