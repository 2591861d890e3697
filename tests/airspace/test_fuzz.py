"""Fuzzing: no byte string, truncation or bit flip of a valid vector makes a decoder raise."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.airspace._data import gb, odid_vectors, pymodes_vectors

from haizhou.airspace.decode import FORMATS, StreamDecoder, decode


def _valid_messages() -> list[bytes]:
    out = [bytes.fromhex(v["encoded_hex"]) for v in odid_vectors() if "encoded_hex" in v]
    out += [bytes.fromhex(v["packet_hex"]) for v in gb()["vectors"]]
    for v in pymodes_vectors()["vectors"]:
        out += [bytes.fromhex(h) for h in (v["hex"] if isinstance(v["hex"], list) else [v["hex"]])]
    return out


VALID = _valid_messages()


def check(out: object) -> None:
    """A decoder result is a dict: an error object or a decoded object, valid strict JSON."""
    assert isinstance(out, dict)
    if "error" in out:
        assert isinstance(out["error"], str) and out["error"]
        assert isinstance(out["input"], str)
        assert "type" not in out
    else:
        assert out["protocol"] in ("astm_f3411", "gb46750", "adsb")
        assert isinstance(out["type"], str)
        assert "protocol_version" in out
    json.dumps(out, allow_nan=False)  # never NaN or Infinity


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(FORMATS))
def test_random_bytes_never_raise(raw, fmt):
    check(decode(raw, format=fmt))
    check(decode(raw, format=fmt, reference=(34.6, 119.2)))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(VALID), st.data())
def test_truncations_and_bit_flips_of_valid_vectors_never_raise(raw, data):
    cut = data.draw(st.integers(0, len(raw)))
    flips = data.draw(st.lists(st.integers(0, len(raw) * 8 - 1), max_size=6))
    mutated = bytearray(raw)
    for bit in flips:
        mutated[bit // 8] ^= 1 << (bit % 8)
    for candidate in (raw[:cut], bytes(mutated), bytes(mutated[:cut]), raw + b"\x00"):
        for fmt in FORMATS:
            check(decode(candidate, format=fmt))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(VALID), st.binary(max_size=40)), max_size=30))
def test_a_stream_decoder_never_raises_and_keeps_order(messages):
    decoder = StreamDecoder()
    outs = list(decoder.decode_many(messages))
    assert len(outs) == len(messages)
    for out in outs:
        check(out)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=14, max_size=14), st.floats(-90, 90), st.floats(-180, 180))
def test_adsb_with_any_reference_gives_finite_positions(raw, lat, lon):
    # Force a DF 17 header so that the CRC is the only gate; then patch the CRC to be valid.
    from haizhou.airspace.decode import crc24

    head = bytes([0x8D]) + raw[1:11]
    msg = head + crc24(head).to_bytes(3, "big")
    out = decode(msg, reference=(lat, lon))
    check(out)
    if out.get("latitude") is not None:
        assert -90 <= out["latitude"] <= 90 and -180 <= out["longitude"] <= 180


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=40),
        st.binary(min_size=12, max_size=12).map(
            lambda b: b"\xff" + bytes([0x20 | b[0] & 0x1F]) + b
        ),
    )
)
def test_auto_dispatch_follows_detect_format(raw):
    from haizhou.airspace.decode import detect_format

    protocol = {"astm": "astm_f3411", "gb46750": "gb46750", "adsb": "adsb"}[detect_format(raw)]
    assert decode(raw)["protocol"] == protocol
