"""The ``legacy`` per-layer template against hand computations (formulas: scar_gym/costmodel/dataflow.py).

The default template (MAESTRO's mappings) has its own hand-computed tests in
``tests/test_costmodel_maestro.py``; the legacy one stays reachable as the ``legacy`` preset.

Every expected number below is worked out in the comments from the docstring's formulas, on a
16-PE chiplet in 4 clusters of 4 (Shi/Eye: a 4 x 4 array, rows = 4, cols = 4) with an L2 -> L1
bandwidth of 4 bytes per cycle, so ``latency = max(steps, ceil(L2 / 4))``. INT8: 1 byte per element.

The layers are chosen so that the ceil divisions leave partly idle PEs (edge effects):

* conv  ``c``: C=6 -> K=5, 5x5 input, 3x3 filter, pad 1, stride 1: Y'=X'=5, padded Y=X=7,
  MACs = 5*6*9*25 = 6750 per sample.
* gemm  ``g``: 6 tokens x 10 in -> 9 out: K=9, C=10, Y'=6, X'=1, R=S=1, MACs = 9*10*6 = 540.
* matmul ``m``: 2 heads of [4 x 8] x [8 x 8]: G=2, K=8, C=8, Y'=4, MACs = 2*8*8*4 = 512.
* add   ``a``: 8 channels x 3 x 3: 72 outputs per sample.
* dwconv ``d``: 8 channels, 6x6 input, 3x3, pad 1: G=8, K=C=1, Y'=X'=6, Y=X=8, MACs = 8*9*36 = 2592.
"""

from __future__ import annotations

import numpy as np
import pytest

from scar_gym.costmodel.dataflow import LayerArrays, layer_costs, legacy_cluster, legacy_l2_bandwidth_bytes
from scar_gym.costmodel.energy import ENERGY_PRESETS, EnergyPreset, get_energy_preset
from scar_gym.costmodel.tables import CostModel, divisors
from scar_gym.errors import UnknownNameError
from scar_gym.hardware import MCM, ChipletSpec
from scar_gym.workloads.layers import add, conv, dwconv, gemm, matmul
from scar_gym.workloads.model import chain

MAESTRO = ENERGY_PRESETS["maestro"]
EYERISS = ENERGY_PRESETS["eyeriss"]

CONV = conv("c", 6, 5, 5, 5, 3)
GEMM = gemm("g", 6, 10, 9)
MATMUL = matmul("m", 4, 8, 8, heads=2)
ADD = add("a", 8, 3, 3)
DWCONV = dwconv("d", 8, 6, 6, 3)


def spec(dataflow: str, **kw) -> ChipletSpec:
    kw.setdefault("noc_bw", 4)
    return ChipletSpec(dataflow, 16, cluster_size=4, **kw)


def cost(layer, dataflow, n=1, energy=MAESTRO, **kw) -> dict[str, float]:
    """The costs of one layer for one batch size, as plain floats."""
    c = layer_costs(LayerArrays.from_layers([layer]), spec(dataflow, **kw), [n], energy)
    return {f: float(getattr(c, f)[0, 0]) for f in
            ("latency_cycles", "compute_cycles", "l1_accesses", "l2_accesses", "energy_pj", "utilization")}


def e_pj(macs, l1, l2, preset=MAESTRO) -> float:
    return preset.pj_per_mac * (macs * preset.mac + l1 * preset.l1 + l2 * preset.l2)


def check(got: dict, steps, latency, l1, l2, macs, energy=MAESTRO):
    assert got["compute_cycles"] == steps
    assert got["latency_cycles"] == latency
    assert got["l1_accesses"] == l1
    assert got["l2_accesses"] == l2
    assert got["utilization"] == pytest.approx(macs / (16 * steps))
    assert got["energy_pj"] == pytest.approx(e_pj(macs, l1, l2, energy), rel=1e-12)


def test_layer_shapes_used_below():
    assert (CONV.y_out, CONV.x_out, CONV.macs) == (5, 5, 6750)
    assert (GEMM.y_out, GEMM.x_out, GEMM.macs) == (6, 1, 540)
    assert (MATMUL.macs, MATMUL.weight_elems, MATMUL.has_weights) == (512, 128, False)
    assert (ADD.macs, ADD.output_elems) == (72, 72)
    assert (DWCONV.y_out, DWCONV.macs) == (6, 2592)


# -- conv --------------------------------------------------------------------------------------

