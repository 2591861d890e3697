"""ADS-B DF 17/18: pyModeS unit-test vectors, the 2,000-message oracle track, CRC, CPR, encoders.

pyModeS (GPL-3.0) is never imported by haizhou; its outputs are read from ../shared/data/adsb.
The last tests compare against pyModeS itself only when it happens to be installed.
"""

from __future__ import annotations

import csv
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.airspace._data import pymodes_vectors, spec_text
from tests.conftest import shared_file

from haizhou.airspace.decode import StreamDecoder, crc24, decode, decode_adsb
from haizhou.airspace.decode.adsb import CALLSIGN_ALPHABET, gillham_altitude_ft
from haizhou.airspace.decode.adsb_encode import (
    cpr_encode,
    encode_airborne_position,
    encode_identification,
    encode_surface_position,
    encode_velocity,
    squitter,
)
from haizhou.airspace.decode.cpr import decode_global_airborne, decode_local, nl

PYMODES_KEYS = {
    "altitude": "altitude_ft",
    "groundspeed": "groundspeed_kt",
    "track": "track_deg",
    "heading": "heading_deg",
    "airspeed": "airspeed_kt",
    "vertical_rate": "vertical_rate_fpm",
    "geo_minus_baro": "geo_minus_baro_ft",
    "latitude": "latitude",
    "longitude": "longitude",
    "callsign": "callsign",
    "category": "category",
    "df": "df",
    "icao": "icao",
    "typecode": "typecode",
    "subtype": "subtype",
    "cpr_format": "cpr_format",
}


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def _vectors():
    return pymodes_vectors()["vectors"]


def _decode_vector(vector) -> dict:
    kwargs = vector["kwargs"]
    ref = kwargs.get("reference") or kwargs.get("surface_ref")
    if isinstance(vector["hex"], list):
        decoder = StreamDecoder()
        for hx in vector["hex"]:
            out = decoder.decode(bytes.fromhex(hx))
        return out
    return decode(bytes.fromhex(vector["hex"]), reference=tuple(ref) if ref else None)


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_pymodes_unit_test_vectors(vector):
    out = _decode_vector(vector)
    assert out["protocol"] == "adsb" and out["protocol_version"] is None
    tol_deg = vector.get("tolerance_deg", 1e-9)
    for key, want in vector["expected"].items():
        ours = PYMODES_KEYS.get(key)
        if ours is None:  # bds, nuc_p, crc_valid, vr_source…: not in the spec
            continue
        got = out[ours]
        if key in ("latitude", "longitude"):
            assert got == pytest.approx(want, abs=tol_deg), key
        elif key == "groundspeed":
            assert abs(got - want) <= 1.0  # pyModeS truncates to whole knots
        elif key in ("track", "heading"):
            assert got == pytest.approx(want, abs=vector.get("tolerance_track", 0.1)), key
        else:
            assert got == want, key
    # The full pyModeS output agrees where the spec has the same quantity.
    full = vector["pymodes_3_6_1_output"]
    if "latitude" in full:
        assert out["latitude"] == pytest.approx(full["latitude"], abs=1e-9)
        assert out["longitude"] == pytest.approx(full["longitude"], abs=1e-9)
    for key in ("cpr_lat", "cpr_lon", "surveillance_status"):
        if key in full:
            assert out[key] == full[key], key


def test_the_spec_identification_example_exactly():
    assert '"callsign":"EZY85MH"' in spec_text()
    assert decode(bytes.fromhex("8D406B902015A678D4D220AA4BDA")) == {
        "protocol": "adsb",
        "type": "identification",
        "protocol_version": None,
        "df": 17,
        "icao": "406B90",
        "typecode": 4,
        "category": 0,
        "callsign": "EZY85MH",
    }


def test_velocity_and_surface_fields_in_full():
    by_name = {v["name"]: v for v in _vectors()}
    out = _decode_vector(by_name["df17_velocity_subtype3_airspeed"])
    assert out["airspeed_type"] == "tas" and out["vertical_rate_source"] == "baro"
    assert out["heading_deg"] == 243.984375
    assert out["groundspeed_kt"] is None and out["track_deg"] is None
    assert out["geo_minus_baro_ft"] is None
    out = _decode_vector(by_name["df17_velocity_subtype1_groundspeed"])
    assert out["vertical_rate_source"] == "gnss"
    assert out["airspeed_kt"] is None and out["heading_deg"] is None
    assert out["groundspeed_kt"] == pytest.approx(math.hypot(8, 159))  # v_ew -8, v_ns -159
    out = _decode_vector(by_name["df18_surface_position_lfbo"])
    assert (out["df"], out["type"], out["groundspeed_kt"], out["track_deg"]) == (
        18, "surface_position", 14.5, 101.25,
    )  # fmt: skip


