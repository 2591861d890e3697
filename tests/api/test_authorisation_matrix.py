"""Authorisation matrix: every protected endpoint × every role × jurisdiction.

The expected answer comes from :data:`haizhou.api.policy.POLICY` (role) and from the unit tree
(jurisdiction): an allowed role gets 200 with only its scope's records, another gets 403, and
nobody without a session gets anything (see test_auth). A new endpoint must be added to
ENDPOINTS, or the coverage test fails.
"""

from __future__ import annotations

from typing import Any

from haizhou.api.policy import Permission, allowed
from haizhou.api.router import PUBLIC_PATHS
from haizhou.security.roles import Role

WINDOW = {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}
BBOX = "119.0,34.4,119.5,34.9"

# path -> (permission or None for "every signed-in user", query, how to read codes from the body)
ENDPOINTS: dict[str, tuple[Permission | None, dict[str, Any]]] = {
    "/api/auth/me": (None, {}),
    "/api/map/hexagons": (Permission.MAP_INCIDENTS, {**WINDOW, "bbox": BBOX, "resolution": 9}),
    "/api/map/heat": (Permission.MAP_INCIDENTS, {**WINDOW, "bbox": BBOX, "bandwidth_cells": 0}),
    "/api/map/jurisdictions": (Permission.MAP_BASE, {}),
    "/api/map/sensors": (Permission.MAP_SENSORS, {}),
    "/api/map/findings": (Permission.MAP_FINDINGS, WINDOW),
    "/api/map/base/{layer}": (Permission.MAP_BASE, {}),
    "/api/map/config": (Permission.MAP_BASE, {}),
    "/api/map/summary": (Permission.MAP_INCIDENTS, WINDOW),
    # Sensing and fraud layers (issue 9): aggregates computed within the scope.
    "/api/map/coverage": (Permission.MAP_COVERAGE, {}),
    "/api/map/blindspots": (Permission.MAP_COVERAGE, {"end": WINDOW["end"], "min_weight": 0}),
    "/api/map/candidate-sites": (Permission.MAP_COVERAGE, {"end": WINDOW["end"], "k": 2}),
    "/api/map/fraud-risk": (Permission.MAP_FRAUD, {"end": WINDOW["end"]}),
    "/api/scenarios": (Permission.SCENARIOS, {}),
    "/api/scenarios/{scenario_id}": (Permission.SCENARIOS, {}),
    # Instructions, supervision, KPIs, reports, models (issue 5); the {id} ones are checked
    # for scope with real records in test_work_endpoints_by_role_and_scope below.
    "/api/instructions": (Permission.INSTRUCTIONS_READ, {}),
    "/api/instructions/{instruction_id}": (Permission.INSTRUCTIONS_READ, {}),
    "/api/map/instructions": (Permission.INSTRUCTIONS_READ, WINDOW),
    "/api/notifications": (Permission.INSTRUCTIONS_READ, {}),
    "/api/supervision": (Permission.SUPERVISION_READ, {}),
    "/api/supervision/stats": (Permission.SUPERVISION_READ, {}),
    "/api/supervision/{case_id}": (Permission.SUPERVISION_READ, {}),
    "/api/kpis": (Permission.KPIS_READ, {"start": "2026-01-10T00:00:00Z", "period": "month"}),
    "/api/reports": (Permission.REPORTS_READ, {}),
    "/api/reports/{report_id}/file": (Permission.REPORTS_READ, {}),
    "/api/models": (Permission.MODELS_READ, {}),
    "/api/models/{model_id}": (Permission.MODELS_READ, {}),
    # Series (issue 7); the detail is checked by role and scope in test_series_api.py.
    "/api/series": (Permission.SERIES_READ, {}),
    "/api/series/{series_id}": (Permission.SERIES_READ, {}),
    "/api/map/series": (Permission.SERIES_READ, WINDOW),
    # Live airspace (issue 8): bureau-wide, for operators, commanders and admins.
    "/api/airspace/tracks": (Permission.AIRSPACE_VIEW, {}),
    "/api/airspace/alerts": (Permission.AIRSPACE_VIEW, {}),
    "/api/airspace/zones": (Permission.AIRSPACE_VIEW, {}),
    "/api/airspace/permits": (Permission.AIRSPACE_VIEW, {}),
    "/api/airspace/countermeasures": (Permission.AIRSPACE_VIEW, {}),
    "/api/airspace/incidents/{incident_id}": (Permission.AIRSPACE_VIEW, {}),
    # Job queue (issue 10): administrators only; the detail is checked in test_jobs_api.py.
    "/api/jobs": (Permission.JOBS, {}),
    "/api/jobs/{job_id}": (Permission.JOBS, {}),
}
UNSAFE = {"/api/auth/logout": None}  # POST routes every signed-in user may call
WORK_UNSAFE: dict[str, Permission] = {
    "/api/instructions": Permission.INSTRUCTIONS_CREATE,
    "/api/instructions/{instruction_id}/sign": Permission.INSTRUCTIONS_WORK,
    "/api/instructions/{instruction_id}/start": Permission.INSTRUCTIONS_WORK,
    "/api/instructions/{instruction_id}/feedback": Permission.INSTRUCTIONS_WORK,
    "/api/instructions/{instruction_id}/review": Permission.INSTRUCTIONS_REVIEW,
    "/api/instructions/{instruction_id}/approve": Permission.INSTRUCTIONS_CREATE,
    "/api/instructions/{instruction_id}/reject": Permission.INSTRUCTIONS_CREATE,
    "/api/supervision": Permission.SUPERVISION_MANAGE,
    "/api/supervision/{case_id}/notes": Permission.SUPERVISION_NOTE,
    "/api/supervision/{case_id}/milestones": Permission.SUPERVISION_MANAGE,
    "/api/supervision/{case_id}/milestones/{milestone_id}/done": Permission.SUPERVISION_NOTE,
    "/api/supervision/{case_id}/close": Permission.SUPERVISION_MANAGE,
    "/api/reports": Permission.REPORTS_CREATE,
    "/api/models/{model_id}/run": Permission.MODELS_RUN,
    "/api/airspace/messages": Permission.AIRSPACE_FEED,
    "/api/airspace/countermeasures": Permission.AIRSPACE_COUNTER,
    "/api/airspace/countermeasures/{countermeasure_id}/confirm": Permission.AIRSPACE_COUNTER,
    "/api/map/query": Permission.MAP_INCIDENTS,  # scope checked in tests/api/test_map_query.py
    "/api/jobs": Permission.JOBS,  # submission checked in tests/api/test_jobs_api.py
}
UNSAFE.update(dict.fromkeys(WORK_UNSAFE))
# Record-level endpoints whose answer depends on the record's unit (see the test below).
SCOPED_RECORDS = {
    "/api/instructions/{instruction_id}",
    "/api/supervision/{case_id}",
    "/api/reports/{report_id}/file",
    "/api/models/{model_id}",
    "/api/series/{series_id}",
    "/api/jobs/{job_id}",  # not per unit: checked by role in tests/api/test_jobs_api.py
    "/api/airspace/incidents/{incident_id}",  # bureau-wide: tests/api/test_airspace_api.py
}

