"""Sensing, comparison and determination rings: hand-made cases, properties, and the sim's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.population import (
    ResidenceModel,
    determine,
    expired,
    night_of,
    presence_profiles,
    resolve_subjects,
    score_decisions,
    sensor_compounds,
    verify_population,
)
from haizhou.errors import NotFittedError


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(
        min_value=pd.Timestamp("2020-01-01").to_pydatetime(),
        max_value=pd.Timestamp("2030-01-01").to_pydatetime(),
    )
)
def test_night_of_follows_the_clock(t):
    ts = pd.Timestamp(t)
    got = night_of(np.array([ts.to_datetime64()]))[0]
    if ts.hour >= 21:
        assert got == np.datetime64(ts.date(), "D")
    elif ts.hour < 6:
        assert got == np.datetime64(ts.date(), "D") - np.timedelta64(1, "D")
    else:
        assert np.isnat(got)


def test_presence_counts_distinct_nights_in_the_window():
    links = pd.DataFrame({"sensor_id": ["S1", "S2", "S3"], "compound": ["A", "A", "B"]})
    s = pd.DataFrame(
        {
            "pseudo_id": ["p"] * 6 + ["q"],
            "sensor_id": ["S1", "S2", "S1", "S3", "S1", "S1", "S3"],
            "seen_at": pd.to_datetime(
                [
                    "2024-05-10 22:00",  # night of 10th at A
                    "2024-05-11 02:00",  # same night, other sensor at A
                    "2024-05-11 23:30",  # night of 11th at A
                    "2024-05-11 23:40",  # night of 11th at B
                    "2024-05-12 12:00",  # daytime
                    "2024-04-01 23:00",  # outside the 14-night window
                    "2024-05-12 03:00",  # q, night of 11th at B
                ]
            ),
        }
    )
    comp, ids = presence_profiles(s, links, now="2024-05-12 12:00", window_nights=14)
    got = {(r.pseudo_id, r.compound): r.nights for r in comp.itertuples()}
    assert got == {("p", "A"): 2, ("p", "B"): 1, ("q", "B"): 1}
    p = ids.set_index("pseudo_id").loc["p"]
    assert p["sightings"] == 6 and p["day_sensors"] == 1 and p["top_day_sensor"] == "S1"
    assert p["first_seen"] == pd.Timestamp("2024-04-01 23:00")


def test_sensor_compounds_within_radius():
    out = sensor_compounds(
        ["S"], [0.0], [0.0], ["A", "B", "C"], [100, 0, 400], [0, 240, 0], radius_m=250
    )
    assert out["compound"].tolist() == ["A", "B"]


def test_residence_model_recovers_a_known_mixture():
    rng = np.random.default_rng(0)
    n = np.r_[rng.binomial(28, 0.4, 3000), rng.binomial(28, 0.03, 7000)]
    m = ResidenceModel(window_nights=28).fit(n)
    assert m.p_resident_ == pytest.approx(0.4, abs=0.01)
    assert m.p_other_ == pytest.approx(0.03, abs=0.005)
    assert m.prior_ == pytest.approx(0.3, abs=0.02)
    p = m.predict_proba(np.arange(29))
    assert np.all(np.diff(p) >= 0)  # more nights, more likely a resident


def test_residence_model_refuses_bad_input():
    with pytest.raises(NotFittedError, match="ResidenceModel"):
        ResidenceModel().predict_proba([1])
    with pytest.raises(ValueError, match="window_nights"):
        ResidenceModel(window_nights=0).fit([0, 3])
    with pytest.raises(ValueError, match="whole numbers"):
        ResidenceModel(window_nights=14).fit([0, 20])


def test_determination_is_explained():
    rng = np.random.default_rng(1)
    m = ResidenceModel(window_nights=14).fit(
        np.r_[rng.binomial(14, 0.6, 300), rng.binomial(14, 0.02, 700)]
    )
    comp = pd.DataFrame(
        {
            "pseudo_id": ["u", "r", "g", "v"],
            "compound": ["X", "Y", "Q", "X"],
            "nights": [11, 9, 1, 1],
        }
    )
    registry = pd.DataFrame(
        {
            "person_id": ["r", "g"],
            "registration": ["temporary", "temporary"],
            "compound": ["Y", "Z"],
        }
    )
    d = determine(comp, ["u", "r", "g", "v"], registry, m).set_index("pseudo_id")
    assert d.loc["u", "decision"] == "unregistered_resident"
    assert (
        d.loc["u", "evidence_en"]
        == "seen at compound X on 11 of the last 14 nights, no registration"
    )
    assert d.loc["u", "evidence_zh"] == "近14晚中有11晚在X被感知，无登记信息"
    assert d.loc["g", "decision"] == "registration_stale" and d.loc["g", "compound"] == "Z"
    assert d.loc["r", "decision"] == "consistent" and d.loc["v", "decision"] == "consistent"
    assert d.loc["u", "score"] > 0.9


def test_resolve_subjects_joins_a_persons_devices():
    s = pd.DataFrame({"pseudo_id": ["mac", "plate", "other"]})
    links = pd.DataFrame({"pseudo_id": ["mac", "plate"], "person_id": ["P", "P"]})
    assert resolve_subjects(s, links)["pseudo_id"].tolist() == ["P", "P", "other"]


def test_retention_deletes_only_old_sightings():
    t = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-20", "2024-02-01"]))
    assert expired(t, now="2024-02-05", retention_days=30).tolist() == [True, False, False]
    with pytest.raises(ValueError, match="retention_days"):
        expired(t, now="2024-02-05", retention_days=0)


def test_unregistered_residents_found_on_the_synthetic_city(sim_population):
    d = sim_population
    links = sensor_compounds(*d["sensors"], *d["compounds"], radius_m=250)
    v = verify_population(
        d["sightings"],
        links,
        d["registry"],
        now=d["now"],
        device_links=d["device_links"],
        window_nights=28,
        threshold=0.9,
    )
    flagged = set(v.decisions.loc[v.decisions["decision"] == "unregistered_resident", "pseudo_id"])
    t = d["truth"]
    pred = t["device"].isin(flagged) | t["plate"].isin(flagged)
    score = score_decisions(pred, t["group"] == "unregistered_resident")
    assert score.true_positive > 30
    assert score.precision >= 0.95
    assert score.recall >= 0.8
    # registered people are never called unregistered
    assert (
        not v.decisions.loc[v.decisions["registered"], "decision"].eq("unregistered_resident").any()
    )
    # only pseudonyms reach the analytics: no MAC address or plate in clear in the output
    assert not v.decisions["pseudo_id"].astype(str).str.contains(":|·").any()
