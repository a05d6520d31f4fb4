"""The MAESTRO templates (scar_gym/costmodel/maestro.py) against hand computations.

A 32-PE chiplet: NVD in 4 clusters of 8 input channels (``cluster_size=8``), Shi as a 4 x 8 array
(its default 8 columns); one cycle of NoC hop latency; bandwidths unconstrained unless a test sets
them; MAESTRO's energy units (MAC 1, L1 1.68, L2 18.61) at 0.2 pJ per unit. ``noc(t)`` is
``1 + ceil(t / B) - 1`` cycles, one send (``1``) when ``B`` is unconstrained.

Layers:

* GEMM ``g``: 6 tokens, 20 -> 10 features: K=10, C=20, Yo=6, Xo=1, MACs = 1200.
* depthwise ``d``: 40 channels, 6x6 input, 3x3, pad 1: Y=X=8 padded, Yo=Xo=6, MACs = 40*9*36 = 12960.
"""

from __future__ import annotations

import pytest

from scar_gym.costmodel.dataflow import LayerArrays
from scar_gym.costmodel.energy import ENERGY_PRESETS
from scar_gym.costmodel.maestro import MaestroHardware, maestro_layer_costs
from scar_gym.costmodel.presets import CostPreset, get_cost_preset
from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError, UnknownNameError
from scar_gym.hardware import ChipletSpec
from scar_gym.workloads.layers import add, dwconv, gemm, matmul
from scar_gym.workloads.model import chain

E = ENERGY_PRESETS["maestro"]
GEMM = gemm("g", 6, 20, 10)
DW = dwconv("d", 40, 6, 6, 3)


def hw(dataflow: str, **kw) -> MaestroHardware:
    return MaestroHardware(dataflow, 32, 8, **kw)


def cost(layer, dataflow: str, n: int = 1, **kw) -> dict[str, float]:
    c = maestro_layer_costs(LayerArrays.from_layers([layer]), hw(dataflow, **kw), [n], E)
    return {f: float(getattr(c, f)[0, 0]) for f in
            ("latency_cycles", "compute_cycles", "l1_accesses", "l2_accesses", "energy_pj", "utilization")}


def energy_pj(macs, l1, l2) -> float:
    return 0.2 * (macs + 1.68 * l1 + 18.61 * l2)


def test_shapes_used_below():
    assert (GEMM.k, GEMM.c, GEMM.y_out, GEMM.x_out, GEMM.macs) == (10, 20, 6, 1, 1200)
    assert (DW.groups, DW.y_in + 2 * DW.pad, DW.y_out, DW.macs) == (40, 8, 6, 12960)


def test_gemm_nvd():
    # ka = min(10, 4) = 4 of kt = 3 K tiles; ca = 8 of ct = 3 C tiles: 9 tile pairs, each over Yo = 6
    # pixels (one tile start, 5 row starts, no column steps since Xo = 1).
    # sub = R S + noc(2 ca R S = 16) = 1 + 1 = 2; every iteration max(2, noc(40 or 8) = 1, noc(4) = 1) = 2,
    # but the all-init one, which cannot overlap its ingress: 2 + noc(8 + 32) = 3 -> 53 x 2 + 3 = 109 cycles.
    got = cost(GEMM, "nvd")
    assert got["latency_cycles"] == 109
    assert got["compute_cycles"] == 54 and got["utilization"] == pytest.approx(1200 / (32 * 54))
    # in 9 x 6 x 8 = 432, weights K ct ca = 240 (the last C tile charged whole), partial sums K ct Yo = 180;
    # L1 = 4 MACs + 432 + 240 = 5472; L2 = 432 + 240 + 180 + tensors (120 in + 200 w + 60 out) = 1232.
    assert got["l1_accesses"] == 5472 and got["l2_accesses"] == 1232
    assert got["energy_pj"] == pytest.approx(energy_pj(1200, 5472, 1232)) == pytest.approx(6664.096)


