"""Worker reliability on the real NATS JetStream server and both store back ends."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.jobs._helpers import worker_process

from haizhou.jobs import Job, JobEnvironment, QueueConfig, client
from haizhou.jobs.queue import connect, ensure_queue
from haizhou.jobs.worker import execute
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import ModelRunRow
from haizhou.store.tables.jobs import JobRow

pytestmark = [pytest.mark.nats, pytest.mark.slow]


def _row(url: str, job_id: str) -> JobRow | None:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return session.get(JobRow, job_id)
    finally:
        engine.dispose()


def _deliveries(count: int) -> tuple[str, ...]:
    """Worker options to exit after ``count`` deliveries (the idle exit is only a backstop, so
    a slow machine cannot end the worker before a redelivery arrives)."""
    return ("--max-jobs", str(count), "--idle-exit", "60")


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_worker_job_is_redelivered_and_done_once(
    queue: QueueConfig, store_url: str, tmp_path: Path
) -> None:
    sessions = make_sessionmaker(make_engine(store_url))
    job = Job.new("probe", {"sleep_s": 4.0})
    other = Job.new("probe", {"sleep_s": 0.0})
    client.submit(queue, sessions, [job, other])

    first = worker_process(queue, store_url, tmp_path, "--name", "first")
    try:
        _wait_for(
            lambda: (row := _row(store_url, job.id)) is not None and row.status == "running",
            60,
            "the first worker to start the job",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert _row(store_url, job.id).status == "running"  # type: ignore[union-attr]

    second = worker_process(queue, store_url, tmp_path, "--name", "second", *_deliveries(2))
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output.decode()

    row = _row(store_url, job.id)
    assert row is not None and row.status == "done", output.decode()
    assert row.attempts == 2
    assert row.worker == "second"
    assert row.result == {"rounds": 0}
    assert _row(store_url, other.id).status == "done"  # type: ignore[union-attr]
    assert client.depth(queue) == {"pending": 0, "in_flight": 0}


def test_job_committed_but_not_acknowledged_takes_effect_once(
    queue: QueueConfig, store_url: str, tmp_path: Path
) -> None:
    """A worker dies between its commit and its ack: the redelivery must not run the model
    again (the model run row is the job's effect)."""
    engine = make_engine(store_url)
    sessions = make_sessionmaker(engine)
    job = Job.new(
        "model",
        {
            "model_id": "incidents.daily_volume",
            "start": "2025-03-01T00:00:00+08:00",
            "end": "2025-03-02T00:00:00+08:00",
        },
    )
    client.submit(queue, sessions, [job])
    env = JobEnvironment(engine=engine, data_dir=tmp_path)

    async def run_without_ack() -> str:
        nc = await connect(queue)
        js = nc.jetstream()
        await ensure_queue(js, queue)
        sub = await js.pull_subscribe_bind(durable=queue.durable, stream=queue.stream)
        (msg,) = await sub.fetch(1, timeout=10)
        outcome = await asyncio.to_thread(
            execute,
            Job.decode(msg.data),
            sessions=sessions,
            env=env,
            worker="dies",
            attempt=1,
            max_deliver=queue.max_deliver,
        )
        await nc.close()  # no ack: the "crash"
        return outcome.status

    assert asyncio.run(run_without_ack()) == "done"

    def model_runs() -> int:
        with sessions() as session:
            return int(session.scalar(select(func.count()).select_from(ModelRunRow)) or 0)

    assert model_runs() == 1
    assert client.depth(queue)["in_flight"] == 1

    second = worker_process(queue, store_url, tmp_path, "--name", "second", *_deliveries(1))
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output.decode()
    assert "after 1 deliveries" in output.decode()
    assert model_runs() == 1
    row = _row(store_url, job.id)
    assert row is not None and row.status == "done" and row.attempts == 1
    assert row.worker == "dies"
    assert client.depth(queue) == {"pending": 0, "in_flight": 0}
    engine.dispose()


def test_failing_job_is_retried_then_failed(
    queue: QueueConfig, store_url: str, tmp_path: Path
) -> None:
    queue = QueueConfig(url=queue.url, name=queue.name, ack_wait_s=2.0, max_deliver=2)
    sessions = make_sessionmaker(make_engine(store_url))
    job = Job.new("probe", {"fail": True})
    client.submit(queue, sessions, [job])
    worker = worker_process(queue, store_url, tmp_path, "--max-deliver", "2", *_deliveries(2))
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output.decode()
    row = _row(store_url, job.id)
    assert row is not None and row.status == "failed", (output.decode(), row.attempts, row.error)
    assert row.attempts == 2
    assert "asked to fail" in (row.error or "")


def test_unreachable_queue_marks_the_job_failed(store_url: str) -> None:
    sessions = make_sessionmaker(make_engine(store_url))
    job = Job.new("probe", {})
    with pytest.raises(Exception, match="NATS does not answer"):
        client.submit(QueueConfig(url="nats://127.0.0.1:1", name="nowhere"), sessions, [job])
    row = _row(store_url, job.id)
    assert row is not None and row.status == "failed" and "not queued" in (row.error or "")
