"""Map layers (地图图层): ``/api/map/...``, aggregated on the server and limited to the scope.

The browser never receives raw incidents: hexagons and heat are counted for the viewport
(``bbox``), the time window and the user's jurisdiction scope, so a station officer's map holds
only their station's incidents, and the levels are ranked among those cells only.

Counting uses the in-memory column index (:mod:`haizhou.api.incident_index`) and falls back to
SQL ``GROUP BY`` while the index loads or when the store is too large for it; both give the same
counts. ``HAIZHOU_MAP_AGGREGATES=sql`` forces the SQL path (the benchmark's baseline). Responses
are serialised with orjson and cell outlines are cached, so a request costs a few milliseconds
of CPU, most of it HTTP and log-in (see benchmarks/bench_map.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
import orjson
import pandas as pd
import shapely
import shapely.geometry
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from shapely.errors import ShapelyError
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Integer, cast, func, or_, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from haizhou.api.deps import (
    AuditDep,
    CurrentUser,
    ScopeDep,
    SessionDep,
    SettingsDep,
    require,
)
from haizhou.api.incident_index import IncidentColumns, IncidentIndex
from haizhou.api.policy import Permission, allowed
from haizhou.api.schemas.map import (
    FeatureCollection,
    HeatGridPublic,
    HexagonCollection,
    IncidentSummary,
    MapConfig,
    PolygonQuery,
    PolygonQueryResult,
    TimeExtent,
)
from haizhou.domain import PERSONAL_EVIDENCE_KEYS, Level
from haizhou.geo.h3cells import cell_boundaries_geojson, cells_to_str, parent_cells
from haizhou.security.roles import Scope
from haizhou.store.repositories._filters import check_bbox, check_window, scope_filter
from haizhou.store.repositories.findings import list_findings
from haizhou.store.repositories.incidents import incident_frame
from haizhou.store.repositories.jurisdictions import list_jurisdictions
from haizhou.store.repositories.sensors import list_sensors
from haizhou.store.tables import IncidentRow, InstructionRow, JurisdictionRow

router = APIRouter(prefix="/map", tags=["map"])

MIN_RESOLUTION, MAX_RESOLUTION = 5, 9
STORED_RESOLUTIONS = (7, 8, 9)
MAX_GRID = 256
LEVEL_CUTS = ((0.05, Level.RED), (0.15, Level.ORANGE), (0.35, Level.YELLOW))
"""Map colour classes by rank among the cells shown: top 5 % red, to 15 % orange, to 35 %
yellow, the rest blue. A display classification of the viewport, not a statistical warning
(those are findings, levelled by :func:`haizhou.analytics.levels.assign_levels`)."""

BBoxQuery = Annotated[
    str | None,
    Query(
        description="Viewport min_lon,min_lat,max_lon,max_lat in WGS-84 degrees; "
        "omitted: everything in scope",
        examples=["119.1,34.5,119.3,34.7"],
    ),
]
StartQuery = Annotated[
    datetime | None,
    Query(description="Window start, ISO 8601 (a time without zone is the bureau's time)"),
]
EndQuery = Annotated[
    datetime | None,
    Query(
        description="Window end (excluded), ISO 8601; default now; start defaults to end - 30 days"
    ),
]
CategoryQuery = Annotated[
    list[str] | None, Query(description="Incident categories to keep; repeat for several")
]


AGGREGATES_ENV = "HAIZHOU_MAP_AGGREGATES"
"""``index`` (default): count with the in-memory index; ``sql``: always count in SQL."""
GEOMETRY_CACHE_SIZE = 200_000
_GEOMETRIES: dict[int, dict[str, Any]] = {}
T = TypeVar("T")


SOURCE_HEADER = "X-Haizhou-Map-Source"
"""Response header of the aggregates: ``index`` or ``sql``, which counted them."""


def _json(document: dict[str, Any], *, source: str | None = None) -> Response:
    """A compact JSON response (no per-feature validation: these are large documents)."""
    body = orjson.dumps(document, default=str, option=orjson.OPT_SERIALIZE_NUMPY)
    headers = {SOURCE_HEADER: source} if source else None
    return Response(body, media_type="application/json", headers=headers)


def cell_geometries(cells: np.ndarray) -> list[dict[str, Any]]:
    """GeoJSON outline of each H3 cell, from a process-wide cache (outlines never change)."""
    keys: list[int] = np.asarray(cells, dtype=np.int64).tolist()
    found = {key: _GEOMETRIES.get(key) for key in keys}
    missing = [key for key, geometry in found.items() if geometry is None]
    if missing:
        made = dict(
            zip(missing, cell_boundaries_geojson(np.asarray(missing, np.int64)), strict=True)
        )
        found.update(made)
        if len(_GEOMETRIES) + len(made) > GEOMETRY_CACHE_SIZE:
            _GEOMETRIES.clear()
        _GEOMETRIES.update(made)
    return [found[key] for key in keys]  # type: ignore[misc]


def _bad(message: str) -> HTTPException:
    return HTTPException(422, detail=message)


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``"min_lon,min_lat,max_lon,max_lat"`` as four floats, or ``None``; 422 when malformed."""
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise _bad(
            f"bbox={text!r} must be four comma-separated numbers min_lon,min_lat,max_lon,max_lat"
        )
    try:
        return check_bbox(tuple(float(p) for p in parts))  # type: ignore[arg-type]
    except ValueError as exc:
        raise _bad(str(exc)) from None


