"""``haizhou population``: floating-population verification (流动人口核查).

Sensing ring → comparison ring → determination ring on pseudonymised data. Identifiers in clear
in an input file (``device_or_plate``, ``id_number``) are pseudonymised here, at the boundary,
with the installation's key; the analytics only ever see pseudonyms. No biometric data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from haizhou.cli._common import (
    console,
    friendly_errors,
    get_pseudonymiser,
    get_settings,
    print_json,
)
from haizhou.cli.coverage import numeric, read_geojson, read_table, sim_city
from haizhou.errors import HaizhouError

app = typer.Typer(
    help="Floating-population verification (流动人口核查): presence, registry comparison, decisions.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.callback()
def population() -> None:
    """Floating-population verification (流动人口核查): presence, registry comparison, decisions."""


def _tokens(ps: Any, values: Any, kind: Any) -> np.ndarray:
    return np.array(ps.pseudonymise_many([str(v) for v in values], kind)[0], dtype=object)


def _device_tokens(ps: Any, raw: pd.Series) -> np.ndarray:
    from haizhou.security.pseudonym import IdentifierKind

    raw = raw.astype(str)
    mac = raw.str.contains(":").to_numpy()
    out = np.empty(len(raw), dtype=object)
    if mac.any():
        out[mac] = _tokens(ps, raw[mac], IdentifierKind.DEVICE)
    if (~mac).any():
        out[~mac] = _tokens(ps, raw[~mac], IdentifierKind.PLATE)
    return out


def _from_sim(ctx: typer.Context, scale: float) -> dict[str, Any]:
    """The synthetic city's sightings and registry, pseudonymised (and its truth, for scoring).

    The device registry (which phone or car belongs to whom) comes from the city's truth table:
    the sim has no separate real-name registry; for unregistered people it holds no person id,
    so the decision never sees the label.
    """
    from haizhou.security.pseudonym import IdentifierKind

    city = sim_city(scale)
    ps = get_pseudonymiser(ctx)
    feats = [f for f in city.pois["features"] if f["properties"]["kind"] == "residential_compound"]
    tr = city.truth.floating_residents
    dev = _tokens(ps, tr["device_id"], IdentifierKind.DEVICE)
    has_plate = (tr["plate"] != "").to_numpy()
    plate = np.full(len(tr), None, dtype=object)
    plate[has_plate] = _tokens(ps, tr["plate"][has_plate], IdentifierKind.PLATE)
    reg = (tr["id_number"] != "").to_numpy()
    person = np.full(len(tr), None, dtype=object)
    person[reg] = _tokens(ps, tr["id_number"][reg], IdentifierKind.ID_CARD)
    links = pd.concat(
        [
            pd.DataFrame({"pseudo_id": dev, "person_id": person}),
            pd.DataFrame({"pseudo_id": plate, "person_id": person}),
        ]
    ).dropna()
    return {
        "sightings": pd.DataFrame(
            {
                "pseudo_id": _device_tokens(ps, city.sightings["device_or_plate"]),
                "sensor_id": city.sightings["sensor_id"].to_numpy(),
                "seen_at": city.sightings["seen_at"],
            }
        ),
        "sensors": city.sensors[["sensor_id", "lon", "lat"]],
        "compounds": pd.DataFrame(
            {
                "compound": [f["properties"]["name"] for f in feats],
                "lon": [f["geometry"]["coordinates"][0] for f in feats],
                "lat": [f["geometry"]["coordinates"][1] for f in feats],
            }
        ),
        "registry": pd.DataFrame(
            {
                "person_id": _tokens(ps, city.persons["id_number"], IdentifierKind.ID_CARD),
                "registration": city.persons["registration"].to_numpy(),
                "compound": city.persons["compound"].to_numpy(),
            }
        ),
        "device_links": links.reset_index(drop=True),
        "truth": pd.DataFrame(
            {
                "device": dev,
                "plate": plate,
                "group": tr["group"].to_numpy(),
                "compound": tr["compound"].to_numpy(),
            }
        ),
    }


def _from_files(
    ctx: typer.Context,
    sightings: Path,
    sensors: Path,
    pois: Path,
    persons: Path,
    device_links: Path | None,
) -> dict[str, Any]:
    from haizhou.security.pseudonym import IdentifierKind

    ps = None
    s = read_table(sightings, required=("sensor_id", "seen_at"))
    if "pseudo_id" not in s.columns:
        if "device_or_plate" not in s.columns:
            raise HaizhouError(f"{sightings}: give a pseudo_id or a device_or_plate column.")
        ps = get_pseudonymiser(ctx)
        s["pseudo_id"] = _device_tokens(ps, s.pop("device_or_plate"))
    s["seen_at"] = pd.to_datetime(s["seen_at"], errors="coerce")
    if s["seen_at"].isna().any():
        row = int(np.flatnonzero(s["seen_at"].isna().to_numpy())[0]) + 2
        raise HaizhouError(f"{sightings}, row {row}, column seen_at: not a time.")
    sens = read_table(sensors, required=("sensor_id", "lon", "lat"))
    sens["lon"], sens["lat"] = numeric(sens, "lon", sensors), numeric(sens, "lat", sensors)
    doc = read_geojson(pois)
    feats = [
        f
        for f in doc["features"]
        if (f.get("properties") or {}).get("kind") == "residential_compound"
    ]
    if not feats:
        raise HaizhouError(f"{pois}: no feature with kind 'residential_compound'.")
    comp = pd.DataFrame(
        {
            "compound": [f["properties"]["name"] for f in feats],
            "lon": [f["geometry"]["coordinates"][0] for f in feats],
            "lat": [f["geometry"]["coordinates"][1] for f in feats],
        }
    )
    p = read_table(persons, required=("registration", "compound"))
    if "person_id" not in p.columns:
        if "id_number" not in p.columns:
            raise HaizhouError(f"{persons}: give a person_id or an id_number column.")
        ps = ps or get_pseudonymiser(ctx)
        p["person_id"] = _tokens(ps, p.pop("id_number"), IdentifierKind.ID_CARD)
    links = None
    if device_links is not None:
        links = read_table(device_links)
        if "pseudo_id" not in links.columns:
            ps = ps or get_pseudonymiser(ctx)
            links["pseudo_id"] = _device_tokens(ps, links.pop("device_or_plate"))
        if "person_id" not in links.columns:
            ps = ps or get_pseudonymiser(ctx)
            links["person_id"] = _tokens(ps, links.pop("id_number"), IdentifierKind.ID_CARD)
    return {
        "sightings": s[["pseudo_id", "sensor_id", "seen_at"]],
        "sensors": sens,
        "compounds": comp,
        "registry": p[["person_id", "registration", "compound"]],
        "device_links": links,
        "truth": None,
    }


def _run(d: dict[str, Any], *, now: str | None, window: int, threshold: float, radius: float):
    from haizhou.analytics.population import sensor_compounds, verify_population
    from haizhou.geo.projection import LocalProjection

    sens, comp = d["sensors"], d["compounds"]
    proj = LocalProjection.for_bounds(
        float(sens["lon"].min()),
        float(sens["lat"].min()),
        float(sens["lon"].max()),
        float(sens["lat"].max()),
    )
    sx, sy = proj.forward(sens["lon"].to_numpy(float), sens["lat"].to_numpy(float))
    cx, cy = proj.forward(comp["lon"].to_numpy(float), comp["lat"].to_numpy(float))
    links = sensor_compounds(
        sens["sensor_id"].to_numpy(), sx, sy, comp["compound"].to_numpy(), cx, cy, radius_m=radius
    )
    seen = pd.to_datetime(d["sightings"]["seen_at"])
    if now is None:
        last = seen.max()
        now_ts = (last.tz_localize(None) if last.tzinfo else last).normalize() + pd.Timedelta("12h")
    else:
        now_ts = pd.Timestamp(now)
    return verify_population(
        d["sightings"],
        links,
        d["registry"],
        now=now_ts,
        device_links=d["device_links"],
        window_nights=window,
        threshold=threshold,
    ), now_ts


def _score(d: dict[str, Any], decisions: pd.DataFrame) -> dict[str, Any]:
    from haizhou.analytics.population import score_decisions

    t = d["truth"]
    flagged = decisions.loc[decisions["decision"] == "unregistered_resident"]
    ids = set(flagged["pseudo_id"])
    pred = t["device"].isin(ids) | t["plate"].isin(ids)
    sc = score_decisions(pred, t["group"] == "unregistered_resident")
    home = t.melt(
        id_vars=["group", "compound"], value_vars=["device", "plate"], value_name="pseudo_id"
    ).dropna(subset=["pseudo_id"])
    m = flagged.merge(
        home[["pseudo_id", "compound"]].rename(columns={"compound": "true"}), on="pseudo_id"
    )
    return {
        "precision": sc.precision,
        "recall": sc.recall,
        "true_positive": sc.true_positive,
        "false_positive": sc.false_positive,
        "false_negative": sc.false_negative,
        "compound_accuracy": float((m["compound"] == m["true"]).mean()) if len(m) else None,
    }


@app.command("verify")
@friendly_errors
def verify(
    ctx: typer.Context,
    sim_scale: Annotated[
        float | None,
        typer.Option("--sim-scale", help="Use the synthetic city and score against its truth."),
    ] = None,
    sightings: Annotated[
        Path | None,
        typer.Option(
            help="Sightings CSV/Parquet: device_or_plate (or pseudo_id), sensor_id, seen_at (local time)."
        ),
    ] = None,
    sensors: Annotated[
        Path | None, typer.Option(help="Sensors CSV/Parquet: sensor_id, lon, lat.")
    ] = None,
    pois: Annotated[
        Path | None, typer.Option(help="Places GeoJSON with kind 'residential_compound'.")
    ] = None,
    persons: Annotated[
        Path | None,
        typer.Option(
            help="Registry CSV/Parquet: id_number (or person_id), registration, compound."
        ),
    ] = None,
    device_links: Annotated[
        Path | None, typer.Option(help="device_or_plate (or pseudo_id) → id_number (or person_id).")
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(help="Local time of the run (default: noon after the last sighting)."),
    ] = None,
    window: Annotated[int, typer.Option(help="Nights in the window.")] = 28,
    threshold: Annotated[float, typer.Option(help="Decision threshold on the posterior.")] = 0.9,
    radius: Annotated[
        float, typer.Option(help="A sensor stands for compounds within this many metres.")
    ] = 250.0,
    limit: Annotated[int, typer.Option(help="Rows shown (JSON: all).")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Decide per person and compound: unregistered resident, stale registration, or consistent."""
    if sim_scale is not None:
        d = _from_sim(ctx, sim_scale)
    elif None in (sightings, sensors, pois, persons):
        raise HaizhouError("give --sightings, --sensors, --pois and --persons, or --sim-scale.")
    else:
        d = _from_files(ctx, sightings, sensors, pois, persons, device_links)  # type: ignore[arg-type]
    v, now_ts = _run(d, now=now, window=window, threshold=threshold, radius=radius)
    dec = v.decisions
    counts = dec["decision"].value_counts().to_dict()
    out: dict[str, Any] = {
        "now": str(now_ts),
        "window_nights": window,
        "threshold": threshold,
        "model": {
            "p_resident": v.model.p_resident_,
            "p_other": v.model.p_other_,
            "prior": v.model.prior_,
        },
        "counts": counts,
    }
    if d["truth"] is not None:
        out["score_unregistered_resident"] = _score(d, dec)
    if as_json:
        out["decisions"] = json.loads(
            dec[dec["decision"] != "consistent"].to_json(orient="records", force_ascii=False)
        )
        print_json(out)
        return
    console.print(f"decisions: {counts}")
    if "score_unregistered_resident" in out:
        console.print(f"against the synthetic truth: {out['score_unregistered_resident']}")
    t = Table(title="Verification instructions (核查指令)")
    for c in ("pseudo_id", "compound", "decision", "score", "evidence_zh"):
        t.add_column(c)
    for r in dec[dec["decision"] != "consistent"].head(limit).itertuples():
        t.add_row(
            str(r.pseudo_id)[:12] + "…",
            str(r.compound),
            r.decision,
            f"{r.score:.3f}",
            r.evidence_zh,
        )
    console.print(t)


