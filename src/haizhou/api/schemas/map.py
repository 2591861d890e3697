"""Schemas of the map layers (地图图层): GeoJSON feature collections.

The routes build these documents directly (thousands of features, no per-feature validation);
the models here describe them in the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Feature(BaseModel):
    """A GeoJSON Feature (RFC 7946), WGS-84 ``[lon, lat]``."""

    type: Literal["Feature"] = "Feature"
    id: str | int | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


class HexagonProperties(BaseModel):
    """Properties of one H3 cell of ``/api/map/hexagons``."""

    h3: str = Field(description="H3 cell id (hex string)")
    count: int = Field(ge=1, description="警情数 — incidents in the cell, window and scope")
    level: Literal["red", "orange", "yellow", "blue"] = Field(
        description="预警等级 — red: top 5 % of the cells shown, orange: to 15 %, "
        "yellow: to 35 %, blue: the rest"
    )


class HexagonCollection(FeatureCollection):
    """H3 cells with incident counts and levels (六边形聚合)."""

    resolution: int = Field(ge=5, le=9)
    start: datetime
    end: datetime
    total: int = Field(ge=0, description="Incidents counted over all cells")


class HeatGrid(BaseModel):
    """The grid behind ``/api/map/heat``."""

    bbox: tuple[float, float, float, float]
    width: int
    height: int
    bandwidth_cells: float
    max_density: float


class HeatGridPublic(BaseModel):
    """Incident counts and smoothed density on a grid over the viewport (热力图)."""

    grid: HeatGrid
    cells: list[tuple[int, int, int, float]] = Field(
        description="[column, row, count, density] of cells with density >= 1 % of the maximum; "
        "column 0 is the west edge, row 0 the south edge"
    )
    start: datetime
    end: datetime
    total: int


class TimeExtent(BaseModel):
    """First and last incident time the user may see."""

    start: datetime | None
    end: datetime | None


class MapConfig(BaseModel):
    """What the web map needs to start (地图配置)."""

    tile_url: str | None = Field(
        description="The bureau's raster tile URL template ({z}/{x}/{y}); null: offline base map"
    )
    bounds: tuple[float, float, float, float] | None = Field(
        description="Bounding box of the jurisdictions in scope (min_lon, min_lat, max_lon, max_lat)"
    )
    time_extent: TimeExtent
    timezone: str


class IncidentSummary(BaseModel):
    """Incident totals of the window and scope (警情统计)."""

    start: datetime
    end: datetime
    total: int = Field(ge=0)
    daily: list[tuple[str, int]] = Field(description="(YYYY-MM-DD in the bureau's zone, count)")
    by_jurisdiction: list[tuple[str | None, int]] = Field(
        description="(jurisdiction code, count), most first; null code: outside every jurisdiction"
    )


class PolygonQuery(BaseModel):
    """A polygon drawn on the map and the window to count in it (框选查询)."""

    polygon: dict[str, Any] = Field(
        description='GeoJSON Polygon geometry, WGS-84 [lon, lat]: {"type": "Polygon", '
        '"coordinates": [[[lon, lat], ...]]}; the outer ring first, then any holes',
        examples=[
            {
                "type": "Polygon",
                "coordinates": [
                    [[119.1, 34.5], [119.3, 34.5], [119.3, 34.7], [119.1, 34.7], [119.1, 34.5]]
                ],
            }
        ],
    )
    start: datetime | None = Field(
        None, description="Window start, ISO 8601; default end - 30 days"
    )
    end: datetime | None = Field(None, description="Window end (excluded), ISO 8601; default now")
    category: str | list[str] | None = Field(
        None, description="Incident categories to keep (one or several); default all"
    )


class FindingRef(BaseModel):
    """A finding inside the polygon."""

    id: int
    level: Literal["red", "orange", "yellow", "blue"]
    title: str


class PolygonQueryResult(BaseModel):
    """What lies inside the polygon, in the window and the user's scope (框选统计).

    Aggregates only: no incident, person or vehicle records.
    """

    count: int = Field(ge=0, description="警情数 — incidents inside (edges included)")
    by_category: dict[str, int] = Field(description="Incidents per category, most first")
    by_hour: list[int] = Field(
        min_length=24, max_length=24, description="Incidents per hour of day 0-23, bureau time"
    )
    findings: list[FindingRef] = Field(
        description="研判发现 whose geometry meets the polygon and whose window overlaps; "
        "red first (empty for roles without the findings layer)"
    )
    instructions: dict[str, int] = Field(
        description="指令 located inside and open during the window, per status "
        "(empty for roles without instructions)"
    )
    sensors: int = Field(ge=0, description="感知点位 inside (0 for roles without the sensor layer)")
    start: datetime
    end: datetime