def resolve_window(
    start: datetime | None, end: datetime | None, request: Request
) -> tuple[datetime, datetime]:
    """The half-open window ``[start, end)``, naive times read in the bureau's zone."""
    zone = request.app.state.settings.zone
    end = end if end is not None else datetime.now(zone)
    start = start if start is not None else end - timedelta(days=30)
    start = start if start.tzinfo is not None else start.replace(tzinfo=zone)
    end = end if end.tzinfo is not None else end.replace(tzinfo=zone)
    try:
        check_window(start, end)
    except ValueError as exc:
        raise _bad(str(exc)) from None
    return start, end


def _incident_filters(
    scope: Scope,
    start: datetime,
    end: datetime,
    bbox: tuple[float, float, float, float] | None,
    category: list[str] | None,
) -> list[ColumnElement[bool]]:
    conditions = [
        scope_filter(IncidentRow.jurisdiction_code, scope.codes),
        IncidentRow.reported_at >= start,
        IncidentRow.reported_at < end,
    ]
    if bbox is not None:
        conditions += [
            IncidentRow.lon.between(bbox[0], bbox[2]),
            IncidentRow.lat.between(bbox[1], bbox[3]),
        ]
    if category:
        conditions.append(IncidentRow.category.in_(sorted(set(category))))
    return conditions


def map_levels(counts: np.ndarray) -> list[str]:
    """Colour class of each cell by its rank among ``counts`` (see :data:`LEVEL_CUTS`).

    Ties share the higher class. Examples
    --------
    >>> map_levels(np.array([1, 50, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]))[:3]
    ['blue', 'red', 'blue']
    """
    n = counts.size
    if n == 0:
        return []
    ordered = np.sort(counts)[::-1]
    levels = np.full(n, Level.BLUE.value, dtype=object)
    # Assign from the weakest class up so the stronger class wins ties.
    for fraction, level in reversed(LEVEL_CUTS):
        k = max(1, int(np.floor(fraction * n)))
        threshold = ordered[k - 1]
        levels[counts >= threshold] = level.value
    return list(levels)


