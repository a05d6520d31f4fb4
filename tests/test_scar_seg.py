"""SEG: enumeration counts, bounded candidates, and the heuristic-1 scorer against the evaluator."""

import math

import numpy as np
import pytest

from scar_gym.evaluator import Evaluator
from scar_gym.hardware import MCM, grid_mcm
from scar_gym.policies.scar.seg import (SegmentScorer, balanced_cuts, best_per_segment_count, candidate_cuts,
                                        count_segmentations, count_segmentations_up_to, enumerate_cuts,
                                        perturbations, top_k)
from scar_gym.schedule import Assignment
from scar_gym.workloads.layers import conv, gemm
from scar_gym.workloads.model import chain


@pytest.mark.parametrize("L", range(1, 9))
def test_enumeration_counts(L):
    for s in range(1, L + 1):
        cuts = list(enumerate_cuts(10, 10 + L, s))
        assert len(cuts) == count_segmentations(L, s) == math.comb(L - 1, s - 1)
        assert len(set(cuts)) == len(cuts)
        assert all(all(10 < c < 10 + L for c in cs) and list(cs) == sorted(set(cs)) for cs in cuts)
    assert count_segmentations(L, L + 1) == 0
    assert count_segmentations_up_to(L, L) == 2 ** (L - 1)


def test_balanced_cuts_uniform_and_skewed():
    assert balanced_cuts(np.ones(12), 0, 3) == (4, 8)
    assert balanced_cuts(np.ones(12), 5, 4) == (8, 11, 14)
    # one heavy layer first: it gets a segment of its own
    assert balanced_cuts(np.array([10.0, 1, 1, 1, 1]), 0, 2) == (1,)
    # never an empty segment, even when the costs ask for one
    cuts = balanced_cuts(np.array([0, 0, 0, 100.0]), 0, 4)
    assert cuts == (1, 2, 3)


def test_balanced_cuts_is_the_first_nearest_gap_of_an_argmin():
    """The bisection finds the gap an argmin over every gap would: nearest prefix to the target,
    the first on ties; with runs of zero costs, equal costs, costs 15 orders of magnitude apart and
    negative costs (clipped)."""

    def by_argmin(costs, lo, segments):
        n = len(costs)
        if segments <= 1:
            return ()
        prefix = np.concatenate([[0.0], np.cumsum(np.maximum(np.asarray(costs, dtype=np.float64), 0.0))])
        if prefix[-1] <= 0:
            prefix = np.arange(n + 1, dtype=np.float64)
        cuts, prev = [], 0
        for j in range(1, segments):
            gaps = np.arange(prev + 1, n - (segments - j) + 1)
            prev = int(gaps[np.argmin(np.abs(prefix[gaps] - prefix[-1] * j / segments))])
            cuts.append(lo + prev)
        return tuple(cuts)

    rng = np.random.default_rng(1)
    compared = 0
    for trial in range(1500):
        n = int(rng.integers(1, 30))
        costs = [rng.random(n), rng.integers(0, 3, n).astype(float),
                 np.where(rng.random(n) < 0.5, 0.0, rng.random(n) * 10.0 ** rng.integers(-12, 3, n)),
                 np.full(n, rng.choice([1e-9, 1.0, 3.0])), rng.normal(size=n)][trial % 5]
        for s in range(1, n + 1):
            assert balanced_cuts(costs, 7, s) == by_argmin(costs, 7, s), (costs, s)
            compared += 1
    assert compared > 10_000


def test_candidate_cuts_exhaustive_then_bounded():
    exhaustive = candidate_cuts(0, 8, 3, [np.ones(8)], limit=10_000)
    assert {s: len(c) for s, c in exhaustive.items()} == {1: 1, 2: 7, 3: 21}
    bounded = candidate_cuts(0, 30, 5, [np.ones(30), np.arange(30.0)], limit=50, radius=2)
    assert len(bounded[5]) < math.comb(29, 4)
    assert balanced_cuts(np.ones(30), 0, 5) in bounded[5]
    for s, cands in bounded.items():
        for cs in cands:
            assert len(cs) == s - 1 and all(0 < c < 30 for c in cs) and list(cs) == sorted(set(cs))
    assert all(len(p) == 2 for p in perturbations((5, 10), 0, 20, 2))


def _toy():
    layers = [gemm(f"g{i}", 64, 256 * (1 + i % 3), 256 * (1 + (i + 1) % 3)) for i in range(10)]
    layers.insert(3, conv("c", 16, 16, 32, 32, 3))  # shapes need not chain for the cost model
    return chain("toy", layers)


