"""Synthetic sensor messages (合成报文) for demos, tests and benchmarks.

Real encoders from the core (:mod:`haizhou.airspace.decode.astm_encode`) build the bytes a
Remote ID receiver would publish, so what goes over MQTT is what a sensor sends.
"""

from __future__ import annotations

import json
import math

from haizhou.airspace.decode.astm_encode import (
    encode_basic_id,
    encode_location,
    encode_message_pack,
    encode_system,
)

__all__ = ["radar_plot", "remote_id_pack"]


def remote_id_pack(
    serial: str,
    lon: float,
    lat: float,
    height_m: float,
    *,
    direction: float = 0.0,
    speed_mps: float = 5.0,
    pilot: tuple[float, float] | None = None,
) -> bytes:
    """An ASTM F3411 message pack: Basic ID (serial number), Location and, with ``pilot``, System.

    >>> from haizhou.airspace.decode import decode
    >>> out = decode(remote_id_pack("1581F5FJD23A00001", 119.23, 34.58, 80.0))
    >>> out["messages"][0]["uas_id"], round(out["messages"][1]["latitude"], 4)
    ('1581F5FJD23A00001', 34.58)
    """
    parts = [
        encode_basic_id(id_type=1, ua_type=2, uas_id=serial),
        encode_location(
            status=2,
            direction=direction % 360.0,
            speed_horizontal=speed_mps,
            speed_vertical=0.0,
            latitude=lat,
            longitude=lon,
            altitude_geo=height_m + 10.0,
            height_type=0,
            height=height_m,
            horiz_accuracy=10,
            vert_accuracy=4,
        ),
    ]
    if pilot is not None:
        parts.append(
            encode_system(
                operator_location_type=1, operator_longitude=pilot[0], operator_latitude=pilot[1]
            )
        )
    return encode_message_pack(parts)


def radar_plot(
    sensor: tuple[float, float], x_m: float, y_m: float, z_m: float, *, sensor_id: str = "radar-1"
) -> bytes:
    """A radar plot JSON (``docs/airspace.md``) of a target at local ``(x, y, z)`` metres,
    seen from a radar at local ``sensor`` metres, without noise."""
    dx, dy = x_m - sensor[0], y_m - sensor[1]
    ground = math.hypot(dx, dy)
    return json.dumps(
        {
            "sensor_id": sensor_id,
            "sensor": {"x_m": sensor[0], "y_m": sensor[1], "z_m": 0.0},
            "range_m": math.hypot(ground, z_m),
            "azimuth_deg": math.degrees(math.atan2(dx, dy)) % 360.0,
            "elevation_deg": math.degrees(math.atan2(z_m, ground)),
            "rcs_dbsm": -17.0,
        }
    ).encode()
