"""Durable pull consumers (持久拉取消费者): write, commit, then acknowledge.

A consumer fetches up to ``batch`` messages, hands them to a handler that writes them in one
transaction, and acknowledges them only after the commit. A process that dies between the
commit and the acknowledgement has its messages redelivered after ``ack_wait_s``; the writes
are idempotent (sightings: the unique pseudonym/time/sensor key; airspace messages: the
receive time, sensor and kind stamped at the edge), so a redelivery adds nothing. Several
processes on the same durable share the work (a queue group); JetStream never has more than
``max_ack_pending`` messages out, and each process at most one batch, so memory is bounded.

A batch closes at ``batch`` messages or the handler's ``max_wait_s`` after its first message:
10 ms for airspace (the runner's deadline: an alert waits at most that long for its batch to
close), 0.2 s for sightings (throughput: the per-batch cost of a transaction is spread over
more rows). Idle, a consumer holds one lingering pull request (no polling).

Handlers:

* :class:`SightingsHandler` — any number of processes per area;
* :class:`AirspaceHandler` — the live picture (tracking) is stateful, so one process owns an
  area; a second process on the same area is a cold standby started when the first is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote

import numpy as np
import orjson
import pyarrow as pa
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from haizhou.errors import InputError
from haizhou.feeds.messages import FeedMessage
from haizhou.ingest.sightings import pseudonymise_devices, utc_seconds, write_sightings
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
    max_wait_s: float | None  # close a batch this long after its first message; None: throughput

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


def _records(data: bytes) -> list[dict[str, Any]] | None:
    """The records of one sightings message, or None if it is malformed (not JSON, not an
    object or a non-empty list of objects, or a record without an identifier or sensor)."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    recs = doc if isinstance(doc, list) else [doc]
    if not recs:
        return None
    for r in recs:
        if not (
            isinstance(r, dict)
            and (r.get("device_or_plate") or r.get("pseudo_id"))
            and r.get("sensor_id")
        ):
            return None
    return recs


def _seconds(values: list[Any], zone: str) -> tuple[np.ndarray, np.ndarray]:
    """UTC seconds of ISO 8601 times and the mask of missing or unparseable ones; each
    distinct text is parsed once (a gateway's batch shares a few times)."""
    texts = pa.array([str(v) if v else None for v in values], pa.string()).dictionary_encode()
    secs, bad = utc_seconds(texts.dictionary, zone)
    if secs.size == 0:  # every time missing
        return np.zeros(len(values), np.int64), np.ones(len(values), bool)
    idx = texts.indices.fill_null(0).to_numpy(zero_copy_only=False)
    missing = np.asarray(texts.indices.is_null().to_numpy(zero_copy_only=False))
    return secs[idx], bad[idx] | missing


class SightingsHandler:
    """Sightings messages → :func:`haizhou.ingest.sightings.write_sightings` (idempotent)."""

    kind = "sightings"
    max_wait_s: float | None = 0.2  # batches gather 0.2 s: the per-batch cost is spread thin

    def __init__(
        self, sessions: sessionmaker[Session], pseudonymiser: Pseudonymiser, zone: str
    ) -> None:
        self._sessions = sessions
        self._ps = pseudonymiser
        self._zone = zone

    def _parse(
        self, messages: Sequence[Msg]
    ) -> tuple[list[str], list[str], list[str], list[np.ndarray], list[int]]:
        """Records of a batch, parsed together: one JSON decode per message, then one time
        parse (of the distinct time strings) and one pseudonymisation (of the distinct
        identifiers in clear) for the whole batch. A message with a malformed record is
        rejected whole, as :func:`~haizhou.ingest.sightings_stream.parse_message` does."""
        flat: list[dict[str, Any]] = []
        spans: list[tuple[int, int, int]] = []  # (message index, first record, end)
        rejected: list[int] = []
        for i, m in enumerate(messages):
            recs = _records(m.data)
            if recs is None:
                log.warning("dropped a sightings message on %s: malformed records", m.subject)
                rejected.append(i)
                continue
            spans.append((i, len(flat), len(flat) + len(recs)))
            flat += recs
        if not flat:
            return [], [], [], [], sorted(rejected)
        secs, bad = _seconds([r.get("seen_at") for r in flat], self._zone)
        ids = [str(r.get("pseudo_id") or "") for r in flat]
        kinds = [str(r.get("id_kind") or "device") for r in flat]
        where = [k for k, r in enumerate(flat) if r.get("device_or_plate")]
        if where:  # identifiers in clear: pseudonymised here, each distinct value once
            clear = [str(flat[k]["device_or_plate"]) for k in where]
            tokens, token_kinds = pseudonymise_devices(self._ps, clear)
            for k, t, tk in zip(where, tokens, token_kinds, strict=True):
                if t is None:  # only blanks: no identifier
                    bad[k] = True
                else:
                    ids[k], kinds[k] = str(t), str(tk)
        keep = np.ones(len(flat), bool)
        for i, start, end in spans:
            if bad[start:end].any():
                log.warning(
                    "dropped a sightings message on %s: invalid record", messages[i].subject
                )
                rejected.append(i)
                keep[start:end] = False
        rows = np.flatnonzero(keep).tolist()
        ids = [ids[k] for k in rows]
        kinds = [kinds[k] for k in rows]
        sensors = [str(flat[k]["sensor_id"]) for k in rows]
        parts = [secs[keep]]
        return ids, kinds, sensors, parts, sorted(rejected)

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


