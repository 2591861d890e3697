"""Batches of the stream consumers: the airspace batch deadline, delivery counts, the airspace
handler's bulk write (COPY on PostgreSQL) and its redelivery check, and batch-wide sightings
parsing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from nats.aio.msg import Msg

from haizhou.feeds.area import save_scenario_area
from haizhou.feeds.runner import AirspaceRunner
from haizhou.feeds.synthetic import remote_id_pack
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.streams.config import StreamsConfig, delete_streams
from haizhou.streams.consumer import (
    AirspaceHandler,
    BatchOutcome,
    SightingsHandler,
    StreamConsumer,
    delivered,
)
from haizhou.streams.publisher import RECEIVED_HEADER, TRANSPORT_HEADER, Publisher

KEY = "streams-test-key-0123456789abcdef"


def test_delivery_count_is_read_from_both_ack_subject_layouts() -> None:
    def msg(reply: str) -> Msg:
        return Msg(_client=None, subject="x", reply=reply)  # type: ignore[arg-type]

    v1 = msg("$JS.ACK.HZ_AIRSPACE.hz-airspace-all.3.120.7.1795000000000000000.0")
    v2 = msg("$JS.ACK.dom.acc.HZ_AIRSPACE.hz-airspace-all.2.120.7.1795000000000000000.0.tok")
    assert (delivered(v1), delivered(v2)) == (3, 2)
    assert (delivered(v1), delivered(v2)) == (v1.metadata.num_delivered, v2.metadata.num_delivered)
    assert delivered(msg("_INBOX.abc")) == 1  # not a JetStream delivery
    assert delivered(Msg(_client=None, subject="x")) == 1  # type: ignore[arg-type]


# --- the airspace handler's write ----------------------------------------------------------------


def _airspace_msg(serial: str, at: datetime, n: int, *, delivery: int = 1) -> Msg:
    return Msg(
        _client=None,  # type: ignore[arg-type]
        subject="t.airspace.stadium.rid-1.remoteid",
        data=remote_id_pack(serial, 119.20 + 0.0001 * n, 34.55, 80.0),
        headers={RECEIVED_HEADER: at.isoformat(), TRANSPORT_HEADER: "mqtt"},
        reply=f"$JS.ACK.T_AIRSPACE.t-airspace-all.{delivery}.{n}.{n}.1795000000000000000.0",
    )


def test_airspace_batch_is_stored_whole_and_a_redelivery_adds_nothing(
    database_url: str,
) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as s:
        save_scenario_area(s, "stadium_match_day")
        s.commit()
    handler = AirspaceHandler(AirspaceRunner(sessions, Pseudonymiser(KEY.encode())))
    t0 = datetime.now(UTC).replace(microsecond=123456)
    msgs = [
        _airspace_msg("1581F5FJD23A00001", t0 + timedelta(milliseconds=40 * n), n)
        for n in range(25)
    ]
    bad = Msg(
        _client=None,  # type: ignore[arg-type]
        subject="t.airspace.stadium.rid-1.remoteid",
        data=b"\xff\x00 not a message",
        headers={RECEIVED_HEADER: (t0 + timedelta(seconds=2)).isoformat()},
        reply="$JS.ACK.T_AIRSPACE.t-airspace-all.1.99.99.1795000000000000000.0",
    )
    out = handler([*msgs, bad])
    assert out == BatchOutcome(26, ())  # an undecodable message is stored with its error
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT received_at, sensor_id, kind, topic, payload, decoded, error, transport "
                "FROM airspace_messages ORDER BY id"
            )
        ).all()
    assert len(rows) == 26
    first = rows[0]
    decoded = first.decoded if isinstance(first.decoded, dict) else json.loads(first.decoded)
    assert decoded["type"] == "message_pack"
    assert decoded["messages"][0]["uas_id"] == "1581F5FJD23A00001"
    assert bytes(first.payload) == msgs[0].data
    assert (first.sensor_id, first.kind, first.topic, first.transport, first.error) == (
        "rid-1",
        "remoteid",
        "haizhou/airspace/rid-1/remoteid",
        "mqtt",
        None,
    )
    assert rows[-1].error and rows[-1].decoded is not None and bytes(rows[-1].payload) == bad.data
    again = [
        _airspace_msg("1581F5FJD23A00001", t0 + timedelta(milliseconds=40 * n), n, delivery=2)
        for n in range(25)
    ]
    assert handler(again).written == 0  # stored before: recognised and skipped
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM airspace_messages")) == 26
    engine.dispose()


# --- batch-wide sightings parsing -----------------------------------------------------------------


def test_sightings_in_clear_across_a_batch_are_pseudonymised_and_blank_ids_rejected(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    migrate.upgrade(url)
    ps = Pseudonymiser(KEY.encode())
    handler = SightingsHandler(make_sessionmaker(make_engine(url)), ps, "Asia/Shanghai")

    def rec(ident: str, sensor: str, at: str = "2026-11-28T08:00:00+08:00") -> dict[str, str]:
        return {"device_or_plate": ident, "sensor_id": sensor, "seen_at": at}

    payloads = [
        [rec("AA:BB:CC:00:00:01", "s1"), rec("苏G·12345", "s1")],
        [rec("AA:BB:CC:00:00:01", "s2")],  # the same device in another message
        [rec("   ", "s3")],  # no identifier once stripped: the message is dropped
        [{"pseudo_id": "already", "sensor_id": "s4", "seen_at": "2026-11-28T00:00:00Z"}],
    ]
    msgs = [SimpleNamespace(data=json.dumps(p).encode(), subject="t.sightings.a") for p in payloads]
    out = handler(msgs)  # type: ignore[arg-type]
    assert out.rejected == (2,)
    assert out.written == 4
    device = ps.pseudonymise_many(["AA:BB:CC:00:00:01"], IdentifierKind.DEVICE)[0][0]
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT pseudo_id, id_kind, sensor_id FROM sightings")).all()
    engine.dispose()
    assert sorted((r.sensor_id, r.pseudo_id == device, r.id_kind) for r in rows) == [
        ("s1", False, "plate"),
        ("s1", True, "device"),
        ("s2", True, "device"),
        ("s4", False, "device"),
    ]
    assert not any(":" in r.pseudo_id or "苏" in r.pseudo_id for r in rows)  # nothing in clear


# --- the batch deadline on a real JetStream ------------------------------------------------------


@pytest.fixture
def streams(nats_url: str) -> Iterator[StreamsConfig]:
    config = StreamsConfig(url=nats_url, root=f"t{uuid.uuid4().hex[:10]}", ack_wait_s=5.0)
    yield config
    asyncio.run(delete_streams(config))


class _Recorder:
    """A handler keeping the size of every batch; airspace stream."""

    kind = "airspace"

    def __init__(self, max_wait_s: float | None) -> None:
        self.max_wait_s = max_wait_s
        self.sizes: list[int] = []

    def __call__(self, messages: Sequence[Msg]) -> BatchOutcome:
        self.sizes.append(len(messages))
        return BatchOutcome(len(messages), ())

    def idle(self) -> None:
        return None


def test_a_batch_closes_soon_after_its_first_message_not_at_the_idle_timeout(
    streams: StreamsConfig,
) -> None:
    """With a batch deadline a lone message is handled at once; the batch does not wait for
    ``batch`` messages or the (here 60 s) idle timeout, as a plain pull would."""
    handler = _Recorder(max_wait_s=0.01)
    consumer = StreamConsumer(streams, handler, batch=2000, idle_s=60.0)
    stop = asyncio.Event()
    done: dict[str, Any] = {}

    async def scenario() -> None:
        task = asyncio.create_task(consumer.run(stop))
        async with Publisher(streams) as pub:
            await asyncio.sleep(1.0)  # the consumer is pulling
            await pub.airspace("north", "rid-1", "remoteid", b"\x01", wait=True)
            deadline = time.monotonic() + 20.0  # generous: a plain pull would take 60 s
            while sum(handler.sizes) < 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            done["first"] = list(handler.sizes)
            for k in range(5):
                await pub.airspace("north", "rid-1", "remoteid", bytes([k]), wait=True)
            deadline = time.monotonic() + 20.0
            while sum(handler.sizes) < 6 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        task.cancel()  # idle in a 60 s pull: cancel rather than wait for it
        with contextlib.suppress(asyncio.CancelledError):
            await task

    runner = threading.Thread(target=lambda: asyncio.run(scenario()))
    runner.start()
    runner.join(120)
    assert done["first"] == [1]  # handled alone, long before the idle timeout
    assert sum(handler.sizes) == 6 and consumer.stats.messages == 6
