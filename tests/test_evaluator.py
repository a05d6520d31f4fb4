"""The shared Evaluator against hand computations (model: scar_gym/evaluator.py docstring).

Most tests use one layer shape, ``gemm(4 tokens, 8 -> 8)``, on 16-PE NVD chiplets (4 clusters of 4)
with an L2 bandwidth high enough never to bind. The per-layer costs come from the ``legacy``
template, whose numbers are easy to work out by hand; what is tested here is the evaluator's
composition of them, which does not depend on the template (``tests/test_costmodel_maestro.py``
checks the default template's per-layer numbers). Per sample that layer has 32 input bytes, 32 output
bytes and 64 weight bytes (INT8), and

    steps = ceil(8/4) * ceil(8/4) * n * 4 tokens = 16 n cycles = 32 n ns at 500 MHz.

Package constants (Table II): DRAM 200 ns, 64 GB/s, 14.8 pJ/bit; NoP 35 ns/hop, 100 GB/s, 2.04 pJ/bit.
Chiplets of a 3x3 are numbered row-major (0 1 2 / 3 4 5 / 6 7 8); the middle column is 1 hop from
the side DRAM interfaces, the outer columns 0 hops.
"""

from __future__ import annotations

import json

import pytest

from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError, ScheduleError
from scar_gym.evaluator import Evaluator, objective_value
from scar_gym.hardware import MCM, mcm_from_dict
from scar_gym.schedule import Assignment, Schedule, Segment, Window, load_schedule_json, save_schedule_json, validate
from scar_gym.workloads.layers import gemm
from scar_gym.workloads.model import ModelBuilder, chain

NS = 1e-9
PJ = 1e-12
DRAM_S, HOP_S = 200 * NS, 35 * NS
DRAM_BW, NOP_BW = 64e9, 100e9
E_DRAM, E_NOP = 14.8 * PJ, 2.04 * PJ
IN, OUT, W = 32, 32, 64  # bytes per sample of one gemm(4, 8, 8); weights
BIG_L2 = 10 * 1024 * 1024


def evaluator(*args, **kwargs) -> Evaluator:
    kwargs.setdefault("cost_model", CostModel("legacy"))
    return Evaluator(*args, **kwargs)


def layer(name: str):
    return gemm(name, 4, 8, 8)


def nvd_mcm(layout=("NNN", "NNN", "NNN"), l2_bytes=BIG_L2) -> MCM:
    return MCM("t", layout, num_pes=16,
               chiplet={"cluster_size": 4, "noc_bw": 1024, "l2_bytes": l2_bytes})


def compute_s(n: int) -> float:
    """gemm(4, 8, 8) on a 16-PE NVD chiplet, n samples."""
    return 16 * n / 500e6


def compute_j(n: int) -> float:
    # MACs = 256 n; W = 64; I = ceil(8/4)=2 * 8*4 n = 64 n; O = 32 n (2*2 - 1) = 96 n
    # L2 = 64 + 160 n; L1 = 512 n + 64 + 64 n * 4 + 96 n = 64 + 864 n
    macs, l1, l2 = 256 * n, 64 + 864 * n, 64 + 160 * n
    return 0.2 * (macs + 1.68 * l1 + 18.61 * l2) * PJ


def one_window(*assignments: Assignment) -> Schedule:
    return Schedule((Window(tuple(assignments)),))


def single(model: int, start: int, stop: int, cuts, chiplets) -> Assignment:
    return Assignment.from_cuts(model, start, stop, cuts, chiplets)


# -- a two-segment pipeline ----------------------------------------------------------------------

