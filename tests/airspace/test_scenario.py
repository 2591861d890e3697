"""Scenario simulator: seeded, truthful, sensor-specific, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from haizhou.airspace.scenario import (
    ScenarioError,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    simulate,
)


def small(duration_s=120.0, **over) -> dict:
    data = {
        "name": "tiny",
        "start": "2026-05-01T19:00:00+08:00",
        "duration_s": duration_s,
        "centre": {"lon": 119.228, "lat": 34.58},
        "asset": {"name": "stadium", "lon": 119.228, "lat": 34.58},
        "zones": [{"name": "event", "kind": "event", "x_m": 0, "y_m": 0, "circle_m": 800}],
        "objects": [
            {
                "object_id": "RID",
                "kind": "drone",
                "profile": "approach_hover",
                "remote_id": True,
                "spawn_radius_m": 1500,
                "radius_m": 300,
                "speed_mps": 12,
            },
            {"object_id": "DARK", "kind": "drone", "profile": "transit", "spawn_radius_m": 1500},
            {
                "object_id": "SILENT",
                "kind": "drone",
                "profile": "loiter",
                "rf_link": False,
                "x_m": 500,
                "y_m": 0,
            },
            {"object_id": "GULL", "kind": "bird", "profile": "flocking", "count": 2},
            {
                "object_id": "JET",
                "kind": "manned",
                "profile": "straight",
                "speed_mps": 70,
                "alt_m": 600,
                "spawn_radius_m": 4000,
            },
        ],
        "sensors": [
            {"sensor_id": "radar", "kind": "radar", "false_alarms_per_scan": 0.5},
            {"sensor_id": "rf", "kind": "rf", "period_s": 2},
            {"sensor_id": "rid", "kind": "remote_id"},
            {"sensor_id": "adsb", "kind": "adsb", "range_m": 50000},
        ],
    }
    data.update(over)
    return data


def test_builtin_scenarios_load():
    names = builtin_scenarios()
    assert {"stadium_match_day", "school", "mixed_sensors"} <= set(names)
    stadium = load_scenario("stadium_match_day")
    assert (stadium.asset.lon, stadium.asset.lat) == (
        119.228,
        34.58,
    )  # as in haizhou.sim's catalogue
    assert {z.kind for z in stadium.zones} >= {"event", "hospital", "airport_approach"}


def test_same_seed_same_run_and_sensor_mix_keeps_truth():
    sc = parse_scenario(small())
    a, b = simulate(sc, seed=4), simulate(sc, seed=4)
    assert a.detections == b.detections and np.array_equal(a.positions, b.positions, equal_nan=True)
    c = simulate(sc, seed=5)
    assert not np.array_equal(a.positions, c.positions, equal_nan=True)
    radar_only = simulate(sc.with_sensors(("radar",)), seed=4)
    assert np.array_equal(a.positions, radar_only.positions, equal_nan=True)
    assert [d for d in a.detections if d.sensor_id == "radar"] == list(radar_only.detections)


def test_each_sensor_sees_only_what_it_can():
    sim = simulate(parse_scenario(small()), seed=1)
    kind = {o.object_id: o for o in sim.objects}
    by_sensor: dict[str, set] = {}
    for d, origin in zip(sim.detections, sim.origins, strict=True):
        by_sensor.setdefault(d.sensor_kind, set()).add(origin)
    assert by_sensor["rf"] <= {o for o, t in kind.items() if t.rf_link}
    assert "SILENT" not in by_sensor["rf"] and "DARK" in by_sensor["rf"]
    assert by_sensor["remote_id"] == {"RID"}
    assert by_sensor["adsb"] == {"JET"}
    assert None in by_sensor["radar"]  # clutter
    rid = [d for d in sim.detections if d.sensor_kind == "remote_id"]
    assert all(d.serial == kind["RID"].serial and d.pilot_lon is not None for d in rid)


def test_detections_are_near_the_truth_and_time_ordered():
    sim = simulate(parse_scenario(small()), seed=2)
    times = [d.time_s for d in sim.detections]
    assert times == sorted(times)
    index = {o.object_id: i for i, o in enumerate(sim.objects)}
    d2 = []
    for d, origin in zip(sim.detections, sim.origins, strict=True):
        if origin is None or d.model.kind != "position":
            continue
        e = np.asarray(d.measurement) - sim.positions[index[origin], int(d.time_s)]
        d2.append(float(e @ np.linalg.solve(d.model.matrix, e)))
    # the noise matches each detection's stated covariance: chi-square with 3 dof
    d2 = np.asarray(d2)
    assert len(d2) > 500
    assert np.mean(d2 <= 11.345) > 0.97  # 99 % quantile
    assert np.mean(d2) == pytest.approx(3.0, rel=0.2)


def test_radar_pd_falls_with_range_and_occlusion_blocks():
    base = small(duration_s=300.0)
    base["objects"] = [
        {
            "object_id": "T",
            "kind": "drone",
            "profile": "transit",
            "count": 30,
            "spawn_radius_m": 4800,
            "radius_m": 3000,
            "speed_mps": 15,
        }
    ]
    base["sensors"] = [{"sensor_id": "radar", "kind": "radar", "range_m": 5000, "range50_m": 2500}]
    sim = simulate(parse_scenario(base), seed=0)
    seen = {(d.time_s, o) for d, o in zip(sim.detections, sim.origins, strict=True)}
    near = far = near_hit = far_hit = 0
    for i, o in enumerate(sim.objects):
        for ti, t in enumerate(sim.times_s):
            p = sim.positions[i, ti]
            if np.isnan(p[0]):
                continue
            r = np.hypot(p[0], p[1])
            hit = (float(t), o.object_id) in seen
            if r < 1500:
                near, near_hit = near + 1, near_hit + hit
            elif 3500 < r < 5000:
                far, far_hit = far + 1, far_hit + hit
    assert near_hit / near > 0.85 and far_hit / far < 0.3
    blocked = dict(
        base, sensors=[{"sensor_id": "radar", "kind": "radar", "occlusion": [[0, 360, 90]]}]
    )
    assert simulate(parse_scenario(blocked), seed=0).detections == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"objects": [{"object_id": "X", "kind": "ufo", "profile": "transit"}]}, "kind 'ufo'"),
        (
            {"objects": [{"object_id": "X", "kind": "bird", "profile": "loiter"}]},
            "profile 'loiter'",
        ),
        (
            {"objects": [{"object_id": "X", "kind": "drone", "profile": "loiter", "colour": 1}]},
            "unknown field",
        ),
        ({"sensors": [{"sensor_id": "s", "kind": "lidar"}]}, "kind 'lidar'"),
        ({"sensors": [{"sensor_id": "s", "kind": "radar", "pd": 2}]}, "pd in"),
        ({"duration_s": 0}, "duration_s"),
        ({"centre": {"lon": 119.2}}, "centre"),
    ],
)
def test_bad_scenarios_name_the_entry_and_field(change, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(small(**change), source="my.toml")


def test_load_from_json_file_and_unknown_name(tmp_path):
    f = tmp_path / "s.json"
    f.write_text(json.dumps(small()), encoding="utf-8")
    assert load_scenario(f).name == "tiny"
    with pytest.raises(ScenarioError, match="neither a shipped scenario"):
        load_scenario(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)
