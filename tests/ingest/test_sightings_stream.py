"""The sightings stream consumer against the real MQTT broker: stored, pseudonymised, idempotent."""

from __future__ import annotations

import json
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from haizhou.errors import InputError
from haizhou.ingest.sightings_stream import SightingsConsumer, parse_message, topic_for
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import SightingRow

PS = Pseudonymiser(b"haizhou-test-key-0123456789abcdef")
MAC = "02:1F:FD:D6:6F:2D"


def _publish(host: str, port: int, topic: str, payloads: list[bytes]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(host, port)
    client.loop_start()
    for p in payloads:
        client.publish(topic, p, qos=1).wait_for_publish(timeout=10)
    client.loop_stop()
    client.disconnect()


def _wait(pred, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_parse_message_pseudonymises_and_rejects_bad_payloads() -> None:
    ids, kinds, sensors, secs = parse_message(
        json.dumps(
            [
                {"device_or_plate": MAC, "sensor_id": "S1", "seen_at": "2026-03-01 22:00"},
                {"device_or_plate": "苏G12345", "sensor_id": "S2", "seen_at": "2026-03-01T14:00Z"},
                {"pseudo_id": "pabc", "sensor_id": "S3", "seen_at": "2026-03-01T14:00Z"},
            ]
        ).encode(),
        PS,
        "Asia/Shanghai",
    )
    assert ids == [
        PS.pseudonymise(MAC, IdentifierKind.DEVICE).token,
        PS.pseudonymise("苏G12345", IdentifierKind.PLATE).token,
        "pabc",
    ]
    assert kinds == ["device", "plate", "device"]
    assert sensors == ["S1", "S2", "S3"]
    assert secs.tolist() == [secs[0]] * 3  # 22:00 in Shanghai is 14:00 UTC
    for bad in (
        b"not json",
        b"[]",
        b'{"sensor_id": "S"}',
        b'{"device_or_plate": "x", "sensor_id": "S", "seen_at": "later"}',
    ):
        with pytest.raises(InputError):
            parse_message(bad, PS, "Asia/Shanghai")
    with pytest.raises(InputError):
        topic_for("a/b")


def test_consumer_stores_stream_from_the_broker(mqtt_broker, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    host, port = mqtt_broker
    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    area = f"t{uuid.uuid4().hex[:8]}"
    consumer = SightingsConsumer(
        sessions=sessions, pseudonymiser=PS, host=host, port=port, area=area, flush_rows=3
    )
    consumer.start()
    try:
        good = [
            json.dumps(
                {"device_or_plate": MAC, "sensor_id": "S1", "seen_at": f"2026-03-01 22:0{i}"}
            ).encode()
            for i in range(5)
        ]
        # a redelivered message (same sighting) and a malformed one
        _publish(host, port, topic_for(area), [*good, good[0], b"{oops"])
        # another area's topic is not ours
        _publish(host, port, topic_for(area + "x"), good[:1])
        assert _wait(lambda: consumer.stats.to_dict()["messages"] == 6)
    finally:
        consumer.stop()
    stats = consumer.stats.to_dict()
    assert stats["rejected_messages"] == 1
    assert stats["received"] == 6 and stats["written"] == 5
    with sessions() as session:
        ids = session.execute(select(SightingRow.pseudo_id)).scalars().all()
    assert ids == [PS.pseudonymise(MAC, IdentifierKind.DEVICE).token] * 5
    engine.dispose()
