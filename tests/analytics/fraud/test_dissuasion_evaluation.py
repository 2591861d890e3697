"""Scoring the dissuasion ranking on the synthetic warning feed, and the hold-out uplift."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from haizhou.analytics.fraud import prior_risk, warning_features
from haizhou.analytics.fraud.evaluation import (
    evaluate_warning_ranking,
    holdout_uplift,
    warned_rate_ratios,
)
from haizhou.sim import CityConfig, generate_city
from haizhou.sim.fraud_warnings import generate_fraud_warnings, outcomes


@pytest.fixture(scope="module")
def feed():  # type: ignore[no-untyped-def]
    city = generate_city(CityConfig(scale=0.05, seed=5))
    fw = generate_fraud_warnings(city)
    w = fw.warnings.merge(
        city.persons[["id_number", "age_band", "occupation"]], on="id_number", how="left"
    )
    return w, fw.truth


def test_the_warning_model_beats_both_baselines(feed) -> None:  # type: ignore[no-untyped-def]
    w, truth = feed
    y = truth["would_be_victim"].to_numpy()
    ev = evaluate_warning_ranking(w, y, split_at=w["warned_at"].min() + pd.Timedelta(days=365))
    prior, person = ev["baselines"]["prior"], ev["baselines"]["person_only"]
    assert ev["auc"] > prior["auc"] + 0.03 and ev["auc"] > person["auc"] + 0.1
    assert ev["precision_at_100"] > 2 * person["precision_at_100"]
    assert ev["brier"] < ev["brier_base_rate"]
    bands = ev["hit_rate_by_age_band"]
    assert set(bands["group"]) == set(w["age_band"]) and bands["n"].sum() == ev["n_test"]
    assert "age_band" in ev["attributes_used"] and "jurisdiction_code" not in ev["attributes_used"]


def test_rate_ratios_find_risky_transfers_elevated(feed) -> None:  # type: ignore[no-untyped-def]
    w, truth = feed
    t = warned_rate_ratios(w, truth["would_be_victim"])
    kind = t["kind"].set_index("kind")
    assert kind.loc["risky_transfer", "elevated"] and kind.loc["risky_transfer", "rate_ratio"] > 2
    assert kind["cases"].sum() == truth["would_be_victim"].sum()


def test_holdout_uplift_recovers_a_planted_effect_and_finds_none_without_one(feed) -> None:  # type: ignore[no-untyped-def]
    w, truth = feed
    risk = prior_risk(warning_features(w))
    strong = truth.assign(dissuadable=truth["would_be_victim"])  # outreach always works
    up = holdout_uplift(risk, w, lambda r: outcomes(strong, r), share=0.5, seed=1)
    arms = up.pop("assignment")
    assert set(arms.loc[arms["held_out"], "urgency"]) == {"low"}
    assert up["rate_treated"] == 0 and up["ci_high"] < 0 and up["p"] < 0.05
    none = truth.assign(dissuadable=False)
    up0 = holdout_uplift(risk, w, lambda r: outcomes(none, r), share=0.5, seed=1)
    assert up0["ci_low"] < 0 < up0["ci_high"]
    again = holdout_uplift(risk, w, lambda r: outcomes(none, r), share=0.5, seed=1)
    assert (again["assignment"]["held_out"] == up0["assignment"]["held_out"]).all()


def test_split_must_leave_both_sides(feed) -> None:  # type: ignore[no-untyped-def]
    w, truth = feed
    with pytest.raises(ValueError, match="split_at"):
        evaluate_warning_ranking(w, truth["would_be_victim"], split_at=w["warned_at"].min())


def test_cli_evaluate_json(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from haizhou.cli import fraud as cli

    r = CliRunner().invoke(
        cli.app, ["evaluate", "--sim-scale", "0.05", "--holdout-share", "0.3", "--json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["auc"] > out["baselines"]["person_only"]["auc"]
    assert {"precision_at_100", "brier", "hit_rate_by_age_band", "rate_ratios", "uplift"} <= set(
        out
    )
    assert out["uplift"]["n_treated"] + out["uplift"]["n_control"] == out["uplift"]["n_low"]
    assert np.isfinite(out["uplift"]["planted_difference"])
