"""Map layers: hexagon counts against a direct count, scope filtering, heat, levels."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from haizhou.api.routes.map import map_levels
from haizhou.geo.h3cells import cells_to_str, parent_cells
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import IncidentRow


def _expected_cells(url: str, codes: set[str | None] | None, resolution: int) -> Counter[str]:
    """The slow, obvious reference: every incident's cell, counted in Python."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = session.query(
            IncidentRow.h3_r7, IncidentRow.h3_r9, IncidentRow.jurisdiction_code
        ).all()
    engine.dispose()
    counts: Counter[str] = Counter()
    for r7, r9, code in rows:
        if codes is not None and code not in codes:
            continue
        cell = r9 if resolution == 9 else int(parent_cells(np.array([r7]), resolution)[0])
        counts[str(cells_to_str(np.array([cell]))[0])] += 1
    return counts


def _hexagons(client: Any, bureau: Any, **params: Any) -> dict:
    query = {"bbox": bureau.BBOX_ALL, **bureau.WINDOW, **params}
    response = client.get("/api/map/hexagons", params=query)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("resolution", [9, 6])
def test_hexagons_match_a_direct_count(world: Any, bureau: Any, resolution: int) -> None:
    body = _hexagons(world.login("analyst1"), bureau, resolution=resolution)
    assert body["type"] == "FeatureCollection"
    got = Counter({f["properties"]["h3"]: f["properties"]["count"] for f in body["features"]})
    assert got == _expected_cells(world.url, None, resolution)
    assert body["total"] == 60 and body["resolution"] == resolution
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Polygon"
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and 119 < ring[0][0] < 120 and 34 < ring[0][1] < 35


def test_a_station_officer_never_sees_another_stations_hexagons(world: Any, bureau: Any) -> None:
    a = _hexagons(world.login("officer_a"), bureau, resolution=9)
    b = _hexagons(world.login("officer_b"), bureau, resolution=9)
    a1 = _hexagons(world.login("officer_a1"), bureau, resolution=9)
    cells = lambda body: {f["properties"]["h3"]: f["properties"]["count"] for f in body["features"]}  # noqa: E731
    assert cells(a) == _expected_cells(world.url, {bureau.STATION_A, bureau.STATION_A1}, 9)
    assert cells(b) == _expected_cells(world.url, {bureau.STATION_B}, 9)
    assert cells(a1) == _expected_cells(world.url, {bureau.STATION_A1}, 9)
    assert (a["total"], b["total"], a1["total"]) == (36, 20, 6)
    # Even a viewport over station B shows officer A nothing there.
    over_b = _hexagons(
        world.login("officer_a"), bureau, resolution=9, bbox="119.25,34.6,119.35,34.7"
    )
    assert over_b["features"] == [] and over_b["total"] == 0


def test_time_window_and_bbox_filter_the_counts(sqlite_world: Any, bureau: Any) -> None:
    client = sqlite_world.login("analyst1")
    # Incidents k=0..3 of each group fall in the first 12 hours (hours 1, 4, 7, 10).
    early = _hexagons(client, bureau, start="2026-01-01T00:00:00Z", end="2026-01-01T12:00:00Z")
    assert early["total"] == 4 * 4
    # Naive times are the bureau's (UTC+8): 08:00 local is 00:00 UTC.
    local = _hexagons(client, bureau, start="2026-01-01T08:00:00", end="2026-01-01T20:00:00")
    assert local["total"] == early["total"]
    west = _hexagons(client, bureau, bbox="119.0,34.4,119.25,34.9")
    assert west["total"] == 36


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "119.3,34.4,119.0,34.9"},
        {"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        {"resolution": "12"},
    ],
)
def test_bad_parameters_are_422_with_a_reason(sqlite_world: Any, bureau: Any, params: dict) -> None:
    client = sqlite_world.login("analyst1")
    response = client.get("/api/map/hexagons", params={**bureau.WINDOW, **params})
    assert response.status_code == 422
    assert response.json()["detail"]


def test_heat_grid_counts_add_up_and_respect_scope(world: Any, bureau: Any) -> None:
    params = {
        "bbox": bureau.BBOX_ALL,
        **bureau.WINDOW,
        "width": 50,
        "height": 50,
        "bandwidth_cells": 0,
    }
    everything = world.login("commander1").get("/api/map/heat", params=params).json()
    assert everything["total"] == 60
    assert sum(count for _, _, count, _ in everything["cells"]) == 60
    grid = everything["grid"]
    assert (grid["width"], grid["height"]) == (50, 50)
    officer = world.login("officer_b").get("/api/map/heat", params=params).json()
    assert officer["total"] == 20
    dlon, dlat = (119.5 - 119.0) / 50, (34.9 - 34.4) / 50
    for col, row, _, _ in officer["cells"]:  # every hot cell lies near station B's centre
        lon, lat = 119.0 + (col + 0.5) * dlon, 34.4 + (row + 0.5) * dlat
        assert abs(lon - 119.30) < 0.02 and abs(lat - 34.65) < 0.02
    smooth = (
        world.login("commander1")
        .get("/api/map/heat", params={**params, "bandwidth_cells": 2})
        .json()
    )
    assert smooth["total"] == 60 and len(smooth["cells"]) > len(everything["cells"])
    assert smooth["grid"]["max_density"] < everything["grid"]["max_density"]
    assert max(d for *_, d in smooth["cells"]) == smooth["grid"]["max_density"]


