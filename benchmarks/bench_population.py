"""Benchmark: sightings into presence profiles (感知圈吞吐), ours against a plain Python loop.

Input: the synthetic city's sightings (``--scale``), tiled ``--copies`` times with distinct
pseudonyms and shifted days so the frame has millions of rows. Ours:
``presence_profiles`` (vectorised pandas/NumPy group-bys over id, compound and night).
Baseline: the obvious per-row Python loop filling dicts of sets, on the first ``--baseline-rows``
rows (scaled to throughput, sightings per second). Target: ≥ 50,000 sightings/s.

Quality figures on the same run: precision and recall of "unregistered resident" against the
city's truth, from ``verify_population`` (window 28 nights, threshold 0.9, radius 250 m).

Quality through the store, same run: the city written and imported as in production, then
the built-in model ``population.verification`` run on it and scored on the truth (person
level: a flagged device or plate of an unregistered resident counts for that person).

Store path (感知记录入库), same run: the first ``--store-rows`` tiled sightings written to a
Parquet file like ``haizhou sim --out`` writes, imported into a fresh SQLite store with
:func:`haizhou.ingest.sightings.import_sightings` (keyed pseudonymisation, idempotent
``INSERT … ON CONFLICT DO NOTHING``), read back with ``sighting_frame`` and turned into presence
profiles. Baseline: one ORM ``session.add`` per sighting (``--store-baseline-rows`` rows).
CPU seconds (process time) are printed beside wall seconds: the machine is shared.

Prints one JSON line. Run: ``.venv/bin/python benchmarks/bench_population.py``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from haizhou.analytics.population import (
    night_of,
    presence_profiles,
    score_decisions,
    sensor_compounds,
    verify_population,
)
from haizhou.geo.projection import LocalProjection
from haizhou.sim import CityConfig, generate_city


def naive(s: pd.DataFrame, links: pd.DataFrame, first, last) -> dict:
    comp_of: dict[str, list[str]] = {}
    for sid, comp in zip(links["sensor_id"], links["compound"], strict=True):
        comp_of.setdefault(sid, []).append(comp)
    nights: dict[tuple[str, str], set] = {}
    for pid, sid, t in zip(s["pseudo_id"], s["sensor_id"], s["seen_at"], strict=True):
        h = t.hour
        if h >= 21:
            n = t.date()
        elif h < 6:
            n = (t - pd.Timedelta(days=1)).date()
        else:
            continue
        if not first <= n <= last:
            continue
        for c in comp_of.get(sid, ()):
            nights.setdefault((pid, c), set()).add(n)
    return {k: len(v) for k, v in nights.items()}


def store_path(big: pd.DataFrame, links: pd.DataFrame, now, rows: int, base_rows: int) -> dict:
    """Import → read back → presence profiles through a fresh SQLite store, and the baseline."""
    import tempfile
    from datetime import UTC
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    from haizhou.ingest.sightings import import_sightings, sighting_frame
    from haizhou.security.pseudonym import Pseudonymiser
    from haizhou.store import migrate
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.tables import SightingRow

    sub = big.iloc[:rows]
    seen = pd.DatetimeIndex(sub["seen_at"]).tz_localize("Asia/Shanghai")
    ps = Pseudonymiser(b"bench-key-0123456789abcdef0123456789")
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sightings.parquet"
        # device ids in clear, as the sim writes them (the '#copy' suffix keeps them distinct)
        clear = ("02:00:" + sub["pseudo_id"].astype(str)).to_numpy()
        pq.write_table(
            pa.table(
                {
                    "device_or_plate": pa.array(clear, pa.string()),
                    "sensor_id": pa.array(sub["sensor_id"].astype(str).to_numpy(), pa.string()),
                    "seen_at": pa.array(seen.tz_convert("UTC").as_unit("ms")).cast(
                        pa.timestamp("ms", tz="Asia/Shanghai")
                    ),
                }
            ),
            path,
        )
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            w0, c0 = time.perf_counter(), time.process_time()
            result = import_sightings(session, path, pseudonymiser=ps)
            imp_wall, imp_cpu = time.perf_counter() - w0, time.process_time() - c0
            w0, c0 = time.perf_counter(), time.process_time()
            end = pd.Timestamp(now).tz_localize("Asia/Shanghai").to_pydatetime()
            frame = sighting_frame(
                session, start=end - pd.Timedelta(days=400), end=end, zone="Asia/Shanghai"
            )
            comp, _ = presence_profiles(frame, links, now=now, window_nights=28)
            read_wall, read_cpu = time.perf_counter() - w0, time.process_time() - c0
        # baseline: one ORM object per sighting, pseudonymised one at a time
        base_url = f"sqlite:///{tmp}/base.db"
        migrate.upgrade(base_url)
        base_engine = make_engine(base_url)
        b = sub.iloc[:base_rows]
        with make_sessionmaker(base_engine)() as session:
            w0, c0 = time.perf_counter(), time.process_time()
            for dev, sid, t in zip(clear[: len(b)], b["sensor_id"], seen[: len(b)], strict=True):
                session.add(
                    SightingRow(
                        pseudo_id=ps.pseudonymise(dev, "device").token,
                        id_kind="device",
                        sensor_id=str(sid),
                        seen_at=t.to_pydatetime().astimezone(UTC),
                    )
                )
            session.commit()
            base_wall, base_cpu = time.perf_counter() - w0, time.process_time() - c0
        engine.dispose()
        base_engine.dispose()
    out.update(
        {
            "store_rows": result.read,
            "store_written": result.written,
            "store_import_s": round(imp_wall, 3),
            "store_import_cpu_s": round(imp_cpu, 3),
            "store_import_sightings_per_s": round(result.read / imp_wall),
            "store_baseline": "ORM session.add per sighting",
            "store_baseline_sightings_per_s": round(len(b) / base_wall),
            "store_baseline_cpu_s_per_row_ratio": round(
                (base_cpu / len(b)) / (imp_cpu / result.read), 1
            ),
            "store_ratio": round((result.read / imp_wall) / (len(b) / base_wall), 1),
            "store_read_profile_s": round(read_wall, 3),
            "store_read_profile_cpu_s": round(read_cpu, 3),
            "store_read_profile_sightings_per_s": round(len(frame) / read_wall),
            "store_profiles": len(comp),
        }
    )
    return out


def store_quality(city) -> dict:
    """The built-in model population.verification on a store loaded like production: the city
    written by the sim writer, imported (jurisdictions, sensors, persons through the import
    pipeline; sightings and device links through haizhou.ingest.sightings), scored on truth."""
    import tempfile
    from collections import Counter
    from datetime import timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from haizhou.ingest import import_file
    from haizhou.ingest.sightings import (
        import_device_links,
        import_sightings,
        pseudonymise_devices,
    )
    from haizhou.models.context import RunContext, Window
    from haizhou.models.registry import discover
    from haizhou.models.runner import run_model
    from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
    from haizhou.sim.writer import write_city
    from haizhou.store import migrate
    from haizhou.store.engine import make_engine, make_sessionmaker

    key = "bench-key-0123456789abcdef0123456789"
    zone = ZoneInfo("Asia/Shanghai")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write_city(city, d / "city")
        url = f"sqlite:///{d}/h.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        for kind, name in (
            ("jurisdictions", "jurisdictions.geojson"),
            ("sensors", "sensors.csv"),
            ("persons", "persons.csv"),
        ):
            import_file(kind, d / "city" / name, engine=engine, data_dir=d, pseudonym_key=key)
        ps = Pseudonymiser(key.encode())
        sessions = make_sessionmaker(engine)
        last = city.sightings["seen_at"].max().tz_convert(zone)
        now = (last.normalize() + pd.Timedelta("1D") + pd.Timedelta("12h")).to_pydatetime()
        model = discover(entry_points=False, packaged_rules=False).get("population.verification")
        with sessions() as session:
            import_sightings(session, d / "city" / "sightings.parquet", pseudonymiser=ps)
            import_device_links(
                session,
                d / "city" / "truth" / "floating_residents.csv",
                pseudonymiser=ps,
                source="sim",
                now=now,
            )
            session.commit()
            ctx = RunContext(
                session=session,
                scope=None,
                now=now,
                window=Window(now - timedelta(days=1), now),
                zone=zone,
            )
            w0, c0 = time.perf_counter(), time.process_time()
            record = run_model(model, params={}, context=ctx)
            run_wall, run_cpu = time.perf_counter() - w0, time.process_time() - c0
        engine.dispose()
    assert record.ok, record.error
    tr = city.truth.floating_residents
    dev = pseudonymise_devices(ps, tr["device_id"].tolist())[0]
    plate = np.array([None] * len(tr), dtype=object)
    has = (tr["plate"] != "").to_numpy()
    plate[has] = pseudonymise_devices(ps, tr["plate"][has].tolist())[0]
    person = np.array([None] * len(tr), dtype=object)
    reg = (tr["id_number"] != "").to_numpy()
    person[reg] = ps.pseudonymise_many(tr["id_number"][reg].tolist(), IdentifierKind.ID_CARD)[0]
    by = Counter(f.kind for f in record.findings)
    flagged = {
        f.evidence["person_pseudonyms"][0]
        for f in record.findings
        if f.kind == "unregistered_resident"
    }
    stale = {
        f.evidence["person_pseudonyms"][0]
        for f in record.findings
        if f.kind == "registration_stale"
    }
    unreg = pd.Series(dev).isin(flagged) | pd.Series(plate).isin(flagged)
    sc = score_decisions(unreg, tr["group"] == "unregistered_resident")
    st = score_decisions(pd.Series(person).isin(stale), tr["group"] == "registered_gone")
    return {
        "model_findings": dict(by),
        "model_run_s": round(run_wall, 3),
        "model_run_cpu_s": round(run_cpu, 3),
        "model_unregistered_precision": round(sc.precision, 4),
        "model_unregistered_recall": round(sc.recall, 4),
        "model_stale_precision": round(st.precision, 4),
        "model_stale_recall": round(st.recall, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--baseline-rows", type=int, default=200_000)
    ap.add_argument("--store-rows", type=int, default=200_000)
    ap.add_argument("--store-baseline-rows", type=int, default=20_000)
    args = ap.parse_args()
    city = generate_city(CityConfig(scale=args.scale))
    proj = LocalProjection.around(119.18, 34.60)
    s = city.sensors
    sx, sy = proj.forward(s["lon"].to_numpy(), s["lat"].to_numpy())
    feats = [f for f in city.pois["features"] if f["properties"]["kind"] == "residential_compound"]
    ll = np.array([f["geometry"]["coordinates"] for f in feats])
    cx, cy = proj.forward(ll[:, 0], ll[:, 1])
    links = sensor_compounds(
        s["sensor_id"].to_numpy(),
        sx,
        sy,
        np.array([f["properties"]["name"] for f in feats]),
        cx,
        cy,
        radius_m=250.0,
    )
    base = city.sightings.rename(columns={"device_or_plate": "pseudo_id"})
    base["seen_at"] = base["seen_at"].dt.tz_localize(None)
    now = base["seen_at"].max().normalize() + pd.Timedelta("12h")

    # quality on the untiled data (ids in clear stand in for pseudonyms: the analytics only
    # join on equality, so the figures are the same)
    tr = city.truth.floating_residents
    dl = pd.concat(
        [
            tr[["device_id", "id_number"]].rename(columns={"device_id": "pseudo_id"}),
            tr[["plate", "id_number"]].rename(columns={"plate": "pseudo_id"}),
        ]
    )
    dl = dl[(dl["pseudo_id"] != "") & (dl["id_number"] != "")].rename(
        columns={"id_number": "person_id"}
    )
    reg = city.persons.rename(columns={"id_number": "person_id"})[
        ["person_id", "registration", "compound"]
    ]
    v = verify_population(
        base, links, reg, now=now, device_links=dl, window_nights=28, threshold=0.9
    )
    flagged = set(v.decisions.loc[v.decisions["decision"] == "unregistered_resident", "pseudo_id"])
    pred = tr["device_id"].isin(flagged) | (tr["plate"].isin(flagged) & (tr["plate"] != ""))
    sc = score_decisions(pred, tr["group"] == "unregistered_resident")
    gone = set(v.decisions.loc[v.decisions["decision"] == "registration_stale", "pseudo_id"])
    sc_stale = score_decisions(
        tr["id_number"].isin(gone) & (tr["id_number"] != ""), tr["group"] == "registered_gone"
    )

    parts = []
    for c in range(args.copies):
        p = base.copy()
        p["pseudo_id"] = p["pseudo_id"] + f"#{c}"
        parts.append(p)
    big = pd.concat(parts, ignore_index=True)
    t0, c0 = time.perf_counter(), time.process_time()
    comp, _ = presence_profiles(big, links, now=now, window_nights=28)
    ours_s, ours_cpu = time.perf_counter() - t0, time.process_time() - c0

    sub = big.iloc[: args.baseline_rows]
    last = (now.normalize() - pd.Timedelta(days=1)).date()
    first = (now.normalize() - pd.Timedelta(days=28)).date()
    t0, c0 = time.perf_counter(), time.process_time()
    ref = naive(sub, links, first, last)
    base_s, base_cpu = time.perf_counter() - t0, time.process_time() - c0
    # the naive loop agrees with ours on its subset
    chk, _ = presence_profiles(sub, links, now=now, window_nights=28)
    agree = (
        dict(zip(zip(chk["pseudo_id"], chk["compound"], strict=True), chk["nights"], strict=True))
        == ref
    )
    assert night_of(np.array(["2024-01-01T23:00"], dtype="datetime64[s]"))[0] == np.datetime64(
        "2024-01-01"
    )
    ours_rate = len(big) / ours_s
    base_rate = len(sub) / base_s
    store = store_path(big, links, now, args.store_rows, args.store_baseline_rows)
    store.update(store_quality(city))

    def clean(v: object) -> object:  # NaN (undefined precision) is not JSON: null
        return None if isinstance(v, float) and v != v else v

    print(
        json.dumps(
            {
                "name": "population_presence",
                "ours_s": round(ours_s, 3),
                "baseline": "per-row Python loop (dicts of sets)",
                "baseline_s": round(base_s * len(big) / len(sub), 3),
                "ratio": round(ours_rate / base_rate, 1),
                "sightings": len(big),
                "ours_sightings_per_s": round(ours_rate),
                "baseline_sightings_per_s": round(base_rate),
                "target_sightings_per_s": 50_000,
                "naive_agrees": bool(agree),
                "profiles": len(comp),
                "unregistered_precision": round(sc.precision, 4),
                "unregistered_recall": round(sc.recall, 4),
                "unregistered_tp_fp_fn": [sc.true_positive, sc.false_positive, sc.false_negative],
                "stale_precision": round(sc_stale.precision, 4),
                "stale_recall": round(sc_stale.recall, 4),
                "floating_residents": len(tr),
                "ours_cpu_s": round(ours_cpu, 3),
                "cpu_ratio": round((base_cpu / len(sub)) / (ours_cpu / len(big)), 1),
                **{k: clean(v) for k, v in store.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
