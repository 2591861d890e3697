"""The learned linkage model on a generator with a known truth."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from haizhou.analytics.linkage.crimes import CrimeTable
from haizhou.analytics.linkage.evidence import mo_value_counts, mo_value_shares
from haizhou.analytics.linkage.model import LinkageModel, NaiveBayesBins, linked_pair_keys
from haizhou.analytics.linkage.synthetic import synthetic_crimes
from haizhou.errors import NotFittedError


@pytest.fixture(scope="module")
def data():
    return synthetic_crimes(n_offenders=120, seed=3)


@pytest.fixture(scope="module")
def fitted(data):
    crimes, offenders = data
    return LinkageModel(learner="logistic", max_distance_m=3000, max_gap_days=90).fit(
        crimes, offenders
    )


def test_linked_pairs_score_higher_on_new_cases(fitted):
    crimes, offenders = synthetic_crimes(n_offenders=120, seed=4)  # other offenders
    res = fitted.link(crimes)
    y = np.isin(res.i * len(crimes) + res.j, linked_pair_keys(offenders))
    assert y.sum() > 20
    assert roc_auc_score(y, res.probability) > 0.9
    assert np.all((res.probability >= 0) & (res.probability <= 1))


def test_probabilities_are_calibrated_on_candidate_pairs(fitted):
    crimes, offenders = synthetic_crimes(n_offenders=120, seed=5)
    res = fitted.link(crimes)
    y = np.isin(res.i * len(crimes) + res.j, linked_pair_keys(offenders))
    # the mean probability tracks the share of linked candidate pairs (not the 50/50 of the
    # balanced training weights)
    assert res.probability.mean() == pytest.approx(y.mean(), abs=0.05)
    top = res.probability > 0.8
    assert y[top].mean() > 0.6


def test_auto_compares_three_learners(data):
    crimes, offenders = data
    model = LinkageModel(max_distance_m=3000, max_gap_days=90, max_unlinked=3000, n_splits=3)
    model.fit(crimes, offenders)
    assert set(model.cv_scores_) == {"naive_bayes", "logistic", "blend"}
    best = max(model.cv_scores_, key=lambda k: model.cv_scores_[k]["roc_auc"])
    assert model.learner_name_ == best
    assert all(0.8 < s["roc_auc"] <= 1 for s in model.cv_scores_.values())


def test_tune_series_picks_the_threshold_from_training_cases_only(data):
    crimes, offenders = data
    base = {"learner": "logistic", "max_distance_m": 3000, "max_gap_days": 90, "n_splits": 3}
    tuned = LinkageModel(**base, tune_series=True).fit(crimes, offenders)
    fixed = LinkageModel(**base).fit(crimes, offenders)
    assert fixed.series_threshold_ == 0.5 and fixed.series_cv_ == {}
    scores = tuned.series_cv_
    assert len(scores) == 18 and all(0 < v <= 1 for v in scores.values())
    # the kept threshold is the best inner-CV B-cubed (ties: the highest)
    best = max(scores.values())
    assert tuned.series_threshold_ == max(float(t) for t, v in scores.items() if v == best)
    # same learner and probabilities: tuning changes only the series threshold
    res_t, res_f = tuned.link(crimes), fixed.link(crimes)
    np.testing.assert_allclose(res_t.probability, res_f.probability)


def test_naive_bayes_learns_direction_of_each_feature():
    rng = np.random.default_rng(0)
    y = rng.uniform(size=4000) < 0.3
    X = np.column_stack(
        [
            np.where(y, rng.exponential(1, 4000), rng.exponential(5, 4000)),
            np.where(rng.uniform(size=4000) < 0.1, np.nan, y.astype(float)),
        ]
    )
    nb = NaiveBayesBins().fit(X, y)
    near, far = nb.predict_proba(np.array([[0.1, 1.0], [10.0, 0.0]]))[:, 1]
    assert near > 0.9 > 0.1 > far
    # a missing value is its own bin, not an error
    assert np.isfinite(nb.decision_function(np.array([[1.0, np.nan]]))).all()


def test_contract(data, fitted):
    crimes, _ = data
    with pytest.raises(NotFittedError, match="LinkageModel"):
        LinkageModel().link(crimes)
    with pytest.raises(ValueError, match="'learner' parameter of LinkageModel"):
        LinkageModel(learner="svm").fit(*data)
    with pytest.raises(ValueError, match="max_distance_m"):
        LinkageModel(max_distance_m=-1).fit(*data)
    assert clone(fitted).get_params() == fitted.get_params()
    again = pickle.loads(pickle.dumps(fitted))
    i, j = np.array([0, 1]), np.array([2, 3])
    assert np.array_equal(again.predict_proba(crimes, i, j), fitted.predict_proba(crimes, i, j))


def test_mo_mismatch_is_explained(fitted):
    other = CrimeTable.from_arrays(
        crime_id=["a", "b"], x_m=[0, 1], y_m=[0, 1], t_from=[0.0, 1.0], mo={"colour": ["r", "g"]}
    )
    with pytest.raises(ValueError, match="same --mo-cols"):
        fitted.link(other)


def test_no_series_in_training_data_is_explained():
    crimes, offenders = synthetic_crimes(n_offenders=30, mean_crimes=1.0, seed=1)
    with pytest.raises(ValueError, match="share an offender"):
        LinkageModel(learner="logistic").fit(crimes, offenders)


def test_neighbourhood_evidence_in_the_model(data):
    crimes, offenders = data
    model = LinkageModel(
        learner="blend", max_distance_m=3000, max_gap_days=90, neighbourhood=True
    ).fit(crimes, offenders)
    assert model.feature_names_[-4:] == [
        "distance_rank_min",
        "distance_rank_max",
        "gap_rank_min",
        "gap_rank_max",
    ]
    # ranks are distance-like for the monotone boosted half of the blend
    assert list(model.learner_.boosting_.monotonic_cst[-4:]) == [-1, -1, -1, -1]
    new, new_offenders = synthetic_crimes(n_offenders=120, seed=4)
    res = model.link(new)
    y = np.isin(res.i * len(new) + res.j, linked_pair_keys(new_offenders))
    assert roc_auc_score(y, res.probability) > 0.9
    # a few pairs scored alone get what link gives them (ranks counted over all candidates)
    pick = np.arange(0, len(res), max(len(res) // 50, 1))
    p = model.predict_proba(new, res.i[pick], res.j[pick])
    np.testing.assert_allclose(p, res.probability[pick])


def test_rarity_at_linking_counts_each_case_once(data):
    crimes, offenders = data
    first = np.arange(len(crimes) // 2)
    model = LinkageModel(learner="logistic", max_distance_m=3000, max_gap_days=90)
    model.fit(crimes.subset(first), offenders.subset(first))
    # linking the training cases themselves: rarity as at fitting
    assert model.mo_shares(crimes.subset(first)) == model.mo_share_
    # the training and the new cases together, or the new ones alone: each case counted once
    whole = mo_value_shares(crimes)
    assert model.mo_shares(crimes) == whole
    assert model.mo_shares(crimes.subset(np.arange(first.size, len(crimes)))) == whole
    assert whole != model.mo_share_
    # the same ids for other cases (another file): they are new cases
    other, _ = synthetic_crimes(n_offenders=40, seed=9)
    assert set(other.crime_id) <= set(crimes.crime_id[first])
    train_counts = mo_value_counts(crimes.subset(first))
    assert model.mo_shares(other) == mo_value_shares(other, add=train_counts)
    assert model.mo_shares(other) != model.mo_share_


def test_boosting_bins_are_the_class_weighted_quantiles():
    from haizhou.analytics.linkage.model import _weighted_bin_edges

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 1))
    # unit weights: the edges are the plain quantiles
    edges = _weighted_bin_edges(x, np.ones(4000), 16)[0]
    ranks = np.linspace(0, 100, 17)[1:-1]
    expected = np.percentile(x[:, 0], ranks, method="averaged_inverted_cdf")
    np.testing.assert_allclose(edges, expected)
    # a rare class weighing as much as the common one: half of the edges fall among its values
    x = np.r_[rng.uniform(0, 1, 200), rng.uniform(1, 2, 3800)][:, None]
    weight = np.r_[np.full(200, 4000 / 400), np.full(3800, 4000 / 7600)]
    edges = _weighted_bin_edges(x, weight, 16)[0]
    assert (edges <= 1).sum() in (7, 8)
    # few distinct values (and NaN): left to boosting
    assert _weighted_bin_edges(np.array([[0.0], [1.0], [np.nan]]), np.ones(3), 16) == [None]


def test_boosting_scores_raw_evidence_through_its_bins(data):
    from haizhou.analytics.linkage.model import MonotoneBoosting

    crimes, offenders = data
    model = LinkageModel(learner="blend", max_distance_m=3000, max_gap_days=90).fit(
        crimes, offenders
    )
    boosting = model.learner_.boosting_
    assert isinstance(boosting, MonotoneBoosting)
    assert any(e is not None for e in boosting.bin_edges_)
    X = model.evidence(crimes, *model.candidate_pairs(crimes))
    binned = boosting._binned(X)
    assert np.nanmax(binned[:, 0]) <= boosting.max_bins  # distances became bin numbers
    # the trees were grown on bin numbers: raw evidence is scored through the same bins
    p = boosting.predict_proba(X)[:, 1]
    on_bins = HistGradientBoostingClassifier.predict_proba(boosting, binned)[:, 1]
    np.testing.assert_array_equal(p, on_bins)
    assert not np.array_equal(p, HistGradientBoostingClassifier.predict_proba(boosting, X)[:, 1])
