"""ADS-B DF 17/18 encoder (ADS-B报文编码): identification, positions and velocity.

The inverse of :mod:`.adsb`, for round-trip property tests and for simulators that need
realistic squitters. CPR encoding follows ICAO Doc 9871 C.2.6.7; the parity is the Mode S
CRC-24 of :func:`~.adsb.crc24`.
"""

from __future__ import annotations

import math

from haizhou.airspace.decode.adsb import CALLSIGN_ALPHABET, crc24
from haizhou.airspace.decode.cpr import CPR_SCALE, NZ, nl


class AdsbEncodeError(ValueError):
    """A value that the squitter cannot carry."""


def squitter(me: int, icao: str, *, df: int = 17, capability: int = 5) -> bytes:
    """A 14-byte DF 17/18 message around the 56-bit ME field, with its CRC-24 parity."""
    if df not in (17, 18):
        raise AdsbEncodeError(f"df must be 17 or 18; got {df}")
    if not 0 <= me < 1 << 56:
        raise AdsbEncodeError("ME must be a 56-bit unsigned integer")
    try:
        address = bytes.fromhex(icao)
    except ValueError:
        raise AdsbEncodeError(f"icao must be 6 hex digits; got {icao!r}") from None
    if len(address) != 3:
        raise AdsbEncodeError(f"icao must be 6 hex digits; got {icao!r}")
    head = bytes([(df << 3) | (capability & 0x07)]) + address + me.to_bytes(7, "big")
    return head + crc24(head).to_bytes(3, "big")


def encode_identification(
    icao: str, callsign: str, *, category: int = 0, typecode: int = 4, df: int = 17
) -> bytes:
    """Identification (TC 1–4): up to 8 characters of A–Z, 0–9 and space."""
    if not 1 <= typecode <= 4:
        raise AdsbEncodeError(f"identification typecode must be 1..4; got {typecode}")
    text = callsign.ljust(8)
    if len(text) > 8:
        raise AdsbEncodeError(f"callsign holds at most 8 characters; got {callsign!r}")
    me = (typecode << 51) | ((category & 0x07) << 48)
    for i, ch in enumerate(text):
        code = CALLSIGN_ALPHABET.find(ch) if ch != "#" else -1
        if code < 0:
            raise AdsbEncodeError(f"callsign character {ch!r} is not in the ICAO 6-bit alphabet")
        me |= code << (42 - 6 * i)
    return squitter(me, icao, df=df)


def cpr_encode(lat: float, lon: float, odd: int, *, surface: bool = False) -> tuple[int, int]:
    """CPR-encode a position to the raw 17-bit (cpr_lat, cpr_lon) of the given format."""
    span = 90.0 if surface else 360.0
    dlat = span / (4 * NZ - odd)
    yz = math.floor(CPR_SCALE * (lat % dlat) / dlat + 0.5)
    rlat = dlat * (yz / CPR_SCALE + math.floor(lat / dlat))
    zones = nl(rlat) - odd
    dlon = span / zones if zones > 0 else span
    xz = math.floor(CPR_SCALE * (lon % dlon) / dlon + 0.5)
    return int(yz) & 0x1FFFF, int(xz) & 0x1FFFF


def encode_altitude_q(altitude_ft: int | None) -> int:
    """12-bit altitude field with Q = 1 (25-ft steps, −1000 to 50,175 ft); 0 for unknown."""
    if altitude_ft is None:
        return 0
    n, rest = divmod(altitude_ft + 1000, 25)
    if rest or not 0 <= n < 1 << 11:
        raise AdsbEncodeError(f"altitude {altitude_ft} ft is not a 25-ft step in −1000..50175")
    return ((n >> 4) << 5) | 0x10 | (n & 0x0F)


def encode_airborne_position(
    icao: str,
    lat: float,
    lon: float,
    *,
    odd: int,
    altitude_ft: int | None = None,
    altitude_code: int | None = None,
    typecode: int = 11,
    surveillance_status: int = 0,
    df: int = 17,
) -> bytes:
    """Airborne position (TC 9–18, 20–22). ``altitude_code`` overrides the 12 altitude bits."""
    if not (9 <= typecode <= 18 or 20 <= typecode <= 22):
        raise AdsbEncodeError(f"airborne position typecode must be 9..18 or 20..22; got {typecode}")
    code = encode_altitude_q(altitude_ft) if altitude_code is None else altitude_code & 0xFFF
    cpr_lat, cpr_lon = cpr_encode(lat, lon, odd)
    me = (
        (typecode << 51)
        | ((surveillance_status & 0x03) << 49)
        | (code << 36)
        | ((odd & 1) << 34)
        | (cpr_lat << 17)
        | cpr_lon
    )
    return squitter(me, icao, df=df)


def encode_surface_position(
    icao: str,
    lat: float,
    lon: float,
    *,
    odd: int,
    movement: int = 0,
    track_code: int | None = None,
    typecode: int = 8,
    df: int = 17,
) -> bytes:
    """Surface position (TC 5–8): raw movement code 0–127 and track code 0–127 (None: invalid)."""
    if not 5 <= typecode <= 8:
        raise AdsbEncodeError(f"surface position typecode must be 5..8; got {typecode}")
    cpr_lat, cpr_lon = cpr_encode(lat, lon, odd, surface=True)
    status = 0 if track_code is None else 1
    me = (
        (typecode << 51)
        | ((movement & 0x7F) << 44)
        | (status << 43)
        | (((track_code or 0) & 0x7F) << 36)
        | ((odd & 1) << 34)
        | (cpr_lat << 17)
        | cpr_lon
    )
    return squitter(me, icao, df=df)


def encode_velocity(
    icao: str,
    *,
    subtype: int,
    v_ew: int | None = None,
    v_ns: int | None = None,
    heading_code: int | None = None,
    airspeed_raw: int = 0,
    tas: bool = False,
    vertical_rate_raw: int = 0,
    vertical_rate_down: bool = False,
    vr_baro: bool = False,
    diff_raw: int = 0,
    diff_below: bool = False,
    df: int = 17,
) -> bytes:
    """Airborne velocity (TC 19) from raw fields.

    Subtypes 1–2: signed east and north velocity in knots (multiples of 4 for subtype 2),
    ``None`` for "no data". Subtypes 3–4: ``heading_code`` (0–1023, None for invalid) and the
    raw airspeed field. Vertical rate and geometric-minus-baro are given as raw fields.
    """
    if not 1 <= subtype <= 4:
        raise AdsbEncodeError(f"velocity subtype must be 1..4; got {subtype}")
    me = (19 << 51) | (subtype << 48)
    if subtype <= 2:
        factor = 4 if subtype == 2 else 1
        for value, sign_shift, field_shift in ((v_ew, 42, 32), (v_ns, 31, 21)):
            if value is None:
                continue
            magnitude, rest = divmod(abs(value), factor)
            if rest or magnitude + 1 > 0x3FF:
                raise AdsbEncodeError(f"velocity {value} kt does not fit subtype {subtype}")
            me |= ((1 if value < 0 else 0) << sign_shift) | ((magnitude + 1) << field_shift)
    else:
        if heading_code is not None:
            me |= (1 << 42) | ((heading_code & 0x3FF) << 32)
        me |= ((1 if tas else 0) << 31) | ((airspeed_raw & 0x3FF) << 21)
    me |= ((1 if vr_baro else 0) << 20) | ((1 if vertical_rate_down else 0) << 19)
    me |= (vertical_rate_raw & 0x1FF) << 10
    me |= ((1 if diff_below else 0) << 7) | (diff_raw & 0x7F)
    return squitter(me, icao, df=df)