def test_conv_nvd():
    # steps = ceil(GK/(P/cs)) ceil(C/cs) R S n Y'X' = ceil(5/4)=2 * ceil(6/4)=2 * 9 * 25 = 900
    # W = KCRS = 270; I = ceil(K/4)=2 * C*Y*X = 2*6*49 = 588; O = KY'X' (2 ceil(C/cs) - 1) = 125*3 = 375
    # L2 = 270 + 588 + 375 = 1233 -> ceil(1233/4) = 309 < 900: compute bound, latency 900
    # L1 = 2 MACs + W*1 + I*min(GK, 4)=4 + O = 13500 + 270 + 2352 + 375 = 16497
    # utilisation = 6750 / (16*900) = 0.46875 (3 of 4 K-clusters' worth in the 2nd K tile, 2 of 4 C lanes)
    got = cost(CONV, "nvd")
    check(got, steps=900, latency=900, l1=16497, l2=1233, macs=6750)
    assert got["utilization"] == 0.46875
    # energy = 0.2 pJ * (6750 + 16497*1.68 + 1233*18.61) = 0.2 * 57411.09 = 11482.218 pJ
    assert got["energy_pj"] == pytest.approx(11482.218)


def test_conv_nvd_batch_reuses_weights():
    # n = 2: steps 1800; W still 270 (weight stationary: read once per batch); I = 1176; O = 750
    # L2 = 2196; L1 = 27000 + 270 + 4704 + 750 = 32724
    check(cost(CONV, "nvd", n=2), steps=1800, latency=1800, l1=32724, l2=2196, macs=13500)


def test_conv_nvd_bandwidth_bound():
    # 1 byte/cycle: ceil(1233 / 1) = 1233 > 900 steps, so latency is the L2 bound.
    got = cost(CONV, "nvd", noc_bw=1)
    assert (got["compute_cycles"], got["latency_cycles"]) == (900, 1233)
    # The ceil: 1233 / 2 = 616.5 -> 617 < 900 is still compute bound, so use 1.35 B/cycle: 913.3 -> 914.
    got = cost(CONV, "nvd", noc_bw=1.35)
    assert got["latency_cycles"] == 914


def test_conv_shi():
    # rows = cols = 4; y_t = ceil(5/4) = 2, x_t = 2 (output tiles of 4x4, 4x1, 1x4, 1x1)
    # steps = n y_t x_t GKCRS = 4 * 270 = 1080
    # W = n y_t x_t KCRS = 1080 (broadcast weights re-read per output tile)
    # input tile with halo: min(7, (min(5,4)-1)*1 + 3) = 6 rows and 6 cols -> 6*6*6 = 216 elements,
    # fits 16 PEs x 512 B, so read once per tile: I = 4 * 216 = 864; O = 125
    # L2 = 1080 + 864 + 125 = 2069 -> ceil(2069/4) = 518 < 1080
    # L1 = 13500 + W * (min(5,4)*min(5,4) = 16 PEs) + I + O = 13500 + 17280 + 864 + 125 = 31769
    got = cost(CONV, "shi")
    check(got, steps=1080, latency=1080, l1=31769, l2=2069, macs=6750)
    assert got["utilization"] == 0.390625


def test_conv_shi_input_tile_not_resident():
    # 16 PEs x 8 B = 128 B < 216: the input tile is re-read for every output channel: I = 864 * K=5 = 4320
    # L2 = 1080 + 4320 + 125 = 5525 -> ceil(5525/4) = 1382 > 1080 steps: bandwidth bound
    # L1 = 13500 + 17280 + 4320 + 125 = 35225
    check(cost(CONV, "shi", l1_bytes_per_pe=8), steps=1080, latency=1382, l1=35225, l2=5525, macs=6750)


def test_conv_eye():
    # y_t = ceil(5/4) = 2; steps = n y_t ceil(R X'/cs) G K C S = 2 * ceil(15/4)=4 * 5*6*3 = 720
    # W = n y_t KCRS = 540; I = C Y X = 294; O = 125 * (2C - 1 = 11) = 1375
    # L2 = 540 + 294 + 1375 = 2209 -> 553 < 720
    # L1 = 13500 + W * min(5,4)=4 + I * R=3 + O = 13500 + 2160 + 882 + 1375 = 17917
    got = cost(CONV, "eye")
    check(got, steps=720, latency=720, l1=17917, l2=2209, macs=6750)
    assert got["utilization"] == 0.5859375


# -- GEMM --------------------------------------------------------------------------------------

