"""Transport framing: Wi-Fi beacon and NAN vectors, Bluetooth 4/5 service data, bad frames."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.airspace._data import odid_to_spec, odid_vector, pack_member_kind

from haizhou.airspace.decode import decode
from haizhou.airspace.decode.framing import (
    FramingError,
    decode_frame,
    unwrap_bluetooth,
    unwrap_wifi_beacon,
    unwrap_wifi_nan,
)


@pytest.mark.parametrize(
    ("name", "transport", "offset"),
    [
        ("wifi_beacon_frame_message_pack", "wifi_beacon", 68),
        ("wifi_nan_action_frame_message_pack", "wifi_nan", 44),
    ],
)
def test_wifi_frames_give_the_pack_and_its_members(name, transport, offset):
    vector = odid_vector(name)
    frame = bytes.fromhex(vector["frame_hex"])
    assert len(frame) == vector["frame_length"]
    unwrap = unwrap_wifi_beacon if transport == "wifi_beacon" else unwrap_wifi_nan
    counter, payload = unwrap(frame)
    assert counter == 0x55
    assert payload == frame[offset : offset + len(payload)]
    out = decode_frame(frame, transport)
    assert out["type"] == "message_pack" and out["message_counter"] == 0x55
    assert out["message_count"] == 3
    for member, (key, values) in zip(out["messages"], vector["decoded"].items(), strict=True):
        assert member["type"] == pack_member_kind(key)
        for k, want in odid_to_spec(member["type"], values).items():
            assert member[k] == want, k
    assert out["messages"][2]["timestamp"] == 305419896


def test_bluetooth_4_legacy_and_5_extended_service_data():
    message = bytes.fromhex(odid_vector("inout_location")["encoded_hex"])
    legacy = bytes([len(message) + 5, 0x16, 0xFA, 0xFF, 0x0D, 0x2A]) + message
    assert unwrap_bluetooth(legacy) == (0x2A, message)
    assert unwrap_bluetooth(legacy[1:]) == (0x2A, message)  # without the AD length byte
    assert decode_frame(legacy, "bluetooth") == {**decode(message), "message_counter": 0x2A}
    pack = bytes.fromhex(odid_vector("inout_message_pack")["encoded_hex"])
    extended = bytes([0x16, 0xFA, 0xFF, 0x0D, 0x01]) + pack
    assert decode_frame(extended, "bluetooth")["message_count"] == 7


@pytest.mark.parametrize(
    ("frame", "transport", "reason"),
    [
        (bytes.fromhex("1e16faff0d"), "bluetooth", "length byte"),
        (bytes.fromhex("16faff0c01") + bytes(25), "bluetooth", "16 FA FF 0D"),
        (bytes.fromhex("16faff"), "bluetooth", "truncated"),
        (bytes(40), "wifi_beacon", "beacon"),
        (bytes([0x80]) + bytes(40), "wifi_beacon", "no ASD-STAN"),
        (bytes([0xD0]) + bytes(40), "wifi_nan", "not a NAN"),
        (bytes(10), "zigbee", "unknown transport"),
    ],
)
def test_bad_frames_give_error_objects(frame, transport, reason):
    out = decode_frame(frame, transport)
    assert reason in out["error"]
    assert out["input"] == frame.hex()


def test_unwrap_raises_a_framing_error_with_the_reason():
    with pytest.raises(FramingError, match="16 FA FF 0D"):
        unwrap_bluetooth(bytes.fromhex("16faff0c01"))


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["wifi_beacon_frame_message_pack", "wifi_nan_action_frame_message_pack"]),
    cut=st.integers(0, 200),
    flips=st.lists(st.integers(0, 146 * 8 - 1), max_size=4),
)
def test_truncated_or_corrupted_frames_never_raise(name, cut, flips):
    frame = bytearray(bytes.fromhex(odid_vector(name)["frame_hex"]))
    for bit in flips:
        if bit // 8 < len(frame):
            frame[bit // 8] ^= 1 << (bit % 8)
    frame = bytes(frame[:cut])
    for transport in ("wifi_beacon", "wifi_nan", "bluetooth"):
        out = decode_frame(frame, transport)
        assert isinstance(out, dict)
        assert ("error" in out) != ("protocol" in out and "type" in out)
