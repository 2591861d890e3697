"""Blocking never drops a pair inside its window (property test against brute force)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.linkage.blocking import candidate_pairs, count_pairs_within_gap
from haizhou.analytics.linkage.crimes import CrimeTable


def _brute(t: CrimeTable, r: float, gap: float, use_category: bool) -> set[tuple[int, int]]:
    out = set()
    for a, b in itertools.combinations(range(len(t)), 2):
        if use_category and t.category is not None and t.category[a] != t.category[b]:
            continue
        d = np.hypot(t.x_m[a] - t.x_m[b], t.y_m[a] - t.y_m[b])
        g = max(0.0, t.t_from_days[b] - t.t_to_days[a], t.t_from_days[a] - t.t_to_days[b])
        if d <= r and g <= gap:
            out.add((a, b))
    return out


@st.composite
def tables(draw):
    n = draw(st.integers(0, 30))
    coord = st.floats(0, 3000, allow_nan=False)
    xs = draw(st.lists(coord, min_size=n, max_size=n))
    ys = draw(st.lists(coord, min_size=n, max_size=n))
    starts = draw(st.lists(st.floats(0, 200), min_size=n, max_size=n))
    widths = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(0, 2), st.floats(0, 150)), min_size=n, max_size=n
        )
    )
    cats = draw(st.lists(st.sampled_from(["盗窃", "抢劫"]), min_size=n, max_size=n))
    return CrimeTable.from_arrays(
        crime_id=[f"c{k}" for k in range(n)],
        x_m=xs,
        y_m=ys,
        t_from=starts,
        t_to=np.add(starts, widths),
        category=cats,
    )


@settings(max_examples=50, deadline=None)
@given(
    t=tables(),
    r=st.floats(1, 2500),
    gap=st.floats(0, 60),
    use_category=st.booleans(),
)
def test_blocking_returns_exactly_the_pairs_inside_the_window(t, r, gap, use_category):
    i, j = candidate_pairs(t, max_distance_m=r, max_gap_days=gap, use_category=use_category)
    got = list(zip(i.tolist(), j.tolist(), strict=True))
    assert len(got) == len(set(got))  # each pair once
    assert all(a < b for a, b in got)
    assert set(got) == _brute(t, r, gap, use_category)


@settings(max_examples=60, deadline=None)
@given(t=tables(), gap=st.floats(0, 60))
def test_count_pairs_within_gap_matches_brute_force(t, gap):
    want = len(_brute(t, 1e9, gap, use_category=False))
    assert count_pairs_within_gap(t.t_from_days, t.t_to_days, gap) == want


def test_long_window_is_not_missed():
    # a 139-day window overlaps a case whose midpoint is 60 days away
    t = CrimeTable.from_arrays(
        crime_id=["long", "short", "far"],
        x_m=[0, 10, 10],
        y_m=[0, 0, 0],
        t_from=[0.0, 130.0, 300.0],
        t_to=[139.0, 130.0, 300.0],
    )
    i, j = candidate_pairs(t, max_distance_m=100, max_gap_days=1)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 1)]


def test_blocking_rejects_bad_windows():
    t = CrimeTable.from_arrays(crime_id=["a"], x_m=[0], y_m=[0], t_from=[0.0])
    with pytest.raises(ValueError, match="max_distance_m"):
        candidate_pairs(t, max_distance_m=0, max_gap_days=1)
    with pytest.raises(ValueError, match="max_gap_days"):
        candidate_pairs(t, max_distance_m=1, max_gap_days=float("nan"))
