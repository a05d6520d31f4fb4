"""Progress bars for the commands a user waits on (``train``, ``eval``, ``reproduce``, sweeps).

Everything goes to stderr, so a command's stdout (tables, ``wrote FILE`` lines) stays parseable.
A bar is a tqdm bar when ``tqdm`` is installed (the ``rl`` extra brings it); the library core does
not depend on it and then prints a plain line at most every ``min_interval_s`` seconds (and one at
the end) instead. ``enabled=False`` (the commands' ``--quiet``) prints nothing::

    with ProgressBar(total=len(jobs), desc="eval", enabled=not args.quiet) as bar:
        for job in jobs:
            bar.write(f"{job}: done")   # a line above the bar (or alone, without tqdm)
            bar.update()
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any


def _tqdm_class() -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """``total`` steps (``None``: unknown) described by ``desc``; see the module docstring.

    ``use_tqdm``: ``None`` = tqdm if installed, ``False`` = the plain-line fallback (tests), ``True``
    = require tqdm. ``lazy``: draw nothing before the first update, so a command that fails while
    it sets up prints its one-line error alone. Usable as a context manager (closed on exit).
    """

    def __init__(self, total: int | None, desc: str, enabled: bool = True, unit: str = "it",
                 file: IO[str] | None = None, min_interval_s: float = 2.0, use_tqdm: bool | None = None,
                 lazy: bool = False):
        self.total, self.desc, self.unit = total, desc, unit
        self.enabled = enabled
        self.file = file if file is not None else sys.stderr
        self.min_interval_s = min_interval_s
        self.n = 0
        self.postfix = ""
        self._t0 = time.monotonic()
        self._last_line = -float("inf")
        self._closed = False
        self._tqdm = None
        self._tqdm_cls = None
        if enabled and use_tqdm is not False:
            self._tqdm_cls = _tqdm_class()
            if self._tqdm_cls is None and use_tqdm:
                raise ImportError("tqdm is not installed (pip install tqdm, or the rl extra)")
        self._started = False
        if not lazy:
            self._start()

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        if self._tqdm_cls is not None:
            # redrawn 10 times a second on a terminal, once a second into a log file
            tty = getattr(self.file, "isatty", lambda: False)()
            self._tqdm = self._tqdm_cls(total=self.total, desc=self.desc, unit=self.unit, file=self.file,
                                        dynamic_ncols=True, leave=True, mininterval=0.1 if tty else 1.0,
                                        initial=self.n, postfix=self.postfix or None)

    # -- updates ------------------------------------------------------------------------------
    def update(self, n: int = 1) -> None:
        self._start()
        self.n += n
        if self._tqdm is not None:
            self._tqdm.update(n)
        elif self.enabled and time.monotonic() - self._last_line >= self.min_interval_s:
            self._print_line()

    def set_postfix(self, text: str) -> None:
        """A short status after the counts (e.g. the last evaluation's score)."""
        self.postfix = text
        if self._tqdm is not None:
            self._tqdm.set_postfix_str(text)

    def set_description(self, text: str) -> None:
        """What is being waited for now (a stage name)."""
        self.desc = text
        self._start()
        if self._tqdm is not None:
            self._tqdm.set_description_str(text)
        elif self.enabled:
            self._print_line()

    def write(self, line: str, file: IO[str] | None = None) -> None:
        """Print ``line`` (to ``file``, default stderr) without breaking the bar; printed even when
        the bar is disabled: the caller decides whether the line is wanted."""
        out = file if file is not None else self.file
        self._start()
        if self._tqdm is not None:
            self._tqdm.write(line, file=out)
        else:
            print(line, file=out, flush=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._tqdm is not None:
            self._tqdm.close()
        elif self.enabled and self._started:
            self._print_line()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the plain fallback ---------------------------------------------------------------------
    def _print_line(self) -> None:
        self._last_line = time.monotonic()
        count = f"{self.n}/{self.total}" if self.total else str(self.n)
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        tail = f", {self.postfix}" if self.postfix else ""
        print(f"{self.desc}: {count} {self.unit}{pct}, {_clock(self._last_line - self._t0)} elapsed{tail}",
              file=self.file, flush=True)
