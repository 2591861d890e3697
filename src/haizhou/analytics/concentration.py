"""Concentration report of forecasts: do the flags just follow past recording? (预测集中度)

A forecast fitted on *recorded* crime sends patrols where crime was recorded, which raises
recording there, which the next forecast learns: a feedback loop (Lum & Isaac 2016; Ensign
et al. 2018). :func:`flag_concentration` measures, for a sequence of forecasts and per
reporting period:

``flag_share`` / ``area_share``
    Share of the flagged cells in each jurisdiction, next to its share of the study area
    (from :func:`haizhou.analytics.evaluation.concentration_report`, whose keys are kept).
``past_top_overlap``, ``past_record_share``
    Share of the flags among the ``k`` cells with the most past records, and share of past
    records inside the flags (idem).
``spearman_past``
    Spearman rank correlation, across study cells, between how often a cell was flagged in
    the period and its recorded count in the training history (mean over the period's
    forecasts). Near 1: flags rank cells as past recording does.
``top_decile_share``
    Share of the flags that fall in the top 10 % of cells by past recorded count (with ties
    at the cut counted in; 0.1 would be no preference, 1 all flags there).
``gini_flags``
    Gini coefficient of the flag counts across study cells over the period: high when the
    same few cells are flagged day after day. With ``k`` of ``N`` cells flagged per forecast
    it reaches at most ``1 - k/N`` (the same ``k`` cells every time), which ``gini_max``
    reports.
``gini_past``
    Gini coefficient of the past recorded counts (how concentrated recording itself is).

``summary`` gives the same four numbers over all forecasts at once, and ``trend`` the
difference between the last and the first period (a rising ``top_decile_share`` or a rising
share of one jurisdiction is the sign to look for).

References
----------
.. [1] Lum, K. & Isaac, W. (2016). To predict and serve? Significance 13(5), 14-19.
   doi:10.1111/j.1740-9713.2016.00960.x
.. [2] Ensign, D., Friedler, S. A., Neville, S., Scheidegger, C. & Venkatasubramanian, S.
   (2018). Runaway feedback loops in predictive policing. PMLR 81, 160-171.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from haizhou.analytics.evaluation import ConcentrationReport, concentration_report

__all__ = ["FlagConcentration", "flag_concentration", "gini", "spearman"]


def gini(values: Any) -> float:
    """Gini coefficient of non-negative values (0 equal, towards 1 concentrated); NaN if all 0.

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 4])
    0.75
    """
    v = np.sort(np.asarray(values, dtype=np.float64).reshape(-1))
    if np.any(v < 0):
        raise ValueError("gini needs non-negative values.")
    if v.size == 0 or v.sum() <= 0:
        return math.nan
    n = v.size
    cum = np.cumsum(v)
    return float((n + 1 - 2 * np.sum(cum) / cum[-1]) / n)


def spearman(a: Any, b: Any) -> float:
    """Spearman rank correlation (ties averaged); NaN when either side is constant.

    Examples
    --------
    >>> spearman([1, 2, 3, 4], [10, 20, 30, 45])
    1.0
    """
    x = np.asarray(a, dtype=np.float64).reshape(-1)
    y = np.asarray(b, dtype=np.float64).reshape(-1)
    if x.size != y.size:
        raise ValueError(f"spearman needs equal lengths; got {x.size} and {y.size}.")
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(stats.spearmanr(x, y).statistic)


def _top_decile(past: np.ndarray) -> np.ndarray:
    """Cells in the top 10 % by past count (ties at the cut included; never zero counts)."""
    n = past.size
    cut = np.sort(past)[::-1][max(math.ceil(0.1 * n) - 1, 0)]
    return (past >= cut) & (past > 0)


def _clean(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 6)


@dataclass(frozen=True, slots=True, eq=False)
class FlagConcentration:
    """Concentration of a sequence of forecasts (see the module for every measure).

    ``base`` is the jurisdiction report; the arrays have one value per period.
    """

    base: ConcentrationReport
    spearman_past: np.ndarray
    top_decile_share: np.ndarray
    gini_flags: np.ndarray
    gini_past: np.ndarray
    gini_max: float
    summary: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the keys of :class:`ConcentrationReport` plus the feedback measures."""
        out = self.base.to_dict()
        out.update(
            {
                "spearman_past": [_clean(v) for v in self.spearman_past],
                "top_decile_share": [_clean(v) for v in self.top_decile_share],
                "gini_flags": [_clean(v) for v in self.gini_flags],
                "gini_past": [_clean(v) for v in self.gini_past],
                "gini_max": _clean(self.gini_max),
                "summary": {k: _clean(v) for k, v in self.summary.items()},
                "trend": {
                    "top_decile_share": _clean(_change(self.top_decile_share)),
                    "spearman_past": _clean(_change(self.spearman_past)),
                    "flag_share": [
                        _clean(v)
                        for v in (
                            self.base.flag_share[-1] - self.base.flag_share[0]
                            if len(self.base.flag_share)
                            else []
                        )
                    ],
                },
            }
        )
        return out


