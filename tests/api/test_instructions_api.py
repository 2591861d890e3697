"""The instructions API (指令): lifecycle over HTTP, scope, roles, 409s, pages, map layer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from haizhou.api.app import create_app
from haizhou.api.deps import utc_now
from haizhou.settings import Settings
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import AuditRow

IN_A = {"lon": 119.18, "lat": 34.58}  # inside station A only (not its sub-unit A1)
IN_B = {"lon": 119.31, "lat": 34.66}


def _create(client: TestClient, title: str = "巡查 check the square", **place: Any) -> dict:
    body = {"title": title, "level": "orange", **(place or IN_A)}
    response = client.post("/api/instructions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_full_lifecycle_with_history_scope_and_illegal_transitions(
    sqlite_world: Any, bureau: Any
) -> None:
    analyst = sqlite_world.login("analyst1")
    officer_a = sqlite_world.login("officer_a")
    officer_b = sqlite_world.login("officer_b")
    created = _create(analyst)
    assert created["jurisdiction_code"] == bureau.STATION_A
    assert created["status"] == "issued" and created["outcome"] == "issued"
    assert created["lon"] == pytest.approx(119.18) and created["deadline"] is not None
    iid = created["id"]

    # Scope: B neither sees nor touches A's instruction; the bureau and A do.
    assert [i["id"] for i in officer_a.get("/api/instructions").json()["items"]] == [iid]
    assert officer_b.get("/api/instructions").json()["items"] == []
    assert officer_b.get(f"/api/instructions/{iid}").status_code == 404
    assert officer_b.post(f"/api/instructions/{iid}/sign", json={}).status_code == 404
    assert sqlite_world.login("officer_a1").get(f"/api/instructions/{iid}").status_code == 404

    # Illegal transitions answer 409 with the state machine's message.
    early = officer_a.post(
        f"/api/instructions/{iid}/feedback", json={"verified": True, "text": "x"}
    )
    assert early.status_code == 409 and "allowed from issued: sign" in early.json()["detail"]

    sqlite_world.clock.advance(minutes=30)
    signed = officer_a.post(f"/api/instructions/{iid}/sign", json={"assignee": "王警官"})
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "signed" and signed.json()["assignee"] == "王警官"
    again = officer_a.post(f"/api/instructions/{iid}/sign", json={})
    assert again.status_code == 409 and "cannot sign" in again.json()["detail"]

    assert (
        officer_a.post(f"/api/instructions/{iid}/start", json={}).json()["status"] == "in_progress"
    )
    fed = officer_a.post(
        f"/api/instructions/{iid}/feedback", json={"verified": True, "text": "属实, 已处置"}
    )
    assert fed.status_code == 200 and fed.json()["status"] == "fed_back"

    # A station officer may not review; a return needs a note; the analyst returns, then closes.
    assert (
        officer_a.post(f"/api/instructions/{iid}/review", json={"accept": True}).status_code == 403
    )
    assert (
        analyst.post(f"/api/instructions/{iid}/review", json={"accept": False}).status_code == 422
    )
    returned = analyst.post(
        f"/api/instructions/{iid}/review", json={"accept": False, "note": "补充照片"}
    )
    assert returned.json()["status"] == "returned"
    officer_a.post(f"/api/instructions/{iid}/feedback", json={"verified": True, "text": "已补充"})
    closed = analyst.post(f"/api/instructions/{iid}/review", json={"accept": True, "note": "ok"})
    assert closed.json()["status"] == "closed" and closed.json()["deadline"] is None
    final = officer_a.post(f"/api/instructions/{iid}/start", json={})
    assert final.status_code == 409 and "final" in final.json()["detail"]

    detail = officer_a.get(f"/api/instructions/{iid}").json()
    steps = [(h["action"], h["by"], h["to_status"]) for h in detail["history"]]
    assert steps == [
        ("issue", "analyst1", "issued"),
        ("sign", "officer_a", "signed"),
        ("start", "officer_a", "in_progress"),
        ("feed_back", "officer_a", "fed_back"),
        ("return", "analyst1", "returned"),
        ("feed_back", "officer_a", "fed_back"),
        ("accept", "analyst1", "closed"),
    ]
    assert all(h["at"] for h in detail["history"])
    assert detail["feedback"] == {
        "verified": True,
        "text": "已补充",
        "attachments": [],
        "fed_back_at": detail["feedback"]["fed_back_at"],
    }
    assert detail["returned_count"] == 1


def test_roles_auditor_and_airspace_see_nothing_officers_cannot_create(sqlite_world: Any) -> None:
    iid = _create(sqlite_world.login("analyst1"))["id"]
    for user in ("auditor1", "airspace1"):
        client = sqlite_world.login(user)
        assert client.get("/api/instructions").status_code == 403
        assert client.get(f"/api/instructions/{iid}").status_code == 403
    officer = sqlite_world.login("officer_a")
    response = officer.post("/api/instructions", json={"title": "x", "level": "red", **IN_A})
    assert response.status_code == 403
    # An analyst may review but not sign (the station signs).
    assert sqlite_world.login("analyst1").post(f"/api/instructions/{iid}/sign").status_code == 403


def test_overdue_and_escalated_flags_follow_the_clock(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    iid = _create(analyst)["id"]  # orange: 2 h to sign
    officer = sqlite_world.login("officer_a")
    assert officer.get("/api/instructions", params={"overdue": True}).json()["items"] == []
    sqlite_world.clock.advance(hours=2, seconds=1)
    items = officer.get("/api/instructions", params={"overdue": True}).json()["items"]
    assert [(i["id"], i["overdue"], i["overdue_step"]) for i in items] == [(iid, True, "sign")]
    assert items[0]["escalated"] is False


def test_from_finding_by_policy_then_deduplicated(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    first = analyst.post("/api/instructions", json={"finding_id": 1})
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "issued" and first.json()["finding_id"] == 1
    again = analyst.post("/api/instructions", json={"finding_id": 1})
    assert again.json()["outcome"] == "unchanged" and again.json()["id"] == first.json()["id"]
    assert analyst.post("/api/instructions", json={"finding_id": 999}).status_code == 404
    assert (
        analyst.post("/api/instructions", json={"title": "no place", "level": "red"}).status_code
        == 422
    )


def test_keyset_pages_return_every_instruction_once(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    made = {_create(analyst, title=f"t{k}")["id"] for k in range(5)}
    made.add(
        analyst.post("/api/instructions", json={"title": "red", "level": "red", **IN_B}).json()[
            "id"
        ]
    )
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = analyst.get("/api/instructions", params=params).json()
        seen += [i["id"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(made) and pages == 3
    first = analyst.get("/api/instructions", params={"limit": 1}).json()["items"][0]
    assert first["level"] == "red"  # most urgent first
    assert analyst.get("/api/instructions", params={"cursor": "nonsense"}).status_code == 422


def test_mine_and_status_filters(sqlite_world: Any, bureau: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    a = _create(analyst)["id"]
    _create(analyst, **IN_B)
    officer = sqlite_world.login("officer_a")
    officer.post(f"/api/instructions/{a}/sign", json={})
    assert [
        i["id"] for i in officer.get("/api/instructions", params={"mine": True}).json()["items"]
    ] == [a]
    assert analyst.get("/api/instructions", params={"mine": True}).json()["items"] == []
    signed = analyst.get("/api/instructions", params={"status": "signed"}).json()["items"]
    assert [i["id"] for i in signed] == [a]


def test_map_layer_is_scoped_geojson(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    a = _create(analyst)["id"]
    b = _create(analyst, **IN_B)["id"]
    window = {"start": "2026-02-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}
    everything = analyst.get("/api/map/instructions", params=window).json()
    assert everything["type"] == "FeatureCollection"
    assert {f["properties"]["id"] for f in everything["features"]} == {a, b}
    feature = next(f for f in everything["features"] if f["id"] == a)
    assert feature["geometry"] == {"type": "Point", "coordinates": [119.18, 34.58]}
    assert set(feature["properties"]) >= {"id", "title", "level", "status", "overdue"}
    officer_b = sqlite_world.login("officer_b").get("/api/map/instructions", params=window).json()
    assert [f["id"] for f in officer_b["features"]] == [b]
    before = analyst.get(
        "/api/map/instructions",
        params={"start": "2025-01-01T00:00:00Z", "end": "2025-02-01T00:00:00Z"},
    ).json()
    assert before["features"] == []


def test_personal_evidence_read_is_audited(sqlite_world: Any) -> None:
    engine = make_engine(sqlite_world.url)
    factory = make_sessionmaker(engine)
    from haizhou.store.tables import FindingRow

    with factory() as session:
        finding = session.get(FindingRow, 1)
        finding.evidence = {**(finding.evidence or {}), "person_pseudonyms": ["ab12cd"]}
        session.commit()
    analyst = sqlite_world.login("analyst1")
    created = analyst.post("/api/instructions", json={"finding_id": 1}).json()
    assert created["outcome"] == "pending"  # names people: a human approves first
    assert analyst.get("/api/instructions").json()["items"] == []
    pending = analyst.get("/api/instructions", params={"pending": True}).json()["items"]
    assert [i["approval"] for i in pending] == ["pending"]
    analyst.get(f"/api/instructions/{created['id']}")
    with factory() as session:
        actions = [(r.actor, r.action, r.target) for r in session.query(AuditRow).all()]
    engine.dispose()
    assert ("analyst1", "instruction.read", str(created["id"])) in actions
    approved = analyst.post(f"/api/instructions/{created['id']}/approve")
    assert approved.status_code == 200 and approved.json()["approval"] == "approved"
    assert analyst.post(f"/api/instructions/{created['id']}/approve").status_code == 409


def test_policy_from_settings_decides(sqlite_world: Any, tmp_path: Any) -> None:
    settings = Settings(
        data_dir=tmp_path / "other",
        database_url=sqlite_world.url,
        instruction_policy={"rules": {"hotspot": {"orange": "approval"}}},
    )
    app = create_app(settings, static_dir=tmp_path / "none")
    app.dependency_overrides[utc_now] = lambda: sqlite_world.clock.now
    cookie_client = sqlite_world.login("analyst1")
    with TestClient(app, base_url="http://testserver") as client:
        client.cookies.update(cookie_client.cookies)
        client.headers["X-CSRF-Token"] = cookie_client.headers["X-CSRF-Token"]
        orange = client.post("/api/instructions", json={"finding_id": 2})
        red = client.post("/api/instructions", json={"finding_id": 1})
    assert orange.json()["outcome"] == "pending"  # the configured rule
    assert red.json()["outcome"] == "issued"  # the default kept for red


def test_every_state_and_action_answers_as_the_transition_table_says(sqlite_world: Any) -> None:
    from haizhou.domain import InstructionStatus
    from haizhou.tasks.lifecycle import TRANSITIONS, Action

    analyst, officer = sqlite_world.login("analyst1"), sqlite_world.login("officer_a")
    calls = {
        Action.SIGN: (officer, "sign", {}),
        Action.START: (officer, "start", {}),
        Action.FEED_BACK: (officer, "feedback", {"verified": True, "text": "ok"}),
        Action.ACCEPT: (analyst, "review", {"accept": True}),
        Action.RETURN: (analyst, "review", {"accept": False, "note": "more"}),
    }
    paths = {
        "issued": [],
        "signed": [Action.SIGN],
        "in_progress": [Action.SIGN, Action.START],
        "fed_back": [Action.SIGN, Action.FEED_BACK],
        "returned": [Action.SIGN, Action.FEED_BACK, Action.RETURN],
        "closed": [Action.SIGN, Action.FEED_BACK, Action.ACCEPT],
    }

    def act(iid: int, action: Action) -> Any:
        client, verb, body = calls[action]
        return client.post(f"/api/instructions/{iid}/{verb}", json=body)

    checked = 0
    for state, path in paths.items():
        for action in Action:
            iid = _create(analyst)["id"]
            for step in path:
                assert act(iid, step).status_code == 200
            response = act(iid, action)
            target = TRANSITIONS.get((InstructionStatus(state), action))
            if target is None:
                assert response.status_code == 409, (state, action, response.text)
                assert f"that is {state}" in response.json()["detail"]
                after = analyst.get(f"/api/instructions/{iid}").json()["status"]
                assert after == state  # nothing moved
            else:
                assert response.status_code == 200, (state, action, response.text)
                assert response.json()["status"] == target.value
            checked += 1
    assert checked == 30


def test_escalations_reach_the_supervising_unit_as_notifications(sqlite_world: Any) -> None:
    from haizhou.tasks import service

    analyst = sqlite_world.login("analyst1")
    in_a1 = _create(analyst, lon=119.211, lat=34.611)
    assert in_a1["jurisdiction_code"] == "320706001-1"
    sqlite_world.clock.advance(hours=3)  # orange: 2 h to sign
    engine = make_engine(sqlite_world.url)
    with make_sessionmaker(engine)() as session:
        sent = service.escalate_overdue(session=session, now=sqlite_world.clock.now)
        session.commit()
    engine.dispose()
    assert [n.recipient_unit for n in sent] == ["320706001"]  # A1's parent, station A
    seen = {
        user: [
            n["instruction_id"]
            for n in sqlite_world.login(user).get("/api/notifications").json()["items"]
        ]
        for user in ("officer_a", "officer_a1", "officer_b", "admin1")
    }
    assert seen == {
        "officer_a": [in_a1["id"]],
        "officer_a1": [],
        "officer_b": [],
        "admin1": [in_a1["id"]],
    }
    listed = sqlite_world.login("officer_a").get("/api/instructions").json()["items"]
    assert [(i["id"], i["escalated"]) for i in listed] == [(in_a1["id"], True)]
    assert sqlite_world.login("auditor1").get("/api/notifications").status_code == 403


def test_an_assisting_unit_reads_but_does_not_act(sqlite_world: Any) -> None:
    from datetime import UTC, datetime

    from haizhou.tasks import service

    across = {  # mostly in B, partly in A, crossing the bureau's strip between them
        "type": "Polygon",
        "coordinates": [
            [
                [119.22, 34.615],
                [119.32, 34.615],
                [119.32, 34.635],
                [119.22, 34.635],
                [119.22, 34.615],
            ]
        ],
    }
    engine = make_engine(sqlite_world.url)
    with make_sessionmaker(engine)() as session:
        record = service.create_manual(
            session=session,
            title="跨辖区巡逻",
            level="orange",
            now=datetime(2026, 3, 1, 8, tzinfo=UTC),
            actor="analyst1",
            actor_role="analyst",
            geometry=across,
        )
        session.commit()
    engine.dispose()
    assert (record.jurisdiction_code, record.assisting_codes) == ("320706002", ("320706001",))
    officer_a = sqlite_world.login("officer_a")
    assert officer_a.get(f"/api/instructions/{record.id}").json()["assisting_codes"] == [
        "320706001"
    ]
    refused = officer_a.post(f"/api/instructions/{record.id}/sign")
    assert refused.status_code == 403 and "assists" in refused.json()["detail"]
    assert (
        sqlite_world.login("officer_b").post(f"/api/instructions/{record.id}/sign").status_code
        == 200
    )
