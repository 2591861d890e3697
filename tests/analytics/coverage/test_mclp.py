"""MCLP solvers against exhaustive search and against spopt."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from haizhou.analytics.coverage import (
    GREEDY_GUARANTEE,
    coverage_matrix,
    exact_mclp,
    greedy_mclp,
    solve_mclp,
)


def _brute(a: np.ndarray, w: np.ndarray, k: int) -> float:
    best = 0.0
    for sites in itertools.combinations(range(a.shape[0]), min(k, a.shape[0])):
        best = max(best, float(w[a[list(sites)].any(axis=0)].sum()))
    return best


def _plain_greedy(a: np.ndarray, w: np.ndarray, k: int) -> float:
    covered = np.zeros(a.shape[1], bool)
    value = 0.0
    for _ in range(k):
        gains = [(w[a[j] & ~covered].sum(), -j) for j in range(a.shape[0])]
        g, j = max(gains)
        if g <= 0:
            break
        covered |= a[-j]
        value += g
    return value


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**20),
    n_sites=st.integers(2, 8),
    n_dem=st.integers(1, 25),
    k=st.integers(1, 4),
)
def test_exact_is_optimal_and_greedy_within_guarantee(seed, n_sites, n_dem, k):
    rng = np.random.default_rng(seed)
    a = rng.uniform(size=(n_sites, n_dem)) < 0.3
    w = rng.integers(0, 10, n_dem).astype(float)
    opt = _brute(a, w, k)
    ex = exact_mclp(a, w, k)
    gr = greedy_mclp(a, w, k)
    assert ex.objective == pytest.approx(opt)
    assert ex.status == "optimal"
    assert gr.objective >= GREEDY_GUARANTEE * opt - 1e-9
    assert gr.objective == pytest.approx(_plain_greedy(a, w, k))
    assert gr.upper_bound >= opt - 1e-9
    assert gr.objective == pytest.approx(gr.marginal_gains.sum())
    # the reported objective is the weight the chosen sites really cover
    assert gr.objective == pytest.approx(w[a[gr.sites].any(axis=0)].sum() if gr.sites.size else 0)


def test_greedy_can_be_suboptimal_and_the_gap_is_reported():
    # classic trap: greedy takes the big middle set, the optimum takes the two halves
    a = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [0, 1, 1, 1, 1, 0]], bool)
    w = np.ones(6)
    s = solve_mclp(a, w, 2)
    assert s.greedy.sites[0] == 2 and s.greedy.objective == pytest.approx(5.0)
    assert s.exact.objective == pytest.approx(6.0)
    assert sorted(s.exact.sites.tolist()) == [0, 1]
    assert s.gap_greedy_to_exact == pytest.approx(1.0 / 6.0)
    assert s.best is s.exact


def test_covered_demand_is_ignored():
    a = np.array([[1, 1, 0], [0, 0, 1]], bool)
    r = greedy_mclp(a, [5.0, 5.0, 1.0], 1, covered=[True, True, False])
    assert r.sites.tolist() == [1] and r.objective == 1.0


def test_coverage_matrix_matches_distances():
    rng = np.random.default_rng(3)
    s = rng.uniform(0, 1000, (50, 2))
    d = rng.uniform(0, 1000, (300, 2))
    m = coverage_matrix(s[:, 0], s[:, 1], d[:, 0], d[:, 1], 120.0)
    want = np.hypot(s[:, None, 0] - d[None, :, 0], s[:, None, 1] - d[None, :, 1]) <= 120.0
    assert sparse.issparse(m) and np.array_equal(m.toarray(), want)


def test_bad_input_is_refused_with_reason():
    with pytest.raises(ValueError, match="one weight per demand point"):
        greedy_mclp([[1, 0]], [1.0], 1)
    with pytest.raises(ValueError, match="int >= 0"):
        greedy_mclp([[1, 0]], [1.0, 1.0], -1)
    with pytest.raises(ValueError, match=">= 0"):
        exact_mclp([[1, 0]], [1.0, -1.0], 1)
    with pytest.raises(ValueError, match="radius_m"):
        coverage_matrix([0], [0], [0], [0], 0.0)


@pytest.mark.slow
def test_at_least_as_good_as_spopt_on_the_same_instance():
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    rng = np.random.default_rng(11)
    cx, cy = rng.uniform(0, 2000, (2, 30))
    dx, dy = rng.uniform(0, 2000, (2, 200))
    w = rng.integers(1, 6, 200).astype(float)
    a = coverage_matrix(cx, cy, dx, dy, 250.0)
    ours = exact_mclp(a, w, 6)
    cost = np.hypot(dx[:, None] - cx[None, :], dy[:, None] - cy[None, :])
    model = locate.MCLP.from_cost_matrix(cost, w, service_radius=250.0, p_facilities=6)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    sites = [j for j, v in enumerate(model.fac_vars) if v.value() and v.value() > 0.5]
    theirs = float(w[a.toarray()[sites].any(axis=0)].sum())
    assert ours.objective >= theirs - 1e-9
    assert greedy_mclp(a, w, 6).objective >= GREEDY_GUARANTEE * theirs
