"""Remote ID and ADS-B decoders (远程识别与ADS-B报文解码): pure functions on bytes.

Layout (one folder for the decoders of every broadcast protocol the airspace core reads):

* :mod:`.astm` — ASTM F3411-22 / ASD-STAN EN 4709-002 (Open Drone ID) messages and packs;
  :mod:`.astm_encode` its encoder (for round trips and simulators).
* :mod:`.gb46750` — China's GB 46750-2025 broadcast packet, decoder and encoder.
* :mod:`.adsb` — 1090 MHz Extended Squitter DF 17/18; :mod:`.cpr` CPR position decoding;
  :mod:`.adsb_encode` an encoder for identification, position and velocity.
* :mod:`.framing` — strips Bluetooth 4/5, Wi-Fi beacon and Wi-Fi NAN framing.
* :mod:`.stream` — :func:`decode` (format dispatch) and :class:`StreamDecoder` (CPR pairing).

Output follows ``shared/spec/airspace-decode.md``. Nothing here does I/O, reads settings or
keeps module state; bad bytes give an error object, never an exception.
"""

from haizhou.airspace.decode.adsb import crc24, decode_adsb
from haizhou.airspace.decode.astm import decode_astm
from haizhou.airspace.decode.framing import decode_frame
from haizhou.airspace.decode.gb46750 import decode_gb46750, encode_gb46750
from haizhou.airspace.decode.stream import (
    FORMATS,
    StreamDecoder,
    decode,
    detect_format,
    parse_hex,
)

__all__ = [
    "FORMATS",
    "StreamDecoder",
    "crc24",
    "decode",
    "decode_adsb",
    "decode_astm",
    "decode_frame",
    "decode_gb46750",
    "detect_format",
    "encode_gb46750",
    "parse_hex",
]
