"""``haizhou serve`` with CliRunner: upgrades the schema, then hands uvicorn the app factory.

(Lives in tests/api/ because tests/cli/ is shared; move it there when the lead wishes.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from haizhou.cli import serve
from haizhou.cli.main import app
from haizhou.settings import Settings
from haizhou.store import migrate


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}

    def fake_run(target: Any, **kwargs: Any) -> None:
        calls["target"], calls["kwargs"] = target, kwargs
        calls["environ"] = dict(os.environ)

    monkeypatch.setattr(serve.uvicorn, "run", fake_run)
    return calls


def _factory(target: str) -> Any:
    module, name = target.split(":")
    return getattr(__import__(module, fromlist=[name]), name)


@pytest.mark.parametrize("reload", [False, True])
def test_serve_upgrades_then_runs_the_app_built_from_the_same_settings(
    database_url: str, tmp_path: Path, captured: dict[str, Any], reload: bool
) -> None:
    args = [
        "--data-dir",
        str(tmp_path / "d"),
        "--database-url",
        database_url,
        "serve",
        "--port",
        "8123",
    ]
    with mock.patch.dict(os.environ, clear=False):  # serve exports HAIZHOU_* for the factory
        result = CliRunner().invoke(app, args + (["--reload"] if reload else []))

        assert result.exit_code == 0, result.output
        assert migrate.current(database_url) == migrate.head()
        assert f"at schema {migrate.head()}" in result.output
        kwargs = captured["kwargs"]
        assert (kwargs["host"], kwargs["port"], kwargs["factory"]) == ("127.0.0.1", 8123, True)
        assert kwargs["reload"] is reload
        assert captured["environ"]["HAIZHOU_DATABASE_URL"] == database_url
        assert captured["environ"]["HAIZHOU_PORT"] == "8123"

        built = _factory(captured["target"])()  # what uvicorn would call

    assert isinstance(built, FastAPI)
    assert built.state.settings.database_url == database_url
    assert built.state.settings.data_dir == (tmp_path / "d").resolve()
    with TestClient(built) as client:
        assert client.get("/api/health").json()["schema_revision"] == migrate.head()


def test_serve_fails_in_one_line_when_the_database_is_unreachable(captured: dict[str, Any]) -> None:
    url = "postgresql+psycopg://u:pw@127.0.0.1:1/x?connect_timeout=2"
    with mock.patch.dict(os.environ, clear=False):
        result = CliRunner().invoke(app, ["--database-url", url, "serve"])
    assert result.exit_code == 1
    assert "cannot open the database" in result.output
    assert captured == {}  # never started serving


def test_run_server_is_what_demo_calls(
    sqlite_url: str, tmp_path: Path, captured: dict[str, Any]
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=sqlite_url)
    with mock.patch.dict(os.environ, clear=False):
        serve.run_server(settings, host="0.0.0.0", port=9000)
    assert migrate.current(sqlite_url) == migrate.head()
    assert (captured["kwargs"]["host"], captured["kwargs"]["port"]) == ("0.0.0.0", 9000)
    assert captured["kwargs"]["reload"] is False
    assert captured["environ"]["HAIZHOU_HOST"] == "0.0.0.0"


def test_serve_passes_workers_and_refuses_them_with_reload(
    sqlite_url: str, tmp_path: Path, captured: dict[str, Any]
) -> None:
    base = ["--data-dir", str(tmp_path), "--database-url", sqlite_url, "serve"]
    with mock.patch.dict(os.environ, clear=False):
        result = CliRunner().invoke(app, [*base, "--workers", "3", "--no-access-log"])
        assert result.exit_code == 0, result.output
        assert "with 3 worker processes" in result.output
        assert (captured["kwargs"]["workers"], captured["kwargs"]["access_log"]) == (3, False)
        assert captured["kwargs"]["timeout_worker_healthcheck"] == serve.WORKER_HEALTHCHECK_S
        captured.clear()
        refused = CliRunner().invoke(app, [*base, "--workers", "2", "--reload"])
    assert refused.exit_code != 0
    assert "--reload works with one worker only" in refused.output
    assert captured == {}
