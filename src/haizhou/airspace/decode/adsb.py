"""ADS-B 1090 MHz Extended Squitter decoder, DF 17 and DF 18 (广播式自动相关监视).

Our own decoder, written from the public layout (ICAO Doc 9871, RTCA DO-260B): CRC-24 check,
identification (TC 1–4), surface position (TC 5–8), airborne position (TC 9–18 barometric with
the Q bit and Gillham code, TC 20–22 GNSS height), airborne velocity (TC 19, subtypes 1–4).
Output as in ``shared/spec/airspace-decode.md`` §3. pyModeS (GPL-3.0) is **not** used here; it
is only an optional oracle in the tests and benchmarks.

:func:`decode_adsb` is stateless: positions are resolved only against a given reference.
The stateful even/odd pairing across a stream lives in
:class:`haizhou.airspace.decode.stream.StreamDecoder`.

References
----------
ICAO Doc 9871, *Technical Provisions for Mode S Services and Extended Squitter*, 2nd ed., 2012.
ICAO Annex 10 Vol. IV, §3.1.2.3.3 (parity, generator polynomial 0x1FFF409) and §3.1.2.6.5.4
(Mode C altitude, Gillham code).
RTCA DO-260B, *MOPS for 1090 MHz Extended Squitter ADS-B and TIS-B*, 2009.
"""

from __future__ import annotations

import math
from typing import Any

from haizhou.airspace.decode._common import error
from haizhou.airspace.decode.cpr import decode_local

PROTOCOL = "adsb"
MESSAGE_BYTES = 14
GENERATOR = 0x1FFF409  # 25-bit generator; the 24-bit table below drops its top bit
CALLSIGN_ALPHABET = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"
FT_PER_M = 3.28084


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc = ((crc << 1) ^ GENERATOR) if crc & 0x800000 else crc << 1
        table.append(crc & 0xFFFFFF)
    return tuple(table)


CRC_TABLE = _crc_table()


def crc24(data: bytes) -> int:
    """Mode S CRC-24 remainder of ``data`` (all bits through the generator 0x1FFF409).

    A 14-byte message with valid parity has ``crc24(message[:11]) == int(message[11:14])``,
    which is what "the remainder over all 112 bits is 0" means.

    Examples
    --------
    >>> m = bytes.fromhex("8D406B902015A678D4D220AA4BDA")
    >>> crc24(m[:11]) == int.from_bytes(m[11:], "big")
    True
    """
    crc = 0
    table = CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ table[(crc >> 16) ^ byte]
    return crc


def gillham_altitude_ft(code12: int) -> int | None:
    """Altitude in feet from a 12-bit AC field with Q = 0 (Gillham / Mode C code, 格雷码高度).

    Bits, most significant first: C1 A1 C2 A2 C4 A4 B1 Q B2 D2 B4 D4. The 500-ft part is the
    reflected Gray code D2 D4 A1 A2 A4 B1 B2 B4; the 100-ft part is C1 C2 C4 (valid 1–5,
    read in reverse when the 500-ft count is odd). ``None`` for an illegal code.
    """
    c1 = (code12 >> 11) & 1
    a1 = (code12 >> 10) & 1
    c2 = (code12 >> 9) & 1
    a2 = (code12 >> 8) & 1
    c4 = (code12 >> 7) & 1
    a4 = (code12 >> 6) & 1
    b1 = (code12 >> 5) & 1
    b2 = (code12 >> 3) & 1
    d2 = (code12 >> 2) & 1
    b4 = (code12 >> 1) & 1
    d4 = code12 & 1
    gray500 = (d2, d4, a1, a2, a4, b1, b2, b4)
    n500 = 0
    bit = 0
    for g in gray500:
        bit ^= g
        n500 = (n500 << 1) | bit
    # C1 C2 C4 as a Gray code gives 1, 2, 3, 4, 7 for the five legal codes; 7 stands for 5.
    n100 = 0
    bit = 0
    for g in (c1, c2, c4):
        bit ^= g
        n100 = (n100 << 1) | bit
    if n100 == 7:
        n100 = 5
    elif n100 in (0, 5, 6):
        return None
    if n500 & 1:
        n100 = 6 - n100
    return (n500 * 5 + n100 - 13) * 100


