"""Retrospective and prospective hot spots (回顾性热点 · 前瞻性热点).

References
----------
.. [1] Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting: the future of
   crime mapping? British Journal of Criminology 44(5), 641–658. doi:10.1093/bjc/azh036
.. [2] Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for
   predicting spatial patterns of crime. Security Journal 21, 4–28.
   doi:10.1057/palgrave.sj.8350066
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from haizhou.analytics.base import EventSet, Interval, check_is_fitted
from haizhou.analytics.forecast._base import Forecaster
from haizhou.analytics.forecast._surface import pairwise_cell_sum, quartic_at_centres
from haizhou.analytics.grid import Grid

__all__ = ["ProspectiveHotspot", "RetrospectiveHotspot"]

_POSITIVE = [Interval("real", 0, None, closed="neither")]


class RetrospectiveHotspot(Forecaster):
    """Retrospective hot spot (回顾性热点): a quartic kernel sum of recent events.

    Risk at a cell = Σ (1 - (d/h)²)² over the events of the last ``window_days`` within ``h =
    bandwidth_m`` of the cell centre; every event weighs the same whatever its age [2]_.

    Parameters
    ----------
    bandwidth_m : float, default=400.0
        Kernel radius h, metres.
    window_days : float, default=60.0
        Only events in ``[now - window_days, now)`` count.

    Attributes
    ----------
    events_ : EventSet
        Events of the window.

    Examples
    --------
    >>> from haizhou.analytics.grid import Grid
    >>> ev = EventSet.from_arrays([1.0], [225.0], [75.0])
    >>> grid = Grid.covering([0.0, 449.0], [0.0, 149.0], cell_size_m=150.0, study="all")
    >>> RetrospectiveHotspot(bandwidth_m=200.0).fit(ev, now=2.0).predict(grid).round(3).tolist()
    [0.191, 1.0, 0.191]
    """

    _parameter_constraints: ClassVar = {"bandwidth_m": _POSITIVE, "window_days": _POSITIVE}

    def __init__(self, *, bandwidth_m: float = 400.0, window_days: float = 60.0) -> None:
        self.bandwidth_m = bandwidth_m
        self.window_days = window_days

    def fit(
        self,
        events: EventSet,
        *,
        now: Any,
        context: EventSet | None = None,
        grid: Grid | None = None,
    ) -> RetrospectiveHotspot:
        """Keep the events of the last ``window_days``; returns ``self``."""
        events, now_days = self._prepare(events, now)
        self.events_ = events.window(now_days - self.window_days, now_days)
        self.now_days_ = now_days
        return self

    def predict(self, grid: Grid) -> np.ndarray:
        """Quartic kernel sum at each cell centre, shape (grid.n_cells,)."""
        check_is_fitted(self)
        return quartic_at_centres(
            grid, self.events_.x_m, self.events_.y_m, bandwidth_m=float(self.bandwidth_m)
        )


class ProspectiveHotspot(Forecaster):
    """Prospective hot spot (前瞻性热点), Bowers, Johnson & Pease (2004) [1]_.

    Each past event raises the risk of nearby cells by ``1/(1 + d) · 1/(1 + w)``, where ``d`` is
    the distance between the event's cell and the cell in cell widths (cells with ``d·s ≤
    bandwidth_m`` count) and ``w`` the event's age in whole ``time_unit_days`` (events younger than
    ``window_days`` count). Burglary risk spreads to nearby homes for a few weeks after a
    burglary (near repeats), which is what the weights encode.

    Parameters
    ----------
    bandwidth_m : float, default=300.0
        Spatial reach, metres (300 m = 2 cells of 150 m).
    window_days : float, default=56.0
        Temporal reach, days (8 weeks).
    time_unit_days : float, default=7.0
        Length of the time step ``w`` counts, days (weeks in the original).

    Attributes
    ----------
    events_ : EventSet
        Events within the temporal reach.
    now_days_ : float
        Forecast origin.

    Examples
    --------
    >>> from haizhou.analytics.grid import Grid
    >>> ev = EventSet.from_arrays([0.0], [75.0], [75.0])
    >>> grid = Grid.covering([0.0, 449.0], [0.0, 149.0], cell_size_m=150.0, study="all")
    >>> ProspectiveHotspot(bandwidth_m=150.0).fit(ev, now=8.0).predict(grid).tolist()
    [0.5, 0.25, 0.0]
    """

    _parameter_constraints: ClassVar = {
        "bandwidth_m": _POSITIVE,
        "window_days": _POSITIVE,
        "time_unit_days": _POSITIVE,
    }

    def __init__(
        self, *, bandwidth_m: float = 300.0, window_days: float = 56.0, time_unit_days: float = 7.0
    ) -> None:
        self.bandwidth_m = bandwidth_m
        self.window_days = window_days
        self.time_unit_days = time_unit_days

    def fit(
        self,
        events: EventSet,
        *,
        now: Any,
        context: EventSet | None = None,
        grid: Grid | None = None,
    ) -> ProspectiveHotspot:
        """Keep the events younger than ``window_days``; returns ``self``."""
        events, now_days = self._prepare(events, now)
        self.events_ = events.window(now_days - self.window_days, now_days)
        self.now_days_ = now_days
        return self

    def predict(self, grid: Grid) -> np.ndarray:
        """Prospective risk per cell, shape (grid.n_cells,)."""
        check_is_fitted(self)
        ev = self.events_
        weeks = np.floor((self.now_days_ - ev.t_days) / self.time_unit_days)
        per_cell = grid.counts(ev.x_m, ev.y_m, weights=1.0 / (1.0 + weeks))
        reach = float(self.bandwidth_m) / grid.cell_size_m
        r = int(np.floor(reach))
        off = np.arange(-r, r + 1)
        d = np.hypot(off[None, :], off[:, None])
        kernel = np.where(d <= reach + 1e-9, 1.0 / (1.0 + d), 0.0)
        return pairwise_cell_sum(grid, per_cell, kernel)
