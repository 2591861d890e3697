"""Forecasters against slow, obvious references and known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from haizhou.analytics.base import EventSet
from haizhou.analytics.forecast import (
    GradientBoostedGrid,
    KernelDensityForecast,
    NaiveCounts,
    ProspectiveHotspot,
    RetrospectiveHotspot,
    SelfExcitingForecast,
    collapse_duplicates,
    make_forecaster,
    parse_methods,
)
from haizhou.analytics.forecast._surface import cell_integrated_gaussian
from haizhou.analytics.grid import Grid


def _grid(nx: int = 8, ny: int = 6, s: float = 100.0) -> Grid:
    return Grid(0.0, 0.0, s, nx, ny, np.ones(nx * ny, bool))


def _random_events(
    n: int = 60, seed: int = 0, span: float = 800.0, days: float = 100.0
) -> EventSet:
    rng = np.random.default_rng(seed)
    return EventSet.from_arrays(
        rng.uniform(0, days, n), rng.uniform(0, span, n), rng.uniform(0, span * 0.75, n)
    )


def test_naive_counts_only_the_window_before_now() -> None:
    grid = _grid(3, 1)
    ev = EventSet.from_arrays([1.0, 5.0, 9.0, 10.0, 12.0], [50, 50, 150, 250, 50], [50] * 5)
    assert NaiveCounts().fit(ev, now=10.0).predict(grid).tolist() == [2.0, 1.0, 0.0]
    assert NaiveCounts(window_days=6.0).fit(ev, now=10.0).predict(grid).tolist() == [1.0, 1.0, 0.0]


def test_prospective_matches_a_slow_loop() -> None:
    grid = _grid()
    ev = _random_events()
    now = 100.0
    est = ProspectiveHotspot(bandwidth_m=250.0, window_days=56.0).fit(ev, now=now)
    got = est.predict(grid)
    cx, cy = grid.centres()
    ecell = grid.cell_of(ev.x_m, ev.y_m)
    ex, ey = cx[ecell], cy[ecell]
    want = np.zeros(grid.n_cells)
    for c in range(grid.n_cells):
        for i in range(len(ev)):
            age = now - ev.t_days[i]
            if not (0 < age <= 56.0) or ev.t_days[i] < now - 56.0:
                continue
            d = np.hypot(cx[c] - ex[i], cy[c] - ey[i]) / grid.cell_size_m
            if d <= 2.5:
                want[c] += 1 / (1 + d) * 1 / (1 + np.floor(age / 7.0))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_retrospective_matches_a_slow_loop_up_to_binning() -> None:
    grid = _grid()
    ev = _random_events(seed=1)
    got = RetrospectiveHotspot(bandwidth_m=300.0, window_days=60.0).fit(ev, now=100.0).predict(grid)
    cx, cy = grid.centres()
    recent = ev.window(40.0, 100.0)
    d = np.hypot(cx[:, None] - recent.x_m[None], cy[:, None] - recent.y_m[None]) / 300.0
    want = np.where(d < 1, (1 - d**2) ** 2, 0).sum(1)
    # events are binned to a third of a cell: each term moves by well under 0.1
    assert np.abs(got - want).max() < 0.1 * len(recent) ** 0.5
    assert np.corrcoef(got, want)[0, 1] > 0.99


def test_cell_integrated_gaussian_matches_the_exact_integral() -> None:
    grid = _grid(10, 10, 50.0)
    x, y = np.array([243.0]), np.array([251.0])
    got = cell_integrated_gaussian(grid, x, y, bandwidth_m=80.0, oversample=9)
    ix = np.arange(10) * 50.0
    px = norm.cdf(ix + 50, 243.0, 80.0) - norm.cdf(ix, 243.0, 80.0)
    py = norm.cdf(ix + 50, 251.0, 80.0) - norm.cdf(ix, 251.0, 80.0)
    want = np.outer(py, px).ravel()
    assert np.abs(got - want).max() < 0.01
    assert got.sum() == pytest.approx(want.sum(), abs=0.01)


def test_kde_blend_adds_place_context_rescaled() -> None:
    grid = _grid()
    ev = EventSet.from_arrays([1.0], [50.0], [50.0])
    ctx = EventSet.from_arrays([1.0, 2.0, 3.0, 4.0], [750.0] * 4, [550.0] * 4)
    plain = KernelDensityForecast(bandwidths_m=0.0).fit(ev, now=5.0, context=ctx).predict(grid)
    mixed = KernelDensityForecast(bandwidths_m=0.0, context_weight=0.5, context_bandwidth_m=0.0)
    got = mixed.fit(ev, now=5.0, context=ctx).predict(grid)
    assert plain.sum() == pytest.approx(1.0)
    # the context's 4 events are rescaled to the target's 1 event, times 0.5
    assert got[grid.cell_of(750.0, 550.0)] == pytest.approx(0.5)
    assert got.sum() == pytest.approx(1.5)


def test_kde_needs_one_weight_per_bandwidth() -> None:
    with pytest.raises(ValueError, match="one weight per bandwidth"):
        KernelDensityForecast(bandwidths_m=(0.0, 100.0), bandwidth_weights=(1.0,)).fit(
            _random_events(), now=100.0
        )


def _simulate_hawkes(
    mu: float, theta: float, omega: float, sigma: float, T: float, L: float, seed: int
) -> EventSet:
    """Branching simulation: background Poisson, each event has Poisson(theta) children."""
    rng = np.random.default_rng(seed)
    n0 = rng.poisson(mu * T)
    t = list(rng.uniform(0, T, n0))
    x = list(rng.uniform(0, L, n0))
    y = list(rng.uniform(0, L, n0))
    queue = list(range(n0))
    while queue:
        i = queue.pop()
        for _ in range(rng.poisson(theta)):
            tc = t[i] + rng.exponential(1 / omega)
            if tc < T:
                t.append(tc)
                x.append(x[i] + rng.normal(0, sigma))
                y.append(y[i] + rng.normal(0, sigma))
                queue.append(len(t) - 1)
    keep = (np.array(x) > 0) & (np.array(x) < L) & (np.array(y) > 0) & (np.array(y) < L)
    return EventSet.from_arrays(np.array(t)[keep], np.array(x)[keep], np.array(y)[keep])


def test_sepp_recovers_known_trigger_parameters() -> None:
    ev = _simulate_hawkes(mu=8.0, theta=0.4, omega=0.5, sigma=50.0, T=300.0, L=5000.0, seed=4)
    est = SelfExcitingForecast(max_distance_m=400.0, max_lag_days=60.0, n_iter=100).fit(
        ev, now=300.0
    )
    assert est.theta_ == pytest.approx(0.4, abs=0.1)
    assert est.omega_ == pytest.approx(0.5, rel=0.3)
    assert est.sigma_m_ == pytest.approx(50.0, rel=0.25)


def test_sepp_without_excitation_finds_little() -> None:
    ev = _random_events(n=500, seed=2, span=5000.0, days=300.0)
    est = SelfExcitingForecast(n_iter=60).fit(ev, now=300.0)
    assert est.theta_ < 0.1


def test_sepp_trigger_raises_risk_after_a_fresh_event() -> None:
    grid = _grid(20, 20, 150.0)
    rng = np.random.default_rng(5)
    base = EventSet.from_arrays(
        rng.uniform(0, 300, 400), rng.uniform(0, 3000, 400), rng.uniform(0, 3000, 400)
    )
    est = SelfExcitingForecast(n_iter=5).fit(base, now=300.0, grid=grid)
    est.theta_, est.omega_, est.sigma_m_ = 0.5, 0.2, 60.0  # a strong known trigger
    before = est.predict(grid)
    fresh = EventSet(np.r_[base.t_days, 299.9], np.r_[base.x_m, 1525.0], np.r_[base.y_m, 1525.0])
    est.events_ = fresh
    after = est.predict(grid)
    cell = grid.cell_of(1525.0, 1525.0)
    # theta * exp(-omega * age) * (1 - exp(-omega * horizon)) * the kernel's mass in the cell
    # [1500, 1650)^2 around (1525, 1525)
    mass = (norm.cdf(125 / 60) - norm.cdf(-25 / 60)) ** 2
    expected = 0.5 * np.exp(-0.2 * 0.1) * (1 - np.exp(-0.2)) * mass
    assert after[cell] - before[cell] == pytest.approx(expected, rel=0.05)


def test_collapse_duplicates_keeps_one_per_time_and_place() -> None:
    ev = EventSet.from_arrays([1.0, 1.0, 1.0, 2.0], [5.0, 5.0, 6.0, 5.0], [0.0, 0.0, 0.0, 0.0])
    out = collapse_duplicates(ev)
    assert len(out) == 3
    assert sorted(zip(out.t_days.tolist(), out.x_m.tolist(), strict=True)) == [
        (1.0, 5.0),
        (1.0, 6.0),
        (2.0, 5.0),
    ]


def test_boosted_learns_a_persistent_hot_spot_and_ignores_the_future() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    hot = rng.random(n) < 0.4
    x = np.where(hot, rng.normal(1200, 60, n), rng.uniform(0, 3000, n))
    y = np.where(hot, rng.normal(900, 60, n), rng.uniform(0, 3000, n))
    ev = EventSet.from_arrays(rng.uniform(0, 200, n), x, y)
    grid = Grid.covering(x, y, cell_size_m=150.0)
    params = {"n_days": 15, "max_iter": 15, "min_samples_leaf": 20, "negative_rate": 1.0}
    est = GradientBoostedGrid(**params).fit(ev, now=150.0, grid=grid)
    risk = est.predict(grid)
    assert risk.shape == (grid.n_cells,)
    top = np.argsort(-risk[grid.study_cells])[:3]
    cx, cy = grid.centres()
    centres = np.column_stack([cx, cy])[grid.study_cells][top]
    assert np.all(np.hypot(centres[:, 0] - 1200, centres[:, 1] - 900) < 300)
    # events after 'now' change nothing
    early = ev.before(150.0)
    again = GradientBoostedGrid(**params).fit(early, now=150.0, grid=grid)
    np.testing.assert_allclose(again.predict(grid), risk)


def test_every_method_ignores_events_after_now() -> None:
    grid = _grid()
    ev = _random_events(n=200, days=100.0)
    for name in ("naive", "retrospective", "prospective", "kde", "sepp", "blend"):
        full = make_forecaster(name).fit(ev, now=60.0, context=ev, grid=grid).predict(grid)
        cut = ev.before(60.0)
        part = make_forecaster(name).fit(cut, now=60.0, context=cut, grid=grid).predict(grid)
        np.testing.assert_allclose(full, part, err_msg=name)


def test_parse_methods() -> None:
    assert parse_methods("all")[0] == "naive"
    assert parse_methods("auto") == ["auto"]
    assert parse_methods("sepp,naive,sepp") == ["sepp", "naive"]
    with pytest.raises(ValueError, match=r"unknown forecasting method.*bogus"):
        parse_methods("naive,bogus")


def test_bad_parameter_message_names_class_value_and_rule() -> None:
    with pytest.raises(ValueError) as info:
        ProspectiveHotspot(bandwidth_m=-5).fit(_random_events(), now=100.0)
    assert (
        str(info.value) == "The 'bandwidth_m' parameter of ProspectiveHotspot must be > 0; got -5."
    )
