"""Map-layer endpoints under load (地图聚合接口压测): 1,000,000 incidents, 20 concurrent clients.

A SQLite store with 1,000,000 synthetic incidents over two years (clustered around the Haizhou
district, with H3 cells computed as at ingest) is served by ``haizhou serve`` as a real process
on loopback. Twenty logged-in clients (wrk, the C load generator from Debian, 2 threads and 20
connections; asyncio + httpx when wrk is missing) request ``/api/map/hexagons`` and
``/api/map/heat`` for random viewports (2 to 25 km across) and random time windows (7 to 90
days), one endpoint at a time, for ``--seconds`` each. Reported per endpoint and server set-up:
p50/p95/p99 latency, throughput, and the server's CPU milliseconds per request (from
/proc: the machine is shared, so CPU per request is the figure that does not depend on the
neighbours' load).

Set-ups, all in this one run:

- ``baseline``: the straightforward SQL path (``GROUP BY`` cell or grid cell over the window,
  viewport and scope; ``HAIZHOU_MAP_AGGREGATES=sql``), one worker process;
- ``index_1w``: the in-memory column index (default), one worker;
- ``index_Nw``: the same with ``--workers N`` (default 2, the machine's cores).

``ours_s`` is the worse of the two endpoints' p95 for ``index_Nw``; ``baseline_s`` the same
for ``baseline``; ``ratio`` = baseline_s / ours_s. ``first_query_s`` is how long after start-up
the index answered (the SQL path answers meanwhile).

Run: ``.venv/bin/python benchmarks/bench_map.py [--incidents 1000000] [--seconds 20]
[--workers 2]``. The store is kept in ``$TMPDIR/haizhou-bench-map`` and reused when it already
holds the data. Prints one JSON line.

``--backends sqlite,postgresql`` also serves the same incidents from PostgreSQL (schema
``bench_map_<N>`` of ``--postgres-url``, kept and reused like the SQLite file) in the same run:
set-ups ``baseline`` and ``index_Nw`` again, keyed ``postgresql.<set-up>.<figure>``, plus
``postgresql_ours_s``, ``postgresql_baseline_s`` and ``ratio_postgresql`` (SQLite ours_s /
PostgreSQL ours_s). The default (SQLite only) prints what it always printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np

PASSWORD = "benchmark password 1"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 730
CENTRE = (119.20, 34.60)
STATIONS = [f"320706-{k:02d}" for k in range(1, 13)]


DEFAULT_POSTGRES_URL = os.environ.get(
    "HAIZHOU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_store_url(server_url: str, n: int) -> str:
    """A URL on schema ``bench_map_<n>`` of ``server_url`` (created when missing)."""
    import sqlalchemy as sa

    schema = f"bench_map_{n}"
    admin = sa.create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in server_url else "?"
    return f"{server_url}{sep}options=-csearch_path%3D{schema}"


def _store(directory: Path, n: int, url: str | None = None) -> str:
    """Create (or reuse) the store with ``n`` incidents; return its URL (default: SQLite)."""
    from sqlalchemy import func, insert, select

    from haizhou.geo.h3cells import cells_from_lonlat
    from haizhou.security.passwords import hash_password
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.migrate import upgrade
    from haizhou.store.tables import IncidentRow, JurisdictionRow, UserRow

    directory.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{directory / 'haizhou.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        have = session.scalar(select(func.count()).select_from(IncidentRow)) or 0
        if have == n:
            engine.dispose()
            return url
        if have:
            raise SystemExit(f"{directory} holds {have} incidents, not {n}; delete it first")
        for k, code in enumerate(STATIONS):
            lon0 = CENTRE[0] - 0.15 + 0.1 * (k % 4)
            lat0 = CENTRE[1] - 0.1 + 0.1 * (k // 4)
            session.add(
                JurisdictionRow(
                    code=code,
                    name=code,
                    station=code,
                    parent_code=None,
                    geometry=None,
                    min_lon=lon0,
                    min_lat=lat0,
                    max_lon=lon0 + 0.1,
                    max_lat=lat0 + 0.1,
                    source="bench",
                )
            )
        session.add(
            UserRow(
                username="analyst",
                password_hash=hash_password(PASSWORD),
                role="analyst",
                jurisdiction_code=None,
                active=True,
                created_at=T0,
            )
        )
        session.commit()
    rng = np.random.default_rng(20240101)
    chunk = 100_000
    table = IncidentRow.__table__
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        # Half spread over the district, half in 40 hot spots.
        spread = rng.uniform([-0.15, -0.10], [0.25, 0.20], size=(m, 2))
        hot_centres = rng.uniform([-0.1, -0.05], [0.2, 0.15], size=(40, 2))
        hot = hot_centres[rng.integers(0, 40, m)] + rng.normal(0, 0.004, size=(m, 2))
        pick = rng.random(m) < 0.5
        offset = np.where(pick[:, None], spread, hot)
        lon = CENTRE[0] + offset[:, 0]
        lat = CENTRE[1] + offset[:, 1]
        seconds = np.sort(rng.uniform(0, DAYS * 86400, m))
        col = np.clip(((lon - (CENTRE[0] - 0.15)) / 0.1).astype(int), 0, 3)
        row = np.clip(((lat - (CENTRE[1] - 0.1)) / 0.1).astype(int), 0, 2)
        codes = [STATIONS[r * 4 + c] for r, c in zip(row, col, strict=True)]
        r7, r8, r9 = (cells_from_lonlat(lon, lat, r) for r in (7, 8, 9))
        rows = [
            {
                "source": "bench",
                "source_id": str(start + i),
                "reported_at": T0 + timedelta(seconds=float(seconds[i])),
                "category": "theft" if i % 3 else "dispute",
                "lon": float(lon[i]),
                "lat": float(lat[i]),
                "h3_r7": int(r7[i]),
                "h3_r8": int(r8[i]),
                "h3_r9": int(r9[i]),
                "jurisdiction_code": codes[i],
                "content_hash": "b",
            }
            for i in range(m)
        ]
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
        print(f"  stored {start + m:,} incidents", file=sys.stderr)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return url


def _queries(count: int, seed: int) -> list[dict[str, str | int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        width_km = float(rng.uniform(2, 25))
        dlon, dlat = width_km / 92.0, width_km / 111.0 * 0.7
        lon = CENTRE[0] + rng.uniform(-0.12, 0.2)
        lat = CENTRE[1] + rng.uniform(-0.08, 0.15)
        days = int(rng.integers(7, 91))
        start = T0 + timedelta(days=int(rng.integers(0, DAYS - days)))
        end = start + timedelta(days=days)
        resolution = 7 if width_km > 15 else 8 if width_km > 5 else 9
        out.append(
            {
                "bbox": f"{lon - dlon / 2:.5f},{lat - dlat / 2:.5f},{lon + dlon / 2:.5f},{lat + dlat / 2:.5f}",
                "start": start.isoformat(),
                "end": end.isoformat(),
                "resolution": resolution,
            }
        )
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _paths(endpoint: str, seed: int) -> list[str]:
    paths = []
    for q in _queries(5000, seed):
        params = dict(q)
        if endpoint == "heat":
            params.pop("resolution")
        paths.append(f"/api/map/{endpoint}?{urlencode(params)}")
    return paths


def _server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (uvicorn's worker processes)."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    pending = [pid]
    while pending:
        p = pending.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        pending += [int(c) for c in children]
    return total


async def _httpx_load(
    base: str, cookie: str, paths: list[str], seconds: float, clients: int
) -> dict[str, float]:
    """The fallback load generator: ``clients`` asyncio tasks, one connection each."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client(k: int) -> None:
        async with httpx.AsyncClient(
            base_url=base, timeout=120, headers={"Cookie": cookie}
        ) as http:
            i = k
            while time.perf_counter() < stop:
                t = time.perf_counter()
                (await http.get(paths[i % len(paths)])).raise_for_status()
                latencies.append(time.perf_counter() - t)
                i += clients

    began = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    duration = time.perf_counter() - began
    ms = np.asarray(latencies) * 1000
    return {
        "requests": len(latencies),
        "duration_s": duration,
        "errors": 0,
        **{f"p{q}_ms": float(np.percentile(ms, q)) for q in (50, 95, 99)},
    }


