"""Fractional ranks: a key strictly between any two, valid digits only, and spreads that
are sorted and short."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedesk.projects import ranks

keys = st.text(alphabet=ranks.DIGITS, min_size=1, max_size=12).filter(ranks.valid)


@given(keys, keys)
def test_between_is_strictly_between(a, b):
    if a == b:
        return
    low, high = sorted((a, b))
    key = ranks.between(low, high)
    assert low < key < high and ranks.valid(key)


@given(keys)
def test_open_ends(a):
    assert ranks.between(None, a) < a < ranks.between(a, None)


def test_equal_or_reversed_bounds_are_refused():
    with pytest.raises(ValueError):
        ranks.between("V", "V")
    with pytest.raises(ValueError):
        ranks.between("W", "V")


@given(st.integers(min_value=1, max_value=500))
def test_spread_is_sorted_distinct_and_short(count):
    spread = ranks.spread(None, None, count)
    assert spread == sorted(spread) and len(set(spread)) == count
    assert max(len(k) for k in spread) <= 4


def test_random_inserts_keep_order_and_stay_short():
    rng = random.Random(7)
    order = [ranks.between(None, None)]
    for _ in range(2000):
        at = rng.randrange(len(order) + 1)
        low = order[at - 1] if at else None
        high = order[at] if at < len(order) else None
        order.insert(at, ranks.between(low, high))
    assert order == sorted(order) and len(set(order)) == len(order)
    assert max(len(k) for k in order) <= 8
