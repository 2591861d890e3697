"""The jobs API (后台作业) on the real NATS JetStream queue: submit, list, read, run.

Jobs submitted with ``POST /api/jobs`` are run by a real ``haizhou worker`` process on a queue
of their own; the API answers from the ``jobs`` table only, so any API process can.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.api.conftest import Clock, World, build_world
from tests.jobs._helpers import worker_process

from haizhou.api.app import create_app
from haizhou.api.deps import utc_now
from haizhou.jobs import QueueConfig
from haizhou.jobs.queue import delete_queue
from haizhou.settings import Settings
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import AuditRow, IncidentRow
from haizhou.store.tables.jobs import JobRow

REPORT = {"kind": "report", "params": {"kind": "daily", "date": "2026-01-15", "format": "html"}}


@dataclass
class JobWorld:
    world: World
    queue: QueueConfig
    url: str
    data_dir: Path

    def count(self, statement: Any) -> int:
        engine = make_engine(self.url)
        try:
            with make_sessionmaker(engine)() as session:
                return int(session.scalar(statement) or 0)
        finally:
            engine.dispose()


def _make_world(url: str, tmp_path: Path, nats_url: str, queue_name: str) -> Iterator[World]:
    build_world(url)
    clock = Clock()
    settings = Settings(
        data_dir=tmp_path / "data", database_url=url, nats_url=nats_url, job_queue=queue_name
    )
    app = create_app(settings, static_dir=tmp_path / "none")
    app.dependency_overrides[utc_now] = lambda: clock.now
    clients: list[TestClient] = []

    def factory() -> TestClient:
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        return client

    yield World(url=url, app=app, clock=clock, client_factory=factory)
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def jobs_world(sqlite_url: str, tmp_path: Path, nats_url: str) -> Iterator[JobWorld]:
    queue = QueueConfig(url=nats_url, name=f"t{uuid.uuid4().hex[:10]}", ack_wait_s=5.0)
    for world in _make_world(sqlite_url, tmp_path, nats_url, queue.name):
        yield JobWorld(world, queue, sqlite_url, tmp_path / "data")
    asyncio.run(delete_queue(queue))


def _wait_done(client: TestClient, job_id: str, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/jobs/{job_id}").json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not finished: {body}")


def test_admin_submits_jobs_and_a_worker_runs_them(jobs_world: JobWorld) -> None:
    admin = jobs_world.world.login("admin1")
    inbox = jobs_world.data_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "calls.csv").write_text(
        "incident_id,reported_at,category,lon,lat\n"
        "J1,2026-01-20 08:00,盗窃,119.200,34.600\n"
        "J2,2026-01-20 09:00,纠纷,119.201,34.601\n"
        "J3,not a time,盗窃,119.202,34.602\n",
        encoding="utf-8",
    )
    before = jobs_world.count(select(func.count()).select_from(IncidentRow))
    report = admin.post("/api/jobs", json=REPORT)
    assert report.status_code == 202, report.text
    assert report.json()["status"] == "queued"
    assert report.json()["submitted_by"] == "admin1"
    importing = admin.post(
        "/api/jobs",
        json={"kind": "import", "params": {"kind": "incidents", "path": "calls.csv"}},
    )
    assert importing.status_code == 202, importing.text
    worker = worker_process(
        jobs_world.queue, jobs_world.url, jobs_world.data_dir, "--idle-exit", "60"
    )
    try:
        done_report = _wait_done(admin, report.json()["id"])
        done_import = _wait_done(admin, importing.json()["id"])
    finally:
        worker.terminate()
        worker.wait(30)
    assert done_report["status"] == "done", done_report
    assert Path(done_report["result"]["path"]).is_file()
    assert done_report["attempts"] == 1 and done_report["worker"]
    assert done_import["status"] == "done", done_import
    assert (done_import["result"]["accepted"], done_import["result"]["quarantined"]) == (2, 1)
    after = jobs_world.count(select(func.count()).select_from(IncidentRow))
    assert after == before + 2
    listed = admin.get("/api/jobs", params={"status": "done"}).json()
    assert {item["id"] for item in listed["items"]} == {
        report.json()["id"],
        importing.json()["id"],
    }
    assert admin.get("/api/jobs", params={"kind": "model"}).json()["items"] == []
    audited = jobs_world.count(
        select(func.count()).select_from(AuditRow).where(AuditRow.action == "job.submit")
    )
    assert audited == 2


def test_only_administrators_use_the_queue(jobs_world: JobWorld) -> None:
    for username in ("analyst1", "commander1", "officer_a", "auditor1", "airspace1"):
        client = jobs_world.world.login(username)
        assert client.get("/api/jobs").status_code == 403
        assert client.get("/api/jobs/x").status_code == 403
        assert client.post("/api/jobs", json=REPORT).status_code == 403
    assert jobs_world.count(select(func.count()).select_from(JobRow)) == 0


def test_import_paths_must_stay_in_the_inbox(jobs_world: JobWorld, tmp_path: Path) -> None:
    admin = jobs_world.world.login("admin1")
    (jobs_world.data_dir / "inbox").mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside.csv"
    outside.write_text("incident_id,reported_at,category,lon,lat\n", encoding="utf-8")
    for path in (str(outside), "../../outside.csv", "../outside.csv", "missing.csv"):
        body = {"kind": "import", "params": {"kind": "incidents", "path": path}}
        response = admin.post("/api/jobs", json=body)
        assert response.status_code == 422, (path, response.text)
    bad_kind = {"kind": "import", "params": {"kind": "weather", "path": "x.csv"}}
    assert admin.post("/api/jobs", json=bad_kind).status_code == 422
    probe = {"kind": "probe", "params": {"sleep_s": 1}}
    assert admin.post("/api/jobs", json=probe).status_code == 422
    half_window = {"kind": "model", "params": {"model_id": "m", "start": "2026-01-01T00:00:00Z"}}
    assert admin.post("/api/jobs", json=half_window).status_code == 422
    assert jobs_world.count(select(func.count()).select_from(JobRow)) == 0


def test_pages_and_unknown_jobs(jobs_world: JobWorld) -> None:
    engine = make_engine(jobs_world.url)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    with make_sessionmaker(engine)() as session:
        for k in range(7):  # two pairs share a submission time: the id breaks the tie
            session.add(
                JobRow(
                    id=f"job{k}",
                    kind="report",
                    params={},
                    status="queued",
                    attempts=0,
                    submitted_at=start + timedelta(seconds=k // 2),
                )
            )
        session.commit()
    engine.dispose()
    admin = jobs_world.world.login("admin1")
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = admin.get("/api/jobs", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["job6", "job4", "job5", "job2", "job3", "job0", "job1"]
    assert admin.get("/api/jobs", params={"cursor": "nonsense"}).status_code == 422
    missing = admin.get("/api/jobs/no-such-job")
    assert missing.status_code == 404 and "no-such-job" in missing.json()["detail"]
    assert admin.get("/api/jobs/job3").json()["submitted_at"].startswith("2026-05-01T00:00:01")


def test_unreachable_queue_answers_503_and_records_the_failure(
    sqlite_url: str, tmp_path: Path
) -> None:
    for world in _make_world(sqlite_url, tmp_path, "nats://127.0.0.1:1", "tdown"):
        admin = world.login("admin1")
        response = admin.post("/api/jobs", json=REPORT)
        assert response.status_code == 503, response.text
        assert "NATS" in response.json()["detail"]
        (item,) = admin.get("/api/jobs").json()["items"]
        assert item["status"] == "failed" and item["error"].startswith("not queued")