# Incidents per jurisdiction in the test bureau (conftest), and what each user may see.
INCIDENTS = {"320706001": 30, "320706001-1": 6, "320706002": 20, None: 4}
SENSORS = {"320706001": 3, "320706002": 3}
FINDINGS = {"320706001": 1, "320706002": 1}
SCOPES: dict[str, set[str | None] | None] = {
    "officer_a": {"320706001", "320706001-1"},
    "officer_a1": {"320706001-1"},
    "officer_b": {"320706002"},
}


def _visible(table: dict[str | None, int], user: str) -> int:
    scope = SCOPES.get(user)
    return sum(n for code, n in table.items() if scope is None or code in scope)


def test_matrix_covers_every_protected_operation(sqlite_world: Any) -> None:
    paths = sqlite_world.client().get("/api/openapi.json").json()["paths"]
    operations = {
        (path, method) for path, ops in paths.items() if path not in PUBLIC_PATHS for method in ops
    }
    covered = {(p, "get") for p in ENDPOINTS} | {(p, "post") for p in UNSAFE}
    assert operations == covered


def test_every_endpoint_for_every_role_and_jurisdiction(sqlite_world: Any, bureau: Any) -> None:
    answers: dict[tuple[str, str], int] = {}
    for username, (role_name, _code) in bureau.USERS.items():
        role = Role(role_name)
        client = sqlite_world.login(username)
        for path, (permission, params) in ENDPOINTS.items():
            if path in SCOPED_RECORDS:
                continue
            url = path.replace("{layer}", "roads").replace("{scenario_id}", "stadium")
            response = client.get(url, params=params)
            want = 200 if permission is None or allowed(role, permission) else 403
            answers[(username, path)] = response.status_code
            assert response.status_code == want, (username, path, response.text)
            if want == 403:
                assert role.value in response.json()["detail"]
                continue
            body = response.json()
            scope = SCOPES.get(username)
            if path in {"/api/map/hexagons", "/api/map/heat", "/api/map/summary"}:
                assert body["total"] == _visible(INCIDENTS, username), (username, path)
            elif path == "/api/map/jurisdictions":
                codes = {f["properties"]["code"] for f in body["features"]}
                assert codes == (scope if scope is not None else codes)
                assert scope is not None or len(codes) == 4
            elif path == "/api/map/sensors":
                assert len(body["features"]) == _visible(SENSORS, username)
            elif path == "/api/map/coverage":
                assert len(body["features"]) == _visible(SENSORS, username)
                assert {f["properties"]["jurisdiction_code"] for f in body["features"]} <= (
                    scope if scope is not None else set(SENSORS)
                )
            elif path == "/api/map/findings":
                assert len(body["features"]) == _visible(FINDINGS, username)
            elif path == "/api/auth/me":
                assert body["username"] == username
                assert body["scope"] == (sorted(scope) if scope is not None else None)
        assert client.post("/api/auth/logout").status_code == 200
    # The matrix really holds both answers (a policy that allowed everything would fail above).
    assert set(answers.values()) == {200, 403}
    assert answers[("auditor1", "/api/map/hexagons")] == 403
    assert answers[("airspace1", "/api/map/sensors")] == 200
    assert answers[("officer_b", "/api/map/hexagons")] == 200


