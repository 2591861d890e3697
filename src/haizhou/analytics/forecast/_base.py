"""What every forecaster shares: the fit/predict/score contract on a grid (预测器基类)."""

from __future__ import annotations

from typing import Any

import numpy as np

from haizhou.analytics.base import Estimator, EventSet, check_is_fitted, to_days
from haizhou.analytics.evaluation import pai
from haizhou.analytics.grid import Grid

__all__ = ["Forecaster"]


class Forecaster(Estimator):
    """Base of the short-term grid forecasters (短期预测器).

    ``fit(events, *, now, context=None, grid=None)`` keeps what the method needs from the events
    strictly before ``now`` (later events are ignored, so a forecast can never see its test
    window) and returns ``self``; ``predict(grid)`` returns a risk value per grid cell (higher =
    more likely), shape ``(grid.n_cells,)``; ``score(events, *, grid, coverage)`` is the PAI of
    that surface against events (higher is better).

    ``context`` holds events of every category (place features); only some methods use it.
    ``grid`` is needed at fit time only by methods that learn across cells.
    """

    def _prepare(self, events: EventSet, now: Any) -> tuple[EventSet, float]:
        self._check_params()
        if not isinstance(events, EventSet):
            raise TypeError(
                f"{type(self).__name__}.fit needs an EventSet (haizhou.analytics.base.EventSet); "
                f"got {type(events).__name__}."
            )
        now_days = float(to_days(now))
        return events.before(now_days), now_days

    def predict(self, grid: Grid) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def score(self, events: EventSet, *, grid: Grid, coverage: float = 0.05) -> float:
        """PAI of the fitted surface at ``coverage`` against ``events`` (higher is better).

        Returns NaN when no event falls in the study area.
        """
        check_is_fitted(self)
        risk = np.asarray(self.predict(grid), dtype=np.float64)[grid.study_cells]
        counts = grid.counts(events.x_m, events.y_m)[grid.study_cells]
        return pai(risk, counts, coverage)
