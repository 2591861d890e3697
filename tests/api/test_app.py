"""The web app on both back ends: health, OpenAPI, security headers, landing and static pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from haizhou import __version__
from haizhou.api.app import create_app
from haizhou.api.security_headers import SecurityHeadersMiddleware
from haizhou.errors import InputError
from haizhou.settings import Settings
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import IncidentRow, JurisdictionRow, SensorRow


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=url)


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    migrate.upgrade(database_url)
    with TestClient(
        create_app(_settings(tmp_path, database_url), static_dir=tmp_path / "none")
    ) as c:
        yield c


def _add_rows(url: str) -> None:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        session.add(JurisdictionRow(code="320706001", name="A", station="A", source="t"))
        for n in range(3):
            session.add(
                IncidentRow(
                    source="t",
                    source_id=f"i{n}",
                    reported_at=datetime(2026, 1, 1, n, tzinfo=UTC),
                    category="theft",
                    lon=119.2,
                    lat=34.6,
                    h3_r7=1,
                    h3_r8=2,
                    h3_r9=3,
                    content_hash="h",
                )
            )
        session.add(
            SensorRow(
                source="t",
                source_id="s",
                kind="camera",
                lon=119.2,
                lat=34.6,
                h3_r9=3,
                content_hash="h",
            )
        )
        session.commit()
    engine.dispose()


def test_health_reports_backend_revision_and_counts(client: TestClient, database_url: str) -> None:
    empty = client.get("/api/health")
    assert empty.status_code == 200
    assert empty.json() == {
        "status": "ok",
        "version": __version__,
        "database": "sqlite" if database_url.startswith("sqlite") else "postgresql",
        "schema_revision": migrate.head(),
        "counts": {"incidents": 0, "cases": 0, "jurisdictions": 0, "sensors": 0},
    }

    _add_rows(database_url)

    assert client.get("/api/health").json()["counts"] == {
        "incidents": 3,
        "cases": 0,
        "jurisdictions": 1,
        "sensors": 1,
    }


def test_health_is_503_with_a_reason_when_the_schema_is_missing(
    database_url: str, tmp_path: Path
) -> None:
    with TestClient(create_app(_settings(tmp_path, database_url))) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["schema_revision"] is None
    assert "no revision (empty)" in body["reason"] and "haizhou db upgrade" in body["reason"]


def test_health_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    url = "postgresql+psycopg://haizhou:secret@127.0.0.1:1/haizhou?connect_timeout=2"
    with TestClient(create_app(_settings(tmp_path, url))) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "postgresql"
    assert body["reason"].startswith("the database does not answer")
    assert "secret" not in response.text


def test_create_app_does_not_connect(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lazy' / 'haizhou.db'}"
    app = create_app(_settings(tmp_path, url))
    assert not (tmp_path / "lazy" / "haizhou.db").exists()
    assert app.state.engine.url.database.endswith("haizhou.db")
    assert app.state.settings.database_url == url


def test_openapi_lives_under_api_with_tag_name_operation_ids(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert "/api/health" in schema["paths"]
    assert schema["paths"]["/api/health"]["get"]["operationId"] == "health-read_health"
    assert all(re.fullmatch(r"[a-z_]+-[a-z_]+", op["operationId"]) for op in operations)
    assert "503" in schema["paths"]["/api/health"]["get"]["responses"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert "/api/openapi.json" in docs.text


@pytest.mark.parametrize("path", ["/api/health", "/", "/api/openapi.json", "/no/such/page"])
def test_every_response_carries_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "cdn.jsdelivr.net" not in policy


def test_a_header_a_route_sets_itself_is_kept_once() -> None:
    async def own(_request: Request) -> PlainTextResponse:
        return PlainTextResponse(
            "x", headers={"x-frame-options": "SAMEORIGIN", "Content-Security-Policy": "mine"}
        )

    app = SecurityHeadersMiddleware(Starlette(routes=[Route("/own", own)]))
    response = TestClient(app).get("/own")
    assert response.headers.get_list("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.get_list("Content-Security-Policy") == ["mine"]
    assert response.headers.get_list("X-Content-Type-Options") == ["nosniff"]
    assert response.headers["content-type"].startswith("text/plain")


def test_docs_page_policy_allows_only_the_swagger_cdn(client: TestClient) -> None:
    policy = client.get("/api/docs").headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net" in policy
    assert "frame-ancestors 'none'" in policy


def test_landing_page_links_to_the_docs_when_no_web_app_is_built(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/api/docs"' in response.text
    assert "The API is up" in response.text


def test_built_web_app_is_served_at_root(database_url: str, tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>web</title>海州", encoding="utf-8")
    (static / "assets" / "app.js").write_text("console.log(1)", encoding="utf-8")
    migrate.upgrade(database_url)

    with TestClient(create_app(_settings(tmp_path, database_url), static_dir=static)) as client:
        root = client.get("/")
        asset = client.get("/assets/app.js")
        health = client.get("/api/health")

    assert root.status_code == 200 and "海州" in root.text
    assert asset.text == "console.log(1)"
    assert health.json()["status"] == "ok"  # the API still wins over the static mount
    assert root.headers["X-Frame-Options"] == "DENY"


def test_haizhou_errors_become_one_line_json(client: TestClient) -> None:
    def broken() -> None:
        raise InputError("value 'abc' is not a date", file="x.csv", row=3, column="time")

    client.app.add_api_route("/api/broken", broken, tags=["test"])

    response = client.get("/api/broken")

    assert response.status_code == 422
    assert response.json() == {
        "detail": "file x.csv, row 3, column 'time': value 'abc' is not a date"
    }
