"""Scoring the determination ring (判定效果评估): precision and recall of a decision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DecisionScore", "score_decisions"]


@dataclass(frozen=True, slots=True)
class DecisionScore:
    """Precision and recall of one decision against truth (or officers' feedback).

    Attributes
    ----------
    true_positive, false_positive, false_negative : int
    precision, recall : float
        NaN when undefined (no prediction, or no true case).
    """

    true_positive: int
    false_positive: int
    false_negative: int
    precision: float
    recall: float


def score_decisions(predicted: Any, actual: Any) -> DecisionScore:
    """Precision and recall from aligned boolean arrays (predicted, actual).

    Examples
    --------
    >>> s = score_decisions([True, True, False, False], [True, False, True, False])
    >>> s.precision, s.recall
    (0.5, 0.5)
    """
    p = np.asarray(predicted, dtype=bool).reshape(-1)
    a = np.asarray(actual, dtype=bool).reshape(-1)
    if p.size != a.size:
        raise ValueError(f"predicted has {p.size} values, actual {a.size}; align them first.")
    tp = int(np.sum(p & a))
    fp = int(np.sum(p & ~a))
    fn = int(np.sum(~p & a))
    return DecisionScore(
        tp,
        fp,
        fn,
        tp / (tp + fp) if tp + fp else float("nan"),
        tp / (tp + fn) if tp + fn else float("nan"),
    )
