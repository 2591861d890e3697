"""Streams over the real NATS JetStream and MQTT broker: bridge, queue groups, redelivery.

Each test uses its own stream root and MQTT topic root, so tests and benchmarks can share the
servers; streams are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from nats.aio.msg import Msg

from haizhou.feeds.area import save_scenario_area
from haizhou.feeds.synthetic import remote_id_pack
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.streams.config import (
    StreamError,
    StreamsConfig,
    connect,
    delete_streams,
    stream_stats,
    subject_token,
)
from haizhou.streams.consumer import SightingsHandler, StreamConsumer, feed_message
from haizhou.streams.publisher import RECEIVED_HEADER, Publisher, sightings_payload

KEY = "streams-test-key-0123456789abcdef"
HAIZHOU = str(Path(sys.executable).parent / "haizhou")


# --- names and decoding (no services) ----------------------------------------------------------


def test_subjects_are_partitioned_by_area_and_escape_sensor_names() -> None:
    c = StreamsConfig(root="hz")
    assert c.sightings_subject("haizhou-north") == "hz.sightings.haizhou-north"
    assert c.airspace_subject("a1", "radar.1", "remoteid") == "hz.airspace.a1.radar%2E1.remoteid"
    assert c.airspace_subject("*") == "hz.airspace.*.*.*"
    assert c.stream("sightings") == "HZ_SIGHTINGS"
    assert c.durable("airspace", "*") == "hz-airspace-all"
    assert subject_token("a>b*c d") == "a%3Eb%2Ac%20d"
    for bad in ("a.b", "", "a b", ">"):
        with pytest.raises(StreamError):
            c.sightings_subject(bad)
    with pytest.raises(StreamError):
        StreamsConfig(root="a.b")


def test_feed_message_reads_sensor_kind_and_receive_time_from_subject_and_headers() -> None:
    at = datetime(2026, 11, 28, 8, 0, 0, 123456, tzinfo=UTC)
    msg = Msg(
        _client=None,  # type: ignore[arg-type]
        subject="hz.airspace.a1.radar%2E1.radar",
        data=b"{}",
        headers={RECEIVED_HEADER: at.isoformat()},
    )
    f = feed_message(msg)
    assert (f.sensor_id, f.kind, f.received_at, f.payload) == ("radar.1", "radar", at, b"{}")


def test_sightings_handler_writes_good_messages_once_and_rejects_malformed_ones(
    tmp_path: Path,
) -> None:
    from types import SimpleNamespace

    url = f"sqlite:///{tmp_path / 's.db'}"
    migrate.upgrade(url)
    ps = Pseudonymiser(KEY.encode())
    handler = SightingsHandler(make_sessionmaker(make_engine(url)), ps, "Asia/Shanghai")
    good = sightings_payload(["a", "b"], ["device", "plate"], ["s1", "s2"], [1_795_000_000] * 2)
    bad_time = json.dumps([{"pseudo_id": "c", "sensor_id": "s1", "seen_at": "yesterday"}])
    clear = json.dumps(
        {"device_or_plate": "苏G·12345", "sensor_id": "s3", "seen_at": "2026-11-28T08:00:00"}
    )
    batch = [good, bad_time.encode(), b"not json", clear.encode(), good]
    msgs = [SimpleNamespace(data=d, subject="t.sightings.a") for d in batch]
    out = handler(msgs)  # type: ignore[arg-type]
    assert out.rejected == (1, 2)
    assert out.written == 3  # a, b and the plate; the repeated message adds nothing
    assert handler(msgs[:1]).written == 0  # a redelivery adds nothing either  # type: ignore[arg-type]
    token = ps.pseudonymise_many(["苏G·12345"], IdentifierKind.PLATE)[0][0]
    rows = _count(
        url, f"SELECT count(*) FROM sightings WHERE pseudo_id = '{token}' AND id_kind = 'plate'"
    )
    assert rows == 1
    # local time of the zone for the record without an offset: 08:00 +08:00 = 00:00 UTC
    engine = make_engine(url)
    with engine.connect() as conn:
        seen = conn.scalar(sa.text("SELECT seen_at FROM sightings WHERE sensor_id = 's3'"))
    engine.dispose()
    assert str(seen).startswith("2026-11-28 00:00:00")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def streams(nats_url: str) -> Iterator[StreamsConfig]:
    config = StreamsConfig(url=nats_url, root=f"t{uuid.uuid4().hex[:10]}", ack_wait_s=2.0)
    yield config
    asyncio.run(delete_streams(config))


def _env(tmp_path: Path, database_url: str, nats_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "HAIZHOU_DATA_DIR": str(tmp_path / "data"),
        "HAIZHOU_DATABASE_URL": database_url,
        "HAIZHOU_NATS_URL": nats_url,
        "HAIZHOU_PSEUDONYM_KEY": KEY,
    }


def _count(url: str, sql: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text(sql)) or 0)
    finally:
        engine.dispose()


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _waiting_pulls(config: StreamsConfig, kind: str) -> int:
    async def read() -> int:
        nc = await connect(config, reconnect=False)
        try:
            info = await nc.jetstream().consumer_info(
                config.stream(kind), config.durable(kind, "*")
            )
            return int(info.num_waiting or 0)
        except Exception:
            return 0
        finally:
            await nc.close()

    return asyncio.run(read())


def _stop(proc: subprocess.Popen[str]) -> dict[str, Any]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


# --- MQTT → bridge → JetStream → two consumers → store ---------------------------------------


@pytest.mark.slow
def test_mqtt_messages_reach_the_store_exactly_once_through_bridge_and_two_consumers(
    tmp_path: Path,
    database_url: str,
    nats_url: str,
    mqtt_broker: tuple[str, int],
    streams: StreamsConfig,
) -> None:
    migrate.upgrade(database_url)
    env = _env(tmp_path, database_url, nats_url)
    consume = [HAIZHOU, "stream", "consume", "--root", streams.root, "--batch", "10", "--json"]
    consumers = [
        subprocess.Popen(
            consume, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    topic_root = streams.root
    bridge = subprocess.Popen(
        [
            HAIZHOU, "stream", "bridge", "--root", streams.root, "--topic-root", topic_root,
            "--client-id", f"bridge-{streams.root}", "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        _wait(lambda: _waiting_pulls(streams, "sightings") >= 2, 60, "both consumers to pull")
        assert bridge.stderr is not None
        assert "bridging" in bridge.stderr.readline()
        n_msgs, per = 120, 10
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{streams.root}")
        client.connect(*mqtt_broker)
        client.loop_start()
        payloads = []
        for m in range(n_msgs):
            recs = [
                {
                    "device_or_plate": f"AA:BB:CC:{m:04X}:{k:02X}",
                    "sensor_id": f"s{k}",
                    "seen_at": "2026-11-28T08:00:00+08:00",
                }
                for k in range(per)
            ]
            payloads.append(json.dumps(recs).encode())
        infos = [client.publish(f"{topic_root}/sightings/north", p, qos=1) for p in payloads]
        infos.append(client.publish(f"{topic_root}/sightings/north", payloads[0], qos=1))
        infos.append(client.publish(f"{topic_root}/sightings/north", b"not json", qos=1))
        for info in infos:
            info.wait_for_publish(30)
        client.loop_stop()
        client.disconnect()
        expected = n_msgs * per
        _wait(
            lambda: _count(database_url, "SELECT count(*) FROM sightings") >= expected, 90, "rows"
        )
        time.sleep(1.0)
        assert _count(database_url, "SELECT count(*) FROM sightings") == expected
        distinct = "SELECT count(DISTINCT pseudo_id) FROM sightings"
        assert _count(database_url, distinct) == expected
        clear = "SELECT count(*) FROM sightings WHERE pseudo_id LIKE 'AA:%'"
        assert _count(database_url, clear) == 0  # only pseudonyms reach the stream and store
        ps = Pseudonymiser(KEY.encode())
        token = ps.pseudonymise_many(["AA:BB:CC:0000:00"], IdentifierKind.DEVICE)[0][0]
        mine = f"SELECT count(*) FROM sightings WHERE pseudo_id = '{token}'"
        assert _count(database_url, mine) == 1
    finally:
        stats = [_stop(p) for p in consumers]
        bridge_stats = _stop(bridge)
    assert sum(s["messages"] for s in stats) == n_msgs  # the repeat was stored once by JetStream
    assert all(s["messages"] > 0 for s in stats)  # the two processes shared the work
    assert bridge_stats == {"received": n_msgs + 2, "forwarded": n_msgs + 1, "dropped": 1}
    left = asyncio.run(stream_stats(streams))["sightings"]
    assert left["messages"] == 0  # work queue: every message acknowledged and removed


# --- SIGKILL between commit and ack -----------------------------------------------------------

_KILLABLE = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from haizhou.streams.config import StreamsConfig
    from haizhou.streams.consumer import StreamConsumer

    url, root, kind, marker = sys.argv[1:5]
    config = StreamsConfig(url={nats!r}, root=root, ack_wait_s=2.0)
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.security.pseudonym import Pseudonymiser
    sessions = make_sessionmaker(make_engine(url))
    if kind == "sightings":
        from haizhou.streams.consumer import SightingsHandler
        real = SightingsHandler(sessions, Pseudonymiser({key!r}.encode()), "Asia/Shanghai")
    else:
        from haizhou.feeds.runner import AirspaceRunner
        from haizhou.streams.consumer import AirspaceHandler
        real = AirspaceHandler(AirspaceRunner(sessions, Pseudonymiser({key!r}.encode())))

    class Stalls:
        kind = real.kind
        def __call__(self, msgs):
            out = real(msgs)          # written and committed ...
            Path(marker).write_text(str(out.written))
            time.sleep(3600)          # ... and killed before the acknowledgement
        def idle(self):
            real.idle()

    asyncio.run(StreamConsumer(config, Stalls(), batch=int(sys.argv[5])).run(asyncio.Event()))
    """
)


