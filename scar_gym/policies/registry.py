"""Name -> policy class, for ``scar-gym list policies`` and ``--policy NAME``.

Entries are ``"module:Class"`` strings imported on demand, so listing policies does not import
torch and a policy with a missing optional dependency does not break the others.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from scar_gym.errors import ConfigError, UnknownNameError
from scar_gym.policies.base import Policy

#: policy name -> ("module:Class", one-line description). Keep sorted by family.
POLICIES: dict[str, tuple[str, str]] = {}


def register_policy(name: str, target: str, description: str) -> None:
    POLICIES[name] = (target, description)


def list_policies() -> list[tuple[str, str]]:
    """(name, description) of every policy, sorted by name."""
    return sorted((name, desc) for name, (_, desc) in POLICIES.items())


def policy_class(name: str) -> type[Policy]:
    if name not in POLICIES:
        raise UnknownNameError("policy", name, tuple(POLICIES))
    module, cls = POLICIES[name][0].split(":")
    return getattr(importlib.import_module(module), cls)


def make_policy(name: str, **kwargs: Any) -> Policy:
    """Instantiate policy ``name``; keyword arguments the policy does not take are rejected by name.

    A value of ``None`` means "the policy's default" and is dropped, so a CLI can pass every
    option it has without knowing which policy takes which.
    """
    cls = policy_class(name)
    accepted = inspect.signature(cls.__init__).parameters
    given = {k: v for k, v in kwargs.items() if v is not None}
    unknown = sorted(k for k in given if k not in accepted)
    if unknown:
        raise ConfigError(f"--{unknown[0].replace('_', '-')}", f"policy {name!r} does not take this option",
                          f"it takes: {', '.join(p for p in accepted if p != 'self') or 'no options'}")
    return cls(**given)
