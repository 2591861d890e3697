"""Hit rate, PAI, PEI and the rolling-origin backtest: known answers and properties."""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.base import EventSet
from haizhou.analytics.evaluation import (
    captured_events,
    concentration_report,
    flag_counts,
    max_captured,
    pai,
    rolling_origin_backtest,
)
from haizhou.analytics.forecast import NaiveCounts
from haizhou.analytics.grid import Grid


def test_pai_by_hand_on_a_toy_grid() -> None:
    # 4 x 5 = 20 cells, 1 flagged at 5 %; the flagged cell holds 3 of 12 events.
    risk = np.zeros(20)
    risk[7] = 10.0
    risk[3] = 5.0
    counts = np.zeros(20)
    counts[7], counts[3], counts[12] = 3, 4, 5
    # hit rate 3/12 = 0.25; area share 1/20 = 0.05; PAI = 5
    assert pai(risk, counts, 0.05) == pytest.approx(5.0)
    # 10 % = 2 cells: 7 of 12 captured; PAI = (7/12) / 0.1
    assert pai(risk, counts, 0.10) == pytest.approx((7 / 12) / 0.1)


def test_ties_count_by_expectation() -> None:
    # k = 2: one cell above the tie, a group of 3 tied cells of which 1 is needed -> 1/3.
    risk = [9.0, 4.0, 4.0, 4.0, 0.0]
    counts = [1.0, 3.0, 0.0, 6.0, 100.0]
    assert captured_events(risk, counts, 2) == pytest.approx(1.0 + (3.0 + 0.0 + 6.0) / 3)
    # all cells equal: a uniform forecast captures c share of events
    assert captured_events(np.ones(10), np.arange(10.0), 5) == pytest.approx(45.0 / 2)


def test_flag_counts_floor_with_float_guard() -> None:
    assert flag_counts(5717, [0.01, 0.05, 0.1]).tolist() == [57, 285, 571]
    assert flag_counts(100, [0.07]).tolist() == [7]  # 0.07 * 100 = 7.000000000000001
    with pytest.raises(ValueError, match="coverages must be in"):
        flag_counts(10, [0.0])


def _brute_force(risk: list[float], counts: list[float], k: int) -> float:
    """Average capture over every ordering of tied cells (the definition of 'by expectation')."""
    n = len(risk)
    groups = sorted(set(risk), reverse=True)
    orders = [
        list(itertools.chain.from_iterable(p))
        for p in itertools.product(
            *[list(itertools.permutations([i for i in range(n) if risk[i] == g])) for g in groups]
        )
    ]
    return float(np.mean([sum(counts[i] for i in order[:k]) for order in orders]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=6),
    st.data(),
)
def test_captured_matches_brute_force_tie_average(risk: list[int], data: st.DataObject) -> None:
    n = len(risk)
    counts = data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    k = data.draw(st.integers(0, n))
    got = captured_events([float(r) for r in risk], [float(c) for c in counts], k)
    assert got == pytest.approx(_brute_force([float(r) for r in risk], counts, k))
    assert got <= max_captured(counts, k) + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=2, max_size=40), st.data())
def test_perfect_forecast_has_pei_one(counts: list[float], data: st.DataObject) -> None:
    k = data.draw(st.integers(1, len(counts)))
    c = np.round(np.asarray(counts))
    # risk = the counts themselves: capture = the best possible
    assert captured_events(c + 0.0, c, k) == pytest.approx(max_captured(c, k))


def test_captured_refuses_nan_risk() -> None:
    with pytest.raises(ValueError, match="risk must be finite"):
        captured_events([np.nan, 1.0], [1.0, 1.0], 1)


