"""Trend warnings: planted surge found, nominal false-alarm rate, calendar-aware baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from haizhou.analytics.calendar import (
    FIRST_YEAR,
    HOLIDAY_PERIODS,
    LAST_YEAR,
    MAKEUP_WORKDAYS,
    holiday_names,
    is_holiday,
    is_makeup_workday,
)
from haizhou.analytics.warnings import (
    TrendBaseline,
    exceedance_probability,
    trend_warnings,
)
from haizhou.domain import Level

WEEKDAY_FACTOR = np.array([1.0, 0.9, 0.9, 1.0, 1.3, 1.5, 1.2])  # Mon..Sun


def true_mean(days: pd.DatetimeIndex, base: float, *, holiday_factor: float = 1.0,
              trend_per_year: float = 0.0) -> np.ndarray:  # fmt: skip
    years = (days - days[-1]).days.to_numpy() / 365.25
    mu = base * WEEKDAY_FACTOR[days.day_of_week] * np.exp(trend_per_year * years)
    return mu * np.where(is_holiday(days.to_numpy()), holiday_factor, 1.0)


def frame_of(series: dict[tuple[str, str], np.ndarray], days: pd.DatetimeIndex) -> pd.DataFrame:
    parts = [
        pd.DataFrame({"jurisdiction": j, "category": c, "period_start": days, "count": y})
        for (j, c), y in series.items()
    ]
    return pd.concat(parts, ignore_index=True)


DAYS = pd.date_range("2023-06-01", "2024-05-31", freq="D")  # 366 days; now = 2024-06-01
NOW = "2024-06-01"


def test_planted_surge_is_found_and_explained() -> None:
    rng = np.random.default_rng(42)
    series = {}
    for j in ("新浦派出所", "浦东派出所", "路南派出所"):
        for c in ("盗窃", "诈骗"):
            series[(j, c)] = rng.poisson(true_mean(DAYS, 4.0, trend_per_year=0.2))
    mu = true_mean(DAYS, 4.0, trend_per_year=0.2)
    surge = rng.poisson(mu * np.r_[np.ones(DAYS.size - 7), np.full(7, 2.2)])
    series[("新浦派出所", "盗窃")] = surge
    frame = frame_of(series, DAYS)
    before = frame.copy()
    warnings = trend_warnings(frame, now=NOW)
    pd.testing.assert_frame_equal(frame, before)  # input untouched
    top = warnings[0]
    assert (top.jurisdiction, top.category) == ("新浦派出所", "盗窃")
    assert top.level is Level.RED and top.probability < 0.001
    assert top.observed == int(surge[-7:].sum())
    assert top.expected == pytest.approx(mu[-7:].sum(), rel=0.15)
    assert top.period_start == np.datetime64("2024-05-25") and top.period_end == np.datetime64(NOW)
    assert top.explanation_zh.startswith(f"新浦派出所 盗窃: 近7天 {top.observed} 起, 预期 ")
    assert "同期基线, 2024-05-25 至 2024-05-31" in top.explanation_zh
    assert top.explanation_zh.endswith("超出概率 p<0.001")
    assert f"{top.observed} in the last 7 days" in top.explanation_en
    assert f"expected {top.expected:.1f}" in top.explanation_en
    d = top.to_dict()
    assert d["level"] == "red" and d["period_start"].startswith("2024-05-25")
    # no other series is red
    assert all(w.level is not Level.RED for w in warnings[1:])


def test_false_alarm_rate_is_near_nominal() -> None:
    rng = np.random.default_rng(2024)
    n_series = 160
    series = {
        (f"所{k:03d}", "盗窃"): rng.poisson(true_mean(DAYS, 6.0, trend_per_year=0.3))
        for k in range(n_series)
    }
    warnings = trend_warnings(
        frame_of(series, DAYS), now=NOW, include_all=True, min_observed=0,
        distribution="poisson",
    )  # fmt: skip
    p = np.array([w.probability for w in warnings])
    assert p.size == n_series
    rate = float(np.mean(p < 0.05))
    sd = np.sqrt(0.05 * 0.95 / n_series)
    # discrete counts make the test slightly conservative; the estimated baseline slightly
    # liberal: the rate must be near 5 %, within 3 binomial standard deviations
    assert 0.05 - 3 * sd <= rate <= 0.05 + 3 * sd, rate
    assert 0.4 <= float(np.mean(p)) <= 0.6  # p roughly uniform, not piled at 0 or 1
    levels = [w.level for w in warnings if w.level is not None]
    assert sum(lv is Level.RED for lv in levels) <= 2


def test_baseline_knows_holidays() -> None:
    # two years of data where holidays triple the count; window = Spring Festival 2024
    days = pd.date_range("2022-02-01", "2024-02-16", freq="D")
    rng = np.random.default_rng(7)
    mu = true_mean(days, 3.0, holiday_factor=3.0)
    frame = frame_of({("所", "盗窃"): rng.poisson(mu)}, days)
    window_start = "2024-02-10"
    base = TrendBaseline(history_days=730).fit(frame, now=window_start)
    fest = pd.date_range(window_start, "2024-02-16", freq="D")
    expected = base.predict("所", "盗窃", fest)
    assert expected == pytest.approx(mu[-7:], rel=0.25)
    w = trend_warnings(frame, now="2024-02-17", history_days=730, include_all=True)
    assert len(w) == 1 and w[0].probability > 0.05  # the festival surge is expected
    naive = trend_warnings(frame, now="2024-02-17", history_days=730, holidays=False)
    assert naive[0].level is Level.RED  # a calendar-blind baseline cries wolf
    # without the holiday term, i.e. data past the calendar: a clear error, not a guess
    late = frame.assign(period_start=frame["period_start"] + pd.DateOffset(years=5))
    with pytest.raises(ValueError, match="holiday calendar covers 2014"):
        trend_warnings(late, now="2029-02-17")


def test_hourly_periods_learn_hour_of_day() -> None:
    hours = pd.date_range("2024-03-01", "2024-05-31 23:00", freq="h")
    shape = 1.0 + 0.8 * np.sin(2 * np.pi * (hours.hour.to_numpy() - 6) / 24)
    rng = np.random.default_rng(3)
    frame = frame_of({("所", "噪音"): rng.poisson(0.8 * shape)}, hours)
    base = TrendBaseline(history_days=80).fit(frame, now="2024-05-31")
    assert base.period_ns_ == 3600 * 10**9
    last_day = pd.date_range("2024-05-31", periods=24, freq="h")
    pred = base.predict("所", "噪音", last_day)
    assert np.corrcoef(pred, shape[:24])[0, 1] > 0.9
    assert abs(int(np.argmax(pred)) - 12) <= 1 and int(np.argmin(pred)) in {23, 0, 1}
    assert pred.sum() == pytest.approx(0.8 * shape[:24].sum(), rel=0.1)
    w = trend_warnings(frame, now="2024-06-01", window_days=1, history_days=80, include_all=True)
    assert w[0].explanation_zh.split(": ")[1].startswith("近1天")
    w6 = trend_warnings(frame, now="2024-06-01", window_days=0.25, history_days=80,
                        include_all=True)  # fmt: skip
    assert "近6小时" in w6[0].explanation_zh


def test_overdispersion_is_measured_and_used() -> None:
    rng = np.random.default_rng(11)
    mu = true_mean(DAYS, 5.0)
    alpha = 0.3
    y = rng.poisson(mu * rng.gamma(1 / alpha, alpha, size=mu.size))
    frame = frame_of({("所", "盗窃"): y, ("所", "诈骗"): rng.poisson(mu)}, DAYS)
    base = TrendBaseline().fit(frame, now=NOW)
    s = base.series_.set_index("category")
    assert s.loc["盗窃", "distribution"] == "negative_binomial"
    assert 0.15 <= s.loc["盗窃", "dispersion"] <= 0.5
    assert s.loc["诈骗", "distribution"] == "poisson" and s.loc["诈骗", "dispersion"] == 0.0
    assert base.dispersion("所", "盗窃") == s.loc["盗窃", "dispersion"]


def test_newton_fit_matches_sklearn_poisson_regressor() -> None:
    from sklearn.linear_model import PoissonRegressor

    from haizhou.analytics.warnings import _fit_poisson

    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(size=300), rng.integers(0, 2, 300), np.zeros(300)])
    x[:5, 2] = 1.0  # a rare indicator
    y = rng.poisson(np.exp(0.5 + 0.3 * x[:, 0] - 0.4 * x[:, 1]))
    ours = _fit_poisson(x, y.astype(float), 1e-4)
    ref = PoissonRegressor(alpha=1e-4, tol=1e-12, max_iter=10_000).fit(x, y)
    np.testing.assert_allclose(ours.coef, ref.coef_, atol=1e-5)
    assert ours.intercept == pytest.approx(ref.intercept_, abs=1e-5)


def test_exceedance_probability_values() -> None:
    assert exceedance_probability(5, 2.0) == pytest.approx(1 - stats.poisson.cdf(4, 2.0))
    assert exceedance_probability(0, 2.0) == 1.0
    assert exceedance_probability(3, 0.0) == 0.0
    # NB2 with mean 10 and alpha 0.5 (one period): n = 1 / alpha = 2, p = n / (n + mean)
    want = stats.nbinom.sf(19, 2.0, 2.0 / 12.0)
    assert exceedance_probability(20, 10.0, dispersion=0.5) == pytest.approx(want)
    # over-dispersion makes the same excess less surprising
    assert exceedance_probability(20, 10.0, dispersion=0.5) > exceedance_probability(20, 10.0)


def test_levels_follow_thresholds() -> None:
    days = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    counts = np.r_[np.full(days.size - 7, 3), np.full(7, 4)]  # 28 vs ~21 expected
    frame = pd.DataFrame({"jurisdiction": "所", "category": "盗窃", "period_start": days,
                          "count": counts})  # fmt: skip
    (w,) = trend_warnings(frame, now="2024-07-01", history_days=175, distribution="poisson",
                          include_all=True)  # fmt: skip
    p = w.probability
    assert 0.05 < p < 0.2
    (strict,) = trend_warnings(frame, now="2024-07-01", history_days=175,
                               distribution="poisson", thresholds=(0.01, 0.05, 0.1, 0.3))  # fmt: skip
    assert strict.level is (Level.BLUE if p >= 0.1 else Level.YELLOW)
    (default,) = trend_warnings(frame, now="2024-07-01", history_days=175, distribution="poisson")
    assert default.level is Level.BLUE and default.probability == pytest.approx(p)  # p < 0.1
    tight = (0.001, 0.002, 0.003, 0.004)
    assert trend_warnings(frame, now="2024-07-01", history_days=175, thresholds=tight) == []


def test_bad_input_says_what_and_where() -> None:
    frame = pd.DataFrame({"jurisdiction": ["所"] * 3, "category": ["盗窃"] * 3,
                          "period_start": pd.date_range("2024-01-01", periods=3),
                          "count": [1, -2, 3]})  # fmt: skip
    with pytest.raises(ValueError, match="row 1"):
        trend_warnings(frame, now="2024-01-04")
    with pytest.raises(ValueError, match="lacks column"):
        trend_warnings(frame.drop(columns="count"), now="2024-01-04")
    ok = frame.assign(count=[1, 2, 3])
    with pytest.raises(ValueError, match="period boundary"):
        trend_warnings(ok, now="2024-01-04 05:00", window_days=1)
    with pytest.raises(ValueError, match="thresholds"):
        trend_warnings(ok, now="2024-01-04", thresholds=(0.1, 0.01, 0.05, 0.2))
    with pytest.raises(ValueError, match="'distribution' parameter of TrendBaseline"):
        trend_warnings(ok, now="2024-01-04", window_days=1, distribution="normal")
    with pytest.raises(TypeError, match="DataFrame"):
        trend_warnings(ok.to_dict(), now="2024-01-04")


# --- calendar ---------------------------------------------------------------------------


def test_calendar_known_days() -> None:
    assert is_holiday(["2014-01-31", "2016-02-13", "2020-02-02", "2023-04-05"]).all()
    assert not is_holiday(["2014-02-07", "2020-02-03", "2023-04-06", "2024-10-08"]).any()
    assert is_holiday(["2015-09-03", "2015-09-05"]).all()  # 70th anniversary
    assert is_makeup_workday(["2015-09-06", "2024-02-04", "2026-02-28"]).all()
    assert holiday_names(["2026-02-15", "2027-10-02"]).tolist() == ["春节", "国庆节"]
    assert holiday_names(["2025-10-08"], language="en").tolist() == [
        "Mid-Autumn Festival and National Day"
    ]
    with pytest.raises(ValueError, match="2014–2027"):
        is_holiday(["2013-10-01"])
    assert not is_holiday(["2013-10-01"], strict=False)[0]


def test_calendar_table_is_consistent() -> None:
    starts = np.array([p.start for p in HOLIDAY_PERIODS], dtype="datetime64[D]")
    ends = np.array([p.end for p in HOLIDAY_PERIODS], dtype="datetime64[D]")
    assert (ends >= starts).all() and (starts[1:] > ends[:-1]).all()  # sorted, disjoint
    assert ((ends - starts).astype(int) <= 9).all()
    years = set(starts.astype("datetime64[Y]").astype(int) + 1970)
    assert years >= set(range(FIRST_YEAR, LAST_YEAR + 1))
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        assert is_holiday([f"{year}-10-01", f"{year}-10-02", f"{year}-10-03"]).all(), year
        names = {p.name_zh for p in HOLIDAY_PERIODS if p.start.startswith(str(year))}
        assert any("春节" in n for n in names) and any("中秋" in n for n in names), year
    work = np.array(MAKEUP_WORKDAYS, dtype="datetime64[D]")
    weekday = (work.astype(int) + 3) % 7
    assert np.isin(weekday, [5, 6]).all()  # make-up days are weekend days
    assert not is_holiday(work).any()
    assert all(p.official for p in HOLIDAY_PERIODS if p.start < "2027")
    assert not any(p.official for p in HOLIDAY_PERIODS if p.start >= "2027")


def test_trend_baseline_estimator_contract() -> None:
    import pickle

    from sklearn.base import clone

    from haizhou.errors import NotFittedError

    rng = np.random.default_rng(1)
    frame = frame_of({("所", "盗窃"): rng.poisson(true_mean(DAYS, 4.0))}, DAYS)
    model = TrendBaseline(history_days=200.0, distribution="poisson")
    params = model.get_params()
    with pytest.raises(NotFittedError, match="TrendBaseline"):
        model.predict("所", "盗窃", ["2024-06-01"])
    assert model.fit(frame, now=NOW) is model
    assert model.get_params() == params
    assert clone(model).get_params() == params
    again = pickle.loads(pickle.dumps(model))
    day = ["2024-06-01", "2024-06-02"]
    np.testing.assert_allclose(again.predict("所", "盗窃", day), model.predict("所", "盗窃", day))
    assert model.series_["n_periods"].tolist() == [200]
    with pytest.raises(KeyError, match="No baseline"):
        model.predict("别所", "盗窃", day)
    with pytest.raises(ValueError, match="'history_days' parameter of TrendBaseline"):
        TrendBaseline(history_days=0).fit(frame, now=NOW)
