"""Coverage figures, blind spots and sensor health."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.coverage import (
    blind_spots,
    coverage_by_jurisdiction,
    demand_points,
    road_samples,
    sensor_health,
)
from haizhou.domain import Level


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500)), min_size=2, max_size=6),
    st.floats(1, 50),
)
def test_road_samples_add_up_to_the_road_length(coords, step):
    line = shapely.LineString(coords)
    if line.length == 0:
        return
    x, y, length = road_samples([line], step_m=step)
    assert length.sum() == pytest.approx(line.length, rel=1e-9)
    assert np.all(length <= step + 1e-9) and np.all(length > 0)
    assert np.all(shapely.distance(shapely.points(x, y), line) < 1e-6)


def test_road_share_counts_metres_not_samples():
    lines = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 50), (300, 50)])]
    x, y, length = road_samples(lines, step_m=10)
    seen = y < 1  # the first road only
    out = coverage_by_jurisdiction(
        {"road": seen}, {"road": np.full(x.size, "A")}, weights={"road": length}
    )
    assert out.loc[out["jurisdiction_code"] == "A", "road_share"].item() == pytest.approx(0.25)


def test_blind_spots_rank_uncovered_weight():
    rng = np.random.default_rng(0)
    x = np.r_[rng.uniform(0, 200, 30), rng.uniform(1000, 1200, 10), rng.uniform(2000, 2200, 40)]
    y = np.r_[rng.uniform(0, 200, 30), rng.uniform(0, 200, 10), rng.uniform(0, 200, 40)]
    covered = np.r_[np.zeros(30, bool), np.zeros(10, bool), np.ones(40, bool)]
    b = blind_spots(x, y, covered, cell_size_m=200, min_weight=5)
    assert b["uncovered"].tolist() == [30.0, 10.0]
    assert b["level"].iat[0] in (Level.RED, Level.ORANGE)


def test_demand_points_pool_and_weight():
    d = demand_points(
        [1, 2, 3, 60], [1, 1, 1, 60], ["robbery", "noise", "noise", "theft"], cell_size_m=25
    )
    assert d["weight"].tolist() == [6.0, 2.0]
    assert d["x_m"].iat[0] == pytest.approx((5 * 1 + 0.5 * 2 + 0.5 * 3) / 6)


def _events(rng, sensor, start, days, per_day, stop_after=None):
    n = rng.poisson(per_day * days)
    t = start + pd.to_timedelta(np.sort(rng.uniform(0, days, n)), unit="D")
    if stop_after is not None:
        t = t[t < start + pd.Timedelta(days=stop_after)]
    return pd.DataFrame({"sensor_id": sensor, "seen_at": t})


def test_sensor_health_finds_silent_and_collapsed_sensors():
    rng = np.random.default_rng(5)
    start = pd.Timestamp("2024-03-01")
    frames = [_events(rng, f"OK{i}", start, 35, 200) for i in range(5)]
    frames.append(_events(rng, "SILENT", start, 35, 200, stop_after=33))
    quiet = pd.concat(
        [
            _events(rng, "DROP", start, 28, 200),
            _events(rng, "DROP", start + pd.Timedelta(days=28), 7, 20),
        ]
    )
    frames.append(quiet)
    ev = pd.concat(frames, ignore_index=True)
    sensors = pd.DataFrame(
        {"sensor_id": [f"OK{i}" for i in range(5)] + ["SILENT", "DROP", "NEW"], "kind": "camera"}
    )
    h = sensor_health(ev, sensors, now=start + pd.Timedelta(days=35)).set_index("sensor_id")
    assert h.loc["SILENT", "status"] == "silent"
    assert h.loc["DROP", "status"] == "volume_collapse"
    assert h.loc["NEW", "status"] == "silent"
    assert (h.loc[[f"OK{i}" for i in range(5)], "status"] == "ok").all()
    assert "usually reports within" in h.loc["SILENT", "reason"]
