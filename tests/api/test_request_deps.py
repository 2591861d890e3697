"""The shared request dependencies (issue 10: less CPU per map request, same behaviour).

The session, clock, scope and permission dependencies run on the event loop where they do no
I/O; these tests check what must not change with that: every request gives its database
connection back (also after 401, 403 and 422), and a session ended by another process ends
on this one at its very next request (no per-process session cache).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from haizhou.api.app import create_app
from haizhou.api.auth import SESSION_COOKIE
from haizhou.api.deps import utc_now
from haizhou.settings import Settings


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
