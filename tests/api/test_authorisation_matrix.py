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
}
UNSAFE = {"/api/auth/logout": None}  # POST routes every signed-in user may call

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
            url = path.replace("{layer}", "roads")
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
