"""The F3411 encoder: byte-exact against the reference encoder, and encode → decode round trips."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.airspace._data import (
    kind_of,
    odid_single_vectors,
    odid_vector,
    pack_member_kind,
    snake,
)

from haizhou.airspace.decode import decode
from haizhou.airspace.decode.astm_encode import (
    EncodeError,
    encode,
    encode_auth,
    encode_basic_id,
    encode_location,
    encode_message_pack,
    encode_operator_id,
    encode_self_id,
    encode_system,
)

ENCODERS = {
    "basic_id": encode_basic_id,
    "location": encode_location,
    "auth": encode_auth,
    "self_id": encode_self_id,
    "system": encode_system,
    "operator_id": encode_operator_id,
}


def encode_input(kind: str, values: dict) -> bytes:
    args = {snake(k): v for k, v in values.items()}
    if kind == "basic_id" and args["id_type"] == 3:
        args["uas_id"] = args["uas_id"].encode("latin-1")  # raw bytes in the vector
    return ENCODERS[kind](**args)


@pytest.mark.parametrize("vector", odid_single_vectors(), ids=lambda v: v["name"])
def test_encoding_the_inputs_reproduces_the_reference_bytes(vector):
    assert encode_input(kind_of(vector), vector["input"]).hex() == vector["encoded_hex"]


def test_latitude_91_is_rejected_like_the_reference():
    vector = odid_vector("edge_location_invalid_latitude_rejected")
    assert vector["encode_rc"] == 1
    with pytest.raises(EncodeError, match="latitude must be within"):
        encode_input("location", vector["input"])


def _pack_from_decoded(decoded: dict) -> bytes:
    return encode_message_pack(
        [encode_input(pack_member_kind(key), values) for key, values in decoded.items()]
    )


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("inout_message_pack", 0),
        ("wifi_beacon_frame_message_pack", 68),
        ("wifi_nan_action_frame_message_pack", 44),
    ],
)
def test_packs_are_reproduced_byte_for_byte(name, offset):
    vector = odid_vector(name)
    raw = bytes.fromhex(vector.get("encoded_hex") or vector["frame_hex"])
    packed = _pack_from_decoded(vector["decoded"])
    assert raw[offset : offset + len(packed)] == packed
    # … and the decoded pack encodes back to the same bytes.
    assert encode(decode(packed)) == packed


def test_every_vector_survives_decode_encode_decode():
    for vector in odid_single_vectors():
        out = decode(bytes.fromhex(vector["encoded_hex"]))
        assert decode(encode(out)) == out, vector["name"]


# --- property tests over the whole value space --------------------------------------------

raw_lat = st.integers(-900_000_000, 900_000_000)
raw_lon = st.integers(-1_800_000_000, 1_800_000_000)
altitude = st.one_of(st.none(), st.integers(1, 0xFFFF).map(lambda r: r * 0.5 - 1000.0))
latin1 = st.text(st.characters(min_codepoint=1, max_codepoint=255), min_size=1, max_size=20)


@st.composite
def locations(draw) -> dict:
    lat, lon = draw(raw_lat), draw(raw_lon)
    position = (None, None) if lat == 0 and lon == 0 else (lat / 1e7, lon / 1e7)
    if draw(st.booleans()):
        position = (None, None)
    mult = draw(st.booleans())
    if mult:
        speed = draw(st.one_of(st.none(), st.integers(1, 254).map(lambda b: b * 0.75 + 63.75)))
    else:
        speed = draw(st.integers(0, 255)) * 0.25
    return {
        "status": draw(st.integers(0, 15)),
        "direction": draw(st.one_of(st.none(), st.integers(0, 359))),
        "speed_horizontal": speed,
        "speed_vertical": draw(st.one_of(st.none(), st.integers(-124, 124).map(lambda i: i * 0.5))),
        "latitude": position[0],
        "longitude": position[1],
        "altitude_baro": draw(altitude),
        "altitude_geo": draw(altitude),
        "height_type": draw(st.integers(0, 1)),
        "height": draw(altitude),
        "horiz_accuracy": draw(st.integers(0, 15)),
        "vert_accuracy": draw(st.integers(0, 15)),
        "baro_accuracy": draw(st.integers(0, 15)),
        "speed_accuracy": draw(st.integers(0, 15)),
        "timestamp": draw(st.one_of(st.none(), st.integers(0, 36000).map(lambda t: t / 10))),
        "ts_accuracy": draw(st.integers(0, 15)),
        "protocol_version": draw(st.integers(0, 15)),
    }


@settings(max_examples=200, deadline=None)
@given(locations())
def test_location_values_round_trip(values):
    out = decode(encode_location(**values))
    for key, want in values.items():
        assert out[key] == want, key


@settings(max_examples=200, deadline=None)
@given(
    lat=raw_lat,
    lon=raw_lon,
    count=st.integers(0, 0xFFFF),
    radius=st.integers(0, 255),
    ceiling=altitude,
    floor=altitude,
    op_alt=altitude,
    ts=st.integers(0, 0xFFFFFFFF),
    loc_type=st.integers(0, 3),
    cls_type=st.integers(0, 7),
    category=st.integers(0, 15),
    klass=st.integers(0, 15),
)
def test_system_values_round_trip(
    lat, lon, count, radius, ceiling, floor, op_alt, ts, loc_type, cls_type, category, klass
):
    position = (None, None) if lat == 0 and lon == 0 else (lat / 1e7, lon / 1e7)
    values = {
        "operator_location_type": loc_type,
        "classification_type": cls_type,
        "operator_latitude": position[0],
        "operator_longitude": position[1],
        "area_count": count,
        "area_radius": radius * 10,
        "area_ceiling": ceiling,
        "area_floor": floor,
        "category_eu": category,
        "class_eu": klass,
        "operator_altitude_geo": op_alt,
        "timestamp": ts,
    }
    out = decode(encode_system(**values))
    for key, want in values.items():
        assert out[key] == want, key
    assert out["timestamp_unix"] == ts + 1546300800


@settings(max_examples=200, deadline=None)
@given(
    id_type=st.integers(0, 15),
    ua_type=st.integers(0, 15),
    text=latin1,
    raw=st.binary(min_size=20, max_size=20),
)
def test_basic_id_round_trip(id_type, ua_type, text, raw):
    if id_type <= 2:
        uas_id = text
    elif id_type == 3:
        uas_id = str(uuid.UUID(bytes=raw[:16]))
    else:
        uas_id = raw.hex()
    out = decode(encode_basic_id(id_type=id_type, ua_type=ua_type, uas_id=uas_id))
    assert (out["id_type"], out["ua_type"], out["uas_id"]) == (id_type, ua_type, uas_id)


@settings(max_examples=200, deadline=None)
@given(
    auth_type=st.integers(0, 15),
    page=st.integers(0, 15),
    data=st.binary(min_size=23, max_size=23),
    last=st.integers(0, 255),
    length=st.integers(0, 255),
    ts=st.integers(0, 0xFFFFFFFF),
)
def test_auth_round_trip(auth_type, page, data, last, length, ts):
    data = data[:17] if page == 0 else data
    out = decode(
        encode_auth(
            auth_type=auth_type,
            data_page=page,
            auth_data=data.hex(),
            last_page_index=last,
            length=length,
            timestamp=ts,
        )
    )
    assert out["auth_data"] == data.hex()
    assert (out["auth_type"], out["data_page"]) == (auth_type, page)
    if page == 0:
        assert (out["last_page_index"], out["length"], out["timestamp"]) == (last, length, ts)
    else:
        assert out["timestamp"] is None


@settings(max_examples=200, deadline=None)
@given(desc_type=st.integers(0, 255), desc=latin1, op_type=st.integers(0, 255))
def test_text_messages_round_trip(desc_type, desc, op_type):
    out = decode(encode_self_id(desc_type=desc_type, desc=desc[:23]))
    assert (out["desc_type"], out["desc"]) == (desc_type, desc[:23])
    out = decode(encode_operator_id(operator_id_type=op_type, operator_id=desc))
    assert (out["operator_id_type"], out["operator_id"]) == (op_type, desc)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.integers(0, 5),
    version=st.integers(0, 15),
    body=st.binary(min_size=24, max_size=24),
)
def test_decode_encode_decode_is_identity_on_any_message(kind, version, body):
    """Any 25 bytes of a known type decode to values that encode back to the same values."""
    out = decode(bytes([kind << 4 | version]) + body)
    assert "error" not in out
    assert decode(encode(out)) == out


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.binary(min_size=24, max_size=24)), min_size=1, max_size=9
    )
)
def test_packs_round_trip(members):
    raw = [bytes([kind << 4 | 2]) + body for kind, body in members]
    out = decode(encode_message_pack(raw))
    assert out["message_count"] == len(raw)
    assert out["messages"] == [decode(m) for m in raw]
    assert decode(encode(out)) == out


def test_encoder_rejects_what_the_message_cannot_carry():
    with pytest.raises(EncodeError, match="at most 23"):
        encode_self_id(desc_type=0, desc="x" * 24)
    with pytest.raises(EncodeError, match="both be given"):
        encode_location(latitude=10.0)
    with pytest.raises(EncodeError, match="timestamp"):
        encode_location(timestamp=3600.1)
    with pytest.raises(EncodeError, match=r"1\.\.9"):
        encode_message_pack([])
    with pytest.raises(EncodeError, match="Latin-1"):
        encode_operator_id(operator_id_type=0, operator_id="无人机")
    with pytest.raises(EncodeError, match="cannot encode"):
        encode({"type": "gb46750"})
