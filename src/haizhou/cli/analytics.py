"""``haizhou hotspots | emerging | repeats | warnings | nearrepeat``: incident analytics (警情研判).

Each command runs on the store (``--database-url``, ``--start/--end``, ``--category``,
``--jurisdiction``) or on any CSV of events (``--file`` with ``--time-col``, ``--x-col/--y-col``
in metres or ``--lon-col/--lat-col`` with ``--crs``, ``--category-col``), and prints a table or,
with ``--json``, one JSON object. The work is the same as the built-in models' (the helpers in
:mod:`haizhou.models.builtin._analysis`); nothing is written to the store except, for reads of
addresses and callers from the store, an audit entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from haizhou.cli._common import console, existing_file, friendly_errors, get_settings, print_json
from haizhou.errors import HaizhouError, InputError

__all__ = ["EventSource", "load_frame", "register"]

out = Console()

# --- options shared by every command ----------------------------------------------------------

FileOpt = Annotated[
    Path | None, typer.Option("--file", help="CSV of events (UTF-8); default: the store.")
]
TimeColOpt = Annotated[str, typer.Option(help="CSV column with the event time.")]
XColOpt = Annotated[str | None, typer.Option(help="CSV column with x, metres (projected).")]
YColOpt = Annotated[str | None, typer.Option(help="CSV column with y, metres (projected).")]
LonColOpt = Annotated[str | None, typer.Option(help="CSV column with longitude, degrees.")]
LatColOpt = Annotated[str | None, typer.Option(help="CSV column with latitude, degrees.")]
CrsOpt = Annotated[str, typer.Option(help="Datum of lon/lat: wgs84, gcj02 (Amap) or bd09 (Baidu).")]
CategoryColOpt = Annotated[str | None, typer.Option(help="CSV column with the category.")]
JurisdictionColOpt = Annotated[
    str | None, typer.Option(help="CSV column with the jurisdiction (辖区).")
]
DatabaseOpt = Annotated[
    str | None, typer.Option(help="SQLAlchemy URL of the store (default: the settings').")
]
StartOpt = Annotated[
    str | None, typer.Option(help="First day or time of the data read (YYYY-MM-DD[THH:MM]).")
]
EndOpt = Annotated[
    str | None,
    typer.Option(help="End (exclusive) of the data read; default: just after the last event."),
]
CategoryOpt = Annotated[str | None, typer.Option(help="Categories, comma-separated (default all).")]
JurisdictionOpt = Annotated[
    str | None, typer.Option(help="Jurisdiction codes, comma-separated (default all).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
LimitOpt = Annotated[int, typer.Option(min=1, help="Most rows shown.")]


@dataclass(frozen=True, slots=True)
class EventSource:
    """Where the events come from and how to read them (the common options)."""

    file: Path | None = None
    time_col: str = "occurred_at"
    x_col: str | None = None
    y_col: str | None = None
    lon_col: str | None = None
    lat_col: str | None = None
    crs: str = "wgs84"
    category_col: str | None = None
    jurisdiction_col: str | None = None
    address_col: str | None = None
    caller_col: str | None = None
    database_url: str | None = None
    start: str | None = None
    end: str | None = None
    category: str | None = None
    jurisdiction: str | None = None


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    return items or None


def _moment(text: str | None, option: str) -> pd.Timestamp | None:
    """A naive local timestamp from a date or date-time text."""
    if text is None:
        return None
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise HaizhouError(f"{option} must be a date like 2024-06-30; got {text!r}.") from None
    return stamp.tz_localize(None) if stamp.tzinfo else stamp


def _csv_frame(src: EventSource, *, personal: bool) -> pd.DataFrame:
    from haizhou.cli.forecast import _bad_rows, _require
    from haizhou.models.builtin._analysis import project_frame

    path = existing_file(src.file)  # type: ignore[arg-type]
    if (
        (src.x_col is None) == (src.lon_col is None)
        or (src.x_col is None) != (src.y_col is None)
        or (src.lon_col is None) != (src.lat_col is None)
    ):
        raise HaizhouError(
            "give either --x-col and --y-col (metres) or --lon-col and --lat-col (degrees)."
        )
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read as UTF-8 CSV ({exc}).", file=str(path)) from None
    for col, opt in (
        (src.time_col, "--time-col"),
        (src.x_col, "--x-col"),
        (src.y_col, "--y-col"),
        (src.lon_col, "--lon-col"),
        (src.lat_col, "--lat-col"),
        (src.category_col, "--category-col"),
        (src.jurisdiction_col, "--jurisdiction-col"),
        (src.address_col, "--address-col"),
        (src.caller_col, "--caller-col"),
    ):
        _require(raw, col, opt, path)
    times = pd.to_datetime(raw[src.time_col], errors="coerce", format="mixed")
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_localize(None)
    bad_t = times.isna().to_numpy()
    _bad_rows(bad_t, path, src.time_col, "no readable time (want e.g. 2024-01-31 13:45)", False)
    a_col, b_col = (src.x_col, src.y_col) if src.x_col else (src.lon_col, src.lat_col)
    a = pd.to_numeric(raw[a_col], errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(raw[b_col], errors="coerce").to_numpy(dtype=float)
    _bad_rows(~(np.isfinite(a) & np.isfinite(b)), path, f"{a_col}/{b_col}",
              "no numeric coordinates", False)  # fmt: skip

    def column(name: str | None, default: Any) -> Any:
        if name is None:
            return default
        values = raw[name].astype(str).str.strip()
        return values.where(values != "", None).to_numpy(object)

    frame = pd.DataFrame(
        {
            "t": times.to_numpy().astype("datetime64[ns]"),
            "category": column(src.category_col, "(all)"),
            "jurisdiction": column(src.jurisdiction_col, None),
            "source_id": [f"row {i + 2}" for i in range(len(raw))],
        }
    )
    frame["category"] = frame["category"].fillna("(none)")
    if personal:
        frame["address"] = column(src.address_col, None)
        frame["caller"] = column(src.caller_col, None)
        frame["caller_masked"] = None
    if src.lon_col:
        lon, lat = _to_wgs84(a, b, src.crs)
        frame["lon"], frame["lat"] = lon, lat
        return project_frame(frame)
    frame["lon"], frame["lat"] = np.nan, np.nan
    frame["x_m"], frame["y_m"] = a, b
    frame.attrs["projection"] = None
    return frame


def _to_wgs84(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    from haizhou.geo import CoordTransformer, Datum

    try:
        datum = Datum(crs.lower())
    except ValueError:
        raise HaizhouError(
            f"--crs must be one of {', '.join(d.value for d in Datum)}; got {crs!r}."
        ) from None
    if (np.abs(lon) > 180).any() or (np.abs(lat) >= 90).any():
        raise HaizhouError(
            "longitude/latitude out of range; are --lon-col and --lat-col swapped, or are "
            "these metres (use --x-col/--y-col)?"
        )
    if datum is not Datum.WGS84:
        lon, lat = CoordTransformer.from_datums(datum, Datum.WGS84).transform(lon, lat)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _store_frame(
    ctx: typer.Context,
    src: EventSource,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    personal: bool,
    command: str,
) -> pd.DataFrame:
    from haizhou.cli.users import cli_actor
    from haizhou.models.builtin._analysis import project_frame
    from haizhou.security import audit
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.repositories import incidents as incident_repo

    settings = get_settings(ctx)
    zone = settings.zone
    url = src.database_url or settings.resolved_database_url
    engine = make_engine(url)
    scope = _split(src.jurisdiction)
    category = _split(src.category)
    try:
        with make_sessionmaker(engine)() as session:
            start_aware = start.to_pydatetime().replace(tzinfo=zone)
            end_aware = end.to_pydatetime().replace(tzinfo=zone)
            if personal:
                audit.record(
                    session=session,
                    actor=cli_actor(),
                    action="incidents.personal.read",
                    target="incidents",
                    detail={
                        "command": command,
                        "fields": ["address", "caller_pseudonym", "caller_masked"],
                        "start": start_aware.isoformat(),
                        "end": end_aware.isoformat(),
                        "scope": scope,
                    },
                    at=datetime.now(UTC),
                )
                session.commit()
                rows = [
                    {
                        "reported_at": i.reported_at,
                        "source_id": i.id,
                        "lon": i.lon,
                        "lat": i.lat,
                        "category": i.category,
                        "jurisdiction": i.jurisdiction_code,
                        "address": i.address,
                        "caller": i.caller_pseudonym,
                        "caller_masked": i.caller_masked,
                    }
                    for i in incident_repo.iter_incidents(
                        session=session,
                        scope=scope,
                        start=start_aware,
                        end=end_aware,
                        category=category,
                    )
                ]
                raw = pd.DataFrame(
                    rows,
                    columns=["reported_at", "source_id", "lon", "lat", "category",
                             "jurisdiction", "address", "caller", "caller_masked"],
                )  # fmt: skip
            else:
                raw = incident_repo.incident_frame(
                    session=session, scope=scope, start=start_aware, end=end_aware,
                    category=category,
                ).rename(columns={"jurisdiction_code": "jurisdiction"})  # fmt: skip
    finally:
        engine.dispose()
    stamps = pd.to_datetime(raw["reported_at"], utc=True).dt.tz_convert(zone)
    frame = raw.drop(columns=["reported_at"]).assign(
        t=stamps.dt.tz_localize(None).astype("datetime64[ns]"),
        lon=pd.to_numeric(raw["lon"], errors="coerce").astype(float),
        lat=pd.to_numeric(raw["lat"], errors="coerce").astype(float),
    )
    return project_frame(frame)


def load_frame(
    ctx: typer.Context,
    src: EventSource,
    *,
    days: float | None,
    personal: bool = False,
    command: str = "",
) -> tuple[pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    """The events of ``[start, end)`` as an event frame, with the window actually used.

    ``end`` defaults to just after the last event; ``start`` to ``end - days`` (all events
    with ``days=None``).
    """
    start = _moment(src.start, "--start")
    end = _moment(src.end, "--end")
    if start is not None and end is not None and end <= start:
        raise HaizhouError(f"--end ({src.end}) must be after --start ({src.start}).")
    if src.file is not None:
        frame = _csv_frame(src, personal=personal)
        if frame.empty:
            raise InputError("the file holds no event.", file=str(src.file))
        end = end if end is not None else frame["t"].max() + pd.Timedelta(seconds=1)
        if start is None:
            start = frame["t"].min() if days is None else end - pd.Timedelta(days=days)
        keep = (frame["t"] >= start) & (frame["t"] < end)
        wanted = _split(src.category)
        if wanted is not None:
            if src.category_col is None:
                raise HaizhouError("--category needs --category-col with --file.")
            keep &= frame["category"].isin(wanted)
        places = _split(src.jurisdiction)
        if places is not None:
            if src.jurisdiction_col is None:
                raise HaizhouError("--jurisdiction needs --jurisdiction-col with --file.")
            keep &= frame["jurisdiction"].isin(places)
        attrs = dict(frame.attrs)
        frame = frame[keep.to_numpy()].reset_index(drop=True)
        frame.attrs.update(attrs)
        return frame, start, end
    if end is None:
        end = _last_event(ctx, src)
    if start is None:
        start = (end - pd.Timedelta(days=days)) if days is not None else pd.Timestamp("1970-01-02")
    frame = _store_frame(ctx, src, start=start, end=end, personal=personal, command=command)
    return frame, start, end


def _last_event(ctx: typer.Context, src: EventSource) -> pd.Timestamp:
    from sqlalchemy import func, select

    from haizhou.store.engine import make_engine
    from haizhou.store.tables import IncidentRow

    settings = get_settings(ctx)
    engine = make_engine(src.database_url or settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            last = conn.scalar(select(func.max(IncidentRow.reported_at)))
    finally:
        engine.dispose()
    if last is None:
        raise HaizhouError(
            "the store holds no incidents; import some (`haizhou import`) or give --file."
        )
    last = pd.Timestamp(last)
    last = last.tz_localize("UTC") if last.tzinfo is None else last
    return last.tz_convert(settings.zone).tz_localize(None) + pd.Timedelta(seconds=1)


def _source(
    file: Path | None,
    time_col: str,
    x_col: str | None,
    y_col: str | None,
    lon_col: str | None,
    lat_col: str | None,
    crs: str,
    category_col: str | None,
    jurisdiction_col: str | None,
    database_url: str | None,
    start: str | None,
    end: str | None,
    category: str | None,
    jurisdiction: str | None,
    **extra: Any,
) -> EventSource:
    return EventSource(
        file=file, time_col=time_col, x_col=x_col, y_col=y_col, lon_col=lon_col,
        lat_col=lat_col, crs=crs, category_col=category_col,
        jurisdiction_col=jurisdiction_col, database_url=database_url, start=start, end=end,
        category=category, jurisdiction=jurisdiction, **extra,
    )  # fmt: skip


def _window(start: pd.Timestamp, end: pd.Timestamp) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


def _units(frame: pd.DataFrame, resolution: int, cell_size_m: float | None) -> Any:
    from haizhou.models.builtin._analysis import SpatialUnits

    try:
        return SpatialUnits.for_frame(frame, resolution=resolution, cell_size_m=cell_size_m)
    except ValueError as exc:
        raise HaizhouError(str(exc)) from None


def _level(value: Any) -> str | None:
    return None if value is None or value != value else str(getattr(value, "value", value))


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="left" if col in _LEFT else "right")
    for row in rows:
        table.add_row(*["—" if v is None else str(v) for v in row])
    out.print(table)


_LEFT = {"cell", "level", "pattern", "jurisdiction", "category", "address", "caller",
         "top category", "window", "method", "event"}  # fmt: skip
_COLOURS = {"red": "red", "orange": "dark_orange", "yellow": "yellow", "blue": "blue"}


def _colour(level: str | None) -> str:
    return "—" if level is None else f"[{_COLOURS.get(level, 'white')}]{level}[/]"


def _run(func: Callable[[], None]) -> None:
    try:
        func()
    except ValueError as exc:
        raise HaizhouError(str(exc)) from None


# --- hotspots ---------------------------------------------------------------------------------


@friendly_errors
def hotspots(
    ctx: typer.Context,
    file: FileOpt = None,
    time_col: TimeColOpt = "occurred_at",
    x_col: XColOpt = None,
    y_col: YColOpt = None,
    lon_col: LonColOpt = None,
    lat_col: LatColOpt = None,
    crs: CrsOpt = "wgs84",
    category_col: CategoryColOpt = None,
    jurisdiction_col: JurisdictionColOpt = None,
    database_url: DatabaseOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    category: CategoryOpt = None,
    jurisdiction: JurisdictionOpt = None,
    days: Annotated[float, typer.Option(help="Days before --end when --start is not given.")] = 28,
    resolution: Annotated[int, typer.Option(min=5, max=11, help="H3 resolution.")] = 8,
    cell_size_m: Annotated[
        float | None,
        typer.Option(help="Square cells of this side (metres) instead of H3 hexagons."),
    ] = None,
    include_blue: Annotated[bool, typer.Option(help="Also list blue (z >= 1.96) units.")] = False,
    limit: LimitOpt = 30,
    as_json: JsonOpt = False,
) -> None:
    """Hot spots with significance (热点): Getis-Ord Gi* with FDR → red/orange/yellow/blue.

    H3 hexagons when the events have lon/lat, square cells for metres (or --cell-size-m).
    """
    from haizhou.models.builtin._analysis import hotspot_table

    src = _source(file, time_col, x_col, y_col, lon_col, lat_col, crs, category_col,
                  jurisdiction_col, database_url, start, end, category, jurisdiction)  # fmt: skip
    frame, t0, t1 = load_frame(ctx, src, days=days, command="hotspots")
    if len(frame) < 2:
        raise HaizhouError(f"only {len(frame)} event(s) between {t0} and {t1}; nothing to map.")
    units = _units(frame, resolution, cell_size_m)
    table = hotspot_table(frame, units)
    if not include_blue:
        table = table[table["level"].map(_level) != "blue"]
    table = table.head(limit)
    rows = []
    for r in table.itertuples():
        cx, cy = units.centre(int(r.unit))
        rows.append(
            {
                "cell": r.cell,
                "level": _level(r.level),
                "count": int(r.count),
                "z": round(float(r.z), 4),
                "p": float(f"{r.p:.4g}"),
                "p_fdr": float(f"{r.p_fdr:.4g}"),
                "jurisdiction": r.jurisdiction,
                "centre": [round(cx, 7), round(cy, 7)],
                "geometry": units.geometry(int(r.unit)),
            }
        )
    result = {
        "window": _window(t0, t1),
        "n_events": len(frame),
        "units": units.kind,
        "resolution": units.resolution,
        "cell_size_m": None if units.grid is None else units.grid.cell_size_m,
        "n_units": units.n,
        "coordinates": "lonlat" if units.kind == "h3" or units.projection else "metres",
        "hotspots": rows,
    }
    if as_json:
        print_json(result)
        return
    _table(
        f"Hot spots (热点, Gi* + FDR): {len(frame)} events, {units.n} {units.kind} units, "
        f"{t0:%Y-%m-%d} – {t1:%Y-%m-%d}",
        ["cell", "level", "count", "z", "p (FDR)", "jurisdiction", "centre"],
        [[r["cell"], _colour(r["level"]), r["count"], f"{r['z']:.2f}", f"{r['p_fdr']:.2g}",
          r["jurisdiction"], f"{r['centre'][0]:.5f}, {r['centre'][1]:.5f}"] for r in rows],
    )  # fmt: skip


# --- emerging ---------------------------------------------------------------------------------


@friendly_errors
def emerging(
    ctx: typer.Context,
    file: FileOpt = None,
    time_col: TimeColOpt = "occurred_at",
    x_col: XColOpt = None,
    y_col: YColOpt = None,
    lon_col: LonColOpt = None,
    lat_col: LatColOpt = None,
    crs: CrsOpt = "wgs84",
    category_col: CategoryColOpt = None,
    jurisdiction_col: JurisdictionColOpt = None,
    database_url: DatabaseOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    category: CategoryOpt = None,
    jurisdiction: JurisdictionOpt = None,
    steps: Annotated[int, typer.Option(min=3, max=104, help="Periods in the cube.")] = 8,
    step_days: Annotated[float, typer.Option(help="Length of a period, days.")] = 7.0,
    resolution: Annotated[int, typer.Option(min=5, max=11, help="H3 resolution.")] = 8,
    cell_size_m: Annotated[
        float | None, typer.Option(help="Square cells of this side (metres) instead of H3.")
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every hot/cold pattern, not only actionable ones.")
    ] = False,
    limit: LimitOpt = 30,
    as_json: JsonOpt = False,
) -> None:
    """Emerging hot spots (时空热点): new, consecutive, intensifying, persistent … per unit.

    The cube ends at --end (default just after the last event) and has --steps periods.
    """
    from haizhou.models.builtin._analysis import emerging_table

    if not (math.isfinite(step_days) and step_days > 0):
        raise HaizhouError(f"--step-days must be > 0; got {step_days!r}.")
    src = _source(file, time_col, x_col, y_col, lon_col, lat_col, crs, category_col,
                  jurisdiction_col, database_url, None, end, category, jurisdiction)  # fmt: skip
    frame, t0, t1 = load_frame(ctx, src, days=steps * step_days, command="emerging")
    if len(frame) < 2:
        raise HaizhouError(f"only {len(frame)} event(s) between {t0} and {t1}.")
    units = _units(frame, resolution, cell_size_m)
    table = emerging_table(frame, units, end=t1, steps=steps, step_days=step_days,
                           include_all=show_all)  # fmt: skip
    if table.empty and len(frame):
        console.print(
            "[yellow]No pattern: every period needs events in more than one unit, and some "
            "units must be significant hot or cold spots.[/]"
        )
    rows = [
        {
            "cell": r.cell,
            "pattern": r.pattern,
            "title_zh": r.title_zh,
            "level": _level(r.level),
            "trend_z": round(float(r.trend_z), 4),
            "trend_p": float(f"{r.trend_p:.4g}"),
            "hot_steps": int(r.hot_steps),
            "counts": r.counts,
            "jurisdiction": r.jurisdiction,
            "geometry": units.geometry(int(r.unit)),
        }
        for r in table.head(limit).itertuples()
    ]
    result = {
        "window": _window(t0, t1),
        "steps": steps,
        "step_days": step_days,
        "n_events": len(frame),
        "units": units.kind,
        "n_units": units.n,
        "patterns": rows,
    }
    if as_json:
        print_json(result)
        return
    _table(
        f"Emerging hot spots (时空热点): {steps} × {step_days:g} days to {t1:%Y-%m-%d}",
        ["cell", "pattern", "level", "hot steps", "trend z", "counts", "jurisdiction"],
        [[r["cell"], f"{r['title_zh']} {r['pattern']}", _colour(r["level"]), r["hot_steps"],
          f"{r['trend_z']:.2f}", " ".join(map(str, r["counts"])), r["jurisdiction"]]
         for r in rows],
    )  # fmt: skip


# --- repeats ----------------------------------------------------------------------------------


@friendly_errors
def repeats(
    ctx: typer.Context,
    by: Annotated[str, typer.Option(help="address (高发部位) or caller (重复报警).")] = "address",
    file: FileOpt = None,
    time_col: TimeColOpt = "occurred_at",
    x_col: XColOpt = None,
    y_col: YColOpt = None,
    lon_col: LonColOpt = None,
    lat_col: LatColOpt = None,
    crs: CrsOpt = "wgs84",
    category_col: CategoryColOpt = None,
    jurisdiction_col: JurisdictionColOpt = None,
    address_col: Annotated[str | None, typer.Option(help="CSV column with the address.")] = None,
    caller_col: Annotated[
        str | None, typer.Option(help="CSV column with the caller's pseudonym (never numbers).")
    ] = None,
    database_url: DatabaseOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    category: CategoryOpt = None,
    jurisdiction: JurisdictionOpt = None,
    days: Annotated[float, typer.Option(help="Days before --end when --start is not given.")] = 90,
    min_count: Annotated[int, typer.Option(min=2, help="Fewest incidents listed.")] = 3,
    snap_m: Annotated[float, typer.Option(min=0, help="Join places this close, metres.")] = 30.0,
    half_life_days: Annotated[float, typer.Option(help="Recency half-life, days.")] = 30.0,
    limit: LimitOpt = 30,
    as_json: JsonOpt = False,
) -> None:
    """Repeat places or callers (高发部位 · 重复报警), ranked by recency-weighted count.

    Callers are pseudonyms: only a masked form is ever shown. Reading them from the store is
    written to the audit log.
    """
    from haizhou.analytics.repeats import repeat_callers, repeat_places
    from haizhou.models.builtin._analysis import mask_pseudonym

    if by not in ("address", "caller"):
        raise HaizhouError(f"--by must be address or caller; got {by!r}.")
    if file is not None and by == "address" and address_col is None:
        raise HaizhouError("--by address on a file needs --address-col.")
    if file is not None and by == "caller" and caller_col is None:
        raise HaizhouError("--by caller on a file needs --caller-col (pseudonyms).")
    src = _source(file, time_col, x_col, y_col, lon_col, lat_col, crs, category_col,
                  jurisdiction_col, database_url, start, end, category, jurisdiction,
                  address_col=address_col, caller_col=caller_col)  # fmt: skip
    frame, t0, t1 = load_frame(ctx, src, days=days, personal=True, command=f"repeats --by {by}")
    rows: list[dict[str, Any]] = []
    if not frame.empty:
        now = frame["t"].max()
        if by == "address":
            table = repeat_places(
                frame["address"].to_numpy(object), frame["lon"].to_numpy(float),
                frame["lat"].to_numpy(float), frame["t"].to_numpy(),
                frame["category"].to_numpy(object), now=now, snap_m=snap_m,
                min_count=min_count, half_life_days=half_life_days,
            )  # fmt: skip
        else:
            table = repeat_callers(
                frame["caller"].to_numpy(object), frame["t"].to_numpy(),
                frame["category"].to_numpy(object), now=now, min_count=min_count,
                half_life_days=half_life_days,
            )  # fmt: skip
        for r in table.head(limit).itertuples():
            members = frame.iloc[list(r.event_index)]
            codes = members["jurisdiction"].dropna()
            row: dict[str, Any] = {
                "rank": int(r[1]),
                "count": int(r.count),
                "score": round(float(r.score), 4),
                "first": pd.Timestamp(r.first_time).isoformat(),
                "last": pd.Timestamp(r.last_time).isoformat(),
                "top_category": r.top_category,
                "categories": r.categories,
                "jurisdiction": str(codes.mode().iloc[0]) if len(codes) else None,
            }
            if by == "address":
                row |= {"address": r.address, "lon": _num(r.lon), "lat": _num(r.lat)}
                if frame["lon"].isna().all():
                    row |= {
                        "x_m": _num(members["x_m"].median()),
                        "y_m": _num(members["y_m"].median()),
                    }
            else:
                masked = members["caller_masked"].dropna()
                row["caller"] = (
                    str(masked.mode().iloc[0]) if len(masked) else mask_pseudonym(r.caller)
                )
            rows.append(row)
    result = {"by": by, "window": _window(t0, t1), "n_events": len(frame), "repeats": rows}
    if as_json:
        print_json(result)
        return
    key = "address" if by == "address" else "caller"
    _table(
        f"Repeat {'places (高发部位)' if by == 'address' else 'callers (重复报警)'}: "
        f"{len(frame)} events, {t0:%Y-%m-%d} – {t1:%Y-%m-%d}",
        ["rank", key, "count", "score", "top category", "last", "jurisdiction"],
        [[r["rank"], r[key] or "(no address)", r["count"], f"{r['score']:.2f}",
          r["top_category"], r["last"][:16], r["jurisdiction"]] for r in rows],
    )  # fmt: skip


def _num(v: Any) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 7)


# --- warnings ---------------------------------------------------------------------------------


@friendly_errors
def warnings_command(
    ctx: typer.Context,
    file: FileOpt = None,
    time_col: TimeColOpt = "occurred_at",
    x_col: XColOpt = None,
    y_col: YColOpt = None,
    lon_col: LonColOpt = None,
    lat_col: LatColOpt = None,
    crs: CrsOpt = "wgs84",
    category_col: CategoryColOpt = None,
    jurisdiction_col: JurisdictionColOpt = None,
    database_url: DatabaseOpt = None,
    end: Annotated[
        str | None,
        typer.Option(help="End of the checked window (a day; default: after the last event)."),
    ] = None,
    category: CategoryOpt = None,
    jurisdiction: JurisdictionOpt = None,
    window_days: Annotated[int, typer.Option(min=1, max=62, help="Window checked, days.")] = 7,
    history_days: Annotated[
        int, typer.Option(min=28, max=1095, help="History of the baseline, days.")
    ] = 182,
    min_observed: Annotated[int, typer.Option(min=1, help="Fewest events for a warning.")] = 5,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every series, also those without a level.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Trend early warning (趋势预警) per jurisdiction × category: observed against a baseline
    aware of weekday, holidays and trend, with the exceedance probability and a level.

    Without a jurisdiction column every event is in one series per category ("all").
    """
    from haizhou.analytics.warnings import trend_warnings
    from haizhou.models.builtin.warnings_trend import daily_counts

    end_day = _moment(end, "--end")
    if end_day is not None:
        end_day = end_day.normalize()
    src = _source(file, time_col, x_col, y_col, lon_col, lat_col, crs, category_col,
                  jurisdiction_col, database_url, None,
                  None if end_day is None else end_day.isoformat(), category,
                  jurisdiction)  # fmt: skip
    frame, t0, t1 = load_frame(ctx, src, days=window_days + history_days + 1, command="warnings")
    now = end_day if end_day is not None else t1.ceil("D")
    if frame.empty:
        raise HaizhouError(f"no event between {t0} and {t1}.")
    frame = frame.assign(jurisdiction=frame["jurisdiction"].fillna("all"))
    counts = daily_counts(frame)
    found: list[Any] = []
    _run(lambda: found.extend(trend_warnings(
        counts, now=np.datetime64(now.to_pydatetime(), "s"), window_days=float(window_days),
        history_days=float(history_days), period_hours=24, min_observed=min_observed,
        include_all=show_all,
    )))  # fmt: skip
    rows = [w.to_dict() for w in found]
    result = {"now": now.isoformat(), "window_days": window_days, "history_days": history_days,
              "n_events": len(frame), "warnings": rows}  # fmt: skip
    if as_json:
        print_json(result)
        return
    _table(
        f"Trend warnings (趋势预警): {window_days} days to {now:%Y-%m-%d}, "
        f"baseline {history_days} days",
        ["jurisdiction", "category", "observed", "expected", "probability", "level"],
        [[r["jurisdiction"], r["category"], r["observed"], f"{r['expected']:.1f}",
          f"{r['probability']:.2g}", _colour(r["level"])] for r in rows],
    )  # fmt: skip


