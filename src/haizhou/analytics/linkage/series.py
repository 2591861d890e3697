"""Series from linked pairs (系列案聚类), ranked by strength and recency.

Pairs with probability at or above a threshold form a graph; each connected component is then
refined by average-linkage hierarchical clustering on ``1 - p`` (pairs never scored count as
``p = 0``) cut at ``1 - threshold``: a series is a group whose average pair probability is at
least the threshold. This is Porter & Reich's hierarchical series clustering (average linkage
on the pair score), run only inside components, so it never builds an n × n matrix of all cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from haizhou.analytics.linkage.crimes import CrimeTable
from haizhou.analytics.linkage.metrics import bcubed_f1

__all__ = [
    "SERIES_THRESHOLDS",
    "SeriesTable",
    "choose_series_threshold",
    "cluster_series",
    "rank_series",
]

_MAX_DENSE = 3000

SERIES_THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(1, 19))
"""Series thresholds tried by :func:`choose_series_threshold` by default (0.05, 0.10, …, 0.90)."""

LinkGraph = tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""``(n, i, j, probability, truth)``: scored pairs of ``n`` cases and their true groups."""


def cluster_series(
    n: int,
    i: np.ndarray,
    j: np.ndarray,
    probability: np.ndarray,
    *,
    threshold: float = 0.5,
) -> np.ndarray:
    """Series label of each of ``n`` cases (singletons get their own label).

    Parameters
    ----------
    n : int
        Number of cases.
    i, j : numpy.ndarray of int
        Scored pairs.
    probability : numpy.ndarray of float
        Probability of each pair sharing an offender.
    threshold : float
        Least average probability within a series, in (0, 1).

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        Labels ``0 .. n_series - 1``, larger series first.

    Examples
    --------
    >>> cluster_series(4, np.array([0, 1, 2]), np.array([1, 2, 3]),
    ...                np.array([0.9, 0.8, 0.1])).tolist()
    [0, 0, 1, 2]
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1); got {threshold!r}.")
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    p = np.asarray(probability, dtype=np.float64)
    labels = np.arange(n, dtype=np.int64)
    _cluster(np.arange(n), i, j, p, threshold, labels, depth=0)
    # renumber: larger series first, then by first member
    _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.lexsort((np.arange(counts.size), -counts))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inv].astype(np.int64)


def choose_series_threshold(
    graphs: Sequence[LinkGraph],
    thresholds: Sequence[float] = SERIES_THRESHOLDS,
    *,
    fallback: float = 0.5,
) -> tuple[float, dict[str, float]]:
    """The series threshold whose clusters best match the true groups (pooled B-cubed F1).

    Meant for held-out folds of *training* cases (inner cross-validation): never pass the cases
    a model is evaluated on.

    Parameters
    ----------
    graphs : sequence of (n, i, j, probability, truth)
        One scored graph per fold: ``n`` cases, pairs ``i, j`` with their probability, and each
        case's true group (offender group). Folds are clustered and scored apart, then pooled.
    thresholds : sequence of float
        Candidates, each in (0, 1).
    fallback : float
        Returned when no fold has two cases of one group (nothing to learn from).

    Returns
    -------
    (float, dict)
        The best threshold (ties go to the higher, more conservative one) and the B-cubed F1 of
        each candidate, keyed ``f"{t:g}"``.

    Examples
    --------
    >>> g = (4, np.array([0, 2, 0]), np.array([1, 3, 2]), np.array([0.4, 0.35, 0.2]),
    ...      np.array([0, 0, 1, 1]))
    >>> choose_series_threshold([g], (0.1, 0.3, 0.5))[0]
    0.3
    """
    graphs = [g for g in graphs if g[0] >= 1]
    truth = [np.asarray(g[4]) for g in graphs]
    if not any(np.unique(t).size < t.size for t in truth):
        return float(fallback), {}
    true = np.concatenate([pd.factorize(t)[0] * len(graphs) + k for k, t in enumerate(truth)])
    best_t, best_f1, scores = float(fallback), -1.0, {}
    for t in sorted(thresholds, reverse=True):
        pred = np.concatenate(
            [
                cluster_series(n, i, j, p, threshold=t) * len(graphs) + k
                for k, (n, i, j, p, _) in enumerate(graphs)
            ]
        )
        f1 = bcubed_f1(pred, true)["f1"]
        scores[f"{t:g}"] = float(f1)
        if f1 > best_f1 + 1e-12:
            best_t, best_f1 = float(t), f1
    return best_t, scores


def _cluster(
    members: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    p: np.ndarray,
    threshold: float,
    labels: np.ndarray,
    depth: int,
) -> None:
    strong = p >= threshold
    si, sj = i[strong], j[strong]
    local = np.full(labels.size, -1, dtype=np.int64)
    local[members] = np.arange(members.size)
    graph = coo_matrix(
        (np.ones(si.size), (local[si], local[sj])), shape=(members.size, members.size)
    )
    n_comp, comp = connected_components(graph, directed=False)
    sizes = np.bincount(comp, minlength=n_comp)
    # every pair inside one component, grouped by component once (not one scan per component)
    li, lj = local[i], local[j]
    ok = (li >= 0) & (lj >= 0)
    ok[ok] = comp[li[ok]] == comp[lj[ok]]
    pair_comp = np.where(ok, comp[np.maximum(li, 0)], -1)
    order = np.argsort(pair_comp, kind="stable")
    order = order[pair_comp[order] >= 0]
    bounds = np.searchsorted(pair_comp[order], np.arange(n_comp + 1))
    member_order = np.argsort(comp, kind="stable")
    member_bounds = np.searchsorted(comp[member_order], np.arange(n_comp + 1))
    for c in np.flatnonzero(sizes >= 2):
        rows = np.sort(members[member_order[member_bounds[c] : member_bounds[c + 1]]])
        sel = order[bounds[c] : bounds[c + 1]]
        ci, cj, cp = i[sel], j[sel], p[sel]
        if rows.size == 2:
            labels[rows] = rows[0]
            continue
        if rows.size > _MAX_DENSE and depth < 6:
            # too big for a dense matrix: split with a stricter edge threshold first
            _cluster(rows, ci, cj, cp, threshold + (1 - threshold) / 2, labels, depth + 1)
            continue
        if rows.size > _MAX_DENSE:
            labels[rows] = rows[0]
            continue
        dense = np.ones((rows.size, rows.size))
        a, b = np.searchsorted(rows, ci), np.searchsorted(rows, cj)
        dense[a, b] = dense[b, a] = 1.0 - cp
        np.fill_diagonal(dense, 0.0)
        iu = np.triu_indices(rows.size, k=1)
        tree = linkage(dense[iu], method="average")
        cut = fcluster(tree, t=1.0 - threshold + 1e-12, criterion="distance")
        for k in np.unique(cut):
            grp = rows[cut == k]
            labels[grp] = grp[0]


@dataclass(frozen=True, slots=True)
class SeriesTable:
    """Ranked series (系列案排序) — a table of series with at least two cases.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``series_id, n_crimes, strength, first_days, last_days, recency, score, rank,
        members``: strength is the mean pair probability inside the series (unscored pairs 0);
        recency ``0.5 ** ((now - last) / half_life_days)``; score = strength × recency;
        members are the case rows in time order (for drawing the series as linked points).
    """

    frame: pd.DataFrame


def rank_series(
    crimes: CrimeTable,
    labels: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    probability: np.ndarray,
    *,
    now_days: float,
    half_life_days: float = 90.0,
) -> SeriesTable:
    """Rank the series of ``labels`` by strength and recency.

    Parameters
    ----------
    crimes : CrimeTable
        The cases the labels belong to.
    labels : numpy.ndarray of int
        From :func:`cluster_series`.
    i, j, probability : numpy.ndarray
        The scored pairs.
    now_days : float
        Reference time, days since 1970-01-01 (pass it in: no clock is read).
    half_life_days : float
        Age at which a series' recency weight halves.
    """
    labels = np.asarray(labels)
    same = labels[i] == labels[j]
    psum = np.bincount(labels[i][same], weights=probability[same], minlength=labels.max() + 1)
    counts = np.bincount(labels, minlength=labels.max() + 1)
    mid = crimes.t_mid_days
    rows = []
    for s in np.flatnonzero(counts >= 2):
        members = np.flatnonzero(labels == s)
        members = members[np.argsort(mid[members], kind="stable")]
        k = members.size
        strength = psum[s] / (k * (k - 1) / 2)
        last = float(crimes.t_to_days[members].max())
        recency = 0.5 ** (max(now_days - last, 0.0) / half_life_days)
        rows.append(
            {
                "series_id": int(s),
                "n_crimes": int(k),
                "strength": float(strength),
                "first_days": float(crimes.t_from_days[members].min()),
                "last_days": last,
                "recency": float(recency),
                "score": float(strength * recency),
                "members": crimes.crime_id[members].tolist(),
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "series_id",
            "n_crimes",
            "strength",
            "first_days",
            "last_days",
            "recency",
            "score",
            "members",
        ],
    )
    frame = frame.sort_values(["score", "n_crimes"], ascending=False, ignore_index=True)
    frame.insert(len(frame.columns) - 1, "rank", np.arange(1, len(frame) + 1))
    return SeriesTable(frame=frame)