def _altitude_baro(code12: int) -> int | None:
    if code12 == 0:
        return None
    if code12 & 0x10:  # Q bit: 25-ft increments
        n = ((code12 >> 5) << 4) | (code12 & 0x0F)
        return n * 25 - 1000
    return gillham_altitude_ft(code12)


def _surface_speed_kt(m: int) -> float | None:
    if m == 0 or m >= 125:
        return None
    if m == 1:
        return 0.0
    if m <= 8:
        return 0.125 * (m - 1)
    if m <= 12:
        return 1.0 + 0.25 * (m - 9)
    if m <= 38:
        return 2.0 + 0.5 * (m - 13)
    if m <= 93:
        return float(m - 24)
    if m <= 108:
        return 70.0 + 2.0 * (m - 94)
    if m <= 123:
        return 100.0 + 5.0 * (m - 109)
    return 175.0


def _common(df: int, icao: str, tc: int, kind: str) -> dict[str, Any]:
    return {
        "protocol": PROTOCOL,
        "type": kind,
        "protocol_version": None,
        "df": df,
        "icao": icao,
        "typecode": tc,
    }


def decode_identification(df: int, icao: str, tc: int, me: int) -> dict[str, Any]:
    """Aircraft identification and category (识别与类别, TC 1–4): callsign and category."""
    chars = "".join(CALLSIGN_ALPHABET[(me >> shift) & 0x3F] for shift in range(42, -1, -6))
    callsign = chars.rstrip(" ")
    out = _common(df, icao, tc, "identification")
    out["category"] = (me >> 48) & 0x07
    out["callsign"] = callsign or None
    return out


def decode_surface_position(
    df: int, icao: str, tc: int, me: int, reference: tuple[float, float] | None
) -> dict[str, Any]:
    """Surface position (地面位置, TC 5–8): ground speed, track and the CPR position."""
    movement = (me >> 44) & 0x7F
    track_ok = (me >> 43) & 1
    odd = (me >> 34) & 1
    cpr_lat = (me >> 17) & 0x1FFFF
    cpr_lon = me & 0x1FFFF
    position = None
    if reference is not None:
        position = decode_local(cpr_lat, cpr_lon, odd, reference[0], reference[1], surface=True)
    lat, lon = position if position is not None else (None, None)
    out = _common(df, icao, tc, "surface_position")
    out["groundspeed_kt"] = _surface_speed_kt(movement)
    out["track_deg"] = ((me >> 36) & 0x7F) * 360 / 128 if track_ok else None
    out["cpr_format"] = odd
    out["cpr_lat"] = cpr_lat
    out["cpr_lon"] = cpr_lon
    out["latitude"] = lat
    out["longitude"] = lon
    return out


def decode_airborne_position(
    df: int, icao: str, tc: int, me: int, reference: tuple[float, float] | None
) -> dict[str, Any]:
    """Airborne position (空中位置, TC 9–18 and 20–22): altitude and the CPR position."""
    code12 = (me >> 36) & 0xFFF
    if tc <= 18:
        altitude = _altitude_baro(code12)
        source = "baro"
    else:
        altitude = round(code12 * FT_PER_M) if code12 else None
        source = "gnss"
    odd = (me >> 34) & 1
    cpr_lat = (me >> 17) & 0x1FFFF
    cpr_lon = me & 0x1FFFF
    position = None
    if reference is not None:
        position = decode_local(cpr_lat, cpr_lon, odd, reference[0], reference[1])
    lat, lon = position if position is not None else (None, None)
    out = _common(df, icao, tc, "airborne_position")
    out["altitude_ft"] = altitude
    out["altitude_source"] = source
    out["surveillance_status"] = (me >> 49) & 0x03
    out["cpr_format"] = odd
    out["cpr_lat"] = cpr_lat
    out["cpr_lon"] = cpr_lon
    out["latitude"] = lat
    out["longitude"] = lon
    return out


