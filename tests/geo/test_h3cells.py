"""Vectorised H3 against the h3 library itself, point by point."""

from __future__ import annotations

import h3
import h3.api.basic_int as h3int
import numpy as np
import pytest
import shapely
import shapely.geometry
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.geo import (
    H3_NULL,
    cell_boundaries_geojson,
    cell_resolutions,
    cells_from_lonlat,
    cells_from_str,
    cells_to_str,
    is_valid_cell,
    parent_cells,
)

resolutions = st.integers(min_value=0, max_value=15)
lons = st.floats(min_value=-180.0, max_value=180.0)
lats = st.floats(min_value=-90.0, max_value=90.0)


def reference(lon, lat, res) -> np.ndarray:
    return np.array(
        [h3int.latlng_to_cell(float(y), float(x), res) for x, y in zip(lon, lat, strict=True)],
        dtype=np.int64,
    )


def _special_points() -> tuple[np.ndarray, np.ndarray]:
    """Pentagon centres, icosahedron-face borders and base-cell corners, plus tiny offsets."""
    pts = []
    for pent in h3int.get_pentagons(0):
        pts.append(h3int.cell_to_latlng(pent))
        pts.extend(h3int.cell_to_boundary(pent))
    for base in h3int.get_res0_cells()[::5]:
        pts.extend(h3int.cell_to_boundary(base))
    lat, lon = np.array(pts).T
    offsets = np.array([0.0, 1e-9, -1e-7, 1e-5, -1e-3, 0.02])
    lat = np.clip((lat[:, None] + offsets[None, :]).ravel(), -90, 90)
    lon = (lon[:, None] - offsets[None, ::-1]).ravel()
    return lon, lat


@given(
    lon=st.lists(lons, min_size=1, max_size=60),
    lat=st.lists(lats, min_size=60, max_size=60),
    res=resolutions,
)
def test_equals_h3_anywhere_on_earth(lon, lat, res):
    lat = lat[: len(lon)]
    np.testing.assert_array_equal(cells_from_lonlat(lon, lat, res), reference(lon, lat, res))


@given(
    lon=st.lists(st.floats(118.0, 120.5), min_size=1, max_size=200),
    lat=st.lists(st.floats(33.5, 35.5), min_size=200, max_size=200),
    res=resolutions,
)
@settings(max_examples=50)
def test_equals_h3_in_a_city(lon, lat, res):
    lat = lat[: len(lon)]
    np.testing.assert_array_equal(cells_from_lonlat(lon, lat, res), reference(lon, lat, res))


@pytest.mark.parametrize("res", range(16))
def test_equals_h3_at_pentagons_and_face_edges(res):
    lon, lat = _special_points()
    np.testing.assert_array_equal(cells_from_lonlat(lon, lat, res), reference(lon, lat, res))


@pytest.mark.parametrize("res", [0, 5, 9, 12, 15])
def test_many_points_at_once(res):
    rng = np.random.default_rng(res)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 3000)))
    lon = rng.uniform(-180, 180, 3000)
    ours = cells_from_lonlat(lon, lat, res)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours, reference(lon, lat, res))
    assert (cell_resolutions(ours) == res).all() and is_valid_cell(ours).all()


def test_known_lianyungang_cell_and_lon_first():
    cell = cells_from_lonlat(119.1786, 34.6001, 9)
    assert cell.shape == ()
    assert cells_to_str(cell).item() == h3.latlng_to_cell(34.6001, 119.1786, 9)
    assert cells_to_str(cell).item() == "89308406d13ffff"
    assert cells_from_lonlat(34.6001, 119.1786, 9) == H3_NULL  # latitude 119: out of range


def test_invalid_coordinates_give_the_null_sentinel():
    lon = np.array([119.0, np.nan, 119.0, np.inf, 119.0])
    lat = np.array([34.0, 34.0, np.nan, 34.0, 91.0])
    cells = cells_from_lonlat(lon, lat, 8)
    assert cells[0] == h3int.latlng_to_cell(34.0, 119.0, 8)
    assert cells[1:].tolist() == [H3_NULL] * 4
    assert cells_to_str(cells)[1:].tolist() == [None] * 4


@pytest.mark.parametrize("bad", [-1, 16, 9.0, "9", True])
def test_bad_resolution_is_explained(bad):
    with pytest.raises(ValueError, match="resolution"):
        cells_from_lonlat(119.0, 34.0, bad)


def test_longitudes_wrap_like_h3():
    np.testing.assert_array_equal(
        cells_from_lonlat([-190.0, 190.0, 540.0], [10.0, 10.0, 10.0], 6),
        cells_from_lonlat([170.0, -170.0, 180.0], [10.0, 10.0, 10.0], 6),
    )


