"""Format dispatch and stream decoding (报文解码入口): one message, or a stream of them.

:func:`decode` is the pure entry point: bytes in, the spec's object or error object out, never
an exception for bad input. :class:`StreamDecoder` adds what only a stream can give: ADS-B
even/odd CPR pairing per aircraft, so that positions resolve without a receiver reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from haizhou.airspace.decode._common import error
from haizhou.airspace.decode.adsb import PROTOCOL as ADSB
from haizhou.airspace.decode.adsb import decode_adsb
from haizhou.airspace.decode.astm import decode_astm
from haizhou.airspace.decode.cpr import decode_global_airborne, decode_local
from haizhou.airspace.decode.gb46750 import decode_gb46750

Format = Literal["auto", "astm", "gb46750", "adsb"]
FORMATS: tuple[str, ...] = ("auto", "astm", "gb46750", "adsb")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def detect_format(message: bytes) -> Literal["astm", "gb46750", "adsb"]:
    """The decoder ``--format auto`` picks (spec §0).

    ``FF 2x…`` (byte 0 = 0xFF, bits 7–5 of byte 1 = 001) is GB 46750; otherwise a length of
    14 or 7 bytes is ADS-B / Mode S; everything else is ASTM F3411.
    """
    if len(message) >= 2 and message[0] == 0xFF and (message[1] & 0xE0) == 0x20:
        return "gb46750"
    if len(message) in (14, 7):
        return "adsb"
    return "astm"


def decode(
    message: bytes,
    *,
    format: Format = "auto",
    reference: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Decode one Remote ID or ADS-B message (报文解码) into the spec's JSON object.

    Parameters
    ----------
    message : bytes
        One message with its transport framing removed: an F3411 message or pack, a GB 46750
        packet, or a 14-byte ADS-B squitter.
    format : {"auto", "astm", "gb46750", "adsb"}
        Decoder to use; ``"auto"`` picks one per message (see :func:`detect_format`).
    reference : (lat, lon) or None
        Receiver position in degrees; ADS-B positions are then decoded locally against it.
        Without it an ADS-B position is ``null`` here (use :class:`StreamDecoder` to pair).

    Returns
    -------
    dict
        The decoded object (``protocol``, ``type``, ``protocol_version``, …) or the error object
        ``{"error": reason, "input": hex, "protocol": …}``. Never raises on bad bytes.

    Examples
    --------
    >>> decode(bytes.fromhex("8D406B902015A678D4D220AA4BDA"))["callsign"]
    'EZY85MH'
    >>> decode(bytes.fromhex("122624160a42bf241b6ed1b4b69808ac0870086b53150e0200"))["direction"]
    216
    >>> decode(b"\\x77")["error"]
    'unknown F3411 message type 0x7 (byte 0 = 0x77); known types are 0x0-0x5 and 0xF'
    """
    if type(message) is not bytes:
        try:
            message = bytes(message)  # bytearray, memoryview: the decoders slice and search bytes
        except TypeError:
            return {
                "error": f"expected bytes, got {type(message).__name__}; use parse_hex() for text",
                "input": str(message)[:200],
            }
    try:
        if format == "auto":  # detect_format, inlined: this is the hot path
            n = len(message)
            if n >= 2 and message[0] == 0xFF and (message[1] & 0xE0) == 0x20:
                return decode_gb46750(message)
            if n == 14 or n == 7:
                return decode_adsb(message, reference=reference)
            return decode_astm(message)
        if format == "astm":
            return decode_astm(message)
        if format == "adsb":
            return decode_adsb(message, reference=reference)
        if format == "gb46750":
            return decode_gb46750(message)
    except Exception as exc:  # pragma: no cover - a decoder bug must not stop a feed
        return error(f"internal decoder error ({type(exc).__name__}: {exc})", message)
    return error(f"unknown format {format!r}; use one of {', '.join(FORMATS)}", message)


def parse_hex(text: str) -> bytes | None:
    """Bytes of one message written as hex digits (either case, no separators), else ``None``."""
    text = text.strip()
    if len(text) % 2 or not _HEX_DIGITS.issuperset(text):
        return None
    return bytes.fromhex(text)


@dataclass
class _Aircraft:
    even: tuple[int, int] | None = None
    odd: tuple[int, int] | None = None
    position: tuple[float, float] | None = None


@dataclass
class StreamDecoder:
    """Decoder for a stream of messages with ADS-B CPR state per aircraft (流式解码).

    With a ``reference`` every ADS-B position is decoded locally against it and no state is
    kept. Without one (spec §3, "Positions"): an airborne position whose aircraft already has
    a message of the other CPR format is decoded globally from the pair, the newer format
    selecting the result; once an aircraft has a position, each later airborne position is
    decoded locally against its last one. Surface positions stay ``null`` without a reference.
    Input carries no time, so no 10-second pairing window applies.

    Parameters
    ----------
    format : {"auto", "astm", "gb46750", "adsb"}
        As for :func:`decode`.
    reference : (lat, lon) or None
        Receiver position in degrees, held fixed.

    Examples
    --------
    >>> d = StreamDecoder()
    >>> _ = d.decode(bytes.fromhex("8D40058B58C901375147EFD09357"))
    >>> out = d.decode(bytes.fromhex("8D40058B58C904A87F402D3B8C59"))
    >>> round(out["latitude"], 5), round(out["longitude"], 5)
    (49.81755, 6.08442)
    """

    format: Format = "auto"
    reference: tuple[float, float] | None = None
    _aircraft: dict[str, _Aircraft] = field(default_factory=dict, init=False, repr=False)

    def decode(self, message: bytes) -> dict[str, Any]:
        """Decode one message in stream order; see :func:`decode` for the output."""
        out = decode(message, format=self.format, reference=self.reference)
        if (
            self.reference is None
            and out.get("protocol") == ADSB
            and out.get("type") == "airborne_position"
        ):
            self._pair(out)
        return out

    def decode_many(self, messages: Iterable[bytes]) -> Iterator[dict[str, Any]]:
        """Decode messages in order, yielding one object per message."""
        for message in messages:
            yield self.decode(message)

    def _pair(self, out: dict[str, Any]) -> None:
        state = self._aircraft.setdefault(out["icao"], _Aircraft())
        cpr = (out["cpr_lat"], out["cpr_lon"])
        odd = out["cpr_format"]
        if odd:
            state.odd = cpr
        else:
            state.even = cpr
        position: tuple[float, float] | None = None
        if state.position is not None:
            position = decode_local(cpr[0], cpr[1], odd, *state.position)
        elif state.even is not None and state.odd is not None:
            position = decode_global_airborne(state.even, state.odd, newest_is_odd=bool(odd))
        if position is not None and math.isfinite(position[0]) and math.isfinite(position[1]):
            state.position = position
            out["latitude"], out["longitude"] = position
