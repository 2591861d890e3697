"""schemathesis against the OpenAPI document: no operation answers with a server error.

Every documented operation is called with parameters generated from its schema (valid and
invalid ones), signed in as an administrator, who may use every endpoint, on the SQLite test
bureau. (schemathesis' pytest plug-in does not load under this pytest, so the operations are
driven through its strategies with hypothesis directly.)
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.slow
schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = 25
LOGIN_EXAMPLES = 4  # each one costs an Argon2 verification (~0.7 s here)


def _fuzz(operation: Any, cookies: dict, headers: dict, statuses: set[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=LOGIN_EXAMPLES if operation.label.endswith("/auth/login") else EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        response = case.call(cookies=cookies, headers=headers)
        statuses.add(response.status_code)
        assert response.status_code < 500, (operation.label, case.query, response.text)

    call()


def test_no_operation_answers_with_a_server_error(sqlite_world: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", sqlite_world.app)
    client = sqlite_world.login("admin1")
    cookies = {"haizhou_session": client.cookies["haizhou_session"]}
    headers = {"X-CSRF-Token": client.headers["X-CSRF-Token"]}
    labels: list[str] = []
    statuses: set[int] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label.endswith("/auth/logout"):
            continue  # would end the session the other operations use; see test_auth
        if operation.label == "POST /api/reports":
            continue  # renders a whole report (seconds) per example; see test_reports_api
        if operation.label == "POST /api/jobs":
            continue  # would queue real jobs on the shared NATS, 503 without it; test_jobs_api
        labels.append(operation.label)
        _fuzz(operation, cookies, headers, statuses)
    assert any("hexagons" in label for label in labels) and len(labels) >= 9
    assert 200 in statuses and 422 in statuses  # both valid and invalid inputs were tried
