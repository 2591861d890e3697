"""Compact Position Reporting (CPR, 紧凑位置报告) for ADS-B airborne and surface positions.

Written from ICAO Doc 9871 (Technical Provisions for Mode S Services and Extended Squitter),
Appendix C.2.6, and RTCA DO-260B §A.1.7. Pure functions on floats; latitudes and longitudes in
degrees (WGS-84), CPR fields as the raw 17-bit integers.

References
----------
ICAO Doc 9871, *Technical Provisions for Mode S Services and Extended Squitter*, 2nd ed., 2012.
RTCA DO-260B, *Minimum Operational Performance Standards for 1090 MHz Extended Squitter ADS-B*, 2009.
"""

from __future__ import annotations

import math

NZ = 15
CPR_SCALE = 131072.0  # 2**17
_NL_CONST = 1.0 - math.cos(math.pi / (2 * NZ))


def nl(lat: float) -> int:
    """Number of longitude zones NL(lat) (经度区数), 1–59, per ICAO Doc 9871 C.2.6.2.

    Examples
    --------
    >>> nl(0.0), nl(45.0), nl(87.0), nl(89.0)
    (59, 42, 2, 1)
    """
    a = abs(lat)
    if a >= 87.0:
        return 2 if a == 87.0 else 1
    if a == 0.0:
        return 59
    # Closed form: floor(2π / acos(1 − (1 − cos(π/2NZ)) / cos²(lat))).
    value = 1.0 - _NL_CONST / math.cos(math.radians(a)) ** 2
    return int(2.0 * math.pi / math.acos(value))


def _mod(x: float, y: float) -> float:
    return x - y * math.floor(x / y)


def decode_local(
    cpr_lat: int, cpr_lon: int, odd: int, ref_lat: float, ref_lon: float, *, surface: bool = False
) -> tuple[float, float] | None:
    """Locally unambiguous CPR decoding against a reference position (本地解码).

    Right when the aircraft is within 180 NM (airborne) or 45 NM (surface) of the reference.
    The fraction of ``ref / dlat`` is taken as ``r − floor(r)`` so that a reference exactly on a
    zone edge gives a consistent zone index and fraction.

    Returns
    -------
    (latitude, longitude) or None
        Degrees, longitude in [-180, 180); ``None`` when the latitude comes out beyond ±90°
        (the reference is too far from the aircraft, near a pole).
    """
    span = 90.0 if surface else 360.0
    yz = cpr_lat / CPR_SCALE
    xz = cpr_lon / CPR_SCALE
    dlat = span / (4 * NZ - odd)
    r = ref_lat / dlat
    j = math.floor(r) + math.floor(0.5 + (r - math.floor(r)) - yz)
    lat = dlat * (j + yz)
    if not -90.0 <= lat <= 90.0:
        return None
    zones = nl(lat) - odd
    dlon = span / zones if zones > 0 else span
    r = ref_lon / dlon
    m = math.floor(r) + math.floor(0.5 + (r - math.floor(r)) - xz)
    lon = dlon * (m + xz)
    if lon >= 180.0:
        lon -= 360.0
    elif lon < -180.0:
        lon += 360.0
    return lat, lon


def decode_global_airborne(
    even: tuple[int, int], odd: tuple[int, int], newest_is_odd: bool
) -> tuple[float, float] | None:
    """Globally unambiguous decoding of an even/odd airborne pair (全局解码).

    Parameters
    ----------
    even, odd : tuple of int
        ``(cpr_lat, cpr_lon)`` of the last even and the last odd message.
    newest_is_odd : bool
        Whether the newer of the two is the odd one; its format selects the result.

    Returns
    -------
    (latitude, longitude) or None
        ``None`` when the two latitudes fall in different NL zones (the aircraft crossed a
        zone boundary between them) or the latitude is impossible.
    """
    lat0, lon0 = even[0] / CPR_SCALE, even[1] / CPR_SCALE
    lat1, lon1 = odd[0] / CPR_SCALE, odd[1] / CPR_SCALE
    j = math.floor(59.0 * lat0 - 60.0 * lat1 + 0.5)
    rlat0 = 6.0 * (_mod(j, 60) + lat0)
    rlat1 = (360.0 / 59.0) * (_mod(j, 59) + lat1)
    if rlat0 >= 270.0:
        rlat0 -= 360.0
    if rlat1 >= 270.0:
        rlat1 -= 360.0
    if not (-90.0 <= rlat0 <= 90.0 and -90.0 <= rlat1 <= 90.0):
        return None
    nl0 = nl(rlat0)
    if nl0 != nl(rlat1):
        return None
    if newest_is_odd:
        lat, zones, xz = rlat1, max(nl0 - 1, 1), lon1
    else:
        lat, zones, xz = rlat0, max(nl0, 1), lon0
    m = math.floor(lon0 * (nl0 - 1) - lon1 * nl0 + 0.5)
    lon = (360.0 / zones) * (_mod(m, zones) + xz)
    if lon >= 180.0:
        lon -= 360.0
    return lat, lon