def test_surface_position_without_reference_stays_null_in_a_stream():
    by_name = {v["name"]: v for v in _vectors()}
    raw = bytes.fromhex(by_name["df18_surface_position_lfbo"]["hex"])
    decoder = StreamDecoder()
    assert decoder.decode(raw)["latitude"] is None
    assert decoder.decode(raw)["latitude"] is None


# --- the real 2,000-message track against the pyModeS 3.6.1 oracle ------------------------


def _oracle_rows() -> list[dict]:
    path = shared_file("adsb", "sample_data_adsb_decoded_pymodes361.csv")
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("with_reference", [True, False], ids=["reference", "stateful"])
def test_whole_sample_against_the_oracle(with_reference):
    rows = _oracle_rows()
    assert len(rows) == 2000
    decoder = StreamDecoder(reference=(51.148387, 7.227936) if with_reference else None)
    compared = {"callsign": 0, "altitude": 0, "velocity": 0, "position": 0}
    worst_m = 0.0
    for row in rows:
        out = decoder.decode(bytes.fromhex(row["hex"]))
        assert "error" not in out, row
        assert (out["icao"], out["typecode"]) == (row["icao"], int(row["typecode"]))
        if row["callsign"]:
            assert out["callsign"] == row["callsign"]
            compared["callsign"] += 1
        if row["altitude_ft"]:
            assert out["altitude_ft"] == int(row["altitude_ft"])
            compared["altitude"] += 1
        if row["groundspeed_kt"]:
            assert abs(out["groundspeed_kt"] - float(row["groundspeed_kt"])) <= 1.0
            assert out["track_deg"] == pytest.approx(float(row["track_deg"]), abs=0.001)
            assert out["vertical_rate_fpm"] == int(row["vertical_rate_fpm"])
            compared["velocity"] += 1
        if row["latitude"]:
            assert out["latitude"] is not None, row
            worst_m = max(
                worst_m,
                haversine_m(
                    float(row["latitude"]), float(row["longitude"]),
                    out["latitude"], out["longitude"],
                ),
            )  # fmt: skip
            compared["position"] += 1
    assert compared == {"callsign": 98, "altitude": 937, "velocity": 965, "position": 929}
    assert worst_m < 10.0


def test_stateful_pairing_resolves_no_later_than_the_oracle():
    rows = _oracle_rows()
    decoder = StreamDecoder()
    outs = [decoder.decode(bytes.fromhex(row["hex"])) for row in rows]
    ours = [i for i, o in enumerate(outs) if o.get("latitude") is not None]
    theirs = [i for i, r in enumerate(rows) if r["latitude"]]
    assert set(theirs) <= set(ours)
    assert ours[0] <= theirs[0] == 20
    # Every position we add before the oracle's first fix lies on the same track.
    first = outs[theirs[0]]
    for i in ours:
        if i < theirs[0]:
            assert (
                haversine_m(
                    outs[i]["latitude"], outs[i]["longitude"], first["latitude"], first["longitude"]
                )
                < 5_000
            )


# --- CRC, lengths, DF --------------------------------------------------------------------

GOOD = bytes.fromhex("8D406B902015A678D4D220AA4BDA")


def test_every_single_bit_flip_fails_the_crc():
    for bit in range(112):
        flipped = bytearray(GOOD)
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
        out = decode_adsb(bytes(flipped))
        assert "error" in out, bit
        assert out["protocol"] == "adsb"
        df = flipped[0] >> 3
        assert ("CRC" in out["error"]) or df not in (17, 18)


def test_crc_of_the_whole_message_is_the_parity():
    assert crc24(GOOD[:11]) == int.from_bytes(GOOD[11:], "big") == 0xAA4BDA
    assert crc24(b"") == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (bytes.fromhex("5D406B902015A6"), "56-bit"),
        (bytes.fromhex("8D406B902015A678D4D220AA4B"), "14 bytes; got 13"),
        (bytes.fromhex("5D406B902015A678D4D220AA4BDA"), "downlink format 11"),
    ],
)
def test_non_adsb_messages_are_errors(raw, reason):
    out = decode_adsb(raw)
    assert reason in out["error"] and out["protocol"] == "adsb"


