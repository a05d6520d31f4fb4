"""scar-gym: scheduling multi-model AI workloads on heterogeneous multi-chiplet accelerators."""

__version__ = "0.1.0"

from scar_gym.registration import register_envs as _register_envs  # noqa: E402

_register_envs()