def test_gemm_nvd():
    # steps = ceil(9/4)=3 * ceil(10/4)=3 * 6 tokens = 54 -> util 540/864 = 0.625
    # W = 90; I = ceil(9/4)=3 * 10*6 = 180; O = 54 * (2*3 - 1) = 270; L2 = 540
    # ceil(540/4) = 135 > 54: the GEMM is L2-bandwidth bound on NVD
    # L1 = 1080 + 90 + 180*4 + 270 = 2160
    got = cost(GEMM, "nvd")
    check(got, steps=54, latency=135, l1=2160, l2=540, macs=540)
    assert got["utilization"] == 0.625


def test_gemm_shi():
    # y_t = ceil(6/4) = 2, x_t = ceil(1/4) = 1: the X' = 1 plane idles 3 of 4 PE columns
    # steps = 2 * 90 = 180 -> util 540 / (16*180) = 0.1875
    # W = 180; input tile min(6, 3+1)=4 rows x 1 col x C=10 = 40 (resident): I = 2*40 = 80; O = 54
    # L2 = 314 -> ceil(78.5) = 79 < 180; L1 = 1080 + 180 * (4*1 PEs) + 80 + 54 = 1934
    got = cost(GEMM, "shi")
    check(got, steps=180, latency=180, l1=1934, l2=314, macs=540)
    assert got["utilization"] == 0.1875


def test_gemm_eye():
    # steps = y_t=2 * ceil(1*1/4)=1 * K C S = 90 -> 180 (R = S = 1: row stationary degenerates)
    # W = 2 * 90 = 180; I = 60; O = 54 * (2*10 - 1) = 1026; L2 = 1266 -> ceil(316.5) = 317 > 180
    # L1 = 1080 + 180*min(6,4)=720 + 60*R=60 + 1026 = 2886
    check(cost(GEMM, "eye"), steps=180, latency=317, l1=2886, l2=1266, macs=540)


def test_gemm_nvd_beats_shi_and_eye():
    lat = {df: cost(GEMM, df)["latency_cycles"] for df in ("nvd", "shi", "eye")}
    assert lat["nvd"] < lat["shi"] < lat["eye"]


# -- matmul, add, depthwise --------------------------------------------------------------------

def test_matmul_nvd_right_operand_per_sample():
    # n = 2. steps = ceil(GK=16/4)=4 * ceil(8/4)=2 * n Y' = 8 -> 64
    # W = n * GKC = 2 * 128 = 256 (an activation: re-read for every sample, unlike weights)
    # I = ceil(8/4)=2 * n G C Y = 2 * 128 = 256; O = n G K Y' (2*2 - 1) = 128 * 3 = 384; L2 = 896
    # latency = max(64, 896/4 = 224) = 224; L1 = 2048 + 256 + 256*4 + 384 = 3712
    check(cost(MATMUL, "nvd", n=2), steps=64, latency=224, l1=3712, l2=896, macs=1024)


@pytest.mark.parametrize("dataflow", ["nvd", "shi", "eye"])
def test_add_is_a_vector_op_on_every_dataflow(dataflow):
    # n = 2: out = 144; steps = ceil(144 / 16) = 9; I = 2 out = 288, O = 144, W = 0; L2 = 432
    # latency = max(9, 432/4 = 108) = 108; L1 = out + I + O = 576; utilisation reported as 1
    got = cost(ADD, dataflow, n=2)
    assert (got["compute_cycles"], got["latency_cycles"], got["l2_accesses"], got["l1_accesses"]) == (9, 108, 432, 576)
    assert got["utilization"] == 1.0
    assert got["energy_pj"] == pytest.approx(e_pj(144, 576, 432))


def test_dwconv_nvd_and_shi():
    # NVD: steps = ceil(GK=8/4)=2 * ceil(C=1/4)=1 * 9 * 36 = 648 -> util 2592/(16*648) = 0.25 (1 of 4 lanes)
    #   W = 72; I = ceil(1/4)=1 * G Y X = 8*64 = 512; O = 288 * (2*1 - 1) = 288; L2 = 872 (218 cycles)
    #   L1 = 5184 + 72 + 512*min(K=1,4)=512 + 288 = 6056 (a group's inputs go only to its own cluster)
    got = cost(DWCONV, "nvd")
    check(got, steps=648, latency=648, l1=6056, l2=872, macs=2592)
    assert got["utilization"] == 0.25
    # Shi: y_t = x_t = ceil(6/4) = 2; steps = 4 * G K C R S = 4 * 72 = 288 -> util 0.5625
    #   W = 288; tile min(8, 3+3) = 6 x 6 x G C = 8 -> 288 (resident): I = 4 * 288 = 1152; O = 288
    #   L2 = 1728 -> ceil(1728/4) = 432 > 288: bandwidth bound; L1 = 5184 + 288*16 + 1152 + 288 = 11232
    got = cost(DWCONV, "shi")
    check(got, steps=288, latency=432, l1=11232, l2=1728, macs=2592)