def _sessions(ctx: typer.Context) -> Any:
    from haizhou.store.engine import make_engine, make_sessionmaker

    engine = make_engine(get_settings(ctx).resolved_database_url)
    return engine, make_sessionmaker(engine)


@app.command("import")
@friendly_errors
def import_(
    ctx: typer.Context,
    sightings: Annotated[
        Path | None,
        typer.Option(
            help="Sightings CSV/Parquet (haizhou sim --out writes sightings.parquet): "
            "device_or_plate, sensor_id, seen_at."
        ),
    ] = None,
    links: Annotated[
        Path | None,
        typer.Option(
            help="Device registrations CSV/Parquet: device_or_plate, id_number (or the sim's "
            "truth/floating_residents.csv)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import sightings and device links into the store, pseudonymised at the boundary (入库)."""
    from datetime import UTC, datetime

    from haizhou.ingest.sightings import import_device_links, import_sightings

    if sightings is None and links is None:
        raise HaizhouError("give --sightings and/or --links.")
    settings = get_settings(ctx)
    ps = get_pseudonymiser(ctx)
    engine, sessions = _sessions(ctx)
    out: dict[str, Any] = {}
    try:
        with sessions() as session:
            if sightings is not None:
                out["sightings"] = import_sightings(
                    session, sightings, pseudonymiser=ps, zone=settings.timezone
                ).to_dict()
            if links is not None:
                out["links"] = import_device_links(
                    session, links, pseudonymiser=ps, source=links.name, now=datetime.now(UTC)
                )
                session.commit()
    finally:
        engine.dispose()
    print_json(out) if as_json else console.print(out)


@app.command("stream")
@friendly_errors
def stream(
    ctx: typer.Context,
    area: Annotated[str, typer.Option(help="Area topic level, '+' for every area.")] = "+",
    host: Annotated[str, typer.Option(help="MQTT broker host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="MQTT broker port.")] = 1883,
    seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    flush_rows: Annotated[int, typer.Option(help="Write every N buffered sightings.")] = 5000,
    as_json: JsonOpt = False,
) -> None:
    """Consume sightings from MQTT topic haizhou/sightings/<area> into the store (数据流接入)."""
    from haizhou.ingest.sightings_stream import SightingsConsumer

    settings = get_settings(ctx)
    engine, sessions = _sessions(ctx)
    try:
        consumer = SightingsConsumer(
            sessions=sessions,
            pseudonymiser=get_pseudonymiser(ctx),
            host=host,
            port=port,
            area=area,
            zone=settings.timezone,
            flush_rows=flush_rows,
        )
        if not as_json:
            console.print(f"listening on {consumer.topic} at {host}:{port} (Ctrl-C to stop)")
        stats = consumer.run_for(seconds).to_dict()
    finally:
        engine.dispose()
    print_json(stats) if as_json else console.print(stats)


@app.command("profile")
@friendly_errors
def profile(
    ctx: typer.Context,
    pseudo_id: Annotated[str, typer.Argument(help="Pseudonym of the device, plate or person.")],
    actor: Annotated[str, typer.Option(help="Who looks it up (recorded in the audit log).")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
    sightings: Annotated[
        Path | None,
        typer.Option(
            help="Sightings CSV/Parquet with pseudo_id, sensor_id, seen_at (default: the store)."
        ),
    ] = None,
    days: Annotated[int, typer.Option(help="Days of stored sightings to read.")] = 30,
    as_json: JsonOpt = False,
) -> None:
    """One id's presence profile; every look-up is written to the audit log first (审计)."""
    from datetime import UTC, datetime, timedelta

    from haizhou.ingest.sightings import sighting_frame
    from haizhou.security import audit

    settings = get_settings(ctx)
    engine, sessions = _sessions(ctx)
    now = datetime.now(UTC)
    try:
        with sessions() as session:
            audit.record(
                session=session,
                actor=actor,
                action="population.profile.read",
                target=pseudo_id,
                detail={"reason": reason, "source": str(sightings) if sightings else "store"},
                at=now,
            )
            session.commit()
            if sightings is None:
                mine = sighting_frame(
                    session,
                    start=now - timedelta(days=days),
                    end=now + timedelta(days=1),
                    zone=settings.timezone,
                    pseudo_ids=[pseudo_id],
                )
    finally:
        engine.dispose()
    if sightings is not None:
        s = read_table(sightings, required=("pseudo_id", "sensor_id", "seen_at"))
        mine = s[s["pseudo_id"].astype(str) == pseudo_id].copy()
        mine["seen_at"] = pd.to_datetime(mine["seen_at"])
    out = {
        "pseudo_id": pseudo_id,
        "sightings": len(mine),
        "first_seen": str(mine["seen_at"].min()) if len(mine) else None,
        "last_seen": str(mine["seen_at"].max()) if len(mine) else None,
        "sensors": mine["sensor_id"].value_counts().head(10).to_dict(),
    }
    if as_json:
        print_json(out)
    else:
        console.print(out)


@app.command("purge")
@friendly_errors
def purge(
    ctx: typer.Context,
    sightings: Annotated[
        Path | None,
        typer.Option(help="Sightings Parquet file to clean in place (default: the store)."),
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="Time of the clean-up (ISO 8601; default: now).")
    ] = None,
    retention_days: Annotated[
        float | None,
        typer.Option(help="Days raw sightings are kept (default: settings, 30)."),
    ] = None,
    actor: Annotated[str, typer.Option(help="Who purges (audit log).")] = "cli:population.purge",
    as_json: JsonOpt = False,
) -> None:
    """Delete raw sightings older than the retention period (原始数据定期删除)."""
    from datetime import UTC, datetime

    from haizhou.analytics.population import expired

    settings = get_settings(ctx)
    days = float(retention_days or settings.sightings_retention_days)
    now_ts = pd.Timestamp(now) if now else pd.Timestamp(datetime.now(UTC))
    if sightings is not None:
        if sightings.suffix.lower() not in (".parquet", ".pq"):
            raise HaizhouError(f"{sightings}: purge rewrites Parquet files only.")
        s = read_table(sightings, required=("seen_at",))
        old = expired(s["seen_at"], now=now_ts, retention_days=days)
        s[~old].to_parquet(sightings, index=False)
        out = {"deleted": int(old.sum()), "kept": int((~old).sum()), "retention_days": days}
        print_json(out) if as_json else console.print(out)
        return
    from haizhou.ingest.sightings import count_sightings, purge_sightings
    from haizhou.security import audit

    if now_ts.tzinfo is None:
        now_ts = now_ts.tz_localize(settings.timezone)
    at = now_ts.to_pydatetime()
    engine, sessions = _sessions(ctx)
    try:
        with sessions() as session:
            deleted = purge_sightings(session, now=at, retention_days=days)
            audit.record(
                session=session,
                actor=actor,
                action="population.sightings.purge",
                target="sightings",
                detail={"deleted": deleted, "retention_days": days, "now": at.isoformat()},
                at=datetime.now(UTC),
            )
            session.commit()
            kept = count_sightings(session)
    finally:
        engine.dispose()
    out = {"deleted": deleted, "kept": kept, "retention_days": days}
    print_json(out) if as_json else console.print(out)
