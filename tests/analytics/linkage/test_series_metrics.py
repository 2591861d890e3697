"""Series clustering and the scores, against brute-force definitions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from haizhou.analytics.linkage.crimes import CrimeTable
from haizhou.analytics.linkage.metrics import bcubed_f1, pair_scores, pairwise_f1
from haizhou.analytics.linkage.series import choose_series_threshold, cluster_series, rank_series


def test_average_linkage_keeps_weak_chains_apart():
    # 0-1 strong, 1-2 strong: average(0-2 unscored = 0, 1-2 0.8) < 0.5 keeps 2 out of {0, 1}
    labels = cluster_series(5, np.array([0, 1, 3]), np.array([1, 2, 4]), np.array([0.9, 0.8, 0.7]))
    assert labels[0] == labels[1] != labels[2]
    assert labels[3] == labels[4]
    assert len(set(labels.tolist())) == 3


def test_dense_clique_is_one_series_and_below_threshold_splits():
    i, j = np.triu_indices(4, k=1)
    p = np.full(i.size, 0.9)
    assert len(set(cluster_series(4, i, j, p).tolist())) == 1
    assert len(set(cluster_series(4, i, j, np.full(i.size, 0.3)).tolist())) == 4


def test_rank_series_prefers_recent_and_strong():
    t = CrimeTable.from_arrays(
        crime_id=list("abcd"), x_m=np.zeros(4), y_m=np.zeros(4), t_from=[0.0, 1.0, 300.0, 301.0]
    )
    labels = np.array([0, 0, 1, 1])
    i, j, p = np.array([0, 2]), np.array([1, 3]), np.array([0.95, 0.8])
    table = rank_series(t, labels, i, j, p, now_days=302.0).frame
    assert table["members"].iloc[0] == ["c", "d"]  # recent beats slightly stronger but old
    assert table["rank"].tolist() == [1, 2]
    assert table["strength"].tolist() == pytest.approx([0.8, 0.95])


def test_bcubed_and_pairwise_f1_by_hand():
    pred = np.array([0, 0, 0, 1])
    true = np.array([0, 0, 1, 1])
    b = bcubed_f1(pred, true)
    # precision: (2/3 + 2/3 + 1/3 + 1) / 4, recall: (1 + 1 + 1/2 + 1/2) / 4
    assert b["precision"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    assert b["recall"] == pytest.approx(0.75)
    f = pairwise_f1(pred, true)
    assert (f["precision"], f["recall"]) == pytest.approx((1 / 3, 1 / 2))


def test_pair_scores_equal_full_enumeration():
    rng = np.random.default_rng(4)
    n = 30
    pairs = list(itertools.combinations(range(n), 2))
    y = rng.uniform(size=len(pairs)) < 0.1
    p = np.where(rng.uniform(size=len(pairs)) < 0.3, rng.uniform(size=len(pairs)), 0.0)
    p[y & (rng.uniform(size=len(pairs)) < 0.5)] += 0.3
    scored = p > 0
    got = pair_scores(y[scored], p[scored], n_pairs_total=len(pairs), n_linked_total=int(y.sum()))
    assert got["pairwise_auc"] == pytest.approx(roc_auc_score(y, p))
    assert got["average_precision"] == pytest.approx(average_precision_score(y, p))


def _reference_series(n, i, j, p, threshold):
    """Slow and obvious: dense matrix of all cases, components, average linkage per component."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    strong = p >= threshold
    graph = coo_matrix((np.ones(strong.sum()), (i[strong], j[strong])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    dist = np.ones((n, n))
    dist[i, j] = dist[j, i] = 1 - p
    np.fill_diagonal(dist, 0)
    out = np.arange(n)
    for c in np.unique(comp):
        rows = np.flatnonzero(comp == c)
        if rows.size < 2:
            continue
        if rows.size == 2:
            out[rows] = rows[0]
            continue
        sub = dist[np.ix_(rows, rows)][np.triu_indices(rows.size, 1)]
        cut = fcluster(linkage(sub, "average"), t=1 - threshold + 1e-12, criterion="distance")
        for q in np.unique(cut):
            out[rows[cut == q]] = rows[cut == q][0]
    return out


def test_cluster_series_matches_dense_reference():
    rng = np.random.default_rng(0)
    for _ in range(60):
        n = int(rng.integers(2, 40))
        m = int(rng.integers(0, 3 * n))
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        keys = np.unique(np.minimum(a, b)[a != b] * n + np.maximum(a, b)[a != b])
        i, j = keys // n, keys % n
        p = rng.uniform(0, 1, i.size)
        got = cluster_series(n, i, j, p, threshold=0.4)
        ref = _reference_series(n, i, j, p, 0.4)
        # the same partition (labels may differ)
        pairs = set(zip(got.tolist(), ref.tolist(), strict=True))
        assert len(pairs) == len(set(got.tolist())) == len(set(ref.tolist()))


def _graph(n, pairs, truth):
    i, j, p = (np.array(x) for x in zip(*pairs, strict=True))
    return (n, i, j, p, np.array(truth))


def test_choose_series_threshold_finds_the_cut_between_true_and_false_pairs():
    # two hand-made folds: true series pairs at 0.30-0.40, false pairs at 0.10-0.20, so any
    # cut in (0.20, 0.30] recovers the series; ties go to the highest such cut
    a = _graph(
        5, [(0, 1, 0.4), (1, 2, 0.35), (0, 2, 0.3), (2, 3, 0.2), (3, 4, 0.1)], [0, 0, 0, 1, 2]
    )
    b = _graph(4, [(0, 1, 0.32), (1, 2, 0.15), (2, 3, 0.3)], [0, 0, 1, 1])
    best, scores = choose_series_threshold([a, b], (0.1, 0.15, 0.25, 0.3, 0.5))
    assert best == 0.3
    assert scores["0.3"] == pytest.approx(1.0) and scores["0.25"] == pytest.approx(1.0)
    assert scores["0.5"] < 1.0  # everything alone: recall lost
    assert scores["0.1"] < 1.0  # the 0.1-0.2 chains pull false cases in
    # the series found at the chosen cut are the true ones
    assert cluster_series(*a[:4], threshold=best).tolist()[:3] == [0, 0, 0]


def test_choose_series_threshold_prefers_merging_when_only_merging_helps():
    # a clique of weak but true pairs: only a low cut joins it
    i, j = np.triu_indices(4, k=1)
    g = (5, i, j, np.full(i.size, 0.12), np.array([0, 0, 0, 0, 1]))
    best, scores = choose_series_threshold([g], (0.1, 0.2, 0.5))
    assert best == 0.1 and scores["0.1"] == pytest.approx(1.0)


def test_choose_series_threshold_falls_back_without_any_series():
    g = _graph(3, [(0, 1, 0.9), (1, 2, 0.8)], [0, 1, 2])
    assert choose_series_threshold([g], (0.1, 0.5), fallback=0.4) == (0.4, {})
