"""GB 46750-2025 broadcast identification packet (民用无人驾驶航空器系统运行识别规范, 广播识别报文).

Layout (``shared/spec/airspace-decode.md`` §2): ``FF``, a version byte (bits 7–5 = ``001``,
bits 4–0 = minor), DataLen (1–200, data bytes only), flag bytes chained by bit 0 whose bits 7…1
flag fields 001–021 in ID order, then the flagged fields, little-endian.

The field names are those of the open reference implementation ``libopendroneidcn``
(struct ``DroneRIDData_t``). The test vectors are **provisional**: they were computed from a
transcription of that library, not from the standard or a real capture.

This module also has :func:`encode_gb46750`, the inverse, used by the round-trip property tests.

References
----------
GB 46750-2025, 民用无人驾驶航空器系统运行识别规范 (*Operational identification of civil unmanned
aircraft systems*), SAMR/SAC, published 2025-10-31, in force 2026-05-01.
``opendroneid-core-c`` ``libopendroneidcn/`` (Apache-2.0, © 2026 Jun Zhang).
"""

from __future__ import annotations

import math
import struct
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from haizhou.airspace.decode._common import error, names, text_field

PROTOCOL = "gb46750"
HEADER = 0xFF
MAX_DATA_LEN = 200
#: Fields 003, 011, 012 and 014 are optional; all others are mandatory.
OPTIONAL_FIELDS = frozenset({3, 11, 12, 14})
#: Wire size in bytes of fields 001–021 (index 0 is field 001).
FIELD_SIZES = (20, 8, 1, 1, 1, 8, 2, 8, 2, 2, 2, 1, 2, 2, 1, 1, 1, 1, 1, 6, 1)
N_FIELDS = len(FIELD_SIZES)

OP_CATEGORY_NAMES = names({0: "undefined", 1: "open", 2: "specific", 3: "certified"}, 16)
DRONE_CLASS_NAMES = names({0: "micro", 1: "light", 2: "small", 3: "medium", 4: "large"}, 16)
GCS_POS_TYPE_NAMES = names({0: "takeoff", 1: "gcs"}, 16)
OP_STATUS_NAMES = names(
    {
        0: "unknown",
        1: "ground",
        2: "airborne",
        3: "emergency",
        4: "rid_failure",
        5: "rid_failure_emergency",
    },
    16,
)
COORD_SYSTEM_NAMES = names({0: "wgs84", 1: "cgcs2000"}, 16)

_PRINTABLE_OR_NUL = frozenset([0, *range(0x20, 0x7F)])
_PRINTABLE_OR_NUL_BYTES = bytes(sorted(_PRINTABLE_OR_NUL))

#: struct codes of fields 001–021 (006 and 008 are two int32, 020 is uint48 as uint32 + uint16).
_FIELD_CODES = ("20s", "8s", "B", "B", "B", "ii", "H", "ii", "H", "H", "H", "B", "H", "H",
                "B", "B", "B", "B", "B", "IH", "B")  # fmt: skip
#: Presence bit of field k (1-based) in the 21-bit mask built from the three flag bytes.
_BIT = tuple(1 << (N_FIELDS - k) for k in range(1, N_FIELDS + 1))
MANDATORY_MASK = sum(_BIT[k - 1] for k in range(1, N_FIELDS + 1) if k not in OPTIONAL_FIELDS)


