"""MQTT → JetStream bridge (MQTT 桥接): devices publish QoS 1, the bridge acknowledges only
after JetStream stored the message.

The bridge subscribes (QoS 1, persistent session under a fixed client id) to
``haizhou/sightings/<area>`` and ``haizhou/airspace/<sensor>/<kind>``. Sightings are
pseudonymised here, at the boundary, and republished as pseudonymised records on
``<root>.sightings.<area>`` with a content-derived ``Nats-Msg-Id``, so a message the broker
redelivers after a bridge crash is stored once. Airspace messages are republished as received on
``<root>.airspace.<area>.<sensor>.<kind>`` with the receive time in a header.

The MQTT acknowledgement (PUBACK) is sent only when the PubAck came back; until then the broker
keeps the message and — with its in-flight window (mosquitto ``max_inflight_messages``) full —
stops delivering more, which is the back-pressure towards the devices.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from haizhou.errors import InputError
from haizhou.feeds.messages import FeedError, parse_topic
from haizhou.ingest.sightings_stream import parse_message
from haizhou.security.pseudonym import Pseudonymiser
from haizhou.streams.config import StreamError
from haizhou.streams.publisher import Publisher, sightings_payload

__all__ = ["BridgeStats", "MqttBridge"]

log = logging.getLogger("haizhou.streams.bridge")


@dataclass(slots=True)
class BridgeStats:
    """Counters of a bridge."""

    received: int = 0
    forwarded: int = 0
    dropped: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class MqttBridge:
    """Forward MQTT device messages to JetStream.

    Parameters
    ----------
    publisher : Publisher
        Connected (entered) publisher.
    pseudonymiser : Pseudonymiser
        Pseudonymises sighting identifiers before they leave the bridge.
    host, port : str, int
        The MQTT broker.
    area : str
        Area of the airspace sensors this bridge serves (their topics carry no area).
    zone : str
        IANA zone of sighting times without an offset.
    client_id : str
        Fixed MQTT client id: the broker keeps QoS 1 messages while the bridge is away.
    topic_root : str
        First topic level (``haizhou``); another root keeps test traffic apart.
    """

    def __init__(
        self,
        publisher: Publisher,
        pseudonymiser: Pseudonymiser,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        area: str = "default",
        zone: str = "Asia/Shanghai",
        client_id: str = "haizhou-bridge",
        topic_root: str = "haizhou",
    ) -> None:
        import paho.mqtt.client as mqtt

        publisher.config.airspace_subject(area)  # validates the area name
        self.publisher = publisher
        self.area = area
        self.topic_root = topic_root
        self.stats = BridgeStats()
        self._ps = pseudonymiser
        self._zone = zone
        self._host, self._port = host, port
        self._subscribed = threading.Event()
        self.failed = threading.Event()  # a message could not be stored: restart the bridge
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            manual_ack=True,
        )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *_a: self._subscribed.set()
        self._client.on_message = self._on_message

    def _on_connect(self, client: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT connect refused: %s", reason)
            return
        root = self.topic_root
        client.subscribe([(f"{root}/sightings/+", 1), (f"{root}/airspace/+/+", 1)])

    def _coroutine(self, topic: str, payload: bytes) -> Any:
        """The publish of one MQTT message, or ``None`` when it is dropped (malformed)."""
        if topic.startswith(f"{self.topic_root}/sightings/"):
            area = topic.rsplit("/", 1)[1]
            ids, kinds, sensors, secs = parse_message(payload, self._ps, self._zone)
            body = sightings_payload(ids, kinds, sensors, secs)
            return self.publisher.sightings(area, body, wait=True)
        sensor_id, kind = parse_topic("haizhou/" + topic.split("/", 1)[1])
        return self.publisher.airspace(
            self.area, sensor_id, kind, payload, received_at=datetime.now(UTC), wait=True
        )

    def _on_message(self, client: Any, _u: Any, msg: Any) -> None:
        self.stats.received += 1
        try:
            coro = self._coroutine(msg.topic, msg.payload)
        except (InputError, FeedError, StreamError) as exc:
            # content may hold identifiers in clear: log the reason only
            log.warning("dropped a message on %s: %s", msg.topic, exc)
            self.stats.dropped += 1
            client.ack(msg.mid, msg.qos)
            return
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)

        def acked(f: Future[None]) -> None:
            if f.exception() is None:
                self.stats.forwarded += 1
                client.ack(msg.mid, msg.qos)  # PUBACK only once JetStream has it
            else:  # no PUBACK: the broker redelivers on reconnect
                log.error("not forwarded (%s); stopping for redelivery", f.exception())
                self.failed.set()

        future.add_done_callback(acked)

    def start(self, loop: asyncio.AbstractEventLoop, *, timeout: float = 10.0) -> None:
        """Connect and subscribe; publishes run on ``loop`` (the publisher's loop)."""
        self._loop = loop
        self._client.connect(self._host, self._port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise StreamError(
                f"could not subscribe on the MQTT broker {self._host}:{self._port} within "
                f"{timeout:g} s; is it running?"
            )

    def stop(self) -> None:
        """Disconnect (unacknowledged messages stay with the broker)."""
        self._client.disconnect()
        self._client.loop_stop()

    async def run(
        self, stop: asyncio.Event, *, on_ready: Callable[[], None] | None = None
    ) -> BridgeStats:
        """Bridge until ``stop`` is set; :class:`StreamError` if a message could not be stored
        (the broker keeps it and redelivers it to the restarted bridge)."""
        await asyncio.to_thread(self.start, asyncio.get_running_loop())
        if on_ready is not None:
            on_ready()
        try:
            while not stop.is_set() and not self.failed.is_set():
                await asyncio.sleep(0.2)
            if self.failed.is_set():
                raise StreamError("JetStream refused a message; restart the bridge")
        finally:
            await asyncio.sleep(0.2)  # let in-progress publishes finish and PUBACKs go out
            await self.publisher.drain()
            await asyncio.to_thread(self.stop)
        return self.stats