def _seed_work(world: Any) -> dict[str, Any]:
    """One instruction and one supervised case in station A and in B, a bureau-wide report."""
    admin = world.login("admin1")
    made: dict[str, Any] = {}
    for name, code, lon, lat in (
        ("a", "320706001", 119.18, 34.58),
        ("b", "320706002", 119.31, 34.66),
    ):
        body = {"title": f"check {name}", "level": "orange", "lon": lon, "lat": lat}
        made[f"instruction_{name}"] = admin.post("/api/instructions", json=body).json()["id"]
        case = {
            "title": f"case {name}",
            "lead": "局领导",
            "specialist_unit": "刑警大队",
            "station_code": code,
            "deadline": "2026-06-01T00:00:00Z",
            "milestones": [{"title": "走访", "due_at": "2026-04-01T00:00:00Z"}],
        }
        created = admin.post("/api/supervision", json=case).json()
        made[f"case_{name}"] = created["id"]
        made[f"milestone_{name}"] = created["milestones"][0]["id"]
    report = {"kind": "daily", "date": "2026-01-15", "lang": "zh", "format": "html"}
    made["report"] = admin.post("/api/reports", json=report).json()["id"]
    made["model"] = admin.get("/api/models").json()[0]["id"]
    return made


def test_work_endpoints_by_role_and_scope(sqlite_world: Any, bureau: Any) -> None:
    """Instructions, supervision, reports, models: role from POLICY, 404 outside the scope."""
    made = _seed_work(sqlite_world)
    answers: set[int] = set()
    for username, (role_name, _code) in bureau.USERS.items():
        role = Role(role_name)
        scope = SCOPES.get(username)
        client = sqlite_world.login(username)
        # Record-level reads: A's records for everyone but officer_b, who is given B's.
        own = "b" if username == "officer_b" else "a"
        urls = {
            "/api/instructions/{instruction_id}": (
                f"/api/instructions/{made['instruction_' + own]}",
                "320706002" if own == "b" else "320706001",
            ),
            "/api/supervision/{case_id}": (
                f"/api/supervision/{made['case_' + own]}",
                "320706002" if own == "b" else "320706001",
            ),
            "/api/reports/{report_id}/file": (f"/api/reports/{made['report']}/file", None),
            "/api/models/{model_id}": (f"/api/models/{made['model']}", "any"),
        }
        for path, (url, unit) in urls.items():
            permission = ENDPOINTS[path][0]
            assert permission is not None
            in_scope = unit == "any" or scope is None or (unit is not None and unit in scope)
            want = 403 if not allowed(role, permission) else (200 if in_scope else 404)
            response = client.get(url)
            answers.add(response.status_code)
            assert response.status_code == want, (username, path, response.text)
        # Lists hold only the scope's records.
        if allowed(role, Permission.INSTRUCTIONS_READ):
            visible = {"320706001", "320706002"} if scope is None else scope
            items = client.get("/api/instructions").json()["items"]
            assert {i["jurisdiction_code"] for i in items} == visible & {"320706001", "320706002"}
            cases = client.get("/api/supervision").json()["items"]
            assert {c["station_code"] for c in cases} == visible & {"320706001", "320706002"}
            reports = client.get("/api/reports").json()["items"]
            assert len(reports) == (1 if scope is None else 0)
        # Every unsafe route refuses the roles the policy leaves out, before reading the body.
        for path, permission in WORK_UNSAFE.items():
            url = (
                path.replace("{instruction_id}", str(made["instruction_a"]))
                .replace("{case_id}", str(made["case_a"]))
                .replace("{milestone_id}", str(made["milestone_a"]))
                .replace("{model_id}", "no.such.model")
            )
            response = client.post(url, json={"unknown": 1})
            if allowed(role, permission):
                assert response.status_code != 403, (username, path, response.text)
            else:
                assert response.status_code == 403, (username, path, response.text)
                assert role.value in response.json()["detail"]
    # Scope on actions: B's officer cannot sign A's instruction; A's can.
    ia = made["instruction_a"]
    assert sqlite_world.login("officer_b").post(f"/api/instructions/{ia}/sign").status_code == 404
    assert sqlite_world.login("officer_a").post(f"/api/instructions/{ia}/sign").status_code == 200
    note = {"text": "已走访", "tier": "station"}
    cb = made["case_b"]
    assert (
        sqlite_world.login("officer_a").post(f"/api/supervision/{cb}/notes", json=note).status_code
        == 404
    )
    assert (
        sqlite_world.login("officer_b").post(f"/api/supervision/{cb}/notes", json=note).status_code
        == 201
    )
    assert answers == {200, 403, 404}