def hexagon_counts(
    *,
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    bbox: tuple[float, float, float, float] | None,
    resolution: int,
    category: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """H3 cells (int64) and incident counts at ``resolution``, counted in SQL.

    Resolutions 7-9 group by the stored cell column; coarser ones group by ``h3_r7`` and
    merge parents (:func:`~haizhou.geo.h3cells.parent_cells`).
    """
    stored = resolution if resolution in STORED_RESOLUTIONS else STORED_RESOLUTIONS[0]
    column = getattr(IncidentRow, f"h3_r{stored}")
    rows = session.execute(
        select(column, func.count())
        .where(*_incident_filters(scope, start, end, bbox, category))
        .group_by(column)
    ).all()
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    cells = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    counts = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    if resolution != stored:
        parents = parent_cells(cells, resolution)
        cells, inverse = np.unique(parents, return_inverse=True)
        counts = np.bincount(inverse, weights=counts).astype(np.int64)
    return cells, counts


@router.get(
    "/hexagons",
    summary="Incidents per H3 cell (六边形聚合)",
    response_model=HexagonCollection,
    dependencies=[Depends(require(Permission.MAP_INCIDENTS))],
)
async def read_hexagons(
    request: Request,
    scope: ScopeDep,
    bbox: BBoxQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    resolution: Annotated[int, Query(ge=MIN_RESOLUTION, le=MAX_RESOLUTION)] = 8,
    category: CategoryQuery = None,
) -> Response:
    """A GeoJSON FeatureCollection of H3 cells with ``count`` and ``level``.

    Only incidents the user's scope may see, reported in ``[start, end)`` inside ``bbox``,
    are counted; cells without incidents are left out. ``async``: from the in-memory index
    the count takes about a millisecond and no I/O, so it runs on the event loop; the SQL
    fallback runs in the thread pool. No database session is opened unless the store is read.
    """
    box = parse_bbox(bbox)
    start, end = resolve_window(start, end, request)
    columns = await index_columns(request)
    if columns is not None:
        window, mask = columns.select(
            start=start, end=end, bbox=box, scope_codes=scope.codes, categories=category
        )
        cells, counts = columns.hexagon_counts(window, mask, resolution)
    else:
        cells, counts = await run_in_threadpool(
            _in_session,
            request,
            hexagon_counts,
            scope=scope,
            start=start,
            end=end,
            bbox=box,
            resolution=resolution,
            category=category,
        )
    names = cells_to_str(cells).tolist()
    boundaries = cell_geometries(cells)
    levels = map_levels(counts)
    features = [
        {
            "type": "Feature",
            "id": name,
            "geometry": geometry,
            "properties": {"h3": name, "count": count, "level": level},
        }
        for name, geometry, count, level in zip(
            names, boundaries, counts.tolist(), levels, strict=True
        )
    ]
    return _json(
        {
            "type": "FeatureCollection",
            "features": features,
            "resolution": resolution,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "total": int(counts.sum()),
        },
        source="sql" if columns is None else "index",
    )


def _grid_index(column: Any, origin: float, step: float, dialect: str) -> ColumnElement[int]:
    scaled = (column - origin) / step
    # Both are floor for the non-negative values inside the bbox; PostgreSQL's CAST rounds.
    return func.floor(scaled) if dialect == "postgresql" else cast(scaled, Integer)


def _sql_grid(
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    box: tuple[float, float, float, float],
    category: list[str] | None,
    width: int,
    height: int,
) -> np.ndarray:
    """Incident counts per grid cell over ``box``, counted in SQL (``height`` × ``width``)."""
    min_lon, min_lat, max_lon, max_lat = box
    dx, dy = (max_lon - min_lon) / width, (max_lat - min_lat) / height
    dialect = session.get_bind().dialect.name
    ix = _grid_index(IncidentRow.lon, min_lon, dx, dialect).label("ix")
    iy = _grid_index(IncidentRow.lat, min_lat, dy, dialect).label("iy")
    rows = session.execute(
        select(ix, iy, func.count())
        .where(*_incident_filters(scope, start, end, box, category))
        .group_by(ix, iy)
    ).all()
    grid = np.zeros((height, width), dtype=np.float64)
    for col, row, count in rows:
        # Points on the max edge fall one past the last cell: keep them in it.
        grid[min(int(row), height - 1), min(int(col), width - 1)] += count
    return grid


def incident_index(request: Request) -> IncidentIndex:
    """The app's in-memory incident index, made on first use.

    With ``HAIZHOU_MAP_AGGREGATES=sql`` the index always declines, so every count is SQL.
    """
    state = request.app.state.__dict__
    if "incident_index" not in state:
        sql_only = os.environ.get(AGGREGATES_ENV, "index").strip().lower() == "sql"
        made = IncidentIndex(
            request.app.state.engine,
            max_rows=-1 if sql_only else 5_000_000,
            max_age_s=request.app.state.settings.map_freshness_s,
        )
        state.setdefault("incident_index", made)
    index: IncidentIndex = state["incident_index"]
    return index


def _in_session(request: Request, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``read(*args, session=..., **kwargs)`` in a session of its own, closed afterwards
    (blocking: for the thread pool). The aggregate routes open a session only when they
    read the store, not on every request."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        return read(*args, session=session, **kwargs)


def _snapshot(index: IncidentIndex, *, session: Session) -> IncidentColumns | None:
    return index.snapshot_nowait(session)


async def index_columns(request: Request) -> IncidentColumns | None:
    """The index's columns for a map request, or ``None``: count in SQL.

    Columns found current within the last ``map_freshness_s`` come without I/O, on the event
    loop; otherwise the store is asked in the thread pool (once a second per process).
    """
    index = incident_index(request)
    columns = index.fresh()
    if columns is None:
        columns = await run_in_threadpool(_in_session, request, _snapshot, index)
    return columns


@router.get(
    "/heat",
    summary="Incident heat for the viewport (热力图)",
    response_model=HeatGridPublic,
    dependencies=[Depends(require(Permission.MAP_INCIDENTS))],
)
async def read_heat(
    request: Request,
    scope: ScopeDep,
    bbox: Annotated[str, Query(description="Viewport min_lon,min_lat,max_lon,max_lat (required)")],
    start: StartQuery = None,
    end: EndQuery = None,
    width: Annotated[int, Query(ge=4, le=MAX_GRID, description="Grid columns")] = 64,
    height: Annotated[int, Query(ge=4, le=MAX_GRID, description="Grid rows")] = 64,
    bandwidth_cells: Annotated[
        float, Query(ge=0, le=16, description="Gaussian smoothing, in grid cells (0: none)")
    ] = 1.5,
    category: CategoryQuery = None,
) -> Response:
    """Counts on a ``width`` × ``height`` grid over ``bbox``, smoothed by a Gaussian kernel.

    ``cells`` lists ``[column, row, count, density]`` for every grid cell whose density
    (smoothed count, same units) is at least 1 % of the maximum; column 0 is the west edge
    and row 0 the south edge. Cell ``(c, r)`` covers longitudes ``min_lon + c·Δlon`` to
    ``min_lon + (c+1)·Δlon`` with ``Δlon = (max_lon - min_lon) / width`` (latitudes alike).
    At most ``width × height`` small rows, whatever the number of incidents. ``async`` as
    :func:`read_hexagons`.
    """
    box = parse_bbox(bbox)
    if box is None:
        raise _bad("bbox is required for the heat map")
    start, end = resolve_window(start, end, request)
    min_lon, min_lat, max_lon, max_lat = box
    if max_lon <= min_lon or max_lat <= min_lat:
        raise _bad(f"bbox={bbox!r} has no area; min must be below max")
    dx, dy = (max_lon - min_lon) / width, (max_lat - min_lat) / height
    columns = await index_columns(request)
    if columns is not None:
        window, mask = columns.select(
            start=start, end=end, bbox=box, scope_codes=scope.codes, categories=category
        )
        lon, lat = columns.lon[window][mask], columns.lat[window][mask]
        # Points on the max edge fall one past the last cell: keep them in it.
        ix = np.minimum(((lon - min_lon) / dx).astype(np.int64), width - 1)
        iy = np.minimum(((lat - min_lat) / dy).astype(np.int64), height - 1)
        flat = np.bincount(iy * width + ix, minlength=width * height)
        grid = flat.reshape(height, width).astype(np.float64)
    else:
        grid = await run_in_threadpool(
            _in_session,
            request,
            _sql_grid,
            scope=scope,
            start=start,
            end=end,
            box=box,
            category=category,
            width=width,
            height=height,
        )
    counts = grid.astype(np.int64)
    any_rows = bool(counts.sum())
    if bandwidth_cells > 0 and any_rows:
        from scipy.ndimage import gaussian_filter

        grid = gaussian_filter(grid, sigma=bandwidth_cells, mode="constant")
    peak = float(grid.max()) if any_rows else 0.0
    cells: np.ndarray | list[list[float]] = []
    if peak > 0:
        rows, cols = np.nonzero(grid >= 0.01 * peak)
        # One float array, serialised by orjson without Python objects per cell (the whole
        # numbers come out as 3.0, which JSON readers take as 3).
        cells = np.column_stack([cols, rows, counts[rows, cols], np.round(grid[rows, cols], 4)])
    return _json(
        {
            "grid": {
                "bbox": list(box),
                "width": width,
                "height": height,
                "bandwidth_cells": bandwidth_cells,
                "max_density": round(peak, 4),
            },
            "cells": cells,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "total": int(counts.sum()),
        },
        source="sql" if columns is None else "index",
    )


@router.get(
    "/jurisdictions",
    summary="Jurisdictions in scope (辖区)",
    response_model=FeatureCollection,
    dependencies=[Depends(require(Permission.MAP_BASE))],
)
def read_jurisdictions(session: SessionDep, scope: ScopeDep) -> Response:
    """The polygons of the jurisdictions the user may see, with code, name and station."""
    features = [
        {
            "type": "Feature",
            "id": j.code,
            "geometry": j.geometry,
            "properties": {
                "code": j.code,
                "name": j.name,
                "station": j.station,
                "parent_code": j.parent_code,
            },
        }
        for j in list_jurisdictions(session=session, scope=scope.codes)
    ]
    return _json({"type": "FeatureCollection", "features": features})


@router.get(
    "/sensors",
    summary="Sensing points in scope (感知点位)",
    response_model=FeatureCollection,
    dependencies=[Depends(require(Permission.MAP_SENSORS))],
)
def read_sensors(
    session: SessionDep,
    scope: ScopeDep,
    bbox: BBoxQuery = None,
    kind: Annotated[
        list[str] | None, Query(description="camera, plate_reader, probe, ...; repeat for several")
    ] = None,
) -> Response:
    """Sensing points as GeoJSON points with kind, status, range and heading."""
    box = parse_bbox(bbox)
    try:
        sensors = list_sensors(session=session, scope=scope.codes, bbox=box, kind=kind or None)
    except ValueError as exc:
        raise _bad(f"kind: {exc}") from None
    features = [
        {
            "type": "Feature",
            "id": s.id,
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {
                "id": s.id,
                "kind": s.kind.value,
                "status": s.status.value,
                "range_m": s.range_m,
                "heading_deg": s.heading_deg,
                "jurisdiction_code": s.jurisdiction_code,
            },
        }
        for s in sensors
    ]
    return _json({"type": "FeatureCollection", "features": features})


@router.get(
    "/findings",
    summary="Findings in scope (研判发现)",
    response_model=FeatureCollection,
    dependencies=[Depends(require(Permission.MAP_FINDINGS))],
)
def read_findings(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    audit: AuditDep,
    user: CurrentUser,
    start: StartQuery = None,
    end: EndQuery = None,
    level: Annotated[
        list[Level] | None, Query(description="red, orange, yellow, blue; repeat for several")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> Response:
    """Findings whose window overlaps ``[start, end)``, with their level and evidence.

    Evidence that names people (pseudonyms, e.g. of a population-verification finding) is
    personal data: roles allowed ``findings.people`` see it and the read is audited with the
    findings and the number of people in each; other roles get the count only.
    """
    start, end = resolve_window(start, end, request)
    stored = list_findings(
        session=session, scope=scope.codes, start=start, end=end, level=level or None, limit=limit
    )
    personal = {
        str(s.id): n
        for s in stored
        if (n := sum(len(s.finding.evidence.get(k) or ()) for k in PERSONAL_EVIDENCE_KEYS))
    }
    show_people = allowed(user.role, Permission.FINDINGS_PEOPLE)
    if personal and show_people:
        audit("findings.read", target="map.findings", detail={"people_by_finding": personal})
    features = [
        {
            "type": "Feature",
            "id": s.id,
            "geometry": s.finding.geometry,
            "properties": {
                "id": s.id,
                "kind": s.finding.kind,
                "title": s.finding.title,
                "level": str(s.finding.level),
                "window_start": s.finding.window_start.isoformat(),
                "window_end": s.finding.window_end.isoformat(),
                "explanation": s.finding.explanation,
                "suggested_action": s.finding.suggested_action,
                "model_id": s.finding.model_id,
                "model_version": s.finding.model_version,
                "jurisdiction_code": s.jurisdiction_code,
                "evidence": s.finding.evidence if show_people else _without_people(s.finding),
            },
        }
        for s in stored
    ]
    return _json({"type": "FeatureCollection", "features": features})


def _without_people(finding: Any) -> dict[str, Any]:
    """The evidence with the people it names replaced by how many there are."""
    evidence = dict(finding.evidence)
    for key in PERSONAL_EVIDENCE_KEYS:
        if key in evidence:
            evidence[key] = None
            evidence[f"{key}_count"] = len(finding.evidence[key] or ())
    return evidence


_BASE_LAYERS = {"roads": "roads.geojson", "places": "pois.geojson"}


def _base_layer(request: Request, name: str) -> dict[str, Any]:
    """A base-map layer from the data folder's city files, read once and kept on the app."""
    cache: dict[str, dict[str, Any]] = request.app.state.__dict__.setdefault("base_layers", {})
    if name not in cache:
        path = FilePath(request.app.state.settings.data_dir) / "city" / _BASE_LAYERS[name]
        document: dict[str, Any] = {"type": "FeatureCollection", "features": []}
        if path.is_file():
            document = json.loads(path.read_text(encoding="utf-8"))
        cache[name] = document
    return cache[name]


@router.get(
    "/base/{layer}",
    summary="Offline base map layer (离线底图)",
    response_model=FeatureCollection,
    dependencies=[Depends(require(Permission.MAP_BASE))],
)
def read_base_layer(
    request: Request,
    layer: Annotated[Literal["roads", "places"], Path(description="roads or places")],
) -> Response:
    """Roads or places of the district (from the data folder), for the offline base map.

    An empty collection when the data folder holds no city files.
    """
    return _json(_base_layer(request, layer))


@router.get(
    "/config",
    summary="Map start-up configuration (地图配置)",
    response_model=MapConfig,
    dependencies=[Depends(require(Permission.MAP_BASE))],
)
def read_map_config(session: SessionDep, scope: ScopeDep, settings: SettingsDep) -> MapConfig:
    """Tile URL (null: offline base map), bounds of the scope and its incidents' time extent."""
    box = session.execute(
        select(
            func.min(JurisdictionRow.min_lon),
            func.min(JurisdictionRow.min_lat),
            func.max(JurisdictionRow.max_lon),
            func.max(JurisdictionRow.max_lat),
        ).where(scope_filter(JurisdictionRow.code, scope.codes))
    ).one()
    first, last = session.execute(
        select(func.min(IncidentRow.reported_at), func.max(IncidentRow.reported_at)).where(
            scope_filter(IncidentRow.jurisdiction_code, scope.codes)
        )
    ).one()
    return MapConfig(
        tile_url=getattr(settings, "map_tile_url", None),
        bounds=None if any(v is None for v in box) else tuple(box),
        time_extent=TimeExtent(start=first, end=last),
        timezone=settings.timezone,
    )


@router.get(
    "/summary",
    summary="Incident totals per day and per jurisdiction (警情统计)",
    response_model=IncidentSummary,
    dependencies=[Depends(require(Permission.MAP_INCIDENTS))],
)
def read_summary(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    bbox: BBoxQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    category: CategoryQuery = None,
) -> IncidentSummary:
    """Total, daily counts (days in the bureau's time zone) and counts per jurisdiction."""
    box = parse_bbox(bbox)
    start, end = resolve_window(start, end, request)
    conditions = _incident_filters(scope, start, end, box, category)
    zone = request.app.state.settings.zone
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone(zone.key, IncidentRow.reported_at))
    else:
        # SQLite keeps UTC text; shift by the zone's offset at the window start.
        offset = start.astimezone(zone).utcoffset() or timedelta(0)
        day = func.date(IncidentRow.reported_at, f"{int(offset.total_seconds() // 60):+d} minutes")
    day = day.label("day")
    daily = session.execute(
        select(day, func.count()).where(*conditions).group_by(day).order_by(day)
    ).all()
    by_code = session.execute(
        select(IncidentRow.jurisdiction_code, func.count())
        .where(*conditions)
        .group_by(IncidentRow.jurisdiction_code)
        .order_by(func.count().desc())
    ).all()
    return IncidentSummary(
        start=start,
        end=end,
        total=sum(n for _, n in daily),
        daily=[(str(d), int(n)) for d, n in daily],
        by_jurisdiction=[(code, int(n)) for code, n in by_code],
    )


MAX_POLYGON_VERTICES = 10_000
MAX_QUERY_FINDINGS = 500
_LEVEL_RANK = {level.value: rank for rank, level in enumerate(Level)}


def parse_polygon(geometry: dict[str, Any]) -> BaseGeometry:
    """A drawn GeoJSON Polygon as a valid shapely geometry; 422 naming what is wrong."""
    if geometry.get("type") != "Polygon":
        raise _bad(f"polygon must be a GeoJSON Polygon geometry, not type {geometry.get('type')!r}")
    try:
        shape = shapely.geometry.shape(geometry)
        vertices = shapely.get_num_coordinates(shape)
        bounds = shape.bounds
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ShapelyError) as exc:
        raise _bad(f"polygon coordinates are not a GeoJSON Polygon: {exc}") from None
    if vertices > MAX_POLYGON_VERTICES:
        raise _bad(f"polygon has {vertices} vertices; at most {MAX_POLYGON_VERTICES}")
    min_lon, min_lat, max_lon, max_lat = bounds
    inside = -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90
    if not shape.is_empty and not inside:  # NaN fails every comparison, too
        raise _bad("polygon coordinates must be WGS-84 [lon, lat] degrees")
    if shape.is_empty or not shape.area > 0:
        raise _bad("polygon has no area; draw at least three distinct corners")
    if not shape.is_valid:  # a self-crossing outline: keep the area it encloses
        shape = shapely.make_valid(shape)
    shapely.prepare(shape)
    return shape


def _incidents_in_box(
    request: Request,
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    box: tuple[float, float, float, float],
    category: list[str] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], np.ndarray]:
    """``lon, lat, time_ns, categories, category codes`` of the incidents in ``box``."""
    columns = incident_index(request).snapshot_nowait(session)
    if columns is not None:
        window, mask = columns.select(
            start=start, end=end, bbox=box, scope_codes=scope.codes, categories=category
        )
        return (
            columns.lon[window][mask],
            columns.lat[window][mask],
            columns.time_ns[window][mask],
            columns.categories,
            columns.category[window][mask],
        )
    frame = incident_frame(
        session=session,
        scope=scope.codes,
        start=start,
        end=end,
        category=category or None,
        bbox=box,
    )
    codes, names = pd.factorize(frame["category"])
    return (
        frame["lon"].to_numpy(np.float64),
        frame["lat"].to_numpy(np.float64),
        frame["reported_at"].astype("int64").to_numpy(),
        tuple(str(n) for n in names),
        codes.astype(np.int64),
    )


def _findings_inside(
    session: Session, scope: Scope, start: datetime, end: datetime, shape: BaseGeometry
) -> list[dict[str, Any]]:
    inside = []
    for stored in list_findings(
        session=session, scope=scope.codes, start=start, end=end, limit=5000
    ):
        geometry = stored.finding.geometry
        if not geometry:
            continue
        try:
            meets = shape.intersects(shapely.geometry.shape(geometry))
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
        if meets:
            level = str(stored.finding.level)
            inside.append({"id": stored.id, "level": level, "title": stored.finding.title})
    inside.sort(key=lambda f: (_LEVEL_RANK.get(f["level"], 9), -f["id"]))
    return inside[:MAX_QUERY_FINDINGS]


def _instructions_inside(
    session: Session, scope: Scope, start: datetime, end: datetime, shape: BaseGeometry
) -> dict[str, int]:
    """Instructions located inside and open at some time in ``[start, end)``, per status."""
    rows = session.execute(
        select(
            InstructionRow.status,
            InstructionRow.geometry,
            InstructionRow.jurisdiction_code,
            InstructionRow.assisting_codes,
        ).where(
            InstructionRow.created_at < end,
            or_(InstructionRow.closed_at.is_(None), InstructionRow.closed_at >= start),
        )
    ).all()
    counts: dict[str, int] = {}
    for status, geometry, code, assisting in rows:
        if scope.codes is not None and not ({code, *(assisting or ())} & scope.codes):
            continue
        if not geometry:
            continue
        try:
            meets = shape.intersects(shapely.geometry.shape(geometry))
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
        if meets:
            counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


@router.post(
    "/query",
    summary="Counts inside a drawn polygon (框选查询)",
    response_model=PolygonQueryResult,
    dependencies=[Depends(require(Permission.MAP_INCIDENTS))],
)
def query_polygon(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    body: PolygonQuery,
) -> PolygonQueryResult:
    """Incidents by category and hour of day, findings, instructions by status and sensing
    points inside ``polygon`` (edges included), in ``[start, end)`` and the user's scope.

    Aggregates only, no personal data (nothing to audit). Findings, instructions and sensors
    are left empty (0) for roles the policy does not show those layers.
    """
    shape = parse_polygon(body.polygon)
    start, end = resolve_window(body.start, body.end, request)
    category = [body.category] if isinstance(body.category, str) else body.category
    bounds = shape.bounds
    box = (bounds[0], bounds[1], bounds[2], bounds[3])
    lon, lat, times, names, codes = _incidents_in_box(
        request, session, scope, start, end, box, category
    )
    inside = shapely.intersects_xy(shape, lon, lat)
    per_category = np.bincount(codes[inside], minlength=len(names))
    by_category = {
        names[i]: int(per_category[i])
        for i in np.argsort(-per_category, kind="stable")
        if per_category[i]
    }
    zone = request.app.state.settings.zone
    hours = pd.DatetimeIndex(pd.to_datetime(times[inside], utc=True)).tz_convert(zone).hour
    by_hour = np.bincount(np.asarray(hours, dtype=np.int64), minlength=24)
    findings: list[dict[str, Any]] = []
    if allowed(user.role, Permission.MAP_FINDINGS):
        findings = _findings_inside(session, scope, start, end, shape)
    instructions: dict[str, int] = {}
    if allowed(user.role, Permission.INSTRUCTIONS_READ):
        instructions = _instructions_inside(session, scope, start, end, shape)
    sensors = 0
    if allowed(user.role, Permission.MAP_SENSORS):
        points = list_sensors(session=session, scope=scope.codes, bbox=box)
        if points:
            xs = np.fromiter((p.lon for p in points), np.float64, len(points))
            ys = np.fromiter((p.lat for p in points), np.float64, len(points))
            sensors = int(shapely.intersects_xy(shape, xs, ys).sum())
    return PolygonQueryResult.model_validate(
        {
            "count": int(inside.sum()),
            "by_category": by_category,
            "by_hour": by_hour.tolist(),
            "findings": findings,
            "instructions": instructions,
            "sensors": sensors,
            "start": start,
            "end": end,
        }
    )