_WRK_SCRIPT = """
local paths = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format('WRK {"requests": %%d, "duration_s": %%f, "errors": %%d, "p50_ms": %%f, "p95_ms": %%f, "p99_ms": %%f}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def _wrk(
    base: str, cookie: str, paths: list[str], seconds: float, clients: int
) -> dict[str, float]:
    """One wrk run (2 threads, ``clients`` connections) over ``paths`` in turn."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % ",".join(f'"{p}"' for p in paths))
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{clients}",
                f"-d{max(1, int(seconds))}s",
                "--timeout",
                "30s",
                "-H",
                f"Cookie: {cookie}",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    return json.loads(line[4:])


def _wait_for_index(base: str, cookie: str, workers: int, limit_s: float = 300) -> float:
    """Seconds until the index answers on fresh connections (each worker loads its own)."""
    began = time.perf_counter()
    paths = _paths("hexagons", 3)
    streak, i = 0, 0
    while streak < 4 * workers:
        if time.perf_counter() - began > limit_s:
            raise SystemExit(f"the map index did not answer within {limit_s:.0f} s")
        response = httpx.get(base + paths[i % len(paths)], headers={"Cookie": cookie}, timeout=60)
        response.raise_for_status()
        i += 1
        if response.headers.get("x-haizhou-map-source") == "index":
            streak += 1
        else:
            streak = 0
            time.sleep(0.5)
    return time.perf_counter() - began


