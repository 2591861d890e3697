"""``haizhou coverage``: sensor coverage, blind spots, blind-spot filling, sensor health.

感知点位覆盖 · 盲区 · 补盲选址 · 设备健康. Data come from CSV/Parquet/GeoJSON files, from the
store (``--store``), or from the synthetic city (``--sim-scale``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from haizhou.cli._common import console, existing_file, friendly_errors, get_settings, print_json
from haizhou.errors import HaizhouError, InputError

app = typer.Typer(
    help="Sensing points (感知点位): coverage, blind spots, blind-spot filling, sensor health.",
    no_args_is_help=True,
)

SENSOR_COLUMNS = ("sensor_id", "kind", "lon", "lat", "range_m", "heading_deg", "fov_deg")


@app.callback()
def coverage() -> None:
    """Sensing points (感知点位): coverage, blind spots, blind-spot filling, sensor health."""


# -- shared loading (also used by the population and fraud commands) ----------------------------


def read_table(path: Path, *, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV or Parquet file as a frame, checking the columns the command needs."""
    existing_file(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".txt"):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            raise InputError("give a .csv or .parquet file", file=str(path))
    except (ValueError, OSError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot read the file ({exc})", file=str(path)) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column(s) {missing}; the file has: {', '.join(map(str, frame.columns))}",
            file=str(path),
        )
    return frame


