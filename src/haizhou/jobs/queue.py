"""The job queue on NATS JetStream (作业队列).

One work-queue stream per queue name (default ``haizhou``): stream ``HAIZHOU_JOBS`` on subjects
``haizhou.jobs.<kind>``, with one durable pull consumer ``haizhou-workers`` that every worker
shares. A message leaves the stream only when a worker acknowledges it; a worker that dies or
stops answering for ``ack_wait_s`` has its message redelivered to another, up to
``max_deliver`` times. Publishing uses the job id as ``Nats-Msg-Id``, so a submission repeated
within the duplicate window is stored once.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import NoServersError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from haizhou.jobs.spec import Job, JobError
from haizhou.streams.config import add_stream_if_missing

log = logging.getLogger("haizhou.jobs.queue")

DEFAULT_URL = "nats://127.0.0.1:4222"


@dataclass(frozen=True)
class QueueConfig:
    """Where the queue lives and how redelivery behaves.

    Parameters
    ----------
    url
        NATS server URL(s), comma-separated.
    name
        Queue name; names the stream (``<NAME>_JOBS``), subjects (``<name>.jobs.*``) and the
        durable consumer (``<name>-workers``). Letters, digits, ``-`` and ``_``.
    ack_wait_s
        Seconds a delivered job may go without an acknowledgement or a progress signal before
        JetStream redelivers it. Workers signal progress every third of it while a job runs.
    max_deliver
        Deliveries of one job before it is given up (recorded ``failed``).
    """

    url: str = DEFAULT_URL
    name: str = "haizhou"
    ack_wait_s: float = 30.0
    max_deliver: int = 5

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise JobError(f"queue name {self.name!r}: use letters, digits, '-' and '_' only")

    @property
    def stream(self) -> str:
        return f"{self.name.upper().replace('-', '_')}_JOBS"

    @property
    def subjects(self) -> str:
        return f"{self.name}.jobs.>"

    @property
    def durable(self) -> str:
        return f"{self.name}-workers"

    def subject(self, kind: str) -> str:
        return f"{self.name}.jobs.{kind}"


async def _log_error(exc: Exception) -> None:
    log.warning("NATS: %s", exc)


async def connect(config: QueueConfig, *, reconnect: bool = False, **options: Any) -> Client:
    """Connect to NATS; :class:`JobError` with the URL when nothing answers.

    ``reconnect=True`` (long-lived workers) keeps trying, first to connect and then after a
    lost connection; without it a short-lived client fails at once.
    """
    try:
        return await nats.connect(
            servers=config.url.split(","),
            connect_timeout=options.pop("connect_timeout", 3),
            allow_reconnect=reconnect,
            max_reconnect_attempts=-1 if reconnect else 1,
            reconnect_time_wait=2.0 if reconnect else 0.1,
            error_cb=_log_error,
            **options,
        )
    except (TimeoutError, NoServersError, OSError) as exc:
        raise JobError(
            f"NATS does not answer at {config.url} ({exc.__class__.__name__}); start nats-server "
            "with JetStream (-js) or set HAIZHOU_NATS_URL"
        ) from None


async def ensure_queue(js: JetStreamContext, config: QueueConfig, *, update: bool = False) -> None:
    """Create the stream and the shared durable consumer if missing.

    ``update=True`` (workers) also applies ``config``'s ack wait and delivery limit to an
    existing consumer; submitters leave the workers' settings alone.
    """
    await add_stream_if_missing(
        js,
        StreamConfig(
            name=config.stream,
            subjects=[config.subjects],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=600.0,
        ),
    )
    if not update:
        try:
            await js.consumer_info(config.stream, config.durable)
            return
        except NotFoundError:
            pass
    await js.add_consumer(
        config.stream,
        ConsumerConfig(
            durable_name=config.durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=config.ack_wait_s,
            max_deliver=config.max_deliver,
            filter_subject=config.subjects,
            max_ack_pending=1000,
        ),
    )


async def publish(js: JetStreamContext, config: QueueConfig, job: Job) -> int:
    """Publish one job; returns its stream sequence number."""
    ack = await js.publish(
        config.subject(job.kind), job.encode(), timeout=5.0, headers={"Nats-Msg-Id": job.id}
    )
    return int(ack.seq)


async def depth(js: JetStreamContext, config: QueueConfig) -> dict[str, int]:
    """Jobs waiting (``pending``) and delivered but not yet acknowledged (``in_flight``)."""
    info = await js.consumer_info(config.stream, config.durable)
    return {"pending": int(info.num_pending or 0), "in_flight": int(info.num_ack_pending or 0)}


async def delete_queue(config: QueueConfig) -> None:
    """Delete the stream (and its consumer); for tests and benchmarks."""
    nc = await connect(config)
    try:
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(config.stream)
    finally:
        await nc.close()


async def submit_many(config: QueueConfig, jobs: list[Job]) -> list[int]:
    """Connect, make sure the queue exists, publish ``jobs`` and disconnect."""
    nc = await connect(config)
    try:
        js = nc.jetstream()
        await ensure_queue(js, config)
        return [await publish(js, config, job) for job in jobs]
    finally:
        await nc.close()


async def queue_depth(config: QueueConfig) -> dict[str, int]:
    """Connect and read :func:`depth`."""
    nc = await connect(config)
    try:
        js = nc.jetstream()
        await ensure_queue(js, config)
        return await depth(js, config)
    finally:
        await nc.close()