def _kill_mid_batch(
    tmp_path: Path, database_url: str, streams: StreamsConfig, kind: str, batch: int
) -> int:
    script = tmp_path / "killable.py"
    script.write_text(_KILLABLE.format(nats=streams.url, key=KEY))
    marker = tmp_path / "written"
    proc = subprocess.Popen(
        [sys.executable, str(script), database_url, streams.root, kind, str(marker), str(batch)]
    )
    try:
        _wait(marker.exists, 60, "the first batch to commit")
        time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    return int(marker.read_text())


async def _publish_sightings(config: StreamsConfig, n_msgs: int, per: int) -> None:
    async with Publisher(config) as pub:
        for m in range(n_msgs):
            ids = [f"p{m:05d}-{k}" for k in range(per)]
            secs = [1_795_000_000 + m] * per
            await pub.sightings(
                "north", sightings_payload(ids, ["device"] * per, ["s1"] * per, secs)
            )


async def _drain(consumer: StreamConsumer, config: StreamsConfig, kind: str) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        info = (await stream_stats(config))[kind]
        if info and info["messages"] == 0:
            break
    stop.set()
    await task


@pytest.mark.slow
def test_consumer_killed_after_commit_is_redelivered_without_duplicates(
    tmp_path: Path, database_url: str, streams: StreamsConfig
) -> None:
    migrate.upgrade(database_url)
    n_msgs, per, batch = 40, 5, 10
    asyncio.run(_publish_sightings(streams, n_msgs, per))
    first = _kill_mid_batch(tmp_path, database_url, streams, "sightings", batch)
    assert first == batch * per
    assert _count(database_url, "SELECT count(*) FROM sightings") == first

    sessions = make_sessionmaker(make_engine(database_url))
    handler = SightingsHandler(sessions, Pseudonymiser(KEY.encode()), "Asia/Shanghai")
    consumer = StreamConsumer(streams, handler, batch=batch)
    asyncio.run(_drain(consumer, streams, "sightings"))

    assert _count(database_url, "SELECT count(*) FROM sightings") == n_msgs * per
    assert consumer.stats.messages == n_msgs  # the killed batch came back ...
    # ... with the batch the killed process had gathered ahead (if it had got that far)
    assert consumer.stats.redelivered in (batch, 2 * batch)
    assert consumer.stats.written == n_msgs * per - first  # ... and added nothing twice


