"""Kernel density surface against a brute-force exact sum, contours, H3 counts."""

from __future__ import annotations

import math
from collections import Counter

import h3.api.basic_int as h3int
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape
from sklearn.base import clone

from haizhou.analytics.kde import (
    KernelDensitySurface,
    _linear_binning,
    bandwidth_rule_of_thumb,
    contour_polygons,
    hexagon_counts,
)
from haizhou.errors import NotFittedError


def exact_surface(x, y, w, xc, yc, h, kernel):
    """Slow, obvious reference: the kernel sum over every event at every cell centre."""
    gx, gy = np.meshgrid(xc, yc)
    out = np.zeros(gx.shape)
    for xi, yi, wi in zip(x, y, w, strict=True):
        r2 = (gx - xi) ** 2 + (gy - yi) ** 2
        if kernel == "gaussian":
            out += wi * np.exp(-0.5 * r2 / h**2) / (2 * math.pi * h**2)
        else:
            out += wi * 3 / (math.pi * h**2) * np.clip(1 - r2 / h**2, 0, None) ** 2
    return out


def max_rel_error(ours, exact):
    """The accuracy measure of the requirement: cells holding >= 1e-3 of the peak."""
    sel = exact >= 1e-3 * exact.max()
    return float(np.max(np.abs(ours[sel] - exact[sel]) / exact[sel]))


def clustered(seed, n=250):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 2000, (4, 2))
    pick = rng.integers(0, 4, n)
    x = centres[pick, 0] + rng.normal(0, 120, n)
    y = centres[pick, 1] + rng.normal(0, 120, n)
    x[:3] = [-400.0, 2500.0, 1000.0]  # a few lone events: their tails are the hard part
    y[:3] = [1000.0, -300.0, 2600.0]
    return x, y, rng.uniform(0.2, 3.0, n)


@pytest.mark.parametrize("ratio", [0.6, 2.0, 7.0, 20.0])
def test_gaussian_within_one_percent_of_exact(ratio):
    x, y, w = clustered(int(ratio * 10))
    kde = KernelDensitySurface(bandwidth_m=ratio * 40.0, cell_size_m=40.0).fit(x, y, w)
    ref = exact_surface(x, y, w, kde.x_centres_, kde.y_centres_, ratio * 40.0, "gaussian")
    assert max_rel_error(kde.surface_, ref) < 0.01
    # the binned lattice keeps centres on nodes (odd refinement); 0 marks the direct sum
    assert kde.oversample_ == 0 or kde.oversample_ % 2 == 1


def test_both_gaussian_methods_are_used_and_agree():
    x, y, w = clustered(3, n=120)
    narrow = KernelDensitySurface(bandwidth_m=20.0, cell_size_m=40.0).fit(x, y, w)
    wide = KernelDensitySurface(bandwidth_m=700.0, cell_size_m=40.0).fit(x, y, w)
    assert narrow.oversample_ == 0 and wide.oversample_ >= 1
    for kde, h in ((narrow, 20.0), (wide, 700.0)):
        ref = exact_surface(x, y, w, kde.x_centres_, kde.y_centres_, h, "gaussian")
        assert max_rel_error(kde.surface_, ref) < 0.01


@pytest.mark.parametrize("radius", [25.0, 130.0, 410.0])
def test_quartic_is_exact(radius):
    # 25 m: no cell fully inside the support (rim only); larger: moments inside + rim
    x, y, w = clustered(9)
    kde = KernelDensitySurface(
        bandwidth_m=radius, cell_size_m=40.0, kernel="quartic", extent_m=(-200, -100, 2300, 2400)
    ).fit(x, y, w)
    ref = exact_surface(x, y, w, kde.x_centres_, kde.y_centres_, radius, "quartic")
    np.testing.assert_allclose(kde.surface_, ref, rtol=1e-9, atol=1e-15)


def test_events_outside_the_extent_still_count():
    x = np.array([-30.0, 500.0])  # the first lies 30 m west of the grid
    y = np.array([250.0, 250.0])
    kde = KernelDensitySurface(bandwidth_m=100.0, cell_size_m=10.0, extent_m=(0, 0, 400, 500))
    kde.fit(x, y)
    assert kde.surface_.shape == (50, 40)
    ref = exact_surface(x, y, np.ones(2), kde.x_centres_, kde.y_centres_, 100.0, "gaussian")
    assert max_rel_error(kde.surface_, ref) < 0.01


def test_surface_integrates_to_total_weight_and_follows_the_data():
    x, y, w = clustered(4)
    kde = KernelDensitySurface(bandwidth_m=150.0, cell_size_m=25.0).fit(x, y, w)
    mass = kde.surface_.sum() * 25.0**2
    assert mass == pytest.approx(w.sum(), rel=2e-3)
    assert kde.total_weight_ == pytest.approx(w.sum())
    # shifting every event by whole cells shifts the surface by as many cells
    shifted = KernelDensitySurface(
        bandwidth_m=150.0, cell_size_m=25.0, extent_m=tuple(np.add(kde.extent_, [75, 50, 75, 50]))
    ).fit(x + 75.0, y + 50.0, w)
    np.testing.assert_allclose(shifted.surface_, kde.surface_, rtol=1e-9, atol=1e-18)


