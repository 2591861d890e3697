"""Benchmark: import 1,000,000 synthetic incidents from one CSV into SQLite.

Ours: ``haizhou.ingest.import_file`` with validation, time parsing, H3 cells (r7–r9),
jurisdiction assignment by point-in-polygon, pseudonymisation of phone numbers (column and free
text), content hashing, idempotency, quarantine and the table's indexes. Baselines, no
validation, into a fresh SQLite file: (a) ``pandas.read_csv`` + ``DataFrame.to_sql`` on a
``sqlite3`` connection (the issue's baseline, "baseline" in the output), (b) the same through a
SQLAlchemy engine (what most code does). Same file, same run, each side in a fresh process.

CPU seconds count the process and its child processes (our ADBC writer process): on a shared,
loaded machine they are steadier than wall time, so both are printed, with the load average.

With ``--backends sqlite,postgresql`` the same import also runs into PostgreSQL (a fresh schema
of ``--postgres-url``, dropped afterwards) in the same run, and the line gains ``postgresql_*``
keys and ``ratio_postgresql`` (SQLite seconds / PostgreSQL seconds). The PostgreSQL server's
own CPU is not in ``postgresql_cpu_s`` (a separate process): that figure is the client's.

Run: ``.venv/bin/python benchmarks/bench_import.py [--rows N] [--backends sqlite,postgresql]``;
prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

BENCH_KEY = "haizhou-benchmark-key-0123456789abcdef"
CENTRE_LON, CENTRE_LAT = 119.22, 34.60  # Lianyungang (海州区)
GRID_COLS, GRID_ROWS = 4, 3
CELL_DEG = 0.05
CATEGORIES = np.array(["盗窃", "诈骗", "纠纷", "交通事故", "求助", "噪音扰民", "打架斗殴", "火警"])
SUBCATEGORIES = np.array(["入室盗窃", "电动车被盗", "电信诈骗", "邻里纠纷", "", "夜间施工"])
STREETS = np.array(["海连路", "朝阳路", "解放路", "通灌路", "新浦路", "苍梧路", "郁州路", "瀛洲路"])
SUMMARIES = np.array(
    [
        "报警人称家中被盗",
        "报警人称电动车丢失",
        "双方发生口角",
        "路口两车相撞",
        "请求帮助开锁",
        "楼下施工噪音大",
    ]
)


def jurisdictions_geojson(path: Path) -> None:
    """A 4 × 3 grid of station polygons (12) around the city centre, as GeoJSON."""
    features = []
    x0 = CENTRE_LON - GRID_COLS * CELL_DEG / 2
    y0 = CENTRE_LAT - GRID_ROWS * CELL_DEG / 2
    for r in range(GRID_ROWS):
        for c in range(GRID_COLS):
            x, y = x0 + c * CELL_DEG, y0 + r * CELL_DEG
            ring = [
                [x, y],
                [x + CELL_DEG, y],
                [x + CELL_DEG, y + CELL_DEG],
                [x, y + CELL_DEG],
                [x, y],
            ]
            code = f"320706{r}{c:02d}"
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "编号": code,
                        "名称": f"第{r * GRID_COLS + c + 1}辖区",
                        "派出所": f"海州第{r * GRID_COLS + c + 1}派出所",
                    },
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )


def _phones(rng: np.random.Generator, n: int) -> pa.Array:
    prefix = rng.choice(np.array(["138", "139", "150", "186", "177", "135"]), n)
    body = rng.integers(0, 10**8, n)
    return pc.binary_join_element_wise(
        pa.array(prefix), pc.utf8_lpad(pa.array(body).cast(pa.string()), 8, "0"), ""
    )


def incidents_csv(path: Path, n: int, seed: int = 7) -> None:
    """``n`` incidents in the canonical format, vectorised and seeded.

    About 30 % of rows carry a caller phone and 5 % a phone number inside the summary.
    """
    rng = np.random.default_rng(seed)
    span_lon, span_lat = GRID_COLS * CELL_DEG, GRID_ROWS * CELL_DEG
    lon = CENTRE_LON - span_lon / 2 + rng.random(n) * span_lon * 0.999
    lat = CENTRE_LAT - span_lat / 2 + rng.random(n) * span_lat * 0.999
    start = np.datetime64("2024-01-01T00:00:00", "s")
    reported = start + rng.integers(0, 365 * 86400, n).astype("timedelta64[s]")
    phones = _phones(rng, n)
    has_phone = rng.random(n) < 0.30
    caller = pc.if_else(pa.array(has_phone), phones, pa.scalar(None, pa.string()))
    summary = pa.array(SUMMARIES[rng.integers(0, len(SUMMARIES), n)])
    with_number = pa.array(rng.random(n) < 0.05)
    summary = pc.if_else(
        with_number, pc.binary_join_element_wise(summary, "，回拨", _phones(rng, n), ""), summary
    )
    address = pc.binary_join_element_wise(
        pa.array(STREETS[rng.integers(0, len(STREETS), n)]),
        pa.array(rng.integers(1, 400, n)).cast(pa.string()),
        "号",
        "",
    )
    table = pa.table(
        {
            "incident_id": pc.binary_join_element_wise(
                "J", pa.array(np.arange(n)).cast(pa.string()), ""
            ),
            "reported_at": pa.array(np.datetime_as_string(reported, unit="s")).cast(pa.string()),
            "category": pa.array(CATEGORIES[rng.integers(0, len(CATEGORIES), n)]),
            "subcategory": pa.array(SUBCATEGORIES[rng.integers(0, len(SUBCATEGORIES), n)]),
            "lon": pc.round(pa.array(lon), 6),
            "lat": pc.round(pa.array(lat), 6),
            "address": address,
            "caller_phone": caller,
            "summary": summary,
            "disposition": pa.array(
                np.array(["已处置", "已调解", "转刑事", "其他"])[rng.integers(0, 4, n)]
            ),
        }
    )
    table = table.set_column(1, "reported_at", pc.replace_substring(table["reported_at"], "T", " "))
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def peak_rss_mb() -> float:
    """Peak resident memory of this process or its largest child so far (MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def cpu_seconds() -> float:
    """User + system CPU of this process (all threads) and of its waited-for children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def run_ours(
    csv_path: Path, geojson: Path, work: Path, batch_size: int, arrow: bool | None = None
) -> tuple[float, float, float, dict]:
    """Import into a fresh SQLite store; returns seconds, peak RSS (MB) and the summary."""
    from haizhou.ingest import import_file
    from haizhou.store.engine import make_engine
    from haizhou.store.tables import metadata

    db = work / "ours.db"
    engine = make_engine(f"sqlite:///{db}")
    metadata.create_all(engine)
    data_dir = work / "data"
    import_file("jurisdictions", geojson, engine=engine, data_dir=data_dir, pseudonym_key=BENCH_KEY)
    t0, c0 = time.perf_counter(), cpu_seconds()
    summary = import_file(
        "incidents",
        csv_path,
        engine=engine,
        data_dir=data_dir,
        pseudonym_key=BENCH_KEY,
        batch_size=batch_size,
        arrow=arrow,
    )
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    engine.dispose()
    return elapsed, cpu, peak_rss_mb(), summary.to_dict()


DEFAULT_POSTGRES_URL = os.environ.get(
    "HAIZHOU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def run_ours_postgresql(
    csv_path: Path, geojson: Path, work: Path, batch_size: int, server_url: str
) -> tuple[float, float, float, dict]:
    """Import into a fresh schema of PostgreSQL ``server_url`` (dropped afterwards)."""
    import uuid

    import sqlalchemy as sa

    from haizhou.ingest import import_file
    from haizhou.store import migrate
    from haizhou.store.engine import make_engine

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in server_url else "?"
    url = f"{server_url}{sep}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        data_dir = work / "data_pg"
        import_file(
            "jurisdictions", geojson, engine=engine, data_dir=data_dir, pseudonym_key=BENCH_KEY
        )
        t0, c0 = time.perf_counter(), cpu_seconds()
        summary = import_file(
            "incidents",
            csv_path,
            engine=engine,
            data_dir=data_dir,
            pseudonym_key=BENCH_KEY,
            batch_size=batch_size,
        )
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return elapsed, cpu, peak_rss_mb(), summary.to_dict()


def run_baseline(csv_path: Path, work: Path) -> tuple[float, float, float]:
    """pandas.read_csv + DataFrame.to_sql on a sqlite3 connection, no validation."""
    import pandas as pd

    db = work / "baseline.db"
    t0, c0 = time.perf_counter(), cpu_seconds()
    frame = pd.read_csv(csv_path)
    with sqlite3.connect(db) as conn:
        frame.to_sql("incidents", conn, index=False, chunksize=100_000)
    return time.perf_counter() - t0, cpu_seconds() - c0, peak_rss_mb()


def run_baseline_sqlalchemy(csv_path: Path, work: Path) -> tuple[float, float, float]:
    """pandas.read_csv + DataFrame.to_sql through a SQLAlchemy engine, no validation."""
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{work / 'baseline_sqlalchemy.db'}")
    t0, c0 = time.perf_counter(), cpu_seconds()
    frame = pd.read_csv(csv_path)
    frame.to_sql("incidents", engine, index=False, chunksize=100_000)
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    engine.dispose()
    return elapsed, cpu, peak_rss_mb()


def run_store_floor(csv_path: Path, work: Path) -> dict[str, float]:
    """The least any importer must spend to end with our stored rows and indexes in SQLite.

    Reading: pyarrow's multi-threaded CSV reader on the file (no conversion, no checks).
    Storing: our finished ``incidents`` rows (from ``ours.db``) copied into a fresh file by one
    ``INSERT … SELECT`` inside SQLite (no Python per row, journal and fsync off, which no real
    import may do), then the table's indexes built. Together a lower bound for this schema on
    this machine: if ``baseline_s / floor_s`` is under 3, no importer storing these rows can be
    3× the baseline.
    """
    t0 = time.perf_counter()
    pacsv.read_csv(csv_path)
    read_s = time.perf_counter() - t0
    db = work / "floor.db"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute(f"ATTACH DATABASE '{work / 'ours.db'}' AS src")
        table_sql, *_ = conn.execute(
            "SELECT sql FROM src.sqlite_master WHERE type = 'table' AND name = 'incidents'"
        ).fetchone()
        index_sqls = [
            r[0]
            for r in conn.execute(
                "SELECT sql FROM src.sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'incidents' AND sql IS NOT NULL"
            )
        ]
        conn.execute(table_sql)
        conn.execute("PRAGMA main.journal_mode = OFF")
        conn.execute("PRAGMA main.synchronous = OFF")
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute("INSERT INTO main.incidents SELECT * FROM src.incidents")
        insert_s = time.perf_counter() - t0
        for sql in index_sqls:
            conn.execute(sql)
        conn.execute("COMMIT")
        total = time.perf_counter() - t0
    finally:
        conn.close()
    return {
        "read_s": round(read_s, 3),
        "insert_s": round(insert_s, 3),
        "index_s": round(total - insert_s, 3),
        "indexes": len(index_sqls),
        "floor_s": round(read_s + total, 3),
    }


def _in_child(func, *args):
    """Run ``func`` in a fresh (spawned) process so each side's peak memory is its own."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(func, *args).result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--writer",
        choices=("auto", "adbc", "sqlite3"),
        default="auto",
        help="our SQLite writer: ADBC in a writer process, or sqlite3 (default: by file size)",
    )
    parser.add_argument(
        "--backends",
        default="sqlite",
        help="comma-separated: sqlite (always run, the default) and/or postgresql",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="PostgreSQL server for --backends postgresql (a fresh schema is used)",
    )
    args = parser.parse_args(argv)
    backends = {b.strip() for b in args.backends.split(",") if b.strip()}
    if not backends <= {"sqlite", "postgresql"}:
        parser.error(f"--backends {args.backends!r}: use sqlite and/or postgresql")
    work = Path(tempfile.mkdtemp(prefix="haizhou-bench-import-", dir="/tmp"))
    try:
        csv_path = work / "incidents.csv"
        geojson = work / "jurisdictions.geojson"
        t0 = time.perf_counter()
        incidents_csv(csv_path, args.rows)
        jurisdictions_geojson(geojson)
        gen_s = time.perf_counter() - t0
        arrow = {"auto": None, "adbc": True, "sqlite3": False}[args.writer]
        load_before = os.getloadavg()
        baseline_s, baseline_cpu, baseline_rss = _in_child(run_baseline, csv_path, work)
        sa_s, sa_cpu, _ = _in_child(run_baseline_sqlalchemy, csv_path, work)
        ours_s, ours_cpu, ours_rss, summary = _in_child(
            run_ours, csv_path, geojson, work, args.batch_size, arrow
        )
        floor = _in_child(run_store_floor, csv_path, work)
        pg = None
        if "postgresql" in backends:
            pg = _in_child(
                run_ours_postgresql, csv_path, geojson, work, args.batch_size, args.postgres_url
            )
        load_after = os.getloadavg()
        result = {
            "name": "import_incidents_csv_sqlite",
            "ours_s": round(ours_s, 3),
            "baseline": "pandas.read_csv + DataFrame.to_sql (sqlite3 connection, no validation)",
            "baseline_s": round(baseline_s, 3),
            "ratio": round(baseline_s / ours_s, 3),
            "baseline_sqlalchemy_s": round(sa_s, 3),
            "ratio_sqlalchemy": round(sa_s / ours_s, 3),
            "rows": args.rows,
            "rows_per_s": round(args.rows / ours_s),
            "peak_rss_mb": round(ours_rss, 1),
            # CPU seconds (all threads and child processes): steadier than wall time on a
            # shared machine
            "ours_cpu_s": round(ours_cpu, 3),
            "baseline_cpu_s": round(baseline_cpu, 3),
            "baseline_sqlalchemy_cpu_s": round(sa_cpu, 3),
            "ratio_cpu": round(baseline_cpu / ours_cpu, 3),
            "rows_per_cpu_s": round(args.rows / ours_cpu),
            "baseline_peak_rss_mb": round(baseline_rss, 1),
            "writer": args.writer,
            # the least any importer must spend to store these rows and indexes (see
            # run_store_floor), and what that allows against the baseline at best
            "store_floor": floor,
            "best_possible_ratio": round(baseline_s / floor["floor_s"], 3),
            "accepted": summary["accepted"],
            "quarantined": summary["quarantined"],
            "skipped_duplicates": summary["skipped_duplicates"],
            **{f"ours_{k}": v for k, v in summary["timings"].items()},
            "file_mb": round(csv_path.stat().st_size / 1e6, 1),
            "generate_s": round(gen_s, 3),
            "batch_size": args.batch_size,
            "loadavg": {
                "before": [round(v, 2) for v in load_before],
                "after": [round(v, 2) for v in load_after],
            },
            "cpus": os.cpu_count(),
        }
        if pg is not None:
            pg_s, pg_cpu, pg_rss, pg_summary = pg
            result |= {
                "postgresql_s": round(pg_s, 3),
                "postgresql_rows_per_s": round(args.rows / pg_s),
                "postgresql_cpu_s": round(pg_cpu, 3),
                "postgresql_peak_rss_mb": round(pg_rss, 1),
                "postgresql_accepted": pg_summary["accepted"],
                "postgresql_quarantined": pg_summary["quarantined"],
                "ratio_postgresql": round(ours_s / pg_s, 3),
            }
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
