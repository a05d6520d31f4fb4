"""Training configs: YAML (RL-Zoo-like keys) -> frozen dataclasses, validated field by field.

A config file (``configs/train/*.yaml``)::

    name: window-edp-log-ratio          # run name (default: the file stem)
    env_id: "scar_gym:ScarGym/Window-v0"
    env_kwargs: {reward: edp_log_ratio, relocate: 24}   # the env's options (scar_gym.envs.config), JSON-able
    mcm: het-sides-3x3                  # preset name / pattern / YAML path (scar_gym.presets.load_mcm)
    scenarios:
      train: {source: random, seed: 0, domain: datacenter, min_models: 2, max_models: 3}
      eval:  {source: random, seed: 10000, n: 6, domain: datacenter, min_models: 2, max_models: 3}
    n_envs: 2
    vec_env: dummy                      # dummy | subproc
    n_timesteps: 20000
    seed: 0
    policy: {extractor: mlp, net_arch: [64, 64], activation: tanh}
    ppo: {n_steps: 128, batch_size: 64, n_epochs: 4, gamma: 0.99, learning_rate: 3.0e-4, ent_coef: 0.01}
    eval: {freq: 2000, episodes: 0, deterministic: true}
    checkpoint: {freq: 5000}
    bank: runs/banks/train128           # optional: a scenario bank (scar-gym bank build), Window-v0 only

Rules (rl-conventions 8.10): ``yaml.safe_load``; unknown keys and wrong types are rejected with a
:class:`~scar_gym.errors.ConfigError` naming the dotted field and the file (``env_kwargs`` are
checked against the env's own options, :mod:`scar_gym.envs.config`, before any env is built); an int is accepted
where a float is expected (``1e-4`` written without a dot is a *string* in PyYAML and is rejected
with a hint). Overrides ``--set ppo.learning_rate=1.0e-4`` parse the value with ``yaml.safe_load``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from scar_gym.envs.config import check_env_kwargs
from scar_gym.errors import ConfigError
from scar_gym.fileio import read_yaml
from scar_gym.paths import TRAIN_DIR
from scar_gym.suites import VALIDATION_SEED_BASE


@dataclass(frozen=True)
class SuiteConfig:
    """Which scenarios a split trains or evaluates on (turned into a :class:`scar_gym.suites.Suite`
    by :func:`agents.envs.suite_of`).

    ``source: random``: :class:`scar_gym.scenarios.RandomScenarioGenerator` with ``seed``, drawing
    scenario indices ``0 .. n-1`` (``n: 0`` = an endless stream for training: each reset takes the
    next index). ``source: paper``: the Table III scenarios in ``ids`` (default all ten).
    ``source: list``: the scenario ids or YAML paths in ``ids``. ``source: bank`` (training only):
    the scenarios of the config's ``bank``, in the bank's order.

    Held-out split (:mod:`scar_gym.suites`): training uses train seeds (0 .. 9999), evaluation
    validation seeds (10000 .. 19999); :func:`agents.envs.check_held_out` enforces it.
    """

    source: Literal["random", "paper", "list", "bank"] = "random"
    seed: int = 0
    n: int = 0
    ids: tuple[str, ...] = ()
    domain: str | None = "datacenter"
    min_models: int = 2
    max_models: int = 3


@dataclass(frozen=True)
class Scenarios:
    train: SuiteConfig = field(default_factory=SuiteConfig)
    eval: SuiteConfig = field(default_factory=lambda: SuiteConfig(seed=VALIDATION_SEED_BASE, n=6))


@dataclass(frozen=True)
class PolicyConfig:
    """Network: ``extractor`` ``mlp`` (SB3's flatten + MLP), ``chiplet_attention``
    (:class:`agents.extractors.ChipletSetExtractor`) or ``nop_set`` (:mod:`agents.set_policy`: the
    size- and layout-agnostic network with a per-candidate pointer head, for Window-v0 with
    ``obs_mode: sets``); ``net_arch`` the pi/vf hidden layers after it (``nop_set``: of the shared
    per-candidate scorer and of the critic)."""

    extractor: Literal["mlp", "chiplet_attention", "nop_set"] = "mlp"
    net_arch: tuple[int, ...] = (64, 64)
    activation: Literal["tanh", "relu"] = "tanh"
    extractor_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PPOConfig:
    """MaskablePPO hyperparameters (SB3 names)."""

    n_steps: int = 128
    batch_size: int = 64
    n_epochs: int = 4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    learning_rate: float = 3.0e-4
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    clip_range: float = 0.2
    max_grad_norm: float = 0.5
    normalize_advantage: bool = True


@dataclass(frozen=True)
class EvalConfig:
    """Periodic evaluation on the held-out scenarios (``episodes: 0`` = one per eval scenario).

    ``reference``: the policy whose EDP the eval curve divides by (``eval/edp_vs_ref.csv``); SCAR
    by default, a cheaper one (``standalone``) in smoke tests."""

    freq: int = 2000
    episodes: int = 0
    deterministic: bool = True
    reference: str = "scar"


@dataclass(frozen=True)
class CheckpointConfig:
    freq: int = 5000


#: Keys that say how long and how a run is carried out, not which run it is: a resumed run may change
#: them, and they are left out of the run directory's config hash (agents.rundir.config_hash).
RUNTIME_KEYS = ("n_timesteps", "progress_bar", "torch_threads")


@dataclass(frozen=True)
class TrainConfig:
    name: str = ""
    env_id: str = "scar_gym:ScarGym/Window-v0"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    mcm: str = "het-sides-3x3"
    #: Several MCMs (a size-agnostic agent): training and validation run every scenario on each in
    #: turn (:class:`agents.envs.MultiMCMEnv`); ``mcm`` is then unused.
    mcms: tuple[str, ...] = ()
    #: The validation MCMs when they differ from ``mcms`` (e.g. plus a size never trained on).
    eval_mcms: tuple[str, ...] = ()
    scenarios: Scenarios = field(default_factory=Scenarios)
    n_envs: int = 1
    vec_env: Literal["dummy", "subproc"] = "dummy"
    algo: Literal["ppo_mask"] = "ppo_mask"
    n_timesteps: int = 10_000
    seed: int = 0
    torch_threads: int = 1
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    progress_bar: bool = True
    #: a scenario bank (``scar-gym bank build``): Window-v0 reads SCAR and the candidate pools of the
    #: scenarios in it from disk (same results, no SCAR run per new scenario); see ``scenarios.train.source: bank``.
    bank: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


def _plain(x: Any) -> Any:
    """Tuples -> lists, recursively, so ``yaml.safe_dump`` writes plain YAML."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


# -- validation ----------------------------------------------------------------------------------
def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {int: "an integer", float: "a number", bool: "true/false", str: "a string", type(None): "null"}.get(
        tp, getattr(tp, "__name__", str(tp)))


def _convert(value: Any, tp: Any, path: str, file: str | None) -> Any:
    def bad(extra: str = "") -> ConfigError:
        hint = f"write {path} as {_type_name(tp)}"
        if isinstance(value, str) and tp is float:
            hint += " (PyYAML reads 3e-4 as a string: write 3.0e-4)"
        return ConfigError(path, f"expected {_type_name(tp)}, got {value!r} ({type(value).__name__}){extra}",
                           hint, file)

    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path, file)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise bad()
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(value, a, path, file)
            except ConfigError:
                pass
        raise bad()
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise bad()
        (item,) = typing.get_args(tp)[:1]
        return tuple(_convert(v, item, f"{path}[{i}]", file) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise bad()
        return dict(value)
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise bad()
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():  # 2.0e4 steps
                return int(value)
            raise bad()
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad()
        if not math.isfinite(value):
            raise ConfigError(path, f"must be a finite number, got {value!r}", f"write {path} as a number", file)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad()
        return value
    raise TypeError(f"unsupported config type {tp!r} at {path}")  # a bug in this module


def _build(cls: type, data: Any, path: str, file: str | None) -> Any:
    where = path or "(top level)"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(where, f"expected a mapping, got {data!r} ({type(data).__name__})",
                          "write key: value pairs", file)
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in hints:
            full = f"{path}.{key}" if path else str(key)
            raise ConfigError(full, "unknown key", f"allowed keys{' of ' + path if path else ''}: {', '.join(names)}",
                              file)
    kwargs = {k: _convert(v, hints[k], f"{path}.{k}" if path else k, file) for k, v in data.items()}
    return cls(**kwargs)


#: Bounds of a training config (past them a run exhausts memory or time before it learns anything).
MAX_N_ENVS = 64
MAX_ROLLOUT = 2**20  # n_steps x n_envs: transitions held in the rollout buffer
MAX_TIMESTEPS = 10**10
MAX_WIDTH = 4096  # units per hidden layer
MAX_SEED = 2**32 - 1


def _check_finite(x: Any, path: str, file: str | None) -> None:
    """Every float inside ``x`` (a mapping or list, recursively) must be finite."""
    if isinstance(x, float) and not math.isfinite(x):
        raise ConfigError(path, f"must be a finite number, got {x!r}", f"write {path} as a number", file)
    if isinstance(x, dict):
        for k, v in x.items():
            _check_finite(v, f"{path}.{k}", file)
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            _check_finite(v, f"{path}[{i}]", file)


def _semantic_checks(cfg: TrainConfig, file: str | None) -> None:
    def need(cond: bool, fld: str, problem: str, fix: str) -> None:
        if not cond:
            raise ConfigError(fld, problem, fix, file)

    def bounded(fld: str, value: int, hi: int, why: str) -> None:
        need(0 < value <= hi, fld, f"must be 1 .. {hi:,} ({why}), got {value:,}", "use a positive integer in range")

    bounded("n_envs", cfg.n_envs, MAX_N_ENVS, "environments run side by side")
    bounded("n_timesteps", cfg.n_timesteps, MAX_TIMESTEPS, "training steps")
    bounded("torch_threads", cfg.torch_threads, 256, "CPU threads")
    need(0 <= cfg.seed <= MAX_SEED, "seed", f"must be 0 .. {MAX_SEED}, got {cfg.seed}", "use e.g. 0")
    p = cfg.ppo
    bounded("ppo.n_steps", p.n_steps, MAX_ROLLOUT, "steps per environment and update")
    bounded("ppo.batch_size", p.batch_size, MAX_ROLLOUT, "samples per gradient step")
    bounded("ppo.n_epochs", p.n_epochs, 1000, "passes over each rollout")
    need(p.n_steps * cfg.n_envs <= MAX_ROLLOUT, "ppo.n_steps",
         f"n_steps x n_envs = {p.n_steps * cfg.n_envs:,} is above the rollout bound of {MAX_ROLLOUT:,}",
         "lower n_steps or n_envs")
    need(0 < p.gamma <= 1, "ppo.gamma", f"must be in (0, 1], got {p.gamma}", "use e.g. 0.99")
    need(0 <= p.gae_lambda <= 1, "ppo.gae_lambda", f"must be in [0, 1], got {p.gae_lambda}", "use e.g. 0.95")
    need(0 < p.learning_rate <= 1, "ppo.learning_rate", f"must be in (0, 1], got {p.learning_rate}", "use e.g. 3.0e-4")
    need(0 <= p.ent_coef <= 10, "ppo.ent_coef", f"must be in [0, 10], got {p.ent_coef}", "use e.g. 0.01")
    need(0 <= p.vf_coef <= 10, "ppo.vf_coef", f"must be in [0, 10], got {p.vf_coef}", "use e.g. 0.5")
    need(0 < p.clip_range <= 10, "ppo.clip_range", f"must be in (0, 10], got {p.clip_range}", "use e.g. 0.2")
    need(0 < p.max_grad_norm <= 1e6, "ppo.max_grad_norm", f"must be in (0, 1e6], got {p.max_grad_norm}",
         "use e.g. 0.5")
    need(p.batch_size <= p.n_steps * cfg.n_envs, "ppo.batch_size",
         f"{p.batch_size} > n_steps x n_envs = {p.n_steps * cfg.n_envs}", "lower batch_size or raise n_steps")
    need(all(h > 0 for h in cfg.policy.net_arch), "policy.net_arch", "layer sizes must be > 0", "e.g. [64, 64]")
    need(len(cfg.policy.net_arch) <= 16 and all(h <= MAX_WIDTH for h in cfg.policy.net_arch), "policy.net_arch",
         f"at most 16 layers of at most {MAX_WIDTH:,} units, got {list(cfg.policy.net_arch)}", "e.g. [64, 64]")
    _check_finite(cfg.env_kwargs, "env_kwargs", file)
    _check_finite(cfg.policy.extractor_kwargs, "policy.extractor_kwargs", file)
    need(cfg.eval.freq > 0, "eval.freq", f"must be > 0, got {cfg.eval.freq}", "use e.g. 2000")
    need(cfg.eval.episodes >= 0, "eval.episodes", "must be >= 0", "0 means one per eval scenario")
    need(cfg.checkpoint.freq > 0, "checkpoint.freq", f"must be > 0, got {cfg.checkpoint.freq}", "use e.g. 5000")
    for split in ("train", "eval"):
        s: SuiteConfig = getattr(cfg.scenarios, split)
        f = f"scenarios.{split}"
        need(s.n >= 0, f"{f}.n", f"must be >= 0, got {s.n}", "0 = endless stream (train only)")
        need(s.seed >= 0, f"{f}.seed", f"must be >= 0, got {s.seed}", "use e.g. 0")
        need(0 < s.min_models <= s.max_models, f"{f}.min_models", "need 0 < min_models <= max_models", "e.g. 2 and 3")
        if s.source == "list":
            need(bool(s.ids), f"{f}.ids", "empty with source: list", "list scenario ids or YAML paths")
    need(cfg.scenarios.eval.source != "bank", "scenarios.eval.source", "a bank holds training scenarios",
         "evaluate on random validation scenarios (source: random, seed >= 10000)")
    need(cfg.scenarios.train.source != "bank" or cfg.bank is not None, "scenarios.train.source",
         "source: bank without a bank", "set bank: DIR (built with scar-gym bank build)")
    ev = cfg.scenarios.eval
    need(not (ev.source == "random" and ev.n == 0), "scenarios.eval.n", "must be > 0 for random eval scenarios",
         "use e.g. 6")
    import gymnasium

    from scar_gym.envs.config import CONFIGS

    spec = gymnasium.registry.get(cfg.env_id.split(":", 1)[-1])
    need(spec is not None and spec.entry_point in CONFIGS, "env_id", f"{cfg.env_id!r} is not a scar-gym environment",
         "use scar_gym:ScarGym/Window-v0 or scar_gym:ScarGym/Schedule-v0 (or another ScarGym/ id)")
    check_env_kwargs(cfg.env_id, cfg.env_kwargs, file=file)
    need(not cfg.eval_mcms or bool(cfg.mcms), "eval_mcms", "given without mcms", "give the training MCMs in mcms")
    if cfg.mcms:
        from scar_gym.presets import load_mcm

        need("mcm" not in cfg.env_kwargs, "env_kwargs.mcm", "given with mcms", "give the MCMs in mcms only")
        need(len(set(cfg.mcms)) == len(cfg.mcms), "mcms", f"duplicates in {list(cfg.mcms)}", "list each MCM once")
        sizes = {}
        for key in ("mcms", "eval_mcms"):
            for i, name in enumerate(getattr(cfg, key)):
                try:
                    sizes[name] = load_mcm(name).num_chiplets
                except ConfigError as e:
                    raise ConfigError(f"{key}[{i}]", e.problem, e.fix, file) from None
        c_max = cfg.env_kwargs.get("max_chiplets")
        need(len(set(sizes.values())) == 1 or (isinstance(c_max, int) and c_max >= max(sizes.values())),
             "env_kwargs.max_chiplets", f"MCMs of {sorted(set(sizes.values()))} chiplets need observations padded "
             f"to the largest", f"set env_kwargs.max_chiplets to at least {max(sizes.values())}")
    need(not (cfg.mcms and cfg.bank), "bank", "a scenario bank holds one MCM's setups, this run trains on mcms",
         "drop bank, or train on one mcm")
    _check_names(cfg, file)


#: Keyword arguments of :class:`agents.extractors.ChipletSetExtractor` a config may set (besides the
#: observation space; a test keeps this in step with its signature, which needs torch to read).
CHIPLET_ATTENTION_KWARGS = ("set_keys", "candidate_key", "incidence_key", "token_dim", "n_layers", "n_heads",
                            "global_dim")


def _check_names(cfg: TrainConfig, file: str | None) -> None:
    """Every name the run will resolve -- MCM, listed scenarios, the evaluation's reference policy,
    the extractor's options -- exists, so a typo is one error naming the key before any directory or
    env is made (not a traceback after the run directory is written, or at the first evaluation)."""
    from scar_gym.policies.registry import policy_names
    from scar_gym.presets import load_mcm
    from scar_gym.scenarios import load_scenario

    def named(fld: str, load, value):
        try:
            return load(value)
        except ConfigError as e:
            raise ConfigError(fld, e.problem, e.fix, file) from None

    if "mcm" in cfg.env_kwargs:
        mcm = named("env_kwargs.mcm", load_mcm, cfg.env_kwargs["mcm"])
    else:
        mcm = named("mcm", load_mcm, cfg.mcm)
    cap = cfg.env_kwargs.get("max_chiplets")
    if isinstance(cap, int) and cap < mcm.num_chiplets:  # the env checks it too, but only once it is built
        raise ConfigError("env_kwargs.max_chiplets", f"{cap} < the MCM's {mcm.num_chiplets} chiplets",
                          f"use at least {mcm.num_chiplets}", file)
    for split in ("train", "eval"):
        s: SuiteConfig = getattr(cfg.scenarios, split)
        if s.source in ("list", "paper"):
            for i, sid in enumerate(s.ids):
                named(f"scenarios.{split}.ids[{i}]", load_scenario, sid)
    for fld, name in (("eval.reference", cfg.eval.reference), ("env_kwargs.reference", cfg.env_kwargs.get("reference"))):
        if name is not None and name not in policy_names():
            raise ConfigError(fld, f"unknown policy {name!r}", f"choose one of: {', '.join(policy_names())}", file)
    kw = cfg.policy.extractor_kwargs
    if kw and cfg.policy.extractor == "mlp":
        raise ConfigError("policy.extractor_kwargs", f"extractor mlp takes no options, got {sorted(kw)}",
                          "remove them, or set policy.extractor: chiplet_attention", file)
    for key in kw:
        if key not in CHIPLET_ATTENTION_KWARGS:
            raise ConfigError(f"policy.extractor_kwargs.{key}", "unknown option of chiplet_attention",
                              f"options: {', '.join(CHIPLET_ATTENTION_KWARGS)}", file)


def check_bank(cfg: TrainConfig, file: str | None = None) -> None:
    """The bank exists, matches the env's MCM, cost model and pool options, and (when training draws
    from it) holds only scenarios of train seeds. Checked when a config is loaded for training
    (:func:`load_config`), not when an agent's recorded config is read: the bank is a cache of the
    training run, which an agent does not need."""
    if cfg.bank is None:
        return
    from scar_gym.envs.bank import BankOptions, ScenarioBank
    from scar_gym.envs.config import WindowConfig
    from scar_gym.rewards import make_reward
    from scar_gym.suites import split_of

    if not cfg.env_id.endswith("ScarGym/Window-v0"):
        raise ConfigError("bank", f"a scenario bank is Window-v0's, not {cfg.env_id}'s",
                          "use env_id scar_gym:ScarGym/Window-v0 or drop bank", file)
    try:
        bank = ScenarioBank.open(cfg.bank)
        kw = {k: v for k, v in cfg.env_kwargs.items() if k not in ("mcm", "bank")}
        wc = WindowConfig.build(kw)
        bank.check_matches(BankOptions.of(cfg.env_kwargs.get("mcm", cfg.mcm), wc.cost_preset,
                                          make_reward(wc.reward).objective, wc.k, wc.per_signature))
    except ConfigError as e:
        raise ConfigError("bank", e.problem, e.fix, file) from None
    if cfg.scenarios.train.source == "bank":
        bad = [r for r in bank.recipes if r.get("source") != "random" or split_of(int(r.get("seed", -1))) != "train"]
        if bad or not bank.recipes:
            raise ConfigError("scenarios.train.source", f"the bank {cfg.bank!r} holds scenarios not drawn from train "
                              f"seeds ({bad[0] if bad else 'no recipe recorded'})",
                              "build the training bank from a train seed (scar-gym bank build --seed 0 ...)", file)


def config_from_dict(data: Any, file: str | None = None, name: str | None = None) -> TrainConfig:
    cfg = _build(TrainConfig, data, "", file)
    if not cfg.name and name:
        cfg = dataclasses.replace(cfg, name=name)
    _semantic_checks(cfg, file)
    return cfg


def resolve_config_path(spec: str | Path) -> Path:
    """A path, or the stem of a file in ``configs/train/`` (``window_het_sides`` -> that YAML)."""
    p = Path(spec)
    if p.exists():
        return p
    for cand in (TRAIN_DIR / f"{spec}.yaml", TRAIN_DIR / str(spec)):
        if cand.exists():
            return cand
    known = sorted(q.stem for q in TRAIN_DIR.glob("*.yaml"))
    raise ConfigError("CONFIG", f"no such file {str(spec)!r}", f"give a path or one of: {', '.join(known)}")


def parse_overrides(items: list[str] | tuple[str, ...] | None) -> dict[str, Any]:
    """``["ppo.learning_rate=1.0e-4", "seed=3"]`` -> ``{"ppo.learning_rate": 1e-4, "seed": 3}``."""
    out: dict[str, Any] = {}
    for item in items or ():
        if "=" not in item:
            raise ConfigError("--set", f"expected KEY=VALUE, got {item!r}", "e.g. --set ppo.learning_rate=1.0e-4")
        key, raw = item.split("=", 1)
        try:
            out[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise ConfigError(f"--set {key}", f"value {raw!r} is not YAML ({e})", "quote strings") from None
    return out


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys in a (deep-copied) raw config mapping; unknown keys are caught by validation."""
    import copy

    data = copy.deepcopy(data) if data else {}
    for key, value in overrides.items():
        parts = key.split(".")
        node = data
        for p in parts[:-1]:
            nxt = node.get(p)
            if nxt is None:
                nxt = node[p] = {}
            if not isinstance(nxt, dict):
                raise ConfigError(key, f"{p} is not a mapping", "override a leaf key")
            node = nxt
        node[parts[-1]] = value
    return data


def load_config(path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> TrainConfig:
    """Load and validate a training config; ``overrides`` are dotted keys (or ``KEY=VALUE`` strings)."""
    p = resolve_config_path(path)
    data = read_yaml(p)
    if data is None:
        raise ConfigError("(top level)", "the file is empty", "write the config's keys (see configs/train/)", str(p))
    if isinstance(overrides, (list, tuple)):
        overrides = parse_overrides(overrides)
    if overrides:
        if data is not None and not isinstance(data, dict):
            raise ConfigError("(top level)", "expected a mapping", "write key: value pairs", str(p))
        data = apply_overrides(data or {}, overrides)
    cfg = config_from_dict(data, str(p), name=p.stem)
    check_bank(cfg, str(p))
    return cfg
