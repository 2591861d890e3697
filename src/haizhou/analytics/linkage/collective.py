"""Collective evidence of a pair (集体证据): what the pairs around it say.

Serial cases are transitive: when case ``a`` is likely linked to ``c`` and ``c`` to ``b``, then
``a`` and ``b`` are more likely linked than their own evidence says. From the first-stage
probabilities of the scored pairs (pairs never scored count as 0) each pair gets the evidence
of the paths ``a - c - b`` through a third case:

- the strongest path, ``max_c min(p_ac, p_cb)``;
- the noisy-OR of the paths, ``1 - prod_c (1 - p_ac p_cb)``: the chance that at least one
  third case is linked to both, were the paths independent.

The second stage (:func:`collective_probability`) is the noisy-OR of the pair's own
probability and its paths, ``1 - (1 - p_ab) prod_c (1 - p_ac p_cb)``: the chance that ``a`` and
``b`` are linked directly or through some ``c``. It has no fitted parameter (the linkage model
only calibrates it), so its ranking cannot overfit the training cases.

Only edges with ``p >= floor`` take part in the paths (weak edges add almost nothing to a
product but many paths), so the work is the number of two-paths among likely edges, never
n². Everything is vectorised: the two-paths are listed per middle case with index arithmetic
and matched to the pairs by sorted keys.
"""

from __future__ import annotations

import numpy as np

__all__ = ["collective_probability", "path_evidence", "two_paths"]

FLOOR = 0.01
"""Least first-stage probability of an edge that takes part in the paths."""


def two_paths(
    n: int, i: np.ndarray, j: np.ndarray, p: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every path ``a - c - b`` (``a < b``) of an undirected weighted graph.

    Parameters
    ----------
    n : int
        Number of nodes.
    i, j : numpy.ndarray of int
        Edges (each listed once, ``i != j``).
    p : numpy.ndarray of float
        Edge weights.

    Returns
    -------
    (key, p_ac, p_cb)
        ``key = a * n + b`` of each path's end pair and the weights of its two edges (in no
        particular order).

    Examples
    --------
    >>> key, pa, pb = two_paths(3, np.array([0, 1]), np.array([1, 2]), np.array([0.5, 0.4]))
    >>> key.tolist(), sorted([float(pa[0]), float(pb[0])])
    ([2], [0.4, 0.5])
    """
    src = np.r_[i, j].astype(np.int64)
    dst = np.r_[j, i].astype(np.int64)
    w = np.r_[p, p].astype(np.float64)
    order = np.argsort(src, kind="stable")
    src, dst, w = src[order], dst[order], w[order]
    deg = np.bincount(src, minlength=n)
    start = np.r_[0, np.cumsum(deg)[:-1]]
    pos = np.arange(src.size) - start[src]  # position of each entry in its middle case's list
    later = deg[src] - 1 - pos  # entries after it in the same list: one path each
    total = int(later.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    first = np.repeat(np.arange(src.size), later)
    offset = np.arange(total) - np.repeat(np.cumsum(later) - later, later)
    second = first + 1 + offset
    a, b = dst[first], dst[second]
    return np.minimum(a, b) * n + np.maximum(a, b), w[first], w[second]


def path_evidence(
    n: int,
    i: np.ndarray,
    j: np.ndarray,
    p: np.ndarray,
    *,
    floor: float = FLOOR,
) -> tuple[np.ndarray, np.ndarray]:
    """The strongest path and the noisy-OR of the paths through a third case, per pair.

    Parameters
    ----------
    n : int
        Number of cases.
    i, j : numpy.ndarray of int
        Scored pairs (each pair once). Pairs not listed count as ``p = 0``.
    p : numpy.ndarray of float
        First-stage probability of each pair.
    floor : float
        Edges below this probability take no part in the paths.

    Returns
    -------
    (best, noisy_or) : numpy.ndarray of float64, each shape (n_pairs,)
        ``max_c min(p_ac, p_cb)`` and ``1 - prod_c (1 - p_ac p_cb)`` (0 without a path).

    Examples
    --------
    >>> i, j = np.array([0, 0, 1, 3]), np.array([1, 2, 2, 4])
    >>> best, nor = path_evidence(5, i, j, np.array([0.3, 0.8, 0.7, 0.3]))
    >>> best.round(2).tolist(), nor.round(2).tolist()
    ([0.7, 0.3, 0.3, 0.0], [0.56, 0.21, 0.24, 0.0])
    """
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    m = i.size
    best = np.zeros(m)
    if m == 0:
        return best, np.zeros(0)
    key = np.minimum(i, j) * n + np.maximum(i, j)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    strong = p >= floor
    pk, pa, pb = two_paths(n, i[strong], j[strong], p[strong])
    if pk.size == 0:
        return best, np.zeros(m)
    at = np.minimum(np.searchsorted(sorted_key, pk), m - 1)
    hit = sorted_key[at] == pk  # a path whose end pair is not scored adds nothing
    row = order[at[hit]]
    pa, pb = pa[hit], pb[hit]
    np.maximum.at(best, row, np.minimum(pa, pb))
    log_none = np.bincount(row, weights=np.log1p(-np.minimum(pa * pb, 1.0 - 1e-12)), minlength=m)
    return best, 0.0 - np.expm1(log_none)


def collective_probability(
    n: int,
    i: np.ndarray,
    j: np.ndarray,
    p: np.ndarray,
    *,
    floor: float = FLOOR,
) -> np.ndarray:
    """``1 - (1 - p_ab) prod_c (1 - p_ac p_cb)``: linked directly or through a third case.

    Parameters are those of :func:`path_evidence`. Not calibrated: the linkage model maps it
    to a probability with a calibrator fitted on out-of-fold graphs.

    Examples
    --------
    >>> i, j = np.array([0, 0, 1, 3]), np.array([1, 2, 2, 4])
    >>> collective_probability(5, i, j, np.array([0.3, 0.8, 0.7, 0.3])).round(3).tolist()
    [0.692, 0.842, 0.772, 0.3]
    """
    p = np.asarray(p, dtype=np.float64)
    _, noisy_or = path_evidence(n, i, j, p, floor=floor)
    return 1.0 - (1.0 - p) * (1.0 - noisy_or)
