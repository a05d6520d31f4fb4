"""Schedulers: SCAR, the baselines, the search methods; see registry.py for the names."""
