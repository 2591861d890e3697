"""The case-supervision API (三级盯案): create, scope, notes by tier, late lists, stats, close."""

from __future__ import annotations

from typing import Any

CASE = {
    "title": "入室盗窃系列案",
    "level": "red",
    "lead": "李副局长",
    "specialist_unit": "刑警大队",
    "station_code": "320706001",
    "deadline": "2026-03-20T00:00:00Z",
    "milestones": [
        {"title": "调取监控", "due_at": "2026-03-03T00:00:00Z", "tier": "specialist"},
        {"title": "走访群众", "due_at": "2026-03-10T00:00:00Z"},
    ],
}


def _supervise(client: Any, **changes: Any) -> dict:
    response = client.post("/api/supervision", json={**CASE, **changes})
    assert response.status_code == 201, response.text
    return response.json()


def test_supervise_then_scope_notes_and_close(sqlite_world: Any) -> None:
    commander = sqlite_world.login("commander1")
    case = _supervise(commander)
    assert case["status"] == "open" and case["opened_by"] == "commander1"
    assert [m["title"] for m in case["milestones"]] == ["调取监控", "走访群众"]
    cid = case["id"]

    officer_a, officer_b = sqlite_world.login("officer_a"), sqlite_world.login("officer_b")
    assert [c["id"] for c in officer_a.get("/api/supervision").json()["items"]] == [cid]
    assert officer_b.get("/api/supervision").json()["items"] == []
    assert officer_b.get(f"/api/supervision/{cid}").status_code == 404
    assert officer_b.post(f"/api/supervision/{cid}/notes", json={"text": "x"}).status_code == 404

    note = officer_a.post(f"/api/supervision/{cid}/notes", json={"text": "已走访三户"})
    assert note.status_code == 201 and note.json()["tier"] == "station"
    assert note.json()["author"] == "officer_a"
    lead = officer_a.post(f"/api/supervision/{cid}/notes", json={"text": "x", "tier": "lead"})
    assert lead.status_code == 403
    commander.post(f"/api/supervision/{cid}/notes", json={"text": "加快进度", "tier": "lead"})
    detail = officer_a.get(f"/api/supervision/{cid}").json()
    assert [(n["author"], n["tier"]) for n in detail["notes"]] == [
        ("officer_a", "station"),
        ("commander1", "lead"),
    ]
    assert officer_a.post("/api/supervision", json=CASE).status_code == 403
    assert officer_a.post(f"/api/supervision/{cid}/close", json={"note": "x"}).status_code == 403
    closed = commander.post(f"/api/supervision/{cid}/close", json={"note": "已破案"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = commander.post(f"/api/supervision/{cid}/close", json={"note": "已破案"})
    assert again.status_code == 409 and "already closed" in again.json()["detail"]


def test_late_lists_follow_the_clock_and_milestones(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    first = _supervise(analyst)
    second = _supervise(
        analyst,
        title="诈骗案",
        level="blue",
        station_code="320706002",
        deadline="2026-05-01T00:00:00Z",
        milestones=[],
    )
    assert analyst.get("/api/supervision", params={"late": True}).json()["items"] == []
    sqlite_world.clock.advance(days=2, hours=17)  # past the first milestone (3 March)
    analyst = sqlite_world.login("analyst1")  # sessions expire; sign in again
    late = analyst.get("/api/supervision", params={"late": True}).json()["items"]
    assert [(c["id"], c["late"], c["late_milestones"]) for c in late] == [(first["id"], False, 1)]
    done = analyst.post(
        f"/api/supervision/{first['id']}/milestones/{first['milestones'][0]['id']}/done"
    )
    assert done.status_code == 200 and done.json()["late"] is True  # done after its due time
    assert analyst.get("/api/supervision", params={"late": True}).json()["items"] == []
    sqlite_world.clock.advance(days=20)  # past the first case's deadline
    analyst = sqlite_world.login("analyst1")
    late = analyst.get("/api/supervision", params={"late": True}).json()["items"]
    assert [(c["id"], c["late"]) for c in late] == [(first["id"], True)]
    assert second["id"] not in {c["id"] for c in late}


def test_stats_by_level_and_unit(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    _supervise(analyst)
    _supervise(analyst, title="b", station_code="320706002", milestones=[])
    _supervise(analyst, title="c", level="blue", milestones=[])
    sqlite_world.clock.advance(days=25)
    analyst = sqlite_world.login("analyst1")
    stats = analyst.get("/api/supervision/stats").json()
    by_level = {r["level"]: r for r in stats["by_level"]}
    assert by_level["red"]["total"] == 2 and by_level["red"]["late_open"] == 2
    assert by_level["blue"]["total"] == 1 and by_level["orange"]["total"] == 0
    stations = {r["unit"]: r["total"] for r in stats["by_unit"] if r["tier"] == "station"}
    assert stations == {"320706001": 2, "320706002": 1}
    mine = sqlite_world.login("officer_b").get("/api/supervision/stats").json()
    assert sum(r["total"] for r in mine["by_level"]) == 1


def test_bad_input_is_refused(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    assert (
        analyst.post("/api/supervision", json={**CASE, "station_code": "nope"}).status_code == 422
    )
    past = analyst.post("/api/supervision", json={**CASE, "deadline": "2026-01-01T00:00:00Z"})
    assert past.status_code == 422
    partial = analyst.post("/api/supervision", json={**CASE, "case_source": "x"})
    assert partial.status_code == 422
    unknown_case = analyst.post(
        "/api/supervision", json={**CASE, "case_source": "x", "case_source_id": "y"}
    )
    assert unknown_case.status_code == 409 and "does not exist" in unknown_case.json()["detail"]
    assert analyst.get("/api/supervision/999").status_code == 404
    assert sqlite_world.login("auditor1").get("/api/supervision").status_code == 403


def test_pages(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    made = {_supervise(analyst, title=f"t{k}", milestones=[])["id"] for k in range(5)}
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = analyst.get("/api/supervision", params=params).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
