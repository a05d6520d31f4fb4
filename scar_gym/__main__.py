"""``python -m scar_gym``: the same as the ``scar-gym`` command."""

from scar_gym.cli import main

raise SystemExit(main())