def test_gemm_shi():
    # 4 x 8 array: ya = 4 of Yo = 6 output rows (yt = 2 row tiles), xa = 1 of 8 columns (xt = 1): a
    # token-GEMM uses one column. Per (k, c) pair (200 of them) 2 iterations:
    # sub = R S + noc(xa R S + R S = 2) = 2; max(2, noc(4 rows x 1 col + 1 weight) = 1, noc(4 psums) = 1) = 2
    # -> 399 x 2 + the all-init 2 + noc(5) = 801 cycles.
    got = cost(GEMM, "shi")
    assert got["latency_cycles"] == 801
    assert got["compute_cycles"] == 400 and got["utilization"] == pytest.approx(1200 / (32 * 400))
    # in 400 x 4 = 1600 (inputs re-read for every k), weights 400, partial sums written per (k, c): 1200;
    # L1 = 4800 + 1600 + 400 = 6800; L2 = 1600 + 400 + 1200 + 380 = 3580.
    assert got["l1_accesses"] == 6800 and got["l2_accesses"] == 3580
    assert got["energy_pj"] == pytest.approx(energy_pj(1200, 6800, 3580)) == pytest.approx(15849.56)


def test_depthwise_nvd_is_channel_parallel():
    # One channel per PE: ca = 32 of 40 channels, ct = 2 passes; each pass 1 start + 5 row starts +
    # 30 column steps of R S = 9 cycles (single level: no sub-cluster ingress); NoC never binds:
    # 71 x 9 + the all-init 9 + noc(2 x 32 x 9) = 649 cycles.
    got = cost(DW, "nvd")
    assert got["latency_cycles"] == 649
    assert got["compute_cycles"] == 648 and got["utilization"] == pytest.approx(12960 / (32 * 648))
    # in 2 (6 x 288 + 30 x 96) = 9216 (a column step brings 32 ch x 3 rows), weights 2 x 32 x 9 = 576,
    # outputs 1440 (no partial sums leave a PE); tensors 2560 + 360 + 1440.
    assert got["l1_accesses"] == 4 * 12960 + 9216 + 576 == 61632
    assert got["l2_accesses"] == 9216 + 576 + 1440 + 2560 + 360 + 1440 == 15592
    assert got["energy_pj"] == pytest.approx(81333.776)


def test_depthwise_shi():
    # Per channel: yt = 2 row tiles of ya = 4 rows (12 input rows, none shared between PE rows), one
    # column tile of xa = 6 outputs over cols = 5 + 3 = 8 inputs. sub = 9 + noc(6 x 9 + 9) = 10;
    # 79 iterations x 10 + the all-init 10 + noc(12 x 8 + 9) = 801 cycles.
    got = cost(DW, "shi")
    assert got["latency_cycles"] == 801
    assert got["compute_cycles"] == 720 and got["utilization"] == pytest.approx(12960 / (32 * 720))
    assert got["l1_accesses"] == 51840 + 7680 + 720 == 60240
    assert got["l2_accesses"] == 7680 + 720 + 1440 + 2560 + 360 + 1440 == 14200
    assert got["energy_pj"] == pytest.approx(75685.04)


def test_noc_bound_gemm_nvd():
    # B = 4 elements/cycle: sub = 1 + noc(16) = 1 + 4 = 5; tile starts noc(40) = 10 (8 of them, and the
    # all-init one: 5 + 10 = 15), row starts max(5, noc(8) = 2) = 5 (45 of them): 80 + 15 + 225 = 320 cycles.
    got = cost(GEMM, "nvd", noc_bw=4)
    assert got["latency_cycles"] == 320
    assert got["energy_pj"] == pytest.approx(6664.096)  # bandwidth never changes the accesses


def test_offchip_bound_gemm_nvd():
    # O = 4 elements/cycle: every iteration refills the first iteration's L2 tile, floor((8 + 32) / 4) = 10
    # cycles > sub = 2 (and > the all-init 2 + 1, which the refill hides): 54 x 10 = 540 cycles; 1200 MACs
    # in 540 cycles is about 2 MACs per cycle, bound by the off-chip link, not by the 32 PEs.
    got = cost(GEMM, "nvd", offchip_bw=4)
    assert got["latency_cycles"] == 540
    assert got["energy_pj"] == pytest.approx(6664.096)
    # Shi on the same GEMM refills 5 elements per iteration: floor(5 / 4) = 1 < sub, so it does not slow.
    assert cost(GEMM, "shi", offchip_bw=4)["latency_cycles"] == 801


