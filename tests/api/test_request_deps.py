"""The shared request dependencies (issue 10: less CPU per map request, same behaviour).

The session, clock, scope and permission dependencies run on the event loop where they do no
I/O; these tests check what must not change with that: every request gives its database
connection back (also after 401, 403 and 422), and a session ended by another process ends
on this one at its very next request (no per-process session cache).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from haizhou.api.app import create_app
from haizhou.api.auth import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    SessionLookup,
    create_session,
    resolve_session,
    revoke_session,
    token_hash,
)
from haizhou.api.deps import utc_now
from haizhou.settings import Settings
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import UserRow


def _checked_out(app: Any) -> int:
    return int(app.state.engine.pool.checkedout())


def test_every_request_returns_its_connection(world: Any, bureau: Any) -> None:
    officer = world.login("officer_a")
    params = {**bureau.WINDOW, "bbox": bureau.BBOX_ALL}
    ok = officer.get("/api/map/hexagons", params=params)
    assert ok.status_code == 200, ok.text
    assert ok.json()["total"] == 36  # station A and its sub-unit A1 only
    assert _checked_out(world.app) == 0
    assert officer.get("/api/map/heat", params=params).status_code == 200
    assert _checked_out(world.app) == 0
    bad = officer.get("/api/map/hexagons", params={**bureau.WINDOW, "bbox": "1,2,3"})
    assert bad.status_code == 422
    assert _checked_out(world.app) == 0
    auditor = world.login("auditor1")
    assert auditor.get("/api/map/hexagons", params=params).status_code == 403
    assert _checked_out(world.app) == 0
    assert world.client().get("/api/map/hexagons", params=params).status_code == 401
    assert _checked_out(world.app) == 0


def test_logout_on_another_app_ends_the_session_at_the_next_request(
    sqlite_world: Any, bureau: Any, tmp_path: Path
) -> None:
    params = {**bureau.WINDOW, "bbox": bureau.BBOX_ALL}
    here = sqlite_world.login("officer_a")
    assert here.get("/api/map/hexagons", params=params).status_code == 200
    other_app = create_app(
        Settings(data_dir=tmp_path / "other", database_url=sqlite_world.url),
        static_dir=tmp_path / "none",
    )
    other_app.dependency_overrides[utc_now] = lambda: sqlite_world.clock.now  # same clock
    with TestClient(other_app, base_url="http://testserver") as there:
        there.cookies.set(SESSION_COOKIE, here.cookies[SESSION_COOKIE])
        there.headers["X-CSRF-Token"] = here.headers["X-CSRF-Token"]
        assert there.get("/api/map/hexagons", params=params).status_code == 200
        assert there.post("/api/auth/logout").status_code == 200
    assert here.get("/api/map/hexagons", params=params).status_code == 401
    assert here.get("/api/auth/me").status_code == 401


def test_the_session_lookup_answers_as_resolve_session_on_both_backends(world: Any) -> None:
    """The per-request lookup (compiled once, on a DBAPI connection on SQLite) gives exactly
    the answer of the ORM-session lookup: at, before and after expiry (in any time zone), for
    revoked sessions, deactivated accounts, unknown and malformed tokens."""
    engine = make_engine(world.url)
    lookup = SessionLookup(engine)
    assert lookup.inline == (engine.dialect.name == "sqlite")
    assert not SessionLookup(make_engine("sqlite://")).inline  # in memory: one connection
    t0 = datetime(2026, 3, 1, 8, tzinfo=UTC)  # whole seconds: the text-comparison edge
    with make_sessionmaker(engine)() as session:
        users = {u.username: u for u in session.scalars(select(UserRow))}
        issued = {
            name: create_session(session=session, user=users[name], now=t0)
            for name in ("officer_a", "analyst1", "auditor1", "commander1")
        }
        revoke_session(session=session, session_hash=token_hash(issued["analyst1"].token), now=t0)
        users["auditor1"].active = False
        session.commit()
    tokens = [i.token for i in issued.values()] + ["unknown", "x" * 201, "", None]
    expiry = t0 + SESSION_LIFETIME
    shanghai = timezone(timedelta(hours=8))
    moments = [
        t0,
        expiry - timedelta(microseconds=1),
        expiry,
        expiry + timedelta(microseconds=1),
        expiry.astimezone(shanghai) - timedelta(seconds=1),
        expiry.astimezone(shanghai),
    ]
    answers = 0
    with make_sessionmaker(engine)() as session:
        for token in tokens:
            for now in moments:
                expected = resolve_session(session=session, token=token, now=now)
                assert lookup(token, now) == expected, (token, now)
                answers += expected is not None
    assert answers == 2 * 3  # officer_a and commander1, at the three moments before expiry
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_metrics_label_protected_routes_by_their_full_template(world: Any, bureau: Any) -> None:
    """The routers are mounted on the app one by one (not nested): the metrics still name
    each request by its full route template, never by its raw path."""
    officer = world.login("officer_a")
    params = {**bureau.WINDOW, "bbox": bureau.BBOX_ALL}
    for _ in range(2):
        assert officer.get("/api/map/hexagons", params=params).status_code == 200
    assert officer.get("/api/instructions/987654").status_code == 404
    assert world.client().get("/api/auth/me").status_code == 401
    registry = world.app.state.metrics_registry
    for route, status, count in (
        ("/api/map/hexagons", "200", 2.0),
        ("/api/instructions/{instruction_id}", "404", 1.0),
        ("/api/auth/me", "401", 1.0),
    ):
        labels = {"method": "GET", "route": route, "status": status}
        assert registry.get_sample_value("haizhou_http_requests_total", labels) == count
    routes = {
        sample.labels["route"]
        for metric in registry.collect()
        if metric.name == "haizhou_http_requests"
        for sample in metric.samples
    }
    assert not any("987654" in route for route in routes)


def test_the_session_check_needs_none_of_the_engines_connections(sqlite_world: Any) -> None:
    """On SQLite the lookup runs on the event loop: it takes its connection from a pool of its
    own, so it never waits for the engine's, which requests the loop has yet to finish (their
    sessions are closed by it) may all hold."""
    engine = sqlite_world.app.state.engine
    officer = sqlite_world.login("analyst1")  # bureau level: the scope needs no read either
    limit = engine.pool.size() + engine.pool._max_overflow  # every connection the pool allows
    held = [engine.raw_connection() for _ in range(limit)]
    try:
        me = officer.get("/api/auth/me")
        assert me.status_code == 200 and me.json()["username"] == "analyst1"
        assert sqlite_world.client().get("/api/auth/me").status_code == 401
    finally:
        for connection in held:
            connection.close()
    assert officer.get("/api/auth/me").status_code == 200
