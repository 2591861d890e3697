"""GB 46750-2025 broadcast packets: the (provisional) vectors, the error rules, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.airspace._data import gb

from haizhou.airspace.decode import decode, decode_gb46750, encode_gb46750

KEYS = [
    "protocol", "type", "protocol_version", "version_minor", "sn", "uin", "op_category",
    "op_category_name", "drone_class", "drone_class_name", "gcs_pos_type", "gcs_pos_type_name",
    "gcs_lon", "gcs_lat", "gcs_alt", "drone_lon", "drone_lat", "track_angle", "ground_speed",
    "rel_alt", "vertical_speed", "drone_alt", "pressure_alt", "op_status", "op_status_name",
    "coord_system", "coord_system_name", "horizontal_accuracy", "vertical_accuracy",
    "speed_accuracy", "timestamp_ms", "timestamp_accuracy",
]  # fmt: skip


def vectors():
    return gb()["vectors"]


@pytest.mark.parametrize("vector", vectors(), ids=lambda v: v["name"])
def test_vectors_decode_to_the_reference_values(vector):
    out = decode(bytes.fromhex(vector["packet_hex"]))
    assert sorted(out) == sorted(KEYS)
    assert (out["protocol"], out["type"], out["protocol_version"]) == ("gb46750", "gb46750", 1)
    expected = {k: v for k, v in vector["decoded"].items() if k not in ("data_len", "flag_bytes")}
    for key in KEYS[3:]:
        if key.endswith("_name"):
            continue
        assert out[key] == expected.get(key), key  # absent optional fields are null


def test_names_and_optional_fields():
    by_name = {v["name"]: v for v in vectors()}
    full = decode(bytes.fromhex(by_name["demo_full"]["packet_hex"]))
    assert full["op_category_name"] == "open"
    assert full["drone_class_name"] == "small"
    assert full["gcs_pos_type_name"] == "takeoff"
    assert full["op_status_name"] == "airborne"
    assert full["coord_system_name"] == "wgs84"
    minimal = decode(bytes.fromhex(by_name["mandatory_only_emergency_cgcs2000"]["packet_hex"]))
    for key in ("op_category", "op_category_name", "rel_alt", "vertical_speed", "pressure_alt"):
        assert minimal[key] is None, key
    assert minimal["coord_system_name"] == "cgcs2000"
    assert minimal["op_status_name"] == "emergency"
    assert minimal["drone_alt"] is None  # raw 0
    assert minimal["track_angle"] == 359.9
    descending = decode(bytes.fromhex(by_name["descending_unknown_track_speed"]["packet_hex"]))
    assert descending["vertical_speed"] == -3.0
    assert descending["track_angle"] is None and descending["ground_speed"] is None
    assert descending["rel_alt"] == -12.0


def _demo() -> bytearray:
    return bytearray(bytes.fromhex(vectors()[0]["packet_hex"]))


def _with(**changes) -> dict:
    values = decode(bytes(_demo()))
    values.update(changes)
    return decode(encode_gb46750(values))


def test_coordinate_and_value_sentinels():
    out = _with(gcs_lat=None, drone_lon=None)
    assert out["gcs_lat"] is None and out["gcs_lon"] == 116.397428  # each axis separately
    assert out["drone_lon"] is None and out["drone_lat"] == 39.9125
    m = _demo()
    # drone_lat (field 008, second int32) set beyond 90°
    offset = 3 + 3 + 20 + 8 + 1 + 1 + 1 + 8 + 2 + 4
    m[offset : offset + 4] = (900_000_001).to_bytes(4, "little", signed=True)
    assert decode(bytes(m))["drone_lat"] is None
    # track 3600 (0x0E10) is out of range
    track_at = 3 + 3 + 20 + 8 + 1 + 1 + 1 + 8 + 2 + 8
    m[track_at : track_at + 2] = (3600).to_bytes(2, "little")
    assert decode(bytes(m))["track_angle"] is None
    assert _with(vertical_speed=None)["vertical_speed"] is None
    assert _with(timestamp_ms=None)["timestamp_ms"] is None


def test_vertical_speed_0xff_is_unknown_and_enumerations_read_low_nibble():
    m = _demo()
    vs_at = 3 + 3 + 20 + 8 + 1 + 1 + 1 + 8 + 2 + 8 + 2 + 2 + 2
    m[vs_at] = 0xFF
    assert decode(bytes(m))["vertical_speed"] is None
    m[vs_at] = 0x80  # "descending 0" is plain 0, not -0.0
    assert str(decode(bytes(m))["vertical_speed"]) == "0.0"
    class_at = 3 + 3 + 20 + 8 + 1
    m[class_at] = 0xF3
    out = decode(bytes(m))
    assert (out["drone_class"], out["drone_class_name"]) == (3, "medium")
    m[class_at] = 0x07
    assert decode(bytes(m))["drone_class_name"] is None


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda m: m[:3], "truncated"),
        (lambda m: bytearray(b"\xfe") + m[1:], "must start with FF"),
        (lambda m: m[:1] + bytearray(b"\x40") + m[2:], "bits 7-5 must be 001"),
        (lambda m: m[:2] + bytearray(b"\x00") + m[3:], "DataLen 0"),
        (lambda m: m[:2] + bytearray([201]) + m[3:], "DataLen 201"),
        (lambda m: m[:-1], "DataLen"),
        (lambda m: m + bytearray(b"\x00"), "DataLen"),
        (lambda m: m[:3] + bytearray(b"\xff\xff\xff\xff"), "flag bytes run past"),
        (lambda m: m[:3] + bytearray(b"\x7f") + m[4:], "field 001 is missing"),
        (lambda m: m[:4] + bytearray(b"\xfb") + m[5:], "field 013 is missing"),
        (lambda m: m[:6] + bytearray(b"\x01") + m[7:], "SN (field 001)"),
        (lambda m: m[:26] + bytearray(b"\xc8") + m[27:], "UIN (field 002)"),
    ],
)
def test_malformed_packets_give_error_objects(mutate, reason):
    raw = bytes(mutate(_demo()))
    out = decode_gb46750(raw)
    assert set(out) == {"error", "input", "protocol"}, out
    assert reason in out["error"]
    assert out["protocol"] == "gb46750"


def test_missing_optional_flag_with_unchanged_length_is_a_length_error():
    m = _demo()
    m[4] = 0xFD  # drop field 014 (optional) from the flags, data unchanged
    out = decode_gb46750(bytes(m))
    assert "need 70 data bytes; DataLen is 72" in out["error"]


def test_more_than_three_flag_bytes_skip_the_extension_data():
    m = _demo()
    extended = m[:3] + bytearray(b"\xff\xff\xff\x00") + m[6:] + bytearray(b"\xaa\xbb")
    extended[2] = m[2] + 2
    out = decode(bytes(extended))
    assert "error" not in out
    expected = decode(bytes(m))
    assert out == expected


# --- round trip --------------------------------------------------------------------------

printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)


@st.composite
def packets(draw) -> dict:
    def axis(limit: int):
        return draw(st.one_of(st.none(), st.integers(-limit, limit).map(lambda r: r / 1e7)))

    def alt(offset: float):
        return draw(st.one_of(st.none(), st.integers(1, 0xFFFF).map(lambda r: r * 0.5 - offset)))

    def optional(strategy):
        return draw(st.one_of(st.none(), strategy))

    return {
        "sn": draw(printable.map(lambda s: s[:20])),
        "uin": draw(printable.map(lambda s: s[:8])),
        "op_category": optional(st.integers(0, 15)),
        "drone_class": draw(st.integers(0, 15)),
        "gcs_pos_type": draw(st.integers(0, 15)),
        "gcs_lon": axis(1_800_000_000),
        "gcs_lat": axis(900_000_000),
        "gcs_alt": alt(1000.0),
        "drone_lon": axis(1_800_000_000),
        "drone_lat": axis(900_000_000),
        "track_angle": optional(st.integers(0, 3599).map(lambda r: r / 10)),
        "ground_speed": optional(st.integers(0, 0xFFFE).map(lambda r: r / 10)),
        "rel_alt": alt(9000.0),
        "vertical_speed": optional(st.integers(-126, 127).map(lambda r: r * 0.5)),
        "drone_alt": alt(1000.0),
        "pressure_alt": alt(1000.0),
        "op_status": draw(st.integers(0, 15)),
        "coord_system": draw(st.integers(0, 15)),
        "horizontal_accuracy": draw(st.integers(0, 15)),
        "vertical_accuracy": draw(st.integers(0, 15)),
        "speed_accuracy": draw(st.integers(0, 15)),
        "timestamp_ms": optional(st.integers(1, (1 << 48) - 1)),
        "timestamp_accuracy": draw(st.integers(0, 15)),
    }


@settings(max_examples=150, deadline=None)
@given(packets(), st.integers(0, 31))
def test_encode_decode_round_trip(values, minor):
    out = decode(encode_gb46750(values, version_minor=minor))
    assert "error" not in out, out
    assert out["version_minor"] == minor
    for key, want in values.items():
        assert out[key] == want, key


def test_vectors_reencode_to_the_same_bytes():
    for vector in vectors():
        raw = bytes.fromhex(vector["packet_hex"])
        assert encode_gb46750(decode(raw)) == raw, vector["name"]
