"""Log-in, sessions, the log-in throttle, CSRF and the audit trail of log-ins."""

from __future__ import annotations

from typing import Any

from haizhou.api.router import PUBLIC_PATHS
from haizhou.security import audit
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import AuditRow


def _audit_actions(url: str) -> list[tuple[str, str, str | None]]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = session.query(AuditRow.actor, AuditRow.action, AuditRow.target).order_by(AuditRow.id)
        result = [tuple(r) for r in rows]
        assert audit.verify(session=session).ok
    engine.dispose()
    return result


def test_login_sets_httponly_samesite_cookie_and_me_answers(world: Any, bureau: Any) -> None:
    client = world.client()
    response = client.post(
        "/api/auth/login", json={"username": "Officer_A", "password": bureau.PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "officer_a"
    assert body["role"] == "station_officer"
    assert body["scope"] == [bureau.STATION_A, bureau.STATION_A1]
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("haizhou_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("haizhou_csrf="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie
    assert "Max-Age=28800" in session_cookie
    assert "HttpOnly" not in csrf_cookie and body["csrf_token"] in csrf_cookie
    # The token is random, and only its hash is stored.
    token = client.cookies["haizhou_session"]
    assert len(token) >= 40 and token not in str(_audit_actions(world.url))

    me = client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "officer_a"
    assert me.json()["csrf_token"] == body["csrf_token"]
    assert ("officer_a", "auth.login", "officer_a") in _audit_actions(world.url)


def test_wrong_password_and_unknown_user_are_401_and_audited(world: Any, bureau: Any) -> None:
    client = world.client()
    wrong = client.post(
        "/api/auth/login", json={"username": "analyst1", "password": "nope-nope-nope"}
    )
    unknown = client.post(
        "/api/auth/login", json={"username": "ghost", "password": bureau.PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong user name or password"}
    assert "haizhou_session" not in client.cookies
    actions = _audit_actions(world.url)
    assert ("anonymous", "auth.login_failed", "analyst1") in actions
    assert ("anonymous", "auth.login_failed", "ghost") in actions


def test_five_failures_in_ten_minutes_block_the_name_even_with_the_right_password(
    sqlite_world: Any, bureau: Any
) -> None:
    world, client = sqlite_world, sqlite_world.client()
    for _ in range(4):
        assert (
            client.post(
                "/api/auth/login", json={"username": "analyst1", "password": "x" * 12}
            ).status_code
            == 401
        )
        world.clock.advance(minutes=1)
    # Four failures: the right password still works.
    assert (
        client.post(
            "/api/auth/login", json={"username": "analyst1", "password": bureau.PASSWORD}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/api/auth/login", json={"username": "ANALYST1", "password": "x" * 12}
        ).status_code
        == 401
    )
    # Fifth failure at t=4 min (the first was at t=0): blocked, even with the right password.
    blocked = client.post(
        "/api/auth/login", json={"username": "analyst1", "password": bureau.PASSWORD}
    )
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == str(6 * 60)  # until t=10 min, when the first leaves
    # Another name is not affected.
    assert (
        client.post(
            "/api/auth/login", json={"username": "admin1", "password": bureau.PASSWORD}
        ).status_code
        == 200
    )
    world.clock.advance(minutes=5, seconds=59)
    assert (
        client.post(
            "/api/auth/login", json={"username": "analyst1", "password": bureau.PASSWORD}
        ).status_code
        == 429
    )
    world.clock.advance(seconds=2)  # the first failure has left the window: 4 remain
    assert (
        client.post(
            "/api/auth/login", json={"username": "analyst1", "password": bureau.PASSWORD}
        ).status_code
        == 200
    )
    actions = [a for _, a, t in _audit_actions(world.url) if t == "analyst1"]
    assert actions.count("auth.login_failed") == 5
    assert actions.count("auth.login_throttled") == 2


def test_throttle_state_survives_a_restart(sqlite_world: Any, bureau: Any) -> None:
    from fastapi.testclient import TestClient

    from haizhou.api.app import create_app
    from haizhou.api.deps import utc_now

    client = sqlite_world.client()
    for _ in range(5):
        client.post("/api/auth/login", json={"username": "commander1", "password": "x" * 12})
    fresh = create_app(sqlite_world.app.state.settings)  # a second process over the same store
    fresh.dependency_overrides[utc_now] = lambda: sqlite_world.clock.now
    with TestClient(fresh) as other:
        response = other.post(
            "/api/auth/login", json={"username": "commander1", "password": bureau.PASSWORD}
        )
    assert response.status_code == 429


def test_sessions_expire_and_logout_revokes(sqlite_world: Any) -> None:
    client = sqlite_world.login_with_password("analyst1")
    assert client.get("/api/auth/me").status_code == 200
    sqlite_world.clock.advance(hours=7, minutes=59)
    assert client.get("/api/auth/me").status_code == 200
    sqlite_world.clock.advance(minutes=2)
    assert client.get("/api/auth/me").status_code == 401

    client = sqlite_world.login("analyst1")
    token = client.cookies["haizhou_session"]
    assert client.post("/api/auth/logout").status_code == 200
    # The old token no longer works even if a copy was kept.
    replay = sqlite_world.client()
    replay.cookies.set("haizhou_session", token)
    assert replay.get("/api/auth/me").status_code == 401
    assert ("analyst1", "auth.logout", "analyst1") in _audit_actions(sqlite_world.url)


def test_unsafe_methods_need_the_csrf_header(sqlite_world: Any) -> None:
    client = sqlite_world.login("analyst1")
    token = client.headers.pop("X-CSRF-Token")
    assert client.post("/api/auth/logout").status_code == 403
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.get("/api/auth/me").status_code == 200  # safe methods need no header
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": token}).status_code == 200


def test_login_from_another_origin_is_refused(sqlite_world: Any, bureau: Any) -> None:
    client = sqlite_world.client()
    response = client.post(
        "/api/auth/login",
        json={"username": "analyst1", "password": bureau.PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    same = client.post(
        "/api/auth/login",
        json={"username": "analyst1", "password": bureau.PASSWORD},
        headers={"Origin": "http://testserver"},
    )
    assert same.status_code == 200


def test_deactivated_user_loses_open_sessions(sqlite_world: Any) -> None:
    from haizhou.security.users import deactivate

    client = sqlite_world.login("commander1")
    engine = make_engine(sqlite_world.url)
    with make_sessionmaker(engine)() as session:
        deactivate(session=session, username="commander1")
        session.commit()
    engine.dispose()
    assert client.get("/api/auth/me").status_code == 401


def test_every_api_route_but_the_public_ones_answers_401_without_a_session(
    sqlite_world: Any,
) -> None:
    client = sqlite_world.client()
    paths = client.get("/api/openapi.json").json()["paths"]
    checked = 0
    for template, operations in paths.items():
        if template in PUBLIC_PATHS:
            continue
        path = template.replace("{layer}", "roads")
        for method in operations:
            response = client.request(method.upper(), path)
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 8  # logout, me, and the map layers
    forged = sqlite_world.client()
    forged.cookies.set("haizhou_session", "not-a-session")
    assert forged.get("/api/map/jurisdictions").status_code == 401
    assert client.get("/api/health").status_code == 200
