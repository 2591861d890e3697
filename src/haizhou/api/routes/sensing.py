"""Sensing and fraud map layers (感知覆盖 · 盲区 · 补盲选址 · 诈骗风险): ``/api/map/...``.

* ``GET /api/map/coverage``: each active sensor's coverage footprint (camera sector, plate
  reader sector, radio disc), from :func:`haizhou.analytics.coverage.footprints`;
* ``GET /api/map/blindspots``: grid cells with many severity-weighted incidents that no sensor
  sees (:func:`haizhou.analytics.coverage.blind_spots`), levelled;
* ``GET /api/map/candidate-sites``: the K new sites covering the most unseen demand (maximal
  covering location problem, greedy with its (1 − 1/e) guarantee, exact where small enough);
* ``GET /api/map/fraud-risk``: fraud victimisation rate per registered resident by
  jurisdiction, empirical-Bayes smoothed, with its significance and level.

Everything is computed on request within the user's jurisdiction scope: sensors, incidents,
cases and residents outside it are never read. The layers are aggregates: no personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from shapely.geometry import mapping, shape
from sqlalchemy import func, select

from haizhou.analytics.coverage import (
    DEFAULT_SEVERITY,
    blind_spots,
    coverage_matrix,
    coverage_matrix_points,
    demand_points,
    footprints,
    solve_mclp,
)
from haizhou.analytics.fraud import high_risk_areas
from haizhou.analytics.spatial_stats import Neighbours
from haizhou.api.deps import ScopeDep, SessionDep, check_year, require
from haizhou.api.policy import Permission
from haizhou.api.routes.map import BBoxQuery, _bad, _json, parse_bbox
from haizhou.api.schemas.sensing import LayerCollection
from haizhou.geo.projection import LocalProjection
from haizhou.store.repositories.cases import case_frame
from haizhou.store.repositories.incidents import incident_frame
from haizhou.store.repositories.jurisdictions import list_jurisdictions
from haizhou.store.repositories.sensors import list_sensors
from haizhou.store.tables import PersonRow

router = APIRouter(prefix="/map", tags=["sensing"])

DEFAULT_RANGE_M = {"camera": 50.0, "plate_reader": 30.0, "wifi_probe": 100.0}
"""Range assumed for a sensor registered without one, metres (other kinds: 100)."""

EndQuery = Annotated[
    datetime | None,
    Query(description="End of the data window (excluded), ISO 8601; default now"),
]
DaysQuery = Annotated[int, Query(ge=7, le=3660, description="Days of data before end")]


def _end(end: datetime | None, request: Request) -> datetime:
    zone = request.app.state.settings.zone
    end = end if end is not None else datetime.now(zone)
    check_year("end", end)
    return end if end.tzinfo is not None else end.replace(tzinfo=zone)


def _sensor_frame(sensors: list[Any]) -> pd.DataFrame:
    kinds = [str(getattr(s.kind, "value", s.kind)) for s in sensors]
    return pd.DataFrame(
        {
            "id": [s.id for s in sensors],
            "kind": kinds,
            "status": [str(getattr(s.status, "value", s.status)) for s in sensors],
            "jurisdiction_code": [s.jurisdiction_code for s in sensors],
            "lon": [s.lon for s in sensors],
            "lat": [s.lat for s in sensors],
            "range_m": [
                s.range_m if s.range_m and s.range_m > 0 else DEFAULT_RANGE_M.get(k, 100.0)
                for s, k in zip(sensors, kinds, strict=True)
            ],
            "heading_deg": [s.heading_deg if s.heading_deg is not None else 0.0 for s in sensors],
            "fov_deg": [s.fov_deg if s.fov_deg else 360.0 for s in sensors],
        }
    )


def _projection(lon: np.ndarray, lat: np.ndarray) -> LocalProjection:
    return LocalProjection.for_bounds(
        float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
    )


def _to_lonlat(geom: Any, proj: LocalProjection) -> dict[str, Any]:
    """A shapely geometry in metres as a GeoJSON geometry in degrees (6 decimals)."""

    def inverse(xy: np.ndarray) -> np.ndarray:
        lon, lat = proj.inverse(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    return mapping(shapely.transform(geom, inverse))  # type: ignore[arg-type]


def _scene(
    session: Any, scope: Any, start: datetime, end: datetime
) -> tuple[pd.DataFrame, pd.DataFrame, LocalProjection | None]:
    """Active sensors and the window's incidents in scope, both with ``x_m, y_m``."""
    sensors = _sensor_frame(list_sensors(session=session, scope=scope, status="active"))
    inc = incident_frame(session=session, scope=scope, start=start, end=end)
    lon = np.concatenate([sensors["lon"].to_numpy(float), inc["lon"].to_numpy(float)])
    lat = np.concatenate([sensors["lat"].to_numpy(float), inc["lat"].to_numpy(float)])
    if lon.size == 0:
        return sensors, inc, None
    proj = _projection(lon, lat)
    for frame in (sensors, inc):
        if len(frame):
            frame["x_m"], frame["y_m"] = proj.forward(
                frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
            )
        else:
            frame["x_m"], frame["y_m"] = np.zeros(0), np.zeros(0)
    return sensors, inc, proj


