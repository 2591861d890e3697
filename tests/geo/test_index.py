"""Point-in-polygon index against a slow per-point shapely reference."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import mapping

from haizhou.errors import InputError
from haizhou.geo import PolygonIndex

BOX = (118.9, 34.3, 119.6, 34.9)


def square(x0: float, y0: float, size: float = 1.0) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
        ],
    }


def slow_locate(codes, geoms, lon, lat):
    """First polygon in input order whose closed region holds the point (the documented rule)."""
    out = []
    for x, y in zip(lon, lat, strict=True):
        point = shapely.Point(x, y)
        out.append(
            next((c for c, g in zip(codes, geoms, strict=True) if g.intersects(point)), None)
        )
    return out


def jurisdictions(seed: int, n: int) -> list[tuple[str, dict]]:
    """Voronoi cells of random stations inside BOX, with wiggly (densified, jittered) borders."""
    rng = np.random.default_rng(seed)
    sites = shapely.multipoints(
        np.column_stack([rng.uniform(BOX[0], BOX[2], n), rng.uniform(BOX[1], BOX[3], n)])
    )
    env = shapely.box(*BOX)
    cells = shapely.get_parts(shapely.voronoi_polygons(sites, extend_to=env))
    items = []
    for i, cell in enumerate(cells):
        poly = shapely.intersection(cell, env)
        if i % 3 == 0:  # some jurisdictions have a hole (e.g. an enclave run by another unit)
            hole = shapely.buffer(shapely.centroid(poly), 0.01, quad_segs=3)
            if poly.contains(hole):
                poly = poly.difference(hole)
        items.append((f"320700{i:02d}", mapping(poly)))
    return items


@given(seed=st.integers(0, 10_000), n=st.integers(1, 20), data=st.data())
@settings(max_examples=40, deadline=None)
def test_locate_equals_slow_reference(seed, n, data):
    items = jurisdictions(seed, n)
    idx = PolygonIndex.from_geojson(items, grid_cells=data.draw(st.sampled_from([1, 64, 1024])))
    geoms = [shapely.geometry.shape(g) for _, g in items]
    rng = np.random.default_rng(seed + 1)
    lon = list(rng.uniform(BOX[0] - 0.05, BOX[2] + 0.05, 300))
    lat = list(rng.uniform(BOX[1] - 0.05, BOX[3] + 0.05, 300))
    # points exactly on borders and vertices, where the tie rule matters
    vertices = shapely.get_coordinates(shapely.boundary(np.array(geoms)))
    pick = rng.integers(0, len(vertices), 50)
    lon += vertices[pick, 0].tolist()
    lat += vertices[pick, 1].tolist()
    lon += data.draw(st.lists(st.floats(BOX[0] - 0.1, BOX[2] + 0.1), min_size=5, max_size=5))
    lat += data.draw(st.lists(st.floats(BOX[1] - 0.1, BOX[3] + 0.1), min_size=5, max_size=5))
    expected = slow_locate(idx.codes, geoms, lon, lat)
    assert idx.locate(np.array(lon), np.array(lat)).tolist() == expected
    assert idx.contains(lon, lat).tolist() == [e is not None for e in expected]


def test_shared_border_and_overlap_go_to_the_first_listed():
    a, b = square(0.0, 0.0), square(1.0, 0.0)
    idx = PolygonIndex.from_geojson([("A", a), ("B", b)], grid_cells=16)
    assert idx.locate([1.0, 1.0, 0.5, 1.5, 2.0], [0.5, 0.0, 0.5, 0.5, 1.0]).tolist() == [
        "A",
        "A",
        "A",
        "B",
        "B",
    ]
    flipped = PolygonIndex.from_geojson([("B", b), ("A", a)], grid_cells=16)
    assert flipped.locate([1.0, 0.5], [0.5, 0.5]).tolist() == ["B", "A"]
    overlap = PolygonIndex.from_geojson(
        [("big", square(0, 0, 2)), ("small", square(0.5, 0.5, 0.5))]
    )
    assert overlap.locate([0.7, 1.9], [0.7, 1.9]).tolist() == ["big", "big"]
    reverse = PolygonIndex.from_geojson(
        [("small", square(0.5, 0.5, 0.5)), ("big", square(0, 0, 2))]
    )
    assert reverse.locate([0.7, 1.9], [0.7, 1.9]).tolist() == ["small", "big"]


def test_multipolygon_hole_nan_and_outside():
    multi = {
        "type": "MultiPolygon",
        "coordinates": [square(0, 0)["coordinates"], square(5, 5)["coordinates"]],
    }
    holed = {
        "type": "Polygon",
        "coordinates": [
            [[10, 0], [14, 0], [14, 4], [10, 4], [10, 0]],
            [[11, 1], [13, 1], [13, 3], [11, 3], [11, 1]],
        ],
    }
    idx = PolygonIndex.from_geojson([("M", multi), ("H", holed)])
    lon = np.array([0.5, 5.5, 3.0, 10.5, 12.0, np.nan, 0.5, 13.0])
    lat = np.array([0.5, 5.5, 3.0, 0.5, 2.0, 0.5, np.nan, 2.0])
    assert idx.locate(lon, lat).tolist() == ["M", "M", None, "H", None, None, None, "H"]
    assert idx.locate_index(lon, lat).tolist() == [0, 0, -1, 1, -1, -1, -1, 1]
    assert idx.bounds == (0.0, 0.0, 14.0, 6.0)
    assert idx.codes == ("M", "H") and len(idx) == 2


def test_shapes_broadcast():
    idx = PolygonIndex.from_geojson([("A", square(0, 0))])
    out = idx.locate(np.full((2, 3), 0.5), 0.5)
    assert out.shape == (2, 3) and out.dtype == object and (out == "A").all()
    assert idx.locate(0.5, 0.5).item() == "A"


def test_self_intersecting_polygon_names_the_code():
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(InputError, match=r"'32070301'.*invalid polygon.*Self-intersection"):
        PolygonIndex.from_geojson([("32070300", square(5, 5)), ("32070301", bowtie)])


@pytest.mark.parametrize(
    ("items", "match"),
    [
        ([], "at least one"),
        ([("A", square(0, 0)), ("A", square(2, 0))], "'A' appears twice"),
        (
            [("A", {"type": "Point", "coordinates": [0, 0]})],
            "'A'.*Polygon or MultiPolygon.*'Point'",
        ),
        ([("A", {"type": "Polygon", "coordinates": [[[0, 0], [1]]]})], "'A'.*malformed"),
        ([("", square(0, 0))], "non-empty string code"),
        ([("A", {"type": "Polygon", "coordinates": []})], "'A'.*empty"),
    ],
)
def test_bad_input_is_explained(items, match):
    with pytest.raises(InputError, match=match):
        PolygonIndex.from_geojson(items)


def test_pickle_round_trip_and_immutability():
    items = jurisdictions(3, 12)
    idx = PolygonIndex.from_geojson(items, grid_cells=500)
    clone = pickle.loads(pickle.dumps(idx))
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(BOX[0], BOX[2], 5000), rng.uniform(BOX[1], BOX[3], 5000)
    assert clone.codes == idx.codes
    np.testing.assert_array_equal(clone.locate_index(lon, lat), idx.locate_index(lon, lat))
    with pytest.raises(AttributeError):
        idx.codes = ()


def test_grid_shortcut_agrees_on_a_dense_sample():
    items = jurisdictions(11, 16)
    idx = PolygonIndex.from_geojson(items)
    geoms = [shapely.geometry.shape(g) for _, g in items]
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(BOX[0], BOX[2], 4000), rng.uniform(BOX[1], BOX[3], 4000)
    assert idx.locate(lon, lat).tolist() == slow_locate(idx.codes, geoms, lon, lat)
