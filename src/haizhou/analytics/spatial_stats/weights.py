"""Neighbour structures for local statistics (空间邻接关系).

A :class:`Neighbours` says, for each of ``n`` sites (grid cells, H3 hexagons, points), which
other sites are its neighbours. It is immutable, stored as compressed sparse rows (CSR: the
neighbours of site ``i`` are ``indices[indptr[i]:indptr[i + 1]]``, sorted, never ``i`` itself)
and built only through named constructors, as libpysal's ``Graph`` is:

- :meth:`Neighbours.from_grid` — rook or queen contiguity on a regular grid;
- :meth:`Neighbours.from_h3` — H3 hexagons within ``k`` rings (``h3.grid_disk``);
- :meth:`Neighbours.distance_band` — points within a distance in metres;
- :meth:`Neighbours.from_lists` — explicit lists (small cases, tests).

Weights are binary. Statistics that count the site itself (Getis-Ord G*) add the self weight
themselves, so one structure serves both G and G*.

References
----------
.. [1] Rey, S. J. & Anselin, L. (2007). PySAL: a Python library of spatial analytical methods.
   The Review of Regional Studies 37(1), 5-27. doi:10.52324/001c.8285
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h3.api.basic_int as _h3int
import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from haizhou.geo.h3cells import is_valid_cell

__all__ = ["Neighbours"]


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, slots=True, eq=False)
class Neighbours:
    """Binary, symmetric-or-not neighbour lists of ``n`` sites in CSR form (空间邻接).

    Build with a named constructor, not directly.

    Attributes
    ----------
    indptr : numpy.ndarray of int64, shape (n + 1,)
        Row pointers: site ``i``'s neighbours are ``indices[indptr[i]:indptr[i + 1]]``.
    indices : numpy.ndarray of int64, shape (nnz,)
        Neighbour positions, sorted within each row, never the site itself.
    ids : numpy.ndarray or None, shape (n,)
        Optional label per site (e.g. H3 cell ids), aligned with the rows.

    Examples
    --------
    >>> nb = Neighbours.from_grid(2, 3, queen=False)
    >>> nb.n, nb.cardinalities.tolist()
    (6, [2, 3, 2, 2, 3, 2])
    >>> nb.neighbours_of(1).tolist()
    [0, 2, 4]
    """

    indptr: np.ndarray
    indices: np.ndarray
    ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        indptr = np.array(self.indptr, dtype=np.int64).reshape(-1)
        indices = np.array(self.indices, dtype=np.int64).reshape(-1)
        if indptr.size < 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
            raise ValueError(
                "Neighbours.indptr must start at 0 and never decrease; build Neighbours with "
                "from_grid, from_h3, distance_band or from_lists."
            )
        n = indptr.size - 1
        if indptr[-1] != indices.size:
            raise ValueError(
                f"Neighbours.indptr ends at {int(indptr[-1])} but there are {indices.size} "
                "indices; they must agree."
            )
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise ValueError(f"Neighbours.indices must lie in [0, {n}); got values outside.")
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
        if np.any(rows == indices):
            bad = int(rows[np.flatnonzero(rows == indices)[0]])
            raise ValueError(
                f"site {bad} lists itself as a neighbour; self weights are added by the "
                "statistic (G*), never stored."
            )
        object.__setattr__(self, "indptr", _readonly(indptr))
        object.__setattr__(self, "indices", _readonly(indices))
        if self.ids is not None:
            ids = np.array(self.ids).reshape(-1)
            if ids.size != n:
                raise ValueError(
                    f"Neighbours.ids must have one label per site ({n}); got {ids.size}."
                )
            object.__setattr__(self, "ids", _readonly(ids))

    # ---------------------------------------------------------------------------------------
    # Constructors

    @classmethod
    def _from_pairs(
        cls, n: int, rows: np.ndarray, cols: np.ndarray, ids: np.ndarray | None = None
    ) -> Neighbours:
        """CSR from (row, col) pairs: duplicates and self pairs dropped, rows sorted."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
        key = np.unique(rows * n + cols)
        rows, cols = key // n, key % n
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return cls(indptr=indptr, indices=cols, ids=ids)

    @classmethod
    def from_lists(cls, lists: Sequence[Sequence[int]], ids: Any = None) -> Neighbours:
        """From one list of neighbour positions per site (self entries are dropped).

        Examples
        --------
        >>> Neighbours.from_lists([[1], [0, 2], [1]]).cardinalities.tolist()
        [1, 2, 1]
        """
        n = len(lists)
        rows = np.repeat(np.arange(n), [len(x) for x in lists])
        cols = np.fromiter((c for x in lists for c in x), dtype=np.int64, count=rows.size)
        if cols.size and (cols.min() < 0 or cols.max() >= n):
            raise ValueError(f"Neighbours.from_lists: positions must lie in [0, {n}).")
        return cls._from_pairs(n, rows, cols, None if ids is None else np.asarray(ids))

    @classmethod
    def from_grid(cls, nrows: int, ncols: int, *, queen: bool = True) -> Neighbours:
        """Contiguity on a regular grid of ``nrows × ncols`` cells (网格邻接).

        Site ``row * ncols + col`` (row-major, as ``array.ravel()`` of a ``(nrows, ncols)``
        raster). Rook: the 4 cells sharing an edge; queen: also the 4 sharing a corner.

        Parameters
        ----------
        nrows, ncols : int
            Grid shape (>= 1 each).
        queen : bool, default True
            Queen (8 neighbours) or rook (4 neighbours) contiguity.
        """
        if int(nrows) < 1 or int(ncols) < 1:
            raise ValueError(f"from_grid needs nrows, ncols >= 1; got {nrows} x {ncols}.")
        nrows, ncols = int(nrows), int(ncols)
        r, c = np.divmod(np.arange(nrows * ncols, dtype=np.int64), ncols)
        steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
        if queen:
            steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
        rows, cols = [], []
        for dr, dc in steps:
            rr, cc = r + dr, c + dc
            ok = (rr >= 0) & (rr < nrows) & (cc >= 0) & (cc < ncols)
            rows.append((r * ncols + c)[ok])
            cols.append((rr * ncols + cc)[ok])
        return cls._from_pairs(nrows * ncols, np.concatenate(rows), np.concatenate(cols))

    @classmethod
    def from_h3(cls, cells: Any, k: int = 1) -> Neighbours:
        """H3 hexagons within ``k`` grid steps of each other (H3 六边形邻接).

        Parameters
        ----------
        cells : array_like of int64
            Distinct valid H3 cell ids of one resolution (e.g. from
            :func:`haizhou.analytics.kde.hexagon_counts`); they become ``ids``.
        k : int, default 1
            Ring distance (``h3.grid_disk``): 1 gives the 6 touching hexagons (5 at a pentagon).

        Raises
        ------
        ValueError
            If a cell is invalid or repeated (naming the first), or ``k < 1``.
        """
        arr = np.asarray(cells, dtype=np.int64).reshape(-1)
        if isinstance(k, bool) or int(k) != k or k < 1:
            raise ValueError(f"from_h3 needs an integer ring distance k >= 1; got {k!r}.")
        valid = is_valid_cell(arr)
        if not valid.all():
            pos = int(np.flatnonzero(~valid)[0])
            raise ValueError(
                f"from_h3: entry {pos} ({int(arr[pos])}) is not a valid H3 cell id; drop "
                "H3_NULL cells (points without coordinates) first."
            )
        order = np.argsort(arr, kind="stable")
        sorted_cells = arr[order]
        dup = np.flatnonzero(sorted_cells[1:] == sorted_cells[:-1])
        if dup.size:
            raise ValueError(
                f"from_h3: cell {format(int(sorted_cells[dup[0]]), 'x')} appears more than "
                "once; give each hexagon once (aggregate counts first)."
            )
        rows: list[int] = []
        disk: list[int] = []
        for i, cell in enumerate(arr.tolist()):
            ring = _h3int.grid_disk(cell, int(k))
            disk.extend(ring)
            rows.extend([i] * len(ring))
        disk_arr = np.asarray(disk, dtype=np.int64)
        pos = np.searchsorted(sorted_cells, disk_arr)
        pos = np.minimum(pos, arr.size - 1)
        found = sorted_cells[pos] == disk_arr
        return cls._from_pairs(
            arr.size, np.asarray(rows, dtype=np.int64)[found], order[pos[found]], ids=arr.copy()
        )

    @classmethod
    def distance_band(cls, x_m: Any, y_m: Any, threshold_m: float) -> Neighbours:
        """Points within ``threshold_m`` metres of each other (距离带邻接), distance <= threshold.

        Parameters
        ----------
        x_m, y_m : array_like of float
            Positions on a projected plane, metres.
        threshold_m : float
            Distance band, metres (> 0).
        """
        x = np.asarray(x_m, dtype=np.float64).reshape(-1)
        y = np.asarray(y_m, dtype=np.float64).reshape(-1)
        if x.size != y.size:
            raise ValueError(f"distance_band: x_m has {x.size} values but y_m has {y.size}.")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("distance_band: coordinates must be finite; drop missing points.")
        if not (np.isfinite(threshold_m) and threshold_m > 0):
            raise ValueError(f"distance_band: threshold_m must be > 0; got {threshold_m!r}.")
        pairs = cKDTree(np.column_stack([x, y])).query_pairs(
            float(threshold_m), output_type="ndarray"
        )
        rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
        cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
        return cls._from_pairs(x.size, rows, cols)

    # ---------------------------------------------------------------------------------------
    # Views

    @property
    def n(self) -> int:
        """Number of sites."""
        return int(self.indptr.size - 1)

    @property
    def cardinalities(self) -> np.ndarray:
        """Number of neighbours of each site (self not counted), int64."""
        return np.diff(self.indptr)

    def neighbours_of(self, i: int) -> np.ndarray:
        """Positions of the neighbours of site ``i`` (sorted)."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def to_sparse(self, *, self_weight: float = 0.0) -> sparse.csr_array:
        """Binary weights as a SciPy CSR array, with ``self_weight`` on the diagonal.

        A new array each call; the structure itself never changes.
        """
        n = self.n
        w = sparse.csr_array(
            (np.ones(self.indices.size), self.indices.copy(), self.indptr.copy()), shape=(n, n)
        )
        if self_weight:
            w = (w + sparse.eye_array(n, format="csr") * float(self_weight)).tocsr()
        return w

    def is_symmetric(self) -> bool:
        """Whether ``j`` is a neighbour of ``i`` exactly when ``i`` is one of ``j``."""
        w = self.to_sparse()
        return (w != w.T).nnz == 0
