"""The worker (作业执行进程): pull a job, run it, record it, acknowledge it.

Exactly once in effect: :func:`execute` claims the job's row (counting the attempt), runs the
handler in a transaction that also marks the row ``done``, and only then is the message
acknowledged. If the worker dies before the commit, nothing of the job stays and JetStream
redelivers it after ``ack_wait_s``; if it dies after the commit but before the
acknowledgement, the redelivered job finds its row ``done`` and is acknowledged without running
again. On PostgreSQL the work transaction holds the row lock, so even two deliveries running at
once (a worker stalled past ``ack_wait_s``) commit the effect once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from prometheus_client import Counter, Histogram
from sqlalchemy.orm import Session, sessionmaker

from haizhou.jobs import records
from haizhou.jobs.handlers import HANDLERS, JobEnvironment
from haizhou.jobs.queue import QueueConfig, connect, ensure_queue
from haizhou.jobs.retry import retry_transaction
from haizhou.jobs.spec import Job, JobError
from haizhou.store.tables.jobs import JobRow

log = logging.getLogger("haizhou.jobs.worker")

JOB_SECONDS = Histogram(
    "haizhou_job_duration_seconds",
    "Wall-clock seconds of a job run by this worker, by kind and outcome.",
    ["kind", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
JOBS_DONE = Counter(
    "haizhou_worker_jobs_total",
    "Jobs handled by this worker, by kind and outcome.",
    ["kind", "outcome"],
)


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Outcome:
    """What :func:`execute` did with one delivery: ``done``, ``skipped`` (already done) or
    ``failed``; ``final`` when no retry is left."""

    status: str
    final: bool = False
    error: str | None = None


def execute(
    job: Job,
    *,
    sessions: sessionmaker[Session],
    env: JobEnvironment,
    worker: str,
    attempt: int,
    max_deliver: int,
) -> Outcome:
    """Run one delivery of ``job`` against the store (synchronous; called in a thread)."""
    claimed = retry_transaction(sessions, lambda session: _claim(session, job, worker))
    if claimed is None:
        return Outcome("skipped")
    # the row counts every attempt; JetStream's delivery count alone is not trusted, since
    # nats-server 2.9 can report a redelivery after a delayed nak as the first delivery again
    attempt = max(attempt, claimed)
    handler = HANDLERS[job.kind]
    started = time.perf_counter()
    try:
        with sessions() as session:
            row = session.get(JobRow, job.id, with_for_update=True)
            if row is None or row.status == "done":
                return Outcome("skipped")
            result = handler(dict(job.params), session, env)
            records.finish(session, row, result)
            session.commit()
    except Exception as exc:
        final = attempt >= max_deliver or isinstance(exc, JobError)
        text = (
            str(exc)
            if isinstance(exc, JobError)
            else "".join(traceback.format_exception_only(exc)).strip()
        )
        retry_transaction(
            sessions, lambda session: records.fail(session, job.id, text, final=final)
        )
        JOB_SECONDS.labels(job.kind, "failed").observe(time.perf_counter() - started)
        JOBS_DONE.labels(job.kind, "failed").inc()
        log.warning(
            "job failed",
            extra={"job_id": job.id, "kind": job.kind, "attempt": attempt, "error": text},
        )
        return Outcome("failed", final=final, error=text)
    JOB_SECONDS.labels(job.kind, "done").observe(time.perf_counter() - started)
    JOBS_DONE.labels(job.kind, "done").inc()
    log.info("job done", extra={"job_id": job.id, "kind": job.kind, "attempt": attempt})
    return Outcome("done")


def _claim(session: Session, job: Job, worker: str) -> int | None:
    row = records.claim(session, job, worker=worker)
    return None if row is None else row.attempts


async def _heartbeat(msg: Msg, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await msg.in_progress()
        except Exception:
            log.debug("progress signal failed", exc_info=True)


async def handle_message(
    msg: Msg,
    *,
    config: QueueConfig,
    sessions: sessionmaker[Session],
    env: JobEnvironment,
    worker: str,
) -> Outcome:
    """Decode, execute (in a thread, with progress signals) and acknowledge one message."""
    try:
        job = Job.decode(msg.data)
    except JobError as exc:
        log.error("dropping malformed job message", extra={"error": str(exc)})
        await msg.term()
        return Outcome("failed", final=True, error=str(exc))
    attempt = int(msg.metadata.num_delivered or 1)
    beat = asyncio.create_task(_heartbeat(msg, max(config.ack_wait_s / 3.0, 0.2)))
    try:
        outcome = await asyncio.to_thread(
            execute,
            job,
            sessions=sessions,
            env=env,
            worker=worker,
            attempt=attempt,
            max_deliver=config.max_deliver,
        )
    finally:
        beat.cancel()
    try:
        if outcome.status == "failed" and not outcome.final:
            await msg.nak(delay=min(2.0**attempt, 60.0))
        elif outcome.status == "failed":
            await msg.term()
        else:
            await msg.ack_sync(timeout=5.0)
    except (NatsError, TimeoutError) as exc:
        # the effect is committed (or recorded failed); a redelivery finds it and acks
        log.warning("acknowledgement lost", extra={"job_id": job.id, "error": repr(exc)})
    return outcome


async def run_worker(
    config: QueueConfig,
    *,
    sessions: sessionmaker[Session],
    env: JobEnvironment,
    worker: str | None = None,
    stop: asyncio.Event | None = None,
    max_jobs: int | None = None,
    idle_exit_s: float | None = None,
    on_outcome: Callable[[Job | None, Outcome], None] | None = None,
) -> int:
    """Pull and run jobs until ``stop`` is set, ``max_jobs`` ran or the queue stayed empty for
    ``idle_exit_s`` seconds. Returns the number of deliveries handled."""
    name = worker or default_worker_name()
    stop = stop or asyncio.Event()
    nc = await connect(config, reconnect=True)
    handled = 0
    try:
        js = nc.jetstream()
        await ensure_queue(js, config, update=True)
        sub = await js.pull_subscribe_bind(durable=config.durable, stream=config.stream)
        log.info("worker ready", extra={"worker": name, "stream": config.stream})
        idle_since = time.monotonic()
        while not stop.is_set() and (max_jobs is None or handled < max_jobs):
            try:
                msgs = await sub.fetch(1, timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                    break
                continue
            except NatsError as exc:  # disconnected: the client reconnects by itself
                log.warning("queue unavailable; waiting", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                outcome = await handle_message(
                    msg, config=config, sessions=sessions, env=env, worker=name
                )
                handled += 1
                idle_since = time.monotonic()
                if on_outcome is not None:
                    on_outcome(None, outcome)
    finally:
        await nc.close()
    return handled