def test_callsign_alphabet_and_invalid_codes():
    assert len(CALLSIGN_ALPHABET) == 64
    assert CALLSIGN_ALPHABET[32] == " " and CALLSIGN_ALPHABET[48:58] == "0123456789"
    out = decode(encode_identification("ABC123", "AB 1", category=3, typecode=3))
    assert (out["callsign"], out["category"], out["typecode"]) == ("AB 1", 3, 3)
    assert decode(encode_identification("ABC123", ""))["callsign"] is None
    spaces = sum(32 << (42 - 6 * i) for i in range(2, 8))
    me = (4 << 51) | (1 << 42) | (27 << 36) | spaces  # "A", code 27 (not a character), spaces
    assert decode(squitter(me, "ABC123"))["callsign"] == "A#"


# --- altitude ---------------------------------------------------------------------------


def test_gillham_known_values():
    # C1 A1 C2 A2 C4 A4 B1 Q B2 D2 B4 D4; hand-made from the Mode C table.
    # (checked against pyModeS 3.6.1 over all 2,048 codes with Q = 0 when this was written)
    assert gillham_altitude_ft(0b000010000000) == -1200  # C4 only: the lowest code
    assert gillham_altitude_ft(0b001000000000) == -1000  # C2 only
    assert gillham_altitude_ft(0b100000000000) == -800  # C1 only
    assert gillham_altitude_ft(0b000000000000) is None  # no C bit: illegal
    assert gillham_altitude_ft(0b101010000000) is None  # C1 C2 C4: 7 is illegal
    out = decode(encode_airborne_position("ABC123", 50.0, 5.0, odd=0, altitude_code=0b001000000000))
    assert out["altitude_ft"] == -1000 and out["altitude_source"] == "baro"


def test_gillham_is_gray_coded_in_100_ft_steps():
    """Walking the legal codes in altitude order changes one bit at a time (Gray property)."""
    by_alt = {}
    for code in range(4096):
        if code & 0x10:
            continue
        alt = gillham_altitude_ft(code)
        if alt is not None:
            assert alt not in by_alt, alt  # one code per altitude
            by_alt[alt] = code
    alts = sorted(by_alt)
    assert alts[0] == -1200 and all(b - a == 100 for a, b in itertools.pairwise(alts))
    for a, b in itertools.pairwise(alts):
        assert bin(by_alt[a] ^ by_alt[b]).count("1") == 1, (a, b)


def test_q_bit_and_gnss_altitudes():
    for feet in (-1000, -325, 0, 1000, 5000, 39000, 50175):
        out = decode(encode_airborne_position("ABC123", 1.0, 2.0, odd=1, altitude_ft=feet))
        assert out["altitude_ft"] == feet
    out = decode(encode_airborne_position("ABC123", 1.0, 2.0, odd=1, altitude_ft=None))
    assert out["altitude_ft"] is None
    out = decode(
        encode_airborne_position("ABC123", 1.0, 2.0, odd=1, altitude_code=100, typecode=20)
    )
    assert (out["altitude_ft"], out["altitude_source"]) == (328, "gnss")
    out = decode(encode_airborne_position("ABC123", 1.0, 2.0, odd=1, altitude_code=0, typecode=21))
    assert out["altitude_ft"] is None


# --- velocity ---------------------------------------------------------------------------


def test_velocity_subtypes_2_and_4_scale_by_four():
    out = decode(encode_velocity("ABC123", subtype=2, v_ew=400, v_ns=-300, vertical_rate_raw=1))
    assert out["groundspeed_kt"] == pytest.approx(500.0)
    assert out["track_deg"] == pytest.approx(math.degrees(math.atan2(400, -300)))
    assert out["vertical_rate_fpm"] == 0
    out = decode(
        encode_velocity("ABC123", subtype=4, heading_code=512, airspeed_raw=201, tas=False)
    )
    assert (out["airspeed_kt"], out["airspeed_type"], out["heading_deg"]) == (800, "ias", 180.0)
    assert out["vertical_rate_fpm"] is None


