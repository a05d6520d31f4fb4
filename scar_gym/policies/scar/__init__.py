"""SCAR (Odema et al., MICRO 2024) as a policy; one module per engine:

* :mod:`.prov` -- PROV, chiplets per model and window;
* :mod:`.seg` -- SEG, segmentation candidates and heuristic 1 (top-k);
* :mod:`.sched` -- SCHED, DFS paths over the chiplet graph and the candidate encoding;
* :mod:`.search` -- exhaustive (branch and bound) and evolutionary searches;
* :mod:`.policy` -- :class:`ScarPolicy`, which ties them to the time windows.
"""

from scar_gym.policies.scar.policy import ScarPolicy

__all__ = ["ScarPolicy"]
