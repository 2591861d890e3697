"""Fraud rates, rate ratios, risk model and uplift: formulas, references and the sim's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.fraud import (
    FraudRiskModel,
    assign_holdout,
    empirical_bayes_rates,
    high_risk_areas,
    rank_warnings,
    rate_ratios,
    risk_metrics,
    uplift,
)
from haizhou.analytics.spatial_stats import Neighbours
from haizhou.sim import CityConfig, generate_city


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 5000)), min_size=2, max_size=30))
def test_eb_rates_lie_between_raw_and_mean(rows):
    y = np.array([r[0] for r in rows], float)
    n = np.array([r[1] for r in rows], float)
    r = empirical_bayes_rates(y, n)
    lo = np.minimum(r.raw, r.mean) - 1e-12
    hi = np.maximum(r.raw, r.mean) + 1e-12
    assert np.all((r.smoothed >= lo) & (r.smoothed <= hi))
    assert np.all((r.shrinkage >= 0) & (r.shrinkage <= 1))
    # bigger areas keep more of their own rate
    order = np.argsort(n)
    assert np.all(np.diff(r.shrinkage[order]) >= -1e-12)


def test_eb_matches_marshall_by_hand():
    y = np.array([2.0, 30, 5, 60])
    n = np.array([100.0, 1000, 500, 2000])
    m = y.sum() / n.sum()
    s2 = np.sum(n * (y / n - m) ** 2) / n.sum() - m / n.mean()
    c = s2 / (s2 + m / n)
    r = empirical_bayes_rates(y, n)
    assert r.variance == pytest.approx(s2)
    assert r.smoothed == pytest.approx(m + c * (y / n - m))


def test_rate_ratio_ci_exact_and_wald_agree_for_large_counts():
    f = pd.DataFrame({"g": ["a", "b"], "cases": [400, 200], "population": [10000, 10000]})
    ex = rate_ratios(f, ["g"]).set_index("g")
    wa = rate_ratios(f, ["g"], method="wald").set_index("g")
    assert ex.loc["a", "rate_ratio"] == pytest.approx(2.0)
    assert ex.loc["a", "ci_low"] == pytest.approx(wa.loc["a", "ci_low"], rel=0.02)
    assert ex.loc["a", "ci_high"] == pytest.approx(wa.loc["a", "ci_high"], rel=0.02)
    # Wald by hand: exp(log 2 ± 1.96 sqrt(1/400 + 1/200))
    se = np.sqrt(1 / 400 + 1 / 200)
    assert wa.loc["a", "ci_low"] == pytest.approx(2 * np.exp(-1.959964 * se), rel=1e-5)
    assert bool(ex.loc["a", "elevated"]) and not bool(ex.loc["b", "elevated"])


def test_exact_rate_ratio_interval_covers_at_its_level():
    rng = np.random.default_rng(2)
    hits = 0
    for _ in range(150):
        a, b = rng.poisson(3.0), rng.poisson(6.0)  # equal rates: true RR 1
        f = pd.DataFrame({"g": ["x", "y"], "cases": [a, b], "population": [1000, 2000]})
        t = rate_ratios(f, ["g"]).set_index("g")
        hits += t.loc["x", "ci_low"] <= 1.0 <= t.loc["x", "ci_high"]
    assert hits / 150 >= 0.92  # exact intervals are conservative


def test_high_risk_areas_flag_a_planted_cluster():
    nb = Neighbours.from_grid(6, 6, queen=True)
    pop = np.full(36, 2000.0)
    rate = np.full(36, 0.005)
    hot = [14, 15, 20, 21]
    rate[hot] = 0.03
    cases = np.random.default_rng(4).poisson(rate * pop)
    out = high_risk_areas(np.arange(36), cases, pop, nb, permutations=199, random_state=1)
    flagged = set(out.loc[out["level"].notna(), "area"])
    assert set(hot) & flagged
    assert out["eb_rate"].is_monotonic_decreasing


def test_rank_warnings_orders_by_expected_loss_and_sets_deadlines():
    w = pd.DataFrame(
        {
            "pseudo_id": list("abcdefghij"),
            "risk": np.linspace(0.1, 1.0, 10),
            "potential_loss": [1e4] * 10,
            "jurisdiction_code": ["J1"] * 10,
        }
    )
    r = rank_warnings(w, now=pd.Timestamp("2024-05-01 09:00"))
    assert r["pseudo_id"].tolist()[:2] == ["j", "i"]
    assert r["urgency"].tolist().count("high") == 1 and r["urgency"].tolist().count("medium") == 3
    assert r.loc[0, "deadline"] == pd.Timestamp("2024-05-01 10:00")
    assert set(r.loc[r["urgency"] == "low", "talk_group"]) == {"J1"}


def test_holdout_and_uplift_measure_a_planted_effect():
    rng = np.random.default_rng(9)
    urgency = np.array(["low"] * 20000 + ["high"] * 1000, dtype=object)
    held = assign_holdout(urgency, share=0.3, random_state=3)
    assert not held[urgency == "high"].any()
    assert held.sum() == pytest.approx(0.3 * 20000, rel=0.05)
    low = urgency == "low"
    base = 0.04
    outcome = rng.uniform(size=urgency.size) < np.where(held, base, base * 0.5)
    u = uplift(outcome[low], ~held[low])
    assert u.difference == pytest.approx(-0.02, abs=0.006)
    assert u.ci_high < 0 and u.p < 0.001
    assert u.ci_low < u.difference < u.ci_high
    # no effect: the interval covers 0
    null = uplift(rng.uniform(size=low.sum()) < base, ~held[low])
    assert null.ci_low < 0 < null.ci_high


def test_risk_metrics_by_hand():
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05])
    m = risk_metrics(y, p, groups=list("aabbaabbab"), k=3, flag_share=0.3)
    assert m.precision_at_k == pytest.approx(2 / 3)
    assert m.brier == pytest.approx(np.mean((p - y) ** 2))
    t = m.hit_rate_by_group.set_index("group")
    assert t.loc["a", "flagged"] == 2 and t.loc["a", "hits"] == 1
    assert t.loc["b", "hit_rate"] == 1.0


@pytest.fixture(scope="module")
def city():
    return generate_city(CityConfig(scale=0.1))


def test_risk_model_on_the_synthetic_city(city):
    p = city.persons
    f = city.cases[city.cases["category_key"] == "fraud"]
    mid = f["occurred_from"].min() + pd.Timedelta(days=365)
    y1 = p["id_number"].isin(f.loc[f["occurred_from"] < mid, "victim_id"]).astype(int)
    y2 = p["id_number"].isin(f.loc[f["occurred_from"] >= mid, "victim_id"]).astype(int)
    model = FraudRiskModel(random_state=0).fit(p, y1)
    risk = model.predict_proba(p)
    m = risk_metrics(y2, risk, groups=p["age_band"], k=100)
    truth = p.merge(city.truth.fraud_risk, on=["age_band", "occupation"], how="left")
    ceiling = risk_metrics(y2, truth["relative_risk"] / truth["relative_risk"].max() * 0.1).auc
    assert m.auc > 0.55  # a real signal (ages and occupations differ up to ~10x)
    assert m.auc > ceiling - 0.03  # close to what the true risk itself achieves
    assert m.brier <= m.brier_reference  # calibrated: no worse than the base rate
    assert abs(risk.mean() - y1.mean()) < 0.01
    assert set(m.hit_rate_by_group["group"]) == set(p["age_band"])


def test_rate_ratio_table_recovers_the_planted_age_effect(city):
    p, f = city.persons, city.cases[city.cases["category_key"] == "fraud"]
    pop = p.groupby("age_band").size().rename("population")
    cases = f.groupby("victim_age_band").size().rename("cases")
    t = pd.concat([pop, cases], axis=1).fillna(0).rename_axis("age_band").reset_index()
    rr = rate_ratios(t, ["age_band"]).set_index("age_band")
    # the generator's age factors: 18-29 is the highest, 50-59 the lowest
    assert rr["rate_ratio"].idxmax() == "18-29" and rr.loc["18-29", "elevated"]
    assert rr["rate_ratio"].idxmin() == "50-59"
