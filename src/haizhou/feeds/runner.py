"""The long-running loop of ``haizhou airspace run`` (空域实时处理进程).

Messages arrive on a thread-safe queue (the MQTT subscriber's network thread puts them there;
HTTP messages stored by the API are polled from the store). One worker drains the queue,
hands the whole batch to the :class:`~haizhou.feeds.pipeline.LivePipeline`, writes the result
with the :class:`~haizhou.feeds.recorder.Recorder` in one transaction, then calls the alert
listeners. A batch is flushed when ``max_batch`` messages are waiting or ``max_wait_s`` after
its first message, whichever comes first: a step has a fixed cost (predicting every track, one
commit), so gathering a few milliseconds of messages cuts the CPU per message several-fold, and
the short deadline bounds what that adds to any alert's latency. Alerts come out of the step
that processed the message causing them.

The queue is bounded (``max_queue``): when the worker falls behind, :meth:`submit` blocks the
MQTT network thread, which then stops acknowledging QoS 1 messages, so the broker holds them
(back-pressure) instead of this process growing without limit.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from haizhou.feeds.area import load_area, serial_hasher
from haizhou.feeds.messages import FeedMessage
from haizhou.feeds.pipeline import Alert, LivePipeline, StepResult
from haizhou.feeds.recorder import Recorder
from haizhou.security.pseudonym import Pseudonymiser
from haizhou.store.tables.airspace import AirspaceMessageRow, AirspaceTrackRow

__all__ = ["AirspaceRunner", "RunStats"]

AlertListener = Callable[[Alert, int, datetime], None]


class RunStats:
    """Counters of a run, for the CLI's progress line."""

    def __init__(self) -> None:
        self.messages = 0
        self.errors = 0
        self.batches = 0
        self.alerts = 0


class AirspaceRunner:
    """Queue → pipeline → store → listeners (实时处理循环).

    Parameters
    ----------
    factory : sessionmaker
        The store.
    pseudonymiser : Pseudonymiser
        For drone serials.
    max_batch : int
        Most messages processed in one step.
    max_wait_s : float
        A batch is flushed at most this long after its first message arrived (0: take only
        what is already waiting).
    max_queue : int
        Messages received and not yet processed, at most; :meth:`submit` waits beyond that.
    http_poll_s : float
        How often HTTP messages waiting in the store are fetched.
    clock : callable
        Returns the current time (UTC); the wall clock by default.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        pseudonymiser: Pseudonymiser,
        *,
        max_batch: int = 2000,
        max_wait_s: float = 0.01,
        max_queue: int = 100_000,
        http_poll_s: float = 0.2,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.http_poll_s = http_poll_s
        self.queue: queue.Queue[FeedMessage] = queue.Queue(maxsize=max_queue)
        self.listeners: list[AlertListener] = []
        self.stats = RunStats()
        self.run_id = f"{clock():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        with factory() as session:
            area = load_area(session)
            # One runner owns the picture: tracks of earlier runs ended with them.
            session.execute(
                update(AirspaceTrackRow)
                .where(AirspaceTrackRow.active.is_(True))
                .values(active=False, updated_at=clock())
            )
            session.commit()
        self.pipeline = LivePipeline(
            area=area, epoch=clock(), pseudonymise=serial_hasher(pseudonymiser)
        )
        self.recorder = Recorder(factory, self.run_id)
        self._last_poll = 0.0

    def submit(self, message: FeedMessage) -> None:
        """Queue one received message (thread-safe; the MQTT callback calls this).

        Blocks while the queue is full (back-pressure: the broker keeps unacknowledged QoS 1
        messages until we take them).
        """
        self.queue.put(message)

    def process(self, messages: list[FeedMessage], now: datetime | None = None) -> StepResult:
        """Run one batch through the pipeline and the store, then tell the listeners."""
        now = now or self.clock()
        result = self.pipeline.process(messages, now)
        alert_ids = self.recorder.record(result)
        self.stats.messages += len(messages)
        self.stats.errors += sum(1 for d in result.decoded if d.error)
        self.stats.batches += 1
        self.stats.alerts += len(alert_ids)
        done = self.clock()
        for alert, alert_id in zip(result.alerts, alert_ids, strict=True):
            for listener in self.listeners:
                listener(alert, alert_id, done)
        return result

    def pending_http(self) -> list[FeedMessage]:
        """HTTP messages stored by the API and not yet processed, oldest first."""
        with self.factory() as session:
            rows = session.scalars(
                select(AirspaceMessageRow)
                .where(
                    AirspaceMessageRow.transport == "http",
                    AirspaceMessageRow.processed_at.is_(None),
                )
                .order_by(AirspaceMessageRow.id)
                .limit(self.max_batch)
            ).all()
        return [
            FeedMessage(
                sensor_id=r.sensor_id,
                kind=r.kind,
                payload=r.payload,
                received_at=r.received_at,
                transport="http",
                row_id=r.id,
            )
            for r in rows
        ]

    def drain(self, timeout_s: float) -> list[FeedMessage]:
        """Wait up to ``timeout_s`` for one message, then gather the batch.

        The batch closes at ``max_batch`` messages or ``max_wait_s`` after its first message;
        everything already waiting is taken at once.
        """
        batch: list[FeedMessage] = []
        try:
            batch.append(self.queue.get(timeout=timeout_s))
        except queue.Empty:
            return batch
        flush_at = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            try:
                batch.append(self.queue.get_nowait())
                continue
            except queue.Empty:
                pass
            left = flush_at - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self.queue.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def run(self, stop: threading.Event, *, idle_step_s: float = 1.0) -> None:
        """Process until ``stop`` is set; steps at least every ``idle_step_s`` so tracks age."""
        last_step = time.monotonic()
        while not stop.is_set():
            batch = self.drain(min(self.http_poll_s, idle_step_s))
            mono = time.monotonic()
            if mono - self._last_poll >= self.http_poll_s:
                self._last_poll = mono
                batch.extend(self.pending_http())
            if batch or mono - last_step >= idle_step_s:
                self.process(batch)
                last_step = mono
