"""The backtest protocol and ``haizhou forecast backtest`` on small synthetic files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from haizhou.analytics.base import EventSet, to_days
from haizhou.analytics.forecast.protocol import origins, run_protocol
from haizhou.cli.forecast import app

runner = CliRunner()
START = float(to_days("2015-01-01"))


def _city(seed: int = 0, n: int = 3000) -> tuple[EventSet, np.ndarray, np.ndarray]:
    """Two districts; burglary concentrates at three stable addresses, other crime spreads."""
    rng = np.random.default_rng(seed)
    t = START - 120 + rng.uniform(0, 150, n)
    kind = np.where(rng.random(n) < 0.3, "burglary", "theft")
    hot = rng.integers(0, 3, n)
    hx, hy = np.array([300.0, 1400.0, 2500.0]), np.array([400.0, 1500.0, 600.0])
    burg = kind == "burglary"
    x = np.where(
        burg & (rng.random(n) < 0.6), hx[hot] + rng.normal(0, 20, n), rng.uniform(0, 3000, n)
    )
    y = np.where(
        burg & (rng.random(n) < 0.6), hy[hot] + rng.normal(0, 20, n), rng.uniform(0, 3000, n)
    )
    x, y = np.clip(x, 0, 3000), np.clip(y, 0, 3000)
    zone = np.where(x < 1500, "west", "east")
    return EventSet(t, x, y, kind), kind, zone


def test_origins_every_horizon() -> None:
    assert origins(10.0, 7.0, 2.0).tolist() == [10.0, 12.0, 14.0, 16.0]


def test_protocol_scores_methods_and_reports_concentration() -> None:
    ev, kind, zone = _city()
    rep = run_protocol(
        ev,
        kind == "burglary",
        methods=["naive", "kde", "auto"],
        cell_size_m=150.0,
        train_days=60.0,
        test_start_days=START,
        test_days=10.0,
        horizon_days=1.0,
        coverages=(0.05, 0.1),
        zone=zone,
        period_days=5.0,
    )
    out = rep.to_dict()
    assert {r["method"] for r in out["results"]} == {"naive", "kde", "auto"}
    assert out["n_events"] == int(
        ((ev.t_days >= START) & (ev.t_days < START + 10) & (kind == "burglary")).sum()
    )
    naive = next(r for r in out["results"] if r["method"] == "naive" and r["coverage"] == 0.05)
    # the three burglary addresses are 3 of ~400 cells and hold ~60 % of burglaries
    assert naive["hit_rate"] > 0.4 and naive["pai"] > 8
    assert out["auto_choice"] in {
        "naive",
        "retrospective",
        "prospective",
        "kde",
        "sepp",
        "boosted",
        "blend",
    }
    conc = out["concentration"]
    assert conc["zones"] == ["east", "west"]
    assert len(conc["flag_share"]) == 2
    assert all(abs(sum(row) - 1) < 1e-9 for row in conc["flag_share"])


def _write_csv(path: Path, ev: EventSet, kind: np.ndarray, zone: np.ndarray) -> None:
    times = (
        np.datetime64("1970-01-01T00:00") + (ev.t_days * 1440).astype("timedelta64[m]")
    ).astype(str)
    lines = ["occurred_at,x,y,category,station"]
    lines += [
        f"{t.replace('T', ' ')},{x:.2f},{y:.2f},{k},{z}"
        for t, x, y, k, z in zip(times, ev.x_m, ev.y_m, kind, zone, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def city_csv(tmp_path: Path) -> Path:
    ev, kind, zone = _city(seed=1, n=1500)
    path = tmp_path / "events.csv"
    _write_csv(path, ev, kind, zone)
    return path


def _args(path: Path, *extra: str) -> list[str]:
    return [
        "backtest",
        str(path),
        "--time-col",
        "occurred_at",
        "--x-col",
        "x",
        "--y-col",
        "y",
        "--category-col",
        "category",
        "--category",
        "burglary",
        "--cell-size-m",
        "150",
        "--train-days",
        "60",
        "--test-start",
        "2015-01-01",
        "--test-days",
        "5",
        "--horizon-days",
        "1",
        "--coverage",
        "0.01,0.05,0.1",
        *extra,
    ]


def test_cli_json_has_the_documented_shape(city_csv: Path) -> None:
    result = runner.invoke(app, _args(city_csv, "--methods", "naive,prospective", "--json"))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) >= {"results", "best_method", "n_events"}
    assert len(out["results"]) == 6
    assert set(out["results"][0]) == {"method", "coverage", "hit_rate", "pai", "pei"}
    assert out["best_method"] in {"naive", "prospective"}
    assert out["n_events"] > 0


def test_cli_table_and_concentration(city_csv: Path) -> None:
    result = runner.invoke(app, _args(city_csv, "--methods", "naive", "--zone-col", "station"))
    assert result.exit_code == 0, result.output
    assert "PAI" in result.stdout and "naive" in result.stdout
    assert "west" in result.stdout


def test_cli_lon_lat_columns_are_projected(tmp_path: Path) -> None:
    path = tmp_path / "ll.csv"
    path.write_text(
        "time,lon,lat\n"
        + "".join(f"2015-01-0{1 + i % 3} 10:00,119.2{i % 2},34.6{i % 3}\n" for i in range(12)),
        encoding="utf-8",
    )
    args = [
        "backtest",
        str(path),
        "--time-col",
        "time",
        "--lon-col",
        "lon",
        "--lat-col",
        "lat",
        "--train-days",
        "1",
        "--test-start",
        "2015-01-02",
        "--test-days",
        "2",
        "--methods",
        "naive",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_events"] == 8


def test_cli_missing_column_is_one_clear_line(city_csv: Path) -> None:
    result = runner.invoke(
        app, _args(city_csv, "--methods", "naive").__add__(["--zone-col", "nope"])
    )
    assert result.exit_code == 1
    assert "no column 'nope'" in result.output and "Traceback" not in result.output


def test_cli_bad_time_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("occurred_at,x,y\n2015-01-01 10:00,1,1\nyesterday,2,2\n", encoding="utf-8")
    args = [
        "backtest",
        str(path),
        "--x-col",
        "x",
        "--y-col",
        "y",
        "--test-start",
        "2015-01-01",
        "--methods",
        "naive",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "row 3" in result.output and "--skip-bad-rows" in result.output
    ok = runner.invoke(app, [*args, "--skip-bad-rows", "--json"])
    assert ok.exit_code == 0, ok.output


def test_cli_unknown_method_lists_the_choices(city_csv: Path) -> None:
    result = runner.invoke(app, _args(city_csv, "--methods", "crystal_ball"))
    assert result.exit_code == 1
    assert "crystal_ball" in result.output and "naive" in result.output


def test_cli_unknown_category_lists_what_was_seen(city_csv: Path) -> None:
    args = _args(city_csv, "--methods", "naive")
    args[args.index("burglary")] = "arson"
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "theft" in result.output


def test_cli_keeps_local_wall_time_of_offset_timestamps(tmp_path: Path) -> None:
    # 23:30+08:00 on 1 Jan is a 1 Jan event locally (it would be 15:30 UTC, same day) and
    # 00:30+08:00 on 2 Jan is a 2 Jan event locally (16:30 UTC on 1 Jan).
    path = tmp_path / "tz.csv"
    path.write_text(
        "occurred_at,x,y\n"
        "2015-01-01T10:00:00+08:00,10,10\n"
        "2015-01-01T23:30:00+08:00,10,10\n"
        "2015-01-02T00:30:00+08:00,10,10\n",
        encoding="utf-8",
    )
    args = [
        "backtest",
        str(path),
        "--x-col",
        "x",
        "--y-col",
        "y",
        "--train-days",
        "1",
        "--test-start",
        "2015-01-02",
        "--test-days",
        "1",
        "--methods",
        "naive",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_events"] == 1