def _covered(sensors: pd.DataFrame, x: Any, y: Any) -> np.ndarray:
    if len(sensors) == 0:
        return np.zeros(np.asarray(x).size, dtype=bool)
    seen = coverage_matrix_points(sensors, x, y, shapes=footprints(sensors))
    return np.asarray(seen.sum(axis=1)).ravel() > 0


def _severity(categories: pd.Series) -> np.ndarray:
    return categories.astype(str).map(dict(DEFAULT_SEVERITY)).fillna(1.0).to_numpy(float)


@router.get(
    "/coverage",
    summary="Sensor coverage footprints (感知覆盖范围)",
    response_model=LayerCollection,
    dependencies=[Depends(require(Permission.MAP_COVERAGE))],
)
def read_coverage(
    session: SessionDep,
    scope: ScopeDep,
    bbox: BBoxQuery = None,
    kind: Annotated[
        list[str] | None, Query(description="camera, plate_reader, wifi_probe, ...; repeat")
    ] = None,
) -> Response:
    """Each active sensor's footprint as a polygon: sector for cameras and plate readers, a
    disc for radio sensors (2-D, without occlusion: no building footprints are stored)."""
    box = parse_bbox(bbox)
    try:
        rows = list_sensors(
            session=session, scope=scope.codes, bbox=box, kind=kind or None, status="active"
        )
    except ValueError as exc:
        raise _bad(f"kind: {exc}") from None
    features: list[dict[str, Any]] = []
    if rows:
        s = _sensor_frame(rows)
        proj = _projection(s["lon"].to_numpy(float), s["lat"].to_numpy(float))
        s["x_m"], s["y_m"] = proj.forward(s["lon"].to_numpy(float), s["lat"].to_numpy(float))
        shapes = footprints(s, arc_vertices=8)
        for row, geom in zip(s.itertuples(index=False), shapes, strict=True):
            features.append(
                {
                    "type": "Feature",
                    "id": row.id,
                    "geometry": _to_lonlat(geom, proj),
                    "properties": {
                        "id": row.id,
                        "kind": row.kind,
                        "range_m": float(row.range_m),
                        "heading_deg": float(row.heading_deg),
                        "fov_deg": float(row.fov_deg),
                        "area_m2": round(float(shapely.area(geom)), 1),
                        "jurisdiction_code": row.jurisdiction_code,
                    },
                }
            )
    return _json(
        {
            "type": "FeatureCollection",
            "features": features,
            "summary": {"sensors": len(features)},
        }
    )


