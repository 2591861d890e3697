"""The learned linkage model (串并模型): probability that two cases share an offender.

:class:`LinkageModel` is trained on solved cases (two cases of the same offender = linked). Its
training pairs are the candidate pairs of the blocking window among solved cases: every linked
pair, and a weighted sample of the pairs of different offender groups (pairs of the same
co-offending group that share no offender are ambiguous and left out). Linked pairs are
weighted so that each offender group counts about once (Porter 2016), and the two classes get
equal total weight.

Several learners from the linkage literature are compared by cross-validation grouped by
offender group (``GroupKFold`` on the connected components of the case–offender graph, so no
offender is on both sides): Porter & Reich's naive Bayes over binned evidence, logistic
regression, and gradient boosting. The best by ROC AUC over the held-out candidate
pairs is kept, refitted on all pairs, and calibrated (sigmoid or isotonic) on its out-of-fold
scores, weighted back to the real mix of candidate pairs, so ``predict_proba`` is a calibrated
probability for a candidate pair. An optional second stage (``collective``) rescores each
pair as linked directly or through a third case (:mod:`~.collective`), calibrated on the inner
folds' out-of-fold graphs.

References
----------
.. [1] Porter, M. D. (2016). A statistical approach to crime linkage. The American Statistician
   70(2), 152–165. doi:10.1080/00031305.2015.1123185
.. [2] Bennell, C. & Canter, D. V. (2002). Linking commercial burglaries by modus operandi:
   tests using regression and ROC analysis. Science & Justice 42(3), 153–164.
   doi:10.1016/S1355-0306(02)71820-0
.. [3] Tonkin, M., Woodhams, J., Bull, R., Bond, J. W. & Palmer, E. J. (2011). Linking different
   types of crime using geographical and temporal proximity. Criminal Justice and Behavior
   38(11), 1069–1088. doi:10.1177/0093854811418599
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from threadpoolctl import threadpool_limits

from haizhou.analytics.base import Estimator, Interval, Options, check_is_fitted
from haizhou.analytics.linkage.blocking import candidate_pairs
from haizhou.analytics.linkage.collective import collective_probability
from haizhou.analytics.linkage.crimes import CrimeTable, Offenders
from haizhou.analytics.linkage.evidence import (
    NEIGHBOURHOOD_NAMES,
    EvidenceEncoder,
    mo_value_counts,
    mo_value_shares,
    neighbourhood_evidence,
    pair_evidence,
    pair_proximity,
)
from haizhou.analytics.linkage.series import SERIES_THRESHOLDS, choose_series_threshold

__all__ = [
    "AUTO_LEARNERS",
    "LEARNERS",
    "LinkResult",
    "LinkageModel",
    "NaiveBayesBins",
    "linked_pair_keys",
]

LEARNERS = ("naive_bayes", "logistic", "gbm", "blend")
"""Learners a model can use."""

AUTO_LEARNERS = ("naive_bayes", "logistic", "blend")
"""Learners compared by ``learner="auto"`` (plain boosting is left out: the blend holds a
boosted model, and comparing both doubles the boosting time for no gain on the benchmarks)."""

_N_DISTANCES = 4
"""The first evidence columns are distances (space, time, time of day, day of week); the others
are similarities (see :func:`~.evidence.feature_names`)."""


def monotone_signs(names: list[str]) -> list[int]:
    """Per evidence column, the sign monotone boosting keeps: -1 where a larger value means
    less alike (distances, neighbourhood ranks), +1 otherwise (similarities)."""
    distances = {"distance_km", "gap_days", "tod_diff_h", "dow_diff_d"}
    signs = []
    for name in names:
        if name in distances or name.endswith(("_rank_min", "_rank_max")):
            signs.append(-1)
        else:
            signs.append(1)
    return signs


class NaiveBayesBins(ClassifierMixin, BaseEstimator):
    """Naive Bayes over binned evidence with shrinkage (Porter & Reich's ``naiveBayes``).

    Each feature is cut into at most ``n_bins`` quantile bins (a feature with few distinct
    values gets one bin per value; missing values a bin of their own); the weighted counts of
    linked and unlinked pairs per bin get pseudo counts giving ``df`` effective degrees of
    freedom; the log Bayes factors of the features are summed with the prior log odds.

    Parameters
    ----------
    n_bins : int
        Bins per continuous feature (crimelinkage's vignette uses 15).
    df : float
        Effective degrees of freedom of each feature's density (crimelinkage: 10).
    """

    def __init__(self, *, n_bins: int = 15, df: float = 10.0):
        self.n_bins = n_bins
        self.df = df

    def _bins(self, X: np.ndarray) -> np.ndarray:
        B = np.empty(X.shape, dtype=np.int64)
        for k, edges in enumerate(self.edges_):
            col = X[:, k]
            b = np.searchsorted(edges, col, side="right")
            B[:, k] = np.where(np.isnan(col), edges.size + 1, b)
        return B

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(bool)
        w = np.ones(y.size) if sample_weight is None else np.asarray(sample_weight, float)
        self.classes_ = np.array([0, 1])
        edges = []
        for k in range(X.shape[1]):
            col = X[:, k][~np.isnan(X[:, k])]
            uniq = np.unique(col)
            if uniq.size <= self.n_bins:
                e = (uniq[1:] + uniq[:-1]) / 2.0
            else:
                q = np.quantile(col, np.linspace(0, 1, self.n_bins + 1)[1:-1])
                e = np.unique(q)
            edges.append(e)
        self.edges_ = edges
        B = self._bins(X)
        self.log_bf_ = []
        for k, e in enumerate(edges):
            n_levels = e.size + 2  # bins 0..e.size, plus missing
            lk = np.bincount(B[y, k], weights=w[y], minlength=n_levels)
            uk = np.bincount(B[~y, k], weights=w[~y], minlength=n_levels)
            df = min(self.df, n_levels - 1e-8)
            p = []
            for counts in (lk, uk):
                total = counts.sum()
                a = (total / n_levels) * ((n_levels - df) / (df - 1.0)) if df > 1 else 1.0
                p.append((counts + a) / np.sum(counts + a))
            self.log_bf_.append(np.log(p[0]) - np.log(p[1]))
        wl, wu = w[y].sum(), w[~y].sum()
        self.prior_log_odds_ = float(np.log(max(wl, 1e-12) / max(wu, 1e-12)))
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Sum of the features' log Bayes factors plus the prior log odds."""
        B = self._bins(np.asarray(X, dtype=np.float64))
        total = np.full(B.shape[0], self.prior_log_odds_)
        for k, lbf in enumerate(self.log_bf_):
            total += lbf[B[:, k]]
        return total

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])