@given(
    lon=st.lists(lons, min_size=1, max_size=40),
    lat=st.lists(lats, min_size=40, max_size=40),
    res=resolutions,
    data=st.data(),
)
def test_parent_cells_equal_h3(lon, lat, res, data):
    lat = lat[: len(lon)]
    parent_res = data.draw(st.integers(0, res))
    cells = cells_from_lonlat(lon, lat, res)
    expected = [h3int.cell_to_parent(c, parent_res) for c in cells.tolist()]
    assert parent_cells(cells, parent_res).tolist() == expected


def test_parent_of_coarser_cell_is_refused_and_null_kept():
    cells = np.array([h3int.latlng_to_cell(34.6, 119.18, 5), H3_NULL], dtype=np.int64)
    assert parent_cells(cells, 3)[1] == H3_NULL
    with pytest.raises(ValueError, match="position 0 has resolution 5"):
        parent_cells(cells, 7)


@given(
    lon=st.lists(lons, min_size=1, max_size=30),
    lat=st.lists(lats, min_size=30, max_size=30),
    res=resolutions,
)
def test_string_round_trip(lon, lat, res):
    cells = cells_from_lonlat(lon, lat[: len(lon)], res)
    strs = cells_to_str(cells)
    assert strs.tolist() == [h3int.int_to_str(c) for c in cells.tolist()]
    np.testing.assert_array_equal(cells_from_str(strs), cells)


def test_from_str_names_the_bad_entry_and_maps_missing_to_null():
    assert cells_from_str(["89308406d13ffff", None, ""]).tolist() == [
        h3int.str_to_int("89308406d13ffff"),
        H3_NULL,
        H3_NULL,
    ]
    with pytest.raises(ValueError, match=r"entry 1 \('zz'\)"):
        cells_from_str(["89308406d13ffff", "zz"])
    with pytest.raises(ValueError, match="entry 0"):
        cells_from_str(["89308406d13fff0"])  # digit 7 pattern broken: not a cell


def test_is_valid_cell_equals_h3_on_perturbed_ids():
    rng = np.random.default_rng(3)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 4000)))
    lon = rng.uniform(-180, 180, 4000)
    cells = np.concatenate([cells_from_lonlat(lon[r::16], lat[r::16], r) for r in range(16)])
    flipped = cells ^ (np.int64(1) << rng.integers(0, 63, cells.size))
    pentagon_children = np.array(
        [h3int.cell_to_center_child(p, r) for p in h3int.get_pentagons(0) for r in (1, 3)]
    )
    k_axis = np.array([p & ~(np.int64(7) << 42) | (np.int64(1) << 42) for p in pentagon_children])
    ids = np.concatenate([cells, flipped, pentagon_children, k_axis])
    expected = [h3int.is_valid_cell(int(c)) for c in ids.tolist()]
    assert is_valid_cell(ids).tolist() == expected
    assert not any(h3int.is_valid_cell(int(c)) for c in k_axis.tolist())


def test_boundaries_are_lon_lat_closed_polygons_around_the_centre():
    cells = cells_from_lonlat([119.1786, 119.3], [34.6001, 34.7], 9)
    polys = cell_boundaries_geojson(cells)
    assert [p["type"] for p in polys] == ["Polygon", "Polygon"]
    for cell, geo in zip(cells.tolist(), polys, strict=True):
        ring = geo["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) == 7
        assert all(118.0 < lon < 120.0 and 34.0 < lat < 35.0 for lon, lat in ring)
        lat, lon = h3int.cell_to_latlng(cell)
        assert shapely.geometry.shape(geo).contains(shapely.Point(lon, lat))
    with pytest.raises(ValueError, match="entry 1"):
        cell_boundaries_geojson(np.array([cells[0], H3_NULL]))


def test_disagreeing_representatives_fall_back_to_h3(monkeypatch):
    """If h3 and NumPy round a representative differently (a point exactly on a border), the
    whole group must be recomputed point by point, not mislabelled."""
    import haizhou.geo.h3cells as mod

    real = mod._h3_loop
    calls = []

    def corrupt_first_call(lon, lat, res):
        out = real(lon, lat, res)
        if not calls:  # the representatives: spoil the second one of every group
            half = out.size // 2
            out[half:] = out[half:] ^ np.int64(1 << 3)  # change digit 14 / 15 bits
        calls.append(lon.size)
        return out

    monkeypatch.setattr(mod, "_h3_loop", corrupt_first_call)
    rng = np.random.default_rng(9)
    lon, lat = rng.uniform(119.0, 119.5, 500), rng.uniform(34.4, 34.8, 500)
    ours = cells_from_lonlat(lon, lat, 15)
    np.testing.assert_array_equal(ours, reference(lon, lat, 15))
    assert len(calls) == 2 and calls[1] == 500  # every point went through the fallback


def test_empty_inputs_give_empty_outputs():
    empty = np.array([], dtype=np.float64)
    cells = cells_from_lonlat(empty, empty, 9)
    assert cells.shape == (0,) and cells.dtype == np.int64
    assert parent_cells(cells, 3).shape == (0,)
    assert cells_to_str(cells).shape == (0,) and cells_from_str([]).shape == (0,)
    assert cell_boundaries_geojson(cells) == []
