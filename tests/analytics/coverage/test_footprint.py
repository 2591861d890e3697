"""Coverage footprints against a brute-force geometric reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.coverage import coverage_matrix_points, footprints, sector_polygons


def _in_sector(px, py, x, y, r, heading, fov):
    d = np.hypot(px - x, py - y)
    bearing = np.degrees(np.arctan2(px - x, py - y)) % 360
    diff = np.abs((bearing - heading + 180) % 360 - 180)
    return (d <= r) & (diff <= fov / 2), d, diff


@settings(max_examples=40, deadline=None)
@given(
    heading=st.floats(0, 359.9),
    fov=st.sampled_from([40.0, 60.0, 90.0, 110.0, 200.0]),
    r=st.floats(10, 200),
    seed=st.integers(0, 2**16),
)
def test_sector_matches_bearing_and_distance(heading, fov, r, seed):
    rng = np.random.default_rng(seed)
    px, py = rng.uniform(-1.2 * r, 1.2 * r, (2, 400))
    poly = sector_polygons([0.0], [0.0], [r], [heading], [fov], arc_vertices=64)[0]
    got = shapely.contains_xy(poly, px, py)
    want, d, diff = _in_sector(px, py, 0.0, 0.0, r, heading, fov)
    # the arc is a polygon and edges are lines: skip points within a hair of any boundary
    clear = (np.abs(d - r) > r * 0.002) & (np.abs(diff - fov / 2) > 0.2) & (d > 1e-6)
    assert np.array_equal(got[clear], want[clear])


def test_disc_for_full_circle_and_radio_kinds_ignore_fov():
    s = pd.DataFrame(
        {
            "kind": ["wifi_probe"],
            "x_m": [0.0],
            "y_m": [0.0],
            "range_m": [100.0],
            "heading_deg": [0.0],
            "fov_deg": [30.0],
        }
    )
    m = coverage_matrix_points(s, [0, 95, -95, 0, 110], [95, 0, 0, -95, 0]).toarray().ravel()
    assert m.tolist() == [True, True, True, True, False]


def test_building_blocks_camera_but_not_wifi():
    s = pd.DataFrame(
        {
            "kind": ["camera", "wifi_probe"],
            "x_m": [0.0, 0.0],
            "y_m": [0.0, 0.0],
            "range_m": [80.0, 80.0],
            "heading_deg": [90.0, 0.0],
            "fov_deg": [90.0, 360.0],
        }
    )
    wall = shapely.box(20, -10, 25, 10)
    m = coverage_matrix_points(s, [40.0, 40.0, 15.0], [0.0, 35.0, 0.0], obstacles=[wall])
    a = m.toarray()
    assert a[:, 0].tolist() == [False, True, True]  # behind the wall / beside it / before it
    assert a[:, 1].tolist() == [True, True, True]
    b = coverage_matrix_points(s, [40.0], [0.0]).toarray()
    assert b.tolist() == [[True, True]]


def test_plate_reader_reads_its_road_only():
    road = shapely.LineString([(-200, 0), (200, 0)])
    s = pd.DataFrame(
        {
            "kind": ["plate_reader"],
            "x_m": [0.0],
            "y_m": [3.0],
            "range_m": [30.0],
            "heading_deg": [90.0],
            "fov_deg": [40.0],
        }
    )
    shp = footprints(s, roads=[road], lane_width_m=12)
    m = coverage_matrix_points(s, [-25, 25, 0, 0, 40], [0, 0, 10, -5, 0], shapes=shp)
    assert m.toarray().ravel().tolist() == [True, True, False, True, False]


def test_bad_sensor_frame_says_what_is_missing():
    with pytest.raises(ValueError, match="lacks column"):
        footprints(pd.DataFrame({"x_m": [0.0]}))
    s = pd.DataFrame(
        {
            "kind": ["camera"],
            "x_m": [0.0],
            "y_m": [0.0],
            "range_m": [-1.0],
            "heading_deg": [0.0],
            "fov_deg": [60.0],
        }
    )
    with pytest.raises(ValueError, match="row 0: range_m"):
        footprints(s)
