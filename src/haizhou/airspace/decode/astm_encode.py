"""ASTM F3411 / Open Drone ID encoder (远程识别报文编码), the inverse of :mod:`.astm`.

Follows the reference encoder's rounding (``encoding_rules`` in
``shared/data/remoteid/opendroneid_vectors.json``, ``opendroneid-core-c`` at ``beb5639``):
latitude/longitude and horizontal speed rounded, direction rounded, vertical speed and
altitudes truncated, timestamp rounded to 0.1 s, area radius floored to 10 m.

Every ``encode_*`` function takes values in physical units (degrees, metres, m/s, seconds),
``None`` meaning "unknown" (encoded as the F3411 unknown value), and :func:`encode` takes a
decoded object, so that ``decode(encode(obj)) == obj`` for every value on the wire grid.
Values the message cannot carry raise :class:`EncodeError` (e.g. latitude 91°).
"""

from __future__ import annotations

import math
import struct
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from haizhou.airspace.decode.astm import MAX_PACK_MESSAGES, MESSAGE_SIZE

_LOCATION = struct.Struct("<BBBBbiiHHHBBHBB")
_SYSTEM = struct.Struct("<BBiiHBHHBHIB")
_AUTH_PAGE0 = struct.Struct("<BBBBI17s")


class EncodeError(ValueError):
    """A value that an F3411 message cannot carry; the message says which and why."""


def _round_half_away(x: float) -> int:
    """C ``round()``: halves away from zero (Python's ``round`` is half-to-even)."""
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


def _nibble(value: int, name: str, top: int = 15) -> int:
    if not isinstance(value, int) or not 0 <= value <= top:
        raise EncodeError(f"{name} must be an integer 0..{top}; got {value!r}")
    return value


def _byte(value: int, name: str) -> int:
    return _nibble(value, name, 255)


def _header(kind: int, protocol_version: int) -> int:
    return (kind << 4) | _nibble(protocol_version, "protocol_version")


def _text(value: str | bytes | None, size: int, name: str) -> bytes:
    if value is None:
        raw = b""
    elif isinstance(value, bytes):
        raw = value
    else:
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raise EncodeError(f"{name} must be Latin-1 text; got {value!r}") from None
    if len(raw) > size:
        raise EncodeError(f"{name} holds at most {size} bytes; got {len(raw)}")
    return raw.ljust(size, b"\0")


def _altitude(value: float | None, name: str) -> int:
    if value is None:
        return 0
    if not math.isfinite(value):
        raise EncodeError(f"{name} must be a finite number of metres; got {value!r}")
    return min(max(int((value + 1000.0) / 0.5), 0), 0xFFFF)


def _latlon(lat: float | None, lon: float | None, what: str) -> tuple[int, int]:
    if lat is None and lon is None:
        return 0, 0
    if lat is None or lon is None:
        raise EncodeError(f"{what} latitude and longitude must both be given or both be None")
    if not -90.0 <= lat <= 90.0:
        raise EncodeError(f"{what} latitude must be within ±90°; got {lat}")
    if not -180.0 <= lon <= 180.0:
        raise EncodeError(f"{what} longitude must be within ±180°; got {lon}")
    return _round_half_away(lat * 1e7), _round_half_away(lon * 1e7)


def encode_basic_id(
    *,
    id_type: int,
    ua_type: int,
    uas_id: str | bytes | None,
    protocol_version: int = 2,
) -> bytes:
    """Basic ID message (type 0x0).

    ``uas_id`` is text for ID types 0–2, a UUID string (or 16 raw bytes) for type 3, and the
    lowercase hex of the 20 bytes (or the raw bytes) for types 4–15.
    """
    _nibble(id_type, "id_type")
    if id_type == 3 and isinstance(uas_id, str):
        try:
            raw = uuid.UUID(uas_id).bytes
        except ValueError:
            raise EncodeError(f"uas_id must be a UUID for id_type 3; got {uas_id!r}") from None
    elif id_type >= 4 and isinstance(uas_id, str):
        try:
            raw = bytes.fromhex(uas_id)
        except ValueError:
            raise EncodeError(f"uas_id must be hex for id_type {id_type}; got {uas_id!r}") from None
    else:
        raw = uas_id  # type: ignore[assignment]
    body = _text(raw, 20, "uas_id")
    return (
        bytes([_header(0, protocol_version), (id_type << 4) | _nibble(ua_type, "ua_type")])
        + body
        + b"\0\0\0"
    )


