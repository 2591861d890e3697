"""The evaluation protocol (串并评估协议): cross-validation grouped by offender group.

Solved cases are split into folds with ``GroupKFold`` on offender groups (connected components
of the case–offender graph), so co-offenders' cases stay together and no offender is in both
the training and the test cases. For each fold the model is fitted on the training cases and
scores the test cases on their own:

- pairwise ROC AUC and average precision over every pair of test cases whose windows are within
  365 days (linked = sharing an offender; unscored pairs count as probability 0), pooled over
  folds;
- precision@k (k = 1, 5, 10) of each test case that has a linked test case;
- series: the test cases are clustered (:func:`~.series.cluster_series`) and compared with the
  offender groups: B-cubed F1 and pairwise series F1, pooled over folds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold

from haizhou.analytics.linkage.blocking import count_pairs_within_gap, interval_gap_days
from haizhou.analytics.linkage.crimes import CrimeTable, Offenders
from haizhou.analytics.linkage.metrics import bcubed_f1, pair_scores, pairwise_f1, precision_at_k
from haizhou.analytics.linkage.model import LinkageModel, linked_pair_keys
from haizhou.analytics.linkage.series import cluster_series

__all__ = ["FoldScores", "evaluate_linkage", "grouped_folds", "score_fold"]


def grouped_folds(
    offenders: Offenders, *, n_splits: int = 5
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train, test)`` rows of the solved cases, grouped by offender group."""
    solved = np.flatnonzero(offenders.solved_mask())
    groups = offenders.groups()[solved]
    n_splits = int(min(n_splits, np.unique(groups).size))
    if n_splits < 2:
        raise ValueError("need at least two offender groups to cross-validate.")
    return [
        (solved[tr], solved[te])
        for tr, te in GroupKFold(n_splits=n_splits).split(solved, groups=groups)
    ]


@dataclass(frozen=True, slots=True)
class FoldScores:
    """What one fold contributes to the pooled scores."""

    y_scored: np.ndarray
    p_scored: np.ndarray
    n_pairs_total: int
    n_linked_total: int
    patk_sum: dict[str, float]
    n_queries: int
    series_labels: np.ndarray
    truth_labels: np.ndarray


def score_fold(
    test: CrimeTable,
    test_offenders: Offenders,
    i: np.ndarray,
    j: np.ndarray,
    probability: np.ndarray,
    series_labels: np.ndarray,
    *,
    max_gap_days: float = 365.0,
) -> FoldScores:
    """Scores of one fold's test cases from their scored pairs and series labels."""
    n = len(test)
    keys = linked_pair_keys(test_offenders)
    li, lj = keys // n, keys % n
    gap_l = interval_gap_days(
        test.t_from_days[li], test.t_to_days[li], test.t_from_days[lj], test.t_to_days[lj]
    )
    n_linked_total = int((gap_l <= max_gap_days).sum())
    n_total = count_pairs_within_gap(test.t_from_days, test.t_to_days, max_gap_days)
    gap = interval_gap_days(
        test.t_from_days[i], test.t_to_days[i], test.t_from_days[j], test.t_to_days[j]
    )
    inside = gap <= max_gap_days
    i, j, p = i[inside], j[inside], probability[inside]
    y = np.isin(np.minimum(i, j) * n + np.maximum(i, j), keys)
    queries = np.unique(np.r_[li[gap_l <= max_gap_days], lj[gap_l <= max_gap_days]])
    patk = precision_at_k(i, j, p, y, queries=queries)
    return FoldScores(
        y_scored=y,
        p_scored=p,
        n_pairs_total=n_total,
        n_linked_total=n_linked_total,
        patk_sum={k: v * queries.size for k, v in patk.items()},
        n_queries=int(queries.size),
        series_labels=np.asarray(series_labels),
        truth_labels=test_offenders.groups(),
    )


def pool(folds: list[FoldScores]) -> dict[str, Any]:
    """Pooled scores over folds (pairs pooled; series labels kept apart per fold)."""
    y = np.concatenate([f.y_scored for f in folds])
    p = np.concatenate([f.p_scored for f in folds])
    out: dict[str, Any] = pair_scores(
        y,
        p,
        n_pairs_total=sum(f.n_pairs_total for f in folds),
        n_linked_total=sum(f.n_linked_total for f in folds),
    )
    nq = sum(f.n_queries for f in folds)
    out["precision_at_k"] = {
        k: (sum(f.patk_sum[k] for f in folds) / nq if nq else float("nan"))
        for k in ("1", "5", "10")
    }
    pred = np.concatenate(
        [f.series_labels.astype(np.int64) * len(folds) + k for k, f in enumerate(folds)]
    )
    true = np.concatenate(
        [f.truth_labels.astype(np.int64) * len(folds) + k for k, f in enumerate(folds)]
    )
    out["series_f1"] = pairwise_f1(pred, true)["f1"]
    out["bcubed_f1"] = bcubed_f1(pred, true)["f1"]
    return out


def evaluate_linkage(
    crimes: CrimeTable,
    offenders: Offenders,
    *,
    model: LinkageModel,
    n_splits: int = 5,
    max_gap_days: float = 365.0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Cross-validate ``model`` on the solved cases (see the module notes).

    Returns
    -------
    dict
        ``pairwise_auc, average_precision, precision_at_k {"1","5","10"}, series_f1,
        bcubed_f1, n_crimes, n_offenders, model`` (the learner kept most often, per fold, the
        series threshold of each fold — tuned on its training cases with ``tune_series`` —,
        whether each fold's model kept the collective second stage, and the parameters).
    """
    folds = grouped_folds(offenders, n_splits=n_splits)
    scores: list[FoldScores] = []
    chosen: list[str] = []
    thresholds: list[float] = []
    collective: list[bool] = []
    for k, (train, test) in enumerate(folds):
        m = LinkageModel(**model.get_params()).fit(crimes.subset(train), offenders.subset(train))
        chosen.append(m.learner_name_)
        thresholds.append(m.series_threshold_)
        collective.append(bool(m.collective_))
        tc, to = crimes.subset(test), offenders.subset(test)
        res = m.link(tc)
        labels = cluster_series(
            len(tc), res.i, res.j, res.probability, threshold=m.series_threshold_
        )
        scores.append(
            score_fold(tc, to, res.i, res.j, res.probability, labels, max_gap_days=max_gap_days)
        )
        if progress is not None:
            progress(k + 1, len(folds))
    out = pool(scores)
    solved = offenders.solved_mask()
    out["n_crimes"] = int(solved.sum())
    out["n_offenders"] = int(np.unique(offenders.offender_code).size)
    out["model"] = {
        "learner": Counter(chosen).most_common(1)[0][0],
        "per_fold": chosen,
        "series_thresholds": thresholds,
        "collective": collective,
        "params": model.get_params(),
    }
    return out