@pytest.mark.parametrize("l2_bytes", [10 * 1024 * 1024, 400_000, 120_000])
def test_scorer_matches_evaluator_on_a_column(l2_bytes):
    # One column of chiplets: every chiplet touches a side DRAM interface (no side hops) and
    # consecutive chiplets are one hop apart, which is what the scorer's replica assumes. Small
    # L2s make segments stream their weights and shrink the mini-batch.
    model = _toy()
    mcm = MCM("col", ("N", "S", "N", "S"), num_pes=256, chiplet={"l2_bytes": l2_bytes})
    ev = Evaluator([model], [4], mcm)
    lo, hi = 2, 9
    scorer = SegmentScorer(ev, 0, lo, hi, "edp")
    for cuts in [(), (5,), (3, 6), (3, 5, 7)]:
        path = list(range(len(cuts) + 1))
        lat, en = scorer.evaluate(np.array([cuts], dtype=np.int64).reshape(1, len(cuts)), mcm.class_of[path])
        r = ev.evaluate_assignment(Assignment.from_cuts(0, lo, hi, cuts, path))
        assert lat[0] == pytest.approx(r.latency_s, rel=1e-9)
        assert en[0] == pytest.approx(r.energy_j, rel=1e-9)


def test_scoring_top_k_and_fallbacks():
    model = _toy()
    mcm = grid_mcm("NS/SN", num_pes=256)
    ev = Evaluator([model], [4], mcm)
    cuts = candidate_cuts(0, 11, 3, [np.ones(11)])
    probes = {1: [(0,), (1,)], 2: [(0, 1), (1, 0)], 3: [(0, 1, 0), (1, 0, 1)]}
    scored = SegmentScorer(ev, 0, 0, 11).score(cuts, probes)
    assert len(scored) == sum(len(c) for c in cuts.values())
    assert [s.score for s in scored] == sorted(s.score for s in scored)
    best = top_k(scored, 3)
    assert best == scored[:3]
    fb = best_per_segment_count(scored)
    assert sorted(fb) == [1, 2, 3] and all(fb[s].num_segments == s for s in fb)
    # the best score is the best over its probes
    top = scored[0]
    arr = np.array([top.cuts]).reshape(1, top.num_segments - 1)
    vals = [float(np.prod(SegmentScorer(ev, 0, 0, 11).evaluate(arr, p))) for p in probes[top.num_segments]]
    assert top.score == pytest.approx(min(vals))


@pytest.mark.parametrize("scenario,mcm", [("sc5", "het-cross-6x6"), ("sc6", "het-sides-8x8")])
@pytest.mark.parametrize("pad_all", [False, True])
def test_cut_sets_of_every_segment_count_scored_at_once_equal_one_count_at_a_time(scenario, mcm, pad_all,
                                                                                  monkeypatch):
    """SEG scores all segment counts in a few padded batches (CutSetEstimator.evaluate_groups); the
    numbers must be the per-count ones to the last bit, from 1 to 18 segments, which holds only while
    numpy sums a padded row in the same order (the batching rule in evaluate_groups): a numpy that
    changes that fails here instead of moving SCAR's schedules. ``pad_all`` lifts the size bound so
    that every count goes through the padding."""
    from scar_gym import evaluator
    from scar_gym.evaluator import CutSetEstimator

    if pad_all:
        monkeypatch.setattr(evaluator, "PAD_ELEMENTS", 10 ** 12)
    from scar_gym.factory import make_evaluator
    from scar_gym.policies.scar.sched import probe_class_sequences

    ev = make_evaluator(scenario, mcm)
    rng = np.random.default_rng(0)
    checked = set()
    for m, model in enumerate(ev.models):
        lo = int(rng.integers(0, max(1, model.num_layers - 20)))
        hi = min(model.num_layers, lo + 40)
        est = CutSetEstimator(ev, m, lo, hi)
        cuts = candidate_cuts(lo, hi, min(hi - lo, 18), [np.ones(hi - lo), rng.random(hi - lo)], limit=200, radius=1)
        groups = [(np.array(cs, dtype=np.int64).reshape(len(cs), s - 1),
                   np.array(probe_class_sequences(ev.mcm, s, 8, limit_per_root=20), dtype=np.int64))
                  for s, cs in cuts.items()]
        for (c, probes), (lat, en) in zip(groups, est.evaluate_groups(groups)):
            want_lat, want_en = est.evaluate(c, probes)
            assert lat.shape == want_lat.shape == (len(probes), len(c))
            assert np.array_equal(lat, want_lat) and np.array_equal(en, want_en)
            checked.add(c.shape[1] + 1)
    assert set(range(1, 19)) <= checked
