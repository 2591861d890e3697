"""Emerging hot spots: one constructed cube per category, Mann-Kendall against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from haizhou.analytics.emerging import (
    EmergingPattern,
    classify_emerging,
    emerging_hot_spots,
    mann_kendall,
)
from haizhou.analytics.spatial_stats import Neighbours

SIDE = 9
CENTRE = (SIDE // 2) * SIDE + SIDE // 2
NB = Neighbours.from_grid(SIDE, SIDE, queen=True)
BACKGROUND = 10.0 + np.random.default_rng(42).integers(0, 3, (SIDE, SIDE))


def cube(pattern: str, magnitudes=None) -> np.ndarray:
    """A 9 × 9 grid over time: the 3 × 3 block around the centre is hot (H), cold (C) or
    like its surroundings (.), step by step; the background is the same at every step."""
    steps = []
    for t, ch in enumerate(pattern):
        grid = BACKGROUND.copy()
        block = grid[3:6, 3:6]
        if ch == "H":
            block[:] = 40.0 if magnitudes is None else magnitudes[t]
        elif ch == "C":
            block[:] = 0.0
        steps.append(grid.ravel())
    return np.array(steps)


CASES = [
    ("..........", None, EmergingPattern.NO_PATTERN),
    (".........H", None, EmergingPattern.NEW_HOT_SPOT),
    (".......HHH", None, EmergingPattern.CONSECUTIVE_HOT_SPOT),
    ("HHHHHHHHHH", np.linspace(20, 65, 10), EmergingPattern.INTENSIFYING_HOT_SPOT),
    ("HHHHHHHHHH", None, EmergingPattern.PERSISTENT_HOT_SPOT),
    (".HHHHHHHHH", None, EmergingPattern.PERSISTENT_HOT_SPOT),
    ("HHHHHHHHHH", np.linspace(65, 20, 10), EmergingPattern.DIMINISHING_HOT_SPOT),
    ("H.H..H.HHH", None, EmergingPattern.SPORADIC_HOT_SPOT),
    ("C..H.C...H", None, EmergingPattern.OSCILLATING_HOT_SPOT),
    ("HHHHHHHHH.", None, EmergingPattern.HISTORICAL_HOT_SPOT),
    (".........C", None, EmergingPattern.NEW_COLD_SPOT),
    ("........CC", None, EmergingPattern.CONSECUTIVE_COLD_SPOT),
    ("CCCCCCCCCC", None, EmergingPattern.PERSISTENT_COLD_SPOT),
    ("C.C...C..C", None, EmergingPattern.SPORADIC_COLD_SPOT),
    ("H...C.H..C", None, EmergingPattern.OSCILLATING_COLD_SPOT),
    ("CCCCCCCCC.", None, EmergingPattern.HISTORICAL_COLD_SPOT),
]


@pytest.mark.parametrize(("pattern", "magnitudes", "expected"), CASES)
def test_constructed_cube_gets_its_category(pattern, magnitudes, expected):
    data = cube(pattern, magnitudes)
    before = data.copy()
    res = emerging_hot_spots(data, NB, fdr="bh")
    assert np.array_equal(data, before)
    assert res.category[CENTRE] is expected
    # the hot / cold calls at the centre are the pattern itself
    assert "".join("H" if h else "C" if c else "." for h, c in
                   zip(res.hot[:, CENTRE], res.cold[:, CENTRE], strict=True)) == pattern  # fmt: skip


def test_trends_of_intensifying_and_diminishing():
    up = emerging_hot_spots(cube("HHHHHHHHHH", np.linspace(20, 65, 10)), NB)
    assert up.trend_z[CENTRE] > 3 and up.trend_p[CENTRE] < 0.01
    flat = emerging_hot_spots(cube("HHHHHHHHHH"), NB)
    assert flat.trend_z[CENTRE] == 0.0 and flat.trend_p[CENTRE] == 1.0


def test_intensifying_and_diminishing_cold_spots_follow_the_z_trend():
    hot = np.ones((10, 1), dtype=bool)
    none = np.zeros((10, 1), dtype=bool)
    falling, rising = np.array([-3.0]), np.array([3.0])
    p = np.array([0.003])
    assert classify_emerging(none, hot, falling, p)[0] is EmergingPattern.INTENSIFYING_COLD_SPOT
    assert classify_emerging(none, hot, rising, p)[0] is EmergingPattern.DIMINISHING_COLD_SPOT
    assert classify_emerging(hot, none, rising, p)[0] is EmergingPattern.INTENSIFYING_HOT_SPOT
    assert classify_emerging(hot, none, rising, np.array([0.2]))[0] is (
        EmergingPattern.PERSISTENT_HOT_SPOT
    )


def test_steps_without_contrast_are_not_significant():
    data = cube("....H")
    data[1] = 0.0  # a week with no events at all
    res = emerging_hot_spots(data, NB)
    assert np.all(res.z[1] == 0) and np.all(res.p[1] == 1)
    assert res.category[CENTRE] is EmergingPattern.NEW_HOT_SPOT


def test_permutation_p_values_can_drive_the_calls():
    res = emerging_hot_spots(cube(".....HHH"), NB, permutations=499, random_state=7, fdr=None)
    assert res.category[CENTRE] is EmergingPattern.CONSECUTIVE_HOT_SPOT
    assert res.p[-1, CENTRE] <= 0.05


def test_space_time_window_follows_esri_neighbourhood():
    from haizhou.analytics.emerging import _space_time_neighbours

    nb = Neighbours.from_grid(1, 3)  # sites 0 - 1 - 2 in a row
    st = _space_time_neighbours(nb, steps=3, window=1)
    # bin (t=1, site 1) = 4: neighbours 3, 5 now; 0, 2 and itself (1) one step back
    assert st.neighbours_of(4).tolist() == [0, 1, 2, 3, 5]
    assert st.neighbours_of(1).tolist() == [0, 2]  # the first step looks back at nothing
    # the whole cube is one Gi*: a flare in the last two steps is still a consecutive hot spot
    res = emerging_hot_spots(cube("......HHH"), NB, time_window=1)
    assert res.category[CENTRE] is EmergingPattern.CONSECUTIVE_HOT_SPOT
    with pytest.raises(ValueError, match="time_window"):
        emerging_hot_spots(cube("..H"), NB, time_window=-1)


def brute_mann_kendall(x):
    t = len(x)
    s = sum(np.sign(x[j] - x[i]) for i, j in itertools.combinations(range(t), 2))
    _, counts = np.unique(x, return_counts=True)
    var = (t * (t - 1) * (2 * t + 5) - sum(u * (u - 1) * (2 * u + 5) for u in counts)) / 18
    z = 0.0 if s == 0 else (s - np.sign(s)) / np.sqrt(var)
    return s, z, 2 * stats.norm.sf(abs(z))


def test_mann_kendall_equals_the_textbook_formula_with_ties():
    rng = np.random.default_rng(5)
    series = rng.integers(0, 5, (12, 40)).astype(float)  # many ties
    s, z, p = mann_kendall(series)
    for j in range(40):
        bs, bz, bp = brute_mann_kendall(series[:, j])
        assert s[j] == bs
        assert z[j] == pytest.approx(bz, abs=1e-12)
        assert p[j] == pytest.approx(bp, abs=1e-12)
    # S is Kendall's tau-a numerator against time
    tau = stats.kendalltau(np.arange(12), series[:, 0], variant="b").statistic
    assert np.sign(tau) == np.sign(s[0])


def test_titles_and_bad_input():
    assert EmergingPattern.OSCILLATING_HOT_SPOT.title_zh == "振荡热点"
    assert EmergingPattern.NO_PATTERN.title_zh == "无模式"
    with pytest.raises(ValueError, match="at least 2 time steps"):
        emerging_hot_spots(np.ones((1, 81)), NB)
    with pytest.raises(ValueError, match=r"\(time steps, 81 sites\)"):
        emerging_hot_spots(np.ones((3, 80)), NB)
    bad = np.ones((3, 81))
    bad[2, 5] = -1
    with pytest.raises(ValueError, match="step 2, site 5"):
        emerging_hot_spots(bad, NB)
