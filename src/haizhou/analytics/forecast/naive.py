"""Naive forecast: last period's counts per cell (朴素预测 · 上期计数)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from haizhou.analytics.base import EventSet, Interval, Options, check_is_fitted
from haizhou.analytics.forecast._base import Forecaster
from haizhou.analytics.grid import Grid

__all__ = ["NaiveCounts"]


class NaiveCounts(Forecaster):
    """Events per cell in the last ``window_days`` before ``now`` (朴素预测).

    The benchmark every other method must beat: risk = count of past events in the cell. With
    ``window_days=None`` every event given to ``fit`` (before ``now``) counts.

    Parameters
    ----------
    window_days : float or None, default=None
        Only events in ``[now - window_days, now)`` count; None = all events given.

    Attributes
    ----------
    events_ : EventSet
        The events kept.
    now_days_ : float
        Forecast origin, days since 1970-01-01.

    Examples
    --------
    >>> from haizhou.analytics.grid import Grid
    >>> ev = EventSet.from_arrays([0.0, 1.0, 2.0], [10.0, 10.0, 150.0], [10.0, 10.0, 10.0])
    >>> grid = Grid.covering(ev.x_m, ev.y_m, cell_size_m=100.0)
    >>> NaiveCounts().fit(ev, now=3.0).predict(grid).tolist()
    [2.0, 1.0]
    """

    _parameter_constraints: ClassVar = {
        "window_days": [Interval("real", 0, None, closed="neither"), Options((None,))],
    }

    def __init__(self, *, window_days: float | None = None) -> None:
        self.window_days = window_days

    def fit(
        self,
        events: EventSet,
        *,
        now: Any,
        context: EventSet | None = None,
        grid: Grid | None = None,
    ) -> NaiveCounts:
        """Keep the events of the window before ``now``; returns ``self``."""
        events, now_days = self._prepare(events, now)
        if self.window_days is not None:
            events = events.window(now_days - self.window_days, now_days)
        self.events_ = events
        self.now_days_ = now_days
        return self

    def predict(self, grid: Grid) -> np.ndarray:
        """Count of kept events per grid cell, shape (grid.n_cells,)."""
        check_is_fitted(self)
        return grid.counts(self.events_.x_m, self.events_.y_m)
