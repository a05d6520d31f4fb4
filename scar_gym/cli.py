"""The ``scar-gym`` command line (also ``python -m scar_gym``).

Every sub-command lives in its own module under :mod:`scar_gym.commands` (see that package's
docstring for the contract); other packages add sub-commands through the entry-point group
:data:`ENTRY_POINT_GROUP`, whose entries are ``register`` functions (``agents/`` adds ``train``). Errors scar-gym raises on purpose (:class:`~scar_gym.errors.ScarGymError`,
bad configs included) print ``error: <message>`` to stderr and exit with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from importlib import metadata

from scar_gym import __version__
from scar_gym.errors import ScarGymError

#: Command modules, imported one by one when the parser is built.
COMMAND_MODULES: tuple[str, ...] = (
    "scar_gym.commands.listing",
    "scar_gym.commands.eval",
    "scar_gym.commands.evaluate",
    "scar_gym.commands.layer_costs",
    "scar_gym.commands.schedule",
    "scar_gym.commands.reproduce",
    "scar_gym.commands.demo",
    "scar_gym.commands.summarize",
    "scar_gym.commands.bank",
)

#: Entry-point group of sub-commands other packages add: ``name = "package.module:register"``.
ENTRY_POINT_GROUP = "scar_gym.commands"

EXIT_USAGE = 2  # argparse's code for bad arguments; bad configs are the same kind of user error


class Parser(argparse.ArgumentParser):
    """argparse's parser with a one-line usage error, like every other error of the CLI:
    ``error: argument --seed: ...; see 'scar-gym schedule --help'`` (exit status 2). Sub-command
    parsers are of the same class (``add_subparsers`` uses the parent's class)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"error: {message}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser. A command module that cannot be imported because a third-party package is
    missing is left out and named in the help epilog; a missing scar_gym module is a bug and raises."""
    parser = Parser(
        prog="scar-gym",
        description="Schedule multi-model DNN workloads on heterogeneous multi-chiplet accelerators.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    unavailable = []
    registrars: list[tuple[str, Callable[[], Callable]]] = [
        (name.rsplit(".", 1)[-1], lambda name=name: importlib.import_module(name).register) for name in COMMAND_MODULES]
    registrars += [(ep.name, ep.load) for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    for command, load in registrars:
        try:
            register = load()
        except ImportError as e:
            if (e.name or "").split(".")[0] == "scar_gym":
                raise
            unavailable.append(f"{command} (needs {e.name}; try pip install 'scar-gym[rl]')")
            continue
        register(subparsers)
    if unavailable:
        parser.epilog = "unavailable commands: " + "; ".join(unavailable)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 bad arguments or configuration)."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help, --version, or an argparse usage error (already printed)
            return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_USAGE)
        return int(args.func(args) or 0)
    except ScarGymError as e:
        print(f"error: {one_line(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (scar-gym ... | head): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def one_line(text: str, limit: int = 1000) -> str:
    """An error message on one line, at most ``limit`` characters (a pasted spec can be huge)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit // 2] + " ... " + text[-limit // 2:]


if __name__ == "__main__":
    raise SystemExit(main())
