"""Short-term crime forecasting on a grid (短期预测).

Every method is a :class:`Forecaster` estimator: ``fit(events, *, now, context=None,
grid=None)`` then ``predict(grid)`` → risk per cell. Score them with
:func:`haizhou.analytics.evaluation.rolling_origin_backtest`; :data:`METHODS` names them for
the command line (``haizhou forecast backtest --methods ...``).
"""

from haizhou.analytics.forecast._base import Forecaster
from haizhou.analytics.forecast.boosted import GradientBoostedGrid
from haizhou.analytics.forecast.hotspot import ProspectiveHotspot, RetrospectiveHotspot
from haizhou.analytics.forecast.kde import KernelDensityForecast
from haizhou.analytics.forecast.naive import NaiveCounts
from haizhou.analytics.forecast.registry import (
    METHODS,
    AutoSelection,
    make_forecaster,
    parse_methods,
    select_by_backtest,
)
from haizhou.analytics.forecast.sepp import SelfExcitingForecast, collapse_duplicates

__all__ = [
    "METHODS",
    "AutoSelection",
    "Forecaster",
    "GradientBoostedGrid",
    "KernelDensityForecast",
    "NaiveCounts",
    "ProspectiveHotspot",
    "RetrospectiveHotspot",
    "SelfExcitingForecast",
    "collapse_duplicates",
    "make_forecaster",
    "parse_methods",
    "select_by_backtest",
]
