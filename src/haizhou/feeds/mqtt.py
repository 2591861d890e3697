"""MQTT subscriber (MQTT 接入) for ``haizhou/airspace/<sensor_id>/<kind>``, paho-mqtt 2.x.

MQTT 5, QoS 1 and a persistent session (``clean_start=False`` with a fixed client id and a
session expiry), so the broker keeps QoS 1 messages for us while we are away; paho reconnects
by itself with a growing delay, and the subscription is renewed on every connect. Each message
is stamped with its receive time here, at the edge, and handed to a callback
(:meth:`AirspaceRunner.submit`).

Flow control: the CONNECT asks for a large *receive maximum* (QoS 1 messages in flight to us
before we acknowledge them). Mosquitto's default window is 20; at 1,000 messages/s a brief
stall of this process would otherwise fill the broker's per-client queue
(``max_queued_messages``, 1,000 by default), and the broker drops what does not fit. With the
wide window the messages come to our bounded queue instead, and when that is full the
callback blocks, the acknowledgements stop, and the broker holds the rest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from haizhou.feeds.messages import TOPIC_PREFIX, FeedError, FeedMessage, parse_topic

__all__ = ["MqttSubscriber"]

log = logging.getLogger(__name__)


class MqttSubscriber:
    """Subscribes to the airspace topics and passes each message on (MQTT订阅).

    Parameters
    ----------
    host, port : str, int
        The broker.
    on_message : callable
        Called with each :class:`FeedMessage` (from paho's network thread).
    client_id : str
        Fixed, so the broker keeps the session between runs.
    topic : str
        Subscription filter; default every sensor and kind.
    on_rejected : callable or None
        Called with ``(topic, reason)`` for a message on a malformed topic.
    clean_session : bool
        Start a fresh session (tests, benchmarks); default keep the broker's session.
    receive_maximum : int
        QoS 1 messages the broker may have in flight to us, unacknowledged (1–65535).
    session_expiry_s : int
        How long the broker keeps our session (and queues our messages) after a disconnect.
    """

    def __init__(
        self,
        host: str,
        port: int,
        on_message: Callable[[FeedMessage], None],
        *,
        client_id: str = "haizhou-airspace",
        topic: str = f"{TOPIC_PREFIX}/+/+",
        on_rejected: Callable[[str, str], None] | None = None,
        clean_session: bool = False,
        receive_maximum: int = 10_000,
        session_expiry_s: int = 24 * 3600,
    ) -> None:
        self.host, self.port, self.topic = host, port, topic
        self.on_message = on_message
        self.on_rejected = on_rejected
        self.connected_count = 0
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
        self.clean_start = clean_session
        self.properties = Properties(PacketTypes.CONNECT)
        self.properties.ReceiveMaximum = receive_maximum
        self.properties.SessionExpiryInterval = 0 if clean_session else session_expiry_s
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._connected
        self.client.on_message = self._message
        self.client.on_subscribe = lambda *_args: self.subscribed.set()

    def _connected(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT connect to %s:%s refused: %s", self.host, self.port, reason)
            return
        self.connected_count += 1
        client.subscribe(self.topic, qos=1)

    def _message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        received = datetime.now(UTC)
        try:
            sensor_id, kind = parse_topic(msg.topic)
        except FeedError as exc:
            if self.on_rejected is not None:
                self.on_rejected(msg.topic, str(exc))
            return
        self.on_message(
            FeedMessage(
                sensor_id=sensor_id,
                kind=kind,
                payload=bytes(msg.payload),
                received_at=received,
                transport="mqtt",
                topic=msg.topic,
            )
        )

    def start(self) -> None:
        """Connect in the background and keep reconnecting (paho's network thread)."""
        self.client.connect_async(
            self.host,
            self.port,
            keepalive=30,
            clean_start=self.clean_start,
            properties=self.properties,
        )
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
