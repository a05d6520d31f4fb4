"""Reading YAML configs and writing CSV results, with the project's error conventions."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from scar_gym.errors import ConfigError


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a missing, unreadable or malformed file is a :class:`ConfigError` naming it."""
    import yaml

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError("path", f"no such file {str(path)!r}", "check the path") from None
    except (OSError, UnicodeDecodeError) as e:  # a directory, no permission, a binary file, ...
        raise ConfigError("path", f"cannot read {str(path)!r}: {e}", "give a readable YAML text file") from None
    except yaml.YAMLError as e:
        raise ConfigError("(yaml)", f"malformed YAML: {e}", "fix the syntax", str(path)) from None


def write_csv(path: str | Path, rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str] | None = None) -> None:
    """Write dict rows as CSV (columns: ``fieldnames``, else the first row's keys); creates the folder."""
    rows = list(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fieldnames if fieldnames is not None else rows[0]))
        w.writeheader()
        w.writerows(rows)
