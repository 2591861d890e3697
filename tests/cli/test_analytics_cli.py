"""``haizhou hotspots | emerging | repeats | warnings | nearrepeat | forecast run`` on a CSV
written here (planted patterns) and on a small synthetic city in the store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from haizhou.cli.main import app
from haizhou.geo import LocalProjection

END = np.datetime64("2024-06-30T00:00")
HOT_XY = (1625.0, 1625.0)  # metres, mid-cell of a 250 m grid from (0, 0)
PSEUDONYM = "pq8w7e6r5t4y3u2i1o"
PLANE = LocalProjection.around(119.2, 34.6)


def _events(rng: np.random.Generator) -> list[dict[str, object]]:
    """200 days of events on a 4 km square: background, a hot place, a surge, near repeats."""
    rows: list[dict[str, object]] = []

    def add(t: np.datetime64, x: float, y: float, cat: str = "盗窃", zone: str = "A",
            address: str = "", caller: str = "") -> None:  # fmt: skip
        rows.append({"t": t, "x": x, "y": y, "cat": cat, "zone": zone, "address": address,
                     "caller": caller})  # fmt: skip

    def when(lo_days: float, hi_days: float) -> np.datetime64:
        return END - np.timedelta64(int(rng.uniform(lo_days, hi_days) * 1440), "m")

    for _ in range(1200):  # background, two zones split at x = 2000 m
        x, y = rng.uniform(0, 4000), rng.uniform(0, 4000)
        add(when(0.01, 200), x, y, str(rng.choice(["盗窃", "纠纷"])), "A" if x < 2000 else "B")
    for _ in range(300):  # a hot place, all period (~10 a week)
        add(when(0.01, 200), HOT_XY[0] + rng.normal(0, 20), HOT_XY[1] + rng.normal(0, 20))
    for i in range(12):  # one address called about again and again
        add(when(1, 80), 3000.0, 500.0, "纠纷", "B", ("新浦路32号", "新浦路３２号")[i % 2])
    for _ in range(9):  # one repeat caller
        add(when(1, 60), 2500.0, 3500.0, "噪音扰民", "B", caller=PSEUDONYM)
    for _ in range(40):  # a surge of 纠纷 in zone A in the last week
        add(when(0.01, 6.9), rng.uniform(0, 1900), rng.uniform(0, 4000), "纠纷", "A")
    for _ in range(80):  # burglaries with near repeats
        t = when(2, 200)
        x, y = rng.uniform(0, 4000), rng.uniform(0, 4000)
        add(t, x, y, "入室盗窃")
        if rng.random() < 0.6:
            add(t + np.timedelta64(int(rng.uniform(1, 4) * 1440), "m"), x + rng.normal(0, 30),
                y + rng.normal(0, 30), "入室盗窃")  # fmt: skip
    add(END - np.timedelta64(600, "m"), 800.0, 3200.0, "入室盗窃")  # the newest burglary
    return [r for r in rows if r["t"] < END]


@pytest.fixture(scope="module")
def events_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = _events(np.random.default_rng(42))
    x = np.array([r["x"] for r in rows], dtype=float)
    y = np.array([r["y"] for r in rows], dtype=float)
    lon, lat = PLANE.inverse(x - 2000.0, y - 2000.0)
    lines = ["occurred_at,x,y,lon,lat,category,station,address,caller"]
    for r, lo, la in zip(rows, lon, lat, strict=True):
        stamp = str(r["t"]).replace("T", " ")
        lines.append(f"{stamp},{r['x']:.2f},{r['y']:.2f},{lo:.7f},{la:.7f},{r['cat']},"
                     f"{r['zone']},{r['address']},{r['caller']}")  # fmt: skip
    path = tmp_path_factory.mktemp("csv") / "events.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(*args: str) -> dict:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def _xy(path: Path) -> list[str]:
    return ["--file", str(path), "--x-col", "x", "--y-col", "y"]


def test_hotspots_on_metres_find_the_hot_place(events_csv: Path) -> None:
    out = _cli("hotspots", *_xy(events_csv), "--days", "200", "--cell-size-m", "250")
    assert out["units"] == "grid" and out["coordinates"] == "metres"
    top = out["hotspots"][0]
    ring = np.asarray(top["geometry"]["coordinates"][0])
    assert np.hypot(ring[:, 0].mean() - HOT_XY[0], ring[:, 1].mean() - HOT_XY[1]) < 400
    assert top["level"] == "red" and top["p_fdr"] < 0.001
    assert out["n_events"] > 1000


def test_hotspots_on_lonlat_use_hexagons_and_category(events_csv: Path) -> None:
    out = _cli("hotspots", "--file", str(events_csv), "--lon-col", "lon", "--lat-col", "lat",
               "--category-col", "category", "--category", "盗窃", "--days", "200")  # fmt: skip
    assert out["units"] == "h3" and out["resolution"] == 8
    hot_lon, hot_lat = PLANE.inverse(HOT_XY[0] - 2000.0, HOT_XY[1] - 2000.0)
    lon, lat = out["hotspots"][0]["centre"]
    assert abs(lon - float(hot_lon)) < 0.01 and abs(lat - float(hot_lat)) < 0.01
    wgs = _cli("hotspots", "--file", str(events_csv), "--lon-col", "lon", "--lat-col", "lat",
               "--days", "200")  # fmt: skip
    gcj = _cli("hotspots", "--file", str(events_csv), "--lon-col", "lon", "--lat-col", "lat",
               "--crs", "gcj02", "--days", "200")  # fmt: skip
    cells = {h["cell"] for h in wgs["hotspots"]}
    assert cells != {h["cell"] for h in gcj["hotspots"]}  # the datum shift moved the points


def test_emerging_on_csv(events_csv: Path) -> None:
    out = _cli("emerging", *_xy(events_csv), "--cell-size-m", "250", "--all",
               "--category-col", "category", "--category", "盗窃")  # fmt: skip
    assert out["steps"] == 8 and out["units"] == "grid"
    assert out["patterns"], "the hot place is a hot spot in every week"
    kinds = {p["pattern"] for p in out["patterns"]}
    assert kinds & {"persistent_hot_spot", "intensifying_hot_spot", "consecutive_hot_spot"}
    assert all(len(p["counts"]) == 8 for p in out["patterns"])


def test_repeats_by_address_and_masked_caller(events_csv: Path) -> None:
    places = _cli("repeats", *_xy(events_csv), "--address-col", "address", "--days", "100")
    top = places["repeats"][0]
    assert top["address"] == "新浦路32号" and top["count"] == 12
    result = CliRunner().invoke(
        app, ["repeats", "--by", "caller", *_xy(events_csv), "--caller-col", "caller", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert PSEUDONYM not in result.stdout  # only the masked form leaves the command
    callers = json.loads(result.stdout)["repeats"]
    assert callers[0]["caller"] == PSEUDONYM[:4] + "****" and callers[0]["count"] == 9


def test_warnings_find_the_surge(events_csv: Path) -> None:
    out = _cli("warnings", *_xy(events_csv), "--category-col", "category",
               "--jurisdiction-col", "station", "--end", "2024-06-30")  # fmt: skip
    top = out["warnings"][0]
    assert (top["jurisdiction"], top["category"]) == ("A", "纠纷")
    assert top["level"] == "red" and top["observed"] > top["expected"] + 30
    assert all(w["level"] is not None for w in out["warnings"])


def test_nearrepeat_knox_and_zones(events_csv: Path) -> None:
    out = _cli("nearrepeat", *_xy(events_csv), "--category-col", "category",
               "--category", "入室盗窃", "--days", "200")  # fmt: skip
    assert out["knox_ratio"][0][0] > 2 and out["p_sim"][0][0] <= 0.05
    assert out["zone"] is not None and out["zone"]["distance_m"] >= 100
    newest = out["zones"][0]
    assert abs(newest["x_m"] - 800) < 1 and abs(newest["y_m"] - 3200) < 1


def test_forecast_run_on_csv(events_csv: Path) -> None:
    out = _cli("forecast", "run", *_xy(events_csv), "--category-col", "category",
               "--category", "盗窃", "--validation-days", "5", "--limit", "5")  # fmt: skip
    assert out["origin"].startswith("2024-06-30")
    assert out["method"] in {"naive", "retrospective", "prospective", "kde", "blend"}
    cx, cy = out["cells"][0]["centre"]
    assert np.hypot(cx - HOT_XY[0], cy - HOT_XY[1]) < 300
    assert out["concentration"]["summary"]["top_decile_share"] > 0.3
    assert [c["rank"] for c in out["cells"]] == [1, 2, 3, 4, 5]


def test_tables_and_errors(events_csv: Path) -> None:
    runner = CliRunner()
    table = runner.invoke(app, ["hotspots", *_xy(events_csv), "--cell-size-m", "250"])
    assert table.exit_code == 0 and "Gi*" in table.stdout
    missing = runner.invoke(app, ["hotspots", "--file", str(events_csv), "--x-col", "east",
                                  "--y-col", "y"])  # fmt: skip
    assert missing.exit_code == 1 and "no column 'east'" in missing.output
    assert "Traceback" not in missing.output
    bad = runner.invoke(app, ["repeats", "--by", "phone", *_xy(events_csv)])
    assert bad.exit_code == 1 and "--by must be address or caller" in bad.output
    no_col = runner.invoke(app, ["repeats", *_xy(events_csv)])
    assert no_col.exit_code == 1 and "--address-col" in no_col.output


# --- on the store -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("city")
    mp = pytest.MonkeyPatch()
    mp.delenv("HAIZHOU_DATABASE_URL", raising=False)
    try:
        result = CliRunner().invoke(
            app,
            ["--data-dir", str(data), "demo", "--scale", "0.04", "--days", "150", "--no-serve",
             "--no-run-models", "--json"],
        )  # fmt: skip
    finally:
        mp.undo()
    assert result.exit_code == 0, result.output
    return data


def _store(city: Path, *args: str) -> dict:
    return _cli("--data-dir", str(city), "--database-url", f"sqlite:///{city / 'haizhou.db'}",
                *args)  # fmt: skip


def test_commands_on_the_store(city: Path) -> None:
    hot = _store(city, "hotspots")
    assert hot["units"] == "h3" and hot["hotspots"]
    assert all(h["jurisdiction"] for h in hot["hotspots"])
    em = _store(city, "emerging", "--all")
    assert em["n_units"] > 10
    warn = _store(city, "warnings", "--all")
    assert warn["warnings"] and {"observed", "expected", "probability"} <= set(warn["warnings"][0])
    nr = _store(city, "nearrepeat", "--category", "入室盗窃", "--days", "150")
    assert nr["n_events"] > 30 and len(nr["observed"]) == 5
    fc = _store(city, "forecast", "run", "--category", "入室盗窃,盗窃", "--method", "naive")
    assert fc["method"] == "naive" and fc["cells"]
    one = _store(city, "hotspots", "--jurisdiction", hot["hotspots"][0]["jurisdiction"])
    assert one["n_events"] < hot["n_events"]


def test_caller_repeats_on_the_store_are_masked_and_audited(city: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{city / 'haizhou.db'}")
    with engine.connect() as conn:
        before = conn.scalar(
            sa.text("SELECT count(*) FROM audit_log WHERE action = 'incidents.personal.read'")
        )
        pseudonyms = {r[0] for r in conn.execute(
            sa.text("SELECT DISTINCT caller_pseudonym FROM incidents "
                    "WHERE caller_pseudonym IS NOT NULL"))}  # fmt: skip
    out = _store(city, "repeats", "--by", "caller")
    assert out["repeats"], "the synthetic city has repeat callers"
    text = json.dumps(out, ensure_ascii=False)
    assert not any(p in text for p in pseudonyms)
    assert all("****" in r["caller"] for r in out["repeats"])
    with engine.connect() as conn:
        after = conn.scalar(
            sa.text("SELECT count(*) FROM audit_log WHERE action = 'incidents.personal.read'")
        )
    assert after == before + 1
