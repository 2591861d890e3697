"""Candidate pairs by space-time blocking (候选对 · 时空分块): never all n² pairs.

Two cases are a candidate pair when they are in the same category (if categories are given),
at most ``max_distance_m`` apart, and their occurrence windows are at most ``max_gap_days``
apart (the gap between the windows, 0 when they overlap). :func:`candidate_pairs` returns
exactly those pairs, each once with ``i < j``.

How: per category, cases are put in classes by window width, and a k-d tree over
``(x, y, t_mid · s)`` with ``s = max_distance_m / (max_gap_days + (wa + wb) / 2)`` finds every
pair of classes' points within ``√2 · max_distance_m`` (a ball that holds the space-time
cylinder); the exact test then drops the rest. Long windows get their own class, so one
139-day window does not widen the search for everyone.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from haizhou.analytics.linkage.crimes import CrimeTable

__all__ = ["candidate_pairs", "count_pairs_within_gap", "interval_gap_days"]

_WIDTH_EDGES_DAYS = (1.0, 7.0, 31.0)


def interval_gap_days(
    from_a: np.ndarray, to_a: np.ndarray, from_b: np.ndarray, to_b: np.ndarray
) -> np.ndarray:
    """Gap between two windows in days (0 when they overlap)."""
    return np.maximum(0.0, np.maximum(from_b - to_a, from_a - to_b))


def _within(
    crimes: CrimeTable, i: np.ndarray, j: np.ndarray, max_distance_m: float, max_gap_days: float
) -> np.ndarray:
    d2 = (crimes.x_m[i] - crimes.x_m[j]) ** 2 + (crimes.y_m[i] - crimes.y_m[j]) ** 2
    gap = interval_gap_days(
        crimes.t_from_days[i], crimes.t_to_days[i], crimes.t_from_days[j], crimes.t_to_days[j]
    )
    return (d2 <= max_distance_m * max_distance_m) & (gap <= max_gap_days)


def candidate_pairs(
    crimes: CrimeTable,
    *,
    max_distance_m: float,
    max_gap_days: float,
    use_category: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of cases inside the space-time window (and category), each once.

    Parameters
    ----------
    crimes : CrimeTable
        The cases.
    max_distance_m : float
        Largest distance between the two places, metres (> 0).
    max_gap_days : float
        Largest gap between the two occurrence windows, days (>= 0).
    use_category : bool
        Pair only cases of the same category (when the table has categories).

    Returns
    -------
    i, j : numpy.ndarray of int64
        Rows of the two cases, ``i < j``, sorted by ``(i, j)``.

    Examples
    --------
    >>> t = CrimeTable.from_arrays(crime_id=["a", "b", "c"], x_m=[0, 100, 5000], y_m=[0, 0, 0],
    ...     t_from=[0.0, 3.0, 0.0])
    >>> [a.tolist() for a in candidate_pairs(t, max_distance_m=500, max_gap_days=5)]
    [[0], [1]]
    """
    if not (max_distance_m > 0 and np.isfinite(max_distance_m)):
        raise ValueError(f"max_distance_m must be a finite number > 0; got {max_distance_m!r}.")
    if not (max_gap_days >= 0 and np.isfinite(max_gap_days)):
        raise ValueError(f"max_gap_days must be a finite number >= 0; got {max_gap_days!r}.")
    n = len(crimes)
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    if use_category and crimes.category is not None:
        _, block = np.unique(crimes.category, return_inverse=True)
    else:
        block = np.zeros(n, dtype=np.int64)
    width = crimes.t_to_days - crimes.t_from_days
    width_class = np.searchsorted(np.asarray(_WIDTH_EDGES_DAYS), width, side="left")
    mid_all = crimes.t_mid_days
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    for b in np.unique(block):
        rows_b = np.flatnonzero(block == b)
        mid = np.zeros(n)
        mid[rows_b] = mid_all[rows_b] - mid_all[rows_b].min()
        classes = [rows_b[width_class[rows_b] == k] for k in range(len(_WIDTH_EDGES_DAYS) + 1)]
        classes = [c for c in classes if c.size]
        for ka, rows_a in enumerate(classes):
            for rows_c in classes[ka:]:
                half = 0.5 * (width[rows_a].max() + width[rows_c].max())
                # a time tolerance of (almost) zero would blow the time axis up: floor it at
                # about a second; times are taken from the block's start to keep numbers small
                scale = max_distance_m / max(max_gap_days + half, 1e-5)
                pts_a = np.column_stack(
                    [crimes.x_m[rows_a], crimes.y_m[rows_a], mid[rows_a] * scale]
                )
                radius = np.sqrt(2.0) * max_distance_m * (1 + 1e-6)
                if rows_c is rows_a:
                    pairs = cKDTree(pts_a).query_pairs(radius, output_type="ndarray")
                    pi, pj = rows_a[pairs[:, 0]], rows_a[pairs[:, 1]]
                else:
                    pts_c = np.column_stack(
                        [crimes.x_m[rows_c], crimes.y_m[rows_c], mid[rows_c] * scale]
                    )
                    sdm = cKDTree(pts_a).sparse_distance_matrix(
                        cKDTree(pts_c), radius, output_type="ndarray"
                    )
                    pi, pj = rows_a[sdm["i"]], rows_c[sdm["j"]]
                if pi.size == 0:
                    continue
                keep = _within(crimes, pi, pj, max_distance_m, max_gap_days)
                pi, pj = pi[keep], pj[keep]
                out_i.append(np.minimum(pi, pj))
                out_j.append(np.maximum(pi, pj))
    if not out_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    i = np.concatenate(out_i).astype(np.int64)
    j = np.concatenate(out_j).astype(np.int64)
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    distinct = np.ones(i.size, dtype=bool)
    distinct[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
    return i[distinct], j[distinct]


def count_pairs_within_gap(
    t_from_days: np.ndarray, t_to_days: np.ndarray, max_gap_days: float
) -> int:
    """Number of unordered pairs whose windows are at most ``max_gap_days`` apart (O(n log n)).

    Sorted by start, case ``b`` after ``a`` is within the gap iff
    ``from_b <= to_a + max_gap_days`` (the other condition holds since ``to_b >= from_b >=
    from_a``).

    Examples
    --------
    >>> count_pairs_within_gap(np.array([0., 1., 10.]), np.array([0., 1., 10.]), 2.0)
    1
    """
    order = np.argsort(t_from_days, kind="stable")
    f = np.asarray(t_from_days)[order]
    t = np.asarray(t_to_days)[order]
    hi = np.searchsorted(f, t + max_gap_days, side="right")
    return int(np.maximum(hi - (np.arange(f.size) + 1), 0).sum())
