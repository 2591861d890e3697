"""Sensing and fraud map layers: GeoJSON, scoped, and the figures checked by brute force.

The test bureau (conftest) has three cameras (no range registered: 50 m discs) in station A
and three in B, and incidents scattered ~500 m around each station's centre in January 2026.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from shapely.geometry import Point, shape
from sqlalchemy import select

from haizhou.analytics.coverage import DEFAULT_SEVERITY
from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.geo.projection import LocalProjection
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import CaseRow, IncidentRow, PersonRow, SensorRow

END = {"end": "2026-02-01T00:00:00Z"}


def _rows(url: str, *columns: Any) -> list[Any]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        out = list(session.execute(select(*columns)).scalars().all())
    engine.dispose()
    return out


def test_coverage_footprints_are_scoped_discs_around_each_sensor(sqlite_world, bureau) -> None:  # type: ignore[no-untyped-def]
    body = sqlite_world.login("analyst1").get("/api/map/coverage").json()
    sensors = {r.source_id: (r.lon, r.lat) for r in _rows(sqlite_world.url, SensorRow)}
    assert {f["id"] for f in body["features"]} == set(sensors)
    proj = LocalProjection.around(119.25, 34.62)
    for f in body["features"]:
        poly = shape(f["geometry"])
        assert poly.contains(Point(sensors[f["id"]]))
        # in metres, the disc has the default 50 m camera range (8-vertex arcs: a bit less)
        ring = np.asarray(poly.exterior.coords)
        x, y = proj.forward(ring[:, 0], ring[:, 1])
        from shapely.geometry import Polygon

        area = Polygon(np.column_stack([x, y])).area
        assert 0.9 * np.pi * 50**2 < area <= np.pi * 50**2 * 1.001
    own = sqlite_world.login("officer_b").get("/api/map/coverage").json()
    assert {f["properties"]["jurisdiction_code"] for f in own["features"]} == {bureau.STATION_B}
    assert len(own["features"]) == 3


def _brute_uncovered(url: str, scope: set[str] | None) -> float:
    """Severity weight of the January incidents farther than 50 m from every scoped camera."""
    proj = LocalProjection.around(119.25, 34.62)
    sens = [
        (r.lon, r.lat)
        for r in _rows(url, SensorRow)
        if scope is None or r.jurisdiction_code in scope
    ]
    sx, sy = proj.forward(np.array([s[0] for s in sens]), np.array([s[1] for s in sens]))
    total = 0.0
    for r in _rows(url, IncidentRow):
        if scope is not None and r.jurisdiction_code not in scope:
            continue
        x, y = proj.forward(np.array([r.lon]), np.array([r.lat]))
        if np.min(np.hypot(sx - x, sy - y)) > 50.0:
            total += dict(DEFAULT_SEVERITY).get(r.category, 1.0)
    return total


@pytest.mark.parametrize("user", ["analyst1", "officer_b"])
def test_blindspots_hold_every_unseen_incident_weight(sqlite_world, bureau, user) -> None:  # type: ignore[no-untyped-def]
    body = (
        sqlite_world.login(user)
        .get("/api/map/blindspots", params={**END, "days": 31, "min_weight": 0.001})
        .json()
    )
    scope = None if user == "analyst1" else {bureau.STATION_B}
    got = sum(f["properties"]["uncovered_weighted"] for f in body["features"])
    assert got == pytest.approx(_brute_uncovered(sqlite_world.url, scope), rel=1e-6)
    assert body["summary"]["incidents"] == (60 if scope is None else 20)
    assert {f["geometry"]["type"] for f in body["features"]} == {"Polygon"}
    levels = [f["properties"]["level"] for f in body["features"]]
    assert levels[0] == "red" and set(levels) <= {"red", "orange", "yellow", "blue", None}


def test_candidate_sites_rank_by_gain_and_stay_in_scope(sqlite_world, bureau) -> None:  # type: ignore[no-untyped-def]
    body = (
        sqlite_world.login("analyst1")
        .get("/api/map/candidate-sites", params={**END, "days": 31, "k": 3, "method": "auto"})
        .json()
    )
    gains = [f["properties"]["added_weight"] for f in body["features"]]
    s = body["summary"]
    assert len(gains) == 3 and gains == sorted(gains, reverse=True)
    assert sum(gains) == pytest.approx(s["added_weight"], abs=1e-2)
    assert s["exact_objective"] is not None
    assert s["greedy_objective"] <= s["exact_objective"] + 1e-9
    assert s["greedy_objective"] >= (1 - 1 / np.e) * s["exact_objective"]
    own = (
        sqlite_world.login("officer_b")
        .get("/api/map/candidate-sites", params={**END, "days": 31, "k": 2})
        .json()
    )
    box = shape(
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [119.26, 34.61],
                    [119.34, 34.61],
                    [119.34, 34.69],
                    [119.26, 34.69],
                    [119.26, 34.61],
                ]
            ],
        }
    )
    assert own["features"] and all(box.contains(shape(f["geometry"])) for f in own["features"])


def _fraud_world(url: str, bureau: Any) -> None:
    engine = make_engine(url)
    rng = np.random.default_rng(3)
    with make_sessionmaker(engine)() as session:
        for code, lon, lat, people, frauds in (
            (bureau.STATION_A, 119.20, 34.60, 2000, 30),
            (bureau.STATION_B, 119.30, 34.65, 2000, 4),
        ):
            for i in range(people):
                session.add(
                    PersonRow(
                        source="t",
                        source_id=f"{code}-{i}",
                        pseudonym=f"p{code}{i}",
                        masked_id="x",
                        registration="permanent",
                        jurisdiction_code=code,
                        content_hash="h",
                    )
                )
            for i in range(frauds):
                at = bureau.T0 + timedelta(days=int(rng.integers(0, 28)))
                session.add(
                    CaseRow(
                        source="t",
                        source_id=f"c{code}{i}",
                        category="诈骗",
                        occurred_from=at,
                        occurred_to=at,
                        lon=lon,
                        lat=lat,
                        h3_r7=int(cells_from_lonlat(lon, lat, 7)),
                        h3_r8=int(cells_from_lonlat(lon, lat, 8)),
                        h3_r9=int(cells_from_lonlat(lon, lat, 9)),
                        jurisdiction_code=code,
                        content_hash="h",
                    )
                )
        session.commit()
    engine.dispose()


def test_fraud_risk_rates_by_jurisdiction_in_scope(world, bureau) -> None:  # type: ignore[no-untyped-def]
    sqlite_world = world  # SQLite and PostgreSQL
    _fraud_world(sqlite_world.url, bureau)
    body = (
        sqlite_world.login("commander1")
        .get("/api/map/fraud-risk", params={**END, "days": 31})
        .json()
    )
    props = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert set(props) == {bureau.STATION_A, bureau.STATION_B}
    a, b = props[bureau.STATION_A], props[bureau.STATION_B]
    assert (a["cases"], b["cases"]) == (30, 4)
    assert a["raw_rate_per_10k"] == pytest.approx(150.0)
    # smoothing pulls both towards the overall rate (85 per 10,000) and keeps the order
    assert 85.0 < a["eb_rate_per_10k"] <= 150.0 and 20.0 <= b["eb_rate_per_10k"] < 85.0
    assert a["z"] > 0 > b["z"]
    own = (
        sqlite_world.login("officer_b")
        .get("/api/map/fraud-risk", params={**END, "days": 31})
        .json()
    )
    assert [f["properties"]["code"] for f in own["features"]] == [bureau.STATION_B]
    assert own["features"][0]["properties"]["cases"] == 4
    assert sqlite_world.login("airspace1").get("/api/map/fraud-risk").status_code == 403