def test_jurisdictions_sensors_and_findings_are_scoped(world: Any, bureau: Any) -> None:
    officer = world.login("officer_a")
    codes = [
        f["properties"]["code"] for f in officer.get("/api/map/jurisdictions").json()["features"]
    ]
    assert codes == [bureau.STATION_A, bureau.STATION_A1]
    sensors = officer.get("/api/map/sensors").json()["features"]
    assert {s["properties"]["jurisdiction_code"] for s in sensors} == {bureau.STATION_A}
    assert len(sensors) == 3
    findings = officer.get("/api/map/findings", params=bureau.WINDOW).json()["features"]
    assert [f["properties"]["title"] for f in findings] == [f"hot spot {bureau.STATION_A}"]
    assert findings[0]["properties"]["level"] == "red"
    analyst = world.login("analyst1")
    assert len(analyst.get("/api/map/jurisdictions").json()["features"]) == 4
    assert (
        len(
            analyst.get("/api/map/sensors", params={"bbox": "119.29,34.6,119.4,34.7"}).json()[
                "features"
            ]
        )
        == 3
    )
    reds = analyst.get("/api/map/findings", params={**bureau.WINDOW, "level": "red"}).json()
    assert len(reds["features"]) == 1


def test_map_config_gives_bounds_and_time_extent_of_the_scope(
    sqlite_world: Any, bureau: Any
) -> None:
    config = sqlite_world.login("officer_b").get("/api/map/config").json()
    assert config["tile_url"] is None
    assert config["bounds"] == pytest.approx([119.26, 34.61, 119.34, 34.69])
    assert config["time_extent"]["start"].startswith("2026-01-01T01:00:00")
    assert config["timezone"] == "Asia/Shanghai"


def test_base_layers_are_empty_without_city_files(sqlite_world: Any) -> None:
    client = sqlite_world.login("auditor1")
    assert client.get("/api/map/base/roads").json() == {"type": "FeatureCollection", "features": []}
    assert client.get("/api/map/base/rivers").status_code == 422


@given(st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=300))
def test_map_levels_are_monotone_in_the_count(counts: list[int]) -> None:
    values = np.array(counts)
    levels = map_levels(values)
    rank = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
    order = np.argsort(-values, kind="stable")
    ranks = [rank[levels[i]] for i in order]
    assert ranks == sorted(ranks)  # a larger count never gets a weaker level
    assert levels[int(np.argmax(values))] == "red"
    equal = {}
    for v, lv in zip(counts, levels, strict=True):
        assert equal.setdefault(v, lv) == lv  # equal counts share a level


def test_summary_counts_days_in_the_bureau_zone_and_ranks_jurisdictions(
    world: Any, bureau: Any
) -> None:
    body = world.login("analyst1").get("/api/map/summary", params=bureau.WINDOW).json()
    assert body["total"] == 60
    assert sum(n for _, n in body["daily"]) == 60
    # Incidents come every 3 hours from 01:00 UTC; 1 January in Shanghai ends at 16:00 UTC,
    # so hours 1, 4, 7, 10 and 13 count there (16:00 UTC is midnight local, the 2nd):
    # five from each group of 30, 6 and 20, and all four of the group without jurisdiction.
    assert body["daily"][0] == ["2026-01-01", 5 + 5 + 5 + 4]
    assert body["daily"][1][0] == "2026-01-02"
    assert body["by_jurisdiction"][0] == [bureau.STATION_A, 30]
    officer = world.login("officer_a1").get("/api/map/summary", params=bureau.WINDOW).json()
    assert officer["by_jurisdiction"] == [[bureau.STATION_A1, 6]]


def test_reading_findings_that_name_people_is_audited(sqlite_world: Any, bureau: Any) -> None:
    from haizhou.store.tables import AuditRow, FindingRow

    engine = make_engine(sqlite_world.url)
    factory = make_sessionmaker(engine)
    analyst = sqlite_world.login("analyst1")

    def map_reads() -> list[tuple[str, str]]:
        with factory() as session:
            rows = session.query(AuditRow).filter(AuditRow.action == "findings.read").all()
            return [(r.actor, str(r.detail)) for r in rows]

    analyst.get("/api/map/findings", params=bureau.WINDOW)
    assert map_reads() == []  # no finding names anybody yet: nothing personal was read
    with factory() as session:
        finding = session.get(FindingRow, 1)
        finding.evidence = {**(finding.evidence or {}), "person_pseudonyms": ["ab12", "cd34"]}
        session.commit()
    features = analyst.get("/api/map/findings", params=bureau.WINDOW).json()["features"]
    assert any(f["properties"]["evidence"].get("person_pseudonyms") for f in features)
    reads = map_reads()
    assert len(reads) == 1 and reads[0][0] == "analyst1" and "'1': 2" in reads[0][1]
    # A station officer sees how many people a finding names, not who: nothing personal read.
    officer = sqlite_world.login("officer_a")
    seen = officer.get("/api/map/findings", params=bureau.WINDOW).json()["features"]
    named = [f["properties"]["evidence"] for f in seen if f["id"] == 1]
    assert named and named[0]["person_pseudonyms"] is None
    assert named[0]["person_pseudonyms_count"] == 2
    assert "ab12" not in str(seen)
    assert len(map_reads()) == 1
    engine.dispose()