def encode_location(
    *,
    status: int = 0,
    direction: float | None = None,
    speed_horizontal: float | None = None,
    speed_vertical: float | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    altitude_baro: float | None = None,
    altitude_geo: float | None = None,
    height_type: int = 0,
    height: float | None = None,
    horiz_accuracy: int = 0,
    vert_accuracy: int = 0,
    baro_accuracy: int = 0,
    speed_accuracy: int = 0,
    timestamp: float | None = None,
    ts_accuracy: int = 0,
    protocol_version: int = 2,
) -> bytes:
    """Location/Vector message (type 0x1). Degrees, metres, m/s, seconds after the hour.

    ``None`` encodes "unknown": direction 361°, speed 255 m/s, vertical speed 63 m/s,
    position 0/0, altitude −1000 m, timestamp 0xFFFF.
    """
    flags = (_nibble(status, "status") << 4) | (_nibble(height_type, "height_type", 1) << 2)
    d = 361 if direction is None else _round_half_away(direction)
    if d == 360:
        d = 0
    if not 0 <= d <= 361:
        raise EncodeError(f"direction must be within 0..360° (361 unknown); got {direction}")
    if d >= 180:
        flags |= 0x02
        d -= 180
    v = 255.0 if speed_horizontal is None else speed_horizontal
    if not v >= 0:
        raise EncodeError(f"speed_horizontal must be ≥ 0 m/s; got {speed_horizontal}")
    if v <= 63.75:
        speed = _round_half_away(v / 0.25)
    else:
        flags |= 0x01
        speed = min(255, _round_half_away((v - 63.75) / 0.75))
    w = 63.0 if speed_vertical is None else speed_vertical
    if not math.isfinite(w):
        raise EncodeError(f"speed_vertical must be finite; got {speed_vertical}")
    vspeed = min(max(int(w / 0.5), -128), 127)
    lat, lon = _latlon(latitude, longitude, "location")
    if timestamp is None:
        ts = 0xFFFF
    else:
        ts = _round_half_away(timestamp * 10)
        if not 0 <= ts <= 36000:
            raise EncodeError(f"timestamp must be 0..3600 s after the hour; got {timestamp}")
    return _LOCATION.pack(
        _header(1, protocol_version),
        flags,
        d,
        speed,
        vspeed,
        lat,
        lon,
        _altitude(altitude_baro, "altitude_baro"),
        _altitude(altitude_geo, "altitude_geo"),
        _altitude(height, "height"),
        (_nibble(vert_accuracy, "vert_accuracy") << 4) | _nibble(horiz_accuracy, "horiz_accuracy"),
        (_nibble(baro_accuracy, "baro_accuracy") << 4) | _nibble(speed_accuracy, "speed_accuracy"),
        ts,
        _nibble(ts_accuracy, "ts_accuracy"),
        0,
    )


def encode_auth(
    *,
    auth_type: int,
    data_page: int,
    auth_data: str | bytes,
    last_page_index: int | None = None,
    length: int | None = None,
    timestamp: int | None = None,
    protocol_version: int = 2,
) -> bytes:
    """Authentication message (type 0x2), one page.

    ``auth_data`` is the page's data (hex text or bytes): at most 17 bytes on page 0 and 23 on
    later pages, zero-padded. ``timestamp`` is seconds since 2019-01-01T00:00:00Z.
    """
    head = bytes(
        [
            _header(2, protocol_version),
            (_nibble(auth_type, "auth_type") << 4) | _nibble(data_page, "data_page"),
        ]
    )
    data = bytes.fromhex(auth_data) if isinstance(auth_data, str) else auth_data
    if data_page == 0:
        ts = timestamp or 0
        if not 0 <= ts <= 0xFFFFFFFF:
            raise EncodeError(f"auth timestamp must fit 32 bits; got {timestamp}")
        return _AUTH_PAGE0.pack(
            head[0],
            head[1],
            _byte(last_page_index or 0, "last_page_index"),
            _byte(length or 0, "length"),
            ts,
            _text(data, 17, "auth_data"),
        )
    return head + _text(data, 23, "auth_data")


def encode_self_id(*, desc_type: int, desc: str | None, protocol_version: int = 2) -> bytes:
    """Self-ID message (type 0x3): description type and up to 23 Latin-1 characters."""
    return bytes([_header(3, protocol_version), _byte(desc_type, "desc_type")]) + _text(
        desc, 23, "desc"
    )


