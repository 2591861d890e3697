"""Feed messages (接入报文): what arrives, from where, and how its topic is named.

MQTT topics are ``haizhou/airspace/<sensor_id>/<kind>``; HTTP posts carry the same two names.
``kind`` is one of :data:`KINDS`:

=================  ===============================================================
kind               payload
=================  ===============================================================
``remoteid``       one ASTM F3411 message or message pack, or a GB 46750 packet —
                   raw bytes, or the same bytes as hex text
``remoteid_ble``   a Bluetooth 4/5 advertising frame carrying Remote ID
``remoteid_beacon`` a Wi-Fi beacon frame carrying Remote ID
``remoteid_nan``   a Wi-Fi NAN frame carrying Remote ID
``adsb``           a 14-byte ADS-B DF 17/18 squitter, raw or hex
``radar``          a JSON radar plot (``docs/airspace.md``)
``rf``             a JSON RF direction-finder report (``docs/airspace.md``)
=================  ===============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from haizhou.errors import HaizhouError

__all__ = [
    "BINARY_KINDS",
    "JSON_KINDS",
    "KINDS",
    "TOPIC_PREFIX",
    "FeedError",
    "FeedMessage",
    "parse_topic",
    "topic_for",
]

TOPIC_PREFIX = "haizhou/airspace"
BINARY_KINDS: tuple[str, ...] = (
    "remoteid",
    "remoteid_ble",
    "remoteid_beacon",
    "remoteid_nan",
    "adsb",
)
JSON_KINDS: tuple[str, ...] = ("radar", "rf")
KINDS: tuple[str, ...] = (*BINARY_KINDS, *JSON_KINDS)


class FeedError(HaizhouError, ValueError):
    """A feed message cannot be accepted (bad topic, kind or sensor id); says what to send."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedMessage:
    """One message as received (接入报文).

    Parameters
    ----------
    sensor_id : str
        The sending sensor.
    kind : str
        One of :data:`KINDS`.
    payload : bytes
        As received.
    received_at : datetime
        Receive time, timezone-aware.
    transport : {"mqtt", "http"}
    topic : str or None
        The MQTT topic.
    row_id : int or None
        The stored message row, when it was stored before processing (HTTP).
    """

    sensor_id: str
    kind: str
    payload: bytes
    received_at: datetime
    transport: str = "mqtt"
    topic: str | None = None
    row_id: int | None = None


def check_names(sensor_id: str, kind: str) -> None:
    """Raise :class:`FeedError` unless ``sensor_id`` and ``kind`` are acceptable."""
    if kind not in KINDS:
        raise FeedError(f"unknown message kind {kind!r}; use one of {', '.join(KINDS)}")
    if not sensor_id or len(sensor_id) > 100 or any(c in sensor_id for c in "/+#"):
        raise FeedError(f"sensor id {sensor_id!r} must be 1-100 characters without '/', '+' or '#'")


def parse_topic(topic: str) -> tuple[str, str]:
    """``(sensor_id, kind)`` of a topic ``haizhou/airspace/<sensor_id>/<kind>``.

    >>> parse_topic("haizhou/airspace/rid-north/remoteid")
    ('rid-north', 'remoteid')
    """
    parts = topic.split("/")
    if len(parts) != 4 or "/".join(parts[:2]) != TOPIC_PREFIX:
        raise FeedError(f"topic {topic!r} is not {TOPIC_PREFIX}/<sensor_id>/<kind>")
    check_names(parts[2], parts[3])
    return parts[2], parts[3]


def topic_for(sensor_id: str, kind: str) -> str:
    """The topic a sensor publishes one kind of message on."""
    check_names(sensor_id, kind)
    return f"{TOPIC_PREFIX}/{sensor_id}/{kind}"
