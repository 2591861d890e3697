"""Shared steps of the analytics models and commands (研判模型公共步骤).

The built-in analytics models (``hotspots.*``, ``repeats.*``, ``warnings.trend``,
``nearrepeat.burglary``, ``forecast.daily``) and the ``haizhou hotspots | emerging | repeats |
warnings | nearrepeat | forecast run`` commands do the same work on an *event frame*, whether
the events come from the store or from a CSV file. This module holds that work; the heavy
estimators live in :mod:`haizhou.analytics`. It reads nothing and writes nothing.

Event frame columns: ``t`` (``datetime64[ns]``, naive local time), ``x_m``, ``y_m`` (metres
on a local plane), ``lon``, ``lat`` (WGS-84 degrees; NaN when only metres are known),
``category`` (str), ``jurisdiction`` (str or None); optional ``address``, ``caller`` (a
pseudonym, never a clear number) and ``caller_masked`` (e.g. ``138****5678``).

The module name starts with ``_``: the registry skips it (it is no model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from haizhou.analytics.base import EventSet, to_days
from haizhou.analytics.emerging import EmergingPattern, emerging_hot_spots
from haizhou.analytics.grid import Grid
from haizhou.analytics.levels import assign_levels
from haizhou.analytics.spatial_stats.fdr import fdr_adjust
from haizhou.analytics.spatial_stats.getis_ord import getis_ord_gi_star
from haizhou.analytics.spatial_stats.weights import Neighbours
from haizhou.domain import Level
from haizhou.geo import LocalProjection
from haizhou.geo.h3cells import cell_boundaries_geojson, cells_from_lonlat, cells_to_str

__all__ = [
    "EMERGING_LEVELS",
    "FRAME_COLUMNS",
    "SpatialUnits",
    "circle_polygon",
    "emerging_table",
    "event_set",
    "hotspot_table",
    "mask_pseudonym",
    "project_frame",
]

FRAME_COLUMNS = ("t", "x_m", "y_m", "lon", "lat", "category", "jurisdiction")

EMERGING_LEVELS: dict[EmergingPattern, Level] = {
    EmergingPattern.INTENSIFYING_HOT_SPOT: Level.RED,
    EmergingPattern.NEW_HOT_SPOT: Level.ORANGE,
    EmergingPattern.CONSECUTIVE_HOT_SPOT: Level.ORANGE,
    EmergingPattern.PERSISTENT_HOT_SPOT: Level.YELLOW,
}
"""Emerging hot-spot patterns that become findings, and their level (the others are not
acted on: sporadic and oscillating spots are noise for a patrol plan; diminishing and historical
ones are fading)."""


def mask_pseudonym(pseudonym: str | None) -> str:
    """A short masked form of a caller pseudonym for display (``a1b2****``), never the whole."""
    if not pseudonym:
        return ""
    return f"{str(pseudonym)[:4]}****"


def project_frame(frame: pd.DataFrame, projection: LocalProjection | None = None) -> pd.DataFrame:
    """Add ``x_m`` / ``y_m`` from ``lon`` / ``lat`` on a local plane (a copy).

    Rows without coordinates are dropped. ``projection`` defaults to the plane centred on the
    events' bounding box; the frame's ``attrs["projection"]`` keeps it for drawing.
    """
    out = frame.copy()
    ok = np.isfinite(out["lon"].to_numpy(float)) & np.isfinite(out["lat"].to_numpy(float))
    out = out[ok].reset_index(drop=True)
    if projection is None and len(out):
        projection = LocalProjection.for_bounds(
            float(out["lon"].min()), float(out["lat"].min()),
            float(out["lon"].max()), float(out["lat"].max()),
        )  # fmt: skip
    if projection is not None and len(out):
        x, y = projection.forward(out["lon"].to_numpy(float), out["lat"].to_numpy(float))
        out["x_m"], out["y_m"] = x, y
    else:
        out["x_m"], out["y_m"] = np.zeros(0), np.zeros(0)
    out.attrs["projection"] = projection
    return out


def event_set(frame: pd.DataFrame) -> EventSet:
    """The frame's events as an :class:`EventSet` (days, metres)."""
    t = to_days(frame["t"].to_numpy().astype("datetime64[s]"))
    return EventSet(
        np.asarray(t, dtype=np.float64),
        frame["x_m"].to_numpy(np.float64),
        frame["y_m"].to_numpy(np.float64),
    )


