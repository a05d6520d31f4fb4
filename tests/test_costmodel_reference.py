"""The per-layer cost model against MAESTRO's own numbers (tests/data/maestro/, see its README).

Every ``ok`` row of the reference is costed through the public API (``CostModel("maestro")`` on a
``ChipletSpec`` with the row's PEs, NoC and off-chip bandwidths) and compared with what MAESTRO
computed for the same layer, mapping and hardware. The targets are the cost-model issue's: latency
winner (NVD vs Shi, a tie within 5%) agreement >= 90%, Spearman rank correlation of latency >= 0.9
for each dataflow, median |log2| error of the Shi/NVD latency ratio <= 0.5, energy winner
agreement >= 80%. The zoo-wide set (every distinct layer shape of the zoo at three PE counts and
six bandwidth settings) is held to the same targets and to per-layer error bounds.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from scar_gym.costmodel.validation import agreement, model_costs, read_reference

DATA = Path(__file__).parent / "data" / "maestro"
SETS = ("curated_layers.csv", "zoo_layers.csv.gz")


@cache
def measured(name: str):
    rows = read_reference(DATA / name)
    return rows, agreement(rows, model_costs(rows))


@pytest.mark.parametrize("name", SETS)
def test_reference_targets(name):
    rows, a = measured(name)
    assert len(rows) >= (180 if name.startswith("curated") else 10_000)
    report = a.report()
    assert a.latency_winner >= 0.90, report
    assert a.energy_winner >= 0.80, report
    assert a.ratio_log2_error_median <= 0.5, report
    for df in ("KC-P", "YX-P"):
        assert a.spearman[df] >= 0.9, report
        assert a.spearman_min_per_config[df] >= 0.9, report


@pytest.mark.parametrize("name", SETS)
def test_latency_tracks_maestro_layer_by_layer(name):
    # Stronger than the targets: nine in ten layers of every dataflow and layer type within 10% of
    # MAESTRO's runtime (|log2| <= 0.14), and half within 1%.
    _, a = measured(name)
    for kind, e in a.log2_error.items():
        assert e["latency_p90"] <= 0.14 and e["latency_median"] <= 0.015, f"{kind}: {e}\n{a.report()}"


@pytest.mark.parametrize("name", SETS)
def test_energy_tracks_maestro(name):
    # Energy follows MAESTRO's access counts except where MAESTRO's edge cases differ from the closed
    # forms (Shi's small planes, depthwise tiles): the median layer within 12%, nine in ten within 40%.
    _, a = measured(name)
    for kind, e in a.log2_error.items():
        assert e["energy_median"] <= 0.17 and e["energy_p90"] <= 0.5, f"{kind}: {e}\n{a.report()}"


def test_reference_files_are_the_documented_ones():
    # MAESTRO's stride-2 output-stationary mappings miscount MACs; those rows are marked and left out.
    everything = read_reference(DATA / "curated_layers.csv", status=None)
    assert len(everything) == 190
    assert sum(r["status"] == "mac_count_mismatch" for r in everything) == 10
    zoo = read_reference(DATA / "zoo_layers.csv.gz", status=None)
    bad = [r for r in zoo if r["status"] != "ok"]
    assert bad and all(r["dataflow"] == "YX-P" and r["stride"] != "1" for r in bad)