def test_vectorised_over_layers_and_batches_matches_single_calls():
    layers = [CONV, GEMM, MATMUL, ADD, DWCONV]
    arr = LayerArrays.from_layers(layers)
    for df in ("nvd", "shi", "eye"):
        c = layer_costs(arr, spec(df), [1, 2, 3], MAESTRO)
        assert c.latency_cycles.shape == (3, 5)
        for bi, n in enumerate((1, 2, 3)):
            for li, layer in enumerate(layers):
                one = cost(layer, df, n=n)
                assert c.latency_cycles[bi, li] == one["latency_cycles"]
                assert c.energy_pj[bi, li] == pytest.approx(one["energy_pj"])


def test_default_cluster_and_bandwidth():
    # MAESTRO's templates: 64 input channels per NVD cluster, 8 output columns per Shi PE row.
    assert ChipletSpec("nvd", 4096).cluster == 64 and ChipletSpec("nvd", 4096).num_clusters == 64
    assert ChipletSpec("shi", 256).cluster == 8 and ChipletSpec("shi", 256).num_clusters == 32
    assert ChipletSpec("eye", 256).cluster == 16
    # The legacy template keeps its square Shi array and its PEs/16 bytes per cycle default.
    assert legacy_cluster(ChipletSpec("shi", 256)) == 16 and legacy_cluster(ChipletSpec("shi", 32)) == 4
    assert legacy_l2_bandwidth_bytes(ChipletSpec("shi", 256)) == 16.0
    assert legacy_l2_bandwidth_bytes(ChipletSpec("eye", 16)) == 1.0
    assert legacy_l2_bandwidth_bytes(ChipletSpec("nvd", 16, noc_bw=3), bytes_per_element=2) == 6.0


# -- energy presets ----------------------------------------------------------------------------

def test_energy_presets():
    assert (MAESTRO.mac, MAESTRO.l1, MAESTRO.l2) == (1.0, 1.68, 18.61)
    assert (EYERISS.mac, EYERISS.l1, EYERISS.l2) == (1.0, 1.0, 6.0)
    assert get_energy_preset("eyeriss") is EYERISS
    with pytest.raises(UnknownNameError, match="unknown energy preset 'cacti'"):
        get_energy_preset("cacti")


def test_conv_nvd_eyeriss_energy():
    # Same accesses as test_conv_nvd: 0.2 * (6750 + 16497*1 + 1233*6) = 0.2 * 30645 = 6129 pJ
    got = cost(CONV, "nvd", energy=EYERISS)
    assert got["energy_pj"] == pytest.approx(6129.0)
    assert got["latency_cycles"] == 900  # the preset changes energy only


def test_custom_preset_scales_linearly():
    double = EnergyPreset("x2", mac=1.0, l1=1.68, l2=18.61, pj_per_mac=0.4)
    assert cost(CONV, "nvd", energy=double)["energy_pj"] == pytest.approx(2 * 11482.218)


# -- cost tables and their cache ---------------------------------------------------------------

def test_cache_shared_for_equal_shapes():
    cm = CostModel()
    a = chain("a", [conv("x1", 6, 5, 5, 5, 3), gemm("x2", 6, 10, 9)])
    b = chain("b", [conv("y1", 6, 5, 5, 5, 3), gemm("y2", 6, 10, 9)])  # other names, same shapes
    s = spec("nvd")
    first = cm.layer_costs(a, s, (1, 2))
    assert cm.layer_costs(a, s, (1, 2)) is first
    assert cm.layer_costs(b, s, (1, 2)) is first
    assert cm.arrays(a) is cm.arrays(b)
    assert cm.layer_costs(a, spec("shi"), (1, 2)) is not first
    assert cm.layer_costs(a, s, (1,)) is not first
    c = chain("c", [conv("z1", 6, 5, 5, 5, 3, stride=2), gemm("z2", 6, 10, 9)])
    assert cm.layer_costs(c, s, (1, 2)) is not first


