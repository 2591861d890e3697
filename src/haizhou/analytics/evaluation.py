"""Forecast evaluation: hit rate, PAI, PEI and the rolling-origin backtest (预测评估 · 滚动回测).

A forecast ranks the study-area cells by risk. At coverage ``c`` the ``k = floor(c · N)``
highest-risk cells of the ``N`` study cells are flagged. Cells tied with the k-th value share the
remaining slots by expectation: a tied group of ``t`` cells of which ``m`` are still needed
contributes ``m / t`` of its events, which is what a random tie-break gives on average (and
what makes the score independent of cell order).

Summed over every forecast of a backtest:

- hit rate (命中率) = Σ captured / Σ test events;
- PAI, predictive accuracy index (预测精度指数) = hit rate / (k / N) [1]_;
- PEI, predictive efficiency index (预测效率指数) = Σ captured / Σ (the most any ``k`` cells could
  have captured) [2]_.

References
----------
.. [1] Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for
   predicting spatial patterns of crime. Security Journal 21, 4–28.
   doi:10.1057/palgrave.sj.8350066
.. [2] Hunt, J. M. (2016). Do crime hot spots move? Exploring the effects of the modifiable
   areal unit problem and modifiable temporal unit problem on crime hot spot stability.
   PhD thesis, American University, Washington DC.
.. [3] Tashman, L. J. (2000). Out-of-sample tests of forecasting accuracy: an analysis and
   review. International Journal of Forecasting 16(4), 437–450.
   doi:10.1016/S0169-2070(00)00065-0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from haizhou.analytics.base import EventSet
from haizhou.analytics.grid import Grid

__all__ = [
    "BacktestResult",
    "ConcentrationReport",
    "captured_events",
    "concentration_report",
    "flag_counts",
    "max_captured",
    "pai",
    "rolling_origin_backtest",
]


def flag_counts(n_study: int, coverages: Sequence[float]) -> np.ndarray:
    """``k = floor(c · N)`` flagged cells for each coverage ``c`` (with a float guard).

    Examples
    --------
    >>> flag_counts(5717, [0.01, 0.05, 0.1]).tolist()
    [57, 285, 571]
    """
    cov = np.asarray(coverages, dtype=np.float64)
    if np.any((cov <= 0) | (cov > 1)) or not np.all(np.isfinite(cov)):
        raise ValueError(f"coverages must be in (0, 1]; got {list(map(float, cov))}.")
    # 0.07 * 100 is 7.000000000000001 in floating point; round away such noise before flooring.
    return np.floor(np.round(cov * n_study, 9)).astype(np.int64)


def captured_events(risk: Any, counts: Any, k: int) -> float:
    """Events captured by the ``k`` highest-risk cells, ties at the k-th value by expectation.

    Parameters
    ----------
    risk : array_like of float, shape (N,)
        Risk per study cell (higher = flagged first).
    counts : array_like of float, shape (N,)
        Test events per study cell.
    k : int
        Cells flagged (0 <= k <= N).

    Returns
    -------
    float
        Expected number of events in the flagged cells.

    Examples
    --------
    Four cells, two flagged; the 2nd and 3rd cells tie, one of the two is needed:

    >>> captured_events([5.0, 3.0, 3.0, 1.0], [2, 1, 4, 7], 2)
    4.5
    """
    r = np.asarray(risk, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if r.shape != c.shape or r.ndim != 1:
        raise ValueError(f"risk and counts must be 1-d and aligned; got {r.shape} and {c.shape}.")
    if not np.all(np.isfinite(r)):
        raise ValueError("risk must be finite in every study cell (NaN or inf seen).")
    n = r.size
    if k <= 0 or n == 0:
        return 0.0
    if k >= n:
        return float(c.sum())
    kth = np.partition(r, n - k)[n - k]  # the k-th largest value
    above = r > kth
    tied = r == kth
    m = k - int(above.sum())
    return float(c[above].sum() + (m / int(tied.sum())) * c[tied].sum())


def max_captured(counts: Any, k: int) -> float:
    """The most events any ``k`` cells could have captured (the PEI denominator)."""
    c = np.asarray(counts, dtype=np.float64)
    if k <= 0 or c.size == 0:
        return 0.0
    if k >= c.size:
        return float(c.sum())
    return float(np.partition(c, c.size - k)[c.size - k :].sum())


def pai(risk: Any, counts: Any, coverage: float) -> float:
    """Predictive accuracy index of one forecast at one coverage (NaN without events).

    Examples
    --------
    Ten cells, one flagged (10 %), holding 3 of the 6 events: hit rate 0.5, PAI 5.

    >>> risk = [9, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    >>> counts = [3, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    >>> pai(risk, counts, 0.1)
    5.0
    """
    c = np.asarray(counts, dtype=np.float64)
    k = int(flag_counts(c.size, [coverage])[0])
    total = float(c.sum())
    if total == 0 or k == 0:
        return math.nan
    return (captured_events(risk, c, k) / total) / (k / c.size)


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Scores of one method over a rolling-origin backtest (滚动回测结果).

    Attributes
    ----------
    method : str
        Name of the forecaster.
    coverages : numpy.ndarray of float, shape (C,)
        Share of the study area flagged.
    k : numpy.ndarray of int, shape (C,)
        Cells flagged at each coverage.
    n_study : int
        Study-area cells N.
    origins_days : numpy.ndarray of float, shape (F,)
        Forecast origins, days since 1970-01-01.
    n_events : numpy.ndarray of int, shape (F,)
        Test events per forecast.
    captured : numpy.ndarray of float, shape (F, C)
        Expected events captured per forecast and coverage.
    best_possible : numpy.ndarray of float, shape (F, C)
        The most any k cells could have captured.
    fit_seconds : float
        Wall time spent fitting and predicting (measured by the caller's clock, if given).
    flagged : numpy.ndarray of int, shape (F, K) or None
        Cells flagged at the largest coverage per forecast, as positions in
        ``grid.study_cells``, highest risk first (ties broken by cell id); kept for the
        concentration report.
    """

    method: str
    coverages: np.ndarray
    k: np.ndarray
    n_study: int
    origins_days: np.ndarray
    n_events: np.ndarray
    captured: np.ndarray
    best_possible: np.ndarray
    fit_seconds: float = 0.0
    flagged: np.ndarray | None = field(default=None, repr=False)

    @property
    def total_events(self) -> int:
        """Test events scored over all forecasts."""
        return int(self.n_events.sum())

    @property
    def hit_rate(self) -> np.ndarray:
        """Σ captured / Σ test events, per coverage (NaN without test events)."""
        total = self.total_events
        if total == 0:
            return np.full(self.coverages.size, np.nan)
        return self.captured.sum(axis=0) / total

    @property
    def pai(self) -> np.ndarray:
        """Hit rate / (k / N), per coverage (NaN where no cell is flagged)."""
        share = self.k / max(self.n_study, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(share > 0, self.hit_rate / np.where(share > 0, share, 1), np.nan)

    @property
    def pei(self) -> np.ndarray:
        """Σ captured / Σ best possible, per coverage."""
        best = self.best_possible.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                best > 0, self.captured.sum(axis=0) / np.where(best > 0, best, 1), np.nan
            )

    def rows(self) -> list[dict[str, Any]]:
        """One record per coverage: ``{"method", "coverage", "hit_rate", "pai", "pei"}``."""
        return [
            {
                "method": self.method,
                "coverage": float(c),
                "hit_rate": _clean(h),
                "pai": _clean(p),
                "pei": _clean(e),
            }
            for c, h, p, e in zip(self.coverages, self.hit_rate, self.pai, self.pei, strict=True)
        ]


def _clean(v: float) -> float | None:
    return None if not math.isfinite(float(v)) else float(v)


def rolling_origin_backtest(
    make_forecaster: Callable[[], Any],
    events: EventSet,
    grid: Grid,
    *,
    origins_days: Sequence[float],
    horizon_days: float,
    train_days: float,
    coverages: Sequence[float] = (0.01, 0.05, 0.1),
    context: EventSet | None = None,
    method: str = "",
    clock: Callable[[], float] | None = None,
    progress: Callable[[int], None] | None = None,
    keep_flagged: bool = False,
) -> BacktestResult:
    """Score a forecaster on a rolling-origin backtest (滚动起点回测) [3]_.

    For each origin ``o`` a fresh forecaster is fitted on ``events`` in ``[o - train_days, o)``
    (and ``context`` in the same window, if given) with ``now = o``, its risk surface over the
    study cells ranks them, and it is scored on ``events`` in ``[o, o + horizon_days)``.

    Parameters
    ----------
    make_forecaster : callable
        Returns an unfitted forecaster (``fit(events, *, now, context, grid)`` and
        ``predict(grid)``), e.g. ``lambda: NaiveCounts()`` or ``functools.partial(clone, est)``.
    events : EventSet
        The target events (one category or a set of categories).
    grid : Grid
        Cells and study area.
    origins_days : sequence of float
        Forecast origins, days since 1970-01-01.
    horizon_days, train_days : float
        Test window after, and training window before, each origin (days).
    coverages : sequence of float
        Shares of the study area flagged, in (0, 1].
    context : EventSet, optional
        Events of every category (place features for methods that use them).
    method : str
        Name stored in the result.
    clock : callable, optional
        Returns seconds (e.g. ``time.perf_counter``) to time fitting; analytics never read the
        wall clock themselves.
    progress : callable, optional
        Called with the number of forecasts done after each one.
    keep_flagged : bool
        Keep the flagged cell ids at the largest coverage (for :func:`concentration_report`).

    Returns
    -------
    BacktestResult
    """
    if horizon_days <= 0 or train_days <= 0:
        raise ValueError(
            f"horizon_days and train_days must be > 0; got {horizon_days!r} and {train_days!r}."
        )
    origins = np.asarray(origins_days, dtype=np.float64)
    study = grid.study_cells
    n_study = study.size
    ks = flag_counts(n_study, coverages)
    cov = np.asarray(coverages, dtype=np.float64)
    cells = grid.cell_of(events.x_m, events.y_m)
    captured = np.zeros((origins.size, cov.size))
    best = np.zeros((origins.size, cov.size))
    n_events = np.zeros(origins.size, dtype=np.int64)
    flagged = np.zeros((origins.size, int(ks.max()) if ks.size else 0), dtype=np.int64)
    spent = 0.0
    for i, o in enumerate(origins):
        train = events.window(o - train_days, o)
        ctx = None if context is None else context.window(o - train_days, o)
        start = clock() if clock else 0.0
        est = make_forecaster()
        est.fit(train, now=float(o), context=ctx, grid=grid)
        risk_all = np.asarray(est.predict(grid), dtype=np.float64)
        if clock:
            spent += clock() - start
        risk = risk_all[study]
        in_test = (events.t_days >= o) & (events.t_days < o + horizon_days) & (cells >= 0)
        test_counts = np.bincount(cells[in_test], minlength=grid.n_cells)[study].astype(float)
        n_events[i] = int(test_counts.sum())
        for j, k in enumerate(ks):
            captured[i, j] = captured_events(risk, test_counts, int(k))
            best[i, j] = max_captured(test_counts, int(k))
        if keep_flagged and flagged.shape[1]:
            flagged[i] = np.lexsort((study, -risk))[: flagged.shape[1]]
        if progress:
            progress(i + 1)
    return BacktestResult(
        method=method,
        coverages=cov,
        k=ks,
        n_study=int(n_study),
        origins_days=origins,
        n_events=n_events,
        captured=captured,
        best_possible=best,
        fit_seconds=spent,
        flagged=flagged if keep_flagged else None,
    )


@dataclass(frozen=True, slots=True)
class ConcentrationReport:
    """Where the flags fall, and how closely they follow past recording (预测集中度报告).

    Attributes
    ----------
    zones : tuple of str
        Jurisdiction (辖区) labels, in column order.
    periods_days : numpy.ndarray of float, shape (P,)
        Start of each period, days since 1970-01-01.
    flag_share : numpy.ndarray of float, shape (P, Z)
        Share of flagged cells in each zone over the forecasts of each period (rows sum to 1).
    area_share : numpy.ndarray of float, shape (Z,)
        Share of study cells in each zone (what an even spread would give).
    past_top_overlap : numpy.ndarray of float, shape (P,)
        Share of flagged cells that were also among the ``k`` cells with the most recorded
        events in the history each forecast was fitted on (1 = the forecast repeats past
        recording exactly).
    past_record_share : numpy.ndarray of float, shape (P,)
        Share of the history's recorded events that lie in the flagged cells.
    """

    zones: tuple[str, ...]
    periods_days: np.ndarray
    flag_share: np.ndarray
    area_share: np.ndarray
    past_top_overlap: np.ndarray
    past_record_share: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "zones": list(self.zones),
            "periods_days": self.periods_days.tolist(),
            "flag_share": self.flag_share.round(6).tolist(),
            "area_share": self.area_share.round(6).tolist(),
            "past_top_overlap": [_clean(v) for v in self.past_top_overlap],
            "past_record_share": [_clean(v) for v in self.past_record_share],
        }


def concentration_report(
    flagged: np.ndarray,
    past_counts: np.ndarray,
    zone_of_cell: Any,
    *,
    origins_days: Sequence[float],
    period_days: float = 30.0,
) -> ConcentrationReport:
    """Concentration of flagged cells by zone over time and against past recording.

    Parameters
    ----------
    flagged : numpy.ndarray of int, shape (F, k)
        Flagged cells of each forecast, as positions 0..N-1 in the study-cell order.
    past_counts : numpy.ndarray of float, shape (F, N)
        Recorded events per study cell in the history each forecast was fitted on.
    zone_of_cell : array_like of str, shape (N,)
        Jurisdiction label of each study cell.
    origins_days : sequence of float, length F
        Forecast origins, days since 1970-01-01.
    period_days : float
        Length of the reporting periods, days (the first starts at the first origin).

    Returns
    -------
    ConcentrationReport

    Notes
    -----
    A forecast fitted on recorded crime sends patrols where crime was recorded, which raises
    recording there: a feedback loop (Lum & Isaac 2016, Significance 13(5):14–19,
    doi:10.1111/j.1740-9713.2016.00960.x; Ensign et al. 2018, PMLR 81:160–171). An overlap
    near 1 and a share of one zone that grows over time are the signs to watch.

    Examples
    --------
    >>> flagged = np.array([[0], [1]])
    >>> past = np.array([[5.0, 1.0, 0.0], [5.0, 1.0, 0.0]])
    >>> r = concentration_report(flagged, past, ["A", "B", "B"], origins_days=[0, 1],
    ...                          period_days=1)
    >>> r.flag_share.tolist(), r.past_top_overlap.tolist()
    ([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0])
    """
    flagged = np.asarray(flagged, dtype=np.int64)
    past = np.asarray(past_counts, dtype=np.float64)
    zones_arr = np.asarray(zone_of_cell).astype(str)
    zones = tuple(sorted(set(zones_arr.tolist())))
    zi = np.searchsorted(np.asarray(zones), zones_arr)
    n = zones_arr.size
    origins = np.asarray(origins_days, dtype=np.float64)
    if flagged.shape[0] != origins.size or past.shape != (origins.size, n):
        raise ValueError(
            "flagged, past_counts and origins_days must have one row per forecast and "
            f"past_counts one column per study cell; got {flagged.shape}, {past.shape}, "
            f"{origins.size} forecasts and {n} cells."
        )
    k = flagged.shape[1]
    area_share = np.bincount(zi, minlength=len(zones)) / max(n, 1)
    overlap = np.zeros(origins.size)
    rec_share = np.full(origins.size, np.nan)
    for i in range(origins.size):
        past_top = np.lexsort((np.arange(n), -past[i]))[:k]
        overlap[i] = np.intersect1d(flagged[i], past_top).size / max(k, 1)
        total = past[i].sum()
        if total > 0:
            rec_share[i] = past[i][flagged[i]].sum() / total
    period = (
        np.floor((origins - origins.min()) / period_days).astype(np.int64)
        if origins.size
        else origins.astype(np.int64)
    )
    starts, shares, ov, rs = [], [], [], []
    for p in np.unique(period):
        rows = period == p
        cells = flagged[rows].ravel()
        starts.append(float(origins.min() + p * period_days))
        shares.append(np.bincount(zi[cells], minlength=len(zones)) / max(cells.size, 1))
        ov.append(float(overlap[rows].mean()))
        rs.append(
            float(np.nanmean(rec_share[rows])) if np.any(np.isfinite(rec_share[rows])) else math.nan
        )
    return ConcentrationReport(
        zones=zones,
        periods_days=np.asarray(starts),
        flag_share=np.asarray(shares).reshape(len(starts), len(zones)),
        area_share=area_share,
        past_top_overlap=np.asarray(ov),
        past_record_share=np.asarray(rs),
    )