def _serve(
    directory: Path, url: str, workers: int, aggregates: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "HAIZHOU_DATA_DIR": str(directory),
        "HAIZHOU_DATABASE_URL": url,
        "HAIZHOU_MAP_AGGREGATES": aggregates,
    }
    haizhou = Path(sys.executable).parent / "haizhou"
    server = subprocess.Popen(
        [str(haizhou), "serve", "--port", str(port), "--workers", str(workers), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    # /api/health counts the incidents: slow on a million rows and a busy machine.
    _wait_ready(server, f"{base}/api/health", "haizhou serve")
    return server, base


def _wait_ready(
    server: subprocess.Popen[bytes], url: str, what: str, limit_s: float = 600
) -> None:
    """Wait until ``url`` answers 200 (a loaded machine imports an app slowly); stop the
    server and exit if it dies or does not answer within ``limit_s``."""
    deadline = time.perf_counter() + limit_s
    while time.perf_counter() < deadline and server.poll() is None:
        try:
            if httpx.get(url, timeout=60).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"{what} did not start")


def _measure(
    directory: Path, url: str, workers: int, aggregates: str, seconds: float, clients: int
) -> dict[str, float]:
    """Start a server set-up, load each endpoint, stop it; figures keyed ``{endpoint}_...``."""
    server, base = _serve(directory, url, workers, aggregates)
    figures: dict[str, float] = {}
    try:
        login = httpx.post(
            f"{base}/api/auth/login", json={"username": "analyst", "password": PASSWORD}
        )
        login.raise_for_status()
        cookie = f"haizhou_session={login.cookies['haizhou_session']}"
        if aggregates == "index":
            figures["first_query_s"] = round(_wait_for_index(base, cookie, workers), 2)
        for endpoint in ("hexagons", "heat"):
            paths = _paths(endpoint, 11)
            cpu0 = _server_cpu_s(server.pid)
            if shutil.which("wrk"):
                run = _wrk(base, cookie, paths, seconds, clients)
            else:
                run = asyncio.run(_httpx_load(base, cookie, paths, seconds, clients))
            cpu = _server_cpu_s(server.pid) - cpu0
            n = max(1, int(run["requests"]))
            figures[f"{endpoint}_rps"] = round(run["requests"] / run["duration_s"], 1)
            figures[f"{endpoint}_errors"] = int(run["errors"])
            figures[f"{endpoint}_cpu_ms_per_request"] = round(cpu / n * 1000, 2)
            for q in (50, 95, 99):
                figures[f"{endpoint}_p{q}_ms"] = round(float(run[f"p{q}_ms"]), 1)
        figures["load_average"] = round(os.getloadavg()[0], 2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "haizhou-bench-map"
    )
    parser.add_argument(
        "--backends",
        default="sqlite",
        help="comma-separated: sqlite (always run, the default) and/or postgresql",
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args()
    backends = {b.strip() for b in args.backends.split(",") if b.strip()}
    if not backends <= {"sqlite", "postgresql"}:
        parser.error(f"--backends {args.backends!r}: use sqlite and/or postgresql")

    url = _store(args.dir, args.incidents)
    setups = {
        "baseline": (1, "sql"),
        "index_1w": (1, "index"),
        f"index_{args.workers}w": (args.workers, "index"),
    }
    measured = {
        name: _measure(args.dir, url, workers, aggregates, args.seconds, args.clients)
        for name, (workers, aggregates) in setups.items()
    }
    ours = measured[f"index_{args.workers}w"]
    worst = lambda m: max(m["hexagons_p95_ms"], m["heat_p95_ms"]) / 1000  # noqa: E731
    result: dict[str, object] = {
        "name": "map_layers_1m_incidents_20_clients",
        "ours_s": round(worst(ours), 4),
        "baseline": "SQL GROUP BY per request (HAIZHOU_MAP_AGGREGATES=sql), 1 worker; "
        "figures are the worse endpoint's p95",
        "baseline_s": round(worst(measured["baseline"]), 4),
        "ratio": round(worst(measured["baseline"]) / worst(ours), 2),
        "incidents": args.incidents,
        "clients": args.clients,
        "seconds_per_endpoint": args.seconds,
        "backend": "sqlite",
        "cpus": os.cpu_count(),
        "load_generator": "wrk -t2" if shutil.which("wrk") else "python asyncio+httpx",
    }
    for name, figures in measured.items():
        for key, value in figures.items():
            result[f"{name}.{key}"] = value
    if "postgresql" in backends:
        pg_dir = args.dir / "postgresql"
        pg_url = _store(
            pg_dir, args.incidents, _postgres_store_url(args.postgres_url, args.incidents)
        )
        pg_setups = {"baseline": (1, "sql"), f"index_{args.workers}w": (args.workers, "index")}
        pg = {
            name: _measure(pg_dir, pg_url, workers, aggregates, args.seconds, args.clients)
            for name, (workers, aggregates) in pg_setups.items()
        }
        for name, figures in pg.items():
            for key, value in figures.items():
                result[f"postgresql.{name}.{key}"] = value
        pg_ours = worst(pg[f"index_{args.workers}w"])
        result["postgresql_ours_s"] = round(pg_ours, 4)
        result["postgresql_baseline_s"] = round(worst(pg["baseline"]), 4)
        result["ratio_postgresql"] = round(worst(ours) / pg_ours, 2)
        result["postgresql_meets_target"] = pg_ours < 0.150
    result["target_p95_ms"] = 150
    result["meets_target"] = worst(ours) < 0.150
    print(json.dumps(result))


if __name__ == "__main__":
    main()
