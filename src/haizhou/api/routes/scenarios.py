"""Scenario views (场景视图): ``/api/scenarios``, saved views with zones and live counts.

Three saved views of the map for recurring operations:

- ``stadium`` 大型活动安保: the sports centre with a 500 m core zone and a 1.5 km control zone;
- ``schools`` 校园安全: a 200 m zone (护学岗) around every school;
- ``night_economy`` 夜间经济: the bar street and old-town commerce (400 m) and every KTV and
  internet café (150 m).

The zones are circles around the places of the offline base map (``city/pois.geojson`` in the
data folder, the file ``/api/map/base/places`` serves), kept to the places inside the user's
jurisdictions. The counts are taken in the user's scope: incidents reported in a zone on the
day (today by default, up to now), open instructions (now), sensing points, and findings whose
window overlaps the week up to the end of that day.
Only counts leave the server, no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from haizhou.api.deps import NowDep, ScopeDep, SessionDep, require
from haizhou.api.policy import Permission
from haizhou.api.routes.map import _base_layer
from haizhou.api.schemas.map import FeatureCollection
from haizhou.api.schemas.scenarios import ScenarioCounts, ScenarioDetail, ScenarioSummary
from haizhou.geo.projection import haversine_m
from haizhou.security.roles import Scope
from haizhou.store.repositories._filters import scope_filter
from haizhou.store.repositories.findings import list_findings
from haizhou.store.repositories.jurisdictions import list_jurisdictions
from haizhou.store.tables import IncidentRow, SensorRow
from haizhou.tasks.service import OPEN_STATUSES, list_instructions

router = APIRouter(
    prefix="/scenarios",
    tags=["scenarios"],
    dependencies=[Depends(require(Permission.SCENARIOS))],
)

M_PER_DEG_LAT = 111_320.0
CIRCLE_VERTICES = 48
FINDINGS_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class ZoneRule:
    """Zones drawn around every place of ``kind``: ``radius_m`` metres, called ``role``."""

    kind: str
    radius_m: float
    role: str


@dataclass(frozen=True)
class Scenario:
    """A saved view: what it surrounds, which layers it shows, how close it zooms."""

    id: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    rules: tuple[ZoneRule, ...]
    layers: tuple[str, ...]
    zoom: float

    def summary(self) -> ScenarioSummary:
        return ScenarioSummary(
            id=self.id,
            title_zh=self.title_zh,
            title_en=self.title_en,
            description_zh=self.description_zh,
            description_en=self.description_en,
            place_kinds=sorted({r.kind for r in self.rules}),
            layers=list(self.layers),
            zoom=self.zoom,
        )


SCENARIOS: dict[str, Scenario] = {
    s.id: s
    for s in (
        Scenario(
            id="stadium",
            title_zh="大型活动安保（体育中心）",
            title_en="Large-event security (sports centre)",
            description_zh="核心区 500 米、管控区 1.5 公里；警情、指令、感知点位与低空目标",
            description_en="Core zone 500 m, control zone 1.5 km; incidents, instructions, "
            "sensing points and drones",
            rules=(ZoneRule("stadium", 500.0, "core"), ZoneRule("stadium", 1500.0, "control")),
            layers=("jurisdictions", "roads", "sensors", "findings", "instructions", "scenario"),
            zoom=13.5,
        ),
        Scenario(
            id="schools",
            title_zh="校园安全",
            title_en="School safety",
            description_zh="每所学校周边 200 米护学岗范围",
            description_en="A 200 m guard zone around every school",
            rules=(ZoneRule("school", 200.0, "guard"),),
            layers=("jurisdictions", "roads", "hexagons", "instructions", "scenario"),
            zoom=12.0,
        ),
        Scenario(
            id="night_economy",
            title_zh="夜间经济",
            title_en="Night economy",
            description_zh="酒吧街与老街商业区 400 米，KTV、网吧 150 米",
            description_en="Bar street and old-town commerce 400 m; KTVs and internet cafés 150 m",
            rules=(
                ZoneRule("riverside_bar_lane", 400.0, "district"),
                ZoneRule("old_town_commerce", 400.0, "district"),
                ZoneRule("ktv", 150.0, "venue"),
                ZoneRule("internet_cafe", 150.0, "venue"),
            ),
            layers=("jurisdictions", "roads", "heat", "findings", "instructions", "scenario"),
            zoom=13.0,
        ),
    )
}

ScenarioId = Annotated[
    Literal["stadium", "schools", "night_economy"],
    Path(description="stadium, schools or night_economy"),
]


@dataclass(frozen=True)
class Zone:
    """One circular zone around a place."""

    id: str
    name: str
    kind: str
    role: str
    lon: float
    lat: float
    radius_m: float

    def polygon(self) -> dict[str, Any]:
        """The circle as a GeoJSON Polygon (local equirectangular, fine at a few km)."""
        angles = np.linspace(0.0, 2.0 * np.pi, CIRCLE_VERTICES + 1)
        dlat = self.radius_m / M_PER_DEG_LAT
        dlon = dlat / np.cos(np.radians(self.lat))
        ring = np.column_stack([self.lon + dlon * np.cos(angles), self.lat + dlat * np.sin(angles)])
        ring[-1] = ring[0]
        return {"type": "Polygon", "coordinates": [np.round(ring, 6).tolist()]}


def _places(request: Request) -> list[tuple[str, str, str, float, float]]:
    """(poi_id, name, kind, lon, lat) of every point place of the base map."""
    out = []
    for feature in _base_layer(request, "places").get("features", []):
        geometry = feature.get("geometry") or {}
        props = feature.get("properties") or {}
        if geometry.get("type") != "Point":
            continue
        lon, lat = geometry["coordinates"][:2]
        poi_id, name, kind = (str(props.get(k, "")) for k in ("poi_id", "name", "kind"))
        out.append((poi_id, name, kind, float(lon), float(lat)))
    return out


def _in_scope(session: Session, scope: Scope, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which points lie inside a jurisdiction of ``scope`` (all of them for an unscoped user)."""
    if scope.codes is None or lon.size == 0:
        return np.ones(lon.size, dtype=bool)
    polygons = [
        shapely.geometry.shape(j.geometry)
        for j in list_jurisdictions(session=session, scope=scope.codes)
        if j.geometry
    ]
    if not polygons:
        return np.zeros(lon.size, dtype=bool)
    area = shapely.union_all(polygons)
    return np.asarray(shapely.contains_xy(area, lon, lat), dtype=bool)


