"""The ``jobs`` table (作业记录): submitted, claimed, finished, listed.

Every function takes an open session; the caller commits. :func:`claim` and :func:`finish`
are written so that a redelivered job whose work is already committed is recognised
(``status == "done"``) and not run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haizhou.jobs.spec import Job, JobError
from haizhou.store.tables.jobs import JobRow

STATUSES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class JobRecord:
    """A job as ``haizhou jobs list|status`` shows it."""

    id: str
    kind: str
    params: dict[str, Any]
    status: str
    attempts: int
    submitted_by: str | None
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    worker: str | None
    result: dict[str, Any] | None
    error: str | None

    @classmethod
    def from_row(cls, row: JobRow) -> JobRecord:
        return cls(
            id=row.id,
            kind=row.kind,
            params=dict(row.params or {}),
            status=row.status,
            attempts=row.attempts,
            submitted_by=row.submitted_by,
            submitted_at=row.submitted_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            duration_s=row.duration_s,
            worker=row.worker,
            result=row.result,
            error=row.error,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "params": self.params,
            "status": self.status,
            "attempts": self.attempts,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_s": self.duration_s,
            "worker": self.worker,
            "result": self.result,
            "error": self.error,
        }


def _now() -> datetime:
    return datetime.now(UTC)


def record_submitted(session: Session, job: Job, *, submitted_by: str | None = None) -> None:
    """Insert the ``queued`` row of a new job (before it is published)."""
    if session.get(JobRow, job.id) is not None:
        raise JobError(f"job {job.id} already exists")
    session.add(
        JobRow(
            id=job.id,
            kind=job.kind,
            params=job.params,
            status="queued",
            attempts=0,
            submitted_by=submitted_by,
            submitted_at=_now(),
        )
    )


def claim(session: Session, job: Job, *, worker: str) -> JobRow | None:
    """Mark a delivered job ``running`` and count the attempt, or ``None`` if already done.

    A job published without a row (another producer) gets its row here.
    """
    row = session.get(JobRow, job.id, with_for_update=True)
    if row is None:
        row = JobRow(
            id=job.id,
            kind=job.kind,
            params=job.params,
            status="queued",
            attempts=0,
            submitted_at=_now(),
        )
        session.add(row)
    if row.status == "done":
        return None
    row.status = "running"
    row.attempts = (row.attempts or 0) + 1
    row.started_at = _now()
    row.worker = worker
    row.error = None
    return row


def finish(session: Session, row: JobRow, result: dict[str, Any]) -> None:
    """Mark a claimed job ``done`` with its result (in the caller's transaction)."""
    row.status = "done"
    row.result = result
    row.finished_at = _now()
    row.duration_s = (row.finished_at - row.started_at).total_seconds() if row.started_at else None
    row.error = None


def fail(session: Session, job_id: str, error: str, *, final: bool) -> None:
    """Record a failed attempt: ``failed`` if no retry is left, else back to ``queued``."""
    row = session.get(JobRow, job_id)
    if row is None or row.status == "done":
        return
    row.status = "failed" if final else "queued"
    row.error = error[:4000]
    row.finished_at = _now()
    if row.started_at is not None:
        row.duration_s = (row.finished_at - row.started_at).total_seconds()


def get(session: Session, job_id: str) -> JobRecord:
    """One job; :class:`JobError` if there is none with this id."""
    row = session.get(JobRow, job_id)
    if row is None:
        raise JobError(f"no job {job_id!r}; `haizhou jobs list` shows the recent ones")
    return JobRecord.from_row(row)


def list_jobs(
    session: Session, *, status: str | None = None, kind: str | None = None, limit: int = 50
) -> list[JobRecord]:
    """The most recently submitted jobs, newest first."""
    if status is not None and status not in STATUSES:
        raise JobError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    query = select(JobRow).order_by(JobRow.submitted_at.desc(), JobRow.id).limit(limit)
    if status is not None:
        query = query.where(JobRow.status == status)
    if kind is not None:
        query = query.where(JobRow.kind == kind)
    return [JobRecord.from_row(row) for row in session.scalars(query)]


def counts(session: Session) -> dict[tuple[str, str], int]:
    """Number of jobs by (kind, status), for metrics."""
    rows = session.execute(
        select(JobRow.kind, JobRow.status, func.count()).group_by(JobRow.kind, JobRow.status)
    )
    return {(kind, status): int(n) for kind, status, n in rows}


def duration_sums(session: Session) -> dict[str, tuple[int, float]]:
    """(count, total seconds) of finished jobs by kind, for metrics."""
    rows = session.execute(
        select(JobRow.kind, func.count(), func.coalesce(func.sum(JobRow.duration_s), 0.0))
        .where(JobRow.status == "done")
        .group_by(JobRow.kind)
    )
    return {kind: (int(n), float(total)) for kind, n, total in rows}