def _layouts() -> dict[int, tuple[struct.Struct, int, itemgetter]]:
    """One unpacking plan per legal presence mask (mandatory fields + any optional subset).

    Each plan is (Struct of the present fields, their byte count, and an itemgetter that picks
    the 24 values in field order from the unpacked tuple with a None appended, so that an
    absent optional field reads None).
    """
    plans = {}
    optional = sorted(OPTIONAL_FIELDS)
    for subset in range(1 << len(optional)):
        mask = MANDATORY_MASK
        for i, k in enumerate(optional):
            if subset >> i & 1:
                mask |= _BIT[k - 1]
        codes, slots, index = [], [], 0
        for k in range(1, N_FIELDS + 1):
            width = len(_FIELD_CODES[k - 1]) if _FIELD_CODES[k - 1][0].isalpha() else 1
            if mask & _BIT[k - 1]:
                codes.append(_FIELD_CODES[k - 1])
                slots.extend(range(index, index + width))
                index += width
            else:
                slots.extend([-1] * width)
        layout = struct.Struct("<" + "".join(codes))
        # Absent fields read the None appended after the unpacked values.
        getter = itemgetter(*[index if j < 0 else j for j in slots])
        plans[mask] = (layout, layout.size, getter)
    return plans


_LAYOUTS = MappingProxyType(_layouts())


def _coord(raw: int, limit: int) -> float | None:
    """int32 × 1e-7 degrees; ``None`` for 0xFFFFFFFF (read signed: -1) or beyond ±limit."""
    return raw / 1e7 if raw != -1 and -limit <= raw <= limit else None


def decode_gb46750(message: bytes) -> dict[str, Any]:
    """Decode one GB 46750 broadcast packet; an error object for anything malformed.

    Parameters
    ----------
    message : bytes
        The packet from its ``FF`` header byte on.

    Returns
    -------
    dict
        ``protocol`` = ``"gb46750"``, ``type`` = ``"gb46750"``, ``protocol_version`` = 1,
        ``version_minor`` and every field of the spec's table (absent optional fields ``null``),
        or the spec's error object. Units: degrees, metres, m/s, ms since the Unix epoch.

    Examples
    --------
    >>> decode_gb46750(bytes.fromhex("ff20"))["error"]
    'GB 46750 packet truncated: 2 bytes, the header alone is 3'
    """
    n = len(message)
    if n < 4:
        return error(
            f"GB 46750 packet truncated: {n} bytes, the header alone is 3", message, PROTOCOL
        )
    if message[0] != HEADER:
        return error(f"GB 46750 packet must start with FF; got {message[0]:02X}", message, PROTOCOL)
    version = message[1]
    if version >> 5 != 1:
        return error(
            f"GB 46750 version byte {version:02X}: bits 7-5 must be 001", message, PROTOCOL
        )
    data_len = message[2]
    if not 1 <= data_len <= MAX_DATA_LEN:
        return error(f"GB 46750 DataLen {data_len} is outside 1..200", message, PROTOCOL)
    pos = 3
    while True:
        if pos >= n:
            return error("GB 46750 flag bytes run past the end of the packet", message, PROTOCOL)
        pos += 1
        if not message[pos - 1] & 0x01:
            break
    flags = message[3:pos]
    if n != pos + data_len:
        return error(
            f"GB 46750 packet is {n} bytes; header, {len(flags)} flag byte(s) and DataLen "
            f"{data_len} make {pos + data_len}",
            message,
            PROTOCOL,
        )
    f = flags + b"\0\0"  # fewer than 3 flag bytes: the fields they would flag are absent
    mask = (f[0] >> 1) << 14 | (f[1] >> 1) << 7 | f[2] >> 1
    missing = MANDATORY_MASK & ~mask
    if missing:
        first = N_FIELDS - missing.bit_length() + 1
        return error(f"GB 46750 mandatory field {first:03d} is missing", message, PROTOCOL)
    layout, need, pick = _LAYOUTS[mask]
    if need > data_len or (need != data_len and len(flags) <= 3):
        return error(
            f"GB 46750 flagged fields need {need} data bytes; DataLen is {data_len}",
            message,
            PROTOCOL,
        )
    (
        sn, uin, op_category, drone_class, gcs_pos_type, gcs_lon, gcs_lat, gcs_alt,
        drone_lon, drone_lat, track, speed, rel_alt, vs, drone_alt, pressure_alt,
        op_status, coord, h_acc, v_acc, s_acc, ts_lo, ts_hi, ts_acc,
    ) = pick((*layout.unpack_from(message, pos), None))  # fmt: skip
    if sn.translate(None, _PRINTABLE_OR_NUL_BYTES):
        return error("GB 46750 SN (field 001) holds a non-printable byte", message, PROTOCOL)
    if uin.translate(None, _PRINTABLE_OR_NUL_BYTES):
        return error("GB 46750 UIN (field 002) holds a non-printable byte", message, PROTOCOL)
    if vs is None or vs == 0xFF:
        vertical_speed = None
    else:
        vertical_speed = (vs & 0x7F) * 0.5
        if vs & 0x80 and vertical_speed:
            vertical_speed = -vertical_speed
    drone_class &= 0x0F
    gcs_pos_type &= 0x0F
    op_status &= 0x0F
    coord &= 0x0F
    if op_category is not None:
        op_category &= 0x0F
    ts_ms = ts_lo | (ts_hi << 32)
    return {
        "protocol": PROTOCOL,
        "type": "gb46750",
        "protocol_version": 1,
        "version_minor": version & 0x1F,
        "sn": text_field(sn),
        "uin": text_field(uin),
        "op_category": op_category,
        "op_category_name": None if op_category is None else OP_CATEGORY_NAMES[op_category],
        "drone_class": drone_class,
        "drone_class_name": DRONE_CLASS_NAMES[drone_class],
        "gcs_pos_type": gcs_pos_type,
        "gcs_pos_type_name": GCS_POS_TYPE_NAMES[gcs_pos_type],
        "gcs_lon": _coord(gcs_lon, 1_800_000_000),
        "gcs_lat": _coord(gcs_lat, 900_000_000),
        "gcs_alt": gcs_alt * 0.5 - 1000.0 if gcs_alt else None,
        "drone_lon": _coord(drone_lon, 1_800_000_000),
        "drone_lat": _coord(drone_lat, 900_000_000),
        "track_angle": track / 10 if track <= 3599 else None,
        "ground_speed": speed / 10 if speed != 0xFFFF else None,
        "rel_alt": rel_alt * 0.5 - 9000.0 if rel_alt else None,
        "vertical_speed": vertical_speed,
        "drone_alt": drone_alt * 0.5 - 1000.0 if drone_alt else None,
        "pressure_alt": pressure_alt * 0.5 - 1000.0 if pressure_alt else None,
        "op_status": op_status,
        "op_status_name": OP_STATUS_NAMES[op_status],
        "coord_system": coord,
        "coord_system_name": COORD_SYSTEM_NAMES[coord],
        "horizontal_accuracy": h_acc & 0x0F,
        "vertical_accuracy": v_acc & 0x0F,
        "speed_accuracy": s_acc & 0x0F,
        "timestamp_ms": ts_ms or None,
        "timestamp_accuracy": ts_acc & 0x0F,
    }