def scenario_zones(
    scenario: Scenario, places: Sequence[tuple[str, str, str, float, float]]
) -> list[Zone]:
    """The zones of ``scenario`` around ``places`` (poi_id, name, kind, lon, lat)."""
    return [
        Zone(f"{poi_id}-{rule.role}", name, kind, rule.role, lon, lat, rule.radius_m)
        for rule in scenario.rules
        for poi_id, name, kind, lon, lat in places
        if kind == rule.kind
    ]


def membership(zones: Sequence[Zone], lon: Any, lat: Any) -> np.ndarray:
    """Boolean matrix (points × zones): point inside zone, by great-circle distance.

    >>> z = Zone("a", "a", "school", "guard", 119.0, 34.0, 200.0)
    >>> membership([z], [119.0, 119.01], [34.001, 34.0]).tolist()
    [[True], [False]]
    """
    lon = np.asarray(lon, dtype=np.float64).reshape(-1, 1)
    lat = np.asarray(lat, dtype=np.float64).reshape(-1, 1)
    if lon.size == 0 or not zones:
        return np.zeros((lon.size, len(zones)), dtype=bool)
    z_lon = np.array([z.lon for z in zones])[None, :]
    z_lat = np.array([z.lat for z in zones])[None, :]
    radius = np.array([z.radius_m for z in zones])[None, :]
    return np.asarray(haversine_m(lon, lat, z_lon, z_lat) <= radius)


def _bbox(zones: Sequence[Zone]) -> tuple[float, float, float, float]:
    polygons = [z.polygon()["coordinates"][0] for z in zones]
    points = np.array([p for ring in polygons for p in ring])
    return (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )


