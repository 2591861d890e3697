"""``haizhou population verify`` on files: clear ids are pseudonymised at the boundary."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from haizhou.cli.population import app

runner = CliRunner()


def test_verify_files_flags_the_unregistered_resident_without_clear_ids(tmp_path):
    lon, lat = 119.18, 34.60
    pd.DataFrame({"sensor_id": ["S1"], "lon": [lon], "lat": [lat]}).to_csv(
        tmp_path / "sensors.csv", index=False
    )
    pois = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon + 0.001, lat]},
                "properties": {"name": "幸福小区", "kind": "residential_compound"},
            }
        ],
    }
    (tmp_path / "pois.geojson").write_text(json.dumps(pois, ensure_ascii=False), encoding="utf-8")
    rows = []
    nights = pd.date_range("2024-05-01 22:00", periods=20, freq="D")
    for i, t in enumerate(nights):  # the resident: 14 of 20 nights; others: a visit or two
        if i % 10 < 7:
            rows.append(("02:AA:BB:CC:DD:01", "S1", t))
    for k in range(30):
        rows.append((f"02:AA:BB:CC:{k:02X}:99", "S1", nights[k % 20]))
    rows.append(("02:AA:BB:CC:00:98", "S1", nights[3]))
    rows.append(("02:AA:BB:CC:00:98", "S1", nights[9]))
    s = pd.DataFrame(rows, columns=["device_or_plate", "sensor_id", "seen_at"])
    s.to_csv(tmp_path / "sightings.csv", index=False)
    pd.DataFrame(
        {
            "id_number": ["11010519491231002X"],
            "registration": ["permanent"],
            "compound": ["幸福小区"],
        }
    ).to_csv(tmp_path / "persons.csv", index=False)
    r = runner.invoke(
        app,
        [
            "verify",
            "--sightings",
            str(tmp_path / "sightings.csv"),
            "--sensors",
            str(tmp_path / "sensors.csv"),
            "--pois",
            str(tmp_path / "pois.geojson"),
            "--persons",
            str(tmp_path / "persons.csv"),
            "--now",
            "2024-05-21T12:00",
            "--window",
            "20",
            "--json",
        ],
        env={"HAIZHOU_DATA_DIR": str(tmp_path / "data")},
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    flagged = [d for d in out["decisions"] if d["decision"] == "unregistered_resident"]
    assert len(flagged) == 1
    assert flagged[0]["nights"] == 14 and flagged[0]["compound"] == "幸福小区"
    assert "02:AA" not in r.stdout and "11010519491231002X" not in r.stdout