def test_cache_not_shared_between_presets():
    a = chain("a", [CONV])
    s = spec("nvd")
    m, e = CostModel("legacy", energy="maestro"), CostModel("legacy", energy="eyeriss")
    cm_m, cm_e = m.layer_costs(a, s, (1,)), e.layer_costs(a, s, (1,))
    assert cm_m is not cm_e
    assert float(cm_m.energy_pj[0, 0]) == pytest.approx(11482.218)
    assert float(cm_e.energy_pj[0, 0]) == pytest.approx(6129.0)
    # Asking the eyeriss model again still gives eyeriss numbers (no cross-talk through a global cache).
    assert float(CostModel("legacy", energy="eyeriss").layer_costs(a, s, (1,)).energy_pj[0, 0]) == pytest.approx(6129.0)


def test_model_table_units_and_batches():
    mcm = MCM("t", ("NS",), num_pes=16, chiplet={"cluster_size": 4, "noc_bw": 4})
    model = chain("t", [CONV, GEMM])
    t = CostModel("legacy").model_table(model, mcm, 6)
    assert t.batches == divisors(6) == (1, 2, 3, 6)
    assert t.latency_s.shape == (2, 4, 2)  # (classes N,S) x (batches) x (layers)
    # class 0 = nvd, batch 1: 900 and 135 cycles at 500 MHz
    assert t.latency_cycles[0, 0].tolist() == [900.0, 135.0]
    assert t.latency_s[0, 0].tolist() == pytest.approx([900 / 500e6, 135 / 500e6])
    assert t.latency_cycles[1, 0].tolist() == [1080.0, 180.0]
    assert t.energy_j[0, 0, 0] == pytest.approx(11482.218e-12)
    assert t.cum_latency_s[0, 0].tolist() == pytest.approx([0.0, 900 / 500e6, 1035 / 500e6])
    assert t.weight_bytes.tolist() == [270.0, 90.0]
    assert t.input_bytes.tolist() == [150.0, 60.0] and t.output_bytes.tolist() == [125.0, 54.0]
    assert t.batch_index(3) == 2
    with pytest.raises(KeyError, match="batch 4 not costed"):
        t.batch_index(4)
    assert np.all(t.utilization > 0) and np.all(t.utilization <= 1)


def test_bytes_per_element_scales_the_l2_bound_only():
    # The chiplet's noc_bw is in elements per cycle, so the bound does not change with the operand
    # width; the legacy default (num_pes / 16 = 1 byte per cycle here) is in bytes: INT16 makes
    # the GEMM's 540 L2 elements 1080 bytes -> 1080 cycles (540 for INT8). Accesses and energy
    # are counted in elements, so they do not change.
    arr = LayerArrays.from_layers([GEMM])
    by_elements = [layer_costs(arr, spec("nvd"), [1], MAESTRO, bytes_per_element=b) for b in (1, 2)]
    assert [c.latency_cycles[0, 0] for c in by_elements] == [135, 135]
    c1, c2 = (layer_costs(arr, spec("nvd", noc_bw=None), [1], MAESTRO, bytes_per_element=b) for b in (1, 2))
    assert (c1.latency_cycles[0, 0], c2.latency_cycles[0, 0]) == (540, 1080)
    assert c1.energy_pj[0, 0] == c2.energy_pj[0, 0]


# -- Shi: small planes leave room for other samples ---------------------------------------------

def test_shi_fills_the_array_with_samples_when_the_plane_is_small():
    # The gemm's output plane is 6 x 1 on a 4 x 4 array: y_t = ceil(6/4) = 2, x_t = 1, and each of
    # the 4 columns can hold another sample's plane: fill = (4 // 4) * (4 // 1) = 4.
    # n = 4: one pass of 4 samples side by side -> steps = ceil(4/4)=1 * 2 * 1 * K*C=90 = 180,
    # the same as one sample (n = 1: 180 steps). n = 5 needs a second pass: 360 steps.
    one, four, five = (cost(GEMM, "shi", n=n) for n in (1, 4, 5))
    assert (one["compute_cycles"], four["compute_cycles"], five["compute_cycles"]) == (180, 180, 360)
    # Weights are broadcast once per pass, so with the batch filling the array W = 1 * 2 * 90 = 180
    # serves all four samples; I = 4 * 2 * tile_in (C=10 * 4 rows * 1 col = 40) = 320; O = 4 * 54 = 216.
    assert four["l2_accesses"] == 180 + 320 + 216
    assert four["utilization"] == pytest.approx(4 * 540 / (16 * 180))
