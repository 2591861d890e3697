"""ASTM F3411 decoding against the Open Drone ID reference vectors and the spec's rules."""

from __future__ import annotations

import json
import re

import pytest
from tests.airspace._data import (
    kind_of,
    odid_single_vectors,
    odid_to_spec,
    odid_vector,
    pack_member_kind,
    spec_text,
)

from haizhou.airspace.decode import decode, decode_astm
from haizhou.airspace.decode.astm import HORIZ_ACCURACY_M


def assert_matches(out: dict, expected: dict) -> None:
    """Every expected key equal; floats within the float32 noise of the reference (1e-7 rel)."""
    for key, want in expected.items():
        assert key in out, key
        got = out[key]
        if isinstance(want, float) or isinstance(got, float):
            assert got == pytest.approx(want, rel=1e-7, abs=1e-6), key
        else:
            assert got == want, key


@pytest.mark.parametrize("vector", odid_single_vectors(), ids=lambda v: v["name"])
def test_every_single_message_vector_matches_the_reference_decoder(vector):
    out = decode(bytes.fromhex(vector["encoded_hex"]))
    kind = kind_of(vector)
    assert out["protocol"] == "astm_f3411"
    assert out["type"] == kind
    assert out["protocol_version"] == 2
    assert_matches(out, odid_to_spec(kind, vector["decoded"]))


def test_the_spec_example_line_exactly():
    block = re.search(r"```json\n(\{.*?\})\n```", spec_text(), re.S)
    assert block is not None
    expected = json.loads(block.group(1))
    out = decode(bytes.fromhex(odid_vector("inout_location")["encoded_hex"]))
    assert out == expected


def test_values_are_exact_doubles_not_float32():
    out = decode(
        bytes.fromhex(odid_vector("edge_location_dir_wrap_speedmult1_negvspeed")["encoded_hex"])
    )
    assert out["timestamp"] == 3599.9  # the reference shows 3599.8999 (float32)
    assert out["latitude"] == -33.8567844
    assert out["longitude"] == 151.2152967
    assert out["direction"] == 0
    assert out["speed_horizontal"] == 99.75
    assert out["speed_vertical"] == -3.0
    assert out["altitude_geo"] is None
    assert out["status_name"] == "emergency"


def test_all_unknown_location_is_all_null():
    out = decode(bytes.fromhex(odid_vector("edge_location_all_unknown_defaults")["encoded_hex"]))
    for key in (
        "direction", "speed_horizontal", "speed_vertical", "latitude", "longitude",
        "altitude_baro", "altitude_geo", "height", "horiz_accuracy_m", "vert_accuracy_m",
        "baro_accuracy_m", "speed_accuracy_mps", "ts_accuracy_s",
    ):  # fmt: skip
        assert out[key] is None, key
    assert out["timestamp"] == 0.0  # raw 0 is a valid time (top of the hour)


def test_speed_multiplier_and_direction_boundaries():
    out = decode(bytes.fromhex(odid_vector("edge_location_dir180_maxspeed")["encoded_hex"]))
    assert (out["direction"], out["speed_horizontal"], out["speed_vertical"]) == (180, 254.25, 62.0)
    out = decode(bytes.fromhex(odid_vector("edge_location_speed_64_mult1")["encoded_hex"]))
    assert out["speed_horizontal"] == 63.75
    out = decode(bytes.fromhex(odid_vector("edge_location_speed_boundary_63_75")["encoded_hex"]))
    assert (out["direction"], out["speed_horizontal"]) == (179, 63.75)


def _location(**bytes_at: int) -> bytes:
    m = bytearray(bytes.fromhex(odid_vector("inout_location")["encoded_hex"]))
    for index, value in bytes_at.items():
        m[int(index[1:])] = value
    return bytes(m)


