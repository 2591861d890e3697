"""The planted structure is really there: profiles, hot spots, near repeats, surges, series, fraud."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from haizhou.geo.projection import LocalProjection
from haizhou.sim import City
from haizhou.sim.catalog import CATEGORY_KEYS, ORIGIN_LON_LAT

PROJ = LocalProjection.around(*ORIGIN_LON_LAT)


def _of(city: City, key: str) -> pd.DataFrame:
    return city.incidents.loc[city.incidents["category_key"] == key]


def _xy(frame: pd.DataFrame) -> np.ndarray:
    x, y = PROJ.forward(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    return np.column_stack([x, y])


def test_categories_use_the_documented_mapping(small_city: City) -> None:
    pairs = set(
        zip(small_city.incidents["category_key"], small_city.incidents["category"], strict=True)
    )
    assert pairs == set(CATEGORY_KEYS.items())


def test_nightlife_peaks_friday_and_saturday_night(small_city: City) -> None:
    t = _of(small_city, "fight")["reported_at"]
    night_of = (t - pd.Timedelta(hours=6)).dt.day_of_week  # 00–05 belongs to the evening before
    hour = t.dt.hour
    late = hour.isin([22, 23, 0, 1])
    weekend_night = late & night_of.isin([4, 5])  # Friday and Saturday nights
    weekday_night = late & night_of.isin([0, 1, 2, 3])
    # per night: Friday/Saturday at least twice Monday–Thursday
    assert weekend_night.sum() / 2 > 2.0 * weekday_night.sum() / 4
    # and late night is the busiest time of day
    by_hour = hour.value_counts().reindex(range(24), fill_value=0)
    assert set(by_hour.nlargest(4).index) <= {21, 22, 23, 0, 1, 2}


def test_home_burglary_is_a_weekday_daytime_crime(small_city: City) -> None:
    b = _of(small_city, "burglary")
    b = b.loc[b["origin"].isin(["burglary_background", "burglary_offspring"])]
    t = b["reported_at"]
    day = t.dt.hour.between(8, 16)
    assert day.mean() > 0.55
    weekday = t.dt.day_of_week < 5
    per_weekday = (weekday & day).sum() / 5
    per_weekend_day = (~weekday & day).sum() / 2
    assert per_weekday > 1.6 * per_weekend_day


def test_traffic_has_commuting_peaks(small_city: City) -> None:
    hours = _of(small_city, "traffic")["reported_at"].dt.hour.value_counts()
    assert hours[8] > 2 * hours[3] and hours[18] > 2 * hours[3]
    assert hours[8] > hours[13] and hours[18] > hours[13]


def test_spring_festival_raises_noise_and_disputes(small_city: City) -> None:
    for key in ("noise", "dispute"):
        t = _of(small_city, key)["reported_at"]
        days = (t.dt.tz_localize(None).dt.normalize() - pd.Timestamp("2024-01-01")).dt.days
        festival = days.between(40, 47).sum() / 8  # 2024-02-10 … 02-17
        around = (days.between(12, 39).sum() + days.between(48, 75).sum()) / 56
        assert festival > 1.15 * around, key


def test_hot_spots_concentrate_their_categories(small_city: City) -> None:
    for feature in small_city.truth.hotspots["features"]:
        props = feature["properties"]
        if props["share"] < 0.05:
            continue
        events = _of(small_city, props["category_key"])
        xy = _xy(events)
        cx, cy = PROJ.forward(*feature["geometry"]["coordinates"])
        d = np.hypot(xy[:, 0] - cx, xy[:, 1] - cy)
        r = props["radius_m"]
        inner = (d < r).sum() / (np.pi * r**2)
        ring = ((d >= 2000) & (d < 3000)).sum() / (np.pi * (3000**2 - 2000**2))
        assert inner > 10 * ring, props["name"]


def _knox_excess(
    frame: pd.DataFrame, rng: np.random.Generator, *, d_m: float = 200.0, t_days: float = 14.0
) -> float:
    """Close pairs (≤ d_m, ≤ t_days) over their mean under time shuffling (Knox 1964)."""
    xy = _xy(frame)
    t = (frame["reported_at"] - frame["reported_at"].min()).dt.total_seconds().to_numpy() / 86400.0
    pairs = cKDTree(xy).query_pairs(d_m, output_type="ndarray")

    def close(times: np.ndarray) -> int:
        return int((np.abs(times[pairs[:, 0]] - times[pairs[:, 1]]) <= t_days).sum())

    observed = close(t)
    shuffled = np.mean([close(rng.permutation(t)) for _ in range(30)])
    return observed / shuffled


def test_burglary_shows_near_repeat_excess(small_city: City) -> None:
    rng = np.random.default_rng(0)
    burglary = _of(small_city, "burglary")
    burglary = burglary.loc[burglary["origin"].isin(["burglary_background", "burglary_offspring"])]
    excess = _knox_excess(burglary, rng)
    assert excess > 1.5
    # a category without self-excitation shows none (same test, same city)
    control = _of(small_city, "theft")
    assert 0.85 < _knox_excess(control.loc[control["origin"] == "background"], rng) < 1.15


def test_near_repeat_truth_matches_the_branching(small_city: City) -> None:
    params = dict(
        zip(
            small_city.truth.near_repeat["parameter"],
            small_city.truth.near_repeat["value"],
            strict=True,
        )
    )
    branching = small_city.truth.burglary_branching
    offspring = (branching["parent_incident_id"] != "").sum()
    assert offspring == params["offspring_events"]
    # branching ratio 0.3: offspring / all ≈ 0.3 (minus the end-of-period loss)
    assert 0.22 < offspring / len(branching) < 0.36
    child = branching.loc[branching["parent_incident_id"] != ""]
    times = small_city.incidents.set_index("incident_id")["reported_at"]
    lag_days = (
        times[child["incident_id"]].to_numpy() - times[child["parent_incident_id"]].to_numpy()
    ) / np.timedelta64(1, "D")
    assert (lag_days > 0).all()
    assert (
        4.5 < np.median(lag_days) < 7.5
    )  # exponential with a 7-day scale: median ≈ 4.9 d + daytime shift


def test_surges_raise_their_category_in_their_jurisdiction(small_city: City) -> None:
    inc = small_city.incidents
    raised = 0
    for s in small_city.truth.surges.itertuples():
        sel = inc.loc[
            (inc["category_key"] == s.category_key) & (inc["jurisdiction_code"] == s.jurisdiction)
        ]
        in_window = sel["reported_at"].between(s.start, s.end, inclusive="left").sum()
        days = (s.end - s.start).days
        outside_rate = (len(sel) - in_window) / (730 - days)
        if in_window > s.multiplier * 0.6 * outside_rate * days:
            raised += 1
    assert raised >= 0.75 * len(small_city.truth.surges)
    surge_rows = small_city.truth.incident_origins["origin"] == "surge"
    assert surge_rows.sum() == small_city.truth.surges["extra_incidents"].sum()


def test_serial_offenders_have_signatures_and_known_solutions(small_city: City) -> None:
    cases = small_city.cases
    profiles = small_city.truth.offender_profiles.set_index("offender_id")
    serial = cases.loc[cases["offender_id"] != ""]
    follows = []
    for offender, group in serial.groupby("offender_id"):
        sig = profiles.loc[offender]
        follows.append((group["entry_method"] == sig["entry_method"]).mean())
        solved = group.loc[group["status"] == "solved"]
        assert (solved["suspect_ids"] == sig["id_number"]).all()
    assert np.mean(follows) > 0.75
    solved_share = (serial["status"] == "solved").mean()
    assert 0.25 < solved_share < 0.5
    # home base: a serial offender's cases cluster around home (journey to crime ≈ 1.2 km)
    home = PROJ.forward(
        profiles.loc[serial["offender_id"], "home_lon"].to_numpy(),
        profiles.loc[serial["offender_id"], "home_lat"].to_numpy(),
    )
    xy = _xy(serial)
    assert 700 < np.median(np.hypot(xy[:, 0] - home[0], xy[:, 1] - home[1])) < 2000


def test_fraud_victims_follow_the_true_risk(small_city: City) -> None:
    persons = small_city.persons
    risk = small_city.truth.fraud_risk.set_index(["age_band", "occupation"])["relative_risk"]
    person_risk = risk.reindex(
        pd.MultiIndex.from_frame(persons[["age_band", "occupation"]])
    ).to_numpy()
    fraud = small_city.cases.loc[small_city.cases["fraud_type"] != ""]
    victim_risk = risk.reindex(
        pd.MultiIndex.from_frame(fraud[["victim_age_band", "victim_occupation"]])
    ).to_numpy()
    assert victim_risk.mean() > 1.15 * person_risk.mean()
    old = fraud["victim_age_band"].isin(["60-69", "70+"])
    assert (fraud.loc[old, "fraud_type"] == "冒充公检法").mean() > 3 * (
        fraud.loc[~old, "fraud_type"] == "冒充公检法"
    ).mean()


def test_repeat_addresses_stand_out(small_city: City) -> None:
    counts = small_city.incidents["address"].value_counts()
    repeats = small_city.truth.repeat_addresses
    typical = counts.quantile(0.99)
    assert typical <= 6
    assert (counts[repeats["address"]].to_numpy() > 3 * typical).all()
    assert (counts[repeats["address"]].to_numpy() >= repeats["n_calls"].to_numpy()).all()


def test_truly_resident_floating_people_are_seen_most_nights(small_city: City) -> None:
    truth = small_city.truth.floating_residents
    sightings = small_city.sightings
    days_seen = (
        sightings.assign(day=sightings["seen_at"].dt.date)
        .groupby("device_or_plate")["day"]
        .nunique()
    )
    seen = days_seen.reindex(truth["device_id"]).fillna(0).to_numpy()
    resident = truth["truly_resident"].to_numpy()
    assert np.median(seen[resident]) >= 18  # of 28 days
    assert np.median(seen[~resident]) <= 3
    assert set(truth["group"]) == {
        "registered_resident",
        "registered_gone",
        "unregistered_resident",
        "visitor",
    }


def test_drone_scenarios_are_labelled_and_plausible(small_city: City) -> None:
    doc = small_city.drone_scenarios
    cx, cy = PROJ.forward(doc["stadium"]["lon"], doc["stadium"]["lat"])
    labels = set()
    permits = {p["permit_id"]: p for p in doc["permits"]}
    for scenario in doc["scenarios"]:
        for obj in scenario["objects"]:
            labels.add(obj["label"])
            traj = obj["trajectory"]
            assert len(traj) >= 60
            x, y = PROJ.forward(
                np.array([p["lon"] for p in traj]), np.array([p["lat"] for p in traj])
            )
            dist = np.hypot(x - cx, y - cy)
            step = np.hypot(np.diff(x), np.diff(y))
            assert step.max() < 40.0  # 1 s samples, no teleporting
            if obj["label"] == "unauthorised":
                assert dist.min() < doc["stadium"]["no_fly_radius_m"] and dist.max() > 1200
                assert obj["permit_id"] is None
            elif obj["label"] == "permitted":
                permit = permits[obj["permit_id"]]
                assert max(p["alt_m"] for p in traj) <= permit["max_alt_m"]
                assert obj["remote_id"] == permit["remote_id"]
            else:
                assert obj["kind"] == "bird" and obj["remote_id"] is None
    assert labels == {"permitted", "unauthorised", "bird"}


def test_serial_cases_are_not_given_away_by_their_time_windows(small_city: City) -> None:
    # a serial offender's cases are known to the same precision as any other case of the
    # category, and every window ends before the call that reported it
    cases = small_city.cases
    hours = (cases["occurred_to"] - cases["occurred_from"]).dt.total_seconds() / 3600
    serial = cases["offender_id"] != ""
    for key in ("burglary", "theft"):
        cat = cases["category_key"] == key
        assert (serial & cat).sum() >= 20
        short_serial = (hours[serial & cat] < 1).mean()
        short_other = (hours[~serial & cat] < 1).mean()
        assert abs(short_serial - short_other) < 0.2, (key, short_serial, short_other)
    reported = small_city.incidents.set_index("incident_id")["reported_at"]
    assert (cases["occurred_to"] < reported.loc[cases["incident_id"]].to_numpy()).all()
