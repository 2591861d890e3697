"""Scores of a linkage (串并评估): pairwise AUC / AP, precision@k, series F1 and B-cubed F1.

Pairwise scores are over *all* pairs of the evaluated cases whose windows are within
``max_gap_days`` (365 by default), not only the candidate pairs: a pair the blocking did not
produce has probability 0. Such pairs are never enumerated; they enter as one tied block of
weighted counts, so the scores stay exact at any size.

References
----------
.. [1] Amigó, E., Gonzalo, J., Artiles, J. & Verdejo, F. (2009). A comparison of extrinsic
   clustering evaluation metrics based on formal constraints. Information Retrieval 12(4),
   461–486. doi:10.1007/s10791-008-9066-8 (B-cubed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

__all__ = ["bcubed_f1", "pair_scores", "pairwise_f1", "precision_at_k"]


def pair_scores(
    y_scored: np.ndarray,
    p_scored: np.ndarray,
    *,
    n_pairs_total: int,
    n_linked_total: int,
) -> dict[str, float]:
    """Pairwise ROC AUC and average precision, unscored pairs counted at probability 0.

    Parameters
    ----------
    y_scored, p_scored : numpy.ndarray
        Label (linked) and probability of the scored pairs in the evaluation set.
    n_pairs_total, n_linked_total : int
        All pairs of the evaluation set, and how many of them are linked.

    Returns
    -------
    dict
        ``{"pairwise_auc", "average_precision"}``.

    Examples
    --------
    >>> pair_scores(np.array([1, 0]), np.array([0.9, 0.2]), n_pairs_total=4, n_linked_total=2)
    {'pairwise_auc': 0.625, 'average_precision': 0.75}
    """
    y = np.asarray(y_scored, dtype=bool)
    p = np.asarray(p_scored, dtype=np.float64)
    rest_pos = n_linked_total - int(y.sum())
    rest_neg = (n_pairs_total - n_linked_total) - int((~y).sum())
    if rest_pos < 0 or rest_neg < 0:
        raise ValueError("the scored pairs exceed the totals given; check n_pairs_total.")
    yy = np.r_[y, [True, False]]
    pp = np.r_[p, [0.0, 0.0]]
    ww = np.r_[np.ones(y.size), [rest_pos, rest_neg]]
    keep = ww > 0
    yy, pp, ww = yy[keep], pp[keep], ww[keep]
    if not yy.any() or yy.all():
        return {"pairwise_auc": float("nan"), "average_precision": float("nan")}
    return {
        "pairwise_auc": float(roc_auc_score(yy, pp, sample_weight=ww)),
        "average_precision": float(average_precision_score(yy, pp, sample_weight=ww)),
    }


def precision_at_k(
    i: np.ndarray,
    j: np.ndarray,
    probability: np.ndarray,
    linked: np.ndarray,
    *,
    queries: np.ndarray,
    ks: tuple[int, ...] = (1, 5, 10),
) -> dict[str, float]:
    """Mean precision of each query case's top-k most likely linked cases.

    For each case in ``queries`` (cases with at least one linked case in the evaluation set),
    the other cases are ranked by probability; precision@k is the share of linked cases among
    the first k. Cases with probability 0 (never scored) are never retrieved, so a query with
    fewer than k scored partners gets misses for the rest.

    Examples
    --------
    >>> precision_at_k(np.array([0, 0]), np.array([1, 2]), np.array([0.9, 0.5]),
    ...                np.array([False, True]), queries=np.array([0, 2]), ks=(1,))
    {'1': 0.5}
    """
    frame = pd.DataFrame(
        {
            "q": np.r_[i, j],
            "p": np.r_[probability, probability],
            "hit": np.r_[linked, linked].astype(float),
        }
    )
    frame = frame[frame["p"] > 0]
    frame = frame.sort_values(["q", "p"], ascending=[True, False], kind="stable")
    frame["r"] = frame.groupby("q").cumcount()
    out = {}
    queries = np.unique(queries)
    for k in ks:
        hits = frame[frame["r"] < k].groupby("q")["hit"].sum()
        per_query = hits.reindex(queries, fill_value=0.0).to_numpy() / k
        out[str(k)] = float(per_query.mean()) if per_query.size else float("nan")
    return out


def bcubed_f1(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """B-cubed precision, recall and F1 of a clustering against the true groups.

    Examples
    --------
    >>> bcubed_f1(np.array([0, 0, 1]), np.array([0, 0, 1]))["f1"]
    1.0
    """
    pred = pd.factorize(np.asarray(predicted))[0]
    true = pd.factorize(np.asarray(truth))[0]
    joint = pd.DataFrame({"p": pred, "t": true})
    both = joint.groupby(["p", "t"]).size()
    n_both = both.reindex(pd.MultiIndex.from_arrays([pred, true])).to_numpy()
    n_pred = np.bincount(pred)[pred]
    n_true = np.bincount(true)[true]
    precision = float(np.mean(n_both / n_pred))
    recall = float(np.mean(n_both / n_true))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _same_pairs(labels: np.ndarray) -> int:
    counts = np.bincount(pd.factorize(np.asarray(labels))[0])
    return int((counts * (counts - 1) // 2).sum())


def pairwise_f1(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Pairwise series precision, recall and F1: pairs put together vs pairs truly together.

    Examples
    --------
    >>> pairwise_f1(np.array([0, 0, 0]), np.array([0, 0, 1]))
    {'precision': 0.3333333333333333, 'recall': 1.0, 'f1': 0.5}
    """
    pred = pd.factorize(np.asarray(predicted))[0]
    true = pd.factorize(np.asarray(truth))[0]
    tp = _same_pairs(pred * (true.max() + 1) + true)
    n_pred, n_true = _same_pairs(pred), _same_pairs(true)
    precision = tp / n_pred if n_pred else 1.0
    recall = tp / n_true if n_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}
