"""Budgeted search policies (``random-search``, ``sa``, ``ga``) and the exact ``exhaustive`` optimum.

* :mod:`.genome` -- the shared encoding (per window, per model: cuts and chiplets), sampling,
  neighbourhood moves, crossover and repair.
* :mod:`.scoring` -- budgeted scoring with the shared evaluator; the budget unit.
* :mod:`.common` -- the base policy: parameters, windows, warm start from SCAR, provenance.
* :mod:`.random_search`, :mod:`.annealing`, :mod:`.genetic` -- the three searches.
* :mod:`.exhaustive` -- enumeration of every valid schedule with fixed windows (Pareto fronts and
  branch and bound).
"""
