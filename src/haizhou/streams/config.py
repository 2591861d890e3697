"""Stream and subject names (流与主题命名), connection and stream set-up.

Subjects are partitioned by area so consumers can take one area each (``filter_subject``) and a
deployment can grow by area. Names derive from one ``root`` (default ``haizhou``) so tests and
benchmarks can run side by side on one NATS server without touching the real streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import NoServersError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from haizhou.errors import HaizhouError

__all__ = [
    "StreamError",
    "StreamsConfig",
    "add_stream_if_missing",
    "connect",
    "delete_streams",
    "ensure_streams",
    "subject_token",
]

log = logging.getLogger("haizhou.streams")
DEFAULT_URL = "nats://127.0.0.1:4222"
_ESCAPES = {".": "%2E", "*": "%2A", ">": "%3E", " ": "%20", "%": "%25"}


class StreamError(HaizhouError):
    """A stream cannot be used (NATS down, bad name); the message says what to do."""


def subject_token(value: str) -> str:
    """One NATS subject token for a name: ``.``, ``*``, ``>``, space and ``%`` escaped.

    >>> subject_token("radar-1.north")
    'radar-1%2Enorth'
    """
    if not value:
        raise StreamError("an empty area, sensor or kind cannot name a subject")
    return "".join(_ESCAPES.get(c, c) for c in value)


def _area_token(area: str) -> str:
    if area == "*":
        return "*"
    if not area or not all(c.isalnum() or c in "-_" for c in area):
        raise StreamError(f"area {area!r}: use letters, digits, '-' and '_' (or '*' for all)")
    return area


@dataclass(frozen=True)
class StreamsConfig:
    """Where the streams live and how delivery behaves.

    Parameters
    ----------
    url
        NATS server URL(s), comma-separated.
    root
        Names the streams (``<ROOT>_SIGHTINGS``, ``<ROOT>_AIRSPACE``), subjects and durables.
    ack_wait_s
        Seconds a delivered message may stay unacknowledged before it is redelivered.
    max_deliver
        Deliveries of one message before it is given up (a poison message).
    max_ack_pending
        Messages delivered and not yet acknowledged, per durable consumer: the back-pressure
        bound of the consumers.
    max_msgs
        Messages a stream keeps at most; beyond it publishing is refused (discard new) and
        publishers wait and retry, so a stalled consumer slows the producers down instead of
        filling the disk.
    duplicate_window_s
        Window in which a repeated ``Nats-Msg-Id`` is stored once.
    """

    url: str = DEFAULT_URL
    root: str = "haizhou"
    ack_wait_s: float = 30.0
    max_deliver: int = 20
    max_ack_pending: int = 20_000
    max_msgs: int = 2_000_000
    duplicate_window_s: float = 120.0

    def __post_init__(self) -> None:
        if not self.root or not all(c.isalnum() or c in "-_" for c in self.root):
            raise StreamError(f"stream root {self.root!r}: use letters, digits, '-' and '_'")

    # --- names -----------------------------------------------------------------------------

    def stream(self, kind: str) -> str:
        """Stream name of ``sightings`` or ``airspace``."""
        return f"{self.root.upper().replace('-', '_')}_{kind.upper()}"

    def sightings_subject(self, area: str) -> str:
        """``<root>.sightings.<area>`` (``*`` for every area)."""
        return f"{self.root}.sightings.{_area_token(area)}"

    def airspace_subject(self, area: str, sensor_id: str = "*", kind: str = "*") -> str:
        """``<root>.airspace.<area>.<sensor>.<kind>``; ``*`` parts match every value."""
        sensor = "*" if sensor_id == "*" else subject_token(sensor_id)
        k = "*" if kind == "*" else subject_token(kind)
        return f"{self.root}.airspace.{_area_token(area)}.{sensor}.{k}"

    def durable(self, kind: str, area: str) -> str:
        """Durable consumer of one kind and area (``all`` for ``*``)."""
        return f"{self.root}-{kind}-{'all' if area == '*' else area}"


async def _log_error(exc: Exception) -> None:
    log.warning("NATS: %s", exc)


async def connect(config: StreamsConfig, *, reconnect: bool = True, **options: Any) -> Client:
    """Connect to NATS; :class:`StreamError` naming the URL when nothing answers."""
    try:
        return await nats.connect(
            servers=config.url.split(","),
            connect_timeout=options.pop("connect_timeout", 3),
            allow_reconnect=reconnect,
            max_reconnect_attempts=-1 if reconnect else 1,
            reconnect_time_wait=1.0,
            error_cb=_log_error,
            **options,
        )
    except (TimeoutError, NoServersError, OSError) as exc:
        raise StreamError(
            f"NATS does not answer at {config.url} ({exc.__class__.__name__}); start nats-server "
            "with JetStream (-js) or set HAIZHOU_NATS_URL"
        ) from None


async def add_stream_if_missing(
    js: JetStreamContext, stream: StreamConfig, *, settle_s: float = 2.0
) -> None:
    """Create ``stream`` unless a stream of its name exists; safe when several start at once.

    A consumer and a publisher starting together may both find the stream missing. JetStream
    may then refuse the later creation ("subjects overlap with an existing stream": the one
    just made). A refused creation is therefore checked again for up to ``settle_s``
    seconds: the stream being there is success; otherwise the refusal stands.
    """
    try:
        await js.stream_info(stream.name)
        return
    except NotFoundError:
        pass
    try:
        await js.add_stream(stream)
    except APIError:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settle_s
        while True:
            with contextlib.suppress(NotFoundError):
                await js.stream_info(stream.name)
                return
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.05)


async def ensure_streams(js: JetStreamContext, config: StreamsConfig) -> None:
    """Create both streams if missing (work-queue retention: acknowledged messages leave)."""
    for kind in ("sightings", "airspace"):
        await add_stream_if_missing(
            js,
            StreamConfig(
                name=config.stream(kind),
                subjects=[f"{config.root}.{kind}.>"],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                max_msgs=config.max_msgs,
                discard=DiscardPolicy.NEW,
                duplicate_window=config.duplicate_window_s,
            ),
        )


async def delete_streams(config: StreamsConfig) -> None:
    """Delete both streams and their consumers (tests and benchmarks)."""
    nc = await connect(config, reconnect=False)
    try:
        js = nc.jetstream()
        for kind in ("sightings", "airspace"):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(config.stream(kind))
    finally:
        await nc.close()


async def stream_stats(config: StreamsConfig) -> dict[str, Any]:
    """Messages stored and consumer positions of both streams."""
    nc = await connect(config, reconnect=False)
    try:
        js = nc.jetstream()
        out: dict[str, Any] = {}
        for kind in ("sightings", "airspace"):
            try:
                info = await js.stream_info(config.stream(kind))
            except NotFoundError:
                out[kind] = None
                continue
            consumers = []
            for c in await js.consumers_info(config.stream(kind)):
                consumers.append(
                    {
                        "durable": c.name,
                        "filter": c.config.filter_subject,
                        "pending": int(c.num_pending or 0),
                        "in_flight": int(c.num_ack_pending or 0),
                        "redelivered": int(c.num_redelivered or 0),
                    }
                )
            out[kind] = {
                "stream": config.stream(kind),
                "messages": int(info.state.messages),
                "bytes": int(info.state.bytes),
                "consumers": consumers,
            }
        return out
    finally:
        await nc.close()
