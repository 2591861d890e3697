"""Submitting jobs and reading them back (作业提交), for the CLI and the API.

:func:`submit` records each job ``queued`` in the store, then publishes it; if the queue does
not answer, the rows are marked ``failed`` with the reason and :class:`JobError` is raised, so
no job is left looking queued when it never reached the queue.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from haizhou.jobs import records
from haizhou.jobs.queue import QueueConfig, queue_depth, submit_many
from haizhou.jobs.spec import Job, JobError


def submit(
    config: QueueConfig,
    sessions: sessionmaker[Session],
    jobs: list[Job],
    *,
    submitted_by: str | None = None,
) -> list[int]:
    """Record and publish ``jobs``; returns their stream sequence numbers."""
    with sessions() as session:
        for job in jobs:
            records.record_submitted(session, job, submitted_by=submitted_by)
        session.commit()
    try:
        return asyncio.run(submit_many(config, jobs))
    except JobError as exc:
        with sessions() as session:
            for job in jobs:
                records.fail(session, job.id, f"not queued: {exc}", final=True)
            session.commit()
        raise


def depth(config: QueueConfig) -> dict[str, int]:
    """Jobs waiting and in flight on the queue."""
    return asyncio.run(queue_depth(config))
