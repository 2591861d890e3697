"""Neighbour structures: counts, symmetry, against h3 and brute force, immutability."""

from __future__ import annotations

import pickle

import h3.api.basic_int as h3int
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.spatial_stats import Neighbours
from haizhou.geo import cells_from_lonlat


def test_grid_rook_and_queen_cardinalities():
    rook = Neighbours.from_grid(3, 4, queen=False)
    queen = Neighbours.from_grid(3, 4, queen=True)
    assert rook.cardinalities.reshape(3, 4).tolist() == [[2, 3, 3, 2], [3, 4, 4, 3], [2, 3, 3, 2]]
    assert queen.cardinalities.reshape(3, 4).tolist() == [[3, 5, 5, 3], [5, 8, 8, 5], [3, 5, 5, 3]]
    # cell (1, 1) = site 5: queen neighbours are the 8 around it, row-major
    assert queen.neighbours_of(5).tolist() == [0, 1, 2, 4, 6, 8, 9, 10]
    assert rook.is_symmetric() and queen.is_symmetric()


@pytest.mark.slow  # importing libpysal takes 5-15 s; the comparison itself is instant
def test_grid_matches_libpysal_lattice():
    weights = pytest.importorskip("libpysal.weights", reason="libpysal (dev dependency) absent")
    for rook in (True, False):
        w = weights.lat2W(5, 7, rook=rook)
        ours = Neighbours.from_grid(5, 7, queen=not rook)
        for i in range(35):
            assert sorted(w.neighbors[i]) == ours.neighbours_of(i).tolist()


def test_h3_rings_match_grid_disk():
    rng = np.random.default_rng(3)
    lon = 119.2 + rng.normal(0, 0.01, 400)
    lat = 34.6 + rng.normal(0, 0.01, 400)
    cells = np.unique(cells_from_lonlat(lon, lat, 9))
    for k in (1, 2):
        nb = Neighbours.from_h3(cells, k=k)
        present = set(cells.tolist())
        for i, cell in enumerate(cells.tolist()):
            expected = sorted(
                int(np.flatnonzero(cells == c)[0])
                for c in h3int.grid_disk(cell, k)
                if c in present and c != cell
            )
            assert nb.neighbours_of(i).tolist() == expected
        assert nb.is_symmetric()
        assert nb.ids.tolist() == cells.tolist()
    # an interior hexagon of a full disk has exactly 6 neighbours at k=1
    full = np.array(h3int.grid_disk(int(cells[0]), 3), dtype=np.int64)
    nb = Neighbours.from_h3(full, k=1)
    assert nb.cardinalities[0] == 6


def test_h3_rejects_duplicates_and_invalid():
    cell = int(cells_from_lonlat(119.2, 34.6, 9))
    with pytest.raises(ValueError, match="more than once"):
        Neighbours.from_h3([cell, cell])
    with pytest.raises(ValueError, match="not a valid H3 cell"):
        Neighbours.from_h3([cell, 0])
    with pytest.raises(ValueError, match="k >= 1"):
        Neighbours.from_h3([cell], k=0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1000, allow_nan=False), st.floats(0, 1000, allow_nan=False)),
        min_size=1,
        max_size=40,
    ),
    st.floats(1.0, 500.0),
)
def test_distance_band_equals_brute_force(points, threshold):
    xy = np.array(points)
    nb = Neighbours.distance_band(xy[:, 0], xy[:, 1], threshold)
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    for i in range(len(points)):
        expected = [j for j in range(len(points)) if j != i and d[i, j] <= threshold]
        assert nb.neighbours_of(i).tolist() == expected


def test_immutable_and_pickles():
    nb = Neighbours.from_grid(2, 2)
    with pytest.raises(ValueError):
        nb.indices[0] = 3
    with pytest.raises(AttributeError):
        nb.indptr = np.zeros(3)  # type: ignore[misc]
    back = pickle.loads(pickle.dumps(nb))
    assert back.indices.tolist() == nb.indices.tolist()
    assert back.indptr.tolist() == nb.indptr.tolist()


def test_invalid_structures_are_refused():
    with pytest.raises(ValueError, match="lists itself"):
        Neighbours(indptr=[0, 1, 1], indices=[0])
    with pytest.raises(ValueError, match="must lie in"):
        Neighbours.from_lists([[1], [2]])
    assert Neighbours.from_lists([[1, 1, 0], [0]]).neighbours_of(0).tolist() == [1]


def test_to_sparse_adds_self_weight_without_changing_structure():
    nb = Neighbours.from_grid(1, 3)
    w = nb.to_sparse(self_weight=1.0).toarray()
    assert w.tolist() == [[1, 1, 0], [1, 1, 1], [0, 1, 1]]
    assert nb.to_sparse().toarray().trace() == 0
