"""Plain aligned text tables for the command line (no dependency beyond the standard library)."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], sep: str = "  ",
                 align: str | None = None) -> str:
    """A text table: a header line, a rule of dashes, then one line per row.

    Numbers are right-aligned, everything else left-aligned; floats are shown with 4 significant
    digits (format them yourself for other precisions) and ``None`` as ``-``. Trailing spaces are
    stripped, and the result has no final newline. ``align`` (one ``l`` or ``r`` per column, e.g.
    ``"llrr"``) overrides the automatic alignment, for numbers pre-formatted as strings.
    """
    width = len(headers)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"row {i} has {len(row)} cells, the table has {width} columns")
    cells = [[_cell(v) for v in row] for row in rows]
    # A column is numeric (right-aligned) when every non-empty value in it is a number.
    numeric = [bool(rows) and all(isinstance(r[j], Number) and not isinstance(r[j], bool)
                                  for r in rows if r[j] is not None) for j in range(width)]
    if align is not None:
        if len(align) != width or set(align) - {"l", "r"}:
            raise ValueError(f"align must be {width} letters l or r, got {align!r}")
        numeric = [a == "r" for a in align]
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return sep.join(parts).rstrip()

    out = [line(list(headers)), sep.join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)
