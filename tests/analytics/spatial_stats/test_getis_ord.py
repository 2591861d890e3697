"""Getis-Ord Gi*: published values, esda on the same weights, exact permutation p-values."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats

from haizhou.analytics.spatial_stats import Neighbours, getis_ord_gi_star
from haizhou.geo import cells_from_lonlat

# esda's G_Local docstring example (DistanceBand threshold 15, binary, star=True).
POINTS = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], dtype=float)
Y = np.array([2, 3, 3.2, 5, 8, 7])
ZS_STAR_BINARY = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]


def _esda():
    esda = pytest.importorskip("esda", reason="esda (dev dependency, the reference) is absent")
    weights = pytest.importorskip("libpysal.weights", reason="libpysal (dev dependency) absent")
    return esda, weights


def _to_w(weights, nb: Neighbours):
    return weights.W({i: nb.neighbours_of(i).tolist() for i in range(nb.n)}, silence_warnings=True)


def test_published_values_of_esda_docstring():
    nb = Neighbours.distance_band(POINTS[:, 0], POINTS[:, 1], 15.0)
    res = getis_ord_gi_star(Y, nb, permutations=0)
    np.testing.assert_allclose(res.z, ZS_STAR_BINARY, atol=5e-9)
    # statistic is the neighbourhood's share of the total; expected w_i / n
    assert res.statistic[5] == pytest.approx((8 + 7) / Y.sum())
    assert nb.cardinalities.tolist() == [2, 3, 1, 3, 4, 1]
    np.testing.assert_allclose(res.expected, (nb.cardinalities + 1) / 6)
    np.testing.assert_allclose(res.p_norm, 2 * stats.norm.sf(np.abs(res.z)))


def _h3_case(seed: int, n_points: int = 3000):
    rng = np.random.default_rng(seed)
    lon = 119.2 + rng.normal(0, 0.02, n_points)
    lat = 34.6 + rng.normal(0, 0.02, n_points)
    cells, counts = np.unique(cells_from_lonlat(lon, lat, 9), return_counts=True)
    return Neighbours.from_h3(cells, k=1), counts.astype(float)


@pytest.mark.slow  # importing esda (libpysal, geopandas, numba) takes 5-20 s; the test < 1 s
@pytest.mark.parametrize("case", ["h3", "queen", "distance"])
def test_z_equals_esda_g_local_star(case):
    esda, weights = _esda()
    rng = np.random.default_rng(11)
    if case == "h3":
        nb, y = _h3_case(5)
    elif case == "queen":
        nb = Neighbours.from_grid(12, 15, queen=True)
        y = rng.poisson(2.0, nb.n).astype(float)
    else:
        xy = rng.uniform(0, 1000, (150, 2))
        nb = Neighbours.distance_band(xy[:, 0], xy[:, 1], 120.0)
        y = rng.gamma(2.0, 3.0, nb.n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y, _to_w(weights, nb), transform="B", star=True, permutations=0)
    res = getis_ord_gi_star(y, nb, permutations=0)
    assert np.max(np.abs(res.z - ref.Zs)) < 1e-8
    np.testing.assert_allclose(res.statistic, ref.Gs, rtol=1e-12)
    np.testing.assert_allclose(res.expected, ref.EGs, rtol=1e-12)
    np.testing.assert_allclose(res.p_norm, np.minimum(1, 2 * ref.p_norm), rtol=1e-9)


def _exact_tails(y: np.ndarray, nb: Neighbours) -> tuple[np.ndarray, np.ndarray]:
    """P(sim >= obs), P(sim <= obs) over every neighbour set of the right size (slow, exact)."""
    n = y.size
    ge, le = np.empty(n), np.empty(n)
    for i in range(n):
        k = int(nb.cardinalities[i])
        obs = y[nb.neighbours_of(i)].sum()
        others = np.delete(y, i)
        sums = np.array([others[list(c)].sum() for c in itertools.combinations(range(n - 1), k)])
        ge[i] = np.mean(sums >= obs - 1e-12)
        le[i] = np.mean(sums <= obs + 1e-12)
    return ge, le


def test_permutation_p_converges_to_exact_conditional_p():
    nb = Neighbours.from_lists([[1, 2], [0, 2, 3], [0, 1], [1, 4, 5], [3, 5], [3, 4], [0, 5]])
    y = np.array([1.0, 7.0, 2.0, 9.0, 0.0, 4.0, 3.0])
    ge, le = _exact_tails(y, nb)
    r = 40_000
    for alternative, exact in (
        ("greater", ge),
        ("less", le),
        ("two-sided", np.minimum(1.0, 2 * np.minimum(ge, le))),
    ):
        res = getis_ord_gi_star(y, nb, permutations=r, alternative=alternative, random_state=4)
        # binomial standard error at R = 40,000 is at most 0.0025; allow 4 of them
        np.testing.assert_allclose(res.p_sim, exact, atol=0.011)
        assert res.permutations == r and res.alternative == alternative


def test_simulations_never_draw_the_site_itself_and_agree_with_p_sim():
    nb = Neighbours.from_grid(4, 5, queen=False)
    y = np.ones(nb.n)
    y[7] = 1000.0  # unique: any simulated set for site 7 containing 1000 would be a bug
    res = getis_ord_gi_star(
        y, nb, permutations=500, alternative="greater", random_state=1, keep_simulations=True
    )
    sims = res.simulations
    assert sims.shape == (nb.n, 500)
    total = y.sum()
    neighbour_sums = sims * total - y[:, None]
    assert np.all(neighbour_sums[7] < 1000.0)
    assert np.allclose(neighbour_sums[7], nb.cardinalities[7])  # all ones drawn
    # every other site draws 1000 in about k_i / (n - 1) of the draws
    share = np.mean(neighbour_sums[0] >= 1000.0)
    assert abs(share - nb.cardinalities[0] / (nb.n - 1)) < 0.06
    recount = (np.sum(sims >= res.statistic[:, None] - 1e-12, axis=1) + 1) / 501
    np.testing.assert_allclose(res.p_sim, recount)


def test_hot_spot_is_found_and_inputs_untouched():
    nb = Neighbours.from_grid(9, 9, queen=True)
    y = np.full(81, 2.0)
    y[[30, 31, 32, 39, 40, 41, 48, 49, 50]] = 12.0
    y_before = y.copy()
    indices_before = nb.indices.copy()
    res = getis_ord_gi_star(y, nb, permutations=199, alternative="greater", random_state=0)
    assert np.array_equal(y, y_before) and np.array_equal(nb.indices, indices_before)
    assert int(np.argmax(res.z)) == 40
    assert res.p_sim[40] == pytest.approx(1 / 200)
    assert res.p_norm[40] < 1e-6
    assert res.p_sim[0] > 0.5 and res.z[0] < 0


def test_reproducible_with_seed():
    nb, y = _h3_case(2, 800)
    a = getis_ord_gi_star(y, nb, permutations=99, random_state=3)
    b = getis_ord_gi_star(y, nb, permutations=99, random_state=3)
    assert np.array_equal(a.p_sim, b.p_sim)
    assert a.simulations is None


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([1, 2, -1, 0], {}, "non-negative"),
        ([1, 2, np.nan, 0], {}, "finite"),
        ([3, 3, 3, 3], {}, "all values are equal"),
        ([1, 2, 3], {}, "describe 4 sites"),
        ([1, 2, 3, 4], {"alternative": "both"}, "alternative must be"),
        ([1, 2, 3, 4], {"permutations": -1}, "permutations"),
    ],
)
def test_bad_input_is_refused(values, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getis_ord_gi_star(values, Neighbours.from_grid(2, 2), **kwargs)