def test_predict_interpolates_between_centres():
    kde = KernelDensitySurface(bandwidth_m=80.0, cell_size_m=20.0).fit([0.0, 90.0], [0.0, 30.0])
    xc, yc = kde.x_centres_, kde.y_centres_
    np.testing.assert_allclose(kde.predict(xc[3], yc[5]), kde.surface_[5, 3])
    mid = kde.predict(0.5 * (xc[3] + xc[4]), yc[5])
    assert mid == pytest.approx(0.5 * (kde.surface_[5, 3] + kde.surface_[5, 4]))
    assert np.isnan(kde.predict(xc[0] - 1.0, yc[0]))


def test_bandwidth_rules():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 300, 1000), rng.normal(0, 100, 1000)
    sigma = math.sqrt((x.var() + y.var()) / 2)
    assert bandwidth_rule_of_thumb(x, y) == pytest.approx(sigma * 1000 ** (-1 / 6))
    quartic = bandwidth_rule_of_thumb(x, y, kernel="quartic")
    assert quartic == pytest.approx(2 * math.sqrt(2) * sigma * 1000 ** (-1 / 6))
    silverman = bandwidth_rule_of_thumb(x, y, rule="silverman")
    iqr = np.mean([np.subtract(*np.percentile(v, [75, 25])) for v in (x, y)])
    assert silverman == pytest.approx(0.9 * min(sigma, iqr / 1.349) * 1000**-0.2, rel=0.02)
    # doubling every weight changes nothing; one heavy event lowers the effective n
    assert bandwidth_rule_of_thumb(x, y, np.full(1000, 2.0)) == pytest.approx(
        bandwidth_rule_of_thumb(x, y)
    )
    kde = KernelDensitySurface(cell_size_m=50.0).fit(x, y)
    assert kde.bandwidth_ == pytest.approx(bandwidth_rule_of_thumb(x, y))
    with pytest.raises(ValueError, match="give bandwidth_m"):
        bandwidth_rule_of_thumb([5.0, 5.0], [1.0, 1.0])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"bandwidth_m": -5}, "'bandwidth_m' parameter of KernelDensitySurface"),
        ({"cell_size_m": 0}, "'cell_size_m'"),
        ({"kernel": "epanechnikov"}, "'kernel'"),
        ({"extent_m": (0, 0, -1, 5)}, "'extent_m'"),
    ],
)
def test_parameters_checked_at_fit(params, message):
    kde = KernelDensitySurface(**params)  # __init__ stores, never checks
    with pytest.raises(ValueError, match=message):
        kde.fit([0.0, 1.0], [0.0, 1.0])