class MonotoneBoosting(HistGradientBoostingClassifier):
    """Gradient boosting whose score never rises with a distance nor falls with a similarity.

    The constraint (one sign per evidence column, set at fit from the column count) keeps the
    trees' score sensible for pairs unlike the training ones, e.g. far apart in space or time,
    which an unconstrained model may score at random. Sample weights are not used (the classes
    are balanced by ``class_weight``), as for ``"gbm"``. A ``monotonic_cst`` set beforehand
    (see :func:`monotone_signs`) is kept; unset, the first four columns are distances. The
    trees grow on bin numbers: the class-weighted quantile bins are found at fit
    (``bin_edges_``, one sort per column) and evidence is mapped through them when scoring.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MonotoneBoosting:
        X = np.asarray(X, dtype=np.float64)
        n = X.shape[1]
        if self.monotonic_cst is None or len(self.monotonic_cst) != n:
            cst = [-1] * min(_N_DISTANCES, n) + [1] * max(n - _N_DISTANCES, 0)
            self.set_params(monotonic_cst=cst)
        # the bins are found here, in one sort per column: scikit-learn (1.9) finds the weighted
        # quantiles of each column with one sort per quantile, which was half of a fit. They
        # are found on all the training pairs (scikit-learn's on the 90 % it keeps after
        # setting aside its early-stopping pairs), so the model differs a little from before
        weight = (
            np.ones(len(X))
            if self.class_weight is None
            else compute_sample_weight(self.class_weight, np.asarray(y))
        )
        self.bin_edges_ = _weighted_bin_edges(X, weight, int(self.max_bins))
        return super().fit(self._binned(X), y)

    def _binned(self, X: Any) -> np.ndarray:
        """Each column as the number of its bin (NaN kept); unchanged for a model fitted
        before the bins were found here."""
        edges = getattr(self, "bin_edges_", None)
        X = np.asarray(X, dtype=np.float64)
        if edges is None:
            return X
        out = X.copy()
        for k, e in enumerate(edges):
            if e is not None:
                col = X[:, k]
                out[:, k] = np.where(np.isnan(col), np.nan, np.searchsorted(e, col, side="left"))
        return out

    def predict(self, X: Any) -> np.ndarray:
        return super().predict(self._binned(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        return super().predict_proba(self._binned(X))

    def decision_function(self, X: Any) -> np.ndarray:
        return super().decision_function(self._binned(X))


def _weighted_bin_edges(
    X: np.ndarray, weight: np.ndarray, max_bins: int
) -> list[np.ndarray | None]:
    """Per column, the bin edges of gradient boosting with sample weights ``weight``: the
    weighted quantiles ``1/max_bins, 2/max_bins, …`` (averaged inverted CDF, as scikit-learn's
    binning), or None when the column has at most ``max_bins`` values (boosting bins those
    itself). A value ``x`` falls in bin ``i`` when ``edges[i - 1] < x <= edges[i]``."""
    ranks = np.linspace(0.0, 1.0, max_bins + 1)[1:-1]
    out: list[np.ndarray | None] = []
    for k in range(X.shape[1]):
        col = X[:, k]
        ok = ~np.isnan(col)
        order = np.argsort(col[ok], kind="stable")
        values, w = col[ok][order], weight[ok][order]
        if np.unique(values).size <= max_bins:
            out.append(None)
            continue
        cdf = np.cumsum(w)
        target = ranks * cdf[-1]
        idx = np.minimum(np.searchsorted(cdf, target), values.size - 1)
        above = cdf[idx] - target > np.finfo(np.float64).eps
        nxt = np.minimum(idx + 1, values.size - 1)
        out.append(np.unique(np.where(above, values[idx], (values[idx] + values[nxt]) / 2)))
    return out


class BlendLearner(ClassifierMixin, BaseEstimator):
    """The mean of the logit scores of logistic regression and monotone boosting.

    Logistic regression ranks pairs well over the whole window (its score is smooth in distance
    and time); boosting finds the local combinations of evidence that mark a series. Averaging
    their logits keeps both: on crimelinkage it raises AUC and average precision over either.
    ``signs``: the boosted model's monotone sign per column (:func:`monotone_signs`); None:
    the first four columns are distances, the others similarities.
    """

    def __init__(self, *, random_state: int | None = None, signs: list[int] | None = None):
        self.random_state = random_state
        self.signs = signs

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
        self.classes_ = np.array([0, 1])
        self.logistic_ = make_learner("logistic", self.random_state)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        self.logistic_.fit(X, y, **_weights(self.logistic_, w))
        boosting = _monotone_boosting(self.random_state)
        if self.signs is not None:
            boosting.set_params(monotonic_cst=list(self.signs))
        self.boosting_ = boosting.fit(X, y)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        a = _logit(self.logistic_.predict_proba(X)[:, 1])
        b = _logit(self.boosting_.predict_proba(X)[:, 1])
        return 0.5 * (a + b)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])


def _monotone_boosting(random_state: int | None) -> MonotoneBoosting:
    return MonotoneBoosting(
        max_iter=150,
        learning_rate=0.08,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        class_weight="balanced",
        random_state=random_state,
    )


def _log_distances(X: np.ndarray) -> np.ndarray:
    out = np.array(X, dtype=np.float64)
    out[:, :2] = np.log1p(np.maximum(out[:, :2], 0.0))
    return out


def make_learner(name: str, random_state: int | None = None) -> Any:
    """A fresh, unfitted learner by name (one of :data:`LEARNERS`)."""
    if name == "naive_bayes":
        return NaiveBayesBins(n_bins=15, df=10.0)
    if name == "logistic":
        return make_pipeline(
            FunctionTransformer(_log_distances),
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=1.0, max_iter=3000),
        )
    if name == "gbm":
        return HistGradientBoostingClassifier(
            max_iter=80,
            learning_rate=0.1,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            class_weight="balanced",
            random_state=random_state,
        )
    if name == "blend":
        return BlendLearner(random_state=random_state)
    raise ValueError(f"unknown learner {name!r}; use one of {', '.join(LEARNERS)}.")


def linked_pair_keys(offenders: Offenders) -> np.ndarray:
    """Sorted keys ``i * n + j`` (``i < j``) of every pair of cases sharing an offender."""
    n = offenders.n_crimes
    order = np.lexsort((offenders.crime_index, offenders.offender_code))
    code = offenders.offender_code[order]
    crime = offenders.crime_index[order]
    keys = []
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    ends = np.r_[starts[1:], code.size]
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if e - s < 2:
            continue
        members = np.unique(crime[s:e])
        a, b = np.triu_indices(members.size, k=1)
        keys.append(members[a] * n + members[b])
    if not keys:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(keys).astype(np.int64))


@dataclass(frozen=True, slots=True)
class LinkResult:
    """Scored candidate pairs (候选对概率): rows ``i < j`` of the table and their probability.

    A pair not listed was outside the blocking window: its probability is taken as 0.
    """

    i: np.ndarray
    j: np.ndarray
    probability: np.ndarray

    def __len__(self) -> int:
        return int(self.i.size)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p) - np.log1p(-p)


class LinkageModel(Estimator):
    """Learned crime linkage (串并模型): P(two cases share an offender | pair evidence).

    Parameters
    ----------
    learner : {"auto", "naive_bayes", "logistic", "gbm", "blend"}, default "auto"
        The classifier; ``"auto"`` keeps the best of naive Bayes, logistic regression and the
        blend by grouped cross-validation (``"blend"`` averages the logits of logistic
        regression and monotone boosting).
    max_distance_m : float, default 5000
        Blocking: largest distance of a candidate pair, metres.
    max_gap_days : float, default 365
        Blocking: largest gap between the two occurrence windows, days.
    use_category : bool, default True
        Blocking: pair only cases of the same category (when the cases have one).
    max_unlinked : int, default 200000
        At most this many unlinked training pairs (a uniform sample, weighted back).
    n_splits : int, default 5
        Folds of the grouped cross-validation (fewer when there are fewer offender groups).
    calibration : {"sigmoid", "isotonic"}, default "sigmoid"
        How out-of-fold scores become probabilities.
    series_threshold : float, default 0.5
        Least average pair probability inside a series (see :func:`~.series.cluster_series`);
        with ``tune_series`` only the fallback when the inner folds hold no linked pair.
    tune_series : bool, default False
        Choose the series threshold among :data:`~.series.SERIES_THRESHOLDS` by the inner grouped
        cross-validation: the training cases of each inner fold are linked by the model of the
        other folds and clustered, and the threshold with the best pooled B-cubed F1 against
        the offender groups is kept (ties: the higher threshold). Only training cases are used.
    collective : {False, True, "auto"}, default False
        Second stage (see :mod:`~.collective`): rescore each candidate pair as linked directly
        or through a third case, ``1 - (1 - p_ab) prod_c (1 - p_ac p_cb)`` over the first-stage
        probabilities of the pairs around it, then calibrate. The calibrator is fitted on the
        inner folds' cases, each linked among themselves by the first-stage model of the other
        folds (out-of-fold probabilities). ``"auto"`` keeps it only when its ROC AUC over those
        pairs beats the first stage's (ties: off).
    neighbourhood : bool, default False
        Add the neighbourhood-relative evidence of :func:`~.evidence.neighbourhood_evidence`:
        each case's rank among the other's candidate partners by distance and by time gap (as
        a share of its partners), counted over the candidate pairs of the cases linked
        together. Off by default: on the synthetic city it lifts the held-out AUC (0.930 →
        0.936) and average precision (0.176 → 0.206), but it lowers both on crimelinkage (AUC
        0.922 → 0.909; see docs/linkage.md).
    random_state : int or None, default 0
        Seed of the unlinked-pair sample and of gradient boosting.

    Attributes
    ----------
    learner_name_ : str
        The learner kept.
    learner_ : object
        The fitted classifier (on evidence columns ``feature_names_``).
    calibrator_ : object
        Maps the learner's logit score to a probability.
    cv_scores_ : dict
        Per learner compared: ``{"average_precision", "roc_auc"}`` over held-out pairs.
    series_threshold_ : float
        The series threshold to use: tuned with ``tune_series``, else ``series_threshold``.
    series_cv_ : dict
        With ``tune_series``: inner-CV B-cubed F1 per threshold tried (``{"0.3": 0.88, …}``).
    collective_ : bool
        Whether the second stage is used.
    collective_model_ : object or None
        The calibrator of the second stage (logistic on its logit), or None.
    collective_cv_ : dict
        ROC AUC and average precision over the inner folds' candidate pairs (out of fold) of the
        first stage (``first_*``) and of the second stage (``collective_*``); empty when not
        tried.
    feature_names_ : list of str
        Evidence columns.
    mo_names_ : tuple of str
        MO attributes the model expects.
    mo_share_ : tuple of dict
        Share of each MO value among the training cases (rarity).
    mo_counts_ : tuple of dict
        Number of training cases recording each MO value; with ``train_keys_`` (a sorted
        64-bit hash of each training case's id, place and window) it counts rarity at linking
        over the training cases and the new ones (:meth:`mo_shares`).
    n_train_pairs_, n_linked_pairs_ : int
        Candidate pairs among solved cases, and how many are linked.

    Examples
    --------
    >>> from haizhou.analytics.linkage.synthetic import synthetic_crimes
    >>> crimes, offenders = synthetic_crimes(n_offenders=60, seed=1)
    >>> model = LinkageModel(learner="logistic", max_distance_m=3000, max_gap_days=60)
    >>> model.fit(crimes, offenders).learner_name_
    'logistic'
    >>> result = model.link(crimes)
    >>> bool(((result.probability >= 0) & (result.probability <= 1)).all())
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "learner": [Options(("auto", *LEARNERS))],
        "max_distance_m": [Interval("real", 0, None, closed="neither")],
        "max_gap_days": [Interval("real", 0, None, closed="left")],
        "use_category": [Options((True, False))],
        "max_unlinked": [Interval("int", 1, None)],
        "n_splits": [Interval("int", 2, None)],
        "calibration": [Options(("sigmoid", "isotonic"))],
        "series_threshold": [Interval("real", 0, 1, closed="neither")],
        "tune_series": [Options((True, False))],
        "collective": [Options((True, False, "auto"))],
        "neighbourhood": [Options((True, False))],
        "random_state": [Interval("int", 0, None), Options((None,))],
    }

    collective: bool | str = False
    """Class default, so a model pickled before the option existed loads, prints and saves."""
    neighbourhood: bool = False
    """Class default for models pickled before the option existed (they were fitted without)."""

    def __init__(
        self,
        *,
        learner: str = "auto",
        max_distance_m: float = 5000.0,
        max_gap_days: float = 365.0,
        use_category: bool = True,
        max_unlinked: int = 200_000,
        n_splits: int = 5,
        calibration: str = "sigmoid",
        series_threshold: float = 0.5,
        tune_series: bool = False,
        collective: bool | str = False,
        neighbourhood: bool = False,
        random_state: int | None = 0,
    ):
        self.learner = learner
        self.max_distance_m = max_distance_m
        self.max_gap_days = max_gap_days
        self.use_category = use_category
        self.max_unlinked = max_unlinked
        self.n_splits = n_splits
        self.calibration = calibration
        self.series_threshold = series_threshold
        self.tune_series = tune_series
        self.collective = collective
        self.neighbourhood = neighbourhood
        self.random_state = random_state

    # ---------------------------------------------------------------------------------------
    def candidate_pairs(self, crimes: CrimeTable) -> tuple[np.ndarray, np.ndarray]:
        """The blocking of this model's window (see :func:`~.blocking.candidate_pairs`)."""
        return candidate_pairs(
            crimes,
            max_distance_m=float(self.max_distance_m),
            max_gap_days=float(self.max_gap_days),
            use_category=bool(self.use_category),
        )

    def training_pairs(self, crimes: CrimeTable, offenders: Offenders) -> dict[str, np.ndarray]:
        """Training pairs among the solved cases: ``i, j, y, weight, pop_weight, group``.

        ``weight`` balances the classes and the offender groups (for fitting); ``pop_weight``
        weights the sampled unlinked pairs back to the real candidate mix (for calibration and
        model choice); ``group`` is the offender group of each case.
        """
        if offenders.n_crimes != len(crimes):
            raise ValueError(
                f"offenders refer to {offenders.n_crimes} cases but the table has {len(crimes)}; "
                "build them with Offenders.from_pairs(crimes, ...)."
            )
        groups = offenders.groups()
        solved = offenders.solved_mask()
        rows = np.flatnonzero(solved)
        si, sj = self.candidate_pairs(crimes.subset(rows))
        i, j = rows[si], rows[sj]  # rows is increasing, so i < j still holds
        keys = linked_pair_keys(offenders)
        y = np.isin(i * len(crimes) + j, keys)
        ambiguous = ~y & (groups[i] == groups[j])
        i, j, y = i[~ambiguous], j[~ambiguous], y[~ambiguous]
        n_linked = int(y.sum())
        if n_linked == 0:
            raise ValueError(
                "no two solved cases inside the blocking window share an offender, so there is "
                "nothing to learn from: add solved series, or widen max_distance_m / "
                f"max_gap_days (now {self.max_distance_m} m, {self.max_gap_days} days)."
            )
        rng = np.random.default_rng(self.random_state)
        unlinked = np.flatnonzero(~y)
        pop = np.ones(y.size)
        if unlinked.size > self.max_unlinked:
            chosen = np.sort(rng.choice(unlinked, size=int(self.max_unlinked), replace=False))
            rate = self.max_unlinked / unlinked.size
            sel = np.sort(np.r_[np.flatnonzero(y), chosen])
            i, j, y = i[sel], j[sel], y[sel]
            pop = np.where(y, 1.0, 1.0 / rate)
        # each offender group's linked pairs weigh 1 in total (Porter 2016), classes balanced
        g = groups[i]
        per_group = np.bincount(g[y], minlength=int(groups.max()) + 1).astype(np.float64)
        weight = np.where(y, 1.0 / np.maximum(per_group[g], 1.0), 1.0)
        weight[y] *= weight[~y].sum() / weight[y].sum() if (~y).any() else 1.0
        return {"i": i, "j": j, "y": y, "weight": weight, "pop_weight": pop, "group": groups}

    def fit(self, crimes: CrimeTable, offenders: Offenders) -> LinkageModel:
        """Learn from the solved cases of ``crimes`` (those with offenders).

        Parameters
        ----------
        crimes : CrimeTable
            Cases; unsolved ones only count for MO value rarity.
        offenders : Offenders
            Who committed which case (``Offenders.from_pairs(crimes, ...)``).

        Returns
        -------
        self
        """
        self._check_params()
        # one OpenMP thread: on a shared, busy machine boosting's thread pool spins and is
        # many times slower than one thread; the pair work is vectorised NumPy anyway
        with threadpool_limits(limits=1):
            return self._fit(crimes, offenders)

    def _fit(self, crimes: CrimeTable, offenders: Offenders) -> LinkageModel:
        shares = mo_value_shares(crimes)
        encoder = EvidenceEncoder.build(crimes, mo_share=shares)
        tp = self.training_pairs(crimes, offenders)
        X, names = self._pair_evidence(crimes, tp["i"], tp["j"], encoder)
        y, w, pop = tp["y"], tp["weight"], tp["pop_weight"]
        groups = tp["group"]
        # folds over cases, by offender group; a pair is held out when both cases are
        pair_groups = np.unique(groups[np.r_[tp["i"], tp["j"]]])
        n_splits = int(min(self.n_splits, max(2, pair_groups.size)))
        fold_of_case = np.full(len(crimes), -1)
        cases = np.unique(np.r_[tp["i"], tp["j"]])
        gkf = GroupKFold(n_splits=n_splits)
        for f, (_, test) in enumerate(gkf.split(cases, groups=groups[cases])):
            fold_of_case[cases[test]] = f
        fi, fj = fold_of_case[tp["i"]], fold_of_case[tp["j"]]
        names_to_try = AUTO_LEARNERS if self.learner == "auto" else (self.learner,)
        oof: dict[str, np.ndarray] = {}
        scores: dict[str, dict[str, float]] = {}
        fold_models: dict[str, dict[int, Any]] = {}
        held = fi == fj
        for name in names_to_try:
            s = np.full(y.size, np.nan)
            fold_models[name] = {}
            for f in range(n_splits):
                train = (fi != f) & (fj != f)
                test = (fi == f) & (fj == f)
                if not test.any() or y[train].all() or not y[train].any():
                    continue
                est = _with_signs(make_learner(name, self.random_state), names)
                est.fit(X[train], y[train], **_weights(est, w[train]))
                s[test] = _logit(est.predict_proba(X[test])[:, 1])
                fold_models[name][f] = est
            ok = held & np.isfinite(s)
            if ok.sum() and y[ok].any() and (~y[ok]).any():
                scores[name] = {
                    "average_precision": float(
                        average_precision_score(y[ok], s[ok], sample_weight=pop[ok])
                    ),
                    "roc_auc": float(roc_auc_score(y[ok], s[ok], sample_weight=pop[ok])),
                }
            else:
                scores[name] = {"average_precision": float("nan"), "roc_auc": float("nan")}
            oof[name] = s
        ranked = sorted(
            names_to_try,
            key=lambda nm: -np.nan_to_num(scores[nm]["roc_auc"], nan=-1.0),
        )
        best = ranked[0]
        final = _with_signs(make_learner(best, self.random_state), names)
        final.fit(X, y, **_weights(final, w))
        s = oof[best]
        ok = np.isfinite(s)
        if ok.sum() >= 2 and y[ok].any() and (~y[ok]).any():
            # linked pairs are always held out whole (one group, one fold) but only pairs with
            # both cases in the same fold are held out among the unlinked ones (about 1 in
            # n_splits): reweight each class back to its share of all candidate pairs
            cw = pop.copy()
            for cls in (True, False):
                m = y == cls
                cw[m] *= pop[m].sum() / pop[m & ok].sum()
            calib_x, calib_y, calib_w = s[ok], y[ok], cw[ok]
        else:  # too little held out: calibrate in-sample (documented as optimistic)
            calib_x, calib_y, calib_w = _logit(final.predict_proba(X)[:, 1]), y, pop
        if self.calibration == "isotonic":
            calibrator: Any = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            calibrator.fit(calib_x, calib_y.astype(float), sample_weight=calib_w)
        else:
            calibrator = LogisticRegression(C=1e4, max_iter=1000)
            calibrator.fit(calib_x[:, None], calib_y.astype(int), sample_weight=calib_w)
        self.learner_name_ = best
        self.learner_ = final
        self.calibrator_ = calibrator
        self.series_threshold_ = float(self.series_threshold)
        self.series_cv_: dict[str, float] = {}
        self.collective_ = False
        self.collective_model_: Any = None
        self.collective_cv_: dict[str, float] = {}
        if self.tune_series or self.collective is not False:
            graphs = self._inner_graphs(
                crimes, offenders, encoder, groups, fold_of_case, fold_models[best], shares
            )
            if self.collective is not False:
                # the second stage keeps the first stage's base rate (weighted class totals)
                totals = (float(calib_w[~calib_y].sum()), float(calib_w[calib_y].sum()))
                graphs = self._fit_collective(graphs, totals)
            if self.tune_series and graphs:
                best_t, t_scores = choose_series_threshold(
                    [(g["n"], g["i"], g["j"], g["p"], g["truth"]) for g in graphs],
                    SERIES_THRESHOLDS,
                    fallback=float(self.series_threshold),
                )
                self.series_threshold_, self.series_cv_ = best_t, t_scores
        self.cv_scores_ = scores
        self.feature_names_ = names
        self.mo_names_ = tuple(crimes.mo_names)
        self.mo_share_ = shares
        self.mo_counts_ = mo_value_counts(crimes)
        self.train_keys_ = np.sort(_case_keys(crimes))
        self.n_train_pairs_ = int(y.size)
        self.n_linked_pairs_ = int(y.sum())
        return self

    def _inner_graphs(
        self,
        crimes: CrimeTable,
        offenders: Offenders,
        encoder: EvidenceEncoder,
        groups: np.ndarray,
        fold_of_case: np.ndarray,
        fold_models: dict[int, Any],
        shares: tuple[dict[str, float], ...],
    ) -> list[dict[str, Any]]:
        """Each inner fold's cases linked among themselves by the model of the other folds.

        Every candidate pair of the fold is scored (not only the sampled training pairs) and
        calibrated by the final calibrator (fitted on those same out-of-fold scores). Returns
        per fold ``n, i, j`` (fold-local rows), ``p``, ``truth`` (offender group of each case),
        ``y`` (pair shares an offender) and ``ambiguous`` (same group, no shared offender).
        """
        keys = linked_pair_keys(offenders)
        graphs = []
        for f, est in sorted(fold_models.items()):
            rows = np.flatnonzero(fold_of_case == f)
            if rows.size < 2:
                continue
            si, sj = self.candidate_pairs(crimes.subset(rows))
            if si.size:
                if self.neighbourhood:  # counted among the fold's cases, as at link time
                    sub = crimes.subset(rows)
                    enc = EvidenceEncoder.build(sub, mo_share=shares)
                    X, _ = self._pair_evidence(sub, si, sj, enc, context=(si, sj))
                else:
                    X, _ = pair_evidence(crimes, rows[si], rows[sj], encoder=encoder)
                p = self.calibrate(_logit(est.predict_proba(X)[:, 1]))
            else:
                p = np.zeros(0)
            gi, gj = rows[si], rows[sj]
            y = np.isin(gi * len(crimes) + gj, keys)
            graphs.append(
                {
                    "n": int(rows.size),
                    "i": si,
                    "j": sj,
                    "p": p,
                    "truth": groups[rows],
                    "y": y,
                    "ambiguous": ~y & (groups[gi] == groups[gj]),
                }
            )
        return graphs

    def _fit_collective(
        self, graphs: list[dict[str, Any]], class_totals: tuple[float, float]
    ) -> list[dict[str, Any]]:
        """Calibrate the second stage on the inner folds' out-of-fold graphs, decide whether to
        keep it (``collective="auto"``), and return the graphs with the probabilities of the
        stage kept (for tuning the series threshold).

        The second stage (:func:`~.collective.collective_probability`) has no fitted parameter
        and its calibrator is monotone, so its ROC AUC over the pooled inner-fold pairs is a
        held-out figure, comparable with the first stage's on the same pairs. The calibrator
        weighs the unlinked and linked pairs to ``class_totals``, the first stage's calibration
        totals: an inner fold holds about 1 in ``n_splits`` of the unlinked pairs but all the
        linked pairs of its cases, and both stages must give probabilities for the same mix.
        """
        use = [~g["ambiguous"] for g in graphs]
        raw = [collective_probability(g["n"], g["i"], g["j"], g["p"]) for g in graphs]
        y = np.concatenate([g["y"][u] for g, u in zip(graphs, use, strict=True)])
        if not y.any() or y.all():
            return graphs
        p1 = np.concatenate([g["p"][u] for g, u in zip(graphs, use, strict=True)])
        p2 = np.concatenate([r[u] for r, u in zip(raw, use, strict=True)])
        self.collective_cv_ = {
            "first_roc_auc": float(roc_auc_score(y, p1)),
            "collective_roc_auc": float(roc_auc_score(y, p2)),
            "first_average_precision": float(average_precision_score(y, p1)),
            "collective_average_precision": float(average_precision_score(y, p2)),
        }
        cv = self.collective_cv_
        if self.collective == "auto" and not cv["collective_roc_auc"] > cv["first_roc_auc"]:
            return graphs
        w = np.where(y, class_totals[1] / y.sum(), class_totals[0] / (~y).sum())
        calibrator = LogisticRegression(C=1e4, max_iter=1000)
        calibrator.fit(_logit(p2)[:, None], y.astype(int), sample_weight=w)
        self.collective_ = True
        self.collective_model_ = calibrator
        return [
            g | {"p": calibrator.predict_proba(_logit(r)[:, None])[:, 1] if r.size else r}
            for g, r in zip(graphs, raw, strict=True)
        ]

    # ---------------------------------------------------------------------------------------
    def _pair_evidence(
        self,
        crimes: CrimeTable,
        i: Any,
        j: Any,
        encoder: EvidenceEncoder,
        *,
        context: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, list[str]]:
        """:func:`~.evidence.pair_evidence`, plus the neighbourhood evidence when the model
        uses it, counted over ``context`` (the candidate pairs of ``crimes``; blocked here
        when None)."""
        X, names = pair_evidence(crimes, i, j, encoder=encoder)
        if not self.neighbourhood:
            return X, names
        ci, cj = self.candidate_pairs(crimes) if context is None else context
        if context is not None and np.array_equal(ci, i) and np.array_equal(cj, j):
            cX = X
        else:
            cX = pair_proximity(crimes, ci, cj)
        N = neighbourhood_evidence(len(crimes), i, j, X, ci, cj, cX)
        return np.column_stack([X, N]), [*names, *NEIGHBOURHOOD_NAMES]

    def mo_shares(self, crimes: CrimeTable) -> tuple[dict[str, float], ...]:
        """Share of each MO value for linking ``crimes`` (rarity, 罕见度).

        Counted over the training cases and those of ``crimes`` that were not among them, so a
        value means as much as it did at fitting, where the shares counted the scored cases' own
        values: a new offender's values would otherwise look rarer than a training offender's
        did. A case is a training case when its id, place and window are those of one (ids
        alone repeat across files).
        """
        check_is_fitted(self)
        counts = getattr(self, "mo_counts_", None)
        if counts is None:  # a model saved before the counts were kept
            return self.mo_share_
        new = np.flatnonzero(~np.isin(_case_keys(crimes), self.train_keys_))
        return mo_value_shares(crimes, new, add=counts)

    def encoder(self, crimes: CrimeTable) -> EvidenceEncoder:
        """What pair evidence on ``crimes`` needs, with this model's rarity
        (:meth:`mo_shares`): for :meth:`evidence` and for explaining its pairs in words."""
        return EvidenceEncoder.build(crimes, mo_share=self.mo_shares(crimes))

    def evidence(
        self,
        crimes: CrimeTable,
        i: Any,
        j: Any,
        *,
        context: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Evidence rows for pairs of ``crimes`` in this model's feature order.

        ``context``: the candidate pairs of ``crimes`` when already known (the neighbourhood
        evidence is counted over them); None blocks ``crimes`` again when it is needed.
        """
        check_is_fitted(self)
        if tuple(crimes.mo_names) != self.mo_names_:
            raise ValueError(
                f"the model was trained on MO attributes {list(self.mo_names_)} but these cases "
                f"have {list(crimes.mo_names)}; give the same --mo-cols in the same order."
            )
        X, names = self._pair_evidence(crimes, i, j, self.encoder(crimes), context=context)
        if names != self.feature_names_:
            lacking = [n for n in self.feature_names_ if n not in names]
            extra = [n for n in names if n not in self.feature_names_]
            raise ValueError(
                f"evidence does not match the model: missing {lacking}, unexpected {extra}. "
                "Give the cases the same text / property / suspect columns as at training."
            )
        return X

    def predict_proba(self, crimes: CrimeTable, i: Any, j: Any) -> np.ndarray:
        """Calibrated probability that each pair ``(i[k], j[k])`` shares an offender.

        With the second stage, the pairs are scored together with every candidate pair of
        ``crimes`` (the paths around them), so a pair gets what :meth:`link` gives it.

        Returns
        -------
        numpy.ndarray of float64, shape (n_pairs,)
        """
        check_is_fitted(self)
        i = np.asarray(i, dtype=np.int64).reshape(-1)
        j = np.asarray(j, dtype=np.int64).reshape(-1)
        if i.size == 0:
            return np.zeros(0)
        if not getattr(self, "collective_", False):
            return self.first_stage_proba(crimes, i, j)
        # the second stage needs the pairs around: score the candidate pairs with these
        n = len(crimes)
        ci, cj = self.candidate_pairs(crimes)
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        keys, inverse = np.unique(np.r_[ci * n + cj, lo * n + hi], return_inverse=True)
        gi, gj = keys // n, keys % n
        p = self.collective_proba(
            n, gi, gj, self.first_stage_proba(crimes, gi, gj, context=(ci, cj))
        )
        return p[inverse[ci.size :]]

    def first_stage_proba(
        self,
        crimes: CrimeTable,
        i: Any,
        j: Any,
        *,
        context: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """The calibrated first-stage probability of each pair, from its own evidence (and,
        with ``neighbourhood``, its place among the candidate pairs ``context`` of
        ``crimes``)."""
        check_is_fitted(self)
        i = np.asarray(i, dtype=np.int64).reshape(-1)
        if i.size == 0:
            return np.zeros(0)
        return self.calibrate(self.raw_score(self.evidence(crimes, i, j, context=context)))

    def collective_proba(self, n: int, i: np.ndarray, j: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Second-stage probabilities of pairs ``i, j`` of ``n`` cases from the first-stage
        probabilities ``p`` of those pairs (the whole scored graph; others count as 0); ``p``
        itself when the model has no second stage."""
        check_is_fitted(self)
        p = np.asarray(p, dtype=np.float64)
        if not getattr(self, "collective_", False) or p.size == 0:
            return p
        raw = collective_probability(n, i, j, p)
        return self.collective_model_.predict_proba(_logit(raw)[:, None])[:, 1]

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """The learner's logit score for evidence rows (before calibration)."""
        check_is_fitted(self)
        with threadpool_limits(limits=1):
            return _logit(self.learner_.predict_proba(X)[:, 1])

    def calibrate(self, score: np.ndarray) -> np.ndarray:
        """Probabilities from logit scores."""
        check_is_fitted(self)
        if isinstance(self.calibrator_, IsotonicRegression):
            return np.asarray(self.calibrator_.predict(score), dtype=np.float64)
        return self.calibrator_.predict_proba(np.asarray(score)[:, None])[:, 1]

    def link(self, crimes: CrimeTable) -> LinkResult:
        """Score every candidate pair of ``crimes`` (blocking, evidence, probability)."""
        check_is_fitted(self)
        i, j = self.candidate_pairs(crimes)
        p = self.collective_proba(
            len(crimes), i, j, self.first_stage_proba(crimes, i, j, context=(i, j))
        )
        return LinkResult(i=i, j=j, probability=p)

    def score(self, crimes: CrimeTable, offenders: Offenders) -> float:
        """Average precision of the candidate pairs of solved cases (higher is better)."""
        check_is_fitted(self)
        solved = offenders.solved_mask()
        res = self.link(crimes)
        keep = solved[res.i] & solved[res.j]
        y = np.isin(res.i[keep] * len(crimes) + res.j[keep], linked_pair_keys(offenders))
        if not y.any():
            return float("nan")
        return float(average_precision_score(y, res.probability[keep]))


def _with_signs(est: Any, names: list[str]) -> Any:
    """Give a blend learner the monotone signs of the evidence columns ``names``."""
    if isinstance(est, BlendLearner):
        est.set_params(signs=monotone_signs(names))
    return est


def _weights(est: Any, w: np.ndarray) -> dict[str, Any]:
    if isinstance(est, HistGradientBoostingClassifier):
        # sample weights make its binning compute weighted percentiles (slow); the classes are
        # balanced through class_weight instead
        return {}
    if hasattr(est, "steps"):
        return {f"{est.steps[-1][0]}__sample_weight": w}
    return {"sample_weight": w}


def _case_keys(crimes: CrimeTable) -> np.ndarray:
    """A 64-bit hash of each case's id, place and window (which cases a model was trained on)."""
    frame = pd.DataFrame(
        {
            "id": crimes.crime_id,
            "x": crimes.x_m,
            "y": crimes.y_m,
            "from": crimes.t_from_days,
            "to": crimes.t_to_days,
        }
    )
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()