def circle_polygon(
    x_m: float, y_m: float, radius_m: float, projection: LocalProjection | None, n: int = 32
) -> dict[str, Any]:
    """GeoJSON polygon of a circle (lon/lat with a projection, else metres)."""
    angle = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    r = max(float(radius_m), 1.0)
    xs, ys = x_m + r * np.cos(angle), y_m + r * np.sin(angle)
    if projection is not None:
        xs, ys = projection.inverse(xs, ys)
    ring = [[round(float(a), 7), round(float(b), 7)] for a, b in zip(xs, ys, strict=True)]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def _majority(keys: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Most frequent non-missing label among the events of each unit (None if none)."""
    out = np.full(n, None, dtype=object)
    ok = (keys >= 0) & pd.notna(labels)
    if not ok.any():
        return out
    tab = pd.DataFrame({"k": keys[ok], "v": labels[ok].astype(str)})
    top = tab.groupby(["k", "v"]).size().reset_index(name="n")
    top = top.sort_values(["k", "n", "v"], ascending=[True, False, True]).drop_duplicates("k")
    out[top["k"].to_numpy()] = top["v"].to_numpy()
    return out


@dataclass(frozen=True, slots=True, eq=False)
class SpatialUnits:
    """Spatial units of a hot-spot analysis: H3 hexagons or square cells (空间单元).

    Attributes
    ----------
    kind : {"h3", "grid"}
    ids : numpy.ndarray of str
        Label of each unit (H3 hex string, or ``"g<flat id>"``).
    neighbours : Neighbours
        Touching units (H3 ring 1, or queen contiguity of square cells).
    h3_cells : numpy.ndarray of int64 or None
    grid : Grid or None
    projection : LocalProjection or None
        The plane of ``x_m`` / ``y_m`` (drawing square cells in lon/lat).
    resolution : int or None
    """

    kind: str
    ids: np.ndarray
    neighbours: Neighbours
    h3_cells: np.ndarray | None = None
    grid: Grid | None = None
    projection: LocalProjection | None = None
    resolution: int | None = None

    @property
    def n(self) -> int:
        return int(self.ids.size)

    @classmethod
    def hexagons(cls, lon: Any, lat: Any, resolution: int = 8) -> SpatialUnits:
        """The hexagons holding an event plus the ring around them (so zeros are counted)."""
        import h3.api.basic_int as h3int

        occupied = np.unique(cells_from_lonlat(lon, lat, resolution).reshape(-1))
        occupied = occupied[occupied > 0]
        if occupied.size == 0:
            raise ValueError("no event has valid lon/lat for the H3 hexagons.")
        disk = {c for cell in occupied.tolist() for c in h3int.grid_disk(cell, 1)}
        cells = np.array(sorted(disk), dtype=np.int64)
        return cls(
            kind="h3",
            ids=np.asarray(cells_to_str(cells), dtype=object),
            neighbours=Neighbours.from_h3(cells, 1),
            h3_cells=cells,
            resolution=int(resolution),
        )

    @classmethod
    def squares(
        cls, x_m: Any, y_m: Any, cell_size_m: float, projection: LocalProjection | None = None
    ) -> SpatialUnits:
        """Square cells over the events' bounding box (every cell, empty ones as zeros)."""
        grid = Grid.covering(x_m, y_m, cell_size_m=cell_size_m, study="all")
        return cls(
            kind="grid",
            ids=np.array([f"g{i}" for i in range(grid.n_cells)], dtype=object),
            neighbours=Neighbours.from_grid(grid.ny, grid.nx, queen=True),
            grid=grid,
            projection=projection,
        )

    @classmethod
    def for_frame(
        cls, frame: pd.DataFrame, *, resolution: int = 8, cell_size_m: float | None = None
    ) -> SpatialUnits:
        """Hexagons when the frame has lon/lat and no cell size is forced, else squares."""
        has_lonlat = bool(len(frame)) and bool(np.isfinite(frame["lon"].to_numpy(float)).all())
        if has_lonlat and cell_size_m is None:
            return cls.hexagons(frame["lon"], frame["lat"], resolution)
        return cls.squares(
            frame["x_m"], frame["y_m"], cell_size_m or 250.0, frame.attrs.get("projection")
        )

    def index_of(self, frame: pd.DataFrame) -> np.ndarray:
        """Unit position of each event (-1 when outside every unit)."""
        if self.kind == "h3":
            assert self.h3_cells is not None and self.resolution is not None
            cells = cells_from_lonlat(frame["lon"], frame["lat"], self.resolution).reshape(-1)
            pos = np.searchsorted(self.h3_cells, cells)
            pos = np.minimum(pos, self.h3_cells.size - 1)
            return np.where(self.h3_cells[pos] == cells, pos, -1).astype(np.int64)
        assert self.grid is not None
        return self.grid.cell_of(frame["x_m"].to_numpy(float), frame["y_m"].to_numpy(float))

    def counts(self, frame: pd.DataFrame) -> np.ndarray:
        """Events per unit, float64, shape (n,)."""
        pos = self.index_of(frame)
        return np.bincount(pos[pos >= 0], minlength=self.n).astype(np.float64)

    def geometry(self, i: int) -> dict[str, Any]:
        """GeoJSON polygon of unit ``i`` (lon/lat, or metres without a projection)."""
        if self.kind == "h3":
            assert self.h3_cells is not None
            return cell_boundaries_geojson(self.h3_cells[[i]])[0]
        assert self.grid is not None
        ring = np.asarray(self.grid.cell_polygon(i), dtype=np.float64)
        if self.projection is not None:
            lon, lat = self.projection.inverse(ring[:, 0], ring[:, 1])
            ring = np.column_stack([lon, lat])
        return {"type": "Polygon", "coordinates": [np.round(ring, 7).tolist()]}

    def centre(self, i: int) -> tuple[float, float]:
        """Centre of unit ``i`` as (lon, lat), or (x, y) metres without a projection."""
        ring = np.asarray(self.geometry(i)["coordinates"][0][:-1], dtype=np.float64)
        return float(ring[:, 0].mean()), float(ring[:, 1].mean())


def hotspot_table(
    frame: pd.DataFrame,
    units: SpatialUnits,
    *,
    alphas: Sequence[float] = (0.001, 0.01, 0.05),
    blue_min_z: float | None = 1.96,
) -> pd.DataFrame:
    """Getis-Ord Gi* hot spots with FDR control → red / orange / yellow / blue (热点等级).

    Returns one row per unit that reaches a level, hottest first: ``unit`` (position),
    ``cell``, ``count``, ``z``, ``p``, ``p_fdr``, ``level``, ``jurisdiction``. Empty when the
    counts are constant (Gi* undefined).
    """
    columns = ["unit", "cell", "count", "z", "p", "p_fdr", "level", "jurisdiction"]
    counts = units.counts(frame)
    if counts.sum() <= 0 or np.ptp(counts) == 0:
        return pd.DataFrame(columns=columns)
    with np.errstate(invalid="ignore", divide="ignore"):  # a unit neighbouring all: z NaN
        res = getis_ord_gi_star(counts, units.neighbours, permutations=0, alternative="greater")
    p_fdr = fdr_adjust(res.p_norm, method="bh")
    levels = assign_levels(
        res.z, scheme="significance", p=p_fdr, alphas=alphas, blue_min_z=blue_min_z, fdr=None
    )
    keep = np.flatnonzero(np.array([lv is not None for lv in levels]) & (counts > 0))
    owner = _majority(units.index_of(frame), frame["jurisdiction"].to_numpy(object), units.n)
    out = pd.DataFrame(
        {
            "unit": keep,
            "cell": units.ids[keep],
            "count": counts[keep].astype(np.int64),
            "z": res.z[keep],
            "p": res.p_norm[keep],
            "p_fdr": p_fdr[keep],
            "level": levels[keep],
            "jurisdiction": owner[keep],
        },
        columns=columns,
    )
    return out.sort_values(["z", "count"], ascending=False, kind="stable").reset_index(drop=True)


def emerging_table(
    frame: pd.DataFrame,
    units: SpatialUnits,
    *,
    end: Any,
    steps: int = 8,
    step_days: float = 7.0,
    alpha: float = 0.05,
    include_all: bool = False,
) -> pd.DataFrame:
    """Emerging hot-spot categories over ``steps`` periods of ``step_days`` ending at ``end``.

    Returns one row per unit with a pattern in :data:`EMERGING_LEVELS` (all hot/cold patterns
    with ``include_all``), most severe first: ``unit``, ``cell``, ``pattern``, ``title_zh``,
    ``level`` (None for patterns that make no finding), ``trend_z``, ``trend_p``,
    ``hot_steps``, ``last_count``, ``counts`` (per step, oldest first), ``jurisdiction``.
    """
    columns = ["unit", "cell", "pattern", "title_zh", "level", "trend_z", "trend_p",
               "hot_steps", "last_count", "counts", "jurisdiction"]  # fmt: skip
    end_days = float(to_days(np.datetime64(pd.Timestamp(end).tz_localize(None), "s")))
    t = to_days(frame["t"].to_numpy().astype("datetime64[s]"))
    step = np.floor((np.asarray(t) - (end_days - steps * step_days)) / step_days).astype(np.int64)
    pos = units.index_of(frame)
    ok = (step >= 0) & (step < steps) & (pos >= 0)
    cube = np.zeros((steps, units.n))
    np.add.at(cube, (step[ok], pos[ok]), 1.0)
    usable = [s for s in range(steps) if np.ptp(cube[s]) > 0]
    if len(usable) < steps or steps < 2:
        return pd.DataFrame(columns=columns)
    res = emerging_hot_spots(cube, units.neighbours, alpha=alpha, fdr="bh")
    owner = _majority(pos, frame["jurisdiction"].to_numpy(object), units.n)
    rows = []
    for i, pattern in enumerate(res.category):
        level = EMERGING_LEVELS.get(pattern)
        if pattern is EmergingPattern.NO_PATTERN or (level is None and not include_all):
            continue
        rows.append(
            {
                "unit": i,
                "cell": units.ids[i],
                "pattern": str(pattern.value),
                "title_zh": pattern.title_zh,
                "level": level,
                "trend_z": float(res.trend_z[i]),
                "trend_p": float(res.trend_p[i]),
                "hot_steps": int(res.hot[:, i].sum()),
                "last_count": int(cube[-1, i]),
                "counts": cube[:, i].astype(int).tolist(),
                "jurisdiction": owner[i],
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    if out.empty:
        return out
    rank = out["level"].map(lambda lv: 9 if lv is None or lv != lv else Level(lv).rank)
    return (
        out.assign(_r=rank)
        .sort_values(["_r", "trend_z"], ascending=[True, False], kind="stable")
        .drop(columns="_r")
        .reset_index(drop=True)
    )


@dataclass(frozen=True, slots=True, eq=False)
class ForecastCells:
    """A forecast for the period after ``now`` on square cells (预测结果).

    Attributes
    ----------
    table : pandas.DataFrame
        The flagged cells, riskiest first: ``rank``, ``unit`` (flat grid id), ``cell``,
        ``risk``, ``past_count`` (target events in the training window), ``level``,
        ``jurisdiction``.
    method : str
        The method used (``auto`` resolved to its choice).
    validation_pai : dict of str to float
        Validation PAI of each candidate when ``auto`` chose (else empty).
    concentration : FlagConcentration
        Where the flags fall and how closely they follow past recording.
    units : SpatialUnits
        The grid (for drawing cells).
    n_study : int
        Cells in the study area (cells with any event of the training window).
    k : int
        Cells flagged (``floor(coverage × n_study)``, at least 1).
    """

    table: pd.DataFrame
    method: str
    validation_pai: dict[str, float]
    concentration: Any
    units: SpatialUnits
    n_study: int
    k: int


def forecast_cells(
    frame: pd.DataFrame,
    target: Any,
    *,
    now: Any,
    method: str = "auto",
    candidates: Sequence[str] = ("naive", "retrospective", "prospective", "kde", "blend"),
    cell_size_m: float = 150.0,
    train_days: float = 365.0,
    validation_days: int = 14,
    coverage: float = 0.01,
) -> ForecastCells:
    """Forecast the day after ``now`` and flag the riskiest ``coverage`` of the study cells.

    ``frame`` holds events of every category (they size the grid and study area, and are the
    place context of the methods that use it); ``target`` flags the events to forecast. With
    ``method="auto"`` each candidate is backtested on the ``validation_days`` daily origins
    before ``now`` (PAI at 5 %) and the best is used (:func:`select_by_backtest`).
    """
    from haizhou.analytics.concentration import flag_concentration
    from haizhou.analytics.forecast import make_forecaster, select_by_backtest

    target = np.asarray(target, dtype=bool)
    if not target.any():
        raise ValueError("no event of the target categories in the training window.")
    now_days = float(to_days(np.datetime64(pd.Timestamp(now).tz_localize(None), "s")))
    everything = event_set(frame)
    events = everything.subset(target)
    grid = Grid.covering(everything.x_m, everything.y_m, cell_size_m=cell_size_m)
    units = SpatialUnits(
        kind="grid",
        ids=np.array([f"g{i}" for i in range(grid.n_cells)], dtype=object),
        neighbours=Neighbours.from_grid(grid.ny, grid.nx),
        grid=grid,
        projection=frame.attrs.get("projection"),
    )
    validation: dict[str, float] = {}
    chosen = method
    if method == "auto":
        origins = now_days - validation_days + np.arange(validation_days, dtype=np.float64)
        sel = select_by_backtest(
            events,
            grid,
            candidates=list(candidates),
            validation_origins_days=origins,
            horizon_days=1.0,
            train_days=train_days,
            coverage=0.05,
            context=everything,
        )
        chosen = sel.chosen
        validation = {k: float(v.pai[0]) for k, v in sel.results.items()}
    train = events.window(now_days - train_days, now_days)
    context = everything.window(now_days - train_days, now_days)
    est = make_forecaster(chosen).fit(train, now=now_days, context=context, grid=grid)
    study = grid.study_cells
    risk = np.asarray(est.predict(grid), dtype=np.float64)[study]
    k = max(1, math.floor(coverage * study.size + 1e-9))
    order = np.lexsort((np.arange(study.size), -risk))[:k]
    past = grid.counts(train.x_m, train.y_m)[study]
    cell_pos = grid.cell_of(frame["x_m"].to_numpy(float), frame["y_m"].to_numpy(float))
    owner = _majority(cell_pos, frame["jurisdiction"].to_numpy(object), grid.n_cells)[study]
    zones = np.array([z if z is not None else "unknown" for z in owner], dtype=object)
    levels = assign_levels(risk)
    conc = flag_concentration(
        order[None, :], past[None, :], zones, origins_days=[now_days], period_days=1.0
    )
    table = pd.DataFrame(
        {
            "rank": np.arange(1, k + 1),
            "unit": study[order],
            "cell": [f"g{int(c)}" for c in study[order]],
            "risk": risk[order],
            "past_count": past[order].astype(np.int64),
            "level": [lv if lv is not None else Level.BLUE for lv in levels[order]],
            "jurisdiction": owner[order],
        }
    )
    return ForecastCells(table, chosen, validation, conc, units, int(study.size), k)
