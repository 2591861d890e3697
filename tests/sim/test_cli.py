"""``haizhou sim``: flags, JSON summary, the same files as the Python API, clear errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.sim import CityConfig, generate_city, write_city

runner = CliRunner()


def test_json_summary_and_files_match_the_api(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = runner.invoke(
        app,
        [
            "sim",
            "--out",
            str(out),
            "--scale",
            "0.02",
            "--seed",
            "5",
            "--start",
            "2024-03-01",
            "--days",
            "45",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["out"] == str(out)
    assert summary["config"] == {"scale": 0.02, "seed": 5, "start": "2024-03-01", "days": 45}
    assert set(summary["files"]) >= {
        "incidents.csv",
        "cases.csv",
        "truth/surges.csv",
        "manifest.json",
    }
    assert all(Path(p).is_file() for p in summary["files"].values())
    n_rows = len((out / "incidents.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert summary["counts"]["incidents.csv"] == n_rows > 0

    api = tmp_path / "api"
    write_city(generate_city(CityConfig(scale=0.02, seed=5, start=date(2024, 3, 1), days=45)), api)
    for name in summary["files"]:
        assert (out / name).read_bytes() == (api / name).read_bytes(), name


def test_table_output(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sim", "--out", str(tmp_path), "--scale", "0.01", "--days", "20"])
    assert result.exit_code == 0, result.output
    assert "incidents.csv" in result.output and "manifest.json" in result.output


def test_bad_flags_give_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sim", "--out", str(tmp_path), "--scale", "-1"])
    assert result.exit_code == 1
    assert "scale" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["sim", "--out", str(tmp_path), "--start", "2024-02-30"])
    assert result.exit_code == 1
    assert "--start" in result.output and "2024-02-30" in result.output
    a_file = tmp_path / "f.txt"
    a_file.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["sim", "--out", str(a_file), "--scale", "0.01", "--days", "5"])
    assert result.exit_code == 1 and "is a file" in result.output