def test_batch_is_linear_and_groups_run_one_after_another():
    one, three = cost(GEMM, "nvd"), cost(GEMM, "nvd", n=3)
    for f in ("latency_cycles", "compute_cycles", "l1_accesses", "l2_accesses", "energy_pj"):
        assert three[f] == pytest.approx(3 * one[f])
    assert three["utilization"] == one["utilization"]
    heads = matmul("m", 6, 20, 10, heads=4)  # four independent [6 x 20] x [20 x 10] products
    for df in ("nvd", "shi"):
        assert cost(heads, df)["latency_cycles"] == 4 * cost(GEMM, df)["latency_cycles"]
        assert cost(heads, df)["energy_pj"] == pytest.approx(4 * cost(GEMM, df)["energy_pj"])


def test_add_is_a_vector_op():
    # 72 outputs over 32 lanes: 3 steps of 1 cycle + noc(64) = 4 cycles; 2 reads + 1 write at each level.
    a = add("a", 8, 3, 3)
    for df in ("nvd", "shi"):
        got = cost(a, df)
        assert got["latency_cycles"] == 4
        assert got["l1_accesses"] == got["l2_accesses"] == 216
        assert got["energy_pj"] == pytest.approx(energy_pj(72, 216, 216))


def test_hop_latency_is_paid_per_transfer():
    # No hop latency: sub = 1 + noc(16) = 1 + 0 = 1; row starts max(1, noc(8) = 0, noc(4) = 0) = 1.
    assert cost(GEMM, "nvd", hop_cycles=0)["latency_cycles"] == 54


# -- presets and the public API ------------------------------------------------------------------

def test_preset_fills_what_the_chiplet_leaves_unset():
    model = chain("g", [GEMM])
    slow = CostModel(CostPreset("slow-offchip", offchip_bw=4))
    unset = ChipletSpec("nvd", 32, cluster_size=8)
    assert slow.layer_costs(model, unset, (1,)).latency_cycles[0, 0] == 540
    own = ChipletSpec("nvd", 32, cluster_size=8, offchip_bw=1e6)  # the chiplet's value wins
    assert slow.layer_costs(model, own, (1,)).latency_cycles[0, 0] == 109
    assert CostModel("maestro").layer_costs(model, unset, (1,)).latency_cycles[0, 0] == 109


def test_named_presets():
    paper, maestro, legacy = (get_cost_preset(n) for n in ("paper", "maestro", "legacy"))
    assert get_cost_preset(None) is paper and CostModel().preset is paper
    assert (maestro.template, maestro.noc_bw, maestro.offchip_bw) == ("maestro", None, None)
    assert paper.template == "maestro" and paper.offchip_bw is not None and legacy.template == "legacy"
    with pytest.raises(UnknownNameError, match="unknown cost preset 'timeloop'"):
        CostModel("timeloop")
    with pytest.raises(ConfigError, match="cost_preset.offchip_bw"):
        CostPreset("bad", offchip_bw=float("nan"))
    with pytest.raises(ConfigError, match="cost_preset.template"):
        CostPreset("bad", template="zigzag")


def test_presets_never_share_cached_costs():
    model, spec = chain("g", [GEMM]), ChipletSpec("nvd", 32, cluster_size=8)
    a, b = CostModel("maestro"), CostModel(CostPreset("slow-offchip", offchip_bw=4))
    assert a.key != b.key
    assert a.layer_costs(model, spec, (1,)).latency_cycles[0, 0] != b.layer_costs(model, spec, (1,)).latency_cycles[0, 0]


def test_describe_round_trips():
    for cm in (CostModel(), CostModel("legacy", energy="eyeriss"), CostModel(CostPreset("x", offchip_bw=64))):
        back = CostModel.from_record(cm.describe())
        assert back.preset == cm.preset and back.energy == cm.energy and back.key == cm.key
    with pytest.raises(ConfigError, match="cost_model"):
        CostModel.from_record({"energy": {}})
    with pytest.raises(ConfigError, match="cost_model.energy"):
        CostModel.from_record({"preset": "paper", "energy": {"name": "x"}})
