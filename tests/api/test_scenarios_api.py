"""Scenario views (场景视图): zones from the base map's places, live counts in the user's scope.

Places are written to the data folder's ``city/pois.geojson`` (what the simulator writes); the
expected counts are recomputed here from the stored rows with an independent haversine.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import IncidentRow, SensorRow
from haizhou.tasks.service import create_manual, sign

STADIUM = (119.2000, 34.6000)  # inside station A
SCHOOL_A1 = (119.2100, 34.6100)  # inside A1 (and A)
SCHOOL_B = (119.3000, 34.6500)  # inside station B
KTV_OUTSIDE = (119.4800, 34.8800)  # outside every jurisdiction
NOW = datetime(2026, 1, 1, 15, 0, tzinfo=UTC)  # 23:00 on 1 January, bureau time


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(a))


def _write_places(data_dir: Path) -> None:
    places = [
        ("POI0001", "体育中心", "stadium", STADIUM),
        ("POI0002", "实验小学", "school", SCHOOL_A1),
        ("POI0003", "新海中学", "school", SCHOOL_B),
        ("POI0004", "某某KTV", "ktv", KTV_OUTSIDE),
        ("POI0005", "医院", "hospital", (119.25, 34.62)),
    ]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(lonlat)},
            "properties": {"poi_id": poi, "name": name, "kind": kind},
        }
        for poi, name, kind, lonlat in places
    ]
    (data_dir / "city").mkdir(parents=True, exist_ok=True)
    (data_dir / "city" / "pois.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )


@pytest.fixture
def scenario_world(sqlite_world: Any, tmp_path: Path) -> Any:
    _write_places(tmp_path / "data")
    sqlite_world.clock.now = NOW
    return sqlite_world


@pytest.fixture
def any_world(world: Any, tmp_path: Path) -> Any:
    """The scenario bureau on SQLite and on PostgreSQL."""
    _write_places(tmp_path / "data")
    world.clock.now = NOW
    return world


def _incidents_near(
    url: str,
    centre: tuple[float, float],
    radius: float,
    codes: set | None,
    end: datetime = NOW,
) -> int:
    engine = make_engine(url)
    start = datetime(2025, 12, 31, 16, tzinfo=UTC)  # 1 January 00:00 bureau time
    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            select(IncidentRow.lon, IncidentRow.lat, IncidentRow.jurisdiction_code).where(
                IncidentRow.reported_at >= start, IncidentRow.reported_at < end
            )
        ).all()
    engine.dispose()
    return sum(
        1
        for lon, lat, code in rows
        if (codes is None or code in codes) and _distance_m(lon, lat, *centre) <= radius
    )


def test_the_list_names_three_scenarios(scenario_world: Any) -> None:
    body = scenario_world.login("analyst1").get("/api/scenarios").json()
    assert [s["id"] for s in body] == ["stadium", "schools", "night_economy"]
    assert all(s["title_zh"] and s["title_en"] and s["layers"] for s in body)


def test_stadium_zones_and_counts_for_the_analyst(any_world: Any) -> None:
    scenario_world = any_world
    client = scenario_world.login("analyst1")
    body = client.get("/api/scenarios/stadium").json()
    assert body["day"] == "2026-01-01"
    zones = {f["properties"]["role"]: f for f in body["zones"]["features"]}
    assert set(zones) == {"core", "control"}
    core, control = zones["core"], zones["control"]
    assert core["properties"]["name"] == "体育中心"
    ring = core["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    # Every vertex lies on the 500 m circle.
    assert all(abs(_distance_m(*p, *STADIUM) - 500) < 5 for p in ring)
    want_core = _incidents_near(scenario_world.url, STADIUM, 500, None)
    want_control = _incidents_near(scenario_world.url, STADIUM, 1500, None)
    assert 0 < want_core <= want_control
    assert core["properties"]["incidents_today"] == want_core
    assert control["properties"]["incidents_today"] == want_control
    # The total counts each incident once, though the core lies inside the control zone.
    assert body["counts"]["incidents_today"] == want_control
    # Three cameras of station A stand within 300 m of the sports centre.
    assert body["counts"]["sensors"] == 3
    # Both test findings lie at the stadium and their window overlaps the last week.
    assert body["counts"]["findings"] == 2
    assert body["counts"]["open_instructions"] == 0
    assert body["centre"] == [pytest.approx(STADIUM[0]), pytest.approx(STADIUM[1])]


def test_open_instructions_in_a_zone_are_counted_until_closed(scenario_world: Any) -> None:
    engine = make_engine(scenario_world.url)
    with make_sessionmaker(engine)() as session:
        inside = create_manual(
            session=session,
            title="体育中心周边巡逻",
            level="orange",
            now=NOW,
            actor="analyst1",
            actor_role="analyst",
            geometry={"type": "Point", "coordinates": [STADIUM[0] + 0.001, STADIUM[1]]},
        )
        create_manual(
            session=session,
            title="远处的指令",
            level="blue",
            now=NOW,
            actor="analyst1",
            actor_role="analyst",
            geometry={"type": "Point", "coordinates": [119.31, 34.66]},
        )
        sign(
            session=session,
            instruction_id=inside.id,
            now=NOW,
            actor="officer_a",
            actor_role="station_officer",
        )
        session.commit()
    engine.dispose()
    body = scenario_world.login("analyst1").get("/api/scenarios/stadium").json()
    assert body["counts"]["open_instructions"] == 1
    # Station B's officer cannot see the stadium zone at all (it lies in station A).
    b = scenario_world.login("officer_b").get("/api/scenarios/stadium").json()
    assert b["zones"]["features"] == [] and b["centre"] is None
    assert b["counts"] == {
        "incidents_today": 0,
        "open_instructions": 0,
        "sensors": 0,
        "findings": 0,
    }


def test_zones_are_kept_to_the_users_jurisdictions(scenario_world: Any) -> None:
    analyst = scenario_world.login("analyst1").get("/api/scenarios/schools").json()
    assert {f["properties"]["name"] for f in analyst["zones"]["features"]} == {
        "实验小学",
        "新海中学",
    }
    officer_b = scenario_world.login("officer_b").get("/api/scenarios/schools").json()
    (zone,) = officer_b["zones"]["features"]
    assert zone["properties"]["name"] == "新海中学"
    assert zone["properties"]["sensors"] == 3  # B's cameras at 0, 92 and 184 m
    want = _incidents_near(scenario_world.url, SCHOOL_B, 200, {"320706002"})
    assert officer_b["counts"]["incidents_today"] == want
    officer_a1 = scenario_world.login("officer_a1").get("/api/scenarios/schools").json()
    assert [f["properties"]["name"] for f in officer_a1["zones"]["features"]] == ["实验小学"]
    # A KTV outside every jurisdiction is shown only to users without a jurisdiction.
    night = scenario_world.login("analyst1").get("/api/scenarios/night_economy").json()
    assert [f["properties"]["kind"] for f in night["zones"]["features"]] == ["ktv"]
    night_a = scenario_world.login("officer_a").get("/api/scenarios/night_economy").json()
    assert night_a["zones"]["features"] == []


def test_a_past_day_counts_that_whole_day(scenario_world: Any) -> None:
    scenario_world.clock.now = datetime(2026, 3, 1, 8, tzinfo=UTC)
    client = scenario_world.login("analyst1")
    body = client.get("/api/scenarios/stadium", params={"day": "2026-01-01"}).json()
    whole_day = datetime(2026, 1, 1, 16, tzinfo=UTC)
    want = _incidents_near(scenario_world.url, STADIUM, 1500, None, end=whole_day)
    assert want > 0
    assert body["day"] == "2026-01-01" and body["counts"]["incidents_today"] == want
    # Findings are those of the week up to that day, not of the week up to now.
    assert body["counts"]["findings"] == 2
    today = client.get("/api/scenarios/stadium").json()
    assert today["day"] == "2026-03-01"
    assert today["counts"]["findings"] == 0 and today["counts"]["incidents_today"] == 0
    early = client.get("/api/scenarios/stadium", params={"day": "2025-12-01"}).json()
    assert early["counts"]["incidents_today"] == 0 and early["counts"]["findings"] == 0
    assert client.get("/api/scenarios/stadium", params={"day": "not a day"}).status_code == 422
    assert client.get("/api/scenarios/stadium", params={"day": "9999-12-31"}).status_code == 422


def test_unknown_scenarios_and_roles_are_refused(scenario_world: Any) -> None:
    assert scenario_world.login("analyst1").get("/api/scenarios/casino").status_code == 422
    response = scenario_world.login("auditor1").get("/api/scenarios/stadium")
    assert response.status_code == 403 and "auditor" in response.json()["detail"]


def test_no_places_file_means_no_zones(sqlite_world: Any) -> None:
    body = sqlite_world.login("analyst1").get("/api/scenarios/schools").json()
    assert body["zones"]["features"] == [] and body["counts"]["sensors"] == 0


def test_sensors_of_the_store_are_what_is_counted(scenario_world: Any) -> None:
    engine = make_engine(scenario_world.url)
    with make_sessionmaker(engine)() as session:
        near = session.scalars(select(SensorRow)).all()
        moved = next(s for s in near if s.jurisdiction_code == "320706001")
        moved.lon, moved.lat = STADIUM[0] + 0.05, STADIUM[1]  # ~4.6 km east: out of both zones
        session.commit()
    engine.dispose()
    body = scenario_world.login("analyst1").get("/api/scenarios/stadium").json()
    assert body["counts"]["sensors"] == 2
