"""Warning levels: quantile, threshold and significance schemes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.levels import assign_levels
from haizhou.analytics.spatial_stats import fdr_adjust
from haizhou.domain import Level

R, OR, Y, B = Level.RED, Level.ORANGE, Level.YELLOW, Level.BLUE


def count(levels):
    return [int(sum(v is k for v in levels.ravel())) for k in (R, OR, Y, B, None)]


def test_quantile_defaults_on_a_thousand_cells():
    values = np.random.default_rng(0).permutation(np.arange(1.0, 1001.0))
    levels = assign_levels(values)
    assert count(levels) == [10, 40, 50, 100, 800]
    assert levels[np.argmax(values)] is R
    # the cuts: 991 (top 10), 951 (top 50), 901 (top 100), 801 (top 200)
    by_value = dict(zip(values.tolist(), levels.tolist(), strict=True))
    assert [by_value[v] for v in (991.0, 990.0, 951.0, 950.0, 901.0, 900.0, 801.0, 800.0)] == [
        R,
        OR,
        OR,
        Y,
        Y,
        B,
        B,
        None,
    ]


def test_quantile_ignores_empty_cells_and_nan_and_keeps_shape():
    values = np.zeros((10, 10))
    values[0, :3] = [5.0, 4.0, 3.0]
    values[1, 0] = np.nan
    levels = assign_levels(values, top_fractions=(0.01, 0.02, 0.03, 0.5))
    assert levels.shape == (10, 10)
    assert levels[0, :3].tolist() == [R, OR, Y]
    assert levels[1, 0] is None and levels[5, 5] is None  # zeros never levelled


def test_quantile_ties_take_the_higher_level():
    # the 10 % cut falls on a 1.0, so every 1.0 is yellow (not split across yellow and blue)
    levels = assign_levels([7.0] * 5 + [1.0] * 95)
    assert count(levels) == [5, 0, 95, 0, 0]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=300))
def test_quantile_levels_are_monotone_in_value(values):
    v = np.array(values)
    levels = assign_levels(v)
    rank = np.array([4 if x is None else x.rank for x in levels])
    order = np.argsort(v, kind="stable")
    assert np.all(np.diff(rank[order]) <= 0)  # higher value, never a lower level
    # at least the requested share reaches red (ties may add more), none below zero
    assert (rank == 0).sum() >= min(np.ceil(0.01 * v.size), (v > 0).sum())


def test_thresholds():
    levels = assign_levels([10, 8, 7.9, 4, 2, 1, 0.5, np.nan], scheme="threshold",
                           thresholds=(8, 4, 2, 1))  # fmt: skip
    assert levels.tolist() == [R, R, OR, OR, Y, B, None, None]
    with pytest.raises(ValueError, match="needs thresholds"):
        assign_levels([1.0], scheme="threshold")
    with pytest.raises(ValueError, match="strictly decreasing"):
        assign_levels([1.0], scheme="threshold", thresholds=(1, 2, 3, 4))


def test_significance_with_fdr():
    z = np.array([5.0, 3.5, 2.8, 1.2, 0.4, -4.0, 2.0])
    p = np.array([1e-6, 0.0004, 0.004, 0.2, 0.7, 1e-5, 0.045])
    raw = assign_levels(z, scheme="significance", p=p, fdr=None)
    assert raw.tolist() == [R, R, OR, B, None, None, Y]  # cold spot: no level
    q = fdr_adjust(p)
    adjusted = assign_levels(z, scheme="significance", p=p)
    expected = [R if qi < 0.001 else OR if qi < 0.01 else Y if qi < 0.05 else B for qi in q]
    expected = [e if zi >= 1.0 or e is not B else None for e, zi in zip(expected, z, strict=True)]
    expected[5] = None
    assert adjusted.tolist() == expected
    assert adjusted[6] is B  # significant before FDR, only elevated after
    no_blue = assign_levels(z, scheme="significance", p=p, fdr=None, blue_min_z=None)
    assert no_blue[3] is None


def test_bad_scheme_and_inputs():
    with pytest.raises(ValueError, match="scheme must be one of"):
        assign_levels([1.0], scheme="jenks")
    with pytest.raises(ValueError, match="needs p"):
        assign_levels([1.0], scheme="significance")
    with pytest.raises(ValueError, match="p has 2 values"):
        assign_levels([1.0], scheme="significance", p=[0.1, 0.2])
    with pytest.raises(ValueError, match="top_fractions"):
        assign_levels([1.0], top_fractions=(0.2, 0.1, 0.3, 0.4))