@router.get(
    "/blindspots",
    summary="Blind spots: incidents no sensor sees (感知盲区)",
    response_model=LayerCollection,
    dependencies=[Depends(require(Permission.MAP_COVERAGE))],
)
def read_blindspots(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    end: EndQuery = None,
    days: DaysQuery = 365,
    cell_size_m: Annotated[float, Query(gt=20, le=5000, description="Grid cell, metres")] = 200.0,
    min_weight: Annotated[
        float, Query(ge=0, description="Unseen severity-weighted incidents a cell needs")
    ] = 5.0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Response:
    """Grid cells whose unseen incidents (weighted by severity) reach ``min_weight``, heaviest
    first, with the covered share and a level (top 5 % red, to 15 % orange, to 30 % yellow,
    to 60 % blue)."""
    stop = _end(end, request)
    start = stop - timedelta(days=days)
    sensors, inc, proj = _scene(session, scope.codes, start, stop)
    summary: dict[str, Any] = {
        "start": start.isoformat(),
        "end": stop.isoformat(),
        "incidents": len(inc),
        "active_sensors": len(sensors),
    }
    features: list[dict[str, Any]] = []
    if len(inc) and proj is not None:
        x, y = inc["x_m"].to_numpy(), inc["y_m"].to_numpy()
        covered = _covered(sensors, x, y)
        weight = _severity(inc["category"])
        summary["covered_share"] = round(float(covered.mean()), 4)
        summary["covered_weight_share"] = round(float(weight[covered].sum() / weight.sum()), 4)
        spots = blind_spots(
            x, y, covered, weights=weight, cell_size_m=cell_size_m, min_weight=min_weight
        )
        half = cell_size_m / 2.0
        for i, row in enumerate(spots.head(limit).itertuples(index=False)):
            cell = shapely.box(row.x_m - half, row.y_m - half, row.x_m + half, row.y_m + half)
            level = row.level if isinstance(row.level, str) else None
            features.append(
                {
                    "type": "Feature",
                    "id": i + 1,
                    "geometry": _to_lonlat(cell, proj),
                    "properties": {
                        "rank": i + 1,
                        "incidents_weighted": round(float(row.incidents), 3),
                        "uncovered_weighted": round(float(row.uncovered), 3),
                        "uncovered_share": round(float(row.uncovered_share), 4),
                        "level": None if level is None else str(level),
                    },
                }
            )
    summary["blind_spots"] = len(features)
    return _json({"type": "FeatureCollection", "features": features, "summary": summary})


@router.get(
    "/candidate-sites",
    summary="Blind-spot filling: K new sites (补盲选址, MCLP)",
    response_model=LayerCollection,
    dependencies=[Depends(require(Permission.MAP_COVERAGE))],
)
def read_candidate_sites(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    end: EndQuery = None,
    days: DaysQuery = 365,
    k: Annotated[int, Query(ge=1, le=500, description="New sites to choose")] = 10,
    radius_m: Annotated[
        float, Query(gt=5, le=2000, description="Coverage radius of a new site, metres")
    ] = 100.0,
    method: Annotated[
        Literal["auto", "greedy", "exact"],
        Query(
            description="greedy (default: fast, within 1 − 1/e of the optimum), exact (HiGHS, "
            "20 s limit) or auto (exact where small enough)"
        ),
    ] = "greedy",
) -> Response:
    """The ``k`` sites, among the unseen demand points, that cover the most unseen
    severity-weighted incidents within ``radius_m``; ranked by what each adds. The summary
    gives the greedy and exact objectives and their gap."""
    stop = _end(end, request)
    start = stop - timedelta(days=days)
    sensors, inc, proj = _scene(session, scope.codes, start, stop)
    summary: dict[str, Any] = {"start": start.isoformat(), "end": stop.isoformat(), "k": k}
    features: list[dict[str, Any]] = []
    if len(inc) and proj is not None:
        dem = demand_points(inc["x_m"], inc["y_m"], inc["category"].astype(str))
        dx, dy = dem["x_m"].to_numpy(), dem["y_m"].to_numpy()
        covered = _covered(sensors, dx, dy)
        if (~covered).any():
            cx, cy = dx[~covered], dy[~covered]
            a = coverage_matrix(cx, cy, dx, dy, radius_m)
            sol = solve_mclp(
                a,
                dem["weight"].to_numpy(),
                min(k, cx.size),
                covered=covered,
                method=method,
                time_limit_s=20.0,
            )
            best = sol.best
            lon, lat = proj.inverse(cx[best.sites], cy[best.sites])
            for i, (lo, la, gain) in enumerate(zip(lon, lat, best.marginal_gains, strict=True)):
                features.append(
                    {
                        "type": "Feature",
                        "id": i + 1,
                        "geometry": {
                            "type": "Point",
                            "coordinates": [round(float(lo), 6), round(float(la), 6)],
                        },
                        "properties": {
                            "rank": i + 1,
                            "added_weight": round(float(gain), 3),
                            "radius_m": radius_m,
                        },
                    }
                )
            summary.update(
                {
                    "method": best.method,
                    "status": best.status,
                    "demand_weight": round(float(dem["weight"].sum()), 3),
                    "already_covered_weight": round(float(dem["weight"][covered].sum()), 3),
                    "added_weight": round(float(best.objective), 3),
                    "greedy_objective": round(float(sol.greedy.objective), 3),
                    "exact_objective": None
                    if sol.exact is None
                    else round(float(sol.exact.objective), 3),
                    "gap_greedy_to_exact": sol.gap_greedy_to_exact,
                }
            )
    summary["sites"] = len(features)
    return _json({"type": "FeatureCollection", "features": features, "summary": summary})


@router.get(
    "/fraud-risk",
    summary="Fraud victimisation rate by jurisdiction (电信网络诈骗风险)",
    response_model=LayerCollection,
    dependencies=[Depends(require(Permission.MAP_FRAUD))],
)
def read_fraud_risk(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    end: EndQuery = None,
    days: DaysQuery = 365,
    category: Annotated[
        list[str] | None, Query(description="Case categories counted as fraud; repeat")
    ] = None,
) -> Response:
    """Fraud cases per registered resident by jurisdiction: raw and empirical-Bayes rates,
    the rate per 10,000, Getis-Ord Gi* z and p (a Poisson test against the overall rate when
    some jurisdiction has no neighbour), FDR-adjusted level."""
    stop = _end(end, request)
    start = stop - timedelta(days=days)
    cats = category or ["诈骗", "fraud"]
    q = select(PersonRow.jurisdiction_code, func.count()).group_by(PersonRow.jurisdiction_code)
    if scope.codes is not None:
        q = q.where(PersonRow.jurisdiction_code.in_(list(scope.codes)))
    population = {str(c): int(n) for c, n in session.execute(q).all() if c is not None}
    areas = [
        j
        for j in list_jurisdictions(session=session, scope=scope.codes, with_geometry=True)
        if population.get(j.code, 0) > 0 and j.geometry
    ]
    summary: dict[str, Any] = {
        "start": start.isoformat(),
        "end": stop.isoformat(),
        "categories": cats,
        "areas": len(areas),
    }
    features: list[dict[str, Any]] = []
    cases = case_frame(session=session, scope=scope.codes, start=start, end=stop, category=cats)
    summary["cases"] = len(cases)
    counts = cases[cases["jurisdiction_code"].notna()].groupby("jurisdiction_code").size()
    table = None
    if len(areas) >= 2:  # smoothing and the test need other areas to compare with
        codes = np.array([j.code for j in areas], dtype=object)
        y = np.array([int(counts.get(c, 0)) for c in codes], dtype=float)
        n = np.array([population[c] for c in codes], dtype=float)
        polys = [shapely.make_valid(shape(j.geometry)) for j in areas]
        tree = shapely.STRtree(polys)
        lists = [
            sorted(
                int(i2)
                for i2 in tree.query(shapely.buffer(g, 1e-5), predicate="intersects")
                if i2 != i
            )
            for i, g in enumerate(polys)
        ]
        nb = Neighbours.from_lists(lists) if all(lists) else None
        summary["test"] = "gi_star" if nb is not None else "poisson"
        if y.sum() > 0:
            table = high_risk_areas(codes, y, n, nb, permutations=0).set_index("area")
    for j in areas:
        cases_j, pop_j = int(counts.get(j.code, 0)), population[j.code]
        props: dict[str, Any] = {
            "code": j.code,
            "name": j.name,
            "cases": cases_j,
            "population": pop_j,
            "raw_rate_per_10k": round(cases_j / pop_j * 1e4, 3),
        }
        if table is not None:
            r = table.loc[j.code]
            level = r["level"] if isinstance(r["level"], str) else None
            props.update(
                {
                    "eb_rate_per_10k": round(float(r["rate_per_10k"]), 3),
                    "z": round(float(r["z"]), 4),
                    "p": float(r["p"]),
                    "level": None if level is None else str(level),
                }
            )
        features.append(
            {"type": "Feature", "id": j.code, "geometry": j.geometry, "properties": props}
        )
    return _json({"type": "FeatureCollection", "features": features, "summary": summary})