# --------------------------------------------------------------------------- encoder


class GB46750EncodeError(ValueError):
    """A value that the GB 46750 packet cannot carry."""


def _enc_text(value: str | None, size: int, name: str) -> bytes:
    try:
        raw = b"" if value is None else value.encode("ascii")
    except UnicodeEncodeError:
        raise GB46750EncodeError(f"{name} must be printable ASCII; got {value!r}") from None
    if len(raw) > size or any(b not in _PRINTABLE_OR_NUL for b in raw):
        raise GB46750EncodeError(f"{name} must be at most {size} printable ASCII characters")
    return raw.ljust(size, b"\0")


def _enc_axis(value: float | None, limit: float) -> bytes:
    if value is None:
        return b"\xff\xff\xff\xff"
    if not -limit <= value <= limit:
        raise GB46750EncodeError(f"coordinate {value} is outside ±{limit}")
    return round(value * 1e7).to_bytes(4, "little", signed=True)


def _enc_alt(value: float | None, offset: float) -> bytes:
    if value is None:
        return b"\0\0"
    raw = math.floor((value + offset) * 2)
    return min(max(raw, 0), 0xFFFF).to_bytes(2, "little")


def encode_gb46750(values: dict[str, Any], *, version_minor: int = 0) -> bytes:
    """Encode a GB 46750 packet from the decoder's keys (the inverse of :func:`decode_gb46750`).

    Optional fields (``op_category``, ``rel_alt``, ``vertical_speed``, ``pressure_alt``) are
    left out when absent or ``None``. Scaled values are floored to the wire step as the
    reference encoder does (track 0.1°, speed 0.1 m/s, altitudes 0.5 m, vertical speed 0.5 m/s).
    ``None`` for a mandatory value is written as the field's "invalid" code.
    """
    parts: list[bytes] = []
    present: list[bool] = []

    def put(field_id: int, raw: bytes | None) -> None:
        present.append(raw is not None)
        if raw is not None:
            assert len(raw) == FIELD_SIZES[field_id - 1]
            parts.append(raw)

    def enum(key: str) -> bytes:
        value = values[key]
        if not 0 <= value <= 15:
            raise GB46750EncodeError(f"{key} must be 0..15; got {value}")
        return bytes([value])

    put(1, _enc_text(values.get("sn"), 20, "sn"))
    put(2, _enc_text(values.get("uin"), 8, "uin"))
    put(3, None if values.get("op_category") is None else enum("op_category"))
    put(4, enum("drone_class"))
    put(5, enum("gcs_pos_type"))
    put(6, _enc_axis(values.get("gcs_lon"), 180.0) + _enc_axis(values.get("gcs_lat"), 90.0))
    put(7, _enc_alt(values.get("gcs_alt"), 1000.0))
    put(8, _enc_axis(values.get("drone_lon"), 180.0) + _enc_axis(values.get("drone_lat"), 90.0))
    track = values.get("track_angle")
    put(
        9,
        (
            0xFFFF if track is None or track < 0 else min(math.floor(track * 10 + 1e-9), 3599)
        ).to_bytes(2, "little"),
    )
    speed = values.get("ground_speed")
    put(
        10,
        (
            0xFFFF if speed is None or speed < 0 else min(math.floor(speed * 10 + 1e-9), 0xFFFE)
        ).to_bytes(2, "little"),
    )
    rel = values.get("rel_alt")
    put(11, None if rel is None else _enc_alt(rel, 9000.0))
    vs = values.get("vertical_speed")
    if vs is None:
        put(12, None)
    else:
        # 0xFF (descending 63.5) is the invalid code, so descent stops at 63.0 m/s.
        magnitude = min(math.floor(abs(vs) * 2 + 1e-9), 0x7E if vs < 0 else 0x7F)
        put(12, bytes([magnitude | (0x80 if vs < 0 else 0)]))
    put(13, _enc_alt(values.get("drone_alt"), 1000.0))
    pressure = values.get("pressure_alt")
    put(14, None if pressure is None else _enc_alt(pressure, 1000.0))
    put(15, enum("op_status"))
    put(16, enum("coord_system"))
    put(17, enum("horizontal_accuracy"))
    put(18, enum("vertical_accuracy"))
    put(19, enum("speed_accuracy"))
    ts = values.get("timestamp_ms") or 0
    if not 0 <= ts < 1 << 48:
        raise GB46750EncodeError(f"timestamp_ms must fit 48 bits; got {ts}")
    put(20, ts.to_bytes(6, "little"))
    put(21, enum("timestamp_accuracy"))
    flags = bytearray()
    for byte_no in range(3):
        flag = 0
        for bit in range(7):
            if present[byte_no * 7 + bit]:
                flag |= 0x80 >> bit
        flags.append(flag | (0x01 if byte_no < 2 else 0))
    data = b"".join(parts)
    if not 0 <= version_minor <= 0x1F:
        raise GB46750EncodeError(f"version_minor must be 0..31; got {version_minor}")
    return bytes([HEADER, 0x20 | version_minor, len(data)]) + bytes(flags) + data