@functools.lru_cache(maxsize=4096)
def _subject_names(subject: str) -> tuple[str, str, str]:
    """``(sensor_id, kind, MQTT topic)`` of an airspace subject (a few sensors: cached)."""
    parts = subject.split(".")
    if len(parts) != 5:
        raise InputError(f"subject {subject!r} is not <root>.airspace.<area>.<sensor>.<kind>")
    sensor, kind = unquote(parts[3]), unquote(parts[4])
    return sensor, kind, f"haizhou/airspace/{sensor}/{kind}"


def delivered(msg: Msg) -> int:
    """How many times JetStream delivered ``msg`` (1 the first time), from its reply subject.

    The ack subject is ``$JS.ACK.<stream>.<consumer>.<delivered>.…`` (9 tokens) or, with a
    domain and account, ``$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.…``;
    anything else (a plain NATS message) counts as a first delivery.
    """
    reply = msg.reply
    if not reply or not reply.startswith("$JS.ACK."):
        return 1
    tokens = reply.split(".")
    at = 4 if len(tokens) == 9 else 6 if len(tokens) >= 12 else -1
    return int(tokens[at]) if at > 0 and tokens[at].isdigit() else 1


def feed_message(msg: Msg) -> FeedMessage:
    """The :class:`FeedMessage` of an airspace stream message (subject and headers)."""
    sensor, kind, topic = _subject_names(msg.subject)
    headers = msg.headers or {}
    at = headers.get(RECEIVED_HEADER)
    received = datetime.fromisoformat(at) if at else datetime.now(UTC)
    if received.tzinfo is None:  # a stamp without an offset is UTC
        received = received.replace(tzinfo=UTC)
    return FeedMessage(
        sensor_id=sensor,
        kind=kind,
        payload=msg.data,
        received_at=received,
        transport=headers.get(TRANSPORT_HEADER, "mqtt"),
        topic=topic,
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
        self.max_wait_s: float | None = runner.max_wait_s  # the runner's batch deadline (10 ms)
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
        if batch and any(delivered(m) > 1 for m in messages):
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
    max_wait_s : float, optional
        Close a batch this long after its first message (default: the handler's
        ``max_wait_s``; ``None`` gathers up to ``idle_s``, for throughput).
    idle_s : float
        Seconds without a message before the handler's ``idle`` is called.
    """

    def __init__(
        self,
        config: StreamsConfig,
        handler: Handler,
        *,
        area: str = "*",
        batch: int = 500,
        max_wait_s: float | None = None,
        idle_s: float = 0.5,
    ) -> None:
        self.config = config
        self.handler = handler
        self.area = area
        self.batch = batch
        self.max_wait_s = (
            max_wait_s if max_wait_s is not None else getattr(handler, "max_wait_s", None)
        )
        self.idle_s = idle_s
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
            # The next batch is gathered while this one is written: the handler's time and the
            # gathering window overlap instead of adding up (a message waits less for its
            # batch), and at most two batches are in flight in this process.
            ahead = asyncio.ensure_future(self._fetch(sub))
            try:
                while not stop.is_set():
                    try:
                        msgs = await ahead
                    except (NatsTimeout, TimeoutError):
                        ahead = asyncio.ensure_future(self._fetch(sub))
                        await asyncio.to_thread(self.handler.idle)
                        continue
                    ahead = asyncio.ensure_future(self._fetch(sub))
                    await self._handle(msgs)
                    if on_batch is not None:
                        on_batch(self.stats)
            finally:
                await self._give_back(ahead)
        finally:
            await nc.close()
        return self.stats

    @staticmethod
    async def _give_back(ahead: asyncio.Future[list[Msg]]) -> None:
        """On stopping: a batch gathered ahead but not written goes back for redelivery now."""
        if not ahead.done():
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, NatsTimeout, TimeoutError):
                await ahead
            return
        if ahead.cancelled() or ahead.exception() is not None:
            return
        for m in ahead.result():
            await m.nak()

    async def _fetch(self, sub: JetStreamContext.PullSubscription) -> list[Msg]:
        """The next batch; raises a timeout after ``idle_s`` without any message.

        The batch closes when ``batch`` messages are in or ``max_wait_s`` after its first
        message arrived, whichever comes first. (A single pull returns as soon as anything is
        waiting, so under a steady trickle it would hand over batches of one or two messages
        and pay the per-batch cost — a transaction, a tracker step — for each.) Without
        ``max_wait_s`` one pull gathers for up to ``idle_s``.
        """
        if self.max_wait_s is None:
            return await sub.fetch(self.batch, timeout=self.idle_s)
        msgs = await sub.fetch(1, timeout=self.idle_s)  # one lingering pull while idle
        close_at = time.monotonic() + self.max_wait_s
        while len(msgs) < self.batch:
            left = close_at - time.monotonic()
            if left < 0.001:
                break
            try:
                msgs += await sub.fetch(self.batch - len(msgs), timeout=left)
            except (NatsTimeout, TimeoutError):
                break
        return msgs

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
        self.stats.redelivered += sum(1 for m in msgs if delivered(m) > 1)
        self.stats.batches += 1