def decode_velocity(df: int, icao: str, tc: int, me: int) -> dict[str, Any]:
    """Airborne velocity (空中速度, TC 19): ground speed and track, or airspeed and heading.

    Units: knots, degrees clockwise from true north, feet per minute, feet.
    """
    subtype = (me >> 48) & 0x07
    groundspeed = track = airspeed = airspeed_type = heading = None
    vr_raw = (me >> 10) & 0x1FF
    diff_raw = me & 0x7F
    if subtype in (1, 2):
        vew = (me >> 32) & 0x3FF
        vns = (me >> 21) & 0x3FF
        if vew and vns:
            factor = 4 if subtype == 2 else 1
            v_ew = (vew - 1) * factor * (-1 if (me >> 42) & 1 else 1)
            v_ns = (vns - 1) * factor * (-1 if (me >> 31) & 1 else 1)
            groundspeed = math.hypot(v_ew, v_ns)
            track = math.degrees(math.atan2(v_ew, v_ns)) % 360.0
    elif subtype in (3, 4):
        if (me >> 42) & 1:
            heading = ((me >> 32) & 0x3FF) * 360 / 1024
        airspeed_type = "tas" if (me >> 31) & 1 else "ias"
        raw = (me >> 21) & 0x3FF
        if raw:
            airspeed = (raw - 1) * (4 if subtype == 4 else 1)
    if subtype in (1, 2, 3, 4):
        vertical_rate = ((vr_raw - 1) * 64 * (-1 if (me >> 19) & 1 else 1)) if vr_raw else None
        vr_source = "baro" if (me >> 20) & 1 else "gnss"
        geo_minus_baro = (
            (diff_raw - 1) * 25 * (-1 if (me >> 7) & 1 else 1) if 0 < diff_raw < 127 else None
        )
    else:  # reserved subtypes 0, 5-7: the layout is undefined, nothing is read
        vertical_rate = vr_source = geo_minus_baro = None
    out = _common(df, icao, tc, "airborne_velocity")
    out["subtype"] = subtype
    out["groundspeed_kt"] = groundspeed
    out["track_deg"] = track
    out["airspeed_kt"] = airspeed
    out["airspeed_type"] = airspeed_type
    out["heading_deg"] = heading
    out["vertical_rate_fpm"] = vertical_rate
    out["vertical_rate_source"] = vr_source
    out["geo_minus_baro_ft"] = geo_minus_baro
    return out


def decode_adsb(message: bytes, *, reference: tuple[float, float] | None = None) -> dict[str, Any]:
    """Decode one DF 17/18 extended squitter; an error object for anything else.

    Parameters
    ----------
    message : bytes
        The 14 bytes of the squitter, parity included.
    reference : (lat, lon) or None
        Receiver position in degrees for local CPR decoding; without it ``latitude`` and
        ``longitude`` are ``null``.

    Returns
    -------
    dict
        The spec's object for the typecode, or ``{"error", "input", "protocol": "adsb"}``.

    Examples
    --------
    >>> decode_adsb(bytes.fromhex("8D406B902015A678D4D220AA4BDA"))["callsign"]
    'EZY85MH'
    """
    n = len(message)
    if n != MESSAGE_BYTES:
        if n == 7:
            return error(
                "56-bit Mode S short squitter; only 112-bit DF 17/18 ADS-B is decoded",
                message,
                PROTOCOL,
            )
        return error(f"ADS-B message must be 14 bytes; got {n}", message, PROTOCOL)
    df = message[0] >> 3
    if df != 17 and df != 18:
        return error(f"downlink format {df} is not ADS-B (DF 17 or 18)", message, PROTOCOL)
    if crc24(message[:11]) != int.from_bytes(message[11:14], "big"):
        return error("CRC-24 parity check failed", message, PROTOCOL)
    icao = message[1:4].hex().upper()
    me = int.from_bytes(message[4:11], "big")
    tc = me >> 51
    if 9 <= tc <= 18 or 20 <= tc <= 22:
        return decode_airborne_position(df, icao, tc, me, reference)
    if tc == 19:
        return decode_velocity(df, icao, tc, me)
    if 1 <= tc <= 4:
        return decode_identification(df, icao, tc, me)
    if 5 <= tc <= 8:
        return decode_surface_position(df, icao, tc, me, reference)
    return _common(df, icao, tc, "other")
