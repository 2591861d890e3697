"""Local metric plane and haversine distance."""

from __future__ import annotations

import math
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyproj
import pytest
from hypothesis import given
from hypothesis import strategies as st

from haizhou.geo import EARTH_RADIUS_M, LocalProjection, haversine_m

GEOD = pyproj.Geod(ellps="WGS84")
CENTRE = (119.18, 34.60)  # Lianyungang
PLANE = LocalProjection.around(*CENTRE)  # built once: each new plane costs ~30 ms in pyproj


def test_centre_is_origin_and_axes_are_east_north():
    p = LocalProjection.around(*CENTRE)
    x, y = p.forward(*CENTRE)
    assert abs(float(x)) < 1e-6 and abs(float(y)) < 1e-6
    east = p.forward(CENTRE[0] + 0.01, CENTRE[1])
    north = p.forward(CENTRE[0], CENTRE[1] + 0.01)
    assert float(east[0]) == pytest.approx(917.3, abs=1.0) and abs(float(east[1])) < 1.0
    assert float(north[1]) == pytest.approx(1109.3, abs=1.0) and abs(float(north[0])) < 1e-6


@given(
    dlon=st.floats(min_value=-0.5, max_value=0.5),
    dlat=st.floats(min_value=-0.4, max_value=0.4),
)
def test_round_trip_and_distances_match_the_ellipsoid(dlon, dlat):
    p = PLANE
    lon, lat = CENTRE[0] + dlon, CENTRE[1] + dlat
    x, y = p.forward(lon, lat)
    back = p.inverse(x, y)
    assert abs(float(back[0]) - lon) < 1e-9 and abs(float(back[1]) - lat) < 1e-9
    # Plane distance from the centre against the geodesic (transverse Mercator, k0 = 1):
    # scale error ~ (d / R)^2 / 2, < 1e-3 within ~50 km.
    _, _, geodesic = GEOD.inv(CENTRE[0], CENTRE[1], lon, lat)
    plane = math.hypot(float(x), float(y))
    assert plane == pytest.approx(geodesic, rel=1e-3, abs=1e-6)


def test_for_bounds_centres_on_the_box_and_checks_order():
    p = LocalProjection.for_bounds(118.9, 34.3, 119.6, 34.9)
    assert (p.lon0, p.lat0) == pytest.approx((119.25, 34.6))
    with pytest.raises(ValueError, match="min_lon <= max_lon"):
        LocalProjection.for_bounds(119.6, 34.3, 118.9, 34.9)


@pytest.mark.parametrize(
    ("lon0", "lat0", "match"),
    [(34.6, 119.18, "lat0"), (200.0, 30.0, "lon0"), (float("nan"), 30.0, "lon0")],
)
def test_bad_centre_is_explained(lon0, lat0, match):
    with pytest.raises(ValueError, match=f"{match}.*axis order"):
        LocalProjection.around(lon0, lat0)


def test_nan_in_nan_out_and_arrays_keep_shape():
    p = LocalProjection.around(*CENTRE)
    x, y = p.forward(np.array([[119.2, np.nan]]), np.array([[34.7, 34.7]]))
    assert x.shape == (1, 2) and np.isnan(x[0, 1]) and np.isnan(y[0, 1])
    assert np.isfinite(x[0, 0])


def test_pickle_keeps_only_the_recipe_and_is_frozen():
    p = LocalProjection.around(*CENTRE)
    p.forward(119.0, 34.0)  # builds this thread's transformer
    blob = pickle.dumps(p)
    assert b"Transformer" not in blob
    q = pickle.loads(blob)
    assert q == p
    assert float(q.forward(119.0, 34.0)[0]) == float(p.forward(119.0, 34.0)[0])
    with pytest.raises(AttributeError):
        p.lon0 = 1.0


def test_threads_share_one_projection_safely():
    p = LocalProjection.around(*CENTRE)
    rng = np.random.default_rng(7)
    lon = CENTRE[0] + rng.uniform(-0.3, 0.3, 2000)
    lat = CENTRE[1] + rng.uniform(-0.3, 0.3, 2000)
    expected = p.forward(lon, lat)

    def work(_: int) -> tuple[np.ndarray, np.ndarray]:
        return p.forward(lon, lat)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for x, y in pool.map(work, range(16)):
            np.testing.assert_array_equal(x, expected[0])
            np.testing.assert_array_equal(y, expected[1])


def test_haversine_known_values():
    one_degree = EARTH_RADIUS_M * math.pi / 180.0
    assert float(haversine_m(119.0, 34.0, 119.0, 35.0)) == pytest.approx(one_degree, rel=1e-12)
    assert float(haversine_m(0.0, 0.0, 180.0, 0.0)) == pytest.approx(math.pi * EARTH_RADIUS_M)
    d = haversine_m(np.array([119.0, np.nan]), 34.0, 119.1, 34.0)
    assert np.isnan(d[1]) and d[0] == pytest.approx(
        one_degree * 0.1 * math.cos(math.radians(34.0)), rel=1e-5
    )


@given(st.floats(-180, 180), st.floats(-89, 89), st.floats(-180, 180), st.floats(-89, 89))
def test_haversine_is_symmetric_and_bounded(lon1, lat1, lon2, lat2):
    d = float(haversine_m(lon1, lat1, lon2, lat2))
    assert d == pytest.approx(float(haversine_m(lon2, lat2, lon1, lat1)), abs=1e-6)
    assert 0.0 <= d <= math.pi * EARTH_RADIUS_M + 1e-6
    # within 0.6 % of the WGS-84 geodesic (sphere vs ellipsoid)
    _, _, geodesic = GEOD.inv(lon1, lat1, lon2, lat2)
    assert d == pytest.approx(geodesic, rel=6e-3, abs=1e-3)
