"""Job messages and records without the queue: encoding, claim/finish idempotency, retries."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from haizhou.jobs import Job, JobEnvironment, JobError, records
from haizhou.jobs.retry import StoreUnavailableError, retry_transaction
from haizhou.jobs.worker import execute
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker


def test_job_round_trips_and_rejects_garbage() -> None:
    job = Job.new("model", {"model_id": "rules.x", "名称": "测试"})
    assert Job.decode(job.encode()) == job
    for bad in (b"", b"{}", b"[1]", b'{"id": "a", "kind": "nuke", "params": {}}', b"\xff"):
        with pytest.raises(JobError):
            Job.decode(bad)
    with pytest.raises(JobError, match="unknown job kind"):
        Job.new("nuke")


def test_claim_counts_attempts_and_done_jobs_are_skipped(sqlite_url: str, tmp_path: Path) -> None:
    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    job = Job.new("probe", {"fail": True})
    with sessions() as session:
        records.record_submitted(session, job)
        session.commit()
    env = JobEnvironment(engine=engine, data_dir=tmp_path)
    first = execute(job, sessions=sessions, env=env, worker="w", attempt=1, max_deliver=2)
    assert (first.status, first.final) == ("failed", False)
    with sessions() as session:
        assert records.get(session, job.id).status == "queued"
    second = execute(job, sessions=sessions, env=env, worker="w", attempt=2, max_deliver=2)
    assert (second.status, second.final) == ("failed", True)
    with sessions() as session:
        record = records.get(session, job.id)
    assert (record.status, record.attempts) == ("failed", 2)

    # a redelivery the server misreports as a first delivery still ends the job: the row has
    # counted the earlier attempts
    late = Job.new("probe", {"fail": True})
    for _ in range(2):
        outcome = execute(late, sessions=sessions, env=env, worker="w", attempt=1, max_deliver=2)
    assert (outcome.status, outcome.final) == ("failed", True)
    with sessions() as session:
        assert (records.get(session, late.id).status, records.get(session, late.id).attempts) == (
            "failed",
            2,
        )

    ok = Job.new("probe", {})
    assert (
        execute(ok, sessions=sessions, env=env, worker="w", attempt=1, max_deliver=2).status
        == "done"
    )
    again = execute(ok, sessions=sessions, env=env, worker="w2", attempt=2, max_deliver=2)
    assert again.status == "skipped"
    with sessions() as session:
        record = records.get(session, ok.id)
    assert (record.status, record.attempts, record.worker) == ("done", 1, "w")
    with sessions() as session, pytest.raises(JobError, match="already exists"):
        records.record_submitted(session, ok)
    engine.dispose()


def test_retry_transaction_gives_up_after_the_deadline(sqlite_url: str) -> None:
    sessions = make_sessionmaker(make_engine(sqlite_url))
    calls: list[int] = []

    def lost(_session: object) -> None:
        calls.append(1)
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    with pytest.raises(StoreUnavailableError, match="did not come back"):
        retry_transaction(sessions, lost, deadline_s=0.3)
    assert len(calls) >= 2
    with pytest.raises(ZeroDivisionError):
        retry_transaction(sessions, lambda _s: 1 / 0)
