"""The forecast backtest protocol of ``haizhou forecast backtest`` (预测回测规程).

Written out in ``docs/forecasting.md``; in short:

1. square cells of ``cell_size_m`` over the bounding box of *all* events given (every
   category, whole period), origin at ``(floor(min x), floor(min y))``;
2. study area = the cells holding at least one of those events, or a polygon;
3. forecast origins every ``horizon_days`` from ``test_start`` through ``test_days``;
4. each forecast is fitted on the target events of the ``train_days`` before its origin (and,
   for methods that use place features, on all events of the same window) and scored on the
   target events in ``[origin, origin + horizon)``;
5. hit rate, PAI and PEI at each coverage, summed over the forecasts
   (:mod:`haizhou.analytics.evaluation`).

``auto`` picks its method by the same protocol on the ``test_days`` *before* ``test_start``
(validation), so the choice never sees a test event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from haizhou.analytics.base import EventSet
from haizhou.analytics.concentration import FlagConcentration, flag_concentration
from haizhou.analytics.evaluation import BacktestResult, rolling_origin_backtest
from haizhou.analytics.forecast.registry import make_forecaster, select_by_backtest
from haizhou.analytics.grid import Grid

__all__ = ["BacktestReport", "origins", "run_protocol"]


def origins(test_start_days: float, test_days: float, horizon_days: float) -> np.ndarray:
    """Forecast origins every ``horizon_days`` in ``[test_start, test_start + test_days)``.

    Examples
    --------
    >>> origins(100.0, 3, 1).tolist()
    [100.0, 101.0, 102.0]
    """
    if horizon_days <= 0 or test_days <= 0:
        raise ValueError(
            f"horizon_days and test_days must be > 0; got {horizon_days!r} and {test_days!r}."
        )
    n = int(np.ceil(round(test_days / horizon_days, 9)))
    return test_start_days + horizon_days * np.arange(n, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """Everything one protocol run produced.

    Attributes
    ----------
    results : dict of str to BacktestResult
        Scores per method (``auto`` included when asked for).
    seconds : dict of str to float
        Fit + predict time per method over all forecasts (with the caller's clock).
    best_method : str
        Highest PAI at the reference coverage on the test window (a report, not a choice:
        ``auto`` is the honest choice).
    reference_coverage : float
    n_events : int
        Test events scored (the same for every method).
    n_study : int
        Study-area cells.
    auto_choice : str or None
        The method ``auto`` chose on the validation window.
    auto_validation : dict of str to float
        Validation PAI at the reference coverage of each candidate.
    concentration : FlagConcentration or None
        Concentration of the flags of the best (or the auto-chosen) method
        (:mod:`haizhou.analytics.concentration`); by jurisdiction when zones were given.
    """

    results: dict[str, BacktestResult]
    seconds: dict[str, float]
    best_method: str
    reference_coverage: float
    n_events: int
    n_study: int
    auto_choice: str | None = None
    auto_validation: dict[str, float] = field(default_factory=dict)
    concentration: FlagConcentration | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``haizhou forecast backtest --json`` prints."""
        rows = [row for r in self.results.values() for row in r.rows()]
        out: dict[str, Any] = {
            "results": rows,
            "best_method": self.best_method,
            "n_events": self.n_events,
            "n_study_cells": self.n_study,
            "reference_coverage": self.reference_coverage,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }
        if self.auto_choice is not None:
            out["auto_choice"] = self.auto_choice
            out["auto_validation_pai"] = {k: round(v, 4) for k, v in self.auto_validation.items()}
        if self.concentration is not None:
            out["concentration"] = self.concentration.to_dict()
        return out


def run_protocol(
    all_events: EventSet,
    target: np.ndarray,
    *,
    methods: Sequence[str],
    cell_size_m: float,
    train_days: float,
    test_start_days: float,
    test_days: float,
    horizon_days: float,
    coverages: Sequence[float] = (0.01, 0.05, 0.1),
    area: Any = None,
    zone: np.ndarray | None = None,
    period_days: float = 30.0,
    clock: Callable[[], float] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> BacktestReport:
    """Run the backtest protocol for several methods (``"auto"`` allowed).

    Parameters
    ----------
    all_events : EventSet
        Every event of the file (every category, whole period): sizes the grid and the study
        area, and is the ``context`` (place features) of the methods that use it.
    target : numpy.ndarray of bool
        Which events are the forecast target (e.g. the burglaries).
    methods : sequence of str
        Names from :data:`~haizhou.analytics.forecast.METHODS`, or ``"auto"``: ``auto`` chooses
        among the other methods listed, or among all when it is alone.
    cell_size_m, train_days, test_start_days, test_days, horizon_days : float
        Protocol settings (metres, days; ``test_start_days`` in days since 1970-01-01).
    coverages : sequence of float
        Shares of the study area flagged.
    area : shapely geometry, optional
        Study area polygon in the events' metric coordinates.
    zone : numpy.ndarray of str, optional
        Jurisdiction of each event; a cell belongs to the zone most of its events are in.
        The report always carries a :class:`FlagConcentration` of the best (or ``auto``)
        method; without zones every cell is in one zone ``"all"``.
    period_days : float
        Reporting period of the concentration report.
    clock : callable, optional
        Seconds counter (e.g. ``time.perf_counter``) for the timings.
    progress : callable, optional
        ``progress(method, done, total)`` after each forecast.
    """
    target = np.asarray(target, dtype=bool)
    if target.size != len(all_events):
        raise ValueError("target must have one flag per event of all_events.")
    if not target.any():
        raise ValueError(
            "no event is in the target selection; check --category and --category-col."
        )
    grid = Grid.covering(
        all_events.x_m,
        all_events.y_m,
        cell_size_m=cell_size_m,
        study="occupied" if area is None else area,
    )
    events = all_events.subset(target)
    test_origins = origins(test_start_days, test_days, horizon_days)
    coverages = list(coverages)
    reference = 0.05 if 0.05 in coverages else coverages[len(coverages) // 2]
    results: dict[str, BacktestResult] = {}
    seconds: dict[str, float] = {}
    auto_choice, auto_val = None, {}

    def run(name: str, build: Callable[[], Any], label: str) -> BacktestResult:
        total = test_origins.size
        cb = (lambda i: progress(label, i, total)) if progress else None
        return rolling_origin_backtest(
            build,
            events,
            grid,
            origins_days=test_origins,
            horizon_days=horizon_days,
            train_days=train_days,
            coverages=coverages,
            context=all_events,
            method=label,
            clock=clock,
            progress=cb,
            keep_flagged=True,
        )

    concrete = [m for m in methods if m != "auto"]
    for name in concrete:
        res = run(name, lambda name=name: make_forecaster(name), name)
        results[name] = res
        seconds[name] = res.fit_seconds
    if "auto" in methods:
        from haizhou.analytics.forecast.registry import METHODS

        val_origins = origins(test_start_days - test_days, test_days, horizon_days)
        val_origins = val_origins[val_origins + horizon_days <= test_start_days + 1e-9]
        sel = select_by_backtest(
            events,
            grid,
            candidates=concrete or list(METHODS),
            validation_origins_days=val_origins,
            horizon_days=horizon_days,
            train_days=train_days,
            coverage=reference,
            context=all_events,
            clock=clock,
        )
        auto_choice = sel.chosen
        auto_val = {k: float(v.pai[0]) for k, v in sel.results.items()}
        if auto_choice in results:
            chosen = results[auto_choice]
            auto_res = BacktestResult(
                "auto",
                chosen.coverages,
                chosen.k,
                chosen.n_study,
                chosen.origins_days,
                chosen.n_events,
                chosen.captured,
                chosen.best_possible,
                chosen.fit_seconds,
                chosen.flagged,
            )
        else:
            auto_res = run("auto", lambda: make_forecaster(auto_choice), "auto")
        results["auto"] = auto_res
        seconds["auto"] = auto_res.fit_seconds + sum(v.fit_seconds for v in sel.results.values())
    j = coverages.index(reference)
    ranked = [m for m in results if m != "auto"] or ["auto"]
    best = max(ranked, key=lambda m: float(np.nan_to_num(results[m].pai[j], nan=-np.inf)))
    n_events = next(iter(results.values())).total_events
    shown = results["auto"] if "auto" in results else results[best]
    conc = _concentration(
        shown, grid, events, all_events, zone, coverages, j, train_days, period_days
    )
    return BacktestReport(
        results=results,
        seconds=seconds,
        best_method=best,
        reference_coverage=float(reference),
        n_events=n_events,
        n_study=grid.n_study,
        auto_choice=auto_choice,
        auto_validation=auto_val,
        concentration=conc,
    )


def _concentration(
    res: BacktestResult,
    grid: Grid,
    events: EventSet,
    all_events: EventSet,
    zone: np.ndarray | None,
    coverages: list[float],
    j: int,
    train_days: float,
    period_days: float,
) -> FlagConcentration:
    study = grid.study_cells
    pos = np.full(grid.n_cells, -1)
    pos[study] = np.arange(study.size)
    # zone of a cell = the most frequent zone of its events ("unknown" for empty cells)
    labels = np.full(len(all_events), "all") if zone is None else np.asarray(zone).astype(str)
    cells = grid.cell_of(all_events.x_m, all_events.y_m)
    ok = (cells >= 0) & (pos[np.maximum(cells, 0)] >= 0)
    uz, zi = np.unique(labels, return_inverse=True)
    tab = np.zeros((study.size, uz.size))
    np.add.at(tab, (pos[cells[ok]], zi[ok]), 1)
    zone_of_cell = np.where(tab.sum(1) > 0, uz[tab.argmax(1)], "unknown")
    k = int(res.k[j])
    flagged = res.flagged[:, :k] if res.flagged is not None else np.zeros((0, k), int)
    ecells = grid.cell_of(events.x_m, events.y_m)
    past = np.zeros((res.origins_days.size, study.size))
    for i, o in enumerate(res.origins_days):
        m = (events.t_days >= o - train_days) & (events.t_days < o) & (ecells >= 0)
        past[i] = np.bincount(ecells[m], minlength=grid.n_cells)[study]
    return flag_concentration(
        flagged, past, zone_of_cell, origins_days=res.origins_days, period_days=period_days
    )
