"""``haizhou forecast``: short-term crime forecasts and their backtest (短期预测 · 回测)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from haizhou.cli._common import console, existing_file, friendly_errors, print_json
from haizhou.errors import HaizhouError, InputError

app = typer.Typer(
    help="Short-term crime forecasting (短期预测): backtest methods on a CSV of events.",
    no_args_is_help=True,
)


@app.callback()
def forecast() -> None:
    """Short-term crime forecasting (短期预测): backtest methods on a CSV of events."""


def _parse_coverages(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise HaizhouError(
            f"--coverage must be comma-separated shares such as 0.01,0.05,0.1; got {text!r}."
        ) from None
    if not values or any(not (0 < v <= 1) for v in values):
        raise HaizhouError(f"--coverage values must be in (0, 1]; got {text!r}.")
    return values


def _parse_day(text: str, option: str) -> float:
    from haizhou.analytics.base import to_days

    try:
        return float(to_days(np.datetime64(text, "s")))
    except ValueError:
        raise HaizhouError(f"{option} must be a date like 2015-01-01; got {text!r}.") from None


def _require(frame: Any, column: str | None, option: str, path: Path) -> None:
    if column is not None and column not in frame.columns:
        raise InputError(
            f"no column {column!r} (given by {option}); the file has: "
            f"{', '.join(map(str, frame.columns))}.",
            file=str(path),
        )


def _bad_rows(mask: np.ndarray, path: Path, column: str, what: str, skip: bool) -> None:
    if not mask.any():
        return
    rows = np.flatnonzero(mask)
    if skip:
        console.print(
            f"[yellow]Skipped {rows.size} row(s) with {what} in column {column!r} "
            f"(first: row {rows[0] + 2}).[/]"
        )
        return
    raise InputError(
        f"{rows.size} row(s) have {what} (first at this row); fix them, or pass "
        "--skip-bad-rows to leave them out (they are counted on stderr).",
        file=str(path),
        row=int(rows[0]) + 2,  # 1-based, after the header line
        column=column,
    )


def load_events(
    path: Path,
    *,
    time_col: str,
    x_col: str | None,
    y_col: str | None,
    lon_col: str | None,
    lat_col: str | None,
    crs: str,
    category_col: str | None,
    zone_col: str | None,
    skip_bad_rows: bool,
) -> tuple[Any, np.ndarray | None, np.ndarray | None, Any]:
    """Read a CSV into an EventSet (metres); returns (events, categories, zones, projection)."""
    import pandas as pd

    from haizhou.analytics.base import EventSet, to_days

    existing_file(path)
    if (
        (x_col is None) == (lon_col is None)
        or (x_col is None) != (y_col is None)
        or (lon_col is None) != (lat_col is None)
    ):
        raise HaizhouError(
            "give either --x-col and --y-col (metres) or --lon-col and --lat-col (degrees)."
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(
            f"cannot read as UTF-8 CSV ({exc}); convert it with `haizhou import` first.",
            file=str(path),
        ) from None
    for col, opt in (
        (time_col, "--time-col"),
        (x_col, "--x-col"),
        (y_col, "--y-col"),
        (lon_col, "--lon-col"),
        (lat_col, "--lat-col"),
        (category_col, "--category-col"),
        (zone_col, "--zone-col"),
    ):
        _require(frame, col, opt, path)
    times = pd.to_datetime(frame[time_col], errors="coerce", format="mixed")
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        # keep the local wall time: forecast days run from local midnight to local midnight
        times = times.dt.tz_localize(None)
    bad = times.isna().to_numpy()
    _bad_rows(bad, path, time_col, "no readable time (want e.g. 2015-01-31 13:45)", skip_bad_rows)
    a_col, b_col = (x_col, y_col) if x_col else (lon_col, lat_col)
    a = pd.to_numeric(frame[a_col], errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(frame[b_col], errors="coerce").to_numpy(dtype=float)
    bad_xy = ~(np.isfinite(a) & np.isfinite(b))
    _bad_rows(bad_xy & ~bad, path, f"{a_col}/{b_col}", "no numeric coordinates", skip_bad_rows)
    keep = ~(bad | bad_xy)
    if not keep.any():
        raise InputError("no row has both a time and coordinates.", file=str(path))
    projection = None
    if lon_col:
        from haizhou.geo import CoordTransformer, Datum, LocalProjection

        lon, lat = a[keep], b[keep]
        try:
            datum = Datum(crs.lower())
        except ValueError:
            raise HaizhouError(
                f"--crs must be one of {', '.join(d.value for d in Datum)}; got {crs!r}."
            ) from None
        if datum is not Datum.WGS84:
            lon, lat = CoordTransformer.from_datums(datum, Datum.WGS84).transform(lon, lat)
        out = ~((np.abs(lon) <= 180) & (np.abs(lat) < 90))
        if out.any():
            row = int(np.flatnonzero(keep)[np.flatnonzero(out)[0]]) + 2
            raise InputError(
                "longitude/latitude out of range; are --lon-col and --lat-col swapped?",
                file=str(path),
                row=row,
                column=f"{lon_col}/{lat_col}",
            )
        projection = LocalProjection.for_bounds(lon.min(), lat.min(), lon.max(), lat.max())
        x, y = projection.forward(lon, lat)
    else:
        x, y = a[keep], b[keep]
    t = to_days(times[keep].to_numpy().astype("datetime64[s]"))
    cats = frame[category_col].to_numpy()[keep] if category_col else None
    zones = frame[zone_col].to_numpy()[keep] if zone_col else None
    return EventSet(t, x, y, cats), cats, zones, projection


def _load_area(path: Path | None, projection: Any) -> Any:
    if path is None:
        return None
    import shapely
    from shapely.geometry import shape

    existing_file(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a GeoJSON file ({exc}).", file=str(path)) from None
    if doc.get("type") == "FeatureCollection":
        geoms = [shape(f["geometry"]) for f in doc.get("features", []) if f.get("geometry")]
    elif doc.get("type") == "Feature":
        geoms = [shape(doc["geometry"])]
    else:
        geoms = [shape(doc)]
    polys = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        raise InputError("no Polygon or MultiPolygon in the GeoJSON.", file=str(path))
    area = shapely.union_all(polys)
    if projection is not None:
        area = shapely.transform(
            area, lambda xy: np.column_stack(projection.forward(xy[:, 0], xy[:, 1]))
        )
    return area


@app.command("backtest")
@friendly_errors
def backtest(
    file: Annotated[Path, typer.Argument(help="CSV of events, one row per event, UTF-8.")],
    time_col: Annotated[str, typer.Option(help="Column with the occurrence time.")] = "occurred_at",
    x_col: Annotated[str | None, typer.Option(help="Column with x, metres (projected).")] = None,
    y_col: Annotated[str | None, typer.Option(help="Column with y, metres (projected).")] = None,
    lon_col: Annotated[str | None, typer.Option(help="Column with longitude, degrees.")] = None,
    lat_col: Annotated[str | None, typer.Option(help="Column with latitude, degrees.")] = None,
    crs: Annotated[
        str, typer.Option(help="Datum of lon/lat: wgs84, gcj02 (Amap) or bd09 (Baidu).")
    ] = "wgs84",
    category_col: Annotated[
        str | None, typer.Option(help="Column with the event category.")
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(help="Target categories, comma-separated (default: every event)."),
    ] = None,
    zone_col: Annotated[
        str | None,
        typer.Option(help="Column with the jurisdiction (辖区), for the concentration report."),
    ] = None,
    area: Annotated[
        Path | None,
        typer.Option(help="GeoJSON polygon of the study area (same coordinates as the points)."),
    ] = None,
    cell_size_m: Annotated[float, typer.Option(help="Cell side, metres.")] = 150.0,
    train_days: Annotated[
        float, typer.Option(help="Training window before each origin, days.")
    ] = 365.0,
    test_start: Annotated[str, typer.Option(help="First forecast origin (YYYY-MM-DD).")] = ...,
    test_days: Annotated[float, typer.Option(help="Length of the test period, days.")] = 90.0,
    horizon_days: Annotated[float, typer.Option(help="Forecast horizon and step, days.")] = 1.0,
    coverage: Annotated[
        str, typer.Option(help="Shares of the study area flagged, comma-separated.")
    ] = "0.01,0.05,0.1",
    methods: Annotated[
        str,
        typer.Option(
            help="all, auto or names: naive,retrospective,prospective,kde,sepp,boosted,blend. "
            "auto picks by a backtest on the --test-days before --test-start, among the other "
            "names given (all methods when alone)."
        ),
    ] = "all",
    period_days: Annotated[
        float, typer.Option(help="Period of the concentration report, days.")
    ] = 30.0,
    skip_bad_rows: Annotated[
        bool, typer.Option(help="Leave out rows without a readable time or coordinates.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Rolling-origin backtest: hit rate, PAI and PEI per method and coverage.

    Protocol (docs/forecasting.md): square cells over the bounding box of all events in the file.

    Study area: the cells with at least one event, or --area.

    Origins every --horizon-days from --test-start through --test-days; each forecast is fitted on the target events of the --train-days before its origin and scored on [origin, origin + horizon).
    """
    from haizhou.analytics.forecast import parse_methods
    from haizhou.analytics.forecast.protocol import run_protocol

    try:
        names = parse_methods(methods)
    except ValueError as exc:
        raise HaizhouError(str(exc)) from None
    covs = _parse_coverages(coverage)
    for name, value in (
        ("--cell-size-m", cell_size_m),
        ("--train-days", train_days),
        ("--test-days", test_days),
        ("--horizon-days", horizon_days),
    ):
        if not (math.isfinite(value) and value > 0):
            raise HaizhouError(f"{name} must be > 0; got {value!r}.")
    start = _parse_day(test_start, "--test-start")
    events, cats, zones, projection = load_events(
        file,
        time_col=time_col,
        x_col=x_col,
        y_col=y_col,
        lon_col=lon_col,
        lat_col=lat_col,
        crs=crs,
        category_col=category_col,
        zone_col=zone_col,
        skip_bad_rows=skip_bad_rows,
    )
    if category is not None:
        if cats is None:
            raise HaizhouError("--category needs --category-col.")
        wanted = [c.strip() for c in category.split(",") if c.strip()]
        target = np.isin(cats, wanted)
        if not target.any():
            seen = ", ".join(sorted(set(map(str, cats)))[:20])
            raise InputError(
                f"no event has category {category!r}; categories seen: {seen}.",
                file=str(file),
                column=category_col,
            )
    else:
        target = np.ones(len(events), dtype=bool)
    polygon = _load_area(area, projection)

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(method: str, done: int, total: int) -> None:
            if method not in tasks:
                tasks[method] = bar.add_task(method, total=total)
            bar.update(tasks[method], completed=done)

        try:
            report = run_protocol(
                events,
                target,
                methods=names,
                cell_size_m=cell_size_m,
                train_days=train_days,
                test_start_days=start,
                test_days=test_days,
                horizon_days=horizon_days,
                coverages=covs,
                area=polygon,
                zone=zones,
                period_days=period_days,
                clock=time.perf_counter,
                progress=progress,
            )
        except ValueError as exc:
            raise HaizhouError(str(exc)) from None
    if report.n_events == 0:
        console.print(
            "[yellow]No target event falls in the test period; every score is undefined.[/]"
        )
    if as_json:
        print_json(report.to_dict())
        return
    _print_table(report)


