"""``haizhou coverage`` on files: report, fill and health, with JSON output and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from haizhou.cli.coverage import app

runner = CliRunner()
LON0, LAT0 = 119.18, 34.60


def _files(tmp_path):
    # one camera looking east; incidents east of it (seen) and a cluster far north (unseen)
    sensors = pd.DataFrame(
        {
            "sensor_id": ["S1"],
            "kind": ["camera"],
            "lon": [LON0],
            "lat": [LAT0],
            "range_m": [80.0],
            "heading_deg": [90.0],
            "fov_deg": [90.0],
            "status": ["active"],
        }
    )
    dlon = 50.0 / (111_320 * np.cos(np.radians(LAT0)))
    dlat = 1.0 / 111_320
    inc = pd.DataFrame(
        {
            "lon": [LON0 + dlon] * 3 + [LON0] * 12,
            "lat": [LAT0] * 3 + [LAT0 + 1050 * dlat + i * 3 * dlat for i in range(12)],
            "category_key": ["theft"] * 15,
        }
    )
    sensors.to_csv(tmp_path / "s.csv", index=False)
    inc.to_csv(tmp_path / "i.csv", index=False)
    return tmp_path / "s.csv", tmp_path / "i.csv"


def test_report_and_fill_json(tmp_path):
    s, i = _files(tmp_path)
    r = runner.invoke(app, ["report", "--sensors", str(s), "--incidents", str(i), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    row = next(x for x in out["jurisdictions"] if x["jurisdiction_code"] == "ALL")
    assert row["incident_covered"] == 3 and row["incident_total"] == 15
    assert len(out["blind_spots"]) == 1 and out["blind_spots"][0]["uncovered"] == 24.0
    r = runner.invoke(
        app,
        [
            "fill",
            "--sensors",
            str(s),
            "--incidents",
            str(i),
            "--k",
            "1",
            "--radius",
            "60",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    f = json.loads(r.stdout)
    assert f["added_weight"] == 24.0 and f["status"] == "optimal"
    assert abs(f["sites"][0]["lat"] - (LAT0 + 1066 / 111_320)) < 3e-4


def test_bad_file_gives_one_line_not_a_traceback(tmp_path):
    (tmp_path / "s.csv").write_text("sensor_id,kind\nS1,camera\n", encoding="utf-8")
    (tmp_path / "i.csv").write_text("lon,lat\n1,2\n", encoding="utf-8")
    r = runner.invoke(
        app,
        ["report", "--sensors", str(tmp_path / "s.csv"), "--incidents", str(tmp_path / "i.csv")],
    )
    assert r.exit_code == 1
    assert "missing column(s)" in r.output and "Traceback" not in r.output


def test_health_lists_silent_sensor(tmp_path):
    t = pd.date_range("2024-03-01", periods=24 * 40, freq="h")
    ev = pd.DataFrame(
        {"sensor_id": ["A"] * len(t) + ["B"] * 500, "seen_at": list(t) + list(t[:500])}
    )
    ev.to_csv(tmp_path / "e.csv", index=False)
    pd.DataFrame({"sensor_id": ["A", "B"], "kind": ["camera"] * 2}).to_csv(
        tmp_path / "k.csv", index=False
    )
    r = runner.invoke(
        app,
        [
            "health",
            "--events",
            str(tmp_path / "e.csv"),
            "--sensors",
            str(tmp_path / "k.csv"),
            "--now",
            "2024-04-10T00:00",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [m["sensor_id"] for m in out["maintenance"]] == ["B"]