def numeric(frame: pd.DataFrame, column: str, path: Path | str) -> np.ndarray:
    """A column as float64, naming the first bad row."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(
            f"not a number: {frame[column].iat[bad[0]]!r} ({bad.size} bad rows)",
            file=str(path),
            row=int(bad[0]) + 2,
            column=column,
        )
    return values


def read_geojson(path: Path) -> dict[str, Any]:
    existing_file(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid GeoJSON ({exc})", file=str(path)) from None
    if doc.get("type") != "FeatureCollection":
        raise InputError("expected a GeoJSON FeatureCollection", file=str(path))
    return doc


def sim_city(scale: float) -> Any:
    from haizhou.sim import CityConfig, generate_city

    with console.status(f"generating the synthetic city (scale {scale:g}) …"):
        return generate_city(CityConfig(scale=scale))


def _projection(lon: np.ndarray, lat: np.ndarray) -> Any:
    from haizhou.geo.projection import LocalProjection

    return LocalProjection.for_bounds(
        float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))
    )


def _lines_xy(doc: dict[str, Any] | None, proj: Any) -> list[Any]:
    import shapely

    if doc is None:
        return []
    out = []
    for f in doc["features"]:
        g = f.get("geometry") or {}
        parts = (
            [g["coordinates"]]
            if g.get("type") == "LineString"
            else (g.get("coordinates", []) if g.get("type") == "MultiLineString" else [])
        )
        for coords in parts:
            c = np.asarray(coords, float)
            x, y = proj.forward(c[:, 0], c[:, 1])
            out.append(shapely.LineString(np.column_stack([x, y])))
    return out


def _areas(doc: dict[str, Any] | None, proj: Any) -> tuple[np.ndarray, np.ndarray]:
    import shapely
    from shapely.geometry import shape
    from shapely.ops import transform

    if doc is None:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    codes, polys = [], []
    for f in doc["features"]:
        props = f.get("properties") or {}
        code = props.get("code") or props.get("jurisdiction_code") or props.get("id")
        geom = transform(
            lambda x, y, z=None: proj.forward(np.asarray(x), np.asarray(y)), shape(f["geometry"])
        )
        codes.append(str(code))
        polys.append(shapely.make_valid(geom))
    return np.asarray(codes, dtype=object), np.asarray(polys, dtype=object)


def _assign(codes: np.ndarray, polys: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    import shapely

    out = np.full(x.size, "UNASSIGNED", dtype=object)
    if polys.size == 0 or x.size == 0:
        return out
    tree = shapely.STRtree(polys)
    p_idx, a_idx = tree.query(shapely.points(x, y), predicate="within")
    out[p_idx] = codes[a_idx]
    return out


def load_inputs(
    ctx: typer.Context,
    *,
    sim_scale: float | None,
    store: bool,
    sensors: Path | None,
    incidents: Path | None,
    roads: Path | None,
    pois: Path | None,
    jurisdictions: Path | None,
    days: int,
) -> dict[str, Any]:
    """Sensors, incidents (last ``days`` days), roads, places and areas, in one local plane."""
    roads_doc = pois_doc = jur_doc = None
    if sim_scale is not None:
        city = sim_city(sim_scale)
        s = city.sensors.copy()
        inc = city.incidents[["lon", "lat", "category_key", "reported_at"]].copy()
        roads_doc, pois_doc, jur_doc = city.roads, city.pois, city.jurisdictions
    elif store:
        s, inc = _from_store(ctx, days)
    else:
        if sensors is None or incidents is None:
            raise HaizhouError(
                "give --sensors and --incidents files, or --store, or --sim-scale for the "
                "synthetic city."
            )
        s = read_table(sensors, required=SENSOR_COLUMNS)
        for c in ("lon", "lat", "range_m", "heading_deg", "fov_deg"):
            s[c] = numeric(s, c, sensors)
        inc = read_table(incidents, required=("lon", "lat"))
        inc["lon"] = numeric(inc, "lon", incidents)
        inc["lat"] = numeric(inc, "lat", incidents)
    if roads is not None:
        roads_doc = read_geojson(roads)
    if pois is not None:
        pois_doc = read_geojson(pois)
    if jurisdictions is not None:
        jur_doc = read_geojson(jurisdictions)
    if "status" in s.columns:
        s = s[s["status"].astype(str).isin(["active", ""])].reset_index(drop=True)
    if "reported_at" in inc.columns and len(inc):
        t = pd.to_datetime(inc["reported_at"], utc=True, errors="coerce")
        inc = inc[t >= t.max() - pd.Timedelta(days=days)].reset_index(drop=True)
    if len(s) == 0:
        raise HaizhouError("no active sensors found; check the sensor source.")
    proj = _projection(s["lon"].to_numpy(float), s["lat"].to_numpy(float))
    s["x_m"], s["y_m"] = proj.forward(s["lon"].to_numpy(float), s["lat"].to_numpy(float))
    ix, iy = proj.forward(inc["lon"].to_numpy(float), inc["lat"].to_numpy(float))
    codes, polys = _areas(jur_doc, proj)
    pts = []
    if pois_doc is not None:
        for f in pois_doc["features"]:
            if (f.get("geometry") or {}).get("type") == "Point":
                pts.append(f["geometry"]["coordinates"][:2])
    pp = np.asarray(pts, float).reshape(-1, 2)
    px, py = proj.forward(pp[:, 0], pp[:, 1]) if len(pp) else (np.zeros(0), np.zeros(0))
    return {
        "proj": proj,
        "sensors": s,
        "inc_x": np.asarray(ix, float),
        "inc_y": np.asarray(iy, float),
        "inc_cat": inc["category_key"].astype(str).to_numpy()
        if "category_key" in inc.columns
        else (inc["category"].astype(str).to_numpy() if "category" in inc.columns else None),
        "roads": _lines_xy(roads_doc, proj),
        "poi_x": np.asarray(px, float),
        "poi_y": np.asarray(py, float),
        "codes": codes,
        "polys": polys,
    }


def _from_store(ctx: typer.Context, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from datetime import UTC, datetime, timedelta

    from haizhou.store.engine import make_engine, make_sessionmaker, session_scope
    from haizhou.store.repositories.incidents import incident_frame
    from haizhou.store.repositories.sensors import list_sensors

    settings = get_settings(ctx)
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            rows = list_sensors(session=session, scope=None, status="active")
            end = datetime.now(UTC)
            inc = incident_frame(
                session=session, scope=None, start=end - timedelta(days=days), end=end
            )
    finally:
        engine.dispose()
    s = pd.DataFrame(
        {
            "sensor_id": [r.id for r in rows],
            "kind": [str(getattr(r.kind, "value", r.kind)) for r in rows],
            "lon": [r.lon for r in rows],
            "lat": [r.lat for r in rows],
            "range_m": [r.range_m or 50.0 for r in rows],
            "heading_deg": [r.heading_deg or 0.0 for r in rows],
            "fov_deg": [r.fov_deg or 360.0 for r in rows],
        }
    )
    return s, inc


# -- commands ----------------------------------------------------------------------------------

SimOpt = Annotated[float | None, typer.Option("--sim-scale", help="Use the synthetic city.")]
StoreOpt = Annotated[
    bool, typer.Option("--store", help="Read sensors and incidents from the database.")
]
SensorsOpt = Annotated[
    Path | None,
    typer.Option(
        help="Sensors CSV/Parquet: sensor_id, kind, lon, lat, range_m, heading_deg, fov_deg[, status]."
    ),
]
IncidentsOpt = Annotated[
    Path | None, typer.Option(help="Incidents CSV/Parquet: lon, lat[, category_key, reported_at].")
]
RoadsOpt = Annotated[Path | None, typer.Option(help="Roads GeoJSON (LineString).")]
PoisOpt = Annotated[Path | None, typer.Option(help="Places of interest GeoJSON (Point).")]
JurOpt = Annotated[
    Path | None, typer.Option(help="Jurisdictions GeoJSON (Polygon, property 'code').")
]
DaysOpt = Annotated[int, typer.Option(help="Incidents of the last N days.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command("report")
@friendly_errors
def report(
    ctx: typer.Context,
    sim_scale: SimOpt = None,
    store: StoreOpt = False,
    sensors: SensorsOpt = None,
    incidents: IncidentsOpt = None,
    roads: RoadsOpt = None,
    pois: PoisOpt = None,
    jurisdictions: JurOpt = None,
    days: DaysOpt = 365,
    cell_size: Annotated[float, typer.Option(help="Blind-spot grid cell, metres.")] = 200.0,
    min_incidents: Annotated[
        float, typer.Option(help="Uncovered severity weight of a blind spot.")
    ] = 5.0,
    as_json: JsonOpt = False,
) -> None:
    """Covered share of roads, places and incidents per jurisdiction, and the blind spots."""
    from haizhou.analytics.coverage import (
        blind_spots,
        coverage_by_jurisdiction,
        coverage_matrix_points,
        footprints,
        road_samples,
    )

    d = load_inputs(
        ctx,
        sim_scale=sim_scale,
        store=store,
        sensors=sensors,
        incidents=incidents,
        roads=roads,
        pois=pois,
        jurisdictions=jurisdictions,
        days=days,
    )
    s = d["sensors"]
    shapes = footprints(s, roads=d["roads"] or None)
    seen, jur, weights = {}, {}, {}
    rx, ry, rl = road_samples(d["roads"]) if d["roads"] else (np.zeros(0),) * 3
    layers = {
        "road": (rx, ry),
        "poi": (d["poi_x"], d["poi_y"]),
        "incident": (d["inc_x"], d["inc_y"]),
    }
    for name, (x, y) in layers.items():
        if x.size == 0:
            continue
        seen[name] = coverage_matrix_points(s, x, y, shapes=shapes)
        jur[name] = _assign(d["codes"], d["polys"], x, y)
    weights["road"] = rl
    table = coverage_by_jurisdiction(seen, jur, weights=weights)
    inc_seen = (
        np.asarray(seen["incident"].sum(axis=1)).ravel() > 0
        if "incident" in seen
        else np.zeros(0, bool)
    )
    from haizhou.analytics.coverage import DEFAULT_SEVERITY

    sev = (
        pd.Series(d["inc_cat"]).map(dict(DEFAULT_SEVERITY)).fillna(1.0).to_numpy()
        if d["inc_cat"] is not None
        else None
    )
    spots = blind_spots(
        d["inc_x"],
        d["inc_y"],
        inc_seen,
        weights=sev,
        cell_size_m=cell_size,
        min_weight=min_incidents,
    )
    lon, lat = d["proj"].inverse(spots["x_m"].to_numpy(), spots["y_m"].to_numpy())
    spots["lon"], spots["lat"] = np.round(lon, 6), np.round(lat, 6)
    spots["level"] = [None if v is None or pd.isna(v) else str(v) for v in spots["level"]]
    if as_json:
        print_json(
            {
                "jurisdictions": json.loads(table.to_json(orient="records")),
                "blind_spots": json.loads(
                    spots[
                        ["lon", "lat", "incidents", "uncovered", "uncovered_share", "level"]
                    ].to_json(orient="records")
                ),
            }
        )
        return
    t = Table(title="Coverage by jurisdiction (辖区覆盖率)")
    t.add_column("jurisdiction")
    for name in seen:
        t.add_column(f"{name} share", justify="right")
    for row in table.itertuples(index=False):
        t.add_row(row.jurisdiction_code, *[f"{getattr(row, f'{n}_share'):.1%}" for n in seen])
    console.print(t)
    console.print(
        f"{len(spots)} blind spots (盲区); heaviest: "
        + ", ".join(
            f"({r.lon:.5f}, {r.lat:.5f}) {r.uncovered:.0f}" for r in spots.head(5).itertuples()
        )
    )


@app.command("fill")
@friendly_errors
def fill(
    ctx: typer.Context,
    k: Annotated[int, typer.Option("--k", help="Number of new sites to choose.")] = 20,
    radius: Annotated[float, typer.Option(help="Coverage radius of a new site, metres.")] = 100.0,
    candidates: Annotated[
        Path | None,
        typer.Option(
            help="Candidate sites CSV/Parquet: lon, lat[, site_id]. Default: the uncovered demand points themselves."
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="auto, greedy or exact.")] = "auto",
    time_limit: Annotated[float, typer.Option(help="Exact solver time limit, seconds.")] = 60.0,
    sim_scale: SimOpt = None,
    store: StoreOpt = False,
    sensors: SensorsOpt = None,
    incidents: IncidentsOpt = None,
    roads: RoadsOpt = None,
    days: DaysOpt = 365,
    as_json: JsonOpt = False,
) -> None:
    """Blind-spot filling (补盲选址): choose K new sites to cover the most unseen demand."""
    import time

    from haizhou.analytics.coverage import (
        coverage_matrix,
        coverage_matrix_points,
        demand_points,
        solve_mclp,
    )

    if k < 1:
        raise HaizhouError(f"--k must be at least 1; got {k}.")
    d = load_inputs(
        ctx,
        sim_scale=sim_scale,
        store=store,
        sensors=sensors,
        incidents=incidents,
        roads=roads,
        pois=None,
        jurisdictions=None,
        days=days,
    )
    dem = demand_points(d["inc_x"], d["inc_y"], d["inc_cat"])
    seen = coverage_matrix_points(d["sensors"], dem["x_m"], dem["y_m"], roads=d["roads"] or None)
    covered = np.asarray(seen.sum(axis=1)).ravel() > 0
    if candidates is not None:
        c = read_table(candidates, required=("lon", "lat"))
        cx, cy = d["proj"].forward(numeric(c, "lon", candidates), numeric(c, "lat", candidates))
        ids = (
            c["site_id"].astype(str).to_numpy()
            if "site_id" in c.columns
            else np.array([f"C{i + 1}" for i in range(len(c))])
        )
    else:
        cx, cy = dem["x_m"].to_numpy()[~covered], dem["y_m"].to_numpy()[~covered]
        ids = np.array([f"D{i + 1}" for i in range(cx.size)])
    t0 = time.perf_counter()
    a = coverage_matrix(cx, cy, dem["x_m"], dem["y_m"], radius)
    sol = solve_mclp(
        a, dem["weight"].to_numpy(), k, covered=covered, method=method, time_limit_s=time_limit
    )
    elapsed = time.perf_counter() - t0
    best = sol.best
    lon, lat = d["proj"].inverse(np.asarray(cx)[best.sites], np.asarray(cy)[best.sites])
    sites = [
        {
            "rank": i + 1,
            "site_id": str(ids[j]),
            "lon": round(float(lo), 6),
            "lat": round(float(la), 6),
            "added_weight": round(float(g), 3),
        }
        for i, (j, lo, la, g) in enumerate(
            zip(best.sites, lon, lat, best.marginal_gains, strict=True)
        )
    ]
    out = {
        "k": k,
        "radius_m": radius,
        "method": best.method,
        "status": best.status,
        "demand_weight": round(float(dem["weight"].sum()), 3),
        "already_covered_weight": round(float(dem["weight"][covered].sum()), 3),
        "added_weight": round(best.objective, 3),
        "greedy_objective": round(sol.greedy.objective, 3),
        "exact_objective": None if sol.exact is None else round(sol.exact.objective, 3),
        "gap_greedy_to_exact": sol.gap_greedy_to_exact,
        "upper_bound": round(
            min(sol.greedy.upper_bound, sol.exact.upper_bound if sol.exact else np.inf), 3
        ),
        "seconds": round(elapsed, 3),
        "sites": sites,
    }
    if as_json:
        print_json(out)
        return
    console.print(
        f"K={k}, radius {radius:g} m: +{out['added_weight']} severity-weighted incidents covered "
        f"({out['method']}, {out['status']}); greedy {out['greedy_objective']}, exact "
        f"{out['exact_objective']}, gap {out['gap_greedy_to_exact']}; {elapsed:.2f} s"
    )
    t = Table(title="New sites (补盲点位)")
    for col in ("rank", "site_id", "lon", "lat", "added_weight"):
        t.add_column(col)
    for r in sites:
        t.add_row(*[str(r[c]) for c in ("rank", "site_id", "lon", "lat", "added_weight")])
    console.print(t)


@app.command("health")
@friendly_errors
def health(
    events: Annotated[Path, typer.Option(help="Events CSV/Parquet: sensor_id, seen_at.")],
    sensors: Annotated[Path, typer.Option(help="Sensors CSV/Parquet: sensor_id, kind.")],
    now: Annotated[str, typer.Option(help="Evaluation time (ISO 8601), same zone as seen_at.")],
    as_json: JsonOpt = False,
) -> None:
    """Sensor health (设备健康): silent sensors and collapsed volumes to send for maintenance."""
    from haizhou.analytics.coverage import sensor_health

    ev = read_table(events, required=("sensor_id", "seen_at"))
    s = read_table(sensors, required=("sensor_id", "kind"))
    ev["seen_at"] = pd.to_datetime(ev["seen_at"], errors="coerce")
    if ev["seen_at"].isna().any():
        row = int(np.flatnonzero(ev["seen_at"].isna().to_numpy())[0])
        raise InputError("not a time", file=str(events), row=row + 2, column="seen_at")
    try:
        now_ts = pd.Timestamp(now)
    except ValueError:
        raise HaizhouError(
            f"--now must be an ISO time like 2024-05-01T08:00; got {now!r}."
        ) from None
    h = sensor_health(ev, s, now=now_ts)
    bad = h[h["status"] != "ok"]
    if as_json:
        print_json(
            {
                "sensors": len(h),
                "maintenance": json.loads(
                    bad[["sensor_id", "kind", "status", "reason"]].to_json(orient="records")
                ),
            }
        )
        return
    console.print(f"{len(bad)} of {len(h)} sensors need maintenance (需维护)")
    for r in bad.itertuples():
        console.print(f"  {r.sensor_id} ({r.kind}): {r.status} — {r.reason}")
