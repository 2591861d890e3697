"""The shared permutation engine: draws, islands, sign handling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.spatial_stats import Neighbours, conditional_randomisation
from haizhou.analytics.spatial_stats.inference import _draws, check_alternative


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 60), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_draws_are_distinct_and_in_range(pool, k, seed):
    k = min(k, pool)
    d = _draws(np.random.default_rng(seed), pool, k, 50)
    assert d.shape == (50, k)
    assert d.min() >= 0 and d.max() < pool
    assert all(len(set(row)) == k for row in d.tolist())


def test_draws_are_uniform_over_positions():
    d = _draws(np.random.default_rng(0), 10, 3, 20_000)
    freq = np.bincount(d.ravel(), minlength=10) / d.size
    np.testing.assert_allclose(freq, 0.1, atol=0.006)
    # large k relative to the pool takes the other branch; still uniform
    d = _draws(np.random.default_rng(1), 10, 8, 5_000)
    np.testing.assert_allclose(np.bincount(d.ravel(), minlength=10) / d.size, 0.1, atol=0.01)


def test_sites_without_neighbours_are_never_significant():
    nb = Neighbours.from_lists([[1], [0], []])
    y = np.array([1.0, 5.0, 9.0])
    res = conditional_randomisation(
        y, nb, np.array([5.0, 1.0, 0.0]), np.ones(3), permutations=99, alternative="two-sided",
        rng=np.random.default_rng(0),
    )  # fmt: skip
    assert res.p_sim[2] == 1.0


def test_negative_scale_swaps_the_tails():
    nb = Neighbours.from_grid(5, 5)
    y = np.arange(25.0)
    obs = nb.to_sparse() @ y
    kwargs = {"permutations": 199, "alternative": "greater"}
    pos = conditional_randomisation(y, nb, obs, np.ones(25), rng=np.random.default_rng(3), **kwargs)
    neg = conditional_randomisation(
        y, nb, obs, -np.ones(25), rng=np.random.default_rng(3), **kwargs
    )
    assert np.array_equal(pos.n_greater, neg.n_less)
    assert np.array_equal(pos.n_less, neg.n_greater)
    flat = conditional_randomisation(
        y, nb, obs, np.zeros(25), rng=np.random.default_rng(3), **kwargs
    )
    assert np.all(flat.p_sim == 1.0)


def test_alternative_names():
    assert check_alternative("less") == "less"
    with pytest.raises(ValueError, match="'two-sided', 'greater', 'less'"):
        check_alternative("lesser")
