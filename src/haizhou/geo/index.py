"""Point-in-polygon index over jurisdictions (辖区归属: 点落在哪个辖区).

Every incident is given its owning jurisdiction (属地) once, at ingest, so the lookup must
take a million points in a fraction of a second. :class:`PolygonIndex` lays a uniform grid
over the polygons: a grid cell that lies wholly inside the first polygon touching it answers
for all its points at once, a cell touching no polygon answers "outside", and only points in
cells crossed by a border are tested exactly with shapely's prepared ``intersects_xy``.

References
----------
.. [1] Shapely 2 vectorised predicates and ``STRtree``, https://shapely.readthedocs.io/
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from haizhou.errors import InputError

__all__ = ["PolygonIndex"]

_TARGET_GRID_CELLS = 1 << 16  # ~65k cells: fast to build (< 0.2 s), few border points
_OUTSIDE = -1
_MIXED = -2


def _parse(code: Any, geometry: Any) -> shapely.Geometry:
    if not isinstance(code, str) or not code:
        raise InputError(
            f"every jurisdiction needs a non-empty string code; got {code!r}. "
            "Give items as (code, GeoJSON geometry) pairs."
        )
    if not isinstance(geometry, dict) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        seen = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise InputError(
            f"jurisdiction {code!r}: the geometry must be a GeoJSON Polygon or MultiPolygon "
            f"(lon/lat order); got {seen!r}."
        )
    try:
        geom = shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise InputError(
            f"jurisdiction {code!r}: malformed GeoJSON {geometry['type']} ({exc}). "
            "Each ring must be a list of [lon, lat] positions, closed, with >= 4 positions."
        ) from None
    if geom.is_empty:
        raise InputError(f"jurisdiction {code!r}: the polygon is empty; give its boundary ring.")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise InputError(f"jurisdiction {code!r}: the polygon has NaN or infinite coordinates.")
    if not shapely.is_valid(geom):
        raise InputError(
            f"jurisdiction {code!r}: invalid polygon ({shapely.is_valid_reason(geom)}). "
            "Fix the boundary (e.g. a self-intersecting ring) in the source file; "
            "shapely.make_valid or a GIS 'repair geometry' tool can help."
        )
    return geom


@dataclass(frozen=True, slots=True, eq=False)
class PolygonIndex:
    """Find the jurisdiction (辖区) holding each point; vectorised, immutable, picklable.

    Build with :meth:`from_geojson`.

    Attributes
    ----------
    codes : tuple of str
        Jurisdiction codes in input order.
    geometries : tuple of shapely.Geometry
        The polygons, in the same order (lon/lat, WGS-84).
    bounds : tuple of float
        (min_lon, min_lat, max_lon, max_lat) of all polygons.

    Notes
    -----
    **Border and overlap rule.** A point belongs to the *first* polygon, in input order,
    whose closed region (interior or boundary) holds it. A point on a border shared by two
    stations therefore goes to the one listed first, and so does a point in an overlap;
    order the items by priority if that matters. The rule is exact: grid shortcuts are only
    taken where they cannot change the answer.

    Examples
    --------
    >>> square = lambda x0: {"type": "Polygon", "coordinates": [[[x0, 0], [x0 + 1, 0],
    ...     [x0 + 1, 1], [x0, 1], [x0, 0]]]}
    >>> idx = PolygonIndex.from_geojson([("A", square(0.0)), ("B", square(1.0))])
    >>> idx.locate([0.5, 1.0, 1.5, 3.0], [0.5, 0.5, 0.5, 0.5]).tolist()
    ['A', 'A', 'B', None]
    >>> idx.contains([0.5, 3.0], [0.5, 0.5]).tolist()
    [True, False]
    """

    codes: tuple[str, ...]
    geometries: tuple[shapely.Geometry, ...]
    bounds: tuple[float, float, float, float]
    _grid: np.ndarray = field(repr=False)
    _cell_size: tuple[float, float] = field(repr=False)
    _labels: np.ndarray = field(repr=False)
    _geom_bounds: np.ndarray = field(repr=False)

    @classmethod
    def from_geojson(
        cls, items: Iterable[tuple[str, dict]], *, grid_cells: int = _TARGET_GRID_CELLS
    ) -> PolygonIndex:
        """Build from ``(code, GeoJSON Polygon or MultiPolygon geometry)`` pairs (lon/lat).

        Parameters
        ----------
        items : iterable of (str, dict)
            Jurisdiction code and GeoJSON geometry, in priority order (see Notes).
        grid_cells : int, default 65536
            Size of the acceleration grid. Answers never depend on it; more cells cost more
            at build time (~0.2 s for the default) and leave fewer points to test exactly.

        Raises
        ------
        haizhou.errors.InputError
            For an empty list, a duplicate or empty code, a geometry that is not a (Multi)Polygon,
            malformed coordinates or an invalid (e.g. self-intersecting) polygon, naming the code.
        """
        codes: list[str] = []
        geoms: list[shapely.Geometry] = []
        for item in items:
            try:
                code, geometry = item
            except (TypeError, ValueError):
                raise InputError(
                    f"PolygonIndex.from_geojson expects (code, geometry) pairs; got {item!r:.80}."
                ) from None
            geom = _parse(code, geometry)
            if code in codes:
                raise InputError(f"jurisdiction code {code!r} appears twice; codes must be unique.")
            codes.append(code)
            geoms.append(geom)
        if not geoms:
            raise InputError("PolygonIndex needs at least one jurisdiction polygon; got none.")
        if not (isinstance(grid_cells, int) and 1 <= grid_cells <= 1 << 24):
            raise ValueError(
                f"The 'grid_cells' of PolygonIndex must be an int in 1..2**24; got {grid_cells!r}."
            )
        return cls._build(tuple(codes), tuple(geoms), grid_cells)

    @classmethod
    def _build(
        cls, codes: tuple[str, ...], geoms: tuple[shapely.Geometry, ...], grid_cells: int
    ) -> PolygonIndex:
        geom_arr = np.array(geoms, dtype=object)
        shapely.prepare(geom_arr)
        geom_bounds = shapely.bounds(geom_arr)
        x0, y0 = float(geom_bounds[:, 0].min()), float(geom_bounds[:, 1].min())
        x1, y1 = float(geom_bounds[:, 2].max()), float(geom_bounds[:, 3].max())
        width, height = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
        nx = max(1, min(4096, round(math.sqrt(grid_cells * width / height))))
        ny = max(1, min(4096, round(grid_cells / nx)))
        dx, dy = width / nx, height / ny
        # Each cell's box is grown a little so that a point assigned to it by floating-point
        # floor() is surely inside the box the classification looked at.
        eps = 1e-7 * min(dx, dy)
        ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
        boxes = shapely.box(
            x0 + ix.ravel() * dx - eps,
            y0 + iy.ravel() * dy - eps,
            x0 + (ix.ravel() + 1) * dx + eps,
            y0 + (iy.ravel() + 1) * dy + eps,
        )
        # Query a tree of the boxes with the (few, prepared) polygons: prepared geometry must
        # be the predicate's first argument to help, which is ~7x faster than the other way.
        geom_idx, box_idx = shapely.STRtree(boxes).query(geom_arr, predicate="intersects")
        first = np.full(boxes.size, len(geoms), dtype=np.int64)
        np.minimum.at(first, box_idx, geom_idx)
        grid = np.full(boxes.size, _OUTSIDE, dtype=np.int32)
        touched = np.flatnonzero(first < len(geoms))
        covered = shapely.covers(geom_arr[first[touched]], boxes[touched])
        grid[touched] = np.where(covered, first[touched], _MIXED)
        labels = np.array([*codes, None], dtype=object)  # index -1 -> None
        return cls(
            codes=codes,
            geometries=geoms,
            bounds=(x0, y0, x1, y1),
            _grid=grid.reshape(ny, nx),
            _cell_size=(dx, dy),
            _labels=labels,
            _geom_bounds=geom_bounds,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        wkbs = tuple(shapely.to_wkb(g) for g in self.geometries)
        return (_rebuild, (self.codes, wkbs, self._grid.size))

    def __len__(self) -> int:
        return len(self.codes)

    def locate_index(self, lon: Any, lat: Any) -> np.ndarray:
        """Position in :attr:`codes` of the polygon holding each point; -1 outside all.

        Parameters
        ----------
        lon, lat : float or array_like
            WGS-84 degrees, longitude first; broadcast against each other.

        Returns
        -------
        numpy.ndarray of int64
            Broadcast shape; NaN coordinates give -1.
        """
        lon_a, lat_a = np.broadcast_arrays(
            np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        )
        shape = lon_a.shape
        x, y = lon_a.ravel(), lat_a.ravel()
        x0, y0, x1, y1 = self.bounds
        dx, dy = self._cell_size
        ny, nx = self._grid.shape
        out = np.full(x.size, _OUTSIDE, dtype=np.int64)
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)  # False for NaN
        pos = np.flatnonzero(inside)
        if pos.size:
            gx = np.clip(((x[pos] - x0) / dx).astype(np.int64), 0, nx - 1)
            gy = np.clip(((y[pos] - y0) / dy).astype(np.int64), 0, ny - 1)
            cell = self._grid[gy, gx].astype(np.int64)
            out[pos] = cell
            mixed = pos[cell == _MIXED]
            out[mixed] = _OUTSIDE
            if mixed.size:
                self._resolve_exactly(x, y, mixed, out)
        return out.reshape(shape)

    def _resolve_exactly(
        self, x: np.ndarray, y: np.ndarray, todo: np.ndarray, out: np.ndarray
    ) -> None:
        for k, geom in enumerate(self.geometries):
            if not todo.size:
                return
            bx0, by0, bx1, by1 = self._geom_bounds[k]
            tx, ty = x[todo], y[todo]
            near = (tx >= bx0) & (tx <= bx1) & (ty >= by0) & (ty <= by1)
            if not near.any():
                continue
            hit = np.zeros(todo.size, dtype=bool)
            hit[near] = shapely.intersects_xy(geom, tx[near], ty[near])
            out[todo[hit]] = k
            todo = todo[~hit]

    def locate(self, lon: Any, lat: Any) -> np.ndarray:
        """Owning jurisdiction code of each point (属地), ``None`` outside every polygon.

        Parameters
        ----------
        lon, lat : float or array_like
            WGS-84 degrees, longitude first (convert GCJ-02 / BD-09 input first, see
            :class:`haizhou.geo.CoordTransformer`).

        Returns
        -------
        numpy.ndarray of object
            A code from :attr:`codes` or None per point; see the class Notes for borders.
        """
        found = self.locate_index(lon, lat)
        out = np.empty(found.shape, dtype=object)
        out[...] = self._labels[found]
        return out

    def contains(self, lon: Any, lat: Any) -> np.ndarray:
        """Whether each point lies in the union of the polygons (the bureau's area), bool."""
        return self.locate_index(lon, lat) >= 0


def _rebuild(codes: tuple[str, ...], wkbs: tuple[bytes, ...], grid_cells: int) -> PolygonIndex:
    return PolygonIndex._build(codes, tuple(shapely.from_wkb(w) for w in wkbs), grid_cells)