def _change(series: np.ndarray) -> float:
    finite = series[np.isfinite(series)]
    return float(finite[-1] - finite[0]) if finite.size >= 2 else math.nan


def _measures(flagged: np.ndarray, past: np.ndarray) -> tuple[float, float, float, float]:
    """(spearman, top-decile share, gini of flags, gini of past) for a block of forecasts."""
    n = past.shape[1]
    freq = np.bincount(flagged.ravel(), minlength=n).astype(np.float64)
    mean_past = past.mean(axis=0)
    in_top = 0
    for i in range(flagged.shape[0]):
        in_top += int(_top_decile(past[i])[flagged[i]].sum())
    share = in_top / flagged.size if flagged.size else math.nan
    return spearman(freq, mean_past), share, gini(freq), gini(mean_past)


def flag_concentration(
    flagged: Any,
    past_counts: Any,
    zone_of_cell: Any = None,
    *,
    origins_days: Sequence[float],
    period_days: float = 30.0,
) -> FlagConcentration:
    """Concentration report of a sequence of forecasts (预测集中度报告).

    Parameters
    ----------
    flagged : array_like of int, shape (F, k)
        Flagged cells of each forecast, as positions 0..N-1 among the study cells.
    past_counts : array_like of float, shape (F, N)
        Recorded events per study cell in the history each forecast was fitted on.
    zone_of_cell : array_like of str, shape (N,), optional
        Jurisdiction of each study cell; None puts every cell in one zone ``"all"``.
    origins_days : sequence of float, length F
        Forecast origins, days since 1970-01-01.
    period_days : float, default 30
        Length of a reporting period, days (the first starts at the first origin).

    Returns
    -------
    FlagConcentration

    Examples
    --------
    >>> past = np.array([[9.0, 5, 1, 0, 0, 0, 0, 0, 0, 0]] * 2)
    >>> r = flag_concentration([[0], [0]], past, origins_days=[0, 1], period_days=7)
    >>> r.top_decile_share.tolist(), r.summary["past_top_overlap"]
    ([1.0], 1.0)
    """
    flags = np.asarray(flagged, dtype=np.int64)
    past = np.asarray(past_counts, dtype=np.float64)
    if flags.ndim != 2 or past.ndim != 2:
        raise ValueError(
            f"flagged must be (forecasts, k) and past_counts (forecasts, cells); got "
            f"{flags.shape} and {past.shape}."
        )
    n = past.shape[1]
    if flags.size and (flags.min() < 0 or flags.max() >= n):
        raise ValueError(f"flagged holds positions outside 0..{n - 1} (the study cells).")
    if not period_days > 0:
        raise ValueError(f"period_days must be > 0; got {period_days!r}.")
    zones = np.full(n, "all", dtype=object) if zone_of_cell is None else zone_of_cell
    base = concentration_report(
        flags, past, zones, origins_days=origins_days, period_days=period_days
    )
    origins = np.asarray(origins_days, dtype=np.float64)
    period = (
        np.floor((origins - origins.min()) / period_days).astype(np.int64)
        if origins.size
        else origins.astype(np.int64)
    )
    rho, top, g_flags, g_past = [], [], [], []
    for p in np.unique(period):
        rows = period == p
        a, b, c, d = _measures(flags[rows], past[rows])
        rho.append(a)
        top.append(b)
        g_flags.append(c)
        g_past.append(d)
    a, b, c, d = _measures(flags, past) if origins.size else (math.nan,) * 4
    k = flags.shape[1]
    summary = {
        "spearman_past": a,
        "top_decile_share": b,
        "gini_flags": c,
        "gini_past": d,
        "past_top_overlap": float(np.mean(base.past_top_overlap))
        if base.past_top_overlap.size
        else math.nan,
    }
    return FlagConcentration(
        base=base,
        spearman_past=np.asarray(rho, dtype=np.float64),
        top_decile_share=np.asarray(top, dtype=np.float64),
        gini_flags=np.asarray(g_flags, dtype=np.float64),
        gini_past=np.asarray(g_past, dtype=np.float64),
        gini_max=1.0 - k / n if n else math.nan,
        summary=summary,
    )
