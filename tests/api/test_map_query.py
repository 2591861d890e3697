"""POST /api/map/query: counts inside a drawn polygon, against an obvious point-by-point count."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import shapely.geometry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import IncidentRow, InstructionRow

ZONE = ZoneInfo("Asia/Shanghai")
SCOPES: dict[str, set[str] | None] = {
    "analyst1": None,
    "officer_a": {"320706001", "320706001-1"},
    "officer_b": {"320706002"},
}


def _ring(points: list[tuple[float, float]]) -> dict[str, Any]:
    ring = [[x, y] for x, y in points]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> dict[str, Any]:
    return _ring([(min_lon, min_lat), (max_lon, min_lat), (max_lon, max_lat), (min_lon, max_lat)])


def _expected(
    url: str, polygon: dict, start: datetime, end: datetime, scope: set[str] | None
) -> dict[str, Any]:
    """The slow, obvious reference: every incident, one shapely test each."""
    shape = shapely.geometry.shape(polygon)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = session.query(
            IncidentRow.lon,
            IncidentRow.lat,
            IncidentRow.category,
            IncidentRow.reported_at,
            IncidentRow.jurisdiction_code,
        ).all()
    engine.dispose()
    by_category: Counter[str] = Counter()
    by_hour = [0] * 24
    for lon, lat, category, at, code in rows:
        if scope is not None and code not in scope:
            continue
        if not (start <= at < end) or not shape.intersects(shapely.geometry.Point(lon, lat)):
            continue
        by_category[category] += 1
        by_hour[at.astimezone(ZONE).hour] += 1
    return {
        "count": sum(by_category.values()),
        "by_category": dict(by_category),
        "by_hour": by_hour,
    }


def _query(client: Any, polygon: dict, **extra: Any) -> Any:
    return client.post("/api/map/query", json={"polygon": polygon, **extra})


def test_counts_inside_a_polygon_match_a_point_by_point_count(world: Any, bureau: Any) -> None:
    polygon = _box(119.15, 34.55, 119.35, 34.68)  # stations A, A1 and B, not the unassigned four
    body = _query(world.login("analyst1"), polygon, **bureau.WINDOW)
    assert body.status_code == 200, body.text
    got = body.json()
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    want = _expected(world.url, polygon, start, end, None)
    assert got["count"] == want["count"] == 56
    assert got["by_category"] == want["by_category"]
    assert list(got["by_category"].values()) == sorted(got["by_category"].values(), reverse=True)
    assert got["by_hour"] == want["by_hour"] and len(got["by_hour"]) == 24
    assert got["sensors"] == 6
    assert [f["title"] for f in got["findings"]] == ["hot spot 320706001", "hot spot 320706002"]
    assert got["findings"][0]["level"] == "red"  # red first
    assert got["instructions"] == {}


def test_a_station_officer_counts_only_their_stations_records(world: Any, bureau: Any) -> None:
    polygon = _box(119.0, 34.4, 119.5, 34.9)
    officer = _query(world.login("officer_b"), polygon, **bureau.WINDOW).json()
    assert officer["count"] == 20 and officer["sensors"] == 3
    assert [f["title"] for f in officer["findings"]] == ["hot spot 320706002"]
    over_b = _box(119.25, 34.6, 119.35, 34.7)
    assert _query(world.login("officer_a"), over_b, **bureau.WINDOW).json()["count"] == 0


def test_instructions_inside_are_counted_by_status_within_scope(
    sqlite_world: Any, bureau: Any
) -> None:
    engine = make_engine(sqlite_world.url)
    t = datetime(2026, 1, 5, tzinfo=UTC)
    with make_sessionmaker(engine)() as session:
        for k, (status, code, lon, closed) in enumerate(
            [
                ("issued", bureau.STATION_A, 119.20, None),
                ("signed", bureau.STATION_A, 119.201, None),
                ("signed", bureau.STATION_B, 119.30, None),
                ("closed", bureau.STATION_A, 119.202, t - timedelta(days=30)),  # closed before
            ]
        ):
            session.add(
                InstructionRow(
                    title=f"instruction {k}",
                    kind="patrol",
                    level="orange",
                    status=status,
                    approval="auto",
                    jurisdiction_code=code,
                    geometry={"type": "Point", "coordinates": [lon, 34.6]},
                    created_at=t - timedelta(days=60) if closed else t,
                    created_by="analyst1",
                    updated_at=t,
                    closed_at=closed,
                )
            )
        session.commit()
    engine.dispose()
    polygon = _box(119.15, 34.55, 119.35, 34.68)
    everyone = _query(sqlite_world.login("commander1"), polygon, **bureau.WINDOW).json()
    assert everyone["instructions"] == {"signed": 2, "issued": 1}
    officer = _query(sqlite_world.login("officer_a"), polygon, **bureau.WINDOW).json()
    assert officer["instructions"] == {"issued": 1, "signed": 1}
    # December 2025: the open ones did not exist yet; the closed one was open until the 6th.
    december = {"start": "2025-12-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    before = _query(sqlite_world.login("commander1"), polygon, **december).json()
    assert before["instructions"] == {"closed": 1}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    user=st.sampled_from(sorted(SCOPES)),
    corners=st.lists(
        st.tuples(st.floats(119.15, 119.36), st.floats(34.55, 34.72)), min_size=3, max_size=6
    ),
    start_h=st.integers(0, 150),
    length_h=st.integers(1, 200),
    category=st.sampled_from([None, "theft", ["fight", "theft"], ["nothing"]]),
)
def test_any_polygon_window_and_scope_match_the_reference(
    sqlite_world: Any,
    user: str,
    corners: list[tuple[float, float]],
    start_h: int,
    length_h: int,
    category: Any,
) -> None:
    polygon = _ring(corners)
    shape = shapely.geometry.shape(polygon)
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=start_h)
    end = start + timedelta(hours=length_h)
    extra: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat()}
    if category is not None:
        extra["category"] = category
    client = sqlite_world.__dict__.setdefault(f"_client_{user}", sqlite_world.login(user))
    response = _query(client, polygon, **extra)
    if shape.area == 0:
        assert response.status_code == 422
        return
    assert response.status_code == 200, response.text
    got = response.json()
    if not shape.is_valid:  # a self-crossing outline: the server counts its valid area
        shape = shapely.make_valid(shape)
        polygon = shapely.geometry.mapping(shape)
    want = _expected(sqlite_world.url, polygon, start, end, SCOPES[user])
    if category is not None:
        keep = {category} if isinstance(category, str) else set(category)
        assert set(got["by_category"]) <= keep
        want["by_category"] = {k: v for k, v in want["by_category"].items() if k in keep}
        assert got["count"] == sum(want["by_category"].values())
    else:
        assert got["count"] == want["count"]
        assert got["by_hour"] == want["by_hour"]
    assert got["by_category"] == want["by_category"]
    assert sum(got["by_hour"]) == got["count"]


@pytest.mark.parametrize(
    ("polygon", "reason"),
    [
        ({"type": "Point", "coordinates": [119.2, 34.6]}, "GeoJSON Polygon"),
        ({"type": "Polygon", "coordinates": [[[119.2, 34.6], [119.3]]]}, "coordinates"),
        (_ring([(119.2, 34.6), (119.3, 34.6), (119.25, 34.6)]), "no area"),
        (_box(179.0, 34.0, 181.0, 35.0), "WGS-84"),
        ({"type": "Polygon", "coordinates": "abc"}, "coordinates"),
        (
            {"type": "Polygon", "coordinates": [[[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]]},
            "GeoJSON",
        ),
    ],
)
def test_bad_polygons_are_422_with_a_reason(sqlite_world: Any, polygon: dict, reason: str) -> None:
    response = _query(sqlite_world.login("analyst1"), polygon)
    assert response.status_code == 422
    assert reason in str(response.json()["detail"])


def test_the_query_needs_the_csrf_header_and_a_police_role(sqlite_world: Any) -> None:
    polygon = _box(119.15, 34.55, 119.35, 34.68)
    client = sqlite_world.login("analyst1")
    del client.headers["X-CSRF-Token"]
    assert _query(client, polygon).status_code == 403
    assert _query(sqlite_world.login("auditor1"), polygon).status_code == 403
    assert _query(sqlite_world.client(), polygon).status_code == 401


def test_a_polygon_with_nan_is_422_not_a_server_error(sqlite_world: Any) -> None:
    body = json.dumps({"polygon": _box(float("nan"), 34.0, 119.0, 35.0)})  # Python writes NaN
    response = sqlite_world.login("analyst1").post(
        "/api/map/query", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
