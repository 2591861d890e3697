"""The series API (系列案): list, detail, map layer; roles, scope, audit of suspects' pseudonyms.

The real model ``linkage.series`` runs on cases planted in the test bureau (conftest): serial
burglar X in station A (half of the cases solved with suspect ``ps-X``), Y in station B, six
solved training series and random background cases.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select

from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.models.context import RunContext, Window
from haizhou.models.registry import discover
from haizhou.models.runner import run_model
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import AuditRow, CaseRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 1, tzinfo=SHANGHAI)
STATION_A, STATION_B = "320706001", "320706002"
# inside A and outside its sub-unit A1; inside B
CENTRES = {STATION_A: (119.185, 34.585), STATION_B: (119.30, 34.65)}
SIGNATURES = {
    "X": ("技术开锁", "住宅", "液压钳", "凌晨", STATION_A, 2.0),
    "Y": ("破窗", "商铺", "撬棍", "夜间", STATION_B, 22.0),
    "T0": ("攀爬", "住宅", "钢丝", "凌晨", STATION_A, 3.0),
    "T1": ("钻窗", "仓库", "电钻", "下午", STATION_B, 15.0),
    "T2": ("翻墙", "办公室", "撬棍", "上午", STATION_A, 10.0),
    "T3": ("挖洞", "商铺", "铁锹", "凌晨", STATION_B, 1.0),
    "T4": ("冒充", "住宅", "工作证", "下午", STATION_A, 14.0),
    "T5": ("溜门", "办公室", "钢丝", "夜间", STATION_B, 21.0),
}
COMMON = (["撬锁", "插片", "溜门"], ["住宅", "商铺"], ["螺丝刀", "无"], ["上午", "下午", "夜间"])


def _case(
    k: str, lon: float, lat: float, at: datetime, code: str, mo: Any, suspects: list
) -> CaseRow:  # type: ignore[type-arg]
    return CaseRow(
        source="test",
        source_id=k,
        category="入室盗窃",
        occurred_from=at,
        occurred_to=at + timedelta(hours=1),
        lon=lon,
        lat=lat,
        h3_r7=int(cells_from_lonlat(lon, lat, 7)),
        h3_r8=int(cells_from_lonlat(lon, lat, 8)),
        h3_r9=int(cells_from_lonlat(lon, lat, 9)),
        jurisdiction_code=code,
        mo_entry_method=mo[0],
        mo_target=mo[1],
        mo_tools=mo[2],
        mo_time_of_day=mo[3],
        status="solved" if suspects else "filed",
        suspect_pseudonyms=suspects,
        content_hash="h",
    )


def _plant_and_run(url: str) -> dict[str, list[str]]:
    rng = np.random.default_rng(11)
    truth: dict[str, list[str]] = {}
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        for n, (name, (entry, target, tools, tod, code, hour)) in enumerate(SIGNATURES.items()):
            lon0, lat0 = CENTRES[code]
            planted = name in ("X", "Y")
            start = NOW - timedelta(days=60 if planted else 400 - 30 * n)
            truth[name] = []
            for i in range(8):
                k = f"{name}{i}"
                solved = (i % 2 == 0) if planted else True
                session.add(
                    _case(
                        k,
                        lon0 + rng.normal(0, 0.002),
                        lat0 + rng.normal(0, 0.002),
                        start + timedelta(days=5 * i, hours=hour),
                        code,
                        (entry, target, tools, tod),
                        [f"ps-{name}"] if solved else [],
                    )
                )
                truth[name].append(k)
        for i in range(100):
            code = (STATION_A, STATION_B)[i % 2]
            lon0, lat0 = CENTRES[code]
            at = NOW - timedelta(days=float(rng.uniform(1, 420)))
            mo = tuple(str(rng.choice(v)) for v in COMMON)
            session.add(
                _case(
                    f"N{i}",
                    lon0 + rng.uniform(-0.01, 0.01),
                    lat0 + rng.uniform(-0.01, 0.01),
                    at,
                    code,
                    mo,
                    [f"ps-n{i}"] if rng.random() < 0.3 else [],
                )
            )
        session.commit()
        model = discover(entry_points=False, packaged_rules=False).get("linkage.series")
        record = run_model(
            model,
            params={"learner": "logistic", "max_distance_m": 3000, "max_gap_days": 60},
            context=RunContext(
                session=session,
                scope=None,
                now=NOW,
                window=Window(NOW - timedelta(days=1), NOW),
                zone=SHANGHAI,
                log=logging.getLogger("test.series"),
            ),
        )
        session.commit()
    engine.dispose()
    assert record.ok, record.error
    return truth


def _find(items: list[dict], ids: list[str], client: Any) -> dict:  # type: ignore[type-arg]
    for item in items:
        detail = client.get(f"/api/series/{item['id']}").json()
        if {c["case_id"] for c in detail["cases"]} & set(ids):
            return detail
    raise AssertionError(f"no series holds any of {ids}")


def _audits(url: str) -> list[AuditRow]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = list(session.scalars(select(AuditRow).where(AuditRow.action == "series.read")).all())
    engine.dispose()
    return rows


def test_series_list_detail_map_scope_and_audit(sqlite_world: Any) -> None:
    truth = _plant_and_run(sqlite_world.url)
    analyst = sqlite_world.login("analyst1")
    page = analyst.get("/api/series").json()
    items = page["items"]
    assert len(items) >= 2 and page["next_cursor"] is None
    assert [i["rank"] for i in items] == sorted(i["rank"] for i in items)

    # X's series: cases in time order, evidence naming the planted method, the suspect lead
    x = _find(items, truth["X"], analyst)
    assert x["jurisdiction_code"] == STATION_A and x["jurisdiction_codes"] == [STATION_A]
    assert len({c["case_id"] for c in x["cases"]} & set(truth["X"])) >= 6
    starts = [c["occurred_from"] for c in x["cases"]]
    assert starts == sorted(starts) and [c["order"] for c in x["cases"]] == list(
        range(1, len(starts) + 1)
    )
    assert any("技术开锁" in r for p in x["pairs"] for r in p["reasons_zh"])
    assert x["leads"] and not x["suspects_hidden"]
    suspects = {s for lead in x["leads"] for c in lead["linked"] for s in (c["suspects"] or [])}
    assert suspects == {"ps-X"}
    # every read that shows suspects is audited, with the reader and the series
    before = len(_audits(sqlite_world.url))
    assert analyst.get(f"/api/series/{x['id']}").status_code == 200
    audited = _audits(sqlite_world.url)
    assert len(audited) == before + 1 and before >= 1
    assert (audited[-1].actor, audited[-1].target) == ("analyst1", str(x["id"]))

    # A station officer sees the series of A but not the suspects; nothing is audited for it
    officer_a = sqlite_world.login("officer_a")
    ids_a = {i["id"] for i in officer_a.get("/api/series").json()["items"]}
    assert x["id"] in ids_a
    seen = officer_a.get(f"/api/series/{x['id']}").json()
    assert seen["suspects_hidden"] is True
    assert all(c["suspects"] is None for lead in seen["leads"] for c in lead["linked"])
    assert len(_audits(sqlite_world.url)) == before + 1

    # Station B and sub-unit A1 do not see it (404 like a missing one); B sees Y's
    officer_b = sqlite_world.login("officer_b")
    assert officer_b.get(f"/api/series/{x['id']}").status_code == 404
    b_items = officer_b.get("/api/series").json()["items"]
    assert b_items and all(STATION_B in i["jurisdiction_codes"] for i in b_items)
    assert x["id"] not in {i["id"] for i in b_items}
    assert sqlite_world.login("officer_a1").get("/api/series").json()["items"] == []
    # a finding that is not a series is not one
    assert analyst.get("/api/series/1").status_code == 404
    # roles without series.read
    assert sqlite_world.login("auditor1").get("/api/series").status_code == 403
    assert sqlite_world.login("airspace1").get("/api/map/series").status_code == 403

    # map: a line through the cases in time order, and a point per case
    window = {"start": "2025-12-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"}
    layer = analyst.get("/api/map/series", params=window).json()
    lines = [f for f in layer["features"] if f["properties"]["series_id"] == x["id"]]
    line = next(f for f in lines if f["properties"]["kind"] == "series")
    assert line["geometry"]["type"] == "LineString"
    assert line["geometry"]["coordinates"] == [[c["lon"], c["lat"]] for c in x["cases"]]
    points = [f for f in lines if f["properties"]["kind"] == "case"]
    assert [p["properties"]["case_id"] for p in points] == [c["case_id"] for c in x["cases"]]
    assert all("suspects" not in p["properties"] for p in points)
    b_layer = officer_b.get("/api/map/series", params=window).json()
    assert x["id"] not in {f["properties"]["series_id"] for f in b_layer["features"]}
    # a window before every series shows none
    old = {"start": "2020-01-01T00:00:00Z", "end": "2020-02-01T00:00:00Z"}
    assert analyst.get("/api/map/series", params=old).json()["features"] == []


def test_series_pages_with_cursor(sqlite_world: Any) -> None:
    _plant_and_run(sqlite_world.url)
    analyst = sqlite_world.login("analyst1")
    everything = [i["id"] for i in analyst.get("/api/series").json()["items"]]
    assert len(everything) >= 2
    got, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = analyst.get("/api/series", params=params).json()
        got += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert got == everything
    bad = analyst.get("/api/series", params={"cursor": "x"})
    assert bad.status_code == 422


@pytest.mark.parametrize("path", ["/api/series", "/api/map/series"])
def test_empty_before_any_run(sqlite_world: Any, path: str) -> None:
    body = sqlite_world.login("commander1").get(path).json()
    assert body.get("items", body.get("features")) == []
