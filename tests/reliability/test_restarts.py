"""Nothing acknowledged is lost when PostgreSQL or the MQTT broker restarts mid-stream.

Both tests restart private servers (see conftest.py), never the shared ones.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from tests.reliability.conftest import PrivateMosquitto, PrivatePostgres

from haizhou.jobs.retry import retry_transaction
from haizhou.store.engine import make_engine, make_sessionmaker

pytestmark = pytest.mark.slow


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.postgres
def test_writers_retry_through_a_postgres_restart(private_postgres: PrivatePostgres) -> None:
    engine = make_engine(private_postgres.url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS stream_writes"))
        conn.execute(
            text("CREATE TABLE stream_writes (writer int, seq int, PRIMARY KEY (writer, seq))")
        )
    sessions = make_sessionmaker(engine)
    writers = 3
    acked: dict[int, list[int]] = {w: [] for w in range(writers)}
    retries: list[BaseException] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def write(writer: int) -> None:
        seq = 0
        try:
            while not stop.is_set():
                seq += 1
                retry_transaction(
                    sessions,
                    lambda s, w=writer, n=seq: s.execute(
                        text("INSERT INTO stream_writes VALUES (:w, :n) ON CONFLICT DO NOTHING"),
                        {"w": w, "n": n},
                    ),
                    deadline_s=90,
                    on_retry=retries.append,
                )
                acked[writer].append(seq)  # the commit returned: acknowledged
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    try:
        _wait(lambda: all(len(a) >= 30 for a in acked.values()), 120, "writes before restart")
        before = {w: len(a) for w, a in acked.items()}
        private_postgres.restart()
        _wait(lambda: all(len(acked[w]) >= before[w] + 30 for w in acked), 120, "writes after")
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)
    assert not failures, failures
    assert retries, "the restart never interrupted a writer; the test proved nothing"
    with engine.connect() as conn:
        stored = {tuple(r) for r in conn.execute(text("SELECT writer, seq FROM stream_writes"))}
    expected = {(w, n) for w, seqs in acked.items() for n in seqs}
    assert expected - stored == set()
    assert stored == expected  # and nothing unacknowledged or duplicated
    engine.dispose()


@pytest.mark.mqtt
def test_qos1_persistent_session_loses_nothing_across_a_broker_restart(
    private_mosquitto: PrivateMosquitto,
) -> None:
    import paho.mqtt.client as mqtt

    topic = "haizhou/test/sightings"
    received: set[int] = set()
    pending: dict[int, int] = {}
    lock = threading.Lock()

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        with lock:
            received.add(int(message.payload))

    def on_connect(client: mqtt.Client, _u: object, _f: object, _rc: object, _p: object) -> None:
        client.subscribe(topic, qos=1)

    acked_mids: set[int] = set()

    def on_publish(_c: object, _u: object, mid: int, _rc: object, _p: object) -> None:
        # paho calls this holding its own lock: never take a lock here that is held while
        # calling publish() (that deadlocked); the mid -> number mapping is resolved later
        with lock:
            acked_mids.add(mid)

    def got() -> set[int]:
        with lock:
            return set(received)

    def acknowledged() -> set[int]:
        with lock:
            return {pending[mid] for mid in acked_mids if mid in pending}

    def client(name: str) -> mqtt.Client:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, clean_session=False)
        c.reconnect_delay_set(min_delay=1, max_delay=2)
        c.max_queued_messages_set(0)
        return c

    subscriber = client("hz-reliability-sub")
    subscriber.on_message = on_message
    subscriber.on_connect = on_connect
    publisher = client("hz-reliability-pub")
    publisher.on_publish = on_publish
    for c in (subscriber, publisher):
        c.connect("127.0.0.1", private_mosquitto.port, keepalive=5)
        c.loop_start()
    try:
        _wait(lambda: subscriber.is_connected() and publisher.is_connected(), 30, "connect")
        time.sleep(0.5)  # the subscription is in place
        total = 600
        for n in range(total):
            info = publisher.publish(topic, str(n).encode(), qos=1)
            with lock:
                pending[info.mid] = n
            if n == total // 2:
                private_mosquitto.restart()
            time.sleep(0.002)
        _wait(lambda: len(acknowledged()) == total, 90, "every publish to be acknowledged")
        acked = acknowledged()
        _wait(lambda: acked <= got(), 90, "every acknowledged message to arrive")
    finally:
        for c in (subscriber, publisher):
            c.loop_stop()
            c.disconnect()
    assert acked == set(range(total))
    assert acked - got() == set()
