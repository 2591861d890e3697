"""The live airspace API: messages, the picture, countermeasure policy, the WebSocket."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from haizhou.feeds.area import add_permit, load_area, save_scenario_area
from haizhou.feeds.synthetic import remote_id_pack
from haizhou.security.pseudonym import Pseudonymiser
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import AuditRow
from haizhou.store.tables.airspace import (
    AirspaceAlertRow,
    AirspaceIncidentRow,
    AirspaceMessageRow,
    AirspaceTimelineRow,
    AirspaceTrackRow,
    AirspaceZoneRow,
)

STADIUM = (119.2280, 34.5800)


def _factory(world: Any):
    return make_sessionmaker(make_engine(world.url))


def _track(session: Any, world: Any, x_m: float, y_m: float, *, label: str = "drone") -> int:
    area = load_area(session)
    lon, lat = area.projection.inverse(x_m, y_m)
    row = AirspaceTrackRow(
        run_id="test",
        track_id=int(abs(x_m) + abs(y_m)) + 1,
        first_seen=world.clock.now - timedelta(seconds=20),
        last_seen=world.clock.now,
        active=True,
        label=label,
        confidence=0.9,
        authorisation="unauthorised",
        threat_score=0.0,
        level="blue",
        distance_m=0.0,
        lon=float(lon),
        lat=float(lat),
        alt_m=80.0,
        speed_mps=5.0,
        heading_deg=0.0,
        state=[x_m, y_m, 80.0, 0.0, -5.0, 0.0],
        sensors={"remote_id": 12, "radar": 10},
        reasons=[],
        zones=[],
        permit_id=None,
        serial_pseudonym="p" + "0" * 32,
        serial_masked="15***01",
        pilot_lon=119.21,
        pilot_lat=34.57,
        updated_at=world.clock.now,
    )
    session.add(row)
    session.flush()
    return row.id


@pytest.fixture
def picture(sqlite_world: Any) -> dict[str, int]:
    """The stadium register with a permanent no-fly zone, and two intruding drone tracks."""
    with _factory(sqlite_world)() as session:
        save_scenario_area(session, "stadium_match_day")
        lon, lat = STADIUM
        d = 0.004
        session.add(
            AirspaceZoneRow(
                name="体育中心禁飞区",
                kind="no_fly",
                polygon=[
                    [lon - d, lat - d],
                    [lon + d, lat - d],
                    [lon + d, lat + d],
                    [lon - d, lat + d],
                ],
                floor_m=0,
                ceiling_m=500,
                active=[],
            )
        )
        add_permit(
            session,
            pseudonymiser=Pseudonymiser(b"a" * 32),
            permit_id="P-9",
            serial="1581F5FJD23A00009",
            operator="电视台航拍组",
            polygon=[(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d)],
            valid_from=sqlite_world.clock.now - timedelta(days=1),
            valid_to=sqlite_world.clock.now + timedelta(days=1),
        )
        session.flush()
        ids = {
            "stadium": _track(session, sqlite_world, 100.0, 100.0),  # violation, red
            "approach": _track(session, sqlite_world, -4500.0, -3500.0),  # airport approach
        }
        session.commit()
    return ids


def test_reads_and_audit(sqlite_world: Any, picture: dict[str, int]) -> None:
    op = sqlite_world.login("airspace1")
    zones = op.get("/api/airspace/zones").json()
    kinds = {f["properties"]["kind"] for f in zones["features"]}
    assert {"no_fly", "event", "airport_approach", "hospital"} <= kinds
    ring = zones["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    tracks = op.get("/api/airspace/tracks", params={"limit": 1})
    assert tracks.status_code == 200
    page = tracks.json()
    assert len(page["items"]) == 1 and page["next_cursor"] is not None
    rest = op.get("/api/airspace/tracks", params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert {page["items"][0]["id"], rest["items"][0]["id"]} == set(picture.values())
    assert rest["next_cursor"] is None
    permits = op.get("/api/airspace/permits").json()
    assert permits[0]["serial_masked"] != "1581F5FJD23A00009"
    assert "serial_pseudonym" not in permits[0]
    with _factory(sqlite_world)() as session:
        actions = [a for a in session.scalars(select(AuditRow.action)) if a.startswith("airspace.")]
    assert actions.count("airspace.tracks.read") == 2 and "airspace.permits.read" in actions
    assert sqlite_world.login("officer_a").get("/api/airspace/tracks").status_code == 403


def test_http_message_is_kept_for_the_runner(sqlite_world: Any, picture: dict[str, int]) -> None:
    op = sqlite_world.login("airspace1")
    raw = remote_id_pack("1581F5FJD23A00001", 119.23, 34.58, 80.0)
    ok = op.post(
        "/api/airspace/messages",
        json={"sensor_id": "rid-1", "kind": "remoteid", "payload_hex": raw.hex()},
    )
    assert ok.status_code == 202, ok.text
    radar = op.post(
        "/api/airspace/messages",
        json={
            "sensor_id": "radar-1",
            "kind": "radar",
            "payload": {"range_m": 900, "azimuth_deg": 10, "elevation_deg": 3},
        },
    )
    assert radar.status_code == 202
    assert (
        op.post(
            "/api/airspace/messages",
            json={"sensor_id": "x", "kind": "remoteid", "payload_hex": "zz"},
        ).status_code
        == 422
    )
    assert (
        op.post("/api/airspace/messages", json={"sensor_id": "x", "kind": "radar"}).status_code
        == 422
    )
    with _factory(sqlite_world)() as session:
        rows = session.scalars(select(AirspaceMessageRow).order_by(AirspaceMessageRow.id)).all()
    assert [(r.transport, r.processed_at) for r in rows] == [("http", None), ("http", None)]
    assert rows[0].payload == raw and rows[0].id == ok.json()["id"]
    assert (
        sqlite_world.login("commander1")
        .post(
            "/api/airspace/messages", json={"sensor_id": "x", "kind": "adsb", "payload_hex": "00"}
        )
        .status_code
        == 403
    )


def test_red_threat_needs_a_second_person(sqlite_world: Any, picture: dict[str, int]) -> None:
    op = sqlite_world.login("airspace1")
    asked = op.post(
        "/api/airspace/countermeasures", json={"track_id": picture["stadium"], "effector": "jammer"}
    )
    assert asked.status_code == 201, asked.text
    record = asked.json()
    assert record["status"] == "pending_confirmation"
    assert record["threat_level"] == "red"
    assert [r["code"] for r in record["refusals"]] == ["second_confirmation"]
    assert record["outcome"] is None
    pending = op.get("/api/airspace/countermeasures", params={"status": "pending_confirmation"})
    assert [i["id"] for i in pending.json()["items"]] == [record["id"]]
    # the requester cannot confirm their own request
    same = op.post(f"/api/airspace/countermeasures/{record['id']}/confirm")
    assert same.status_code == 409 and "another person" in same.json()["detail"]
    done = sqlite_world.login("commander1").post(
        f"/api/airspace/countermeasures/{record['id']}/confirm"
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] in ("executed", "failed")
    assert body["confirmed_by"] == "commander1" and body["refusals"] == []
    assert body["outcome"]["effect"]
    again = sqlite_world.login("commander1").post(
        f"/api/airspace/countermeasures/{record['id']}/confirm"
    )
    assert again.status_code == 409
    with _factory(sqlite_world)() as session:
        stages = set(session.scalars(select(AirspaceTimelineRow.stage)))
        actions = set(session.scalars(select(AuditRow.action)))
    assert "decided" in stages
    assert {"airspace.countermeasure.request", "airspace.countermeasure.confirm"} <= actions


def test_no_jamming_inside_the_airport_approach(sqlite_world: Any, picture: dict[str, int]) -> None:
    op = sqlite_world.login("airspace1")
    jam = op.post(
        "/api/airspace/countermeasures",
        json={"track_id": picture["approach"], "effector": "jammer"},
    ).json()
    assert jam["status"] == "refused"
    assert "airport_approach" in [r["code"] for r in jam["refusals"]]
    assert jam["outcome"] is None
    net = op.post(
        "/api/airspace/countermeasures", json={"track_id": picture["approach"], "effector": "net"}
    ).json()
    assert "airport_approach" not in [r["code"] for r in net["refusals"]]
    assert net["status"] in ("executed", "failed")


def test_countermeasure_refusals_by_role_and_state(
    sqlite_world: Any, picture: dict[str, int]
) -> None:
    admin = sqlite_world.login("admin1")
    assert (
        admin.post(
            "/api/airspace/countermeasures",
            json={"track_id": picture["stadium"], "effector": "net"},
        ).status_code
        == 403
    )
    op = sqlite_world.login("airspace1")
    assert (
        op.post(
            "/api/airspace/countermeasures", json={"track_id": 9999, "effector": "net"}
        ).status_code
        == 404
    )
    unknown = op.post(
        "/api/airspace/countermeasures", json={"track_id": picture["stadium"], "effector": "laser"}
    ).json()
    assert unknown["status"] == "refused"
    assert "unknown_effector" in [r["code"] for r in unknown["refusals"]]
    sqlite_world.clock.advance(minutes=5)  # the track is no longer in the current picture
    stale = op.post(
        "/api/airspace/countermeasures", json={"track_id": picture["stadium"], "effector": "net"}
    ).json()
    assert [r["code"] for r in stale["refusals"]] == ["unknown_track"]


def test_live_socket_pushes_snapshot_and_new_alerts(
    sqlite_world: Any, picture: dict[str, int]
) -> None:
    client = sqlite_world.login("airspace1")
    with client.websocket_connect("/api/airspace/live") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot"
        assert {t["id"] for t in first["tracks"]} == set(picture.values())
        assert first["alerts"] == []
        with _factory(sqlite_world)() as session:
            session.add(
                AirspaceAlertRow(
                    track_row_id=picture["stadium"],
                    raised_at=sqlite_world.clock.now,
                    kind="violation",
                    level="red",
                    title="违规飞行 violation",
                    reasons=["inside 体育中心禁飞区"],
                    lon=119.229,
                    lat=34.581,
                )
            )
            track = session.get(AirspaceTrackRow, picture["approach"])
            track.active = False
            track.updated_at = sqlite_world.clock.now + timedelta(seconds=1)
            session.commit()
        got: dict[str, Any] = {}
        deadline = time.monotonic() + 30
        while set(got) != {"alerts", "tracks"} and time.monotonic() < deadline:
            message = ws.receive_json()
            got[message["type"]] = message
        assert [a["title"] for a in got["alerts"]["alerts"]] == ["违规飞行 violation"]
        assert [(t["id"], t["active"]) for t in got["tracks"]["tracks"]] == [
            (picture["approach"], False)
        ]


@pytest.mark.parametrize(("user", "code"), [(None, 4401), ("officer_a", 4403)])
def test_live_socket_refuses(sqlite_world: Any, user: str | None, code: int) -> None:
    client = sqlite_world.login(user) if user else sqlite_world.client()
    with (
        pytest.raises(WebSocketDisconnect) as info,
        client.websocket_connect("/api/airspace/live") as ws,
    ):
        ws.receive_json()
    assert info.value.code == code


def test_live_socket_refuses_a_foreign_origin(sqlite_world: Any) -> None:
    client = sqlite_world.login("airspace1")
    with (
        pytest.raises(WebSocketDisconnect) as info,
        client.websocket_connect(
            "/api/airspace/live", headers={"origin": "https://evil.example"}
        ) as ws,
    ):
        ws.receive_json()
    assert info.value.code == 4403


@pytest.mark.slow
def test_airspace_operations_never_answer_a_server_error(
    sqlite_world: Any, picture: dict[str, int]
) -> None:
    """schemathesis over the airspace operations as an operator (the fuzz test signs in as an
    admin, who may not counter): invalid and valid inputs, no 5xx."""
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", sqlite_world.app)
    client = sqlite_world.login("airspace1")
    cookies = {"haizhou_session": client.cookies["haizhou_session"]}
    headers = {"X-CSRF-Token": client.headers["X-CSRF-Token"]}
    statuses: set[int] = set()
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if "/api/airspace/" not in operation.label:
            continue
        labels.append(operation.label)
        _fuzz(operation, cookies, headers, statuses)
    assert len(labels) == 9
    assert {201, 422} <= statuses


def _fuzz(operation: Any, cookies: dict, headers: dict, statuses: set[int]) -> None:
    from hypothesis import HealthCheck, given, settings

    @given(case=operation.as_strategy())
    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        response = case.call(cookies=cookies, headers=headers)
        statuses.add(response.status_code)
        assert response.status_code < 500, (operation.label, case.body, response.text)

    call()


def test_incident_timeline_and_report(sqlite_world: Any, picture: dict[str, int]) -> None:
    opened = sqlite_world.clock.now
    with _factory(sqlite_world)() as session:
        incident = AirspaceIncidentRow(
            track_row_id=picture["stadium"],
            opened_at=opened,
            serial_masked="1581****0009",
            pilot_lon=119.21,
            pilot_lat=34.57,
        )
        session.add(incident)
        session.flush()
        for stage, seconds, detail in (
            ("detected", 0, "remote_id"),
            ("identified", 2, "drone 0.97"),
            ("countered", 41, "net: executed"),
        ):
            session.add(
                AirspaceTimelineRow(
                    incident_id=incident.id,
                    stage=stage,
                    at=opened + timedelta(seconds=seconds),
                    detail=detail,
                )
            )
        session.commit()
        incident_id = incident.id
    op = sqlite_world.login("airspace1")
    body = op.get(f"/api/airspace/incidents/{incident_id}").json()
    assert [s["stage"] for s in body["timeline"]] == ["detected", "identified", "countered"]
    assert "侦测至反制: 41 s" in body["report_zh"]
    assert "Detection to countermeasure: 41 s" in body["report_en"]
    assert "Pilot position: 119.210000, 34.570000" in body["report_en"]
    assert op.get("/api/airspace/incidents/999999").status_code == 404
    assert (
        sqlite_world.login("officer_a").get(f"/api/airspace/incidents/{incident_id}").status_code
        == 403
    )
    with _factory(sqlite_world)() as session:
        reads = [
            a.target
            for a in session.scalars(select(AuditRow))
            if a.action == "airspace.incident.read"
        ]
    assert reads == [str(incident_id)]  # the pilot's position was read once (by the operator)
