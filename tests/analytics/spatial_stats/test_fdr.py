"""FDR adjustment against SciPy and the step-up definition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from haizhou.analytics.spatial_stats import fdr_adjust, fdr_reject

p_lists = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=60)


@pytest.mark.parametrize("method", ["bh", "by"])
def test_equals_scipy_false_discovery_control(method):
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(0, 1, 300), rng.uniform(0, 0.001, 30)])
    np.testing.assert_allclose(
        fdr_adjust(p, method=method), stats.false_discovery_control(p, method=method), rtol=1e-12
    )


@settings(max_examples=200, deadline=None)
@given(p_lists, st.sampled_from([0.01, 0.05, 0.2]))
def test_reject_is_the_step_up_rule(ps, alpha):
    p = np.array(ps)
    m = p.size
    order = np.sort(p)
    passing = np.flatnonzero(order <= alpha * np.arange(1, m + 1) / m)
    cut = order[passing[-1]] if passing.size else -1.0
    assert fdr_reject(p, alpha).tolist() == (p <= cut).tolist()


@settings(max_examples=200, deadline=None)
@given(p_lists)
def test_adjusted_bounds_and_order(ps):
    p = np.array(ps)
    before = p.copy()
    bh, by = fdr_adjust(p), fdr_adjust(p, method="by")
    assert np.array_equal(p, before)  # input untouched
    assert np.all(bh >= p - 1e-15) and np.all(bh <= 1.0)
    assert np.all(by >= bh - 1e-15)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(bh[order]) >= -1e-15)  # monotone in p


def test_nan_is_left_out_of_the_family():
    q = fdr_adjust([0.01, np.nan, 0.02])
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2]], fdr_adjust([0.01, 0.02]))
    assert fdr_reject([np.nan, 0.001]).tolist() == [False, True]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"entry 1 is 1\.5"):
        fdr_adjust([0.1, 1.5])
    with pytest.raises(ValueError, match="'bh' or 'by'"):
        fdr_adjust([0.1], method="holm")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alpha"):
        fdr_reject([0.1], alpha=0.0)
