"""Feeds over the real MQTT broker: publish → stored, tracked, alert raised; persistent session."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from sqlalchemy import func, select

from haizhou.feeds.area import add_permit, save_scenario_area
from haizhou.feeds.messages import FeedMessage, topic_for
from haizhou.feeds.mqtt import MqttSubscriber
from haizhou.feeds.runner import AirspaceRunner
from haizhou.feeds.synthetic import remote_id_pack
from haizhou.security.pseudonym import Pseudonymiser
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables.airspace import (
    AirspaceAlertRow,
    AirspaceMessageRow,
    AirspaceTrackRow,
    AirspaceZoneRow,
)

KEY = b"m" * 32
SCHOOL = [[119.25, 34.59], [119.26, 34.59], [119.26, 34.60], [119.25, 34.60]]


def _wait(predicate, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _publisher(host: str, port: int) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.connect(host, port)
    client.loop_start()
    return client


def _world(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'air.db'}"
    migrate.upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    now = datetime.now(UTC)
    with factory() as session:
        save_scenario_area(session, "stadium_match_day")
        session.add(
            AirspaceZoneRow(
                name="第一中学", kind="school", polygon=SCHOOL, floor_m=0, ceiling_m=300, active=[]
            )
        )
        add_permit(
            session,
            pseudonymiser=Pseudonymiser(KEY),
            permit_id="P-7",
            serial="PERMITTED0000001",
            operator="测绘院",
            polygon=[(119.20, 34.55), (119.24, 34.55), (119.24, 34.59), (119.20, 34.59)],
            valid_from=now - timedelta(hours=1),
            valid_to=now + timedelta(hours=1),
        )
        session.commit()
    return factory


def test_published_messages_are_stored_tracked_and_alerted(
    mqtt_broker: tuple[str, int], tmp_path: Path
) -> None:
    host, port = mqtt_broker
    factory = _world(tmp_path)
    runner = AirspaceRunner(factory, Pseudonymiser(KEY))
    alerts: list[tuple[str, int]] = []
    got_alert = threading.Event()

    def on_alert(alert, alert_id, _at) -> None:
        alerts.append((alert.kind, alert_id))
        got_alert.set()

    runner.listeners.append(on_alert)
    sensor = f"rid-{uuid.uuid4().hex[:8]}"
    subscriber = MqttSubscriber(
        host,
        port,
        runner.submit,
        client_id=f"haizhou-test-{uuid.uuid4().hex[:8]}",
        topic=f"haizhou/airspace/{sensor}/+",
        clean_session=True,
    )
    stop = threading.Event()
    worker = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    subscriber.start()
    worker.start()
    publisher = _publisher(host, port)
    try:
        assert subscriber.subscribed.wait(10)
        topic = topic_for(sensor, "remoteid")
        for k in range(5):
            publisher.publish(
                topic, remote_id_pack("INTRUDER00000001", 119.255, 34.595 + 1e-5 * k, 60.0), qos=1
            ).wait_for_publish(5)
            publisher.publish(
                topic, remote_id_pack("PERMITTED0000001", 119.22, 34.57, 60.0), qos=1
            ).wait_for_publish(5)
        publisher.publish(topic, b"not a remote id message", qos=1).wait_for_publish(5)

        def stored() -> int:
            with factory() as session:
                return session.scalar(select(func.count()).select_from(AirspaceMessageRow)) or 0

        assert got_alert.wait(30)
        assert _wait(lambda: stored() == 11)
    finally:
        stop.set()
        worker.join(10)
        subscriber.stop()
        publisher.loop_stop()
        publisher.disconnect()
    assert [kind for kind, _ in alerts] == ["violation"]
    with factory() as session:
        rows = session.scalars(select(AirspaceMessageRow)).all()
        assert {r.transport for r in rows} == {"mqtt"} and {r.topic for r in rows} == {topic}
        assert sum(r.error is not None for r in rows) == 1
        assert all(r.received_at is not None and r.processed_at is not None for r in rows)
        tracks = session.scalars(select(AirspaceTrackRow)).all()
        status = sorted(t.authorisation for t in tracks)
        assert status == ["authorised", "violation"]
        alert = session.get(AirspaceAlertRow, alerts[0][1])
        violating = next(t for t in tracks if t.authorisation == "violation")
        assert alert.track_row_id == violating.id and violating.zones == ["第一中学"]


def test_persistent_session_keeps_qos1_messages_while_away(
    mqtt_broker: tuple[str, int],
) -> None:
    host, port = mqtt_broker
    client_id = f"haizhou-persist-{uuid.uuid4().hex[:8]}"
    sensor = f"rid-{uuid.uuid4().hex[:8]}"
    received: list[FeedMessage] = []
    first = MqttSubscriber(
        host, port, received.append, client_id=client_id, topic=f"haizhou/airspace/{sensor}/+"
    )
    first.start()
    assert first.subscribed.wait(10)
    first.stop()
    publisher = _publisher(host, port)
    for k in range(3):
        publisher.publish(topic_for(sensor, "adsb"), bytes([k]) * 14, qos=1).wait_for_publish(5)
    publisher.loop_stop()
    publisher.disconnect()
    assert received == []
    second = MqttSubscriber(
        host, port, received.append, client_id=client_id, topic=f"haizhou/airspace/{sensor}/+"
    )
    second.start()
    try:
        assert _wait(lambda: len(received) == 3, 15)
    finally:
        second.stop()
        cleanup = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
        )
        cleanup.connect(host, port)
        cleanup.disconnect()
    assert [m.payload[0] for m in received] == [0, 1, 2]
    assert all(m.sensor_id == sensor and m.kind == "adsb" for m in received)
