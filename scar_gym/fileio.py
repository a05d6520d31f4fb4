"""Reading input files and writing results, with the project's error conventions.

Inputs: :func:`read_text` (and :func:`read_yaml`, :func:`read_json` on top of it) turn every way a
file can be unusable -- missing, a directory, unreadable, binary, not UTF-8, malformed -- into one
:class:`~scar_gym.errors.ConfigError` naming the file. Outputs: :func:`check_outputs` is called by
every command before it writes anything: an output that is also one of the command's inputs, two
outputs on one file, or an output that is a directory is refused, and a missing folder is created.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Sequence

from scar_gym.errors import ConfigError


def is_file(path: str | Path) -> bool:
    """``Path(path).is_file()``, False (not an error) for a name too long or with a NUL byte: a
    command-line spec that is not a path (a layout string, a preset name) is tested with it."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def is_dir(path: str | Path) -> bool:
    """``Path(path).is_dir()``, False for a name that cannot be a path (see :func:`is_file`)."""
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):
        return False


def read_text(path: str | Path, field: str = "path") -> str:
    """The text of a UTF-8 file; anything else is a :class:`ConfigError` naming the file and ``field``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(field, f"no such file {str(path)!r}", "check the path") from None
    except IsADirectoryError:
        raise ConfigError(field, f"{str(path)!r} is a directory, not a file", "give the path of a file") from None
    except OSError as e:  # no permission, a device, ...
        raise ConfigError(field, f"cannot read {str(path)!r}: {e.strerror or e}", "give a readable file") from None
    if b"\0" in data:
        raise ConfigError(field, f"{str(path)!r} is a binary file, not text", "give a UTF-8 text file", str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(field, f"{str(path)!r} is not UTF-8 text (byte {e.start})", "save the file as UTF-8",
                          str(path)) from None


def read_yaml(path: str | Path, field: str = "path") -> Any:
    """Parse a YAML file; a missing, unreadable, binary or malformed file is a :class:`ConfigError` naming it."""
    import yaml

    text = read_text(path, field)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError("(yaml)", f"malformed YAML{at}: {problem}", "fix the syntax", str(path)) from None


def read_json(path: str | Path, field: str = "path") -> Any:
    """Parse a JSON file (``NaN`` and ``Infinity`` are parsed; the fields that hold numbers check them)."""
    text = read_text(path, field)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError("(json)", f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}", "fix the file",
                          str(path)) from None
    except RecursionError:
        raise ConfigError("(json)", "nested too deeply", "fix the file", str(path)) from None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _norm(p: Path) -> Path:
    return Path(os.path.abspath(p))


def check_outputs(outputs: Mapping[str, str | Path | None], inputs: Iterable[str | Path | None] = ()) -> None:
    """Refuse, before any work, outputs that would destroy an input or each other; create missing folders.

    Args:
        outputs: option name (``--json``) -> path written, ``None`` when the option is not given.
        inputs: every file the command reads (``None`` entries and non-files are ignored); a
            directory among them protects every file in it (an agent directory, a run directory).

    Raises:
        ConfigError: naming the option when its path is an input, another output, a directory, or
            sits under a path that is a file.
    """
    given = {flag: Path(p) for flag, p in outputs.items() if p is not None and str(p) != ""}
    protected: list[Path] = []
    for p in inputs:
        if p is None:
            continue
        p = Path(p)
        if p.is_dir():
            protected += [q for q in p.iterdir() if q.is_file()]
        elif p.exists():
            protected.append(p)
    seen: dict[Path, str] = {}
    for flag, path in given.items():
        if path.is_dir():
            raise ConfigError(flag, f"{str(path)!r} is a directory", "give a file name for the output")
        for p in protected:
            if _same(path, p) or _norm(path) == _norm(p):
                raise ConfigError(flag, f"{str(path)!r} is also an input of this command; writing it would destroy it",
                                  "choose another output file")
        key = _norm(path).resolve()
        if key in seen:
            raise ConfigError(flag, f"{str(path)!r} is also the {seen[key]} output", "give each output its own file")
        seen[key] = flag
    for flag, path in given.items():
        parent = path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ConfigError(flag, f"cannot create the folder of {str(path)!r}: a file is in the way",
                              "choose another output path") from None
        except OSError as e:
            raise ConfigError(flag, f"cannot create the folder of {str(path)!r}: {e.strerror or e}",
                              "choose a writable location") from None
        if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise ConfigError(flag, f"{str(path)!r} is not writable", "choose a writable location")


def write_text(path: str | Path, text: str, field: str = "path") -> None:
    """Write ``text`` (creating the folder); an OS error is a :class:`ConfigError` naming ``field``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as e:
        raise ConfigError(field, f"cannot write {str(path)!r}: {e.strerror or e}", "choose a writable location") from None


def write_csv(path: str | Path, rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str] | None = None) -> None:
    """Write dict rows as CSV (columns: ``fieldnames``, else the first row's keys); creates the folder."""
    rows = list(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fieldnames if fieldnames is not None else rows[0]))
        w.writeheader()
        w.writerows(rows)
