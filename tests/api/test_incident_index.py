"""The in-memory incident index gives exactly what SQL gives, and follows new imports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haizhou.api.incident_index import IncidentIndex
from haizhou.api.routes.map import hexagon_counts
from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.security.roles import Scope
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import IncidentRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SCOPES = [
    Scope.everything(),
    Scope(frozenset({"320706001", "320706001-1"})),
    Scope(frozenset({"320706002"})),
    Scope(frozenset()),
]


def _both(session: Any, index: IncidentIndex, **query: Any) -> tuple[dict, dict]:
    columns = index.snapshot(session)
    assert columns is not None
    window, mask = columns.select(
        start=query["start"],
        end=query["end"],
        bbox=query["bbox"],
        scope_codes=query["scope"].codes,
        categories=query["category"],
    )
    cells, counts = columns.hexagon_counts(window, mask, query["resolution"])
    ours = dict(zip(cells.tolist(), counts.tolist(), strict=True))
    sql_cells, sql_counts = hexagon_counts(session=session, **query)
    return ours, dict(zip(sql_cells.tolist(), sql_counts.tolist(), strict=True))


def test_index_matches_sql_on_both_backends(world: Any) -> None:
    engine = make_engine(world.url)
    index = IncidentIndex(engine)
    with make_sessionmaker(engine)() as session:
        for scope in SCOPES:
            for resolution in (6, 8, 9):
                ours, sql = _both(
                    session,
                    index,
                    scope=scope,
                    start=T0 + timedelta(hours=4),  # exactly an incident time: included
                    end=T0 + timedelta(days=2, hours=1),  # exactly one: excluded
                    bbox=(119.0, 34.4, 119.35, 34.9),
                    resolution=resolution,
                    category=["theft"],
                )
                assert ours == sql
                if scope.codes is None:
                    assert sum(ours.values()) > 0
    engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    scope=st.sampled_from(SCOPES),
    start_h=st.integers(0, 100),
    length_h=st.integers(1, 120),
    lon0=st.floats(119.15, 119.35),
    lat0=st.floats(34.55, 34.72),
    size=st.floats(0.001, 0.3),
    resolution=st.integers(5, 9),
    category=st.sampled_from([None, ["theft"], ["fight", "theft"], ["nothing"]]),
)
def test_index_matches_sql_for_any_query(sqlite_world: Any, **q: Any) -> None:
    engine = make_engine(sqlite_world.url)
    index = sqlite_world.__dict__.setdefault("_index", IncidentIndex(engine))
    with make_sessionmaker(engine)() as session:
        ours, sql = _both(
            session,
            index,
            scope=q["scope"],
            start=T0 + timedelta(hours=q["start_h"]),
            end=T0 + timedelta(hours=q["start_h"] + q["length_h"]),
            bbox=(q["lon0"], q["lat0"], min(180.0, q["lon0"] + q["size"]), q["lat0"] + q["size"]),
            resolution=q["resolution"],
            category=q["category"],
        )
    assert ours == sql


def _incident(source_id: str, at: datetime, category: str, code: str) -> IncidentRow:
    """One incident at 119.3, 34.65 with its H3 cells."""
    cell = [int(cells_from_lonlat([119.3], [34.65], r)[0]) for r in (7, 8, 9)]
    return IncidentRow(
        source="test",
        source_id=source_id,
        reported_at=at,
        category=category,
        lon=119.3,
        lat=34.65,
        h3_r7=cell[0],
        h3_r8=cell[1],
        h3_r9=cell[2],
        jurisdiction_code=code,
        content_hash=source_id,
    )


def test_index_loads_new_incidents_and_declines_when_too_large(sqlite_world: Any) -> None:
    engine = make_engine(sqlite_world.url)
    index = IncidentIndex(engine)
    with make_sessionmaker(engine)() as session:
        first = index.snapshot(session)
        assert first is not None and first.size == 60
        assert index.snapshot(session) is first  # nothing new: the same arrays
        # older than all: must sort first
        session.add(_incident("late", T0 - timedelta(days=1), "robbery", "new-unit"))
        session.commit()
        second = index.snapshot(session)
        assert second is not None and second.size == 61
        assert np.all(np.diff(second.time_ns) >= 0)
        assert second.categories[second.category[0]] == "robbery"
        assert second.codes[second.jurisdiction[0]] == "new-unit"
        _window, mask = second.select(
            start=T0 - timedelta(days=2),
            end=T0,
            bbox=None,
            scope_codes=frozenset({"new-unit"}),
            categories=None,
        )
        assert int(mask.sum()) == 1
        small = IncidentIndex(engine, max_rows=10)
        assert small.snapshot(session) is None
    engine.dispose()


def test_far_windows_do_not_overflow(sqlite_world: Any) -> None:
    client = sqlite_world.login("analyst1")
    for start, end in (
        ("1800-01-01T00:00:00Z", "2263-01-01T00:00:00Z"),
        ("0001-01-02T00:00:00Z", "9999-12-30T00:00:00Z"),
    ):
        body = client.get("/api/map/hexagons", params={"start": start, "end": end}).json()
        assert body["total"] == 60


def test_snapshot_nowait_loads_large_stores_in_the_background(sqlite_world: Any) -> None:
    engine = make_engine(sqlite_world.url)
    index = IncidentIndex(engine, background_rows=10)  # the 60 incidents count as "large"
    with make_sessionmaker(engine)() as session:
        assert index.snapshot_nowait(session) is None  # started loading; answer from SQL
        with index._lock:  # the background load holds the lock until it is done
            pass
        columns = index.snapshot_nowait(session)
        assert columns is not None and columns.size == 60
        small = IncidentIndex(engine, background_rows=1000)
        loaded = small.snapshot_nowait(session)
        assert loaded is not None and loaded.size == 60  # small loads happen at once
        assert IncidentIndex(engine, max_rows=-1).snapshot_nowait(session) is None
    engine.dispose()


def test_sql_only_mode_answers_the_same_and_says_so(
    sqlite_world: Any, bureau: Any, monkeypatch: Any
) -> None:
    params = {"bbox": bureau.BBOX_ALL, **bureau.WINDOW, "resolution": 8}
    heat = {"bbox": bureau.BBOX_ALL, **bureau.WINDOW, "width": 40, "height": 30}
    client = sqlite_world.login("officer_a")
    fast = client.get("/api/map/hexagons", params=params)
    fast_heat = client.get("/api/map/heat", params=heat)
    assert fast.headers["x-haizhou-map-source"] == "index"
    monkeypatch.setenv("HAIZHOU_MAP_AGGREGATES", "sql")
    sqlite_world.app.state.__dict__.pop("incident_index")  # made again on the next request
    slow = client.get("/api/map/hexagons", params=params)
    slow_heat = client.get("/api/map/heat", params=heat)
    assert slow.headers["x-haizhou-map-source"] == "sql"
    assert slow_heat.headers["x-haizhou-map-source"] == "sql"
    assert slow.json() == fast.json() and fast.json()["total"] == 36
    assert slow_heat.json() == fast_heat.json()


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    user=st.sampled_from(["analyst1", "officer_a", "officer_b"]),
    start_h=st.integers(0, 100),
    length_h=st.integers(1, 120),
    lon0=st.floats(119.15, 119.35),
    lat0=st.floats(34.55, 34.72),
    size=st.floats(0.002, 0.3),
    width=st.integers(4, 80),
    height=st.integers(4, 80),
)
def test_heat_counts_match_a_point_by_point_count(
    sqlite_world: Any, bureau: Any, user: str, **q: Any
) -> None:
    box = (q["lon0"], q["lat0"], q["lon0"] + q["size"], q["lat0"] + q["size"])
    start = T0 + timedelta(hours=q["start_h"])
    end = start + timedelta(hours=q["length_h"])
    client = sqlite_world.__dict__.setdefault(f"_client_{user}", sqlite_world.login(user))
    body = client.get(
        "/api/map/heat",
        params={
            "bbox": ",".join(repr(v) for v in box),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "width": q["width"],
            "height": q["height"],
            "bandwidth_cells": 0,
        },
    ).json()
    scope = {
        "analyst1": None,
        "officer_a": {bureau.STATION_A, bureau.STATION_A1},
        "officer_b": {bureau.STATION_B},
    }[user]
    engine = make_engine(sqlite_world.url)
    with make_sessionmaker(engine)() as session:
        rows = session.query(
            IncidentRow.lon, IncidentRow.lat, IncidentRow.reported_at, IncidentRow.jurisdiction_code
        ).all()
    engine.dispose()
    dx, dy = (box[2] - box[0]) / q["width"], (box[3] - box[1]) / q["height"]
    want: dict[tuple[int, int], int] = {}
    for lon, lat, at, code in rows:
        inside = box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
        if inside and start <= at < end and (scope is None or code in scope):
            cell = (
                min(int((lon - box[0]) / dx), q["width"] - 1),
                min(int((lat - box[1]) / dy), q["height"] - 1),
            )
            want[cell] = want.get(cell, 0) + 1
    got = {(int(c), int(r)): int(n) for c, r, n, _ in body["cells"] if n}
    assert got == want
    assert body["total"] == sum(want.values())


def test_loading_in_small_chunks_gives_the_same_columns(
    sqlite_world: Any, monkeypatch: Any
) -> None:
    import haizhou.api.incident_index as module

    engine = make_engine(sqlite_world.url)
    with make_sessionmaker(engine)() as session:
        whole = IncidentIndex(engine).snapshot(session)
        monkeypatch.setattr(module, "LOAD_CHUNK", 7)  # 60 incidents: 9 chunks, the last short
        chunked = IncidentIndex(engine).snapshot(session)
    engine.dispose()
    assert whole is not None and chunked is not None and chunked.size == whole.size == 60
    assert chunked.last_id == whole.last_id
    for name in ("time_ns", "lon", "lat"):
        assert np.array_equal(getattr(chunked, name), getattr(whole, name))
    as_names = lambda c: [c.codes[i] if i >= 0 else None for i in c.jurisdiction]  # noqa: E731
    assert as_names(chunked) == as_names(whole)
    assert [chunked.categories[i] for i in chunked.category] == [
        whole.categories[i] for i in whole.category
    ]
    for r in (7, 8, 9):
        assert np.array_equal(chunked.cells[r], whole.cells[r])
        assert np.array_equal(chunked.cell_values[r][chunked.cell_codes[r]], chunked.cells[r])


def test_fresh_columns_come_without_the_store_only_within_max_age(sqlite_world: Any) -> None:
    engine = make_engine(sqlite_world.url)
    never = IncidentIndex(engine)  # max_age_s=0: every query asks the store
    held = IncidentIndex(engine, max_age_s=3600.0)
    assert held.fresh() is None  # nothing loaded yet
    with make_sessionmaker(engine)() as session:
        assert never.snapshot(session) is not None
        assert never.fresh() is None
        first = held.snapshot(session)
        assert first is not None and held.fresh() is first
        session.add(_incident("fresh", T0, "theft", "320706001"))
        session.commit()
        assert held.fresh() is first  # within max_age_s: the columns as last found current
        second = held.snapshot(session)  # asking the store finds the new incident
        assert second is not None and second.size == first.size + 1
        assert held.fresh() is second
        held.reset()
        assert held.fresh() is None
    engine.dispose()
