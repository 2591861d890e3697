"""Synthetic stream load (合成负载): sightings and Remote ID messages at a steady rate.

Sightings go as pseudonymised records (the form the bridge publishes), 50 to a message as a
gateway batches them; airspace messages are ASTM F3411 message packs of drones circling a
centre, one message each. Paced in 20 ms ticks; the publisher's bounded in-flight window is the
only buffer, so when JetStream or the consumers fall behind the achieved rate drops instead of
memory growing.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from haizhou.feeds.synthetic import remote_id_pack
from haizhou.streams.publisher import Publisher, sightings_payload

__all__ = ["AirspaceSource", "circling_drones", "publish_load"]

SIGHTINGS_PER_MESSAGE = 50
TICK_S = 0.02
PACK_STEP_S = 0.2

# (message index, seconds since start) -> (area, sensor id, kind, payload), or None to skip
AirspaceSource = Callable[[int, float], tuple[str, str, str, bytes] | None]


def circling_drones(
    area: str, centre: tuple[float, float] = (119.2280, 34.5800), drones: int = 40
) -> AirspaceSource:
    """Remote ID packs of ``drones`` drones circling ``centre`` 3 km out, at 80 m.

    Positions move every ``PACK_STEP_S`` (0.2 s, the live tracker's frame); each drone's pack
    of a step is encoded once, so the load generator spends its CPU on publishing.
    """
    packs: dict[tuple[int, int], bytes] = {}

    def make(i: int, t: float) -> tuple[str, str, str, bytes]:
        k = i % drones
        step = int(t / PACK_STEP_S)
        payload = packs.get((k, step))
        if payload is None:
            if len(packs) > 4 * drones:
                packs.clear()
            angle = 2 * math.pi * k / drones + 0.02 * step * PACK_STEP_S
            lon = centre[0] + 0.03 * math.cos(angle)
            lat = centre[1] + 0.03 * math.sin(angle)
            payload = packs[(k, step)] = remote_id_pack(f"SY{k:014d}", lon, lat, 80.0)
        return area, "rid-1", "remoteid", payload

    return make


async def publish_load(
    pub: Publisher,
    *,
    seconds: float,
    sightings_per_s: float,
    airspace_per_s: float,
    areas: Sequence[str],
    airspace: AirspaceSource | None = None,
    sensors_per_area: int = 50,
) -> dict[str, float]:
    """Publish for ``seconds``; returns what was sent and the rates achieved."""
    airspace = airspace or circling_drones(areas[0])
    run = secrets.token_hex(4)  # unique pseudo ids per run: every sighting is new
    t0 = time.monotonic()
    sent_s = sent_a = msgs_s = 0
    while (now := time.monotonic() - t0) < seconds:
        due_s = int(now * sightings_per_s)
        while sent_s + SIGHTINGS_PER_MESSAGE <= due_s:
            area = areas[msgs_s % len(areas)]
            n = SIGHTINGS_PER_MESSAGE
            ids = [f"{run}{sent_s + j:010d}" for j in range(n)]
            sensors = [f"{area}-s{(sent_s + j) % sensors_per_area}" for j in range(n)]
            secs = [int(datetime.now(UTC).timestamp())] * n
            await pub.sightings(area, sightings_payload(ids, ["device"] * n, sensors, secs))
            sent_s += n
            msgs_s += 1
        due_a = int(now * airspace_per_s)
        while sent_a < due_a:
            item = airspace(sent_a, now)
            sent_a += 1
            if item is not None:
                await pub.airspace(*item)
        await asyncio.sleep(TICK_S)
    await pub.drain()
    span = time.monotonic() - t0
    return {
        "sightings": sent_s,
        "sightings_messages": msgs_s,
        "airspace_messages": sent_a,
        "sightings_per_s": round(sent_s / span, 1),
        "airspace_per_s": round(sent_a / span, 1),
    }
