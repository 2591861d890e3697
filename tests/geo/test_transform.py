"""GCJ-02 / BD-09 / WGS-84 conversion against an independent slow scalar reference."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.geo import CoordTransformer, Datum, TransformDirection, haversine_m, out_of_china

# --- slow scalar reference, written from the published description, not from our module ---

A = 6378245.0
EE = 0.00669342162296594323


def ref_wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    if lon < 72.004 or lon > 137.8347 or lat < 0.8293 or lat > 55.8271:
        return lon, lat
    x, y = lon - 105.0, lat - 35.0
    p = math.pi
    t_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    t_lat += (20.0 * math.sin(6.0 * x * p) + 20.0 * math.sin(2.0 * x * p)) * 2.0 / 3.0
    t_lat += (20.0 * math.sin(y * p) + 40.0 * math.sin(y / 3.0 * p)) * 2.0 / 3.0
    t_lat += (160.0 * math.sin(y / 12.0 * p) + 320 * math.sin(y * p / 30.0)) * 2.0 / 3.0
    t_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    t_lon += (20.0 * math.sin(6.0 * x * p) + 20.0 * math.sin(2.0 * x * p)) * 2.0 / 3.0
    t_lon += (20.0 * math.sin(x * p) + 40.0 * math.sin(x / 3.0 * p)) * 2.0 / 3.0
    t_lon += (150.0 * math.sin(x / 12.0 * p) + 300.0 * math.sin(x / 30.0 * p)) * 2.0 / 3.0
    rad = lat / 180.0 * p
    magic = 1 - EE * math.sin(rad) ** 2
    sm = math.sqrt(magic)
    d_lat = (t_lat * 180.0) / ((A * (1 - EE)) / (magic * sm) * p)
    d_lon = (t_lon * 180.0) / (A / sm * math.cos(rad) * p)
    return lon + d_lon, lat + d_lat


def ref_gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    x_pi = math.pi * 3000.0 / 180.0
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


LIANYUNGANG_WGS = (119.1786, 34.6001)

china_lon = st.floats(min_value=73.0, max_value=135.0)
china_lat = st.floats(min_value=18.0, max_value=53.0)


def test_lianyungang_point_matches_the_published_formula():
    t = CoordTransformer.from_datums(Datum.WGS84, Datum.GCJ02)
    lon, lat = t.transform(*LIANYUNGANG_WGS)
    exp_lon, exp_lat = ref_wgs_to_gcj(*LIANYUNGANG_WGS)
    assert float(lon) == pytest.approx(exp_lon, abs=1e-12)
    assert float(lat) == pytest.approx(exp_lat, abs=1e-12)
    # The shift in Lianyungang is a few hundred metres, east and a little south.
    shift = float(haversine_m(*LIANYUNGANG_WGS, lon, lat))
    assert 400.0 < shift < 700.0
    assert float(lon) > LIANYUNGANG_WGS[0] and float(lat) < LIANYUNGANG_WGS[1]


def test_lianyungang_bd09_matches_chained_reference():
    t = CoordTransformer.from_datums("wgs84", "bd09")
    lon, lat = t.transform(*LIANYUNGANG_WGS)
    exp = ref_gcj_to_bd(*ref_wgs_to_gcj(*LIANYUNGANG_WGS))
    assert (float(lon), float(lat)) == pytest.approx(exp, abs=1e-12)
    assert 1000.0 < float(haversine_m(*LIANYUNGANG_WGS, lon, lat)) < 1600.0


@given(lon=china_lon, lat=china_lat)
def test_forward_equals_scalar_reference(lon, lat):
    out = CoordTransformer.from_datums("wgs84", "gcj02").transform(lon, lat)
    assert (float(out[0]), float(out[1])) == pytest.approx(ref_wgs_to_gcj(lon, lat), abs=1e-11)


@given(lon=china_lon, lat=china_lat)
def test_gcj_wgs_round_trip_within_a_centimetre(lon, lat):
    t = CoordTransformer.from_datums(Datum.GCJ02, Datum.WGS84)
    w_lon, w_lat = t.transform(lon, lat)
    g_lon, g_lat = t.transform(w_lon, w_lat, direction=TransformDirection.INVERSE)
    assert float(haversine_m(lon, lat, g_lon, g_lat)) < 0.01
    assert abs(float(g_lon) - lon) < 1e-7 and abs(float(g_lat) - lat) < 1e-7
    # and the WGS-84 answer is really the preimage under the published forward formula
    assert ref_wgs_to_gcj(float(w_lon), float(w_lat)) == pytest.approx((lon, lat), abs=1e-7)


@given(lon=china_lon, lat=china_lat)
def test_bd_wgs_round_trip_within_a_metre(lon, lat):
    to_bd = CoordTransformer.from_datums(Datum.WGS84, Datum.BD09)
    b_lon, b_lat = to_bd.transform(lon, lat)
    w_lon, w_lat = to_bd.transform(b_lon, b_lat, direction="inverse")
    err = float(haversine_m(lon, lat, w_lon, w_lat))
    assert err < 1.0
    assert err <= to_bd.max_error_m
    back = CoordTransformer.from_datums(Datum.BD09, Datum.WGS84).transform(b_lon, b_lat)
    assert (float(back[0]), float(back[1])) == (float(w_lon), float(w_lat))


@given(
    lon=st.lists(china_lon, min_size=1, max_size=30),
    lat=st.lists(china_lat, min_size=30, max_size=30),
)
@settings(max_examples=30)
def test_a_point_gets_the_same_answer_alone_or_in_a_batch(lon, lat):
    lat = lat[: len(lon)]
    t = CoordTransformer.from_datums("bd09", "wgs84")
    arr = t.transform(np.array(lon), np.array(lat))
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        one = t.transform(x, y)
        assert arr[0][i] == pytest.approx(float(one[0]), abs=1e-12)
        assert arr[1][i] == pytest.approx(float(one[1]), abs=1e-12)


def test_axis_order_is_lon_first():
    t = CoordTransformer.from_datums("wgs84", "gcj02")
    lon, lat = LIANYUNGANG_WGS
    good = t.transform(lon, lat)
    swapped = t.transform(lat, lon)  # the classic mistake: (lat, lon)
    # (34.6, 119.2) read as lon/lat lies outside China, so nothing moves: a silent error.
    assert (float(swapped[0]), float(swapped[1])) == (lat, lon)
    assert float(good[0]) != lon and float(good[1]) != lat
    assert t.transform(lon=lon, lat=lat)[0] == good[0]


def test_outside_china_gcj_is_identity_but_bd_still_shifts():
    paris = (2.3522, 48.8566)
    assert out_of_china(*paris)
    g = CoordTransformer.from_datums("wgs84", "gcj02").transform(*paris)
    assert (float(g[0]), float(g[1])) == paris
    b = CoordTransformer.from_datums("gcj02", "bd09").transform(*paris)
    assert (float(b[0]), float(b[1])) == pytest.approx(ref_gcj_to_bd(*paris), abs=1e-12)
    assert float(b[0]) != paris[0]


def test_out_of_china_box_edges():
    lon = np.array([72.0, 72.01, 137.83, 137.84, 100.0, 100.0, np.nan])
    lat = np.array([30.0, 30.0, 30.0, 30.0, 0.82, 55.83, 30.0])
    assert out_of_china(lon, lat).tolist() == [True, False, False, True, True, True, False]


@pytest.mark.parametrize(
    "pair", [("wgs84", "gcj02"), ("gcj02", "wgs84"), ("wgs84", "bd09"), ("bd09", "gcj02")]
)
@pytest.mark.parametrize("direction", ["forward", "inverse"])
def test_nan_in_nan_out_and_neighbours_unaffected(pair, direction):
    t = CoordTransformer.from_datums(*pair)
    lon = np.array([119.1786, np.nan, 119.2, 119.3])
    lat = np.array([34.6001, 34.6, np.nan, 34.7])
    out_lon, out_lat = t.transform(lon, lat, direction=direction)
    assert np.isnan(out_lon[1]) and np.isnan(out_lat[1])
    assert np.isnan(out_lon[2]) and np.isnan(out_lat[2])
    ok = t.transform(lon[[0, 3]], lat[[0, 3]], direction=direction)
    np.testing.assert_array_equal(out_lon[[0, 3]], ok[0])
    np.testing.assert_array_equal(out_lat[[0, 3]], ok[1])


def test_inputs_never_mutated_and_outputs_are_new_float64():
    lon = np.array([119.1, 119.2], dtype=np.float32)
    lat = np.array([34.5, 34.6], dtype=np.float32)
    before = (lon.copy(), lat.copy())
    for pair in [("wgs84", "wgs84"), ("gcj02", "wgs84"), ("wgs84", "bd09")]:
        out = CoordTransformer.from_datums(*pair).transform(lon, lat)
        assert out[0].dtype == np.float64 and out[1].dtype == np.float64
        assert not np.shares_memory(out[0], lon)
    np.testing.assert_array_equal(lon, before[0])
    np.testing.assert_array_equal(lat, before[1])


def test_shapes_broadcast_and_scalars_give_0d():
    t = CoordTransformer.from_datums("wgs84", "gcj02")
    lon, lat = t.transform(119.0, 34.0)
    assert lon.shape == () and lat.shape == ()
    lon, lat = t.transform(np.full((2, 3), 119.0), 34.0)
    assert lon.shape == (2, 3) and lat.shape == (2, 3)


def test_bare_constructor_lists_from_datums():
    with pytest.raises(TypeError, match="from_datums"):
        CoordTransformer(Datum.WGS84, Datum.GCJ02)


def test_bad_datum_and_direction_are_named():
    with pytest.raises(ValueError, match=r"'wgs84', 'gcj02', 'bd09'.*'utm'"):
        CoordTransformer.from_datums("utm", "wgs84")
    t = CoordTransformer.from_datums("WGS84", "GCJ02")
    assert t.source is Datum.WGS84 and t.target is Datum.GCJ02
    with pytest.raises(ValueError, match="'forward' or 'inverse'"):
        t.transform(119.0, 34.0, direction="backwards")


def test_max_error_reported_and_pickle_keeps_recipe():
    assert CoordTransformer.from_datums("bd09", "bd09").max_error_m == 0.0
    t = CoordTransformer.from_datums("gcj02", "bd09")
    assert 0.0 < t.max_error_m <= 0.01
    clone = pickle.loads(pickle.dumps(t))
    assert clone == t and clone.transform(119.0, 34.0)[0] == t.transform(119.0, 34.0)[0]
    with pytest.raises(AttributeError):
        t.source = Datum.WGS84  # frozen


def test_identity_and_chain_consistency():
    lon, lat = np.array([119.1786, 118.9]), np.array([34.6001, 34.3])
    same = CoordTransformer.from_datums("gcj02", "gcj02").transform(lon, lat)
    np.testing.assert_array_equal(same[0], lon)
    g = CoordTransformer.from_datums("wgs84", "gcj02").transform(lon, lat)
    b1 = CoordTransformer.from_datums("gcj02", "bd09").transform(*g)
    b2 = CoordTransformer.from_datums("wgs84", "bd09").transform(lon, lat)
    np.testing.assert_allclose(b1, b2, rtol=0, atol=1e-12)
