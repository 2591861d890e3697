"""Remote ID transport framing (传输帧解析): Bluetooth 4/5, Wi-Fi beacon and Wi-Fi NAN.

A receiver adapter hands the raw bytes it captured to one of these functions, which strips the
framing and returns the message counter and the F3411 payload (one 25-byte message, or a
message pack). The payload then goes to :func:`haizhou.airspace.decode.decode`.
:func:`decode_frame` does both and, like every decoder here, returns an error object instead of
raising on bad bytes.

References
----------
ASTM F3411-22a §5.4.5 (Bluetooth), ASD-STAN prEN 4709-002 (Wi-Fi beacon, Wi-Fi NAN);
Wi-Fi Alliance, *Neighbor Awareness Networking Specification* v3.1 (Service Descriptor attribute);
``opendroneid-core-c`` ``libopendroneid/wifi.c`` (Apache-2.0) for the framing constants.
"""

from __future__ import annotations

from typing import Any, Literal

from haizhou.airspace.decode._common import error
from haizhou.airspace.decode.astm import PROTOCOL as ASTM
from haizhou.airspace.decode.astm import decode_astm

Transport = Literal["bluetooth", "wifi_beacon", "wifi_nan"]

BT_AD_SERVICE_DATA = 0x16
BT_UUID_ASTM = b"\xfa\xff"  # 0xFFFA little-endian
APP_CODE_ODID = 0x0D
WIFI_IE_VENDOR = 0xDD
WIFI_OUI_ASD_STAN = b"\xfa\x0b\xbc"
WIFI_VENDOR_TYPE_ODID = 0x0D
#: First 6 bytes of SHA-256("org.opendroneid.remoteid").
NAN_SERVICE_ID = bytes.fromhex("8869199d9209")
NAN_OUI_WFA = b"\x50\x6f\x9a"
NAN_OUI_TYPE = 0x13
_BEACON_HEADER = 24 + 12  # MAC header, then timestamp, interval, capability


class FramingError(ValueError):
    """The bytes are not a Remote ID frame of the transport given; the message says why."""


def unwrap_bluetooth(frame: bytes) -> tuple[int, bytes]:
    """Strip Bluetooth 4 legacy or 5 extended advertising service data.

    Accepts one AD structure, with or without its leading length byte:
    ``[len] 16 FA FF 0D <counter> <message or pack>``.

    Returns
    -------
    (counter, payload) : tuple of (int, bytes)
    """
    data = frame
    if len(data) >= 2 and data[0] != BT_AD_SERVICE_DATA and data[1] == BT_AD_SERVICE_DATA:
        if data[0] != len(data) - 1:
            raise FramingError(
                f"Bluetooth AD length byte says {data[0]}, but {len(data) - 1} bytes follow"
            )
        data = data[1:]
    if len(data) < 5:
        raise FramingError(f"Bluetooth service data truncated: {len(data)} bytes")
    if data[0] != BT_AD_SERVICE_DATA or data[1:3] != BT_UUID_ASTM or data[3] != APP_CODE_ODID:
        raise FramingError("not ASTM Remote ID service data (expected 16 FA FF 0D)")
    return data[4], bytes(data[5:])


def _vendor_ies(frame: bytes, start: int):
    pos = start
    while pos + 2 <= len(frame):
        ie_id, size = frame[pos], frame[pos + 1]
        body = frame[pos + 2 : pos + 2 + size]
        if len(body) < size:
            raise FramingError(f"Wi-Fi information element at byte {pos} is truncated")
        yield ie_id, body
        pos += 2 + size


