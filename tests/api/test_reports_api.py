"""The reports API (报告): generate into data_dir/reports, list, serve, scope, audit."""

from __future__ import annotations

from typing import Any

from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import AuditRow

DAILY = {"kind": "daily", "date": "2026-01-15", "lang": "zh", "format": "html"}


def test_generate_list_and_serve_html(sqlite_world: Any, tmp_path: Any) -> None:
    admin = sqlite_world.login("admin1")
    made = admin.post("/api/reports", json=DAILY)
    assert made.status_code == 201, made.text
    item = made.json()
    assert item["id"] == "daily-2026-01-15-zh-html" and item["unit"] is None
    assert item["size"] > 1000
    assert (tmp_path / "data" / "reports" / "daily-2026-01-15-zh.html").stat().st_size == item[
        "size"
    ]
    listed = admin.get("/api/reports").json()
    assert [r["id"] for r in listed["items"]] == [item["id"]] and listed["next_cursor"] is None
    served = admin.get(f"/api/reports/{item['id']}/file")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/html")
    assert "日巡查" in served.text and len(served.content) == item["size"]
    engine = make_engine(sqlite_world.url)
    with make_sessionmaker(engine)() as session:
        actions = {(r.actor, r.action, r.target) for r in session.query(AuditRow).all()}
    engine.dispose()
    assert ("admin1", "report.read", item["id"]) in actions
    assert ("admin1", "report.generate", item["id"]) in actions


def test_scope_roles_and_bad_ids(sqlite_world: Any) -> None:
    admin = sqlite_world.login("admin1")
    rid = admin.post("/api/reports", json=DAILY).json()["id"]
    officer = sqlite_world.login("officer_a")
    assert officer.post("/api/reports", json=DAILY).status_code == 403
    assert officer.get("/api/reports").json()["items"] == []  # a bureau-wide report
    assert officer.get(f"/api/reports/{rid}/file").status_code == 404
    assert sqlite_world.login("auditor1").get("/api/reports").status_code == 403
    for bad in (
        "..%2F..%2Fhaizhou.db",
        "daily-2026-01-16-zh-html",
        "weekly-2026-01-15-zh-html~..",
        "x",
    ):
        assert admin.get(f"/api/reports/{bad}/file").status_code == 404, bad
    assert admin.post("/api/reports", json={**DAILY, "date": "1900-01-01"}).status_code == 422
    assert admin.post("/api/reports", json={**DAILY, "kind": "yearly"}).status_code == 422


def test_pdf_in_english_and_pages(sqlite_world: Any) -> None:
    admin = sqlite_world.login("admin1")
    pdf = admin.post("/api/reports", json={**DAILY, "lang": "en", "format": "pdf"})
    assert pdf.status_code == 201, pdf.text
    served = admin.get(f"/api/reports/{pdf.json()['id']}/file")
    assert served.headers["content-type"] == "application/pdf"
    assert served.content.startswith(b"%PDF")
    admin.post("/api/reports", json={**DAILY, "date": "2026-01-16"})
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        body = admin.get("/api/reports", params=params).json()
        seen += [r["id"] for r in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["daily-2026-01-16-zh-html", "daily-2026-01-15-en-pdf"]


def test_a_unit_report_is_seen_by_that_unit_and_above(sqlite_world: Any, bureau: Any) -> None:
    from haizhou.store.tables import UserRow

    engine = make_engine(sqlite_world.url)
    with make_sessionmaker(engine)() as session:
        session.add(
            UserRow(
                username="analyst_a",
                password_hash="x",
                role="analyst",
                jurisdiction_code=bureau.STATION_A,
                active=True,
                created_at=bureau.T0,
            )
        )
        session.commit()
    engine.dispose()
    made = sqlite_world.login("analyst_a").post("/api/reports", json=DAILY)
    assert made.status_code == 201, made.text
    item = made.json()
    assert (
        item["unit"] == bureau.STATION_A
        and item["id"] == f"daily-2026-01-15-zh-html~{bureau.STATION_A}"
    )
    for user, sees in (
        ("officer_a", True),
        ("admin1", True),
        ("officer_a1", False),
        ("officer_b", False),
    ):
        client = sqlite_world.login(user)
        assert [r["id"] for r in client.get("/api/reports").json()["items"]] == (
            [item["id"]] if sees else []
        )
        assert client.get(f"/api/reports/{item['id']}/file").status_code == (200 if sees else 404)
