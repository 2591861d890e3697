"""The collective second stage: paths through a third case, and its place in the model."""

from __future__ import annotations

import itertools
import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

import haizhou.analytics.linkage.model as model_module
from haizhou.analytics.linkage.collective import (
    collective_probability,
    path_evidence,
    two_paths,
)
from haizhou.analytics.linkage.model import LinkageModel, _logit
from haizhou.analytics.linkage.synthetic import synthetic_crimes


def _brute_force(n, i, j, p, floor):
    """max_c min(p_ac, p_cb) and 1 - prod_c (1 - p_ac p_cb) by looping over every c."""
    w = np.zeros((n, n))
    w[i, j] = w[j, i] = np.where(p >= floor, p, 0.0)
    best, nor = [], []
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        others = [c for c in range(n) if c not in (a, b) and w[a, c] > 0 and w[c, b] > 0]
        best.append(max((min(w[a, c], w[c, b]) for c in others), default=0.0))
        nor.append(1 - np.prod([1 - w[a, c] * w[c, b] for c in others]))
    return np.array(best), np.array(nor)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_path_evidence_matches_a_loop_over_every_third_case(seed):
    rng = np.random.default_rng(seed)
    n = 12
    a, b = np.triu_indices(n, k=1)
    keep = rng.uniform(size=a.size) < 0.5
    i, j = a[keep], b[keep]
    swap = rng.uniform(size=i.size) < 0.5  # pairs may come as (larger, smaller)
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    p = rng.uniform(size=i.size) ** 2
    best, nor = path_evidence(n, i, j, p, floor=0.05)
    want_best, want_nor = _brute_force(n, i, j, p, 0.05)
    np.testing.assert_allclose(best, want_best)
    np.testing.assert_allclose(nor, want_nor, atol=1e-12)


def test_two_paths_lists_each_path_once():
    # a star: centre 0 with 4 leaves gives C(4, 2) = 6 paths, one per pair of leaves
    key, pa, pb = two_paths(5, np.zeros(4, dtype=int), np.arange(1, 5), np.full(4, 0.5))
    want = sorted(a * 5 + b for a, b in itertools.combinations(range(1, 5), 2))
    assert sorted(key.tolist()) == want
    assert np.all(pa * pb == 0.25)


def test_a_strong_common_neighbour_raises_a_pair():
    # 0-1 and 3-4 have the same own probability; 0 and 1 share the strong neighbour 2
    i = np.array([0, 0, 1, 3, 3, 4])
    j = np.array([1, 2, 2, 4, 5, 5])
    p = np.array([0.1, 0.9, 0.8, 0.1, 0.9, 0.005])
    best, nor = path_evidence(6, i, j, p)
    assert best[0] == pytest.approx(0.8) and nor[0] == pytest.approx(0.72)
    assert best[3] == 0 and nor[3] == 0  # its only third case 5 is below the floor with 4
    q = collective_probability(6, i, j, p)
    assert q[0] > q[3] == pytest.approx(0.1)
    assert np.all(q >= p - 1e-12)  # evidence from paths never lowers a pair


def test_unscored_pairs_are_not_invented():
    # the path 0-1-2 exists but 0-2 is not a scored pair: nothing is returned for it
    best, nor = path_evidence(3, np.array([0, 1]), np.array([1, 2]), np.array([0.9, 0.9]))
    assert best.tolist() == [0.0, 0.0] and nor.tolist() == [0.0, 0.0]


@pytest.fixture(scope="module")
def data():
    return synthetic_crimes(n_offenders=120, seed=3)


BASE = {"learner": "logistic", "max_distance_m": 3000, "max_gap_days": 90, "n_splits": 3}


@pytest.fixture(scope="module")
def collective(data):
    return LinkageModel(**BASE, collective=True, tune_series=True).fit(*data)


def test_collective_model_links_and_round_trips(data, collective):
    crimes, _ = data
    assert collective.collective_ is True
    cv = collective.collective_cv_
    assert set(cv) == {
        "first_roc_auc",
        "collective_roc_auc",
        "first_average_precision",
        "collective_average_precision",
    }
    res = collective.link(crimes)
    first = collective.first_stage_proba(crimes, res.i, res.j)
    assert not np.allclose(res.probability, first)  # the second stage changed something
    assert np.all((res.probability >= 0) & (res.probability <= 1))
    again = pickle.loads(pickle.dumps(collective))
    np.testing.assert_array_equal(again.link(crimes).probability, res.probability)
    # predict_proba on some pairs gives what link gives them (same graph around them)
    k = np.array([0, 5, 17])
    np.testing.assert_allclose(
        collective.predict_proba(crimes, res.j[k], res.i[k]), res.probability[k]
    )