def _fmt(v: float | None, digits: int) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _print_table(report: Any) -> None:
    from rich.console import Console

    out = Console()
    table = Table(
        title=f"Forecast backtest (预测回测): {report.n_events} test events, "
        f"{report.n_study} study cells"
    )
    for col in ("method", "coverage", "hit rate", "PAI", "PEI", "seconds"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, res in report.results.items():
        for row in res.rows():
            table.add_row(
                name,
                f"{row['coverage']:.0%}",
                _fmt(row["hit_rate"], 3),
                _fmt(row["pai"], 2),
                _fmt(row["pei"], 3),
                f"{report.seconds.get(name, 0.0):.1f}",
            )
    out.print(table)
    out.print(f"Best at {report.reference_coverage:.0%}: [bold]{report.best_method}[/]")
    if report.auto_choice:
        out.print(f"auto chose [bold]{report.auto_choice}[/] on the validation window")
    if report.concentration is not None:
        _print_concentration(out, report.concentration)


def _print_concentration(out: Any, conc: Any) -> None:
    """Zone shares per period, then the feedback-loop measures (see analytics.concentration)."""
    c = conc.base
    if len(c.zones) > 1:
        ct = Table(title="Concentration of flagged cells by jurisdiction (预测集中度)")
        ct.add_column("period start")
        for z in c.zones:
            ct.add_column(z, justify="right")
        ct.add_column("overlap with past top cells", justify="right")
        ct.add_row("study area", *[f"{v:.0%}" for v in c.area_share], "")
        for p, shares, ov in zip(c.periods_days, c.flag_share, c.past_top_overlap, strict=True):
            day = str(np.datetime64("1970-01-01") + np.timedelta64(int(p), "D"))
            ct.add_row(day, *[f"{v:.0%}" for v in shares], f"{ov:.0%}")
        out.print(ct)
    ft = Table(title="Do the flags follow past recording? (反馈环检查)")
    for col in ("period start", "Spearman vs past", "in top-10 % past cells", "Gini of flags"):
        ft.add_column(col, justify="right")
    for p, rho, top, g in zip(
        c.periods_days, conc.spearman_past, conc.top_decile_share, conc.gini_flags, strict=True
    ):
        day = str(np.datetime64("1970-01-01") + np.timedelta64(int(p), "D"))
        ft.add_row(day, _fmt(_finite(rho), 2), _fmt(_finite(top), 2), _fmt(_finite(g), 2))
    out.print(ft)
    out.print(f"Gini of flags at most {conc.gini_max:.2f} (the same cells every forecast).")


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


@app.command("run")
@friendly_errors
def run_command(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Option("--file", help="CSV of events (UTF-8); default: the store.")
    ] = None,
    time_col: Annotated[str, typer.Option(help="CSV column with the event time.")] = "occurred_at",
    x_col: Annotated[str | None, typer.Option(help="CSV column with x, metres.")] = None,
    y_col: Annotated[str | None, typer.Option(help="CSV column with y, metres.")] = None,
    lon_col: Annotated[str | None, typer.Option(help="CSV column with longitude.")] = None,
    lat_col: Annotated[str | None, typer.Option(help="CSV column with latitude.")] = None,
    crs: Annotated[str, typer.Option(help="Datum of lon/lat: wgs84, gcj02 or bd09.")] = "wgs84",
    category_col: Annotated[str | None, typer.Option(help="CSV column with the category.")] = None,
    jurisdiction_col: Annotated[
        str | None, typer.Option(help="CSV column with the jurisdiction (辖区).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL of the store (default: the settings').")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(help="Forecast origin (a day); default: the day after the last event."),
    ] = None,
    category: Annotated[
        str | None, typer.Option(help="Target categories, comma-separated (default all).")
    ] = None,
    jurisdiction: Annotated[
        str | None, typer.Option(help="Jurisdiction codes (store), comma-separated.")
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            help="auto or one of naive, retrospective, prospective, kde, sepp, boosted, blend."
        ),
    ] = "auto",
    candidates: Annotated[
        str, typer.Option(help="Methods auto chooses between, comma-separated.")
    ] = "naive,retrospective,prospective,kde,blend",
    cell_size_m: Annotated[float, typer.Option(help="Cell side, metres.")] = 150.0,
    train_days: Annotated[float, typer.Option(help="Training window, days.")] = 180.0,
    validation_days: Annotated[
        int, typer.Option(min=1, max=365, help="Daily backtest origins auto uses.")
    ] = 14,
    coverage: Annotated[float, typer.Option(help="Share of the study area flagged.")] = 0.05,
    limit: Annotated[int, typer.Option(min=1, help="Most cells shown.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Forecast the day after --end and rank the riskiest cells (短期预测 · 高风险网格).

    On the store or on a CSV (same options as `haizhou hotspots`). Events of every category
    size the grid and give place context; --category picks the target. With --method auto
    each candidate is backtested on the --validation-days days before --end (PAI at 5 %).
    The concentration report says how closely the flags follow past recording.
    """
    import pandas as pd

    from haizhou.analytics.forecast import parse_methods
    from haizhou.cli.analytics import EventSource, load_frame
    from haizhou.models.builtin._analysis import forecast_cells

    names = [method] if method == "auto" else None
    try:
        if names is None:
            names = parse_methods(method)
            if len(names) != 1 or names == ["auto"]:
                raise ValueError(f"--method takes auto or one method name; got {method!r}.")
        pool = parse_methods(candidates)
        if pool == ["auto"]:
            raise ValueError("--candidates lists methods, not auto.")
    except ValueError as exc:
        raise HaizhouError(str(exc)) from None
    if not (0 < coverage <= 1):
        raise HaizhouError(f"--coverage must be in (0, 1]; got {coverage!r}.")
    for name, value in (("--cell-size-m", cell_size_m), ("--train-days", train_days)):
        if not (math.isfinite(value) and value > 0):
            raise HaizhouError(f"{name} must be > 0; got {value!r}.")
    src = EventSource(
        file=file, time_col=time_col, x_col=x_col, y_col=y_col, lon_col=lon_col,
        lat_col=lat_col, crs=crs, category_col=category_col,
        jurisdiction_col=jurisdiction_col, database_url=database_url,
        end=None if end is None else str(pd.Timestamp(end).normalize()),
        jurisdiction=jurisdiction,
    )  # fmt: skip
    frame, _, t1 = load_frame(ctx, src, days=train_days + validation_days + 1, command="forecast")
    now = pd.Timestamp(end).normalize() if end is not None else t1.ceil("D")
    wanted = [c.strip() for c in category.split(",") if c.strip()] if category else None
    if wanted is not None and file is not None and category_col is None:
        raise HaizhouError("--category needs --category-col with --file.")
    target = np.ones(len(frame), dtype=bool) if wanted is None else frame["category"].isin(wanted)
    if not np.any(target):
        raise HaizhouError(
            f"no event of {', '.join(wanted or [])} in the {train_days:g} days before {now:%Y-%m-%d}."
        )
    try:
        result = forecast_cells(
            frame, target, now=now, method=names[0], candidates=pool, cell_size_m=cell_size_m,
            train_days=train_days, validation_days=validation_days, coverage=coverage,
        )  # fmt: skip
    except ValueError as exc:
        raise HaizhouError(str(exc)) from None
    rows = []
    for r in result.table.head(limit).itertuples():
        cx, cy = result.units.centre(int(r.unit))
        rows.append(
            {
                "rank": int(r.rank),
                "cell": r.cell,
                "risk": float(f"{r.risk:.6g}"),
                "level": str(r.level.value if hasattr(r.level, "value") else r.level),
                "past_count": int(r.past_count),
                "jurisdiction": r.jurisdiction,
                "centre": [round(cx, 7), round(cy, 7)],
                "geometry": result.units.geometry(int(r.unit)),
            }
        )
    payload = {
        "origin": now.isoformat(),
        "method": result.method,
        "validation_pai": {k: round(v, 4) for k, v in result.validation_pai.items()},
        "n_events": int(np.sum(target)),
        "n_study_cells": result.n_study,
        "flagged_cells": result.k,
        "coordinates": "lonlat" if result.units.projection is not None else "metres",
        "cells": rows,
        "concentration": result.concentration.to_dict(),
    }
    if as_json:
        print_json(payload)
        return
    from rich.console import Console

    out = Console()
    table = Table(
        title=f"Forecast for {now:%Y-%m-%d} (预测): {result.method}, top {result.k} of "
        f"{result.n_study} cells"
    )
    for col in ("rank", "cell", "level", "risk", "past count", "jurisdiction", "centre"):
        table.add_column(col, justify="right" if col in ("rank", "risk", "past count") else "left")
    for r in rows:
        table.add_row(str(r["rank"]), r["cell"], r["level"], f"{r['risk']:.3g}",
                      str(r["past_count"]), r["jurisdiction"] or "—",
                      f"{r['centre'][0]:.5f}, {r['centre'][1]:.5f}")  # fmt: skip
    out.print(table)
    if result.validation_pai:
        out.print("Validation PAI at 5 %: " + ", ".join(
            f"{k} {v:.2f}" for k, v in result.validation_pai.items()))  # fmt: skip
    summary = payload["concentration"]["summary"]
    out.print(
        "Concentration (集中度): "
        f"{_pct(summary['top_decile_share'])} of the flags in the top 10 % of past cells, "
        f"overlap with the past top cells {_pct(summary['past_top_overlap'])}."
    )


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"
