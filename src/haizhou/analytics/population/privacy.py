"""Retention of raw sightings (原始感知数据留存期限).

Raw sightings are kept for a configurable number of days (default 30) and then deleted by a
scheduled job; this module only says which rows have expired, given ``now``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_RETENTION_DAYS", "expired"]

DEFAULT_RETENTION_DAYS = 30
"""Days raw sightings are kept."""


def expired(
    seen_at: Any, *, now: Any, retention_days: float = DEFAULT_RETENTION_DAYS
) -> np.ndarray:
    """Which sightings are older than the retention period (to delete).

    Parameters
    ----------
    seen_at : array_like of datetime64 or pandas Series
        Sighting times (any zone, as long as ``now`` is comparable).
    now : datetime-like
        Time of the clean-up run.
    retention_days : float, default 30
        Days to keep, > 0.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> expired(pd.Series(pd.to_datetime(["2024-01-01", "2024-02-15"])), now="2024-02-20").tolist()
    [True, False]
    """
    if not (isinstance(retention_days, int | float) and retention_days > 0):
        raise ValueError(f"retention_days must be > 0; got {retention_days!r}.")
    t = pd.to_datetime(pd.Series(seen_at))
    now_ts = pd.Timestamp(now)
    if t.dt.tz is not None and now_ts.tzinfo is None:
        now_ts = now_ts.tz_localize(t.dt.tz)
    elif t.dt.tz is None and now_ts.tzinfo is not None:
        now_ts = now_ts.tz_localize(None)
    return (t < now_ts - pd.Timedelta(days=retention_days)).to_numpy()