def unwrap_wifi_beacon(frame: bytes) -> tuple[int, bytes]:
    """Strip an 802.11 beacon: find the vendor IE ``DD <len> FA 0B BC 0D <counter> <pack>``.

    ``frame`` starts at the 802.11 MAC header (frame control ``80 00``); no radiotap header.
    """
    if len(frame) < _BEACON_HEADER or frame[0] != 0x80:
        raise FramingError("not an 802.11 beacon frame (frame control must be 80 00)")
    for ie_id, body in _vendor_ies(frame, _BEACON_HEADER):
        if (
            ie_id == WIFI_IE_VENDOR
            and body[:3] == WIFI_OUI_ASD_STAN
            and len(body) >= 5
            and body[3] == WIFI_VENDOR_TYPE_ODID
        ):
            return body[4], bytes(body[5:])
    raise FramingError("no ASD-STAN Remote ID vendor IE (DD … FA 0B BC 0D) in the beacon")


def unwrap_wifi_nan(frame: bytes) -> tuple[int, bytes]:
    """Strip a Wi-Fi NAN Service Discovery Frame carrying the Open Drone ID service.

    ``frame`` starts at the 802.11 MAC header of the public action frame (``D0 00``), then
    category 04, action 09, OUI 50 6F 9A, type 13 and NAN attributes; the Service Descriptor
    attribute (id 03) with service ID ``88 69 19 9D 92 09`` holds the counter and the pack in
    its service info.
    """
    if len(frame) < 30 or frame[0] != 0xD0:
        raise FramingError("not an 802.11 action frame (frame control must be D0 00)")
    body = frame[24:]
    if body[0] != 0x04 or body[1] != 0x09 or body[2:5] != NAN_OUI_WFA or body[5] != NAN_OUI_TYPE:
        raise FramingError("not a NAN service discovery frame (expected 04 09 50 6F 9A 13)")
    pos = 6
    while pos + 3 <= len(body):
        attr_id = body[pos]
        size = int.from_bytes(body[pos + 1 : pos + 3], "little")
        attr = body[pos + 3 : pos + 3 + size]
        if len(attr) < size:
            raise FramingError(f"NAN attribute {attr_id} at byte {24 + pos} is truncated")
        pos += 3 + size
        if attr_id != 0x03 or attr[:6] != NAN_SERVICE_ID or len(attr) < 9:
            continue
        control = attr[8]
        at = 9
        if control & 0x40:  # binding bitmap
            at += 2
        if control & 0x04:  # matching filter
            at += 1 + (attr[at] if at < len(attr) else 0)
        if control & 0x08:  # service response filter
            at += 1 + (attr[at] if at < len(attr) else 0)
        if not control & 0x10 or at >= len(attr):
            raise FramingError("NAN service descriptor for Open Drone ID has no service info")
        info = attr[at + 1 : at + 1 + attr[at]]
        if len(info) < 2 or len(info) != attr[at]:
            raise FramingError("NAN service info is truncated")
        return info[0], bytes(info[1:])
    raise FramingError("no Open Drone ID service descriptor (service ID 88:69:19:9D:92:09)")


_UNWRAP = {
    "bluetooth": unwrap_bluetooth,
    "wifi_beacon": unwrap_wifi_beacon,
    "wifi_nan": unwrap_wifi_nan,
}


def decode_frame(frame: bytes, transport: Transport) -> dict[str, Any]:
    """Strip the transport framing and decode the F3411 payload; never raises on bad bytes.

    Returns the decoded object with an added ``message_counter``, or an error object.

    Examples
    --------
    >>> frame = bytes.fromhex("1e16faff0d07") + bytes.fromhex(
    ...     "52003938373635343332313030313233343536373839000000")
    >>> out = decode_frame(frame, "bluetooth")
    >>> out["type"], out["message_counter"]
    ('operator_id', 7)
    """
    unwrap = _UNWRAP.get(transport)
    if unwrap is None:
        return error(f"unknown transport {transport!r}; use one of {', '.join(_UNWRAP)}", frame)
    try:
        counter, payload = unwrap(frame)
    except (FramingError, IndexError) as exc:
        reason = str(exc) if isinstance(exc, FramingError) else "frame truncated"
        return error(reason, frame, ASTM)
    out = decode_astm(payload)
    if "error" not in out:
        out["message_counter"] = counter
    return out
