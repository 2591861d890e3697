"""Fraud victimisation risk (受骗风险预测) and how to score a risk ranking.

:class:`FraudRiskModel` is a calibrated classifier over categorical attributes (age band,
occupation, residence area, warning kind …): one-hot encoding, then logistic regression or
gradient boosting, calibrated with cross-validated isotonic or sigmoid calibration so that the
predicted risk is a probability (Brier score, expected victims). :func:`risk_metrics` gives
AUC, precision at the top k, Brier score and the hit rate by group (fairness: is the ranking
as accurate for the elderly as for the young?).

References
----------
.. [1] Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities with supervised
   learning. ICML, 625–632. doi:10.1145/1102351.1102430
.. [2] Brier, G. W. (1950). Verification of forecasts expressed in terms of probability.
   Monthly Weather Review 78(1), 1–3. doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from haizhou.analytics.base import Estimator, Interval, Options, check_is_fitted, predicate

__all__ = ["FraudRiskModel", "RiskMetrics", "risk_metrics"]


class FraudRiskModel(Estimator):
    """Calibrated fraud-victimisation risk (受骗风险模型).

    Parameters
    ----------
    features : tuple of str, default ("age_band", "occupation")
        Categorical columns used (listed on the model card for fairness review).
    model : {"logistic", "gbm"}, default "logistic"
    calibration : {"isotonic", "sigmoid"}, default "sigmoid"
    cv : int, default 3
        Calibration folds.
    random_state : int or None, default None
        Seed of the gradient boosting (logistic regression is deterministic).

    Attributes
    ----------
    classifier_ : sklearn.calibration.CalibratedClassifierCV
    base_rate_ : float
        Share of positives in the training data.
    features_ : tuple of str

    Examples
    --------
    >>> X = pd.DataFrame({"age_band": ["70+"] * 50 + ["18-29"] * 50})
    >>> y = np.r_[np.tile([1, 0, 0, 0, 0], 10), np.tile([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 5)]
    >>> m = FraudRiskModel(features=("age_band",)).fit(X, y)
    >>> p = m.predict_proba(pd.DataFrame({"age_band": ["70+", "18-29"]}))
    >>> bool(p[0] > p[1])
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "features": [
            predicate(
                lambda v: (
                    isinstance(v, tuple | list)
                    and len(v) > 0
                    and all(isinstance(c, str) for c in v)
                ),
                "a non-empty tuple of column names",
            )
        ],
        "model": [Options(("logistic", "gbm"))],
        "calibration": [Options(("isotonic", "sigmoid"))],
        "cv": [Interval("int", 2, None)],
        "random_state": [Interval("int", 0, None), Options((None,))],
    }

    def __init__(
        self,
        *,
        features: tuple[str, ...] = ("age_band", "occupation"),
        model: str = "logistic",
        calibration: str = "sigmoid",
        cv: int = 3,
        random_state: int | None = None,
    ):
        self.features = features
        self.model = model
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state

    def _matrix(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.features if c not in X.columns]
        if missing:
            raise ValueError(
                f"FraudRiskModel needs column(s) {missing}; it was set up with features "
                f"{list(self.features)}."
            )
        return X[list(self.features)].astype(str)

    def fit(self, X: pd.DataFrame, y: Any) -> FraudRiskModel:
        """Fit on attributes ``X`` and outcome ``y`` (1 = became a victim)."""
        self._check_params()
        Xm = self._matrix(X)
        yy = np.asarray(y).astype(int).reshape(-1)
        if yy.size != len(Xm):
            raise ValueError(f"X has {len(Xm)} rows, y {yy.size}; give one outcome per row.")
        if len(np.unique(yy)) != 2:
            raise ValueError("y must hold both outcomes (some victims and some not).")
        enc = OneHotEncoder(handle_unknown="ignore")
        if self.model == "logistic":
            base = make_pipeline(enc, LogisticRegression(C=1.0, max_iter=1000))
        else:
            from sklearn.preprocessing import OrdinalEncoder

            base = make_pipeline(
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                HistGradientBoostingClassifier(
                    categorical_features=[True] * len(self.features),
                    max_iter=200,
                    learning_rate=0.05,
                    random_state=self.random_state,
                ),
            )
        clf = CalibratedClassifierCV(base, method=self.calibration, cv=self.cv)
        clf.fit(Xm, yy)
        self.classifier_ = clf
        self.base_rate_ = float(yy.mean())
        self.features_ = tuple(self.features)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Risk of becoming a victim, in [0, 1], one per row."""
        check_is_fitted(self)
        return self.classifier_.predict_proba(self._matrix(X))[:, 1]

    def score(self, X: pd.DataFrame, y: Any) -> float:
        """ROC AUC (higher is better)."""
        return float(roc_auc_score(np.asarray(y).astype(int), self.predict_proba(X)))


@dataclass(frozen=True, slots=True, eq=False)
class RiskMetrics:
    """How good a risk ranking is (风险排序评估).

    Attributes
    ----------
    auc : float
        ROC AUC.
    precision_at_k : float
        Share of true cases among the ``k`` highest risks.
    k : int
    brier : float
        Mean squared error of the probabilities (lower is better).
    brier_reference : float
        Brier score of always predicting the base rate (a skill reference).
    base_rate : float
    hit_rate_by_group : pandas.DataFrame
        Per group: ``group, n, positives, flagged, hits, hit_rate`` (share of the flagged
        top ``flag_share`` who are true cases), ``recall`` and ``auc`` (the ranking's AUC within
        the group: how well it orders people of that group).
    """

    auc: float
    precision_at_k: float
    k: int
    brier: float
    brier_reference: float
    base_rate: float
    hit_rate_by_group: pd.DataFrame


def risk_metrics(
    y_true: Any, risk: Any, *, groups: Any = None, k: int = 100, flag_share: float = 0.05
) -> RiskMetrics:
    """AUC, precision at k, Brier score and hit rate by group.

    Parameters
    ----------
    y_true : array_like of {0, 1}
    risk : array_like of float in [0, 1]
    groups : array_like, optional
        Group per row (e.g. age band) for the hit rates.
    k : int, default 100
    flag_share : float, default 0.05
        Share of the highest risks counted as "flagged" for the group hit rates.

    Examples
    --------
    >>> m = risk_metrics([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.3], k=2)
    >>> m.auc, m.precision_at_k
    (1.0, 1.0)
    """
    y = np.asarray(y_true).astype(int).reshape(-1)
    p = np.asarray(risk, dtype=float).reshape(-1)
    if y.size != p.size:
        raise ValueError(f"y_true has {y.size} values, risk {p.size}.")
    order = np.lexsort((np.arange(p.size), -p))
    kk = min(k, p.size)
    prec = float(y[order[:kk]].mean()) if kk else float("nan")
    auc = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")
    base = float(y.mean())
    n_flag = max(1, round(flag_share * p.size))
    flagged = np.zeros(p.size, bool)
    flagged[order[:n_flag]] = True
    g = np.full(p.size, "all", dtype=object) if groups is None else np.asarray(groups, dtype=object)
    df = pd.DataFrame({"group": g, "y": y, "flag": flagged, "hit": flagged & (y == 1)})
    t = df.groupby("group", sort=True).agg(
        n=("y", "size"), positives=("y", "sum"), flagged=("flag", "sum"), hits=("hit", "sum")
    )
    t["hit_rate"] = np.where(
        t["flagged"] > 0, t["hits"] / t["flagged"].where(t["flagged"] > 0), np.nan
    )
    t["auc"] = [
        float(roc_auc_score(sub["y"], sub["p"])) if sub["y"].nunique() == 2 else np.nan
        for _, sub in df.assign(p=p).groupby("group", sort=True)
    ]
    t["recall"] = np.where(
        t["positives"] > 0, t["hits"] / t["positives"].where(t["positives"] > 0), np.nan
    )
    return RiskMetrics(
        auc=auc,
        precision_at_k=prec,
        k=kk,
        brier=float(brier_score_loss(y, np.clip(p, 0, 1))),
        brier_reference=float(np.mean((y - base) ** 2)),
        base_rate=base,
        hit_rate_by_group=t.reset_index(),
    )