@pytest.mark.slow
def test_airspace_consumer_killed_after_commit_stores_each_message_once(
    tmp_path: Path, database_url: str, streams: StreamsConfig
) -> None:
    from haizhou.feeds.runner import AirspaceRunner
    from haizhou.streams.consumer import AirspaceHandler

    migrate.upgrade(database_url)
    sessions = make_sessionmaker(make_engine(database_url))
    with sessions() as session:
        save_scenario_area(session, "stadium_match_day")
        session.commit()
    n, batch = 60, 20

    async def publish() -> None:
        async with Publisher(streams) as pub:
            for i in range(n):
                payload = remote_id_pack("1581F5FJD23A00001", 119.2280 + i * 1e-5, 34.58, 60.0)
                await pub.airspace("stadium", "rid-1", "remoteid", payload)

    asyncio.run(publish())
    first = _kill_mid_batch(tmp_path, database_url, streams, "airspace", batch)
    assert first == batch
    handler = AirspaceHandler(AirspaceRunner(sessions, Pseudonymiser(KEY.encode())))
    consumer = StreamConsumer(streams, handler, batch=batch)
    asyncio.run(_drain(consumer, streams, "airspace"))

    assert _count(database_url, "SELECT count(*) FROM airspace_messages") == n
    key = "SELECT count(DISTINCT (sensor_id, received_at)) FROM airspace_messages"
    if database_url.startswith("sqlite"):
        key = "SELECT count(*) FROM (SELECT DISTINCT sensor_id, received_at FROM airspace_messages)"
    assert _count(database_url, key) == n
    assert consumer.stats.redelivered in (batch, 2 * batch)  # with the batch gathered ahead
    assert consumer.stats.written == n - first
