"""Square analysis grid and study area (分析网格 · 研究区域).

Forecasts and hot-spot maps are scored on square cells. The grid is laid over the bounding box
of a set of points with its origin at ``(floor(min x), floor(min y))``; cell ``(ix, iy)`` covers
``[x0 + ix·s, x0 + (ix+1)·s) × [y0 + iy·s, y0 + (iy+1)·s)`` and has the flat id
``iy · nx + ix``. The *study area* is a boolean mask over the cells: by default the cells that
hold at least one event, or the cells whose centre falls in a polygon.

References
----------
.. [1] Adepeju, M., Rosser, G. & Cheng, T. (2016). Novel evaluation metrics for sparse
   spatio-temporal point process hotspot predictions — a crime case study. International
   Journal of Geographical Information Science 30(11), 2133–2154.
   doi:10.1080/13658816.2016.1159684
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MAX_CELLS", "Grid"]

MAX_CELLS = 50_000_000
"""Largest grid :meth:`Grid.covering` builds (a city at 10 m cells is ~10 million)."""


@dataclass(frozen=True, slots=True, eq=False)
class Grid:
    """A square grid with a study-area mask (分析网格).

    Parameters
    ----------
    x0_m, y0_m : float
        Lower-left corner of cell (0, 0), metres.
    cell_size_m : float
        Side of a cell, metres (> 0).
    nx, ny : int
        Number of columns (east) and rows (north).
    mask : numpy.ndarray of bool, shape (ny * nx,)
        True for cells in the study area (研究区域), by flat id ``iy * nx + ix``.

    Examples
    --------
    >>> g = Grid.covering([0.5, 250.0, 260.0], [0.2, 90.0, 95.0], cell_size_m=100.0)
    >>> (g.x0_m, g.y0_m, g.nx, g.ny, g.n_study)
    (0.0, 0.0, 3, 1, 2)
    >>> g.cell_of([0.5, 250.0, 999.0], [0.2, 90.0, 0.0]).tolist()
    [0, 2, -1]
    """

    x0_m: float
    y0_m: float
    cell_size_m: float
    nx: int
    ny: int
    mask: np.ndarray

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cell_size_m) and self.cell_size_m > 0):
            raise ValueError(f"Grid.cell_size_m must be > 0 metres; got {self.cell_size_m!r}.")
        if self.nx < 1 or self.ny < 1:
            raise ValueError(f"Grid needs at least one cell; got nx={self.nx}, ny={self.ny}.")
        mask = np.array(self.mask, dtype=bool).reshape(-1)
        if mask.size != self.nx * self.ny:
            raise ValueError(
                f"Grid.mask must have nx * ny = {self.nx * self.ny} values; got {mask.size}."
            )
        mask.flags.writeable = False
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "nx", int(self.nx))
        object.__setattr__(self, "ny", int(self.ny))

    # ---------------------------------------------------------------- construction
    @classmethod
    def covering(
        cls,
        x_m: Any,
        y_m: Any,
        *,
        cell_size_m: float,
        study: str | Any = "occupied",
    ) -> Grid:
        """A grid over the bounding box of points, origin at ``(floor(min x), floor(min y))``.

        Parameters
        ----------
        x_m, y_m : array_like of float
            Points, metres (at least one).
        cell_size_m : float
            Cell side, metres.
        study : "occupied", "all" or shapely geometry
            The study area: cells holding at least one of the points (default), every cell, or
            the cells whose centre lies in a (projected, metric) polygon.
        """
        x = np.asarray(x_m, dtype=np.float64).reshape(-1)
        y = np.asarray(y_m, dtype=np.float64).reshape(-1)
        if x.size == 0:
            raise ValueError("Grid.covering needs at least one point to size the grid.")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("Grid.covering needs finite coordinates; drop points without a place.")
        if not (math.isfinite(cell_size_m) and cell_size_m > 0):
            raise ValueError(f"The cell size must be > 0 metres; got {cell_size_m!r}.")
        x0, y0 = math.floor(float(x.min())), math.floor(float(y.min()))
        nx = int((float(x.max()) - x0) // cell_size_m) + 1
        ny = int((float(y.max()) - y0) // cell_size_m) + 1
        if nx * ny > MAX_CELLS:
            raise ValueError(
                f"a {cell_size_m:g} m grid over these points would have {nx} x {ny} = {nx * ny:,} "
                f"cells (limit {MAX_CELLS:,}); use larger cells, or check that the coordinates "
                "are metres on one projected plane (degrees or mixed systems give huge extents)."
            )
        grid = cls(float(x0), float(y0), float(cell_size_m), nx, ny, np.ones(nx * ny, bool))
        if isinstance(study, str):
            if study == "all":
                return grid
            if study != "occupied":
                raise ValueError(f"study must be 'occupied', 'all' or a polygon; got {study!r}.")
            counts = grid.counts(x, y)
            return grid.with_mask(counts > 0)
        return grid.with_polygon(study)

    def with_mask(self, mask: Any) -> Grid:
        """The same cells with another study-area mask."""
        return Grid(self.x0_m, self.y0_m, self.cell_size_m, self.nx, self.ny, mask)

    def with_polygon(self, polygon: Any) -> Grid:
        """Study area = cells whose centre lies inside a shapely (multi)polygon in metres."""
        import shapely

        cx, cy = self.centres()
        inside = shapely.contains_xy(polygon, cx, cy)
        if not np.any(inside):
            raise ValueError(
                "The study-area polygon contains no cell centre of the grid; check that it is "
                "in the same projected coordinates (metres) as the events."
            )
        return self.with_mask(inside)

    # ---------------------------------------------------------------- queries
    @property
    def n_cells(self) -> int:
        """Number of cells in the grid (``nx * ny``)."""
        return self.nx * self.ny

    @property
    def n_study(self) -> int:
        """Number of cells in the study area."""
        return int(self.mask.sum())

    @property
    def study_cells(self) -> np.ndarray:
        """Flat ids of the study-area cells, ascending."""
        return np.flatnonzero(self.mask)

    def cell_of(self, x_m: Any, y_m: Any) -> np.ndarray:
        """Flat cell id of each point; -1 for points outside the grid."""
        x = np.asarray(x_m, dtype=np.float64)
        y = np.asarray(y_m, dtype=np.float64)
        ix = np.floor((x - self.x0_m) / self.cell_size_m)
        iy = np.floor((y - self.y0_m) / self.cell_size_m)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.where(ok, iy * self.nx + ix, -1)
        return out.astype(np.int64)

    def counts(self, x_m: Any, y_m: Any, weights: Any = None) -> np.ndarray:
        """Number (or summed weight) of points per cell, shape (n_cells,)."""
        cells = self.cell_of(x_m, y_m)
        ok = cells >= 0
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
        return np.bincount(cells[ok], weights=w, minlength=self.n_cells).astype(np.float64)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell centres (x, y), metres, by flat id."""
        ix = np.arange(self.n_cells) % self.nx
        iy = np.arange(self.n_cells) // self.nx
        return (
            self.x0_m + (ix + 0.5) * self.cell_size_m,
            self.y0_m + (iy + 0.5) * self.cell_size_m,
        )

    def as_image(self, values: Any) -> np.ndarray:
        """Per-cell values (n_cells,) as a (ny, nx) array, row 0 = southernmost."""
        return np.asarray(values).reshape(self.ny, self.nx)

    def cell_polygon(self, cell: int) -> list[list[float]]:
        """Outer ring of one cell as ``[[x, y], ...]`` (closed), metres."""
        ix, iy = int(cell) % self.nx, int(cell) // self.nx
        x, y, s = (
            self.x0_m + ix * self.cell_size_m,
            self.y0_m + iy * self.cell_size_m,
            self.cell_size_m,
        )
        return [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]
