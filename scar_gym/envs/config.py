"""The environments' options as validated dataclasses.

``ScheduleEnv(scenario, mcm, **options)`` and ``WindowEnv(scenario, mcm, **options)`` (and
``gym.make(id, **options)``) turn their keyword options into a :class:`ScheduleConfig` /
:class:`WindowConfig`. An unknown option is one :class:`~scar_gym.errors.ConfigError` naming it and
the options the env takes (a typo in a training config's ``env_kwargs`` reads
``env_kwargs.reward_mode: unknown option of ScarGym/Window-v0 ...``), and every value is checked
before any scenario is loaded. ``scenario``, ``mcm`` and ``cost_model`` stay constructor arguments:
they are objects (or names of objects) the env resolves, not options.

The fields are documented in the env docstrings (``## Arguments``).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from scar_gym.errors import ConfigError
from scar_gym.hardware import MAX_CHIPLETS
from scar_gym.policies.windows import MAX_SPLITS
from scar_gym.rewards import make_reward

#: ``penalize``: no state change, ``invalid_penalty``; ``raise``: InvalidActionError; ``nearest``: the
#: valid action nearest the given index is applied instead (for mask-unaware learners).
INVALID_ACTION_MODES = ("penalize", "raise", "nearest")
RENDER_MODES = ("ansi", "rgb_array")
#: Window-v0's named window modes (besides explicit windows).
WINDOW_MODES = ("scar", "reconfig")
#: Window-v0's observation modes: ``slots`` (v0's) and ``sets`` (adds the NoP adjacency and the
#: candidates' chiplet-class mix for size- and layout-agnostic networks; see the env docstring).
OBS_MODES = ("slots", "sets")

C = TypeVar("C", bound="EnvConfig")


def _int(value: Any, field: str, lo: int, fix: str, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < lo:
        more = " or None" if none_ok else ""
        raise ConfigError(field, f"expected an integer >= {lo}{more}, got {value!r}", fix)


class UnknownOptionError(ConfigError, TypeError):
    """A keyword the env does not take. Also a :class:`TypeError` whose message holds Python's own
    ``unexpected keyword argument 'x'``: wrappers that probe an env's keywords rely on that
    (torchrl's ``GymEnv`` passes ``frameskip`` and retries without it on exactly this error).
    ``gymnasium.make`` re-raises a TypeError as ``type(e)(message)`` (adding where it came from),
    hence the one-argument form, which reads the field back from the message's start."""

    def __init__(self, field: str, problem: str | None = None, fix: str = "", file: str | None = None):
        if problem is None:  # gymnasium.make's re-raise: "<field>: <problem>; <fix> was raised from ..."
            message = field
            self.field, _, self.problem = message.partition(": ")
            self.fix, self.file = "", None
            Exception.__init__(self, message)
            return
        super().__init__(field, problem, fix, file)


@dataclass(frozen=True)
class EnvConfig:
    """Options both environments take (defaults: Schedule-v0's)."""

    reward: str = "edp_log_ratio_shaped"
    reference: str | None = "standalone"
    n_splits: int = 4
    windows: Any = None
    max_chiplets: int | None = None
    flatten: bool = False
    invalid_action: str = "penalize"
    invalid_penalty: float = -1.0
    max_invalid: int | None = 100
    generator_kwargs: dict | None = None
    render_mode: str | None = None
    cache_size: int = 64
    memo_size: int = 20_000
    cost_preset: str | None = None

    #: The env id named in errors.
    env_id = "ScarGym env"

    def __post_init__(self) -> None:
        if self.invalid_action not in INVALID_ACTION_MODES:
            raise ConfigError("invalid_action", f"unknown mode {self.invalid_action!r}",
                              f"use one of {', '.join(INVALID_ACTION_MODES)}")
        if self.render_mode is not None and self.render_mode not in RENDER_MODES:
            raise ConfigError("render_mode", f"unknown mode {self.render_mode!r}", "use 'ansi', 'rgb_array' or None")
        _int(self.max_invalid, "max_invalid", 1, "use e.g. 100", none_ok=True)
        _int(self.max_chiplets, "max_chiplets", 1, "use the largest MCM's chiplet count", none_ok=True)
        if self.max_chiplets is not None and self.max_chiplets > MAX_CHIPLETS:
            raise ConfigError("max_chiplets", f"{self.max_chiplets} is above the bound of {MAX_CHIPLETS} chiplets",
                              "use the largest MCM's chiplet count")
        _int(self.n_splits, "n_splits", 0, f"use 0 .. {MAX_SPLITS}, e.g. 4")
        if self.n_splits > MAX_SPLITS:
            raise ConfigError("n_splits", f"{self.n_splits} is above the bound of {MAX_SPLITS}", "use e.g. 4")
        _int(self.cache_size, "cache_size", 1, "use e.g. 64")
        _int(self.memo_size, "memo_size", 0, "use e.g. 20000 (0 disables the memo)")
        if not isinstance(self.flatten, bool):
            raise ConfigError("flatten", f"expected true or false, got {self.flatten!r}", "write flatten: true")
        if (not isinstance(self.invalid_penalty, (int, float)) or isinstance(self.invalid_penalty, bool)
                or not math.isfinite(self.invalid_penalty)):
            raise ConfigError("invalid_penalty", f"expected a finite number, got {self.invalid_penalty!r}",
                              "use e.g. -1.0")
        if self.cost_preset is not None:
            from scar_gym.costmodel.presets import get_cost_preset

            get_cost_preset(self.cost_preset)  # an unknown name is one error naming the known ones
        if make_reward(self.reward).needs_reference and self.reference is None:
            raise ConfigError("reference", f"reward {self.reward!r} needs a reference policy", "give e.g. 'standalone'")

    @classmethod
    def options(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def build(cls: type[C], options: Mapping[str, Any], base: C | None = None, where: str = "",
              file: str | None = None) -> C:
        """``base`` (default: all defaults) with ``options`` applied; an unknown option is a
        :class:`ConfigError` naming it (prefixed by ``where``, e.g. ``env_kwargs.``), a close
        match and every option of the env."""
        known = cls.options()
        for key in map(str, options):
            if key not in known:
                # a known option the key extends or abbreviates (reward_mode -> reward) first, then spelling
                near = [k for k in known if key.startswith(f"{k}_") or (len(key) > 2 and k.startswith(key))] or \
                    difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean {near[0]!r}? " if near else ""
                raise UnknownOptionError(f"{where}{key}", f"unknown option of {cls.env_id}",
                                         f"{hint}options: {', '.join(known)} "
                                         f"(TypeError: unexpected keyword argument {key!r})", file)
        if base is not None and not isinstance(base, cls):
            raise ConfigError(f"{where}config", f"expected a {cls.__name__}, got {type(base).__name__}",
                              f"build it with {cls.__name__}(...)", file)
        try:
            return dataclasses.replace(base, **options) if base is not None else cls(**options)
        except ConfigError as e:
            if where or file:
                raise ConfigError(f"{where}{e.field}", e.problem, e.fix, file or e.file) from None
            raise


@dataclass(frozen=True)
class ScheduleConfig(EnvConfig):
    """``ScarGym/Schedule-v0``'s options."""

    require_paths: bool = False

    env_id = "ScarGym/Schedule-v0"


@dataclass(frozen=True)
class WindowConfig(EnvConfig):
    """``ScarGym/Window-v0``'s options (other defaults: SCAR is the reference and gives the windows)."""

    reference: str | None = "scar"
    windows: Any = "scar"
    memo_size: int = 200_000
    k_max: int = 16
    anchor: bool = True
    k: int = 3
    per_signature: int = 2
    relocate: int = 0
    bank: str | None = None
    pool_segment_cap: int | None = None
    pool_paths_per_root: int | None = None
    pool_seg_limit: int | None = None
    pool_max_probes: int | None = None
    pool_seg_radius: int | None = None
    obs_mode: str = "slots"

    env_id = "ScarGym/Window-v0"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.k_max, int) or self.k_max < 1:
            raise ConfigError("k_max", f"expected an integer >= 1, got {self.k_max!r}", "use e.g. 16")
        if self.anchor and self.windows != "scar":
            raise ConfigError("anchor", "SCAR's choice exists only on SCAR's windows",
                              "use windows='scar' or anchor=False")
        _int(self.relocate, "relocate", 0, "use 0 (off) or e.g. 24")
        if self.bank is not None and (not isinstance(self.bank, str) or not self.bank):
            raise ConfigError("bank", f"expected the path of a scenario bank, got {self.bank!r}",
                              "write bank: DIR (built with scar-gym bank build) or leave it out")
        _int(self.pool_segment_cap, "pool_segment_cap", 1, "use None (no cap) or e.g. 12", none_ok=True)
        _int(self.pool_paths_per_root, "pool_paths_per_root", 1, "use None (the default) or e.g. 2", none_ok=True)
        _int(self.pool_seg_limit, "pool_seg_limit", 1, "use None (SCAR's 2000) or e.g. 200", none_ok=True)
        _int(self.pool_max_probes, "pool_max_probes", 1, "use None (SCAR's 24) or e.g. 8", none_ok=True)
        _int(self.pool_seg_radius, "pool_seg_radius", 0, "use None (SCAR's 2) or e.g. 1", none_ok=True)
        if self.obs_mode not in OBS_MODES:
            raise ConfigError("obs_mode", f"unknown mode {self.obs_mode!r}", f"use one of {', '.join(OBS_MODES)}")
        pool_options = ("pool_segment_cap", "pool_paths_per_root", "pool_seg_limit", "pool_max_probes",
                        "pool_seg_radius")
        if self.bank is not None and any(getattr(self, o) is not None for o in pool_options):
            raise ConfigError("bank", f"a bank stores pools built without {' / '.join(pool_options)}",
                              "drop bank, or leave the pool options at None")
        if isinstance(self.windows, str) and self.windows not in WINDOW_MODES:
            raise ConfigError("windows", f"unknown mode {self.windows!r}", f"use {', '.join(WINDOW_MODES)} or a list")


#: Entry point (as registered) -> its config class, for checking ``env_kwargs`` before ``gym.make``.
CONFIGS: dict[str, type[EnvConfig]] = {
    "scar_gym.envs.schedule_env:ScheduleEnv": ScheduleConfig,
    "scar_gym.envs.window_env:WindowEnv": WindowConfig,
}
#: What an env takes besides its options.
ENV_ARGUMENTS = ("scenario", "mcm", "cost_model", "config")


def check_env_kwargs(env_id: str, kwargs: Mapping[str, Any], where: str = "env_kwargs.",
                     file: str | None = None) -> None:
    """Raise a :class:`ConfigError` naming the key if ``kwargs`` would not build ``env_id``
    (``"scar_gym:ScarGym/Window-v0"`` or ``"ScarGym/Window-v0"``); ids of other packages pass."""
    import gymnasium

    import scar_gym  # noqa: F401  (registers the ids)

    spec = gymnasium.registry.get(env_id.split(":", 1)[-1])
    cls = CONFIGS.get(spec.entry_point) if spec is not None and isinstance(spec.entry_point, str) else None
    if cls is None:
        return
    cls.build({k: v for k, v in {**spec.kwargs, **kwargs}.items() if k not in ENV_ARGUMENTS}, where=where, file=file)
