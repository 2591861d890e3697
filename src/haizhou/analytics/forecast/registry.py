"""The forecasting methods by name, and choosing one by backtest (预测方法表 · 自动选择).

``METHODS`` maps each CLI name to a recipe ``(class, parameters)``; :func:`make_forecaster`
builds a fresh, unfitted estimator from it. :func:`select_by_backtest` is what ``auto`` does:
score every candidate on a validation backtest that ends before the test period starts, and
keep the best.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from haizhou.analytics.base import EventSet
from haizhou.analytics.evaluation import BacktestResult, rolling_origin_backtest
from haizhou.analytics.forecast._base import Forecaster
from haizhou.analytics.forecast.boosted import GradientBoostedGrid
from haizhou.analytics.forecast.hotspot import ProspectiveHotspot, RetrospectiveHotspot
from haizhou.analytics.forecast.kde import KernelDensityForecast
from haizhou.analytics.forecast.naive import NaiveCounts
from haizhou.analytics.forecast.sepp import SelfExcitingForecast
from haizhou.analytics.grid import Grid

__all__ = ["METHODS", "AutoSelection", "make_forecaster", "parse_methods", "select_by_backtest"]

METHODS: MappingProxyType[str, tuple[type[Forecaster], MappingProxyType[str, Any]]] = (
    MappingProxyType(
        {
            "naive": (NaiveCounts, MappingProxyType({})),
            "retrospective": (
                RetrospectiveHotspot,
                MappingProxyType({"bandwidth_m": 400.0, "window_days": 60.0}),
            ),
            "prospective": (
                ProspectiveHotspot,
                MappingProxyType({"bandwidth_m": 300.0, "window_days": 56.0}),
            ),
            "kde": (KernelDensityForecast, MappingProxyType({"bandwidths_m": 150.0})),
            "sepp": (SelfExcitingForecast, MappingProxyType({})),
            "boosted": (GradientBoostedGrid, MappingProxyType({})),
            "blend": (
                KernelDensityForecast,
                MappingProxyType(
                    {
                        "bandwidths_m": (0.0, 225.0),
                        "bandwidth_weights": (1.0, 2.0),
                        "context_weight": 0.5,
                        "context_bandwidth_m": 150.0,
                    }
                ),
            ),
        }
    )
)
"""Method name → (estimator class, parameters). Parameters of ``blend`` were chosen on the
St. Louis validation window Oct–Dec 2014 (see docs/forecasting.md), never on the test window."""


def make_forecaster(name: str, **overrides: Any) -> Forecaster:
    """A fresh, unfitted forecaster for a method name (see :data:`METHODS`).

    Examples
    --------
    >>> make_forecaster("prospective")
    ProspectiveHotspot()
    """
    if name not in METHODS:
        raise ValueError(f"unknown forecasting method {name!r}; choose from {', '.join(METHODS)}.")
    cls, params = METHODS[name]
    return cls(**{**params, **overrides})


def parse_methods(text: str) -> list[str]:
    """``all``, ``auto`` or a comma-separated list of method names → a list of names.

    Examples
    --------
    >>> parse_methods("naive, sepp")
    ['naive', 'sepp']
    >>> parse_methods("all") == list(METHODS)
    True
    """
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    if not names:
        raise ValueError("--methods is empty; give all, auto or names such as naive,sepp.")
    if names == ["all"]:
        return list(METHODS)
    if names == ["auto"]:
        return ["auto"]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise ValueError(
            f"unknown forecasting method(s) {', '.join(unknown)}; choose from all, auto, "
            f"{', '.join(METHODS)}."
        )
    return list(dict.fromkeys(names))


class AutoSelection:
    """What :func:`select_by_backtest` found: the chosen method and every candidate's scores."""

    __slots__ = ("chosen", "coverage", "results")

    def __init__(self, chosen: str, coverage: float, results: dict[str, BacktestResult]) -> None:
        self.chosen = chosen
        self.coverage = coverage
        self.results = results


def select_by_backtest(
    events: EventSet,
    grid: Grid,
    *,
    candidates: Sequence[str],
    validation_origins_days: Sequence[float],
    horizon_days: float,
    train_days: float,
    coverage: float = 0.05,
    context: EventSet | None = None,
    clock: Callable[[], float] | None = None,
) -> AutoSelection:
    """Pick the method with the highest PAI at ``coverage`` on a validation backtest.

    The validation origins must precede the test period (the caller chooses them, e.g. the
    ``test_days`` before the test start), so the choice never sees a test event.
    """
    results = {}
    for name in candidates:
        results[name] = rolling_origin_backtest(
            lambda name=name: make_forecaster(name),
            events,
            grid,
            origins_days=validation_origins_days,
            horizon_days=horizon_days,
            train_days=train_days,
            coverages=[coverage],
            context=context,
            method=name,
            clock=clock,
        )
    scores = {n: float(np.nan_to_num(r.pai[0], nan=-np.inf)) for n, r in results.items()}
    chosen = max(scores, key=lambda n: (scores[n], -list(candidates).index(n)))
    return AutoSelection(chosen, coverage, results)