def test_velocity_nulls():
    out = decode(encode_velocity("ABC123", subtype=1, v_ew=None, v_ns=100))
    assert out["groundspeed_kt"] is None and out["track_deg"] is None
    out = decode(encode_velocity("ABC123", subtype=3, heading_code=None, airspeed_raw=0))
    assert out["heading_deg"] is None and out["airspeed_kt"] is None
    out = decode(encode_velocity("ABC123", subtype=1, v_ew=1, v_ns=1, diff_raw=127))
    assert out["geo_minus_baro_ft"] is None
    out = decode(encode_velocity("ABC123", subtype=1, v_ew=1, v_ns=1, diff_raw=3, diff_below=True))
    assert out["geo_minus_baro_ft"] == -50
    reserved = decode(squitter((19 << 51) | (5 << 48) | 0xFFFF, "ABC123"))
    assert reserved["subtype"] == 5
    assert all(reserved[k] is None for k in ("groundspeed_kt", "vertical_rate_fpm", "airspeed_kt"))


@settings(max_examples=200, deadline=None)
@given(st.integers(-1022, 1022), st.integers(-1022, 1022), st.integers(1, 511), st.booleans())
def test_velocity_round_trip(v_ew, v_ns, vr_raw, down):
    out = decode(
        encode_velocity(
            "ABC123", subtype=1, v_ew=v_ew, v_ns=v_ns,
            vertical_rate_raw=vr_raw, vertical_rate_down=down,
        )
    )  # fmt: skip
    assert out["groundspeed_kt"] == pytest.approx(math.hypot(v_ew, v_ns))
    if v_ew or v_ns:
        expected = math.degrees(math.atan2(v_ew, v_ns)) % 360
        assert out["track_deg"] == pytest.approx(expected)
        assert 0 <= out["track_deg"] < 360
    assert out["vertical_rate_fpm"] == (vr_raw - 1) * 64 * (-1 if down else 1)


def test_surface_movement_table():
    expected = {0: None, 1: 0.0, 2: 0.125, 8: 0.875, 9: 1.0, 12: 1.75, 13: 2.0, 38: 14.5,
                39: 15.0, 93: 69.0, 94: 70.0, 108: 98.0, 109: 100.0, 123: 170.0, 124: 175.0,
                125: None, 127: None}  # fmt: skip
    for movement, speed in expected.items():
        out = decode(encode_surface_position("ABC123", 43.6, 1.4, odd=0, movement=movement))
        assert out["groundspeed_kt"] == speed, movement
        assert out["track_deg"] is None


# --- CPR --------------------------------------------------------------------------------


def test_nl_table_edges():
    assert nl(0.0) == 59
    assert nl(10.4704713) == 58  # just above the first transition latitude
    assert nl(10.47047129) == 59
    assert nl(86.9) == 2 and nl(87.0) == 2 and nl(87.1) == 1
    assert nl(-45.0) == nl(45.0) == 42


