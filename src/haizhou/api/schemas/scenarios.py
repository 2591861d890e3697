"""Schemas of the scenario views (场景视图): large-event security, school safety, night economy."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from haizhou.api.schemas.map import FeatureCollection


class ScenarioSummary(BaseModel):
    """A saved view of the map for one kind of operation (场景)."""

    id: str = Field(description="stadium, schools or night_economy")
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    place_kinds: list[str] = Field(description="Kinds of places (pois.geojson) the zones surround")
    layers: list[str] = Field(description="Map layers the view switches on")
    zoom: float = Field(description="Map zoom of the view")


class ScenarioCounts(BaseModel):
    """Live counts over the union of the zones, in the user's scope (实时统计)."""

    incidents_today: int = Field(ge=0, description="警情 — incidents in a zone on `day`")
    open_instructions: int = Field(ge=0, description="在办指令 — open instructions in a zone")
    sensors: int = Field(ge=0, description="感知点位 — sensing points in a zone")
    findings: int = Field(
        ge=0,
        description="研判发现 — findings in a zone whose window overlaps the 7 days up to the end "
        "of `day`",
    )


class ScenarioDetail(ScenarioSummary):
    """A scenario with its zones (GeoJSON polygons, counts per zone) and the totals."""

    centre: tuple[float, float] | None = Field(
        description="Map centre [lon, lat]; null when no zone lies in the user's scope"
    )
    day: date = Field(description="The day (bureau time) the incident count covers")
    as_of: datetime = Field(description="The time the counts were taken")
    zones: FeatureCollection = Field(
        description="Zone polygons; properties: id, name, kind, role, radius_m and the counts"
    )
    counts: ScenarioCounts