def test_off_is_the_first_stage_and_auto_follows_the_inner_cv(data, collective):
    crimes, _ = data
    off = LinkageModel(**BASE, tune_series=True).fit(*data)
    assert off.collective_ is False and off.collective_cv_ == {}
    res = off.link(crimes)
    np.testing.assert_allclose(res.probability, off.first_stage_proba(crimes, res.i, res.j))
    auto = LinkageModel(**BASE, collective="auto").fit(*data)
    cv = auto.collective_cv_
    assert cv == pytest.approx(collective.collective_cv_)
    assert auto.collective_ == (cv["collective_roc_auc"] > cv["first_roc_auc"])
    with pytest.raises(ValueError, match="collective"):
        LinkageModel(**BASE, collective="yes").fit(*data)


class _Memoriser(ClassifierMixin, BaseEstimator):
    """Scores 0.9 the evidence rows it was trained on and 0.2 any other: an in-sample score
    would show up as 0.9."""

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.array([0, 1])
        self.seen_ = {row.tobytes() for row in np.nan_to_num(np.asarray(X, float))}
        return self

    def predict_proba(self, X):
        rows = np.nan_to_num(np.asarray(X, float))
        p = np.array([0.9 if r.tobytes() in self.seen_ else 0.2 for r in rows])
        return np.column_stack([1 - p, p])


def test_second_stage_is_trained_on_out_of_fold_probabilities(data, monkeypatch):
    monkeypatch.setattr(model_module, "make_learner", lambda name, seed=None: _Memoriser())
    seen: list[np.ndarray] = []

    class Recording(LinkageModel):
        def _fit_collective(self, graphs, *args):
            seen.extend(g["p"] for g in graphs)
            return super()._fit_collective(graphs, *args)

    model = Recording(**BASE, collective=True).fit(*data)
    p = np.concatenate(seen)
    assert p.size > 100
    # every pair of an inner graph was scored by a model that never saw it
    np.testing.assert_allclose(p, model.calibrate(_logit(np.array([0.2])))[0])
    # while the final first stage, in sample, has seen them
    assert model.calibrate(_logit(np.array([0.9])))[0] != pytest.approx(p[0])


def test_cli_records_the_second_stage_and_link_uses_it(tmp_path):
    from tests.conftest import shared_file
    from typer.testing import CliRunner

    from haizhou.cli.linkage import app, load_crimes_csv, load_model

    runner = CliRunner()
    crimes = shared_file("crimelinkage", "crimes.csv")
    offenders = shared_file("crimelinkage", "offenders.csv")
    out = tmp_path / "m.model"
    common = ["--crimes", str(crimes), "--mo-cols", "MO1,MO2,MO3"]
    result = runner.invoke(
        app,
        [
            "train",
            *common,
            "--offenders",
            str(offenders),
            "--model-out",
            str(out),
            "--learner",
            "logistic",
            "--max-distance-m",
            "30000",
            "--collective",
            "on",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["collective"] is True
    meta = json.loads(out.with_name(out.name + ".json").read_text(encoding="utf-8"))
    assert meta["collective"] is True and meta["params"]["collective"] is True
    assert set(meta["collective_cv"]) >= {"first_roc_auc", "collective_roc_auc"}
    pairs = tmp_path / "p.csv"
    result = runner.invoke(
        app, ["link", "--model", str(out), *common, "--pairs-out", str(pairs), "--json"]
    )
    assert result.exit_code == 0, result.output
    model = load_model(out)
    table = load_crimes_csv(crimes, ["MO1", "MO2", "MO3"], crs=None)
    res = model.link(table)
    written = pd.read_csv(pairs)
    np.testing.assert_allclose(
        np.sort(written["probability"].to_numpy()), np.sort(res.probability), atol=1e-6
    )
    bad = runner.invoke(app, ["train", *common, "--offenders", str(offenders), "--collective", "x"])
    assert bad.exit_code != 0 and "--collective" in bad.output
