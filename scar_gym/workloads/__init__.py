"""Workloads: layers, models (DAGs of layers), the model zoo, layer tables and the PyTorch importer."""

from __future__ import annotations

from pathlib import Path

from scar_gym.errors import ConfigError, UnknownNameError
from scar_gym.fileio import is_dir, is_file
from scar_gym.workloads.layers import Layer, add, conv, dwconv, gemm, matmul
from scar_gym.workloads.model import Model, ModelBuilder
from scar_gym.workloads.table import SUFFIXES, load_model_file, save_model_file
from scar_gym.workloads.torch_import import ImportResult, from_torch
from scar_gym.workloads.zoo import MODEL_IDS, MODEL_INFO, get_model

__all__ = [
    "Layer", "Model", "ModelBuilder", "conv", "dwconv", "gemm", "matmul", "add",
    "get_model", "MODEL_IDS", "MODEL_INFO", "from_torch", "ImportResult",
    "load_model_file", "save_model_file", "resolve_model",
]


def resolve_model(spec: str) -> Model:
    """A zoo id (``resnet50``) or the path of a ``.yaml``/``.yml``/``.csv`` layer table."""
    if spec in MODEL_INFO:
        return get_model(spec)
    if Path(spec).suffix.lower() in SUFFIXES:
        return load_model_file(spec)
    if is_file(spec) or is_dir(spec):
        raise ConfigError("model", f"{spec!r} is a file but not a layer table",
                          f"use a {', '.join(SUFFIXES)} file or a model id", spec)
    raise UnknownNameError("model", spec, MODEL_IDS)