def test_location_sentinels_and_limits_from_raw_bytes():
    # direction byte 179 + E/W = 359 is valid; 180 + E/W = 360 is not
    assert decode(_location(b1=0x22, b2=179))["direction"] == 359
    assert decode(_location(b1=0x22, b2=180))["direction"] is None
    # multiplier 0 with byte 255 is 63.75 m/s; multiplier 1 with 255 is unknown
    assert decode(_location(b1=0x20, b3=255))["speed_horizontal"] == 63.75
    assert decode(_location(b1=0x21, b3=254))["speed_horizontal"] == 254.25
    assert decode(_location(b1=0x21, b3=255))["speed_horizontal"] is None
    # vertical speed int8: ±124 → ±62 m/s valid, 125 and -125 (62.5) are not
    assert decode(_location(b4=124))["speed_vertical"] == 62.0
    assert decode(_location(b4=256 - 124))["speed_vertical"] == -62.0
    assert decode(_location(b4=125))["speed_vertical"] is None
    assert decode(_location(b4=256 - 125))["speed_vertical"] is None
    # timestamp 36000 (one hour) is valid, 36001 is not
    assert decode(_location(b21=0xA0, b22=0x8C))["timestamp"] == 3600.0
    assert decode(_location(b21=0xA1, b22=0x8C))["timestamp"] is None


def test_latitude_out_of_range_nulls_both_axes():
    m = bytearray(_location())
    m[5:9] = (900_000_001).to_bytes(4, "little", signed=True)
    out = decode(bytes(m))
    assert out["latitude"] is None and out["longitude"] is None
    m[5:9] = (0).to_bytes(4, "little")
    out = decode(bytes(m))
    assert out["latitude"] == 0.0 and out["longitude"] == -122.966389  # only 0/0 is unknown


def test_accuracy_tables_follow_the_spec_not_the_library_typo():
    assert HORIZ_ACCURACY_M[2] == 7408.0  # the C library returns 7808
    out = decode(_location(b19=0x72, b20=0x74))
    assert out["horiz_accuracy_m"] == 7408.0
    assert out["vert_accuracy"] == 7 and out["vert_accuracy_m"] is None
    assert out["baro_accuracy_m"] is None and out["speed_accuracy_mps"] == 0.3
    out = decode(_location(b23=0x03))
    assert out["ts_accuracy_s"] == 0.3


def test_basic_id_uuid_and_hex_forms():
    out = decode(bytes.fromhex(odid_vector("edge_basic_id_utm_uuid_binary")["encoded_hex"]))
    assert out["uas_id"] == "123e4567-e89b-12d3-a456-426614174000"
    assert out["id_type_name"] == "utm_assigned_uuid"
    assert out["ua_type_name"] == "aeroplane"
    m = bytes([0x02, 0x42]) + bytes(range(1, 21)) + b"\0\0\0"
    out = decode(m)
    assert out["uas_id"] == bytes(range(1, 21)).hex()
    assert out["id_type_name"] == "specific_session_id"
    m = bytes([0x02, 0x52]) + bytes(range(1, 21)) + b"\0\0\0"
    assert decode(m)["id_type_name"] is None


def test_text_fields_stop_at_nul_read_latin1_and_empty_is_null():
    m = bytes([0x32, 0x00]) + "Café\0junk".encode("latin-1").ljust(23, b"\0")
    assert decode(m)["desc"] == "Café"
    assert decode(bytes([0x32, 0x00]) + bytes(23))["desc"] is None
    assert decode(bytes([0x32, 201]) + bytes(23))["desc_type_name"] == "private_use"
    assert decode(bytes([0x32, 3]) + bytes(23))["desc_type_name"] is None


def test_auth_page_header_only_on_page_zero():
    page0 = decode(bytes.fromhex(odid_vector("inout_auth_page0")["encoded_hex"]))
    assert page0["timestamp"] == 28000000
    assert page0["timestamp_unix"] == 28000000 + 1546300800
    assert page0["auth_type_name"] == "uas_id_signature"
    assert len(page0["auth_data"]) == 34
    page1 = decode(bytes.fromhex(odid_vector("inout_auth_page1")["encoded_hex"]))
    assert page1["last_page_index"] is None and page1["length"] is None
    assert page1["timestamp"] is None and page1["timestamp_unix"] is None
    assert page1["auth_data"] == "3132333435363738393031323334353637383930313233"


def test_system_message_names_and_area():
    out = decode(bytes.fromhex(odid_vector("inout_system")["encoded_hex"]))
    assert out["area_radius"] == 70
    assert out["classification_type_name"] == "eu"
    assert out["category_eu_name"] == "specific"
    assert out["class_eu_name"] == "C3"
    assert out["operator_location_type_name"] == "takeoff"
    assert out["timestamp_unix"] == 28000000 + 1546300800


