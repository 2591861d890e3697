"""Operations: Prometheus /metrics, JSON logs, backup and restore on both back ends."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from haizhou.api.app import create_app
from haizhou.jobs.backup import BackupError, backup, restore
from haizhou.jobs.logs import JsonFormatter
from haizhou.settings import Settings
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import ImportBatchRow
from haizhou.store.tables.jobs import JobRow

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _job(job_id: str, status: str = "done", duration: float | None = 1.5) -> JobRow:
    return JobRow(
        id=job_id, kind="probe", params={"n": job_id}, status=status, attempts=1,
        submitted_at=T0, started_at=T0, finished_at=T0, duration_s=duration,
    )  # fmt: skip


def _batch(accepted: int) -> ImportBatchRow:
    return ImportBatchRow(
        kind="incidents", source="s", file_name="f.csv", file_sha256="0" * 64, started_at=T0,
        finished_at=T0, status="done", accepted=accepted, quarantined=2, skipped_duplicates=1,
    )  # fmt: skip


def _fill(url: str, *rows: object) -> None:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        session.add_all(rows)
        session.commit()
    engine.dispose()


def _job_ids(url: str) -> list[str]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        ids = list(session.scalars(select(JobRow.id).order_by(JobRow.id)))
    engine.dispose()
    return ids


async def _get(app: object, path: str, host: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(host, 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://hz") as client:
        return await client.get(path)


def _app(tmp_path: Path, url: str, **settings: object) -> object:
    migrate.upgrade(url)
    return create_app(Settings(data_dir=tmp_path, database_url=url, **settings))  # type: ignore[arg-type]


def test_metrics_count_requests_by_route_and_read_the_store(
    tmp_path: Path, sqlite_url: str
) -> None:
    app = _app(tmp_path, sqlite_url)
    _fill(sqlite_url, _job("a"), _job("b", "queued", None), _job("c", "queued", None), _batch(40))
    for _ in range(3):
        assert asyncio.run(_get(app, "/api/health", "127.0.0.1")).status_code == 200
    asyncio.run(_get(app, "/api/no/such/thing", "127.0.0.1"))
    body = asyncio.run(_get(app, "/metrics", "127.0.0.1")).text
    assert 'haizhou_http_requests_total{method="GET",route="/api/health",status="200"} 3.0' in body
    assert (
        'haizhou_http_request_duration_seconds_count{method="GET",route="/api/health"} 3.0' in body
    )
    assert 'route="<unmatched>"' in body and "/api/no/such/thing" not in body
    assert 'haizhou_jobs{kind="probe",status="queued"} 2.0' in body
    assert 'haizhou_job_queue_depth{status="queued"} 2.0' in body
    assert 'haizhou_job_seconds_total{kind="probe"} 1.5' in body
    assert 'haizhou_ingest_rows_total{kind="incidents",outcome="accepted"} 40.0' in body
    assert "haizhou_store_up 1.0" in body


def test_metrics_are_only_for_loopback_unless_public(tmp_path: Path, sqlite_url: str) -> None:
    assert (
        asyncio.run(_get(_app(tmp_path, sqlite_url), "/metrics", "203.0.113.9")).status_code == 404
    )
    public = _app(tmp_path, sqlite_url, metrics_public=True)
    assert asyncio.run(_get(public, "/metrics", "203.0.113.9")).status_code == 200


def test_json_log_lines_carry_extra_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("haizhou.test.jsonlogs")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("job failed 作业失败", extra={"job_id": "j1", "attempt": 2})
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "warning" and entry["msg"] == "job failed 作业失败"
    assert entry["job_id"] == "j1" and entry["attempt"] == 2
    assert datetime.fromisoformat(entry["ts"]).tzinfo is not None


@pytest.mark.parametrize("portable", [False, True], ids=["native", "portable"])
def test_backup_restore_round_trip(database_url: str, tmp_path: Path, portable: bool) -> None:
    migrate.upgrade(database_url)
    _fill(database_url, _job("kept-1"), _job("kept-2"), _batch(7))
    out = tmp_path / "store.backup"
    result = backup(database_url, out, portable=portable)
    assert out.stat().st_size == result.bytes > 0
    expected_format = "portable" if portable else database_url.split(":")[0].split("+")[0]
    assert result.format == {"postgresql": "pg_dump"}.get(expected_format, expected_format)

    _fill(database_url, _job("added-after"))
    assert _job_ids(database_url) == ["added-after", "kept-1", "kept-2"]
    restore(database_url, out)
    assert _job_ids(database_url) == ["kept-1", "kept-2"]
    assert migrate.current(database_url) == migrate.head()
    _fill(database_url, _batch(1))  # sequences continue after the restored ids


def test_portable_backup_moves_between_back_ends(
    postgres_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(postgres_url)
    _fill(postgres_url, _job("from-pg"))
    out = tmp_path / "pg.jsonl.gz"
    backup(postgres_url, out, portable=True)
    restore(sqlite_url, out)
    assert _job_ids(sqlite_url) == ["from-pg"]


def test_restore_refuses_a_file_that_is_not_a_backup(sqlite_url: str, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    with pytest.raises(BackupError, match="not a Haizhou backup"):
        restore(sqlite_url, bogus)
