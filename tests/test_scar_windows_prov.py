"""MCM-Reconfig first-fit packing (hand trace) and PROV node provisioning."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scar_gym.errors import ConfigError
from scar_gym.policies.scar.policy import split_crowded_windows
from scar_gym.policies.scar.prov import all_provisions, provision
from scar_gym.policies.windows import first_fit_windows


def test_first_fit_hand_trace():
    # Model 0: layers of 1 s; model 1: a 3 s layer then two 0.5 s layers; boundaries at 1.5 s and 3 s.
    # Model 0: L0 ends at 1; L1 would straddle 1.5 -> window 1 from 1.5 (ends 2.5); L2 would straddle 3
    #   -> window 2 (open-ended) with L2, L3.
    # Model 1: L0 (3 s) straddles 1.5 but is the first layer of window 0, so it stays; the clock (3)
    #   has passed both boundaries, so L1, L2 go to window 2; model 1 skips window 1.
    tw = first_fit_windows([np.array([1, 1, 1, 1.0]), np.array([3, 0.5, 0.5])], [1.5, 3.0])
    assert tw.windows == ({0: (0, 1), 1: (0, 1)}, {0: (1, 2)}, {0: (2, 4), 1: (1, 3)})


def test_first_fit_drops_empty_windows():
    tw = first_fit_windows([np.array([1.0, 1.0])], [10.0, 20.0])
    assert tw.windows == ({0: (0, 2)},)


def test_split_crowded_windows():
    wins = split_crowded_windows([{0: (0, 2), 1: (0, 1), 2: (0, 3)}, {0: (2, 4)}], 2)
    assert wins == [{0: (0, 2), 1: (0, 1)}, {2: (0, 3)}, {0: (2, 4)}]


def test_provision_rounding_examples():
    assert provision([1, 1, 1], 9) == (3, 3, 3)
    assert provision([2, 1], 9) == (6, 3)
    # quotas 4.5, 2.7, 1.8 -> floors 4, 2, 1; the two spare chiplets go to the largest remainders.
    assert provision([0.5, 0.3, 0.2], 9) == (4, 3, 2)
    # a tiny model still gets one chiplet, taken from the most over-served model
    assert provision([1000, 1e-6], 9) == (8, 1)
    assert provision([0, 0], 4) == (2, 2)


def test_provision_caps_and_errors():
    assert provision([5, 1], 9, caps=[2, 9]) == (2, 7)
    assert provision([1, 1], 9, caps=[2, 3]) == (2, 3)  # total = sum of caps < |C|
    with pytest.raises(ConfigError, match="3 models but only 2 chiplets"):
        provision([1, 1, 1], 2)
    with pytest.raises(ConfigError):
        provision([1, -1], 4)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=9),
       st.integers(min_value=0, max_value=30))
def test_provision_property(weights, extra):
    chiplets = len(weights) + extra
    n = provision(weights, chiplets)
    assert sum(n) == chiplets
    assert all(x >= 1 for x in n)
    # Largest remainder: each count is within one of its exact quota (when the >= 1 floor is not binding).
    w = np.asarray(weights)
    if w.sum() > 0 and all(q >= 1 for q in w / w.sum() * chiplets):
        q = w / w.sum() * chiplets
        assert all(math.floor(qi) <= ni <= math.ceil(qi) for qi, ni in zip(q, n))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=0, max_value=100, allow_nan=False), st.integers(1, 6)),
                min_size=1, max_size=6),
       st.integers(min_value=0, max_value=12))
def test_provision_property_with_caps(models, extra):
    weights = [w for w, _ in models]
    caps = [c for _, c in models]
    chiplets = len(models) + extra
    n = provision(weights, chiplets, caps)
    assert sum(n) == min(chiplets, sum(caps))
    assert all(1 <= x <= c for x, c in zip(n, caps))


def test_all_provisions_counts():
    allocs = list(all_provisions(3, 9))
    assert len(allocs) == math.comb(8, 2)
    assert len(set(allocs)) == len(allocs)
    assert all(sum(a) == 9 and min(a) >= 1 for a in allocs)
    capped = list(all_provisions(2, 9, caps=[2, 9]))
    assert capped == [(1, 8), (2, 7)]
    assert list(all_provisions(2, 9, caps=[2, 3])) == [(2, 3)]
