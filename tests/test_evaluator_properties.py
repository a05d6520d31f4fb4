"""Property tests of the Evaluator on random valid schedules (hypothesis).

Three small models (a chain CNN with a depthwise layer, a block with skip connections, an
attention-like chain) on a 3x3 Het-Sides MCM with 16-PE chiplets and a small L2, so that random
schedules meet mini-batches, multi-window models, skips across segments and windows, and both
dataflow classes.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scar_gym.evaluator import Evaluator
from scar_gym.hardware import MCM
from scar_gym.schedule import Assignment, Schedule, Segment, Window
from scar_gym.workloads.layers import add, conv, dwconv, gemm, matmul
from scar_gym.workloads.model import ModelBuilder, chain


def _models():
    cnn = chain("cnn", [conv("a0", 3, 8, 8, 8, 3), conv("a1", 8, 8, 8, 8, 3), dwconv("a2", 8, 8, 8, 3),
                        conv("a3", 8, 16, 8, 8, 3, stride=2), gemm("a4", 16, 16, 10)])
    b = ModelBuilder("res")
    x0 = b.add(conv("b0", 4, 8, 6, 6, 3))
    x1 = b.add(conv("b1", 8, 8, 6, 6, 3), x0)
    x2 = b.add(conv("b2", 8, 8, 6, 6, 1), x1)
    x3 = b.add(add("b3", 8, 6, 6), x2, x0)
    x4 = b.add(conv("b4", 8, 8, 6, 6, 3), x3)
    b.add(add("b5", 8, 6, 6), x4, x3, x0)
    res = b.build()
    att = chain("att", [gemm("q", 8, 16, 16), matmul("qk", 8, 4, 8, heads=4), matmul("av", 8, 8, 4, heads=4),
                        gemm("o", 8, 16, 16)])
    return [cnn, res, att]


MODELS = _models()
BATCHES = [4, 6, 3]
MCM3 = MCM("t", ("NSN", "NSN", "NSN"), num_pes=16,
           chiplet={"cluster_size": 4, "noc_bw": 8, "l2_bytes": 2048})
EVAL = Evaluator(MODELS, BATCHES, MCM3)
NUM_LAYERS = EVAL.num_layers


@st.composite
def schedules(draw, num_models=None):
    """A random valid schedule: windows, each model's layer ranges, cuts and distinct chiplets."""
    n_models = num_models or draw(st.integers(2, 3))
    models = list(range(n_models))
    n_windows = draw(st.integers(1, 3))
    # Each model's window boundaries: sorted positions, equal neighbours = absent from that window.
    bounds = {}
    for m in models:
        inner = sorted(draw(st.lists(st.integers(0, NUM_LAYERS[m]), min_size=n_windows - 1,
                                     max_size=n_windows - 1)))
        bounds[m] = [0, *inner, NUM_LAYERS[m]]
    windows = []
    for w in range(n_windows):
        free = draw(st.permutations(range(MCM3.num_chiplets)))
        assigns = []
        for m in draw(st.permutations(models)):
            lo, hi = bounds[m][w], bounds[m][w + 1]
            if lo == hi:
                continue
            k = draw(st.integers(1, min(hi - lo, len(free) - (n_models - 1 - len(assigns)), 4)))
            cuts = sorted(draw(st.lists(st.integers(lo + 1, hi - 1), min_size=k - 1, max_size=k - 1,
                                        unique=True))) if k > 1 else []
            chips, free = free[:k], free[k:]
            assigns.append(Assignment.from_cuts(m, lo, hi, cuts, chips))
        if assigns:
            windows.append(Window(tuple(assigns)))
    return Schedule(tuple(windows))


def _evaluator_for(ev_models):
    return Evaluator([MODELS[i] for i in range(ev_models)], BATCHES[:ev_models], MCM3)


EVALS = {2: _evaluator_for(2), 3: EVAL}
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(st.integers(2, 3).flatmap(lambda n: st.tuples(st.just(n), schedules(n))))
def test_random_schedules_validate_and_aggregate(case):
    n, s = case
    ev = EVALS[n]
    ev.validate(s)
    r = ev.evaluate(s)
    assert r.edp_js == pytest.approx(r.latency_s * r.energy_j, rel=1e-12)
    assert r.energy_j == pytest.approx(r.compute_j + r.nop_j + r.dram_j, rel=1e-12)
    assert r.latency_s == pytest.approx(sum(w.latency_s for w in r.windows), rel=1e-12)
    assert r.latency_s > 0 and min(r.compute_j, r.dram_j) > 0 and r.nop_j >= 0
    # Every model finishes, at or before the end of the schedule.
    assert set(r.model_finish_s) == {m.name for m in ev.models}
    assert max(r.model_finish_s.values()) == pytest.approx(r.latency_s)
    for w in r.windows:
        for m in w.models:
            assert ev.batches[m.model] % m.minibatch == 0
            assert m.latency_s >= m.weight_load_s + sum(m.stage_latency_s) - 1e-18
    # The memo does not change a result.
    cold = Evaluator(ev.models, ev.batches, MCM3, cost_model=ev.cost_model, cache_size=0)
    assert cold.evaluate(s).to_dict() == r.to_dict()


@PROPS
@given(schedules(3), st.data())
def test_moving_an_end_segment_farther_never_lowers_nop_energy(s, data):
    """Move the first or last segment of a pipeline to a free chiplet of the same class and the same
    DRAM-side hops that is farther from its neighbouring segment and no nearer to any other segment of
    the model (skips): NoP energy and latency never drop, compute and DRAM energy do not change."""
    candidates = []
    for wi, w in enumerate(s.windows):
        used = set(w.chiplets)
        free = [c for c in range(MCM3.num_chiplets) if c not in used]
        for ai, a in enumerate(w.assignments):
            if len(a.segments) < 2:
                continue
            for j, nb in ((0, 1), (len(a.segments) - 1, len(a.segments) - 2)):
                old = a.segments[j].chiplet
                others = [sg.chiplet for i, sg in enumerate(a.segments) if i != j]
                for c in free:
                    if (MCM3.class_of[c] == MCM3.class_of[old] and MCM3.dram_hops[c] == MCM3.dram_hops[old]
                            and MCM3.hops[a.segments[nb].chiplet, c] > MCM3.hops[a.segments[nb].chiplet, old]
                            and all(MCM3.hops[o, c] >= MCM3.hops[o, old] for o in others)):
                        candidates.append((wi, ai, j, c))
    assume(candidates)
    wi, ai, j, c = data.draw(st.sampled_from(candidates))
    w = s.windows[wi]
    a = w.assignments[ai]
    segs = list(a.segments)
    segs[j] = Segment(segs[j].start, segs[j].stop, c)
    moved_a = Assignment(a.model, tuple(segs))
    windows = list(s.windows)
    windows[wi] = Window(tuple(moved_a if i == ai else x for i, x in enumerate(w.assignments)))
    moved = Schedule(tuple(windows))
    EVAL.validate(moved)
    before, after = EVAL.evaluate_assignment(a), EVAL.evaluate_assignment(moved_a)
    assert after.nop_j > before.nop_j  # strictly: the moved segment exchanges a tensor with its neighbour
    assert after.latency_s >= before.latency_s
    assert after.compute_j == before.compute_j and after.dram_j == before.dram_j
    assert after.minibatch == before.minibatch
    assert EVAL.evaluate(moved).nop_j >= EVAL.evaluate(s).nop_j