def test_two_segment_pipeline_by_hand():
    # L2 = 192 B: each segment holds 64 B of weights and b' samples of its peak footprint
    # (32 in + 32 out = 64 B/sample): b' <= (192 - 64) / 64 = 2, the largest divisor of b = 4 -> b' = 2.
    ev = evaluator([chain("m", [layer("l0"), layer("l1")])], [4], nvd_mcm(l2_bytes=192))
    r = ev.evaluate(one_window(single(0, 0, 2, [1], [3, 4])))  # chiplet 3: side column; 4: middle
    m = r.windows[0].models[0]
    assert m.minibatch == 2
    # Stage 0 on chiplet 3 (0 DRAM hops): compute 32 cycles = 64 ns; model input from DRAM:
    #   2 x 32 B / 64 GB/s = 1 ns + 0 hops + 200 ns        -> 265 ns
    stage0 = compute_s(2) + (2 * IN / DRAM_BW + DRAM_S)
    assert stage0 == pytest.approx(265 * NS)
    # Stage 1 on chiplet 4: compute 64 ns; l0's output over the NoP, 1 hop: 64 B / 100 GB/s = 0.64 ns + 35 ns;
    #   model output to DRAM from the middle column: 1 ns + 1 hop 35 ns + 200 ns   -> 335.64 ns
    stage1 = compute_s(2) + (2 * OUT / NOP_BW + HOP_S) + (2 * OUT / DRAM_BW + HOP_S + DRAM_S)
    assert stage1 == pytest.approx(335.64 * NS)
    assert m.stage_latency_s == pytest.approx((stage0, stage1))
    # Weight load: max(64 B / 64 GB/s + 200 ns, 1 ns + 35 ns + 200 ns) = 236 ns
    load = W / DRAM_BW + HOP_S + DRAM_S
    assert m.weight_load_s == pytest.approx(236 * NS)
    # latency = load + sum(stages) + (b/b' - 1) max(stage) = 236 + 600.64 + 1 x 335.64 = 1172.28 ns
    assert m.latency_s == pytest.approx(load + stage0 + stage1 + (4 // 2 - 1) * max(stage0, stage1))
    assert r.latency_s == pytest.approx(1172.28 * NS)
    # Energy. Compute: 2 layers x b/b' = 2 mini-batches x compute_j(2) = 4 x 2133.76 pJ
    assert compute_j(2) == pytest.approx(2133.76 * PJ)
    assert r.compute_j == pytest.approx(4 * 2133.76 * PJ)
    # DRAM: (input 32 + output 32) B x 4 samples + 2 x 64 B of weights = 384 B = 3072 bits x 14.8 pJ
    assert r.dram_j == pytest.approx(3072 * 14.8 * PJ)
    # NoP: l0 -> l1 32 B x 1 hop x 4 + output 32 B x 1 hop (to the side) x 4 + weights 64 B x 1 hop
    #   = 320 B hops = 2560 bit hops x 2.04 pJ
    assert r.nop_j == pytest.approx(2560 * 2.04 * PJ)
    assert r.energy_j == pytest.approx((8535.04 + 45465.6 + 5222.4) * PJ)
    assert r.edp_js == pytest.approx(r.latency_s * r.energy_j)


def test_minibatch_follows_l2_size():
    model = chain("m", [layer("l0"), layer("l1")])
    sched = one_window(single(0, 0, 2, [1], [3, 4]))
    # One byte less: (191 - 64) / 64 = 1.98 -> b' = 1, four mini-batches.
    m = evaluator([model], [4], nvd_mcm(l2_bytes=191)).evaluate(sched).windows[0].models[0]
    stage1 = compute_s(1) + (OUT / NOP_BW + HOP_S) + (OUT / DRAM_BW + HOP_S + DRAM_S)
    stage0 = compute_s(1) + IN / DRAM_BW + DRAM_S
    assert m.minibatch == 1
    assert m.latency_s == pytest.approx(236 * NS + stage0 + stage1 + 3 * stage1)
    # Weights alone overflow: at least 1.
    assert evaluator([model], [4], nvd_mcm(l2_bytes=32)).evaluate(sched).windows[0].models[0].minibatch == 1
    # Plenty of memory: the whole batch at once, no repetition term: 236 + 330 + 401.28 ns.
    m = evaluator([model], [4], nvd_mcm()).evaluate(sched).windows[0].models[0]
    assert m.minibatch == 4
    assert m.latency_s == pytest.approx(967.28 * NS)


# -- DRAM and NoP transfers ----------------------------------------------------------------------

def test_dram_transfer_from_the_middle_column():
    model = chain("m", [layer("l0")])
    ev = evaluator([model], [1], nvd_mcm())
    mid = ev.evaluate(one_window(single(0, 0, 1, [], [4]))).windows[0].models[0]
    side = ev.evaluate(one_window(single(0, 0, 1, [], [3]))).windows[0].models[0]
    # Middle column: input read = 32 B / 64 GB/s + 1 hop + 200 ns = 0.5 + 35 + 200 = 235.5 ns; output the same;
    # weights 1 + 35 + 200 = 236 ns; compute 32 ns. latency = 236 + 32 + 2 x 235.5 = 739 ns.
    assert mid.weight_load_s == pytest.approx(236 * NS)
    assert mid.stage_latency_s[0] == pytest.approx((32 + 2 * 235.5) * NS)
    assert mid.latency_s == pytest.approx(739 * NS)
    # Side column: no hops: 201 + 32 + 2 x 200.5 = 634 ns, i.e. 3 hops (105 ns) less.
    assert side.latency_s == pytest.approx(634 * NS)
    # DRAM energy is the same: (32 + 32 + 64) B = 1024 bits x 14.8 pJ.
    assert mid.dram_j == side.dram_j == pytest.approx(1024 * 14.8 * PJ)
    # The hop to the side costs NoP energy: 1024 bits x 1 hop x 2.04 pJ; none from the side column.
    assert mid.nop_j == pytest.approx(1024 * 2.04 * PJ)
    assert side.nop_j == 0.0
    assert mid.compute_j == side.compute_j == pytest.approx(compute_j(1))


@pytest.mark.parametrize("dst, hops", [(1, 1), (2, 2), (6, 2), (5, 3), (8, 4)])
def test_nop_energy_is_bits_times_hops(dst, hops):
    # Segment 0 on chiplet 0, segment 1 on ``dst`` (XY hops from 0). Only outer-column chiplets
    # have 0 DRAM hops, so subtract the side hops of ``dst`` (output + weights) when it is in the middle.
    ev = evaluator([chain("m", [layer("l0"), layer("l1")])], [3], nvd_mcm())
    r = ev.evaluate(one_window(single(0, 0, 2, [1], [0, dst])))
    side = ev.mcm.dram_hops[dst]
    assert ev.mcm.hops[0, dst] == hops
    expected_bits = (OUT * 3 * hops + (OUT * 3 + W) * side) * 8
    assert r.nop_j == pytest.approx(expected_bits * 2.04e-12)
    stage1 = compute_s(3) + (3 * OUT / NOP_BW + hops * HOP_S) + (3 * OUT / DRAM_BW + side * HOP_S + DRAM_S)
    assert r.windows[0].models[0].stage_latency_s[1] == pytest.approx(stage1)


def skip_model():
    """l0 -> l1 -> l2 -> l3 with skips l0 -> l2 and l0 -> l3."""
    b = ModelBuilder("skip")
    x0 = b.add(layer("l0"))
    x1 = b.add(layer("l1"), x0)
    x2 = b.add(layer("l2"), x1, x0)
    b.add(layer("l3"), x2, x0)
    return b.build()


def test_skip_edges_counted_once_per_consuming_segment():
    # 2x2 mesh (every column is a side column: no DRAM hops). Segments A=[l0] on 0, B=[l1, l2] on 1,
    # C=[l3] on 3. hops(0,1) = 1, hops(0,3) = 2, hops(1,3) = 1.
    # l0's output goes to B once (l1 and l2 both read it there) and to C once; l2 goes to C.
    ev = evaluator([skip_model()], [1], nvd_mcm(("NN", "NN")))
    r = ev.evaluate(one_window(single(0, 0, 4, [1, 3], [0, 1, 3])))
    assert r.nop_j == pytest.approx((OUT * 1 + OUT * 2 + OUT * 1) * 8 * 2.04 * PJ)
    st = r.windows[0].models[0].stage_latency_s
    assert st[0] == pytest.approx(compute_s(1) + IN / DRAM_BW + DRAM_S)
    assert st[1] == pytest.approx(2 * compute_s(1) + OUT / NOP_BW + HOP_S)  # one transfer, not two
    assert st[2] == pytest.approx(compute_s(1) + (OUT / NOP_BW + 2 * HOP_S) + (OUT / NOP_BW + HOP_S)
                                  + OUT / DRAM_BW + DRAM_S)
    # DRAM: model input + model output + 4 x 64 B of weights.
    assert r.dram_j == pytest.approx((IN + OUT + 4 * W) * 8 * 14.8 * PJ)


def test_skip_edges_across_windows_go_through_dram_once_per_segment():
    # Window 0: A=[l0] on 0. Window 1: B=[l1, l2] on 1, C=[l3] on 3.
    # l0's output is written to DRAM once in window 0 and read once by B and once by C in window 1.
    ev = evaluator([skip_model()], [2], nvd_mcm(("NN", "NN")))
    s = Schedule((Window((single(0, 0, 1, [], [0]),)), Window((single(0, 1, 4, [3], [1, 3]),))))
    r = ev.evaluate(s)
    activations = IN + OUT + OUT + OUT + OUT  # input, l0 write, l0 read by B, l0 read by C, l3 write
    assert r.dram_j == pytest.approx((activations * 2 + 4 * W) * 8 * 14.8 * PJ)
    assert r.nop_j == pytest.approx(OUT * 2 * 1 * 8 * 2.04 * PJ)  # only l2 -> C inside window 1
    w1 = r.windows[1].models[0]
    assert w1.stage_latency_s[0] == pytest.approx(2 * compute_s(2) + 2 * OUT / DRAM_BW + DRAM_S)


# -- windows, aggregation ------------------------------------------------------------------------

def test_window_barrier_and_model_finish_times():
    # m0 = [l0, l1] (batch 1), m1 = one gemm(40 tokens, 8 -> 8) (batch 1): 160 steps = 320 ns,
    # 320 B in and out. Window 0: m0 l0 on chiplet 0, m1 on chiplet 2. Window 1: m0 l1 on chiplet 0.
    m0 = chain("m0", [layer("l0"), layer("l1")])
    m1 = chain("m1", [gemm("big", 40, 8, 8)])
    ev = evaluator([m0, m1], [1, 1], nvd_mcm())
    s = Schedule((Window((single(0, 0, 1, [], [0]), single(1, 0, 1, [], [2]))),
                  Window((single(0, 1, 2, [], [0]),))))
    r = ev.evaluate(s)
    # m1: load 201 + compute 320 + in 5 + 200 + out 5 + 200 = 931 ns
    # m0, either window: load 201 + compute 32 + in 200.5 + out 200.5 = 634 ns
    (a0, a1), (b0,) = r.windows[0].models, r.windows[1].models
    assert a1.latency_s == pytest.approx(931 * NS)
    assert a0.latency_s == pytest.approx(634 * NS) and b0.latency_s == pytest.approx(634 * NS)
    assert r.windows[0].latency_s == pytest.approx(931 * NS)  # the slowest model
    # m0 waits at the barrier for m1: its window-1 work starts at 931 ns, not at 634 ns.
    assert r.latency_s == pytest.approx(1565 * NS)
    assert r.model_finish_s == pytest.approx({"m0": 1565 * NS, "m1": 931 * NS})
    d = r.to_dict()
    assert [w["latency_s"] for w in d["windows"]] == pytest.approx([931 * NS, 634 * NS])
    assert [m["model"] for m in d["windows"][0]["models"]] == ["m0", "m1"]


def test_energy_breakdown_sums_and_edp():
    m0 = chain("m0", [layer("l0"), layer("l1"), layer("l2")])
    m1 = skip_model()
    ev = evaluator([m0, m1], [4, 2], nvd_mcm(l2_bytes=200))
    s = Schedule((Window((single(0, 0, 2, [1], [3, 4]), single(1, 0, 2, [1], [0, 1]))),
                  Window((single(0, 2, 3, [], [8]), single(1, 2, 4, [3], [5, 2])))))
    r = ev.evaluate(s)
    ms = [m for w in r.windows for m in w.models]
    assert r.compute_j == pytest.approx(sum(m.compute_j for m in ms))
    assert r.nop_j == pytest.approx(sum(m.nop_j for m in ms))
    assert r.dram_j == pytest.approx(sum(m.dram_j for m in ms))
    assert r.energy_j == pytest.approx(r.compute_j + r.nop_j + r.dram_j)
    assert r.energy_j == pytest.approx(sum(w.energy_j for w in r.windows))
    assert r.latency_s == pytest.approx(sum(w.latency_s for w in r.windows))
    assert min(r.compute_j, r.nop_j, r.dram_j) > 0
    assert r.edp_js == pytest.approx(r.latency_s * r.energy_j)
    assert r.objective("edp") == r.edp_js and r.objective("latency") == r.latency_s
    assert r.objective("energy") == r.energy_j
    d = r.to_dict()
    assert d["energy_breakdown_j"] == pytest.approx({"compute": r.compute_j, "nop": r.nop_j, "dram": r.dram_j})
    ev.objective = "latency"
    assert ev.score(s) == r.latency_s
    with pytest.raises(ConfigError, match="unknown objective 'power'"):
        objective_value("power", 1.0, 1.0)


def test_memo_returns_identical_results():
    ev = evaluator([chain("m", [layer("l0"), layer("l1")])], [4], nvd_mcm(l2_bytes=192))
    cold = evaluator([chain("m", [layer("l0"), layer("l1")])], [4], nvd_mcm(l2_bytes=192), cache_size=0)
    s = one_window(single(0, 0, 2, [1], [3, 4]))
    a, b = ev.evaluate(s), ev.evaluate(s)
    assert ev.num_evaluations == 1 and a.to_dict() == b.to_dict() == cold.evaluate(s).to_dict()
    cold.evaluate(s)
    assert cold.num_evaluations == 2


# -- JSON ----------------------------------------------------------------------------------------

def test_schedule_json_round_trip(tmp_path):
    mcm = nvd_mcm(l2_bytes=192)
    ev = evaluator([chain("m", [layer("l0"), layer("l1")])], [4], mcm)
    s = Schedule((Window((single(0, 0, 1, [], [3]),)), Window((single(0, 1, 2, [], [4]),))),
                 meta={"policy": "hand", "seed": 3})
    r = ev.evaluate(s)
    scenario = {"id": "t", "use_case": "test", "domain": "datacenter", "models": [{"model": "m", "batch": 4}]}
    path = tmp_path / "s.json"
    save_schedule_json(path, s, scenario, mcm.to_dict(), r.to_dict())
    s2, scen2, mcm2 = load_schedule_json(path)
    assert s2 == s and s2.meta == {"policy": "hand", "seed": 3}
    assert scen2 == scenario
    mcm_back = mcm_from_dict(mcm2)
    assert mcm_back.layout == mcm.layout and mcm_back.chiplet == mcm.chiplet and mcm_back.num_pes == 16
    assert evaluator([chain("m", [layer("l0"), layer("l1")])], [4], mcm_back).evaluate(s2).to_dict() == r.to_dict()
    doc = json.loads(path.read_text())
    assert doc["format"] == "scar-gym-schedule/2" and doc["result"]["latency_s"] == r.latency_s
    assert doc["context"] == {"scenario": scenario, "mcm": mcm.to_dict(), "cost_model": None}


def test_schedule_json_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_schedule_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="malformed JSON"):
        load_schedule_json(bad)
    bad.write_text(json.dumps({"windows": [], "mcm": {}}))
    with pytest.raises(ConfigError, match="format: missing"):
        load_schedule_json(bad)
    bad.write_text(json.dumps({"format": "scar-gym-schedule/1", "windows": [], "mcm": {}}))
    with pytest.raises(ConfigError, match="scenario: missing"):
        load_schedule_json(bad)
    bad.write_text(json.dumps({"format": "scar-gym-schedule/1", "windows": [[{"model": 0}]], "mcm": {},
                               "scenario": {}}))
    with pytest.raises(ConfigError, match=r"windows\[0\]\[0\]: expected \{model, segments\}"):
        load_schedule_json(bad)


# -- validation ----------------------------------------------------------------------------------

MCM3 = nvd_mcm()
LAYERS = (3, 2)  # model 0 has 3 layers, model 1 has 2


def check(schedule, require_paths=False, allow_partial=False):
    validate(schedule, LAYERS, 9, MCM3.graph, require_paths, allow_partial)


def seg(a, b, c):
    return Segment(a, b, c)


def win(*assigns):
    return Window(tuple(Assignment(m, tuple(seg(*s) for s in segs)) for m, segs in assigns))


ORDER = " (every layer exactly once, in topological order)"
VALID = Schedule((win((0, [(0, 2, 0), (2, 3, 1)]), (1, [(0, 1, 2)])), win((1, [(1, 2, 2)]))))


def test_valid_schedule_passes():
    check(VALID)
    check(VALID, require_paths=True)


@pytest.mark.parametrize("schedule, message", [
    # a layer twice: window 1 re-runs model 0's layer 2
    (Schedule((win((0, [(0, 3, 0)]), (1, [(0, 2, 1)])), win((0, [(2, 3, 0)])))),
     "window 1, model 0: starts at layer 2 but layer 3 is next" + ORDER),
    # a layer missing at the end
    (Schedule((win((0, [(0, 2, 0)]), (1, [(0, 2, 1)])),)), "unscheduled layers: model 0: layers 2..2"),
    # a layer missing in the middle (window 1 skips layer 1)
    (Schedule((win((0, [(0, 1, 0)]), (1, [(0, 2, 1)])), win((0, [(2, 3, 0)])))),
     "window 1, model 0: starts at layer 2 but layer 1 is next" + ORDER),
    # a whole model missing
    (Schedule((win((0, [(0, 3, 0)])),)), "unscheduled layers: model 1: layers 0..1"),
    # out of order: segments not contiguous
    (Schedule((win((0, [(0, 1, 0), (2, 3, 1), (1, 2, 3)]), (1, [(0, 2, 2)])),)),
     "window 0, model 0: segment [2, 3) does not continue [0, 1)"),
    # out of order: windows reversed
    (Schedule((win((0, [(1, 3, 0)]), (1, [(0, 2, 1)])), win((0, [(0, 1, 0)])))),
     "window 0, model 0: starts at layer 1 but layer 0 is next" + ORDER),
    # a chiplet shared by two models in a window
    (Schedule((win((0, [(0, 3, 4)]), (1, [(0, 2, 4)])),)), "window 0: chiplet 4 used by models 0 and 1"),
    # a model using one chiplet twice
    (Schedule((win((0, [(0, 1, 4), (1, 3, 4)]), (1, [(0, 2, 0)])),)),
     "window 0: chiplet 4 used twice by the same model"),
    # out-of-range chiplets
    (Schedule((win((0, [(0, 3, 9)]), (1, [(0, 2, 0)])),)), "window 0, model 0: chiplet 9 out of range 0..8"),
    (Schedule((win((0, [(0, 3, -1)]), (1, [(0, 2, 0)])),)), "window 0, model 0: chiplet -1 out of range 0..8"),
    # other rules
    (Schedule((win((0, [(0, 2, 0), (2, 2, 1)]), (1, [(0, 2, 2)])),)), "window 0, model 0: empty segment [2, 2)"),
    (Schedule((win((0, [(0, 4, 0)]), (1, [(0, 2, 2)])),)), "window 0, model 0: segment ends at 4 beyond its 3 layers"),
    (Schedule((win((2, [(0, 1, 0)])),)), "window 0: model index 2 out of range 0..1"),
    (Schedule((win((0, [(0, 1, 0)]), (0, [(1, 3, 1)])),)), "window 0: model 0 has two assignments"),
    (Schedule((Window(()),)), "window 0: empty window"),
])
def test_validator_messages(schedule, message):
    with pytest.raises(ScheduleError) as e:
        check(schedule)
    assert str(e.value) == message


def test_require_paths():
    far = Schedule((win((0, [(0, 2, 0), (2, 3, 8)]), (1, [(0, 2, 4)])),))
    check(far)  # off by default: a non-neighbour pipeline only pays more hops
    with pytest.raises(ScheduleError) as e:
        check(far, require_paths=True)
    assert str(e.value) == "window 0, model 0: chiplets 0 and 8 of consecutive segments are not neighbours"
    # Diagonals are neighbours only on the triangular NoP.
    diag = Schedule((win((0, [(0, 2, 0), (2, 3, 4)]), (1, [(0, 2, 8)])),))
    with pytest.raises(ScheduleError, match="chiplets 0 and 4 of consecutive segments are not neighbours"):
        check(diag, require_paths=True)
    tri = MCM("t", ("NNN", "NNN", "NNN"), topology="tri")
    validate(diag, LAYERS, 9, tri.graph, require_paths=True)


def test_allow_partial():
    part = Schedule((win((0, [(0, 2, 0)])),))
    check(part, allow_partial=True)
    with pytest.raises(ScheduleError, match="unscheduled layers: model 0: layers 2..2; model 1: layers 0..1"):
        check(part)


def test_evaluator_validates_by_default():
    ev = evaluator([chain("m", [layer("l0"), layer("l1")])], [1], nvd_mcm())
    with pytest.raises(ScheduleError, match="unscheduled layers"):
        ev.evaluate(one_window(single(0, 0, 1, [], [0])))
    assert ev.evaluate(one_window(single(0, 0, 1, [], [0])), allow_partial=True).latency_s > 0


def test_from_cuts_mismatch():
    with pytest.raises(ScheduleError, match="model 0: 2 segments but 1 chiplets"):
        Assignment.from_cuts(0, 0, 3, [1], [0])
    a = Assignment.from_cuts(1, 2, 9, [4, 7], [5, 4, 3])
    assert a.segments == (Segment(2, 4, 5), Segment(4, 7, 4), Segment(7, 9, 3))
    assert (a.start, a.stop, a.chiplets) == (2, 9, (5, 4, 3))


def test_evaluator_rejects_bad_batches():
    m = chain("m", [layer("l0")])
    with pytest.raises(ConfigError, match="2 batches for 1 models"):
        evaluator([m], [1, 2], nvd_mcm())
    with pytest.raises(ConfigError, match="batch of m: must be > 0, got 0"):
        evaluator([m], [0], nvd_mcm())


def test_weights_larger_than_l2_stream_once_per_minibatch():
    # L2 = 100 B: a segment of two layers holds 128 B of weights, more than fits beside one sample
    # (128 + 64 > 100), so it streams: it keeps one layer's 64 B of weights and b' samples of 64 B:
    # b' <= (100 - 64) / 64 < 1 -> b' = 1, and with b = 2 it reads its 128 B of weights twice.
    ev = evaluator([chain("m", [layer("l0"), layer("l1")])], [2], nvd_mcm(l2_bytes=100))
    m = ev.evaluate(one_window(single(0, 0, 2, [], [0]))).windows[0].models[0]
    assert m.minibatch == 1
    assert m.weight_load_s == 0.0  # nothing is preloaded: weights arrive with every mini-batch
    # Stage (chiplet 0, side column): compute 2 layers x 32 ns; weights 128 B / 64 GB/s + 200 ns;
    # input 32 B from DRAM (0.5 ns + 200 ns); output 32 B to DRAM (0.5 ns + 200 ns).
    stage = 2 * compute_s(1) + (2 * W / DRAM_BW + DRAM_S) + 2 * (IN / DRAM_BW + DRAM_S)
    assert m.stage_latency_s == pytest.approx((stage,), rel=1e-12)
    assert m.latency_s == pytest.approx(2 * stage, rel=1e-12)  # b/b' = 2 mini-batches, one stage
    # DRAM bytes: weights 2 x 128, activations 2 samples x (32 in + 32 out).
    assert m.dram_j == pytest.approx((2 * 2 * W + 2 * (IN + OUT)) * 8 * E_DRAM, rel=1e-12)
    # With room for the weights (default 10 MB L2) they are read once and preloaded.
    big = evaluator([chain("m", [layer("l0"), layer("l1")])], [2], nvd_mcm())
    mb = big.evaluate(one_window(single(0, 0, 2, [], [0]))).windows[0].models[0]
    assert mb.minibatch == 2 and mb.weight_load_s > 0
    assert mb.dram_j == pytest.approx((2 * W + 2 * (IN + OUT)) * 8 * E_DRAM, rel=1e-12)


def test_evaluate_placement_is_evaluate_assignment_without_the_assignment():
    """The same numbers and the same memo entry as the assignment it describes, either way round."""
    from scar_gym.factory import make_evaluator

    ev = make_evaluator("sc4", "het-sides-3x3")
    fresh = ev.fresh()
    for m, (bounds, chips) in enumerate([((0, 3, 7), (0, 1)), ((2, 5), (4,)), ((0, 1, 2, 4), (8, 7, 6))]):
        a = Assignment.from_cuts(m, bounds[0], bounds[-1], bounds[1:-1], chips)
        first = ev.evaluate_placement(m, bounds, chips)
        assert ev.evaluate_assignment(a) is first and ev.evaluate_placement(m, bounds, chips) is first
        assert fresh.evaluate_assignment(a) == first == fresh.evaluate_placement(m, bounds, chips)
    assert ev.num_evaluations == fresh.num_evaluations == 3


def test_evaluate_paths_is_bit_identical_to_one_assignment_at_a_time():
    """The vectorised scoring of cut sets on many paths (the env's candidate pools), one cut set at a
    time and several of different segment counts in one padded pass, goes through the same
    floating-point operations: equal to the last bit, on MCMs where mini-batches shrink and weights
    stream, with DRAM and NoP transfers and skip edges (ResNet, U-Net)."""
    import numpy as np

    from scar_gym.factory import make_evaluator
    from scar_gym.policies.scar.sched import simple_paths

    rng = np.random.default_rng(0)
    seen_minibatches, compared = set(), 0
    for sc, mcm in (("sc4", "het-sides-3x3"), ("sc5", "het-cross-6x6"), ("sc1", "nvd-4x4"), ("sc7", "het-3x3-tri")):
        ev = make_evaluator(sc, mcm)
        for m, n_layers in enumerate(ev.num_layers):
            jobs = []
            for _ in range(6):
                k = int(rng.integers(1, min(n_layers, 6) + 1))
                cuts = sorted(rng.choice(np.arange(1, n_layers), size=k - 1, replace=False).tolist())
                lo = int(rng.integers(0, cuts[0])) if cuts else 0
                hi = int(rng.integers(cuts[-1] + 1, n_layers + 1)) if cuts else n_layers
                jobs.append(((lo, *cuts, hi), np.array(simple_paths(ev.mcm, k, limit_per_root=2))))
            # one cut set at a time, and all of them in one padded pass (mixed segment counts)
            for batch in [[job] for job in jobs] + [jobs]:
                for (bounds, paths), got in zip(batch, ev.evaluate_cut_sets(m, batch)):
                    for i, path in enumerate(paths.tolist()):
                        want = ev.evaluate_assignment(Assignment.from_cuts(m, bounds[0], bounds[-1], bounds[1:-1], path))
                        assert (got.latency_s[i], got.energy_j[i], got.minibatch[i], got.weight_load_s[i]) == (
                            want.latency_s, want.energy_j, want.minibatch, want.weight_load_s)
                        seen_minibatches.add(want.minibatch < ev.batches[m])
                        compared += 1
    assert compared > 2000 and seen_minibatches == {True, False}
    # weights that stream (the hand-computed case above), and the error for a wrong path length
    ev = evaluator([chain("m", [layer("l0"), layer("l1")])], [2], nvd_mcm(l2_bytes=100))
    got = ev.evaluate_paths(0, (0, 2), np.array([[0], [1]]))
    for c in (0, 1):
        want = ev.evaluate_assignment(single(0, 0, 2, [], [c]))
        assert (got.latency_s[c], got.energy_j[c], got.weight_load_s[c]) == (want.latency_s, want.energy_j, 0.0)
    with pytest.raises(ScheduleError, match="2 segments but paths of 1 chiplets"):
        ev.evaluate_paths(0, (0, 1, 2), np.array([[0]]))