def _toy_events() -> tuple[EventSet, Grid]:
    # Grid of 10 cells (1 row); cell 0 has 5 past events, cell 1 has 2, others 1 each.
    xs = [50.0] * 5 + [150.0] * 2 + [250.0 + 100 * i for i in range(8)]
    ts = list(np.linspace(0, 9, len(xs)))
    # test events on day 10: two in cell 0, one in cell 5; on day 11: one in cell 1
    xs += [50.0, 50.0, 550.0, 150.0]
    ts += [10.2, 10.5, 10.7, 11.1]
    ev = EventSet.from_arrays(ts, xs, [50.0] * len(xs))
    return ev, Grid.covering(ev.x_m, ev.y_m, cell_size_m=100.0)


def test_backtest_known_answer_on_toy_data() -> None:
    ev, grid = _toy_events()
    assert grid.n_study == 10
    res = rolling_origin_backtest(
        NaiveCounts,
        ev,
        grid,
        origins_days=[10.0, 11.0],
        horizon_days=1.0,
        train_days=10.0,
        coverages=[0.1, 0.2],
        method="naive",
    )
    # Origin 10, training [0, 10): cell 0 has 5, cell 1 has 2, cells 2..9 one each.
    # k=1 flags cell 0: 2 of the day's 3 events; k=2 adds cell 1 (no event that day).
    assert res.n_events.tolist() == [3, 1]
    assert res.captured[0].tolist() == [2.0, 2.0]
    # Origin 11, training [1, 11): cell 0 has 3 + 2 (day 10) = 5, cells 1 and 5 tie at 2.
    # k=1 flags cell 0 (no event on day 11); k=2 needs 1 of the 2 tied cells: half of the
    # day's event in cell 1 is captured.
    assert res.captured[1].tolist() == [0.0, 0.5]
    assert res.hit_rate.tolist() == pytest.approx([2 / 4, 2.5 / 4])
    assert res.pai.tolist() == pytest.approx([(2 / 4) / 0.1, (2.5 / 4) / 0.2])
    # the best any k cells could do: k=1: 2 + 1 = 3; k=2: 3 + 1 = 4
    assert res.pei.tolist() == pytest.approx([2 / 3, 2.5 / 4])
    rows = res.rows()
    assert rows[0] == {
        "method": "naive",
        "coverage": 0.1,
        "hit_rate": 0.5,
        "pai": 5.0,
        "pei": pytest.approx(2 / 3),
    }


def test_backtest_never_shows_test_events_to_the_fit() -> None:
    ev, grid = _toy_events()

    class Spy(NaiveCounts):
        seen: ClassVar[list[float]] = []

        def fit(self, events, *, now, context=None, grid=None):  # type: ignore[override]
            Spy.seen.append(float(events.t_days.max()) - float(now))
            return super().fit(events, now=now)

    rolling_origin_backtest(
        Spy, ev, grid, origins_days=[10.0, 11.0], horizon_days=1.0, train_days=10.0
    )
    assert max(Spy.seen) < 0


def test_pai_is_nan_without_events() -> None:
    assert math.isnan(pai([1.0, 0.0], [0.0, 0.0], 0.5))


def test_concentration_report_by_zone_and_feedback_overlap() -> None:
    flagged = np.array([[0, 1], [0, 2], [3, 2]])
    past = np.tile([9.0, 8.0, 1.0, 0.0], (3, 1))
    rep = concentration_report(
        flagged, past, ["N", "N", "S", "S"], origins_days=[0, 1, 40], period_days=30
    )
    assert rep.zones == ("N", "S")
    assert rep.area_share.tolist() == [0.5, 0.5]
    assert rep.flag_share.tolist() == [[0.75, 0.25], [0.0, 1.0]]
    # past top-2 = cells 0, 1: overlaps 1, 0.5 (period 1) and 0 (period 2)
    assert rep.past_top_overlap.tolist() == pytest.approx([0.75, 0.0])
    assert rep.past_record_share.tolist() == pytest.approx([(17 / 18 + 10 / 18) / 2, 1 / 18])
    assert set(rep.to_dict()) >= {"zones", "flag_share", "past_top_overlap"}
