"""Map-layer endpoints under load (地图聚合接口压测): 1,000,000 incidents, 20 concurrent clients.

A SQLite store with 1,000,000 synthetic incidents over two years (clustered around the Haizhou
district, with H3 cells computed as at ingest) is served by ``haizhou serve`` (one uvicorn
process) on loopback. Twenty clients (asyncio + httpx, one session each, as an analyst) request
``/api/map/hexagons`` and ``/api/map/heat`` for random viewports (2 to 25 km across) and random
time windows (7 to 90 days) for a fixed duration. Reported: p50/p95/p99 latency and throughput
per endpoint.

Baseline: what a map without server-side aggregation would do: send the raw incidents of the
same viewport and window to the browser (``incident_frame`` serialised as GeoJSON points),
timed in-process for a sample of the same queries, one at a time. ``ratio`` = baseline median
/ our median under load.

Run: ``.venv/bin/python benchmarks/bench_map.py [--incidents 1000000] [--seconds 30]``. The
store is kept in ``$TMPDIR/haizhou-bench-map`` and reused when it already holds the data.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

PASSWORD = "benchmark password 1"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 730
CENTRE = (119.20, 34.60)
STATIONS = [f"320706-{k:02d}" for k in range(1, 13)]


def _store(directory: Path, n: int) -> str:
    """Create (or reuse) the store with ``n`` incidents; return its URL."""
    from sqlalchemy import func, insert, select

    from haizhou.geo.h3cells import cells_from_lonlat
    from haizhou.security.passwords import hash_password
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.migrate import upgrade
    from haizhou.store.tables import IncidentRow, JurisdictionRow, UserRow

    directory.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{directory / 'haizhou.db'}"
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


async def _load(base: str, seconds: float, clients: int) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = {"hexagons": [], "heat": []}
    queries = _queries(5000, 7)
    sessions = [httpx.AsyncClient(base_url=base, timeout=120) for _ in range(clients)]
    try:
        # Log in first, one by one (each costs an Argon2 verification), outside the timing.
        for http in sessions:
            login = await http.post(
                "/api/auth/login", json={"username": "analyst", "password": PASSWORD}
            )
            login.raise_for_status()
        # Warm-up: the first map query loads the in-memory incident index (timed separately).
        t = time.perf_counter()
        (await sessions[0].get("/api/map/hexagons", params=queries[0])).raise_for_status()
        latencies["warmup"] = [time.perf_counter() - t]
        stop = time.perf_counter() + seconds

        async def client(k: int) -> None:
            http, i = sessions[k], k
            while time.perf_counter() < stop:
                q = queries[i % len(queries)]
                endpoint = "hexagons" if i % 2 == 0 else "heat"
                params = dict(q)
                if endpoint == "heat":
                    params.pop("resolution")
                t = time.perf_counter()
                response = await http.get(f"/api/map/{endpoint}", params=params)
                elapsed = time.perf_counter() - t
                response.raise_for_status()
                latencies[endpoint].append(elapsed)
                i += clients

        await asyncio.gather(*(client(k) for k in range(clients)))
    finally:
        for http in sessions:
            await http.aclose()
    return latencies


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


def _wrk(base: str, cookie: str, endpoint: str, seconds: float, clients: int) -> dict[str, float]:
    """One wrk run (C load generator, 2 threads) against one endpoint with random queries."""
    from urllib.parse import urlencode

    paths = []
    for q in _queries(5000, 11):
        params = dict(q)
        if endpoint == "heat":
            params.pop("resolution")
        paths.append(f'"/api/map/{endpoint}?{urlencode(params)}"')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % ",".join(paths))
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{int(seconds)}s",
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
    os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    return json.loads(line[4:])


def _baseline(url: str, samples: int) -> list[float]:
    """Raw incidents of the viewport and window as GeoJSON, in-process, one query at a time."""
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.repositories.incidents import incident_frame

    engine = make_engine(url)
    times = []
    with make_sessionmaker(engine)() as session:
        for q in _queries(samples, 7):
            bbox = tuple(float(v) for v in str(q["bbox"]).split(","))
            t = time.perf_counter()
            frame = incident_frame(
                session=session,
                scope=None,
                start=datetime.fromisoformat(str(q["start"])),
                end=datetime.fromisoformat(str(q["end"])),
                bbox=bbox,  # type: ignore[arg-type]
            )
            body = json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [x, y]},
                            "properties": {},
                        }
                        for x, y in zip(frame["lon"].tolist(), frame["lat"].tolist(), strict=True)
                    ],
                }
            )
            times.append(time.perf_counter() - t)
            assert body
    engine.dispose()
    return times


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "haizhou-bench-map"
    )
    args = parser.parse_args()

    url = _store(args.dir, args.incidents)
    port = _free_port()
    env = {**os.environ, "HAIZHOU_DATA_DIR": str(args.dir), "HAIZHOU_DATABASE_URL": url}
    haizhou = Path(sys.executable).parent / "haizhou"
    server = subprocess.Popen(
        [str(haizhou), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        latencies = asyncio.run(_load(base, args.seconds, args.clients))
        wrk_results: dict[str, dict[str, float]] = {}
        if shutil.which("wrk"):
            login = httpx.post(
                f"{base}/api/auth/login", json={"username": "analyst", "password": PASSWORD}
            )
            cookie = f"haizhou_session={login.cookies['haizhou_session']}"
            for endpoint in ("hexagons", "heat"):
                wrk_results[endpoint] = _wrk(base, cookie, endpoint, args.seconds, args.clients)
    finally:
        server.terminate()
        server.wait(timeout=10)
    baseline = _baseline(url, 20)
    warmup = latencies.pop("warmup")[0]
    all_latencies = latencies["hexagons"] + latencies["heat"]
    ours_median = statistics.median(all_latencies)
    result = {
        "name": "map_layers_1m_incidents_20_clients",
        "ours_s": round(ours_median, 4),
        "baseline": "raw incidents of the viewport and window as GeoJSON (no server aggregation), sequential",
        "baseline_s": round(statistics.median(baseline), 4),
        "ratio": round(statistics.median(baseline) / ours_median, 2),
        "incidents": args.incidents,
        "clients": args.clients,
        "seconds": args.seconds,
        "backend": "sqlite",
        "throughput_rps": round(len(all_latencies) / args.seconds, 1),
        "first_query_s": round(warmup, 2),
    }
    for endpoint, values in latencies.items():
        result[f"{endpoint}_requests"] = len(values)
        for q in (50, 95, 99):
            result[f"{endpoint}_p{q}_ms"] = round(_pct(values, q) * 1000, 1)
    result["load_generator"] = "python asyncio+httpx in the same machine (both endpoints mixed)"
    for endpoint, figures in wrk_results.items():
        result[f"wrk_{endpoint}_rps"] = round(figures["requests"] / figures["duration_s"], 1)
        result[f"wrk_{endpoint}_errors"] = int(figures["errors"])
        for q in (50, 95, 99):
            result[f"wrk_{endpoint}_p{q}_ms"] = round(figures[f"p{q}_ms"], 1)
    result["target_p95_ms"] = 150
    keys = [f"wrk_{e}_p95_ms" for e in wrk_results] or [f"{e}_p95_ms" for e in latencies]
    result["meets_target"] = all(result[k] < 150 for k in keys)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
