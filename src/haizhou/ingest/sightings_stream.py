"""Sightings stream consumer (感知数据流接入): MQTT topic ``haizhou/sightings/<area>``.

Sensors (or their gateway) publish JSON to ``haizhou/sightings/<area>``: one object or a list
of objects ``{"device_or_plate": "...", "sensor_id": "...", "seen_at": "ISO 8601"}`` (or an
already pseudonymised ``"pseudo_id"`` with ``"id_kind"``). The consumer subscribes with QoS 1,
pseudonymises identifiers as soon as a message arrives (nothing in clear is buffered longer
than one message), and writes buffered sightings every ``flush_rows`` rows or
``flush_seconds`` seconds through :func:`haizhou.ingest.sightings.write_sightings`, so a
redelivered message adds nothing. Malformed messages are counted and logged without their
content (which may hold identifiers in clear).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session, sessionmaker

from haizhou.errors import InputError
from haizhou.ingest.sightings import pseudonymise_devices, write_sightings
from haizhou.ingest.timeparse import parse_times
from haizhou.security.pseudonym import Pseudonymiser

__all__ = ["SightingsConsumer", "StreamStats", "parse_message", "topic_for"]

TOPIC_ROOT = "haizhou/sightings"
log = logging.getLogger("haizhou.ingest.sightings_stream")


def topic_for(area: str) -> str:
    """The MQTT topic of an area (``+`` for every area)."""
    if not area or "/" in area or "#" in area or (area != "+" and "+" in area):
        raise InputError(f"area {area!r} must be one topic level (no '/', '#', '+'), or '+'.")
    return f"{TOPIC_ROOT}/{area}"


def parse_message(
    payload: bytes, ps: Pseudonymiser, zone: str
) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Pseudonymised sightings of one message: ids, kinds, sensors, UTC seconds.

    Raises
    ------
    InputError
        If the payload is not JSON, not an object or list of objects, or a record lacks a
        field or has an unparseable time. The message is then dropped whole.
    """
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not UTF-8 JSON ({type(exc).__name__})") from None
    records = doc if isinstance(doc, list) else [doc]
    if not records or not all(isinstance(r, dict) for r in records):
        raise InputError("payload must be a sighting object or a non-empty list of them")
    for i, r in enumerate(records):
        if not (r.get("device_or_plate") or r.get("pseudo_id")) or not r.get("sensor_id"):
            raise InputError(f"record {i}: needs device_or_plate (or pseudo_id) and sensor_id")
    times, bad = parse_times(pa.array([str(r.get("seen_at") or "") or None for r in records]), zone)
    bad = bad | np.asarray(times.is_null().to_numpy(zero_copy_only=False))
    if bad.any():
        raise InputError(f"record {int(np.flatnonzero(bad)[0])}: missing or invalid seen_at")
    secs = times.cast(pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000
    clear = [r.get("device_or_plate") for r in records]
    tokens, kinds = pseudonymise_devices(ps, [c for c in clear if c])
    ids: list[str] = []
    kind_out: list[str] = []
    it = iter(zip(tokens, kinds, strict=True))
    for r, c in zip(records, clear, strict=True):
        if c:
            t, k = next(it)
            ids.append(str(t))
            kind_out.append(str(k))
        else:
            ids.append(str(r["pseudo_id"]))
            kind_out.append(str(r.get("id_kind") or "device"))
    return ids, kind_out, [str(r["sensor_id"]) for r in records], secs


@dataclass(slots=True)
class StreamStats:
    """Counters of a consumer (thread-safe enough for reporting: ints under a lock)."""

    messages: int = 0
    received: int = 0
    written: int = 0
    rejected_messages: int = 0
    flushes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_dict(self) -> dict[str, int]:
        with self.lock:
            return {
                "messages": self.messages,
                "received": self.received,
                "written": self.written,
                "rejected_messages": self.rejected_messages,
                "flushes": self.flushes,
            }


class SightingsConsumer:
    """Subscribe to ``haizhou/sightings/<area>`` and store what arrives.

    Parameters
    ----------
    sessions : sessionmaker
        Makes the sessions the buffered sightings are written with.
    pseudonymiser : Pseudonymiser
        The installation's pseudonymiser.
    host, port : str, int
        The MQTT broker.
    area : str, default "+"
        One area's topic level, or ``"+"`` for all.
    zone : str
        IANA zone of times without an offset.
    flush_rows, flush_seconds : int, float
        Write when this many sightings are buffered, or this long after the last write.
    client_id : str, optional
        MQTT client id; with ``clean_session=False`` the broker keeps QoS 1 messages for it
        while it is away.
    """

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        pseudonymiser: Pseudonymiser,
        host: str = "127.0.0.1",
        port: int = 1883,
        area: str = "+",
        zone: str = "Asia/Shanghai",
        flush_rows: int = 5_000,
        flush_seconds: float = 1.0,
        client_id: str | None = None,
        on_flush: Callable[[int], None] | None = None,
    ) -> None:
        import paho.mqtt.client as mqtt

        self.topic = topic_for(area)
        self._sessions = sessions
        self._ps = pseudonymiser
        self._zone = zone
        self._flush_rows = flush_rows
        self._flush_seconds = flush_seconds
        self._on_flush = on_flush
        self.stats = StreamStats()
        self._buf: tuple[list[str], list[str], list[str], list[np.ndarray]] = ([], [], [], [])
        self._buf_lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._subscribed = threading.Event()
        self._host, self._port = host, port
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or "",
            clean_session=client_id is None,
        )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # --- MQTT callbacks (network thread) -----------------------------------------------------

    def _on_connect(self, client: Any, _userdata: Any, _flags: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, *_args: Any) -> None:
        self._subscribed.set()

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        try:
            ids, kinds, sensors, secs = parse_message(msg.payload, self._ps, self._zone)
        except InputError as exc:
            with self.stats.lock:
                self.stats.rejected_messages += 1
            log.warning("dropped a message on %s: %s", msg.topic, exc)
            return
        with self._buf_lock:
            self._buf[0].extend(ids)
            self._buf[1].extend(kinds)
            self._buf[2].extend(sensors)
            self._buf[3].append(secs)
            buffered = len(self._buf[0])
        with self.stats.lock:
            self.stats.messages += 1
            self.stats.received += len(ids)
        if buffered >= self._flush_rows:
            self.flush()

    # --- life cycle ----------------------------------------------------------------------------

    def flush(self) -> int:
        """Write the buffered sightings now; returns how many were new."""
        with self._buf_lock:
            ids, kinds, sensors, secs = self._buf
            self._buf = ([], [], [], [])
            self._last_flush = time.monotonic()
        if not ids:
            return 0
        with self._sessions() as session:
            new = write_sightings(
                session,
                pseudo_ids=ids,
                kinds=kinds,
                sensor_ids=sensors,
                seen_at_s=np.concatenate(secs),
            )
            session.commit()
        with self.stats.lock:
            self.stats.written += new
            self.stats.flushes += 1
        if self._on_flush is not None:
            self._on_flush(new)
        return new

    def start(self, *, timeout: float = 10.0) -> None:
        """Connect, subscribe and start the network thread; returns once subscribed."""
        self._client.connect(self._host, self._port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise InputError(
                f"could not subscribe to {self.topic} on {self._host}:{self._port} "
                f"within {timeout:g} s; is the broker running?"
            )

    def poll(self) -> None:
        """Flush if the buffer is older than ``flush_seconds`` (call it periodically)."""
        if time.monotonic() - self._last_flush >= self._flush_seconds:
            self.flush()

    def stop(self) -> None:
        """Flush what is buffered, then disconnect."""
        self._client.disconnect()
        self._client.loop_stop()
        self.flush()

    def run_for(self, seconds: float | None, *, tick: float = 0.2) -> StreamStats:
        """Start, consume for ``seconds`` (``None``: until interrupted), stop; the counters."""
        self.start()
        deadline = None if seconds is None else time.monotonic() + seconds
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(tick)
                self.poll()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
        return self.stats
