"""Publishing with back-pressure (带背压的发布): bounded outstanding PubAcks, retry when full.

Every publish waits for JetStream's PubAck (the message is on disk); at most ``max_in_flight``
publishes are outstanding at once, so a slow server or a full stream slows the producer down
instead of growing a buffer. A stream at its ``max_msgs`` refuses new messages (discard new);
the publisher then waits and retries the same message with the same ``Nats-Msg-Id``, so a
retry after a lost PubAck is stored once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import APIError

from haizhou.streams.config import StreamError, StreamsConfig, connect, ensure_streams

__all__ = [
    "RECEIVED_HEADER",
    "Publisher",
    "content_id",
    "sightings_payload",
]

log = logging.getLogger("haizhou.streams.publisher")
RECEIVED_HEADER = "Haizhou-Received-At"
TRANSPORT_HEADER = "Haizhou-Transport"


def content_id(subject: str, payload: bytes) -> str:
    """A message id from the content: the same message republished is stored once."""
    return hashlib.blake2b(subject.encode() + b"\0" + payload, digest_size=16).hexdigest()


def sightings_payload(
    pseudo_ids: Sequence[str], kinds: Sequence[str], sensor_ids: Sequence[str], seen_at_s: Any
) -> bytes:
    """The JSON list a sightings message carries: pseudonymised records only (compact JSON;
    each distinct second is formatted once, as a gateway's batch shares a few)."""
    times: dict[int, str] = {}
    records = []
    for p, k, s, t in zip(pseudo_ids, kinds, sensor_ids, seen_at_s, strict=True):
        sec = int(t)
        at = times.get(sec)
        if at is None:
            at = times[sec] = datetime.fromtimestamp(sec, UTC).isoformat()
        records.append({"pseudo_id": p, "id_kind": k, "sensor_id": s, "seen_at": at})
    return orjson.dumps(records)


class Publisher:
    """Publishes to the streams, waiting for PubAcks with a bounded number outstanding.

    Use as ``async with Publisher(config) as pub: await pub.airspace(...)``.

    Parameters
    ----------
    config : StreamsConfig
    max_in_flight : int
        Publishes awaiting their PubAck at most.
    """

    def __init__(self, config: StreamsConfig, *, max_in_flight: int = 256) -> None:
        self.config = config
        self._slots = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._nc: Client | None = None
        self.published = 0
        self.retries = 0
        self.errors = 0

    async def __aenter__(self) -> Publisher:
        self._nc = await connect(self.config)
        self._js = self._nc.jetstream()
        await ensure_streams(self._js, self.config)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.drain()
        if self._nc is not None:
            await self._nc.close()

    async def publish(
        self, subject: str, payload: bytes, *, msg_id: str, headers: dict[str, str] | None = None
    ) -> None:
        """Store one message; returns when it is stored (PubAck) — retries while the stream is
        full or the server is away, up to about a minute."""
        hdrs = {"Nats-Msg-Id": msg_id, **(headers or {})}
        delay = 0.05
        for _attempt in range(200):
            try:
                await self._js.publish(subject, payload, timeout=5.0, headers=hdrs)
                self.published += 1
                return
            except (NatsTimeout, NoRespondersError, APIError) as exc:  # full, restarting, slow
                self.retries += 1
                log.debug("publish to %s retried: %s", subject, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        self.errors += 1
        raise StreamError(f"JetStream did not store a message on {subject} after retries")

    async def submit(
        self, subject: str, payload: bytes, *, msg_id: str, headers: dict[str, str] | None = None
    ) -> None:
        """Publish without waiting for the PubAck, once a slot is free (back-pressure)."""
        await self._slots.acquire()
        task = asyncio.create_task(self.publish(subject, payload, msg_id=msg_id, headers=headers))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("publish failed: %s", task.exception())

    async def drain(self) -> None:
        """Wait until every submitted message is stored."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- typed helpers -------------------------------------------------------------------

    async def sightings(self, area: str, payload: bytes, *, wait: bool = False) -> None:
        """Publish a pseudonymised sightings message (:func:`sightings_payload`)."""
        subject = self.config.sightings_subject(area)
        send = self.publish if wait else self.submit
        await send(subject, payload, msg_id=content_id(subject, payload))

    async def airspace(
        self,
        area: str,
        sensor_id: str,
        kind: str,
        payload: bytes,
        *,
        received_at: datetime | None = None,
        transport: str = "mqtt",
        msg_id: str | None = None,
        wait: bool = False,
    ) -> None:
        """Publish one airspace sensor message with its receive time (UTC, now by default)."""
        subject = self.config.airspace_subject(area, sensor_id, kind)
        at = (received_at or datetime.now(UTC)).astimezone(UTC).isoformat()
        send = self.publish if wait else self.submit
        await send(
            subject,
            payload,
            msg_id=msg_id or uuid.uuid4().hex,
            headers={RECEIVED_HEADER: at, TRANSPORT_HEADER: transport},
        )