def encode_system(
    *,
    operator_location_type: int = 0,
    classification_type: int = 0,
    operator_latitude: float | None = None,
    operator_longitude: float | None = None,
    area_count: int = 1,
    area_radius: float = 0,
    area_ceiling: float | None = None,
    area_floor: float | None = None,
    category_eu: int = 0,
    class_eu: int = 0,
    operator_altitude_geo: float | None = None,
    timestamp: int = 0,
    protocol_version: int = 2,
) -> bytes:
    """System message (type 0x4). Degrees, metres; ``timestamp`` in s since 2019-01-01 UTC."""
    lat, lon = _latlon(operator_latitude, operator_longitude, "operator")
    if not 0 <= area_count <= 0xFFFF:
        raise EncodeError(f"area_count must be 0..65535; got {area_count}")
    if not 0 <= area_radius <= 2550:
        raise EncodeError(f"area_radius must be 0..2550 m; got {area_radius}")
    if not 0 <= timestamp <= 0xFFFFFFFF:
        raise EncodeError(f"system timestamp must fit 32 bits; got {timestamp}")
    return _SYSTEM.pack(
        _header(4, protocol_version),
        _nibble(operator_location_type, "operator_location_type", 3)
        | (_nibble(classification_type, "classification_type", 7) << 2),
        lat,
        lon,
        area_count,
        int(area_radius // 10),
        _altitude(area_ceiling, "area_ceiling"),
        _altitude(area_floor, "area_floor"),
        (_nibble(category_eu, "category_eu") << 4) | _nibble(class_eu, "class_eu"),
        _altitude(operator_altitude_geo, "operator_altitude_geo"),
        timestamp,
        0,
    )


def encode_operator_id(
    *, operator_id_type: int, operator_id: str | None, protocol_version: int = 2
) -> bytes:
    """Operator ID message (type 0x5): ID type and up to 20 Latin-1 characters."""
    return (
        bytes([_header(5, protocol_version), _byte(operator_id_type, "operator_id_type")])
        + _text(operator_id, 20, "operator_id")
        + b"\0\0\0"
    )


def encode_message_pack(messages: Sequence[bytes], *, protocol_version: int = 2) -> bytes:
    """Message pack (type 0xF) of 1–9 encoded 25-byte messages of types 0x0–0x5."""
    if not 1 <= len(messages) <= MAX_PACK_MESSAGES:
        raise EncodeError(f"a message pack holds 1..9 messages; got {len(messages)}")
    for i, m in enumerate(messages):
        if len(m) != MESSAGE_SIZE or m[0] >> 4 > 5:
            raise EncodeError(f"pack member {i} must be a 25-byte message of type 0x0-0x5")
    return bytes([_header(0xF, protocol_version), MESSAGE_SIZE, len(messages)]) + b"".join(messages)


_ENCODERS: dict[str, Any] = {
    "basic_id": encode_basic_id,
    "location": encode_location,
    "auth": encode_auth,
    "self_id": encode_self_id,
    "system": encode_system,
    "operator_id": encode_operator_id,
}
#: Keys of a decoded object that are derived (names, bounds) and not encoded.
_DERIVED = {"protocol", "type", "timestamp_unix"}


def encode(obj: Mapping[str, Any]) -> bytes:
    """Encode a decoded F3411 object (the output of :func:`~.astm.decode_astm`) back to bytes.

    Keys ending in ``_name``, ``_m``, ``_mps``, ``_s`` and ``timestamp_unix`` are derived and
    ignored. Raises :class:`EncodeError` for an object that cannot be encoded.

    Examples
    --------
    >>> from haizhou.airspace.decode.astm import decode_astm
    >>> hx = "122624160a42bf241b6ed1b4b69808ac0870086b53150e0200"
    >>> encode(decode_astm(bytes.fromhex(hx))).hex() == hx
    True
    """
    kind = obj.get("type")
    version = obj.get("protocol_version", 2)
    if kind == "message_pack":
        return encode_message_pack([encode(m) for m in obj["messages"]], protocol_version=version)
    func = _ENCODERS.get(kind)  # type: ignore[arg-type]
    if func is None:
        raise EncodeError(f"cannot encode an object of type {kind!r}")
    args = {
        k: v
        for k, v in obj.items()
        if k not in _DERIVED and not k.endswith(("_name", "_m", "_mps", "_s"))
    }
    if kind == "system" and args.get("timestamp") is None:
        args["timestamp"] = 0
    if kind == "auth" and args.get("data_page", 0) != 0:
        for key in ("last_page_index", "length", "timestamp"):
            args.pop(key, None)
    return func(**args)