# --- near repeat ------------------------------------------------------------------------------


@friendly_errors
def nearrepeat(
    ctx: typer.Context,
    file: FileOpt = None,
    time_col: TimeColOpt = "occurred_at",
    x_col: XColOpt = None,
    y_col: YColOpt = None,
    lon_col: LonColOpt = None,
    lat_col: LatColOpt = None,
    crs: CrsOpt = "wgs84",
    category_col: CategoryColOpt = None,
    jurisdiction_col: JurisdictionColOpt = None,
    database_url: DatabaseOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    category: CategoryOpt = None,
    jurisdiction: JurisdictionOpt = None,
    days: Annotated[float, typer.Option(help="Days before --end when --start is not given.")] = 365,
    band_m: Annotated[float, typer.Option(help="Distance band, metres.")] = 100.0,
    space_bands: Annotated[int, typer.Option(min=1, max=20, help="Distance bands.")] = 4,
    band_days: Annotated[float, typer.Option(help="Time band, days.")] = 7.0,
    time_bands: Annotated[int, typer.Option(min=1, max=20, help="Time bands.")] = 4,
    permutations: Annotated[int, typer.Option(min=19, help="Monte Carlo shuffles.")] = 99,
    alpha: Annotated[float, typer.Option(help="Significance of a band.")] = 0.05,
    seed: Annotated[int, typer.Option(help="Seed of the shuffles.")] = 20240101,
    limit: LimitOpt = 30,
    as_json: JsonOpt = False,
) -> None:
    """Near-repeat analysis (近重复): Knox test over space-time bands, and the zones around the
    newest events for the distance and window the test finds.

    Give --category (e.g. 入室盗窃) for burglaries; on a file with --category-col.
    """
    from haizhou.analytics.near_repeat import NearRepeatZones, knox_test
    from haizhou.models.builtin._analysis import event_set

    for name, value in (("--band-m", band_m), ("--band-days", band_days)):
        if not (math.isfinite(value) and value > 0):
            raise HaizhouError(f"{name} must be > 0; got {value!r}.")
    if not 0 < alpha < 1:
        raise HaizhouError(f"--alpha must be in (0, 1); got {alpha!r}.")
    src = _source(file, time_col, x_col, y_col, lon_col, lat_col, crs, category_col,
                  jurisdiction_col, database_url, start, end, category, jurisdiction)  # fmt: skip
    frame, t0, t1 = load_frame(ctx, src, days=days, command="nearrepeat")
    if len(frame) < 3:
        raise HaizhouError(f"only {len(frame)} event(s) between {t0} and {t1}; need more.")
    events = event_set(frame)
    s_edges = band_m * np.arange(space_bands + 1)
    t_edges = band_days * np.arange(time_bands + 1)
    knox: list[Any] = []
    _run(lambda: knox.append(knox_test(
        events.x_m, events.y_m, events.t_days, spatial_bands_m=s_edges,
        temporal_bands_days=t_edges, same_location_m=None, permutations=permutations,
        random_state=seed,
    )))  # fmt: skip
    res = knox[0]
    rows_lab, cols_lab = list(res.row_labels), list(res.column_labels)
    zones_out: list[dict[str, Any]] = []
    zone_info: dict[str, Any] | None = None
    try:
        zones = NearRepeatZones.from_knox(res, alpha=alpha)
    except ValueError as exc:
        console.print(f"[yellow]{exc}[/]")
    else:
        now = float(np.asarray(events.t_days).max()) + 1e-6
        zones.fit(events, now=now)
        projection = frame.attrs.get("projection")
        zone_info = {"distance_m": float(zones.distance_m), "window_days": float(zones.window_days)}
        for z in zones.zones_.head(limit).itertuples():
            row = frame.iloc[int(z.event_index)]
            entry = {
                "event": str(row.get("source_id", int(z.event_index))),
                "time": pd.Timestamp(row["t"]).isoformat(),
                "x_m": round(float(z.x_m), 2),
                "y_m": round(float(z.y_m), 2),
                "valid_until": (
                    pd.Timestamp("1970-01-01") + pd.Timedelta(days=float(z.valid_until_days))
                ).isoformat(),
            }
            if projection is not None:
                lon, lat = projection.inverse(z.x_m, z.y_m)
                entry |= {"lon": round(float(lon), 7), "lat": round(float(lat), 7)}
            zones_out.append(entry)
    result = {
        "window": _window(t0, t1),
        "n_events": len(frame),
        "spatial_bands": rows_lab,
        "temporal_bands": cols_lab,
        "observed": res.observed.tolist(),
        "knox_ratio": None if res.knox_ratio is None else np.round(res.knox_ratio, 4).tolist(),
        "p_sim": None if res.p_sim is None else np.round(res.p_sim, 4).tolist(),
        "zone": zone_info,
        "zones": zones_out,
    }
    if as_json:
        print_json(result)
        return
    ratio = res.knox_ratio if res.knox_ratio is not None else np.full(res.observed.shape, np.nan)
    p = res.p_sim if res.p_sim is not None else np.full(res.observed.shape, np.nan)
    _table(
        f"Knox ratios (近重复 Knox 比值, * p <= {alpha:g}): {len(frame)} events",
        ["distance", *cols_lab],
        [[lab, *[f"{ratio[i, j]:.2f}{'*' if p[i, j] <= alpha and ratio[i, j] > 1 else ''}"
                 for j in range(ratio.shape[1])]] for i, lab in enumerate(rows_lab)],
    )  # fmt: skip
    if zone_info:
        out.print(
            f"Near-repeat zone: {zone_info['distance_m']:g} m for {zone_info['window_days']:g} "
            f"days after each event; {len(zones_out)} active at {t1:%Y-%m-%d %H:%M}."
        )
        _table(
            "Active zones (近重复风险区)",
            ["event", "time", "valid until", "place"],
            [[z["event"], z["time"][:16], z["valid_until"][:16],
              f"{z['lon']:.5f}, {z['lat']:.5f}" if "lon" in z else f"{z['x_m']}, {z['y_m']}"]
             for z in zones_out],
        )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``hotspots``, ``emerging``, ``repeats``, ``warnings`` and ``nearrepeat``."""
    app.command("hotspots")(hotspots)
    app.command("emerging")(emerging)
    app.command("repeats")(repeats)
    app.command("warnings")(warnings_command)
    app.command("nearrepeat")(nearrepeat)
