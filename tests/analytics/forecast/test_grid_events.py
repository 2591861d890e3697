"""EventSet, to_days and Grid: known answers and properties."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.base import EventSet, to_days
from haizhou.analytics.grid import Grid

coords = st.floats(-20_000, 20_000, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(st.integers(-(10**9), 4 * 10**9))
def test_to_days_round_trips_datetime64_seconds(seconds: int) -> None:
    t = np.datetime64(seconds, "s")
    days = float(to_days(t))
    back = np.datetime64("1970-01-01T00:00:00") + np.timedelta64(round(days * 86400), "s")
    assert back == t


def test_to_days_reads_strings_and_numbers() -> None:
    assert to_days(["2015-01-01", "2015-01-01T12:00"]).tolist() == [16436.0, 16436.5]
    assert to_days(3).tolist() == 3.0
    with pytest.raises(ValueError, match="cannot read"):
        to_days(["not a date"])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(coords, coords), min_size=1, max_size=30),
    st.sampled_from([10.0, 37.5, 150.0]),
)
def test_every_point_falls_in_a_cell_that_contains_it(points, size: float) -> None:
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    grid = Grid.covering(x, y, cell_size_m=size)
    cells = grid.cell_of(x, y)
    assert np.all(cells >= 0)
    ix, iy = cells % grid.nx, cells // grid.nx
    eps = 1e-9  # a point within float rounding of a cell edge may fall on either side
    assert np.all(grid.x0_m + ix * size <= x + eps) and np.all(
        x < grid.x0_m + (ix + 1) * size + eps
    )
    assert np.all(grid.y0_m + iy * size <= y + eps) and np.all(
        y < grid.y0_m + (iy + 1) * size + eps
    )
    # default study area = the occupied cells, exactly
    assert set(grid.study_cells.tolist()) == set(cells.tolist())
    assert grid.counts(x, y).sum() == len(points)


def test_a_grid_too_large_is_refused_with_advice() -> None:
    with pytest.raises(ValueError, match=r"would have .* cells"):
        Grid.covering([0.0, 1e7], [0.0, 1e7], cell_size_m=1.0)


def test_grid_origin_is_the_floor_of_the_minimum() -> None:
    g = Grid.covering([261121.37, 277883.2], [298717.9, 326403.1], cell_size_m=150.0)
    assert (g.x0_m, g.y0_m) == (261121.0, 298717.0)
    assert (g.nx, g.ny) == (112, 185)


def test_polygon_study_area_uses_cell_centres() -> None:
    g = Grid.covering([0.0, 399.0], [0.0, 99.0], cell_size_m=100.0)
    poly = shapely.box(0, 0, 160, 100)  # holds the centres (50, 50) and (150, 50)
    assert g.with_polygon(poly).study_cells.tolist() == [0, 1]
    with pytest.raises(ValueError, match="contains no cell centre"):
        g.with_polygon(shapely.box(1000, 1000, 1100, 1100))


def test_event_set_is_read_only_and_checked() -> None:
    ev = EventSet.from_arrays([1.0, 2.0], [0.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError):
        ev.t_days[0] = 5.0
    with pytest.raises(ValueError, match="one value per event"):
        EventSet(np.zeros(2), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="must be finite; element 1"):
        EventSet(np.zeros(2), np.array([0.0, np.nan]), np.zeros(2))
    assert len(ev.window(1.5, 3.0)) == 1 and len(ev.before(1.0)) == 0
