"""Any small valid config gives a consistent city (property test over scale, seed, start, days)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haizhou.sim import CityConfig, generate_city

configs = st.builds(
    CityConfig,
    scale=st.sampled_from([0.001, 0.005, 0.02]),
    seed=st.integers(0, 2**32 - 1),
    start=st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 12, 31)),
    days=st.integers(1, 120),
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_small_cities_are_consistent(config: CityConfig) -> None:
    city = generate_city(config)
    start = pd.Timestamp(config.start, tz="Asia/Shanghai")
    end = pd.Timestamp(config.start + timedelta(days=config.days), tz="Asia/Shanghai")
    inc = city.incidents
    assert inc["incident_id"].is_unique
    assert ((inc["reported_at"] >= start) & (inc["reported_at"] < end)).all()
    assert (inc["jurisdiction_code"] != "").all()
    area = shapely.union_all(
        [shapely.geometry.shape(f["geometry"]) for f in city.jurisdictions["features"]]
    )
    assert shapely.contains_xy(area, inc["lon"].to_numpy(), inc["lat"].to_numpy()).all()
    cases = city.cases
    assert set(cases["incident_id"]) <= set(inc["incident_id"])
    assert (cases["occurred_from"] <= cases["occurred_to"]).all()
    solved = cases["status"] == "solved"
    assert (cases.loc[solved, "solved_at"] < end).all()
    sightings = city.sightings
    assert ((sightings["seen_at"] >= start) & (sightings["seen_at"] < end)).all()