def test_protocol_version_is_the_low_nibble_and_all_use_the_f3411_22_layout():
    m = bytearray(bytes.fromhex(odid_vector("inout_location")["encoded_hex"]))
    for version in (0, 1, 2, 15):
        m[0] = 0x10 | version
        out = decode(bytes(m))
        assert out["protocol_version"] == version
        assert out["latitude"] == 45.539309


def test_message_pack_members_decode_as_on_their_own():
    hx = odid_vector("inout_message_pack")["encoded_hex"]
    out = decode(bytes.fromhex(hx))
    assert out["type"] == "message_pack"
    assert (out["message_size"], out["message_count"]) == (25, 7)
    raw = bytes.fromhex(hx)
    for i, member in enumerate(out["messages"]):
        assert member == decode(raw[3 + 25 * i : 28 + 25 * i])
    decoded = odid_vector("inout_message_pack")["decoded"]
    for member, (key, expected) in zip(out["messages"], decoded.items(), strict=True):
        assert member["type"] == pack_member_kind(key)
        assert_matches(member, odid_to_spec(member["type"], expected))


@pytest.mark.parametrize(
    ("hex_or_bytes", "reason"),
    [
        (b"", "empty"),
        (bytes([0x12]) + bytes(23), "25 bytes; got 24"),
        (bytes([0x12]) + bytes(25), "25 bytes; got 26"),
        (bytes([0x62]) + bytes(24), "unknown F3411 message type 0x6"),
        (bytes([0xF2, 0x18, 0x01]) + bytes(25), "message size"),
        (bytes([0xF2, 0x19, 0x00]), "count 0"),
        (bytes([0xF2, 0x19, 0x0A]) + bytes(250), "count 10"),
        (bytes([0xF2, 0x19, 0x02]) + bytes(25), "2 messages need 53"),
        (bytes([0xF2, 0x19]), "truncated"),
        (bytes([0xF2, 0x19, 0x01, 0xF2]) + bytes(24), "inner message 0 has type 0xF"),
    ],
)
def test_malformed_messages_give_error_objects(hex_or_bytes, reason):
    out = decode_astm(hex_or_bytes)
    assert set(out) == {"error", "input", "protocol"}
    assert reason in out["error"]
    assert out["input"] == hex_or_bytes.hex()
    assert out["protocol"] == "astm_f3411"


COMMON = ["protocol", "type", "protocol_version"]
SPEC_KEYS = {
    "basic_id": ["id_type", "id_type_name", "ua_type", "ua_type_name", "uas_id"],
    "location": [
        "status", "status_name", "direction", "speed_horizontal", "speed_vertical", "latitude",
        "longitude", "altitude_baro", "altitude_geo", "height", "height_type", "height_type_name",
        "horiz_accuracy", "horiz_accuracy_m", "vert_accuracy", "vert_accuracy_m",
        "baro_accuracy", "baro_accuracy_m", "speed_accuracy", "speed_accuracy_mps", "timestamp",
        "ts_accuracy", "ts_accuracy_s",
    ],
    "auth": [
        "auth_type", "auth_type_name", "data_page", "last_page_index", "length", "timestamp",
        "timestamp_unix", "auth_data",
    ],
    "self_id": ["desc_type", "desc_type_name", "desc"],
    "system": [
        "operator_location_type", "operator_location_type_name", "classification_type",
        "classification_type_name", "operator_latitude", "operator_longitude", "area_count",
        "area_radius", "area_ceiling", "area_floor", "category_eu", "category_eu_name",
        "class_eu", "class_eu_name", "operator_altitude_geo", "timestamp", "timestamp_unix",
    ],
    "operator_id": ["operator_id_type", "operator_id"],
    "message_pack": ["message_size", "message_count", "messages"],
}  # fmt: skip


@pytest.mark.parametrize("kind", range(6))
def test_every_type_has_exactly_the_spec_keys_even_for_zero_bytes(kind):
    out = decode(bytes([kind << 4 | 2]) + bytes(24))
    assert sorted(out) == sorted(COMMON + SPEC_KEYS[out["type"]])


def test_pack_has_exactly_the_spec_keys():
    out = decode(bytes.fromhex(odid_vector("inout_message_pack")["encoded_hex"]))
    assert sorted(out) == sorted(COMMON + SPEC_KEYS["message_pack"])
