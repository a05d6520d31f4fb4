"""scar-gym: scheduling multi-model AI workloads on heterogeneous multi-chiplet accelerators."""

__version__ = "0.1.0"
