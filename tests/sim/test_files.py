"""The written files: determinism, columns, formats, geometry and references between files."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from shapely.geometry import shape

from haizhou.sim import CityConfig, generate_city, write_city
from haizhou.sim.identifiers import is_valid_id_number
from haizhou.sim.writer import CASE_COLUMNS, INCIDENT_COLUMNS, PERSON_COLUMNS, SENSOR_COLUMNS

TINY = CityConfig(scale=0.03, seed=7, days=120)
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
SIX_DECIMALS = re.compile(r"^\d{3}\.\d{6}$|^\d{2}\.\d{6}$")


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def test_same_config_gives_identical_bytes(tmp_path: Path) -> None:
    first = write_city(generate_city(TINY), tmp_path / "a")
    write_city(generate_city(TINY), tmp_path / "b")
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert a == b
    assert len(a) == len(first) == 23  # 10 data files, 12 truth files, the manifest
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == a[name], name
    assert manifest["config"] == {"scale": 0.03, "seed": 7, "start": "2024-01-01", "days": 120}


def test_other_seed_gives_other_city_on_the_same_map(tmp_path: Path) -> None:
    write_city(generate_city(TINY), tmp_path / "a")
    other = CityConfig(scale=TINY.scale, seed=TINY.seed + 1, start=TINY.start, days=TINY.days)
    write_city(generate_city(other), tmp_path / "b")
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    for name in (
        "incidents.csv",
        "cases.csv",
        "persons.csv",
        "sensors.csv",
        "sightings.parquet",
        "drone_scenarios.json",
    ):
        assert a[name] != b[name], name
    # the map is fixed (see haizhou.sim.geography): replicates share jurisdictions and roads
    assert a["jurisdictions.geojson"] == b["jurisdictions.geojson"]
    assert a["roads.geojson"] == b["roads.geojson"]


def test_adding_a_day_keeps_other_components_streams() -> None:
    """Sub-streams are per component: the registry does not depend on the number of days."""
    a = generate_city(TINY)
    b = generate_city(
        CityConfig(scale=TINY.scale, seed=TINY.seed, start=TINY.start, days=TINY.days + 30)
    )
    assert a.persons["id_number"].tolist() == b.persons["id_number"].tolist()
    assert a.sensors["sensor_id"].tolist() == b.sensors["sensor_id"].tolist()


def test_columns_and_formats(small_city_dir: Path) -> None:
    incidents = _read(small_city_dir, "incidents.csv")
    assert tuple(incidents.columns) == INCIDENT_COLUMNS
    assert incidents["reported_at"].str.match(ISO).all()
    assert (
        incidents["lon"].str.match(SIX_DECIMALS).all()
        and incidents["lat"].str.match(SIX_DECIMALS).all()
    )
    assert incidents["incident_id"].is_unique
    assert (
        incidents["reported_at"].to_numpy()[:-1] <= incidents["reported_at"].to_numpy()[1:]
    ).all()
    cases = _read(small_city_dir, "cases.csv")
    assert tuple(cases.columns) == CASE_COLUMNS
    assert set(cases["status"]) == {"filed", "solved"}
    solved = cases["status"] == "solved"
    assert cases.loc[solved, "solved_at"].str.match(ISO).all()
    assert (cases.loc[~solved, "solved_at"] == "").all()
    assert (cases["occurred_from"] <= cases["occurred_to"]).all()
    assert (cases.loc[solved, "occurred_to"] < cases.loc[solved, "solved_at"]).all()
    sensors = _read(small_city_dir, "sensors.csv")
    assert tuple(sensors.columns) == SENSOR_COLUMNS
    assert set(sensors["kind"]) == {
        "camera",
        "plate_reader",
        "wifi_probe",
        "radar",
        "rf",
        "remote_id",
    }
    assert set(sensors["status"]) <= {"active", "fault", "retired"}
    persons = _read(small_city_dir, "persons.csv")
    assert tuple(persons.columns) == PERSON_COLUMNS
    assert set(persons["registration"]) == {"permanent", "temporary", "none"}
    assert persons["registered_at"].str.match(ISO).all()
    raw = (small_city_dir / "incidents.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    table = pq.read_table(small_city_dir / "sightings.parquet")
    assert table.column_names == ["device_or_plate", "sensor_id", "seen_at"]
    assert str(table.schema.field("seen_at").type) == "timestamp[ms, tz=Asia/Shanghai]"


def test_jurisdictions_tile_the_district(small_city_dir: Path) -> None:
    doc = json.loads((small_city_dir / "jurisdictions.geojson").read_text(encoding="utf-8"))
    features = doc["features"]
    assert 10 <= len(features) <= 14
    codes = [f["properties"]["code"] for f in features]
    assert all(re.fullmatch(r"320706-\d{2}", c) for c in codes) and len(set(codes)) == len(codes)
    assert all(f["properties"]["station"].endswith("派出所") for f in features)
    assert {f["properties"]["parent_code"] for f in features} == {"320706"}
    polygons = [shape(f["geometry"]) for f in features]
    assert all(p.is_valid for p in polygons)
    union = shapely.union_all(polygons)
    overlap = sum(p.area for p in polygons) - union.area
    assert overlap / union.area < 1e-6
    minx, miny, maxx, maxy = union.bounds
    assert 119.12 < minx < maxx < 119.26 and 34.53 < miny < maxy < 34.65


def test_every_point_is_inside_a_jurisdiction(small_city_dir: Path) -> None:
    doc = json.loads((small_city_dir / "jurisdictions.geojson").read_text(encoding="utf-8"))
    union = shapely.union_all([shape(f["geometry"]) for f in doc["features"]])
    for name, lon, lat in (
        ("incidents.csv", "lon", "lat"),
        ("cases.csv", "lon", "lat"),
        ("sensors.csv", "lon", "lat"),
        ("persons.csv", "residence_lon", "residence_lat"),
    ):
        frame = pd.read_csv(small_city_dir / name, usecols=[lon, lat])
        inside = shapely.contains_xy(union, frame[lon].to_numpy(), frame[lat].to_numpy())
        assert inside.all(), f"{name}: {(~inside).sum()} points outside the district"
    for doc_name in ("pois.geojson", "truth/hotspots.geojson"):
        pts = json.loads((small_city_dir / doc_name).read_text(encoding="utf-8"))["features"]
        xy = np.array([p["geometry"]["coordinates"] for p in pts])
        assert shapely.contains_xy(union, xy[:, 0], xy[:, 1]).all(), doc_name


def test_identifiers_are_well_formed(small_city_dir: Path) -> None:
    persons = _read(small_city_dir, "persons.csv")
    assert persons["id_number"].is_unique
    assert all(is_valid_id_number(v) for v in persons["id_number"])
    cases = _read(small_city_dir, "cases.csv")
    suspects = [s for v in cases["suspect_ids"] if v for s in v.split(";")]
    assert suspects and all(is_valid_id_number(s) for s in suspects)
    victims = cases.loc[cases["victim_id"] != "", "victim_id"]
    assert len(victims) > 0 and all(is_valid_id_number(v) for v in victims)
    incidents = _read(small_city_dir, "incidents.csv")
    phones = incidents["caller_phone"]
    with_phone = phones != ""
    assert 0.35 < with_phone.mean() < 0.48
    assert phones[with_phone].str.fullmatch(r"1[3-9]\d{9}").all()
    assert phones[with_phone].duplicated().any()  # repeat callers reuse their number
    ids_in_text = incidents["summary"].str.extract(r"身份证号(\d{17}[\dX])")[0].dropna()
    assert len(ids_in_text) > 10 and all(is_valid_id_number(v) for v in ids_in_text)
    assert incidents["summary"].str.contains(r"电话1[3-9]\d{9}").sum() > 10


def test_truth_references_existing_records(small_city_dir: Path) -> None:
    incidents = _read(small_city_dir, "incidents.csv")
    cases = _read(small_city_dir, "cases.csv")
    persons = _read(small_city_dir, "persons.csv")
    sensors = _read(small_city_dir, "sensors.csv")
    truth = small_city_dir / "truth"
    incident_ids = set(incidents["incident_id"])
    assert set(cases["incident_id"]) <= incident_ids
    offenders = _read(truth, "offenders.csv")
    profiles = _read(truth, "offender_profiles.csv")
    assert 5 <= len(profiles) <= 60
    assert set(offenders["case_id"]) <= set(cases["case_id"])
    assert set(offenders["offender_id"]) <= set(profiles["offender_id"])
    assert all(is_valid_id_number(v) for v in profiles["id_number"])
    branching = _read(truth, "burglary_branching.csv")
    assert set(branching["incident_id"]) <= incident_ids
    parents = branching.loc[branching["parent_incident_id"] != ""]
    assert len(parents) > 0
    assert set(parents["parent_incident_id"]) <= set(branching["incident_id"])
    assert (parents["parent_incident_id"] < parents["incident_id"]).all()  # ids follow time
    origins = _read(truth, "incident_origins.csv")
    assert origins["incident_id"].tolist() == incidents["incident_id"].tolist()
    surges = _read(truth, "surges.csv")
    codes = {
        f["properties"]["code"]
        for f in json.loads((small_city_dir / "jurisdictions.geojson").read_text(encoding="utf-8"))[
            "features"
        ]
    }
    assert 3 <= len(surges) <= 12 and set(surges["jurisdiction"]) <= codes
    assert set(origins.loc[origins["origin"] == "surge", "ref"]) <= set(surges["surge_id"])
    floating = _read(truth, "floating_residents.csv")
    registered = floating.loc[floating["registered"] == "true", "id_number"]
    assert len(registered) > 0 and set(registered) <= set(persons["id_number"])
    assert (floating.loc[floating["registered"] == "false", "id_number"] == "").all()
    sightings = pq.read_table(small_city_dir / "sightings.parquet").to_pandas()
    assert set(sightings["sensor_id"]) <= set(sensors["sensor_id"])
    devices = set(floating["device_id"]) | set(floating.loc[floating["plate"] != "", "plate"])
    assert set(sightings["device_or_plate"]) <= devices
    repeats = _read(truth, "repeat_addresses.csv")
    calls = incidents["address"].value_counts()
    for row in repeats.itertuples():
        assert calls[row.address] >= int(row.n_calls) >= 6
        assert (
            incidents.loc[incidents["address"] == row.address, "caller_phone"] == row.caller_phone
        ).sum() == int(row.n_calls)
    fraud = cases.loc[cases["fraud_type"] != ""]
    assert set(fraud["victim_id"]) <= set(persons["id_number"])
    hotspots = json.loads((truth / "hotspots.geojson").read_text(encoding="utf-8"))["features"]
    assert {"民主路老街商业区", "龙尾河酒吧街", "连云港站站前广场"} <= {
        h["properties"]["name"] for h in hotspots
    }


def test_scale_controls_the_counts() -> None:
    small = generate_city(CityConfig(scale=0.05, days=365))
    large = generate_city(CityConfig(scale=0.2, days=365))
    ratio = len(large.incidents) / len(small.incidents)
    assert 3.6 < ratio < 4.4
    # scale 1 is about 100,000 incidents a year: scale 0.2 about 20,000
    assert 18_000 < len(large.incidents) < 23_000
    assert 3.5 < len(large.persons) / len(small.persons) < 4.5
    assert len(large.sensors) > len(small.sensors)


@pytest.mark.parametrize(
    "bad", [{"scale": 0}, {"scale": -1.0}, {"scale": float("nan")}, {"days": 0}, {"seed": -3}]
)
def test_config_rejects_bad_values(bad: dict) -> None:
    with pytest.raises(ValueError, match="CityConfig"):
        CityConfig(**bad)


def test_progress_is_reported_in_order() -> None:
    seen: list[tuple[str, float]] = []
    generate_city(
        CityConfig(scale=0.01, days=10), progress=lambda stage, done: seen.append((stage, done))
    )
    fractions = [f for _s, f in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {"incidents", "cases", "sensors"} <= {s for s, _f in seen}
