"""Argument types shared by the sub-commands: seeds, bounded counts, finite positive numbers.

argparse reports a value these reject as ``error: argument --seed: <why>`` (one line, exit 2; see
:class:`scar_gym.cli.Parser`), so a bad number never reaches the library as a traceback.
"""

from __future__ import annotations

import argparse
import math

#: Seeds are 32-bit: numpy takes any integer >= 0, but torch (training) takes 64 bits at most and
#: a seed is recorded in run names; 0 .. 2**32 - 1 is what every part accepts.
MAX_SEED = 2**32 - 1


def _int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def seed(text: str) -> int:
    """A seed: an integer 0 .. :data:`MAX_SEED`."""
    value = _int(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed is an integer 0 .. {MAX_SEED}, got {text}")
    return value


def count(maximum: int, what: str = "", minimum: int = 1):
    """An integer ``minimum .. maximum``; the error says the bound and why (``what``)."""

    def parse(text: str) -> int:
        value = _int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"at most {maximum:,}{' ' + what if what else ''}, got {value:,}")
        return value

    parse.__name__ = "integer"  # argparse's name for the type in its own messages
    return parse


def number(lo: float, hi: float, unit: str = ""):
    """A finite number in ``[lo, hi]``; the error says the range."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (math.isfinite(value) and lo <= value <= hi):
            raise argparse.ArgumentTypeError(f"must be a number in {lo:g} .. {hi:g}{' ' + unit if unit else ''}, "
                                             f"got {text}")
        return value

    parse.__name__ = "number"
    return parse


def add_parallel_arguments(p: argparse.ArgumentParser, what: str, default_jobs: int | None = 1) -> None:
    """``--jobs N`` (local processes; ``None`` = the machine's cores) and ``--address ADDR`` (a Ray
    cluster, default ``RAY_ADDRESS``) for a command that spreads ``what`` (see :mod:`scar_gym.parallel`)."""
    from scar_gym.parallel import MAX_JOBS

    shown = "the machine's cores" if default_jobs is None else str(default_jobs)
    p.add_argument("--jobs", type=count(MAX_JOBS, "processes"), default=default_jobs, metavar="N",
                   help=f"spread the {what} over N local processes (default {shown})")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help=f"run the {what} on the Ray cluster at ADDR (default: $RAY_ADDRESS if set; needs the "
                        "sweep extra, pip install 'scar-gym[sweep]')")
