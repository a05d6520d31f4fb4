"""Layer tables: a model written as one row per layer, in YAML or CSV.

Fields of a layer (see :mod:`scar_gym.workloads.layers` for their meaning):

==========  ========  =========================================================================
field       required  value
==========  ========  =========================================================================
name        yes       unique layer name
op          yes       conv, dwconv, gemm, matmul or add
k, c, y_in  yes       positive integers
x_in, r, s  no        positive integers, default 1
stride      no        positive integer, default 1
pad         no        integer >= 0, default 0
groups      no        positive integer, default 1
inputs      no        producer layers, all earlier in the file. Omitted: the previous layer (the
                      first layer reads the model input). Empty list (YAML ``[]``) or ``-``: the
                      model input. CSV separates names with ``;``.
==========  ========  =========================================================================

YAML::

    name: tiny
    description: two convs
    layers:
      - {name: c1, op: conv, k: 8, c: 3, y_in: 32, x_in: 32, r: 3, s: 3, pad: 1}
      - {name: c2, op: conv, k: 8, c: 8, y_in: 32, x_in: 32, r: 3, s: 3, pad: 1}

CSV: a header row naming the columns (any order; optional columns may be absent, an empty cell
is the default), optionally preceded by ``# name: ...`` and ``# description: "..."`` lines (the
description as a JSON string, so it may hold any character). Rows are in topological order; the
file order is the model's layer order. :func:`save_model_file` then :func:`load_model_file`
gives back an identical model (name, description, layers, edges).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml

from scar_gym.errors import ConfigError
from scar_gym.fileio import read_text
from scar_gym.workloads.layers import OP_TYPES, Layer
from scar_gym.workloads.model import MAX_LAYERS, Model, ModelBuilder

REQUIRED = ("name", "op", "k", "c", "y_in")
DEFAULTS = {"x_in": 1, "r": 1, "s": 1, "stride": 1, "pad": 0, "groups": 1}
COLUMNS = REQUIRED + tuple(DEFAULTS) + ("inputs",)
SUFFIXES = (".yaml", ".yml", ".csv")

# libyaml's C loader and dumper when present (several times faster on big tables), else pure Python.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_WIDTH = 1_000_000  # never wrap a line (libyaml needs a finite width)

_PREVIOUS = object()  # sentinel: inputs omitted, i.e. the previous layer in the file


def load_model_file(path: str | Path) -> Model:
    """Read a layer table (``.yaml``/``.yml``/``.csv``); every error names the file, row and field."""
    path = Path(path)
    file = str(path)
    suffix = _suffix(path)
    text = read_text(path)
    if suffix == ".csv":
        name, description, records = _read_csv(text, file)
    else:
        name, description, records = _read_yaml(text, file)
    return _build(name or path.stem, description, records, file)


def save_model_file(model: Model, path: str | Path) -> Path:
    """Write ``model`` as a layer table; the format follows the suffix. Returns the path."""
    path = Path(path)
    suffix = _suffix(path)
    rows = _rows(model)
    text = _write_csv(model, rows) if suffix == ".csv" else _write_yaml(model, rows)
    path.write_text(text, encoding="utf-8")
    return path


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError("path", f"unknown layer-table extension {path.suffix!r}",
                          f"use one of {', '.join(SUFFIXES)}", str(path))
    return suffix


# -- writing ------------------------------------------------------------------------------------

def _rows(model: Model) -> list[dict[str, Any]]:
    """One dict per layer in model order; ``inputs`` only when it is not just the previous layer."""
    rows, prev = [], None
    for layer in model.layers:
        row = layer.to_dict()
        preds = sorted(model.graph.predecessors(layer.name), key=model.position.__getitem__)
        implied = [prev] if prev is not None else []
        if preds != implied:
            row["inputs"] = preds
        rows.append(row)
        prev = layer.name
    return rows


def _write_yaml(model: Model, rows: list[dict[str, Any]]) -> str:
    head = yaml.dump({"name": model.name, "description": model.description}, Dumper=_DUMPER, sort_keys=False,
                     allow_unicode=True, width=_WIDTH)
    # One flow mapping per layer keeps a table readable: one line per layer.
    lines = [f"  - {yaml.dump(row, Dumper=_DUMPER, default_flow_style=True, sort_keys=False, width=_WIDTH).strip()}"
             for row in rows]
    return head + "layers:\n" + "\n".join(lines) + "\n"


def _write_csv(model: Model, rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    out.write(f"# name: {model.name}\n# description: {json.dumps(model.description)}\n")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        cells = {**DEFAULTS, **row}
        if "inputs" in row:
            cells["inputs"] = ";".join(row["inputs"]) or "-"
        writer.writerow(cells)
    return out.getvalue()


# -- reading ------------------------------------------------------------------------------------

def _read_yaml(text: str, file: str) -> tuple[str | None, str, list[tuple[str, dict[str, Any]]]]:
    try:
        doc = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError("yaml", f"malformed YAML{at}: {getattr(e, 'problem', None) or e}",
                          "fix the YAML syntax", file) from e
    if not isinstance(doc, dict):
        raise ConfigError("yaml", f"top level is a {type(doc).__name__}, not a mapping",
                          "write {name: ..., description: ..., layers: [...]}", file)
    unknown = set(doc) - {"name", "description", "layers"}
    if unknown:
        raise ConfigError(str(sorted(unknown)[0]), "unknown top-level key", "use name, description, layers", file)
    layers = doc.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ConfigError("layers", "missing or not a non-empty list", "list the layers under 'layers:'", file)
    records = []
    for i, item in enumerate(layers, 1):
        where = f"layers[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(where, f"is a {type(item).__name__}, not a mapping", "write each layer as a mapping",
                              file)
        if "name" in item:
            where += f" ({item['name']})"
        records.append((where, item))
    name = doc.get("name")
    return (None if name is None else str(name)), str(doc.get("description") or ""), records


def _read_csv(text: str, file: str) -> tuple[str | None, str, list[tuple[str, dict[str, Any]]]]:
    lines = text.splitlines()
    meta: dict[str, str] = {}
    start = 0
    while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
        key, sep, value = lines[start].lstrip("#").partition(":")
        if sep:
            meta[key.strip()] = value.strip()
        start += 1
    description = meta.get("description", "")
    if description.startswith('"'):
        try:
            description = json.loads(description)
        except json.JSONDecodeError as e:
            raise ConfigError("description", f"not a valid JSON string: {e}", "quote it like \"text\"", file) from e
    reader = csv.reader(lines[start:])
    header = [h.strip() for h in next(reader, [])]
    if not header:
        raise ConfigError("header", "no header row", f"start the table with: {','.join(COLUMNS)}", file)
    for col in header:
        if col not in COLUMNS:
            raise ConfigError(f"column {col!r}", "unknown column", f"use {', '.join(COLUMNS)}", file)
    for col in REQUIRED:
        if col not in header:
            raise ConfigError(col, "missing column in the header", f"add a {col} column", file)
    records = []
    for offset, cells in enumerate(reader):
        if not any(c.strip() for c in cells):
            continue
        line = start + 2 + offset  # 1-based line number in the file (header is line start + 1)
        if len(cells) > len(header):
            raise ConfigError(f"row {line}", f"{len(cells)} cells for {len(header)} columns",
                              "remove the extra cells or quote values with commas", file)
        # Empty cells count as absent, so optional columns take their defaults.
        item = {col: cell.strip() for col, cell in zip(header, cells) if cell.strip()}
        records.append((f"row {line}" + (f" ({item['name']})" if "name" in item else ""), item))
    if not records:
        raise ConfigError("rows", "the table has no layer rows", "add one row per layer", file)
    return meta.get("name") or None, description, records


def _int_field(value: Any, field: str, file: str) -> int:
    """An integer from YAML (an int) or CSV (decimal text)."""
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ConfigError(field, f"expected an integer, got {value!r}", "write a whole number", file)


def _inputs_field(value: Any, field: str, file: str) -> list[str] | object:
    if value is _PREVIOUS:
        return _PREVIOUS
    if value is None or value == "-":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(field, f"expected a list of layer names, got {value!r}",
                      "write inputs: [a, b] (YAML) or a;b (CSV), - for the model input", file)


def _parse_layer(where: str, item: dict[str, Any], file: str) -> tuple[Layer, list[str] | object]:
    for key in item:
        if key not in COLUMNS:
            raise ConfigError(f"{where}.{key}", "unknown field", f"use {', '.join(COLUMNS)}", file)
    for key in REQUIRED:
        if key not in item:
            raise ConfigError(f"{where}.{key}", "missing field", f"give every layer {', '.join(REQUIRED)}", file)
    if item["name"] in (None, ""):
        raise ConfigError(f"{where}.name", "missing field", "give every layer a name", file)
    name, op = str(item["name"]), item["op"]
    if op not in OP_TYPES:
        raise ConfigError(f"{where}.op", f"unknown op {op!r}", f"use one of {', '.join(OP_TYPES)}", file)
    dims = {key: _int_field(item.get(key, default), f"{where}.{key}", file)
            for key, default in (("k", None), ("c", None), ("y_in", None), *DEFAULTS.items())}
    try:
        layer = Layer(name, op, **dims)
    except ConfigError as e:  # shape rules of Layer; add the file and row
        raise ConfigError(f"{where}: {e.field}", e.problem, e.fix, file) from e
    return layer, _inputs_field(item.get("inputs", _PREVIOUS), f"{where}.inputs", file)


def _build(name: str, description: str, records: list[tuple[str, dict[str, Any]]], file: str) -> Model:
    if len(records) > MAX_LAYERS:
        raise ConfigError("layers", f"{len(records):,} layers, above the bound of {MAX_LAYERS:,} per model",
                          "merge layers (the zoo's largest model has 288)", file)
    all_names = {str(item.get("name")) for _, item in records}
    builder = ModelBuilder(name, description)
    prev: str | None = None
    for where, item in records:
        layer, inputs = _parse_layer(where, item, file)
        if layer.name in builder.graph:
            raise ConfigError(f"{where}.name", f"duplicate layer name {layer.name!r}", "give each layer a unique name",
                              file)
        if inputs is _PREVIOUS:
            inputs = [prev] if prev is not None else []
        for src in inputs:
            if src not in builder.graph:
                problem = (f"input {src!r} is defined later in the file" if src in all_names
                           else f"unknown input {src!r}")
                raise ConfigError(f"{where}.inputs", problem, "inputs must name layers listed before this one", file)
        builder.add(layer, *inputs)
        prev = layer.name
    try:
        return builder.build()
    except ConfigError as e:
        raise ConfigError(e.field, e.problem, e.fix, file) from e