def test_estimator_contract_basics():
    kde = KernelDensitySurface(bandwidth_m=50.0, cell_size_m=10.0)
    with pytest.raises(NotFittedError, match="KernelDensitySurface"):
        kde.predict(0.0, 0.0)
    x = np.array([0.0, 30.0])
    y = np.array([0.0, 10.0])
    x_before = x.copy()
    assert kde.fit(x, y) is kde
    assert np.array_equal(x, x_before)
    assert kde.get_params()["bandwidth_m"] == 50.0
    twin = clone(kde)
    assert not hasattr(twin, "surface_") and twin.get_params() == kde.get_params()
    with pytest.raises(ValueError, match="event 1 has no finite position"):
        KernelDensitySurface(bandwidth_m=1.0).fit([0.0, np.nan], [0.0, 0.0])
    with pytest.raises(ValueError, match="weights must be finite"):
        KernelDensitySurface(bandwidth_m=1.0).fit([0.0], [0.0], [-1.0])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 9.999, allow_nan=False),
            st.floats(0.0, 9.999, allow_nan=False),
            st.floats(0.0, 5.0, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_linear_binning_keeps_mass_and_centroid(events):
    x, y, w = (np.array(v) for v in zip(*events, strict=True))
    grid = _linear_binning(x, y, w, 0.0, 0.0, 1.0, 11, 11)
    assert grid.sum() == pytest.approx(w.sum(), abs=1e-9)
    nodes = np.arange(11.0)
    assert (grid.sum(axis=0) * nodes).sum() == pytest.approx(np.dot(w, x), abs=1e-9)
    assert (grid.sum(axis=1) * nodes).sum() == pytest.approx(np.dot(w, y), abs=1e-9)
    assert np.all(grid >= -1e-15)


# ------------------------------------------------------------------------------------------
# Contours


def _union(polys):
    return shapely.make_valid(shape({"type": "MultiPolygon", "coordinates": polys}))


def test_contour_of_one_event_is_a_circle_of_the_right_radius():
    kde = KernelDensitySurface(bandwidth_m=100.0, cell_size_m=5.0).fit([0.0], [0.0])
    peak = 1.0 / (2 * math.pi * 100.0**2)
    (feature,) = kde.contours([0.2 * peak])
    assert feature["properties"]["level"] == pytest.approx(0.2 * peak)
    polys = feature["geometry"]["coordinates"]
    assert len(polys) == 1 and len(polys[0]) == 1  # one shell, no hole
    geom = shape(feature["geometry"])
    assert geom.is_valid
    radius = 100.0 * math.sqrt(2 * math.log(5.0))
    assert geom.area == pytest.approx(math.pi * radius**2, rel=0.01)
    assert geom.centroid.distance(Point(0, 0)) < 1.0


def test_contour_separates_two_bumps_and_keeps_a_hole():
    kde = KernelDensitySurface(bandwidth_m=60.0, cell_size_m=10.0).fit([0.0, 600.0], [0.0, 0.0])
    level = 0.5 / (2 * math.pi * 60.0**2)
    assert len(kde.contours(level)[0]["geometry"]["coordinates"]) == 2
    # a ring of events: high on the ring, low in the middle
    angle = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    ring = KernelDensitySurface(bandwidth_m=40.0, cell_size_m=10.0).fit(
        500 * np.cos(angle), 500 * np.sin(angle)
    )
    polys = ring.contours(0.5 * ring.surface_.max())[0]["geometry"]["coordinates"]
    assert len(polys) == 1 and len(polys[0]) == 2
    shell, hole = polys[0]
    assert shapely.Polygon(shell).exterior.is_ccw and not shapely.Polygon(hole).exterior.is_ccw
    assert shapely.Polygon(shell, [hole]).contains(Point(500, 0))
    assert not shapely.Polygon(shell, [hole]).contains(Point(0, 0))


def test_contour_saddle_uses_the_centre_value():
    # corners high on one diagonal; the centre average decides whether they join
    join = contour_polygons([[1.0, 0.0], [0.0, 1.0]], [0.0, 1.0], [0.0, 1.0], 0.4)
    split = contour_polygons([[1.0, 0.0], [0.0, 1.0]], [0.0, 1.0], [0.0, 1.0], 0.6)
    assert len(join) == 1 and len(split) == 2


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 7).flatmap(
        lambda nx: st.lists(
            st.lists(st.integers(0, 9), min_size=nx, max_size=nx), min_size=2, max_size=7
        )
    ),
    st.integers(0, 8),
)
def test_contours_are_valid_and_split_centres_correctly(rows, cut):
    z = np.array(rows, dtype=float)
    level = cut + 0.5  # never equal to a value: no ties on the boundary
    xc = 10.0 * np.arange(z.shape[1])
    yc = 5.0 * np.arange(z.shape[0])
    polys = contour_polygons(z, xc, yc, level)
    if not (z >= level).any():
        assert polys == []
        return
    geoms = [shapely.Polygon(p[0], p[1:]) for p in polys]
    assert all(g.is_valid for g in geoms)
    union = shapely.union_all(geoms)
    for iy, ix in np.ndindex(z.shape):
        pt = Point(xc[ix], yc[iy])
        if z[iy, ix] >= level:
            assert union.distance(pt) < 1e-9
        else:
            assert not union.contains(pt) or union.boundary.distance(pt) < 1e-9


# ------------------------------------------------------------------------------------------
# H3 counts


def test_hexagon_counts_match_h3_one_by_one():
    rng = np.random.default_rng(8)
    lon = 119.2 + rng.normal(0, 0.01, 500)
    lat = 34.6 + rng.normal(0, 0.01, 500)
    cells, counts = hexagon_counts(lon, lat, 9)
    expected = Counter(h3int.latlng_to_cell(b, a, 9) for a, b in zip(lon, lat, strict=True))
    assert dict(zip(cells.tolist(), counts.tolist(), strict=True)) == {
        k: float(v) for k, v in expected.items()
    }
    assert np.all(np.diff(cells) > 0)
    _, weighted = hexagon_counts(lon, lat, 9, weights=np.full(500, 0.5))
    np.testing.assert_allclose(weighted, counts / 2)
    with pytest.raises(ValueError, match="event 1 has no valid lon/lat"):
        hexagon_counts([119.2, np.nan], [34.6, 34.6], 9)


def test_hexagon_counts_over_a_study_area_include_empty_cells():
    centre = h3int.latlng_to_cell(34.6, 119.2, 9)
    area = np.array(h3int.grid_disk(centre, 2), dtype=np.int64)  # 19 hexagons
    lon, lat = 119.2, 34.6
    cells, counts = hexagon_counts([lon, lon], [lat, lat], 9, study_cells=area[::-1])
    assert cells.tolist() == sorted(area.tolist())
    assert counts.sum() == 2.0 and counts[cells == centre].tolist() == [2.0]
    assert np.count_nonzero(counts) == 1
    with pytest.raises(ValueError, match="1 events lie outside study_cells"):
        hexagon_counts([lon, lon + 0.1], [lat, lat], 9, study_cells=area)
