"""Schedulers: SCAR, the baselines, the search methods and the agents; see registry.py for the names."""

from scar_gym.policies.registry import list_policies, make_policy

__all__ = ["list_policies", "make_policy"]
