"""Sensor health (感知设备健康): silent sensors and collapsed volumes become maintenance work.

A sensor is *silent* when the time since its last event exceeds ``gap_factor`` times its
kind's usual longest gap (a high quantile of the gaps between consecutive events of every
sensor of that kind over the history). Its volume has *collapsed* when the events in the recent
window are far below its own baseline: a one-sided Poisson test at ``alpha`` plus a ratio
below ``collapse_ratio``, so neither a tiny baseline nor a mild dip triggers it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["sensor_health"]


def sensor_health(
    events: pd.DataFrame,
    sensors: pd.DataFrame,
    *,
    now: Any,
    recent_days: float = 7.0,
    baseline_days: float = 28.0,
    gap_quantile: float = 0.99,
    gap_factor: float = 2.0,
    min_silence_h: float = 6.0,
    collapse_ratio: float = 0.3,
    alpha: float = 0.001,
) -> pd.DataFrame:
    """Health of every sensor from its events (设备健康检测).

    Parameters
    ----------
    events : pandas.DataFrame
        ``sensor_id`` and ``seen_at`` (datetime64, any one zone) of each event. Not modified.
    sensors : pandas.DataFrame
        ``sensor_id`` and ``kind`` of every sensor that should report (sensors without any event
        count as silent since before the history).
    now : datetime-like
        Evaluation time, same zone as ``seen_at``.
    recent_days, baseline_days : float, default 7 and 28
        Recent window, and the baseline window just before it, days.
    gap_quantile : float, default 0.99
        Quantile of the kind's inter-event gaps taken as its usual longest gap.
    gap_factor : float, default 2
        Silence longer than ``gap_factor ×`` the usual gap is flagged ...
    min_silence_h : float, default 6
        ... if it also lasts at least this long (a busy kind's usual gap is minutes; a quiet
        street camera at night should not page anyone).
    collapse_ratio : float, default 0.3
        Recent rate / baseline rate below which a volume drop counts.
    alpha : float, default 0.001
        One-sided Poisson significance for the drop.

    Returns
    -------
    pandas.DataFrame
        One row per sensor: ``sensor_id, kind, last_seen, silent_h, usual_gap_h, recent,
        expected, ratio, p_drop, status`` with status ``"silent"``, ``"volume_collapse"`` or
        ``"ok"``, and ``reason`` in words (English).

    Examples
    --------
    >>> t = pd.date_range("2024-01-01", periods=24 * 35, freq="h")
    >>> ev = pd.DataFrame({"sensor_id": ["A"] * len(t) + ["B"] * (len(t) - 200),
    ...                    "seen_at": list(t) + list(t[:-200])})
    >>> s = pd.DataFrame({"sensor_id": ["A", "B"], "kind": ["camera", "camera"]})
    >>> sensor_health(ev, s, now=t[-1] + pd.Timedelta("1h"))["status"].tolist()
    ['ok', 'silent']
    """
    for col in ("sensor_id", "seen_at"):
        if col not in events.columns:
            raise ValueError(f"events lacks column {col!r}; it needs sensor_id and seen_at.")
    for col in ("sensor_id", "kind"):
        if col not in sensors.columns:
            raise ValueError(f"sensors lacks column {col!r}; it needs sensor_id and kind.")
    now_ts = pd.Timestamp(now)
    t = pd.to_datetime(events["seen_at"])
    if getattr(t.dt, "tz", None) is not None:
        now_ts = now_ts.tz_convert(t.dt.tz) if now_ts.tzinfo else now_ts.tz_localize(t.dt.tz)
    ev = pd.DataFrame({"sensor_id": events["sensor_id"].to_numpy(), "t": t.to_numpy()})
    ev = ev[ev["t"] <= now_ts].sort_values(["sensor_id", "t"], kind="stable")
    kind_of = sensors.set_index("sensor_id")["kind"]
    ev["kind"] = ev["sensor_id"].map(kind_of)
    same = ev["sensor_id"].to_numpy()[1:] == ev["sensor_id"].to_numpy()[:-1]
    gaps_h = np.diff(ev["t"].to_numpy()).astype("timedelta64[s]").astype(float) / 3600.0
    gap_df = pd.DataFrame({"kind": ev["kind"].to_numpy()[1:][same], "gap": gaps_h[same]})
    usual = gap_df.groupby("kind")["gap"].quantile(gap_quantile)
    last = ev.groupby("sensor_id")["t"].max()
    start_recent = now_ts - pd.Timedelta(days=recent_days)
    start_base = start_recent - pd.Timedelta(days=baseline_days)
    recent = ev[ev["t"] > start_recent].groupby("sensor_id").size()
    base = ev[(ev["t"] > start_base) & (ev["t"] <= start_recent)].groupby("sensor_id").size()
    out = sensors[["sensor_id", "kind"]].copy().reset_index(drop=True)
    out["last_seen"] = out["sensor_id"].map(last)
    silent = (now_ts - out["last_seen"]).dt.total_seconds() / 3600.0
    out["silent_h"] = silent.to_numpy()
    out["usual_gap_h"] = out["kind"].map(usual).to_numpy(float)
    out["recent"] = out["sensor_id"].map(recent).fillna(0).to_numpy(np.int64)
    base_n = out["sensor_id"].map(base).fillna(0).to_numpy(float)
    out["expected"] = base_n * recent_days / baseline_days
    exp = out["expected"].to_numpy()
    out["ratio"] = np.where(exp > 0, out["recent"] / np.where(exp > 0, exp, 1), np.nan)
    out["p_drop"] = np.where(exp > 0, stats.poisson.cdf(out["recent"], exp), 1.0)
    never = out["last_seen"].isna().to_numpy()
    is_silent = never | (
        np.isfinite(out["usual_gap_h"].to_numpy())
        & (out["silent_h"].to_numpy() > gap_factor * out["usual_gap_h"].to_numpy())
        & (out["silent_h"].to_numpy() >= min_silence_h)
    )
    collapse = (
        ~is_silent
        & (out["p_drop"].to_numpy() < alpha)
        & (np.nan_to_num(out["ratio"].to_numpy(), nan=1.0) < collapse_ratio)
    )
    out["status"] = np.select([is_silent, collapse], ["silent", "volume_collapse"], "ok")
    reason = np.full(len(out), "", dtype=object)
    for i in np.flatnonzero(is_silent):
        reason[i] = (
            "no event at all in the history"
            if never[i]
            else f"silent for {out['silent_h'].iat[i]:.0f} h; a {out['kind'].iat[i]} usually "
            f"reports within {out['usual_gap_h'].iat[i]:.1f} h"
        )
    for i in np.flatnonzero(collapse):
        reason[i] = (
            f"{out['recent'].iat[i]} events in the last {recent_days:g} days against "
            f"{out['expected'].iat[i]:.0f} expected (p = {out['p_drop'].iat[i]:.1g})"
        )
    out["reason"] = reason
    return out
