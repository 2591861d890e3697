"""Trend early warning (趋势预警): is this week's count more than the calendar explains?

For every jurisdiction × category series of counts per period (hour or day), a log-linear
Poisson model learns the expected count from the history before the warning window::

    log E[count_t] = b0 + weekday(t) + hour_of_day(t) + b_h · holiday(t) + b_m · makeup(t)
                     + b_trend · (t − t_end) / 365.25 days

(weekday: six indicators, Monday the reference; hour-of-day: one indicator per hour present,
only for sub-daily periods; holiday / make-up working day from
:mod:`haizhou.analytics.calendar`; a linear trend per year). It is fitted by penalised maximum
likelihood (Newton's method on the log-likelihood with a small ridge penalty on
all but the intercept, scaled like scikit-learn's ``PoissonRegressor(alpha=ridge)``, which
gives the same estimates ~100× slower here; the penalty keeps an indicator whose periods are
all zero finite). Over-dispersion is measured by the method of moments on the fit,
``alpha = max(0, Σ((y − μ)² − y) / Σ μ²)`` (NB2: ``Var = μ + alpha μ²``); with
``distribution="auto"`` the negative binomial is used when Pearson's statistic exceeds
``df + 2 √(2 df)`` (about the 98th percentile of its χ² reference), else the Poisson.

The window's expected total is ``M = Σ μ_t`` over its periods; the exceedance probability is
``P(X >= observed)`` for X Poisson(M), or negative binomial with the window's mean ``M`` and
variance ``M + alpha Σ μ_t²`` (moment-matched). A probability below a threshold gives a level:
red < 0.001, orange < 0.01, yellow < 0.05, blue < 0.1 (configurable). Each warning is a
:class:`TrendWarning` that explains itself in zh-CN and English, e.g.
"新浦派出所 盗窃: 近7天 42 起, 预期 18.3 起 (同期基线), 超出概率 p<0.001".

The probability ignores the uncertainty of the fitted baseline, so with a short history it is
somewhat optimistic; with a year of daily history it is close to nominal (see the tests), and
with many series it is one test per series: read blue and yellow as "look", red as "act".

References
----------
.. [1] Farrington, C. P., Andrews, N. J., Beale, A. D. & Catchpole, M. A. (1996). A statistical
   algorithm for the early detection of outbreaks of infectious disease. Journal of the Royal
   Statistical Society A 159(3), 547–563. doi:10.2307/2983331
.. [2] Noufaily, A., Enki, D. G., Farrington, P., Garthwaite, P., Andrews, N. & Charlett, A.
   (2013). An improved algorithm for outbreak detection in multiple surveillance systems.
   Statistics in Medicine 32(7), 1206–1222. doi:10.1002/sim.5595
.. [3] Cameron, A. C. & Trivedi, P. K. (2013). Regression Analysis of Count Data, 2nd ed.,
   §3.2–3.4 (NB2 and moment estimators of over-dispersion). Cambridge University Press.
   doi:10.1017/CBO9781139013567
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import linalg, stats

from haizhou.analytics.base import Estimator, Interval, Options, check_is_fitted
from haizhou.analytics.calendar import is_holiday, is_makeup_workday
from haizhou.domain import Level

__all__ = [
    "DEFAULT_THRESHOLDS",
    "TrendBaseline",
    "TrendWarning",
    "exceedance_probability",
    "trend_warnings",
]

DEFAULT_THRESHOLDS: tuple[float, float, float, float] = (0.001, 0.01, 0.05, 0.1)
"""Exceedance probabilities below which a warning is red, orange, yellow, blue."""

_COLUMNS = ("jurisdiction", "category", "period_start", "count")
_LEVELS = (Level.RED, Level.ORANGE, Level.YELLOW, Level.BLUE)
_NS_PER_HOUR = 3_600 * 10**9
_NS_PER_DAY = 24 * _NS_PER_HOUR


@dataclass(frozen=True, slots=True)
class TrendWarning:
    """One trend warning (趋势预警) for a jurisdiction × category over a window.

    Attributes
    ----------
    jurisdiction, category : str
    period_start, period_end : numpy.datetime64
        The window ``[period_start, period_end)``, local time.
    observed : int
        Count in the window.
    expected : float
        Baseline expectation for the window (sum over its periods).
    probability : float
        ``P(X >= observed)`` under the baseline.
    level : haizhou.domain.Level or None
        From the probability thresholds; None when no threshold is reached.
    distribution : {"poisson", "negative_binomial"}
    dispersion : float
        NB2 over-dispersion ``alpha`` (0 for Poisson).
    explanation_zh, explanation_en : str
        Plain-language statement of the numbers above.
    """

    jurisdiction: str
    category: str
    period_start: np.datetime64
    period_end: np.datetime64
    observed: int
    expected: float
    probability: float
    level: Level | None
    distribution: str
    dispersion: float
    explanation_zh: str
    explanation_en: str

    def to_dict(self) -> dict[str, Any]:
        """Plain types (ISO strings, level as its value) for JSON and findings."""
        d = asdict(self)
        d["period_start"] = str(self.period_start)
        d["period_end"] = str(self.period_end)
        d["level"] = None if self.level is None else self.level.value
        return d


def _read_counts(frame: Any) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"counts_frame must be a pandas DataFrame with columns {', '.join(_COLUMNS)}; "
            f"got {type(frame).__name__}."
        )
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"counts_frame lacks column(s) {', '.join(map(repr, missing))}; it needs "
            f"{', '.join(map(repr, _COLUMNS))} (one row per jurisdiction, category and period)."
        )
    out = pd.DataFrame(
        {
            "jurisdiction": frame["jurisdiction"].astype(str).to_numpy(),
            "category": frame["category"].astype(str).to_numpy(),
            "period_start": pd.to_datetime(frame["period_start"]).to_numpy(),
            "count": pd.to_numeric(frame["count"], errors="coerce").to_numpy(),
        }
    )
    if out["period_start"].dt.tz is not None:  # pragma: no cover - to_numpy drops tz
        raise ValueError("period_start must be naive local time (Asia/Shanghai), not tz-aware.")
    bad = np.flatnonzero(
        out["period_start"].isna().to_numpy()
        | ~np.isfinite(out["count"].to_numpy(dtype=np.float64))
        | (out["count"].to_numpy(dtype=np.float64) < 0)
        | (out["count"].to_numpy(dtype=np.float64) % 1 != 0)
    )
    if bad.size:
        k = int(bad[0])
        raise ValueError(
            f"counts_frame row {k}: period_start {frame['period_start'].iloc[k]!r} and count "
            f"{frame['count'].iloc[k]!r} must be a time and a whole number >= 0 "
            f"({bad.size} bad row(s) in all)."
        )
    return out


def _infer_period_ns(starts: np.ndarray) -> int:
    uniq = np.unique(starts.astype("datetime64[ns]").astype(np.int64))
    if uniq.size < 2:
        raise ValueError(
            "counts_frame needs at least two distinct period_start values to tell the period "
            "length; pass period_hours explicitly."
        )
    step = int(np.gcd.reduce(np.diff(uniq)))
    if step % _NS_PER_HOUR:
        raise ValueError(
            "period_start values must lie on whole hours; found a spacing of "
            f"{step / 1e9:g} s. Aggregate the counts to hours or days first."
        )
    return step


def _design(
    starts_ns: np.ndarray, t_end_ns: int, hourly: bool, hours: np.ndarray, holidays: bool
) -> np.ndarray:
    """Feature matrix: 6 weekday, hour-of-day, holiday, make-up day, trend (years)."""
    days = starts_ns // _NS_PER_DAY
    # 1970-01-01 was a Thursday (weekday 3 with Monday = 0)
    weekday = (days + 3) % 7
    cols = [(weekday == d).astype(np.float64) for d in range(1, 7)]
    if hourly:
        hour = (starts_ns % _NS_PER_DAY) // _NS_PER_HOUR
        cols += [(hour == h).astype(np.float64) for h in hours[1:]]
    date = days.astype("datetime64[D]")
    if holidays:
        cols.append(is_holiday(date).astype(np.float64))
        cols.append(is_makeup_workday(date).astype(np.float64))
    else:
        cols += [np.zeros(days.size), np.zeros(days.size)]  # dropped as constant
    cols.append((starts_ns - t_end_ns) / (_NS_PER_DAY * 365.25))
    return np.column_stack(cols)


@dataclass(frozen=True, slots=True)
class _PoissonFit:
    intercept: float
    coef: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.exp(np.clip(self.intercept + x @ self.coef, -50.0, 50.0))


def _fit_poisson(x: np.ndarray, y: np.ndarray, ridge: float) -> _PoissonFit:
    """Penalised Poisson log-linear fit by Newton's method with step halving.

    Minimises ``Σ (exp(η) − y η) + ridge · n / 2 · ||coef||²`` with ``η = b0 + x coef``
    (scikit-learn's PoissonRegressor objective times ``n``); the intercept is not penalised.
    """
    n, p = x.shape
    xx = np.column_stack([np.ones(n), x])
    pen = np.full(p + 1, ridge * n)
    pen[0] = 0.0
    beta = np.zeros(p + 1)
    beta[0] = math.log(max(float(y.mean()), 1e-12))

    def objective(b: np.ndarray) -> float:
        eta = np.clip(xx @ b, -50.0, 50.0)
        return float(np.sum(np.exp(eta) - y * eta) + 0.5 * np.sum(pen * b * b))

    f = objective(beta)
    for _ in range(100):
        mu = np.exp(np.clip(xx @ beta, -50.0, 50.0))
        grad = xx.T @ (mu - y) + pen * beta
        hess = (xx * mu[:, None]).T @ xx + np.diag(pen) + 1e-10 * np.eye(p + 1)
        step = linalg.solve(hess, grad, assume_a="pos")
        t = 1.0
        while True:
            candidate = beta - t * step
            f_new = objective(candidate)
            if f_new <= f + 1e-12 * abs(f) or t < 1e-6:
                break
            t *= 0.5
        beta, f_old, f = candidate, f, f_new
        if np.max(np.abs(t * step)) < 1e-9 or abs(f_old - f) <= 1e-12 * max(1.0, abs(f)):
            break
    return _PoissonFit(float(beta[0]), beta[1:].copy())


class TrendBaseline(Estimator):
    """Expected counts per jurisdiction × category × period (同期基线).

    A Poisson log-linear model per series with weekday, hour-of-day (sub-daily periods),
    holiday, make-up working day and a linear trend; over-dispersion by the method of moments.
    See :mod:`haizhou.analytics.warnings` for the model.

    Parameters
    ----------
    history_days : float, default 365.0
        Length of history before ``now`` used for fitting, days.
    period_hours : int or None, default None
        Period length in hours (24 for daily counts); None infers it from the data.
    trend : bool, default True
        Include the linear trend.
    distribution : {"auto", "poisson", "negative_binomial"}, default "auto"
        How the window count varies around the baseline (see the module notes).
    holidays : bool, default True
        Include the holiday and make-up working day terms (needs dates in 2014–2027, see
        :mod:`haizhou.analytics.calendar`; set False for other years).
    ridge : float, default 1e-4
        L2 penalty of the Poisson fit, as ``alpha`` of scikit-learn's PoissonRegressor.

    Attributes
    ----------
    period_ns_ : int
        Period length, nanoseconds.
    start_, end_ : numpy.datetime64
        The fitted history ``[start_, end_)``; ``end_`` is ``now``.
    series_ : pandas.DataFrame
        One row per series: ``jurisdiction``, ``category``, ``n_periods``, ``total``,
        ``dispersion`` (NB2 alpha), ``distribution`` and ``pearson_ratio``.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "history_days": [Interval("real", 0, None, closed="neither")],
        "period_hours": [Interval("int", 1, None, closed="left"), Options((None,))],
        "trend": [Options((True, False))],
        "distribution": [Options(("auto", "poisson", "negative_binomial"))],
        "holidays": [Options((True, False))],
        "ridge": [Interval("real", 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        history_days: float = 365.0,
        period_hours: int | None = None,
        trend: bool = True,
        distribution: str = "auto",
        holidays: bool = True,
        ridge: float = 1e-4,
    ) -> None:
        self.history_days = history_days
        self.period_hours = period_hours
        self.trend = trend
        self.distribution = distribution
        self.holidays = holidays
        self.ridge = ridge

    def fit(self, counts_frame: pd.DataFrame, *, now: Any) -> TrendBaseline:
        """Fit one baseline per series on the periods in ``[now - history_days, now)``.

        Parameters
        ----------
        counts_frame : pandas.DataFrame
            Columns ``jurisdiction``, ``category``, ``period_start`` (naive local time) and
            ``count``. Periods missing for a series count as 0 (list every series at least
            once). Rows at or after ``now`` are ignored. Not modified.
        now : datetime-like
            End of the history (exclusive), on a period boundary.

        Returns
        -------
        TrendBaseline
            ``self``.
        """
        self._check_params()
        data = _read_counts(counts_frame)
        period = (
            int(self.period_hours) * _NS_PER_HOUR
            if self.period_hours is not None
            else _infer_period_ns(data["period_start"].to_numpy())
        )
        now_ns = int(pd.Timestamp(now).to_datetime64().astype("datetime64[ns]").astype(np.int64))
        starts = data["period_start"].to_numpy().astype("datetime64[ns]").astype(np.int64)
        off_grid = np.flatnonzero((starts - now_ns) % period != 0)
        if off_grid.size:
            raise ValueError(
                f"counts_frame row {int(off_grid[0])}: period_start "
                f"{data['period_start'].iloc[int(off_grid[0])]} is not on the {period // _NS_PER_HOUR} h "
                f"grid that ends at now={pd.Timestamp(now)}; give now on a period boundary."
            )
        n_hist = int(self.history_days * _NS_PER_DAY // period)
        if n_hist < 2:
            raise ValueError(
                f"history_days={self.history_days!r} holds fewer than two periods of "
                f"{period // _NS_PER_HOUR} h; use a longer history."
            )
        first = max(int(starts.min()), now_ns - n_hist * period)
        grid = np.arange(first, now_ns, period, dtype=np.int64)
        if grid.size < 2:
            raise ValueError(
                f"counts_frame has no history before now={pd.Timestamp(now)}; the baseline needs "
                "at least two past periods."
            )
        hourly = period < _NS_PER_DAY
        hours = np.unique((grid % _NS_PER_DAY) // _NS_PER_HOUR) if hourly else np.zeros(0)
        x = _design(grid, now_ns, hourly, hours, bool(self.holidays))
        if not self.trend:
            x = x[:, :-1]
        keep = x.std(axis=0) > 0  # constant columns carry nothing
        self.period_ns_ = period
        self.start_ = np.datetime64(int(first), "ns")
        self.end_ = np.datetime64(int(now_ns), "ns")
        self._hourly, self._hours, self._keep = hourly, hours, keep

        keys = pd.MultiIndex.from_frame(data[["jurisdiction", "category"]]).unique()
        in_hist = (starts >= first) & (starts < now_ns)
        data = data[in_hist]
        position = (starts[in_hist] - first) // period
        models: dict[tuple[str, str], tuple[_PoissonFit | None, float]] = {}
        rows = []
        by_series = data.assign(position=position).groupby(["jurisdiction", "category"])
        grouped = {key: g for key, g in by_series}  # noqa: C416
        for key in keys:
            y = np.zeros(grid.size, dtype=np.float64)
            g = grouped.get(key)
            if g is not None:
                np.add.at(y, g["position"].to_numpy(), g["count"].to_numpy(dtype=np.float64))
            if y.sum() == 0:
                model, mu = None, np.zeros_like(y)
            else:
                model = _fit_poisson(x[:, keep], y, float(self.ridge))
                mu = model.predict(x[:, keep])
            dispersion, pearson_ratio = _dispersion(y, mu, df=max(1, y.size - keep.sum() - 1))
            dist = self.distribution
            if dist == "auto":
                df = max(1, y.size - int(keep.sum()) - 1)
                overdispersed = pearson_ratio * df > df + 2 * math.sqrt(2 * df)
                dist = "negative_binomial" if overdispersed and dispersion > 0 else "poisson"
            if dist == "poisson":
                dispersion = 0.0
            models[key] = (model, dispersion)
            rows.append(
                {
                    "jurisdiction": key[0],
                    "category": key[1],
                    "n_periods": int(y.size),
                    "total": int(y.sum()),
                    "dispersion": float(dispersion),
                    "distribution": dist,
                    "pearson_ratio": float(pearson_ratio),
                }
            )
        self._models = models
        self.series_ = pd.DataFrame(
            rows,
            columns=[
                "jurisdiction", "category", "n_periods", "total", "dispersion",
                "distribution", "pearson_ratio",
            ],
        )  # fmt: skip
        return self

    def predict(self, jurisdiction: str, category: str, period_starts: Any) -> np.ndarray:
        """Expected count of a series in each period starting at ``period_starts``.

        Parameters
        ----------
        jurisdiction, category : str
            A fitted series (see ``series_``).
        period_starts : array_like of datetime-like
            Period start times on the fitted grid (usually at or after ``end_``).

        Returns
        -------
        numpy.ndarray of float64
        """
        check_is_fitted(self)
        key = (str(jurisdiction), str(category))
        if key not in self._models:
            raise KeyError(
                f"No baseline for jurisdiction {key[0]!r}, category {key[1]!r}; fitted series "
                "are listed in series_."
            )
        model, _ = self._models[key]
        ns = (
            pd.to_datetime(np.atleast_1d(np.asarray(period_starts))).to_numpy()
            .astype("datetime64[ns]").astype(np.int64)
        )  # fmt: skip
        if model is None:
            return np.zeros(ns.size)
        x = _design(
            ns, int(self.end_.astype(np.int64)), self._hourly, self._hours, bool(self.holidays)
        )
        if not self.trend:
            x = x[:, :-1]
        return model.predict(x[:, self._keep])

    def dispersion(self, jurisdiction: str, category: str) -> float:
        """NB2 over-dispersion used for a series (0 when it is treated as Poisson)."""
        check_is_fitted(self)
        return self._models[(str(jurisdiction), str(category))][1]


def _dispersion(y: np.ndarray, mu: np.ndarray, *, df: int) -> tuple[float, float]:
    """(NB2 alpha by moments, Pearson chi-square / df)."""
    pos = mu > 0
    if not pos.any():
        return 0.0, 1.0
    alpha = float(np.sum((y[pos] - mu[pos]) ** 2 - y[pos]) / np.sum(mu[pos] ** 2))
    pearson = float(np.sum((y[pos] - mu[pos]) ** 2 / mu[pos]) / df)
    return max(0.0, alpha), pearson


def exceedance_probability(
    observed: int, mean: float, *, dispersion: float = 0.0, sum_mu_sq: float | None = None
) -> float:
    """``P(X >= observed)`` for a Poisson (``dispersion = 0``) or NB2 count with this mean.

    ``sum_mu_sq`` (Σ μ_t² over the window's periods) sets the NB variance
    ``mean + dispersion · sum_mu_sq``; by default ``mean²`` (one period).

    Examples
    --------
    >>> round(exceedance_probability(5, 2.0), 4)   # 1 - P(X <= 4), X ~ Poisson(2)
    0.0527
    """
    if observed <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    extra = dispersion * (mean**2 if sum_mu_sq is None else sum_mu_sq)
    if extra <= 0:
        return float(stats.poisson.sf(observed - 1, mean))
    n = mean**2 / extra
    return float(stats.nbinom.sf(observed - 1, n, n / (n + mean)))


def _level(p: float, thresholds: Sequence[float]) -> Level | None:
    for level, cut in zip(_LEVELS, thresholds, strict=True):
        if p < cut:
            return level
    return None


def _p_text(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def _window_text(window_ns: int) -> tuple[str, str]:
    if window_ns % _NS_PER_DAY == 0:
        d = window_ns // _NS_PER_DAY
        return f"近{d}天", f"in the last {d} day{'s' if d != 1 else ''}"
    h = window_ns // _NS_PER_HOUR
    return f"近{h}小时", f"in the last {h} hour{'s' if h != 1 else ''}"


def trend_warnings(
    counts_frame: pd.DataFrame,
    *,
    now: Any,
    window_days: float = 7.0,
    history_days: float = 365.0,
    period_hours: int | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    distribution: str = "auto",
    holidays: bool = True,
    min_observed: int = 3,
    include_all: bool = False,
) -> list[TrendWarning]:
    """Trend warnings (趋势预警) for every jurisdiction × category at ``now``.

    The window is ``[now - window_days, now)``; the baseline is fitted on the
    ``history_days`` before the window (:class:`TrendBaseline`) and extrapolated into it.

    Parameters
    ----------
    counts_frame : pandas.DataFrame
        Columns ``jurisdiction``, ``category``, ``period_start`` (naive local time, on whole
        hours or days) and ``count``. Missing periods count as 0. Not modified.
    now : datetime-like
        End of the window (exclusive), on a period boundary (midnight for daily counts).
    window_days : float, default 7.0
        Window length, days; a whole number of periods (e.g. 0.25 for 6 h of hourly counts).
    history_days : float, default 365.0
        History used for the baseline, days.
    period_hours : int or None, default None
        Period length in hours; None infers it from the data.
    thresholds : 4 increasing floats, default (0.001, 0.01, 0.05, 0.1)
        Exceedance probabilities below which a warning is red, orange, yellow, blue.
    distribution : {"auto", "poisson", "negative_binomial"}, default "auto"
    holidays : bool, default True
        Let the baseline know the Chinese public holidays (2014–2027).
    min_observed : int, default 3
        Fewer events than this in the window never warn (one burglary where 0.01 were expected
        is improbable but not a trend).
    include_all : bool, default False
        Also return the series that reach no level (``level=None``).

    Returns
    -------
    list of TrendWarning
        Most severe first, then by probability.

    Raises
    ------
    ValueError
        For missing columns, bad rows (with the row number), periods off the grid, thresholds
        out of order, or a window that is not a whole number of periods.

    References
    ----------
    .. [1] Farrington, C. P. et al. (1996). JRSS A 159(3), 547–563. doi:10.2307/2983331

    Examples
    --------
    >>> days = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    >>> counts = np.r_[np.full(days.size - 7, 3), np.full(7, 9)]
    >>> frame = pd.DataFrame({"jurisdiction": "新浦派出所", "category": "盗窃",
    ...                       "period_start": days, "count": counts})
    >>> w = trend_warnings(frame, now="2024-07-01", history_days=175, distribution="poisson")
    >>> w[0].level.value, w[0].observed, round(w[0].expected, 1)
    ('red', 63, 21.0)
    >>> w[0].explanation_zh
    '新浦派出所 盗窃: 近7天 63 起, 预期 21.0 起 (同期基线, 2024-06-24 至 2024-06-30), 超出概率 p<0.001'
    """
    cuts = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    if cuts.size != 4 or not np.all((cuts > 0) & (cuts < 1)) or np.any(np.diff(cuts) <= 0):
        raise ValueError(
            "thresholds must be 4 strictly increasing probabilities in (0, 1) for red, orange, "
            f"yellow and blue; got {thresholds!r}."
        )
    if not (isinstance(window_days, (int, float)) and window_days > 0):
        raise ValueError(f"window_days must be a number > 0; got {window_days!r}.")
    if isinstance(min_observed, bool) or not isinstance(min_observed, (int, np.integer)):
        raise ValueError(f"min_observed must be an int >= 0; got {min_observed!r}.")
    data = _read_counts(counts_frame)
    now_ts = pd.Timestamp(now)
    window_ns = round(float(window_days) * _NS_PER_DAY)
    start_ts = now_ts - pd.Timedelta(window_ns, unit="ns")
    baseline = TrendBaseline(
        history_days=history_days,
        period_hours=period_hours,
        distribution=distribution,
        holidays=holidays,
    ).fit(counts_frame, now=start_ts)
    period = baseline.period_ns_
    if window_ns % period:
        raise ValueError(
            f"window_days={window_days!r} is not a whole number of {period // _NS_PER_HOUR} h "
            "periods."
        )
    grid = pd.DatetimeIndex(
        np.arange(
            start_ts.to_datetime64().astype("datetime64[ns]").astype(np.int64),
            now_ts.to_datetime64().astype("datetime64[ns]").astype(np.int64),
            period,
        ).astype("datetime64[ns]")
    )
    in_window = (data["period_start"] >= start_ts) & (data["period_start"] < now_ts)
    observed = data[in_window].groupby(["jurisdiction", "category"])["count"].sum()
    zh_window, en_window = _window_text(window_ns)
    last_day = (now_ts - pd.Timedelta(1, unit="ns")).date()
    span_zh = f"{start_ts.date()} 至 {last_day}"
    span_en = f"{start_ts.date()} to {last_day}"
    out: list[TrendWarning] = []
    for row in baseline.series_.itertuples(index=False):
        key = (row.jurisdiction, row.category)
        mu = baseline.predict(*key, grid)
        expected = float(mu.sum())
        obs = int(observed.get(key, 0))
        p = exceedance_probability(
            obs, expected, dispersion=row.dispersion, sum_mu_sq=float(np.sum(mu**2))
        )
        level = _level(p, cuts) if obs >= min_observed and obs > expected else None
        if level is None and not include_all:
            continue
        out.append(
            TrendWarning(
                jurisdiction=key[0],
                category=key[1],
                period_start=start_ts.to_datetime64(),
                period_end=now_ts.to_datetime64(),
                observed=obs,
                expected=expected,
                probability=p,
                level=level,
                distribution=row.distribution,
                dispersion=float(row.dispersion),
                explanation_zh=(
                    f"{key[0]} {key[1]}: {zh_window} {obs} 起, 预期 {expected:.1f} 起 "
                    f"(同期基线, {span_zh}), 超出概率 {_p_text(p)}"
                ),
                explanation_en=(
                    f"{key[0]} {key[1]}: {obs} {en_window}, expected {expected:.1f} "
                    f"(baseline for the period, {span_en}), exceedance probability {_p_text(p)}"
                ),
            )
        )
    out.sort(key=lambda w: (4 if w.level is None else w.level.rank, w.probability))
    return out
