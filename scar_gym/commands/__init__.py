"""Sub-commands of the ``scar-gym`` CLI, one module each.

A command module exposes ``register(subparsers)``: it adds its parser(s) with
``subparsers.add_parser(...)`` and sets ``func`` (``func(args) -> int``, the exit code) with
``parser.set_defaults(func=...)``. Modules import heavy or optional dependencies inside ``func``, and
:mod:`scar_gym.cli` imports each module on its own, so a command whose optional dependency is
missing does not break the others. Add a new module to :data:`scar_gym.cli.COMMAND_MODULES`; a
package outside the library registers its ``register`` function under the ``scar_gym.commands``
entry-point group instead (as ``agents/`` does for ``train``).
"""