def _representative(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    """A point of a GeoJSON geometry: the point itself, or one inside the shape."""
    if not geometry:
        return None
    if geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        return float(lon), float(lat)
    try:
        point = shapely.geometry.shape(geometry).representative_point()
    except (ValueError, TypeError, AttributeError):
        return None
    return (point.x, point.y) if not point.is_empty else None


def _points(items: Sequence[tuple[float, float] | None]) -> tuple[np.ndarray, np.ndarray]:
    kept = [p for p in items if p is not None]
    if not kept:
        return np.empty(0), np.empty(0)
    array = np.array(kept, dtype=np.float64)
    return array[:, 0], array[:, 1]


def _incident_hits(
    session: Session, scope: Scope, zones: Sequence[Zone], start: datetime, end: datetime
) -> np.ndarray:
    min_lon, min_lat, max_lon, max_lat = _bbox(zones)
    rows = session.execute(
        select(IncidentRow.lon, IncidentRow.lat).where(
            scope_filter(IncidentRow.jurisdiction_code, scope.codes),
            IncidentRow.reported_at >= start,
            IncidentRow.reported_at < end,
            IncidentRow.lon.between(min_lon, max_lon),
            IncidentRow.lat.between(min_lat, max_lat),
        )
    ).all()
    return membership(zones, [r[0] for r in rows], [r[1] for r in rows])


def _sensor_hits(session: Session, scope: Scope, zones: Sequence[Zone]) -> np.ndarray:
    min_lon, min_lat, max_lon, max_lat = _bbox(zones)
    rows = session.execute(
        select(SensorRow.lon, SensorRow.lat).where(
            scope_filter(SensorRow.jurisdiction_code, scope.codes),
            SensorRow.lon.between(min_lon, max_lon),
            SensorRow.lat.between(min_lat, max_lat),
        )
    ).all()
    return membership(zones, [r[0] for r in rows], [r[1] for r in rows])


def _instruction_hits(session: Session, scope: Scope, zones: Sequence[Zone]) -> np.ndarray:
    records = list_instructions(
        session=session, scope=scope.codes, status=OPEN_STATUSES, limit=10_000
    )
    return membership(zones, *_points([_representative(r.geometry) for r in records]))


def _finding_hits(
    session: Session, scope: Scope, zones: Sequence[Zone], start: datetime, end: datetime
) -> np.ndarray:
    stored = list_findings(session=session, scope=scope.codes, start=start, end=end, limit=10_000)
    return membership(zones, *_points([_representative(s.finding.geometry) for s in stored]))


def _day_window(day: date, zone: Any, now: datetime) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, min(start + timedelta(days=1), max(now, start))


@router.get("", summary="Scenario views (场景视图)", response_model=list[ScenarioSummary])
def read_scenarios() -> list[ScenarioSummary]:
    """The saved scenario views: large-event security, school safety, night economy."""
    return [s.summary() for s in SCENARIOS.values()]


@router.get(
    "/{scenario_id}",
    summary="One scenario view with zones and live counts (场景详情)",
    response_model=ScenarioDetail,
)
def read_scenario(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    now: NowDep,
    scenario_id: ScenarioId,
    day: Annotated[
        date | None,
        Query(
            description="Day (bureau time) of the incident count; default today. "
            "A past day counts the whole day; today counts up to now."
        ),
    ] = None,
) -> ScenarioDetail:
    """The zones of the scenario inside the user's scope, each with its counts, and the totals."""
    scenario = SCENARIOS.get(scenario_id)
    if scenario is None:  # pragma: no cover - the path type already refuses other ids
        raise HTTPException(404, detail=f"no scenario {scenario_id!r}; see GET /api/scenarios")
    zone_info = request.app.state.settings.zone
    day = day if day is not None else now.astimezone(zone_info).date()
    if not date(1970, 1, 1) <= day <= date(2999, 12, 31):
        raise HTTPException(
            422, detail=f"day={day.isoformat()} is out of range 1970-01-01..2999-12-31"
        )
    zones = scenario_zones(scenario, _places(request))
    keep = _in_scope(
        session, scope, np.array([z.lon for z in zones]), np.array([z.lat for z in zones])
    )
    zones = [z for z, k in zip(zones, keep, strict=True) if k]
    counts = ScenarioCounts(incidents_today=0, open_instructions=0, sensors=0, findings=0)
    features: list[dict[str, Any]] = []
    centre: tuple[float, float] | None = None
    if zones:
        start, end = _day_window(day, zone_info, now)
        hits = {
            "incidents_today": _incident_hits(session, scope, zones, start, end),
            "open_instructions": _instruction_hits(session, scope, zones),
            "sensors": _sensor_hits(session, scope, zones),
            "findings": _finding_hits(session, scope, zones, end - FINDINGS_LOOKBACK, end),
        }
        counts = ScenarioCounts(**{k: int(m.any(axis=1).sum()) for k, m in hits.items()})
        features = [
            {
                "type": "Feature",
                "id": z.id,
                "geometry": z.polygon(),
                "properties": {
                    "id": z.id,
                    "name": z.name,
                    "kind": z.kind,
                    "role": z.role,
                    "radius_m": z.radius_m,
                    **{k: int(m[:, i].sum()) for k, m in hits.items()},
                },
            }
            for i, z in enumerate(zones)
        ]
        centre = (
            round(float(np.mean([z.lon for z in zones])), 6),
            round(float(np.mean([z.lat for z in zones])), 6),
        )
    return ScenarioDetail(
        **scenario.summary().model_dump(),
        centre=centre,
        day=day,
        as_of=now,
        zones=FeatureCollection.model_validate({"type": "FeatureCollection", "features": features}),
        counts=counts,
    )
