"""A worker rides out a NATS restart: queued jobs survive (file storage), the worker reconnects."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.jobs._helpers import worker_process
from tests.reliability.conftest import PrivateNats

from haizhou.jobs import Job, QueueConfig, client
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables.jobs import JobRow

pytestmark = [pytest.mark.slow, pytest.mark.nats]


def _statuses(sessions, ids: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {row.id: row.status for row in session.query(JobRow).filter(JobRow.id.in_(ids))}


def test_worker_reconnects_after_a_nats_restart(
    private_nats: PrivateNats, sqlite_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(sqlite_url)
    sessions = make_sessionmaker(make_engine(sqlite_url))
    queue = QueueConfig(url=private_nats.url, name="reliability", ack_wait_s=3.0)
    before = [Job.new("probe", {"sleep_s": 0.05}) for _ in range(5)]
    client.submit(queue, sessions, before)
    worker = worker_process(queue, sqlite_url, tmp_path, "--name", "survivor")
    try:
        deadline = time.monotonic() + 120
        while set(_statuses(sessions, [j.id for j in before]).values()) != {"done"}:
            assert time.monotonic() < deadline, "the worker never finished the first jobs"
            assert worker.poll() is None, worker.communicate()[0].decode()
            time.sleep(0.2)
        private_nats.restart()
        after = [Job.new("probe", {"sleep_s": 0.05}) for _ in range(5)]
        deadline = time.monotonic() + 60
        while True:  # the queue is back when a submission goes through
            try:
                client.submit(queue, sessions, after)
                break
            except Exception:
                assert time.monotonic() < deadline, "NATS did not come back"
                after = [Job.new("probe", {"sleep_s": 0.05}) for _ in range(5)]
                time.sleep(0.5)
        deadline = time.monotonic() + 120
        while set(_statuses(sessions, [j.id for j in after]).values()) != {"done"}:
            assert time.monotonic() < deadline, "the worker did not resume after the restart"
            assert worker.poll() is None, worker.communicate()[0].decode()
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(60)
    assert worker.returncode == 0