lats = st.floats(-85.0, 85.0, allow_nan=False)
lons = st.floats(-180.0, 179.999999, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(lats, lons, st.integers(0, 1), st.floats(-1.0, 1.0), st.floats(-1.0, 1.0))
def test_local_cpr_round_trip_near_the_reference(lat, lon, odd, dlat, dlon):
    cpr = cpr_encode(lat, lon, odd)
    got = decode_local(*cpr, odd, lat + dlat, ((lon + dlon + 180) % 360) - 180)
    # 17-bit CPR resolves ~5 m; allow 20 m.
    assert haversine_m(lat, lon, *got) < 20.0


@settings(max_examples=300, deadline=None)
@given(lats, lons, st.booleans())
def test_global_cpr_round_trip(lat, lon, odd_newest):
    even, odd = cpr_encode(lat, lon, 0), cpr_encode(lat, lon, 1)
    got = decode_global_airborne(even, odd, newest_is_odd=odd_newest)
    if got is None:  # a zone-boundary pair; must really straddle an NL transition
        assert nl(lat - 0.01) != nl(lat + 0.01)
        return
    assert haversine_m(lat, lon, *got) < 20.0


@settings(max_examples=100, deadline=None)
@given(st.floats(-80.0, 80.0), st.floats(-179.0, 179.0), st.integers(0, 1))
def test_surface_cpr_round_trip(lat, lon, odd):
    raw = encode_surface_position("ABC123", lat, lon, odd=odd, movement=10, track_code=3)
    out = decode(raw, reference=(lat + 0.2, lon - 0.2))
    assert haversine_m(lat, lon, out["latitude"], out["longitude"]) < 5.0
    assert out["track_deg"] == 3 * 360 / 128


@settings(max_examples=100, deadline=None)
@given(lats, lons, st.sampled_from(["4840D6", "ABCDEF"]), st.integers(9, 18))
def test_stream_pairs_then_tracks_locally(lat, lon, icao, tc):
    decoder = StreamDecoder()
    first = decoder.decode(
        encode_airborne_position(icao, lat, lon, odd=0, typecode=tc, altitude_ft=1000)
    )
    assert first["latitude"] is None
    second = decoder.decode(
        encode_airborne_position(icao, lat, lon, odd=1, typecode=tc, altitude_ft=1000)
    )
    if second["latitude"] is None:
        assert nl(lat - 0.01) != nl(lat + 0.01)
        return
    assert haversine_m(lat, lon, second["latitude"], second["longitude"]) < 20
    moved = decoder.decode(
        encode_airborne_position(icao, lat + 0.05, lon, odd=0, typecode=tc, altitude_ft=1000)
    )
    assert haversine_m(lat + 0.05, lon, moved["latitude"], moved["longitude"]) < 20


def test_other_typecodes_carry_only_the_common_keys():
    for tc in (0, 23, 28, 31):
        out = decode(squitter(tc << 51, "ABC123", df=18))
        assert out == {
            "protocol": "adsb", "type": "other", "protocol_version": None,
            "df": 18, "icao": "ABC123", "typecode": tc,
        }  # fmt: skip


# --- optional: pyModeS itself as an oracle (GPL: tests only, skipped when absent) ---------


@settings(max_examples=200, deadline=None)
@given(
    lat=lats,
    lon=lons,
    odd=st.integers(0, 1),
    code=st.integers(1, 4095),
    tc=st.sampled_from([9, 11, 18, 20]),
)
def test_against_pymodes_when_installed(lat, lon, odd, code, tc):
    pms = pytest.importorskip("pyModeS")
    raw = encode_airborne_position("ABC123", lat, lon, odd=odd, altitude_code=code, typecode=tc)
    theirs = pms.decode(raw.hex(), reference=(lat, lon))
    ours = decode(raw, reference=(lat, lon))
    if tc >= 20:  # GNSS height: the spec rounds metres × 3.28084, pyModeS truncates
        assert abs(ours["altitude_ft"] - theirs["altitude"]) <= 1
    else:
        assert ours["altitude_ft"] == theirs.get("altitude")
    assert ours["latitude"] == pytest.approx(theirs["latitude"], abs=1e-9)
    assert ours["longitude"] == pytest.approx(theirs["longitude"], abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", max_size=8),
    st.integers(0, 7),
    st.integers(1, 4),
    st.sampled_from([17, 18]),
)
def test_identification_round_trip(callsign, category, tc, df):
    out = decode(encode_identification("A1B2C3", callsign, category=category, typecode=tc, df=df))
    assert out["callsign"] == (callsign.rstrip(" ") or None)
    assert (out["category"], out["typecode"], out["df"], out["icao"]) == (
        category,
        tc,
        df,
        "A1B2C3",
    )


def test_pymodes_is_never_imported_by_the_package():
    import pathlib
    import re

    import haizhou

    root = pathlib.Path(haizhou.__file__).parent
    pattern = re.compile(r"^\s*(import|from)\s+pyModeS", re.M | re.I)
    offenders = [p for p in root.rglob("*.py") if pattern.search(p.read_text("utf-8"))]
    assert offenders == []


ADSB_COMMON = ["protocol", "type", "protocol_version", "df", "icao", "typecode"]
ADSB_KEYS = {
    "identification": ["category", "callsign"],
    "surface_position": [
        "groundspeed_kt", "track_deg", "cpr_format", "cpr_lat", "cpr_lon", "latitude", "longitude",
    ],
    "airborne_position": [
        "altitude_ft", "altitude_source", "surveillance_status", "cpr_format", "cpr_lat",
        "cpr_lon", "latitude", "longitude",
    ],
    "airborne_velocity": [
        "subtype", "groundspeed_kt", "track_deg", "airspeed_kt", "airspeed_type", "heading_deg",
        "vertical_rate_fpm", "vertical_rate_source", "geo_minus_baro_ft",
    ],
    "other": [],
}  # fmt: skip


@pytest.mark.parametrize("tc", range(32))
def test_every_typecode_has_exactly_the_spec_keys(tc):
    out = decode(squitter(tc << 51 | 1 << 48, "ABC123"))
    assert sorted(out) == sorted(ADSB_COMMON + ADSB_KEYS[out["type"]])
