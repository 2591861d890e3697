"""Durable pull consumers (持久拉取消费者): write, commit, then acknowledge.

A consumer fetches up to ``batch`` messages, hands them to a handler that writes them in one
transaction, and acknowledges them only after the commit. A process that dies between the
commit and the acknowledgement has its messages redelivered after ``ack_wait_s``; the writes
are idempotent (sightings: the unique pseudonym/time/sensor key; airspace messages: the
receive time, sensor and kind stamped at the edge), so a redelivery adds nothing. Several
processes on the same durable share the work (a queue group); JetStream never has more than
``max_ack_pending`` messages out, and each process at most one batch, so memory is bounded.

Handlers:

* :class:`SightingsHandler` — any number of processes per area;
* :class:`AirspaceHandler` — the live picture (tracking) is stateful, so one process owns an
  area; a second process on the same area is a cold standby started when the first is gone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from haizhou.errors import InputError
from haizhou.feeds.messages import FeedMessage
from haizhou.ingest.sightings import write_sightings
from haizhou.ingest.sightings_stream import parse_message
from haizhou.ingest.timeparse import parse_times
from haizhou.security.pseudonym import Pseudonymiser
from haizhou.store.tables.airspace import AirspaceMessageRow
from haizhou.streams.config import StreamsConfig, connect, ensure_streams
from haizhou.streams.publisher import RECEIVED_HEADER, TRANSPORT_HEADER

__all__ = [
    "AirspaceHandler",
    "BatchOutcome",
    "ConsumerStats",
    "Handler",
    "SightingsHandler",
    "StreamConsumer",
]

log = logging.getLogger("haizhou.streams.consumer")


@dataclass(slots=True)
class BatchOutcome:
    """What a handler did with one batch: rows written and indices of rejected messages."""

    written: int = 0
    rejected: tuple[int, ...] = ()


class Handler(Protocol):
    """Writes one batch of messages and commits; raises to have the batch redelivered."""

    kind: str

    def __call__(self, messages: Sequence[Msg]) -> BatchOutcome: ...

    def idle(self) -> None: ...


@dataclass(slots=True)
class ConsumerStats:
    """Counters of one consumer process."""

    messages: int = 0
    written: int = 0
    rejected: int = 0
    redelivered: int = 0
    batches: int = 0
    failed_batches: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class SightingsHandler:
    """Sightings messages → :func:`haizhou.ingest.sightings.write_sightings` (idempotent)."""

    kind = "sightings"

    def __init__(
        self, sessions: sessionmaker[Session], pseudonymiser: Pseudonymiser, zone: str
    ) -> None:
        self._sessions = sessions
        self._ps = pseudonymiser
        self._zone = zone

    def _one(self, m: Msg) -> tuple[list[str], list[str], list[str], np.ndarray] | None:
        """One message the slow way (records in clear are pseudonymised); None if malformed."""
        try:
            return parse_message(m.data, self._ps, self._zone)
        except InputError as exc:
            log.warning("dropped a sightings message on %s: %s", m.subject, exc)
            return None

    def _parse(
        self, messages: Sequence[Msg]
    ) -> tuple[list[str], list[str], list[str], list[np.ndarray], list[int]]:
        """Records of a batch: pseudonymised messages parsed together (one time parse for the
        batch); others through :func:`~haizhou.ingest.sightings_stream.parse_message`."""
        ids: list[str] = []
        kinds: list[str] = []
        sensors: list[str] = []
        secs: list[np.ndarray] = []
        rejected: list[int] = []
        fast: list[tuple[int, list[dict[str, Any]]]] = []
        for i, m in enumerate(messages):
            try:
                doc = json.loads(m.data)
            except (UnicodeDecodeError, json.JSONDecodeError):
                doc = None
            recs = doc if isinstance(doc, list) else [doc]
            if recs and all(
                isinstance(r, dict) and r.get("pseudo_id") and r.get("sensor_id")
                and not r.get("device_or_plate")
                for r in recs
            ):  # fmt: skip
                fast.append((i, recs))
                continue
            one = self._one(m)
            if one is None:
                rejected.append(i)
                continue
            ids += one[0]
            kinds += one[1]
            sensors += one[2]
            secs.append(one[3])
        if fast:
            flat = [r for _, recs in fast for r in recs]
            times, bad = parse_times(
                pa.array([str(r.get("seen_at") or "") or None for r in flat]), self._zone
            )
            bad = bad | np.asarray(times.is_null().to_numpy(zero_copy_only=False))
            us = times.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            start = 0
            for i, recs in fast:
                end = start + len(recs)
                if bad[start:end].any():
                    log.warning(
                        "dropped a sightings message on %s: invalid seen_at", messages[i].subject
                    )
                    rejected.append(i)
                else:
                    ids += [str(r["pseudo_id"]) for r in recs]
                    kinds += [str(r.get("id_kind") or "device") for r in recs]
                    sensors += [str(r["sensor_id"]) for r in recs]
                    secs.append(us[start:end] // 1_000_000)
                start = end
        return ids, kinds, sensors, secs, sorted(rejected)

    def __call__(self, messages: Sequence[Msg]) -> BatchOutcome:
        ids, kinds, sensors, secs, rejected = self._parse(messages)
        if not ids:
            return BatchOutcome(0, tuple(rejected))
        with self._sessions() as session:
            new = write_sightings(
                session,
                pseudo_ids=ids,
                kinds=kinds,
                sensor_ids=sensors,
                seen_at_s=np.concatenate(secs),
            )
            session.commit()
        return BatchOutcome(new, tuple(rejected))

    def idle(self) -> None:
        return None


def feed_message(msg: Msg) -> FeedMessage:
    """The :class:`FeedMessage` of an airspace stream message (subject and headers)."""
    parts = msg.subject.split(".")
    if len(parts) != 5:
        raise InputError(f"subject {msg.subject!r} is not <root>.airspace.<area>.<sensor>.<kind>")
    headers = msg.headers or {}
    at = headers.get(RECEIVED_HEADER)
    received = datetime.fromisoformat(at) if at else datetime.now(UTC)
    return FeedMessage(
        sensor_id=unquote(parts[3]),
        kind=unquote(parts[4]),
        payload=msg.data,
        received_at=received,
        transport=headers.get(TRANSPORT_HEADER, "mqtt"),
        topic=f"haizhou/airspace/{unquote(parts[3])}/{unquote(parts[4])}",
    )


class AirspaceHandler:
    """Airspace messages → the live pipeline and store of an
    :class:`~haizhou.feeds.runner.AirspaceRunner` (tracks, alerts, incidents).

    Messages already stored (a redelivery after the store committed but before the
    acknowledgement reached JetStream) are recognised by receive time, sensor, kind and payload
    and skipped.
    """

    kind = "airspace"

    def __init__(self, runner: Any, *, idle_step_s: float = 1.0) -> None:
        self.runner = runner
        self._idle_step_s = idle_step_s
        self._last_step = time.monotonic()

    def _stored(self, batch: list[FeedMessage]) -> set[tuple[str, str, datetime, bytes]]:
        lo = min(m.received_at for m in batch)
        hi = max(m.received_at for m in batch)
        with self.runner.factory() as session:
            rows = session.execute(
                select(
                    AirspaceMessageRow.sensor_id,
                    AirspaceMessageRow.kind,
                    AirspaceMessageRow.received_at,
                    AirspaceMessageRow.payload,
                ).where(
                    AirspaceMessageRow.received_at >= lo,
                    AirspaceMessageRow.received_at <= hi,
                    AirspaceMessageRow.sensor_id.in_({m.sensor_id for m in batch}),
                )
            ).all()
        return {(r[0], r[1], r[2], bytes(r[3])) for r in rows}

    def __call__(self, messages: Sequence[Msg]) -> BatchOutcome:
        batch: list[FeedMessage] = []
        rejected = []
        for i, m in enumerate(messages):
            try:
                batch.append(feed_message(m))
            except (InputError, ValueError) as exc:
                log.warning("dropped an airspace message: %s", exc)
                rejected.append(i)
        if any((m.metadata.num_delivered or 1) > 1 for m in messages) and batch:
            stored = self._stored(batch)
            batch = [
                f for f in batch if (f.sensor_id, f.kind, f.received_at, f.payload) not in stored
            ]
        self.runner.process(batch)
        self._last_step = time.monotonic()
        return BatchOutcome(len(batch), tuple(rejected))

    def idle(self) -> None:
        """Step the picture when nothing arrives, so tracks age and end."""
        if time.monotonic() - self._last_step >= self._idle_step_s:
            self.runner.process([])
            self._last_step = time.monotonic()


class StreamConsumer:
    """One process's pull loop on a durable consumer.

    Parameters
    ----------
    config : StreamsConfig
    handler : Handler
        Writes a batch; its ``kind`` picks the stream.
    area : str
        Area to consume, ``*`` for all.
    batch : int
        Messages fetched (and in flight in this process) at most.
    """

    def __init__(
        self, config: StreamsConfig, handler: Handler, *, area: str = "*", batch: int = 500
    ) -> None:
        self.config = config
        self.handler = handler
        self.area = area
        self.batch = batch
        self.stats = ConsumerStats()
        if handler.kind == "sightings":
            self.subject = config.sightings_subject(area)
        else:
            self.subject = config.airspace_subject(area, "*", "*")
        self.durable = config.durable(handler.kind, area)

    def _consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.config.ack_wait_s,
            max_deliver=self.config.max_deliver,
            max_ack_pending=self.config.max_ack_pending,
            filter_subject=self.subject,
        )

    async def run(
        self,
        stop: asyncio.Event,
        *,
        on_batch: Callable[[ConsumerStats], None] | None = None,
    ) -> ConsumerStats:
        """Consume until ``stop`` is set; returns the counters."""
        nc = await connect(self.config)
        try:
            js = nc.jetstream()
            await ensure_streams(js, self.config)
            sub = await js.pull_subscribe(
                self.subject,
                durable=self.durable,
                stream=self.config.stream(self.handler.kind),
                config=self._consumer_config(),
            )
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(self.batch, timeout=0.5)
                except (NatsTimeout, TimeoutError):
                    await asyncio.to_thread(self.handler.idle)
                    continue
                await self._handle(msgs)
                if on_batch is not None:
                    on_batch(self.stats)
        finally:
            await nc.close()
        return self.stats

    async def _handle(self, msgs: list[Msg]) -> None:
        try:
            outcome = await asyncio.to_thread(self.handler, msgs)
        except Exception as exc:  # the store is away: leave the batch for redelivery
            self.stats.failed_batches += 1
            log.error("batch of %d not written (%s); redelivered later", len(msgs), exc)
            for m in msgs:
                await m.nak(delay=1.0)
            await asyncio.sleep(1.0)
            return
        rejected = set(outcome.rejected)
        for i, m in enumerate(msgs):
            if i in rejected:
                await m.term()  # malformed: redelivering cannot help
            else:
                await m.ack()
        self.stats.messages += len(msgs)
        self.stats.written += outcome.written
        self.stats.rejected += len(rejected)
        self.stats.redelivered += sum(1 for m in msgs if (m.metadata.num_delivered or 1) > 1)
        self.stats.batches += 1
