"""KPIs against hand-computed examples, plus properties of the definitions."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics import kpis

SH = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


# --- change ----------------------------------------------------------------------------------


def test_change_ratios_by_hand() -> None:
    assert kpis.year_over_year(150, 120) == pytest.approx(0.25)
    assert kpis.period_over_period(90, 120) == pytest.approx(-0.25)
    assert kpis.year_over_year(0, 7) == -1.0
    assert kpis.period_over_period(3, 0) is None
    assert kpis.year_over_year(0, 0) is None


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_change_ratio_is_finite_or_none(current: int, base: int) -> None:
    value = kpis.change_ratio(current, base)
    if base == 0:
        assert value is None
    else:
        assert math.isfinite(value) and value >= -1
        assert current == pytest.approx(base * (1 + value))


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "period", "start", "end"),
    [
        (sh(2026, 3, 18, 15), "day", sh(2026, 3, 18), sh(2026, 3, 19)),
        (sh(2026, 3, 18, 15), "week", sh(2026, 3, 16), sh(2026, 3, 23)),  # Wednesday
        (sh(2026, 3, 22, 23), "week", sh(2026, 3, 16), sh(2026, 3, 23)),  # Sunday night
        (sh(2026, 3, 18), "month", sh(2026, 3, 1), sh(2026, 4, 1)),
        (sh(2026, 12, 31, 23), "month", sh(2026, 12, 1), sh(2027, 1, 1)),
        (sh(2026, 5, 5), "quarter", sh(2026, 4, 1), sh(2026, 7, 1)),
        (sh(2026, 5, 5), "year", sh(2026, 1, 1), sh(2027, 1, 1)),
        # 2026-02-28 17:00 UTC is already March 1st in Shanghai.
        (datetime(2026, 2, 28, 17, tzinfo=UTC), "month", sh(2026, 3, 1), sh(2026, 4, 1)),
    ],
)
def test_period_bounds(at: datetime, period: str, start: datetime, end: datetime) -> None:
    assert kpis.period_bounds(at, period) == (start, end)


def test_previous_and_last_year_periods() -> None:
    assert kpis.previous_period(sh(2026, 1, 1), "month") == (sh(2025, 12, 1), sh(2026, 1, 1))
    assert kpis.previous_period(sh(2026, 4, 1), "quarter") == (sh(2026, 1, 1), sh(2026, 4, 1))
    assert kpis.same_period_last_year(sh(2026, 3, 1), "month") == (sh(2025, 3, 1), sh(2025, 4, 1))
    assert kpis.same_period_last_year(sh(2026, 3, 16), "week") == (sh(2025, 3, 17), sh(2025, 3, 24))
    assert kpis.same_period_last_year(sh(2028, 2, 29), "day") == (sh(2027, 2, 28), sh(2027, 3, 1))


def test_bad_period_and_naive_time() -> None:
    with pytest.raises(ValueError, match="period must be one of"):
        kpis.period_bounds(sh(2026, 1, 1), "fortnight")
    with pytest.raises(ValueError, match="timezone-aware"):
        kpis.period_bounds(datetime(2026, 1, 1), "month")


@given(
    at=st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
    ),
    period=st.sampled_from(kpis.PERIODS),
)
@settings(max_examples=200, deadline=None)
def test_periods_tile_time(at: datetime, period: str) -> None:
    start, end = kpis.period_bounds(at, period)
    assert start <= at < end
    prev_start, prev_end = kpis.previous_period(start, period)
    assert prev_end == start and prev_start < prev_end
    last_start, last_end = kpis.same_period_last_year(start, period)
    assert timedelta(days=358) <= start - last_start <= timedelta(days=366)
    assert kpis.period_bounds(last_start, period) == (last_start, last_end)


# --- counts ----------------------------------------------------------------------------------

TIMES = [
    sh(2026, 3, 2, 9),  # theft, this month
    sh(2026, 3, 15, 22),  # theft
    sh(2026, 3, 31, 23, 59),  # fraud (still March in Shanghai)
    sh(2026, 2, 10, 8),  # theft, previous month
    sh(2026, 2, 11, 8),  # fraud
    sh(2026, 2, 12, 8),  # fraud
    sh(2025, 3, 20, 12),  # theft, March last year
    sh(2026, 4, 1, 0),  # fight, next month: not counted
]
CATS = ["theft", "theft", "fraud", "theft", "fraud", "fraud", "theft", "fight"]


def test_counts_by_period_by_hand() -> None:
    frame = kpis.counts_by_period(TIMES, CATS, period="month")
    got = {(r.category, r.period_start.strftime("%Y-%m")): r.count for r in frame.itertuples()}
    assert got == {
        ("fight", "2026-04"): 1,
        ("fraud", "2026-02"): 2,
        ("fraud", "2026-03"): 1,
        ("theft", "2025-03"): 1,
        ("theft", "2026-02"): 1,
        ("theft", "2026-03"): 2,
    }
    assert str(frame["period_start"].dt.tz) == "Asia/Shanghai"


def test_compare_counts_by_hand() -> None:
    table = kpis.compare_counts(TIMES, CATS, at=sh(2026, 3, 10), period="month").set_index(
        "category"
    )
    assert list(table.index) == ["fraud", "theft", "all"]
    assert table.loc["theft", ["current", "previous", "last_year"]].tolist() == [2, 1, 1]
    assert table.loc["theft", "pop"] == pytest.approx(1.0)  # (2 - 1) / 1
    assert table.loc["theft", "yoy"] == pytest.approx(1.0)
    assert table.loc["fraud", ["current", "previous", "last_year"]].tolist() == [1, 2, 0]
    assert table.loc["fraud", "pop"] == pytest.approx(-0.5)
    assert np.isnan(table.loc["fraud", "yoy"])  # no base: not inf
    assert table.loc["all", ["current", "previous", "last_year"]].tolist() == [3, 3, 1]
    assert table.loc["all", "pop"] == 0.0 and table.loc["all", "yoy"] == pytest.approx(2.0)


def test_counts_refuse_naive_and_misaligned() -> None:
    with pytest.raises(ValueError, match="naive"):
        kpis.counts_by_period(pd.Series(pd.to_datetime(["2026-01-01"])), ["a"], period="day")
    with pytest.raises(ValueError, match="categories has 1"):
        kpis.counts_by_period(TIMES[:2], ["a"], period="day")


@given(
    offsets=st.lists(st.integers(0, 3 * 365 * 24), max_size=60),
    period=st.sampled_from(kpis.PERIODS),
)
@settings(max_examples=80, deadline=None)
def test_counts_sum_to_the_number_of_events(offsets: list[int], period: str) -> None:
    times = [sh(2024, 1, 1) + timedelta(hours=h) for h in offsets]
    cats = ["a" if h % 3 else "b" for h in offsets]
    frame = kpis.counts_by_period(times, cats, period=period)
    assert int(frame["count"].sum()) == len(offsets)
    assert (frame["count"] > 0).all()


# --- cases -----------------------------------------------------------------------------------

FILED = [
    sh(2026, 3, 1),
    sh(2026, 3, 5),
    sh(2026, 3, 20),
    sh(2026, 3, 28),
    sh(2026, 2, 10),
    sh(2026, 4, 2),
]
SOLVED = [sh(2026, 3, 3), None, sh(2026, 4, 10), sh(2026, 3, 30), sh(2026, 3, 15), sh(2026, 4, 3)]
MARCH = {"start": sh(2026, 3, 1), "end": sh(2026, 4, 1)}


def test_clearance_rates_by_hand() -> None:
    cohort = kpis.clearance_rate_cohort(FILED, SOLVED, **MARCH)
    # Filed in March: 4; of them solved before April: cases 1 and 4.
    assert (cohort.numerator, cohort.denominator, cohort.rate) == (2, 4, 0.5)
    flow = kpis.clearance_rate_flow(FILED, SOLVED, **MARCH)
    # Solved in March: cases 1, 4 and the February case 5.
    assert (flow.numerator, flow.denominator, flow.rate) == (3, 4, 0.75)
    assert kpis.cases_solved(SOLVED, **MARCH) == 3
    empty = kpis.clearance_rate_cohort([], [], **MARCH)
    assert (empty.denominator, empty.rate) == (0, None)


def test_suspects_counted_once() -> None:
    suspects = [["p1", "p2"], [], ["p9"], ["p2", "p3"], ["p4"], ["p5"]]
    # Solved in March: cases 1 (p1, p2), 4 (p2, p3), 5 (p4) -> 4 people.
    assert kpis.suspects_caught(SOLVED, suspects, **MARCH) == 4


@given(
    st.lists(st.tuples(st.integers(0, 200), st.one_of(st.none(), st.integers(0, 400))), max_size=40)
)
@settings(max_examples=100, deadline=None)
def test_cohort_rate_is_a_proportion(pairs: list[tuple[int, int | None]]) -> None:
    base = sh(2026, 1, 1)
    filed = [base + timedelta(days=f) for f, _ in pairs]
    solved = [None if s is None else base + timedelta(days=f + s) for f, s in pairs]
    window = {"start": base + timedelta(days=50), "end": base + timedelta(days=100)}
    cohort = kpis.clearance_rate_cohort(filed, solved, **window)
    flow = kpis.clearance_rate_flow(filed, solved, **window)
    assert cohort.denominator == flow.denominator
    assert cohort.numerator <= cohort.denominator
    if cohort.denominator == 0:
        assert cohort.rate is None and flow.rate is None
    else:
        assert 0 <= cohort.rate <= 1


# --- rankings and rates ----------------------------------------------------------------------


def test_ranking_with_ties_by_hand() -> None:
    table = kpis.rank_with_ties({"s3": 0.5, "s1": 0.9, "s2": 0.5, "s4": None, "s5": 0.1})
    assert table["unit"].tolist() == ["s1", "s2", "s3", "s5", "s4"]
    assert table["rank"].tolist()[:4] == [1, 2, 2, 4]
    assert pd.isna(table["rank"].iloc[4])
    low_first = kpis.rank_with_ties({"a": 3, "b": 1, "c": 1}, ascending=True)
    assert list(zip(low_first["unit"], low_first["rank"], strict=True)) == [
        ("b", 1),
        ("c", 1),
        ("a", 3),
    ]


@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=3), st.integers(0, 5), max_size=12))
def test_ranks_are_competition_ranks(values: dict[str, int]) -> None:
    table = kpis.rank_with_ties(values)
    for unit, value, rank in zip(table["unit"], table["value"], table["rank"], strict=True):
        assert rank == 1 + sum(v > value for v in values.values()), unit


def test_on_time_rate_by_hand() -> None:
    h = lambda hour: datetime(2026, 1, 1, hour, tzinfo=UTC)  # noqa: E731
    due = [h(2), h(2), h(2), h(9), h(4), None]
    done = [h(1), h(2), h(3), None, None, h(1)]
    # Counted: done with a deadline (3) + undone past due at 05:00 (04:00) = 4; on time: 2.
    rate = kpis.on_time_rate(due, done, now=h(5))
    assert (rate.numerator, rate.denominator, rate.rate) == (2, 4, 0.5)
    assert kpis.on_time_rate([], [], now=h(5)).rate is None


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_interval_published_values(k: int, n: int, low: float, high: float) -> None:
    r = kpis.wilson_interval(k, n)
    assert r.rate == pytest.approx(k / n)
    assert (round(r.low, 4), round(r.high, 4)) == (low, high)


def test_wilson_edge_cases() -> None:
    assert kpis.wilson_interval(0, 0).rate is None
    with pytest.raises(ValueError, match="successes <= n"):
        kpis.wilson_interval(3, 2)


@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_holds_the_estimate(pair: tuple[int, int]) -> None:
    k, n = pair
    r = kpis.wilson_interval(k, n)
    assert 0 <= r.low <= r.rate <= r.high <= 1
