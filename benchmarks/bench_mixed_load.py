"""Sustained mixed load through NATS JetStream (混合负载压测): streams + map clients at once.

For ``--seconds`` (default 600) this run publishes, on loopback, ``--airspace-rate`` (1,000)
airspace Remote ID messages/s and ``--sightings-rate`` (5,000) sightings/s (50 to a message, as
a gateway batches them) to JetStream, with back-pressure (bounded outstanding PubAcks), while
``--clients`` (20) logged-in clients query the map layers of ``haizhou serve`` (wrk, or
asyncio+httpx without it; the map store is ``benchmarks/bench_map.py``'s, with
``--incidents`` incidents). Consumers, all real processes:

* two ``haizhou stream consume --kind sightings`` processes sharing one durable (queue group);
* one airspace consumer (this script in worker mode) running the live pipeline, which records
  for every alert the time from the message's receive stamp (set when published) to the alert
  being written and reported: message → alert.

The API process and the sightings consumers run at niceness ``--elastic-nice`` (5), as the
systemd units of ``docs/deployment.md`` set them (``Nice=5``): the map and the bulk sightings
yield the CPU to the alert path (the airspace consumer, PostgreSQL, NATS). ``--elastic-nice 0``
runs everything at the same priority.

Background airspace traffic is permitted drones flying their permit areas (no alert); every
``1 / --intruders`` s a new drone appears inside a no-fly zone: its first message must raise an
alert. The streams are written to PostgreSQL (a fresh schema on ``--database-url``, default the
test server; SQLite if it does not answer).

Before the mixed load, the same run measures consumer throughput — the named baseline is one
sightings consumer draining ``--drain-sightings`` pre-published sightings; ours is two
consumers draining the same amount. ``ours_s`` / ``baseline_s`` are those drain times.

Prints one JSON line: messages lost (published and acknowledged by JetStream but not in the
store after the drain; target 0), p99 message → alert (target < 100 ms), map p95 (target
< 150 ms), throughputs, CPU seconds of every process during the load and drain (start-up
excluded) and per 1,000 messages, the airspace batches (size, seconds, age of the oldest
message when the batch starts: a growing age is a backlog), the load average (shared machine).
Run: ``.venv/bin/python benchmarks/bench_mixed_load.py --seconds 60``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
import bench_map

from haizhou.feeds.synthetic import remote_id_pack
from haizhou.streams.config import StreamsConfig, connect, delete_streams, stream_stats
from haizhou.streams.publisher import RECEIVED_HEADER, Publisher, sightings_payload
from haizhou.streams.synthetic import publish_load

KEY = "bench-mixed-key-0123456789abcdef"
HAIZHOU = str(Path(sys.executable).parent / "haizhou")
LON0, LAT0 = 119.2280, 34.5800
D = 0.004  # half-size of the no-fly square, degrees
PACK_STEP_S = 0.2  # background drones' positions change every 0.2 s (the tracker's frame)
PG_DEFAULT = os.environ.get(
    "HAIZHOU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# --- stores ----------------------------------------------------------------------------------


def _stream_store(server_url: str, folder: Path) -> tuple[str, Any]:
    """A fresh PostgreSQL schema (or SQLite file) for the streams; returns (url, cleanup)."""
    from haizhou.store import migrate

    try:
        admin = sa.create_engine(server_url)
        schema = f"bench_mixed_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in server_url else "?"
        url = f"{server_url}{sep}options=-csearch_path%3D{schema}"

        def cleanup() -> None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}_partitions" CASCADE'))
            admin.dispose()

    except sa.exc.OperationalError:
        url = f"sqlite:///{folder / 'streams.db'}"
        cleanup = lambda: None  # noqa: E731
    migrate.upgrade(url)
    _airspace_world(url)
    return url, cleanup


def _home(k: int) -> tuple[float, float]:
    angle = 2 * np.pi * k / 37.0
    radius = 0.03 + 0.002 * (k % 5)  # 3-4 km out, clear of the no-fly zone
    return LON0 + radius * np.cos(angle), LAT0 + radius * np.sin(angle)


def _airspace_world(url: str, drones: int = 40) -> None:
    from haizhou.feeds.area import add_permit, save_scenario_area
    from haizhou.security.pseudonym import Pseudonymiser
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.tables.airspace import AirspaceZoneRow

    engine = make_engine(url)
    now = datetime.now(UTC)
    with make_sessionmaker(engine)() as session:
        save_scenario_area(session, "stadium_match_day")
        square = [[LON0 - D, LAT0 - D], [LON0 + D, LAT0 - D], [LON0 + D, LAT0 + D]]
        session.add(
            AirspaceZoneRow(
                name="体育中心禁飞区",
                kind="no_fly",
                polygon=[*square, [LON0 - D, LAT0 + D]],
                floor_m=0,
                ceiling_m=500,
                active=[],
            )
        )
        for k in range(drones):
            lon, lat = _home(k)
            add_permit(
                session,
                pseudonymiser=Pseudonymiser(KEY.encode()),
                permit_id=f"P-{k}",
                serial=f"BG{k:014d}",
                operator="测试单位",
                polygon=[
                    (lon - 0.01, lat - 0.01),
                    (lon + 0.01, lat - 0.01),
                    (lon + 0.01, lat + 0.01),
                    (lon - 0.01, lat + 0.01),
                ],
                valid_from=now - timedelta(hours=1),
                valid_to=now + timedelta(hours=4),
            )
        session.commit()
    engine.dispose()


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)
    finally:
        engine.dispose()


# --- processes --------------------------------------------------------------------------------


def _env(folder: Path, url: str, nats_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "HAIZHOU_DATA_DIR": str(folder / "data"),
        "HAIZHOU_DATABASE_URL": url,
        "HAIZHOU_NATS_URL": nats_url,
        "HAIZHOU_PSEUDONYM_KEY": KEY,
    }


def _renice(pid: int, niceness: int) -> None:
    """Set ``pid`` and its children (uvicorn's workers) to ``niceness``, as systemd's ``Nice=``."""
    pending = [pid]
    while pending:
        p = pending.pop()
        try:
            os.setpriority(os.PRIO_PROCESS, p, niceness)
            pending += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue


def _sightings_consumers(
    n: int, env: dict[str, str], root: str, niceness: int = 0
) -> list[subprocess.Popen[str]]:
    cmd = [HAIZHOU, "stream", "consume", "--root", root, "--batch", "200", "--json"]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(n)
    ]
    for proc in procs:
        _renice(proc.pid, niceness)
    return procs


def _stop(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    out = []
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        text, _ = p.communicate(timeout=120)
        lines = text.strip().splitlines()
        out.append(json.loads(lines[-1]) if lines else {})
    return out


async def _wait_empty(config: StreamsConfig, kind: str, limit_s: float) -> float:
    """Seconds until the stream holds no message (everything acknowledged)."""
    began = time.perf_counter()
    while time.perf_counter() - began < limit_s:
        info = (await stream_stats(config))[kind]
        if info is not None and info["messages"] == 0:
            return time.perf_counter() - began
        await asyncio.sleep(0.1)
    raise SystemExit(f"{kind} stream did not drain within {limit_s:.0f} s")


def _pulls_waiting(config: StreamsConfig, durables: dict[str, int], limit_s: float) -> None:
    """Wait until each durable has the given number of pull requests waiting (processes up)."""

    async def waiting() -> bool:
        nc = await connect(config, reconnect=False)
        try:
            js = nc.jetstream()
            for durable, n in durables.items():
                kind = durable.split("-")[1]
                try:
                    info = await js.consumer_info(config.stream(kind), durable)
                except Exception:
                    return False
                if int(info.num_waiting or 0) < n:
                    return False
            return True
        finally:
            await nc.close()

    deadline = time.perf_counter() + limit_s
    while not asyncio.run(waiting()):
        if time.perf_counter() > deadline:
            raise SystemExit("the consumers did not start")
        time.sleep(0.5)


async def _prepublish(config: StreamsConfig, sightings: int) -> None:
    run = uuid.uuid4().hex[:6]
    async with Publisher(config) as pub:
        for m in range(sightings // 50):
            ids = [f"{run}{m:07d}{k:02d}" for k in range(50)]
            payload = sightings_payload(ids, ["device"] * 50, ["s1"] * 50, [1_795_000_000] * 50)
            await pub.sightings(f"area-{m % 4}", payload)


def _drain_time(url: str, folder: Path, nats_url: str, consumers: int, sightings: int) -> dict:
    """Time ``consumers`` processes (started and pulling first) storing ``sightings`` published
    at once: from the first publish to the stream being empty."""
    config = StreamsConfig(url=nats_url, root=f"bm{uuid.uuid4().hex[:8]}")
    try:
        before = _count(url, "sightings")
        procs = _sightings_consumers(consumers, _env(folder, url, nats_url), config.root)
        _pulls_waiting(config, {config.durable("sightings", "*"): consumers}, 600)
        cpu0 = sum(bench_map._server_cpu_s(p.pid) for p in procs)
        began = time.perf_counter()
        asyncio.run(_prepublish(config, sightings))
        asyncio.run(_wait_empty(config, "sightings", 900))
        seconds = time.perf_counter() - began
        cpu = sum(bench_map._server_cpu_s(p.pid) for p in procs) - cpu0
        stats = _stop(procs)
        written = _count(url, "sightings") - before
    finally:
        asyncio.run(delete_streams(config))
    return {
        "seconds": seconds,
        "written": written,
        "per_s": written / seconds,
        "cpu_s": cpu,
        "shares": [s.get("messages", 0) for s in stats],
    }


def _airspace_worker(url: str, nats_url: str, root: str, out: str) -> None:
    """Worker mode: the airspace consumer; writes the message → alert latencies on SIGTERM."""
    from haizhou.feeds.runner import AirspaceRunner
    from haizhou.security.pseudonym import Pseudonymiser
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.streams.consumer import AirspaceHandler, StreamConsumer

    engine = make_engine(url, pool_pre_ping=False)  # as `haizhou stream consume` makes it
    runner = AirspaceRunner(make_sessionmaker(engine), Pseudonymiser(KEY.encode()))
    latencies: list[float] = []
    runner.listeners.append(
        lambda alert, _id, done: latencies.append(
            (done - alert.message_received_at).total_seconds()
            if alert.message_received_at
            else float("nan")
        )
    )
    handler = AirspaceHandler(runner)
    batches: list[tuple[int, float, float]] = []  # (messages, oldest age at start, seconds)

    class Timed:
        kind = handler.kind
        max_wait_s = getattr(handler, "max_wait_s", None)

        def __call__(self, msgs: Any) -> Any:
            began = datetime.now(UTC)
            ages = [
                (began - datetime.fromisoformat(m.headers[RECEIVED_HEADER])).total_seconds()
                for m in msgs
                if m.headers
            ]
            out = handler(msgs)
            took = (datetime.now(UTC) - began).total_seconds()
            batches.append((len(msgs), max(ages, default=0.0), took))
            return out

        def idle(self) -> None:
            handler.idle()

    consumer = StreamConsumer(StreamsConfig(url=nats_url, root=root), Timed(), batch=2000)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await consumer.run(stop)

    asyncio.run(main())
    stats = {"latencies": latencies, "timing": batches, **consumer.stats.to_dict()}
    Path(out).write_text(json.dumps(stats))


# --- the mixed load ---------------------------------------------------------------------------


class Intruders:
    """Airspace source: permitted background drones, and a new intruder every ``every_s``."""

    def __init__(self, drones: int, every_s: float) -> None:
        self.drones, self.every_s = drones, every_s
        self.next_at, self.n = 1.0, 0
        self.rng = np.random.default_rng(10)
        self.packs: dict[tuple[int, int], bytes] = {}

    def __call__(self, i: int, t: float) -> tuple[str, str, str, bytes]:
        if t >= self.next_at:
            self.next_at += self.every_s
            serial = f"IN{self.n:014d}"
            self.n += 1
            dx, dy = self.rng.uniform(-0.8 * D, 0.8 * D, 2)
            return "stadium", "rid-1", "remoteid", remote_id_pack(serial, LON0 + dx, LAT0 + dy, 60)
        k = i % self.drones
        step = int(t / PACK_STEP_S)  # pre-encoded: one pack per drone and 0.2 s (2 m of flight)
        payload = self.packs.get((k, step))
        if payload is None:
            if len(self.packs) > 4 * self.drones:
                self.packs.clear()
            lon, lat = _home(k)
            phase = step * PACK_STEP_S * 0.05 + k
            payload = self.packs[(k, step)] = remote_id_pack(
                f"BG{k:014d}", lon + 0.002 * np.cos(phase), lat + 0.002 * np.sin(phase), 80.0
            )
        return "stadium", "rid-1", "remoteid", payload


def _map_load(base: str, cookie: str, seconds: float, clients: int, box: dict[str, Any]) -> None:
    paths = [
        p
        for pair in zip(bench_map._paths("hexagons", 11), bench_map._paths("heat", 12), strict=True)
        for p in pair
    ]
    if shutil.which("wrk"):
        box["map"] = bench_map._wrk(base, cookie, paths, seconds, clients)
    else:
        box["map"] = asyncio.run(bench_map._httpx_load(base, cookie, paths, seconds, clients))


def _mixed(args: argparse.Namespace, url: str, folder: Path, map_url: str) -> dict[str, Any]:
    config = StreamsConfig(url=args.nats_url, root=f"bm{uuid.uuid4().hex[:8]}")
    env = _env(folder, url, args.nats_url)
    server, base = bench_map._serve(args.map_dir, map_url, args.workers, "index")
    latency_file = folder / "latencies.json"
    try:
        login = httpx.post(
            f"{base}/api/auth/login",
            json={"username": "analyst", "password": bench_map.PASSWORD},
            timeout=60,
        )
        login.raise_for_status()
        cookie = f"haizhou_session={login.cookies['haizhou_session']}"
        bench_map._wait_for_index(base, cookie, args.workers)
        _renice(server.pid, args.elastic_nice)
        air = subprocess.Popen(
            [sys.executable, __file__, "--airspace-worker", url, config.root, str(latency_file)],
            env=env,
        )
        sight = _sightings_consumers(2, env, config.root, args.elastic_nice)
        _pulls_waiting(
            config, {config.durable("sightings", "*"): 2, config.durable("airspace", "*"): 1}, 600
        )
        before = {
            "sightings": _count(url, "sightings"),
            "airspace": _count(url, "airspace_messages"),
        }
        box: dict[str, Any] = {}
        loader = threading.Thread(
            target=_map_load, args=(base, cookie, args.seconds, args.clients, box)
        )
        # CPU of the load window only (start-up — imports, migrations, the map index — left out)
        start_cpu = {
            "air": bench_map._server_cpu_s(air.pid),
            "sight": sum(bench_map._server_cpu_s(p.pid) for p in sight),
            "server": bench_map._server_cpu_s(server.pid),
        }
        cpu0 = time.process_time()
        began = time.perf_counter()
        loader.start()

        async def publish() -> dict[str, float]:
            async with Publisher(config, max_in_flight=512) as pub:
                return await publish_load(
                    pub,
                    seconds=args.seconds,
                    sightings_per_s=args.sightings_rate,
                    airspace_per_s=args.airspace_rate,
                    areas=[f"area-{k}" for k in range(4)],
                    airspace=Intruders(40, 1.0 / args.intruders),
                )

        sent = asyncio.run(publish())
        publish_s = time.perf_counter() - began
        publisher_cpu = time.process_time() - cpu0
        loader.join()
        drain_s = {k: asyncio.run(_wait_empty(config, k, 600)) for k in ("sightings", "airspace")}
        cpu = {
            "airspace_consumer_cpu_s": bench_map._server_cpu_s(air.pid) - start_cpu["air"],
            "sightings_consumers_cpu_s": sum(bench_map._server_cpu_s(p.pid) for p in sight)
            - start_cpu["sight"],
            "server_cpu_s": bench_map._server_cpu_s(server.pid) - start_cpu["server"],
            "publisher_cpu_s": publisher_cpu,  # with the map clients when wrk is missing
        }
        time.sleep(2.0)  # the airspace consumer's last step
        air.send_signal(signal.SIGTERM)
        air.wait(timeout=120)
        sight_stats = _stop(sight)
        air_stats = json.loads(latency_file.read_text())
    finally:
        server.terminate()
        server.wait(timeout=60)
        asyncio.run(delete_streams(config))
    stored_s = _count(url, "sightings") - before["sightings"]
    stored_a = _count(url, "airspace_messages") - before["airspace"]
    lat = np.asarray([x for x in air_stats["latencies"] if x == x]) * 1000
    batches = np.asarray(air_stats["timing"] or [(0, 0.0, 0.0)])
    m = box["map"]
    return {
        "sent": sent,
        "publish_s": publish_s,
        "drain_after_s": drain_s,
        "stored_sightings": stored_s,
        "stored_airspace": stored_a,
        "lost_sightings": int(sent["sightings"]) - stored_s,
        "lost_airspace": int(sent["airspace_messages"]) - stored_a,
        "alerts": int(lat.size),
        "intruders": int(args.seconds * args.intruders),
        "alert_p50_ms": float(np.percentile(lat, 50)) if lat.size else None,
        "alert_p99_ms": float(np.percentile(lat, 99)) if lat.size else None,
        "map": m,
        "sightings_shares": [s.get("messages", 0) for s in sight_stats],
        "airspace_redelivered": air_stats.get("redelivered", 0),
        "airspace_batches": len(air_stats["timing"]),
        "airspace_batch_p50": float(np.percentile(batches[:, 0], 50)),
        "airspace_batch_s_p50": float(np.percentile(batches[:, 2], 50)),
        "airspace_batch_s_p99": float(np.percentile(batches[:, 2], 99)),
        "airspace_oldest_age_s_p99": float(np.percentile(batches[:, 1], 99)),
        **cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--airspace-rate", type=float, default=1000.0)
    parser.add_argument("--sightings-rate", type=float, default=5000.0)
    parser.add_argument("--intruders", type=float, default=2.0, help="new intruders a second")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="haizhou serve workers")
    parser.add_argument(
        "--elastic-nice",
        type=int,
        default=5,
        help="niceness of the API and the sightings consumers (the deployment units' Nice=)",
    )
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--drain-sightings", type=int, default=200_000)
    parser.add_argument("--database-url", default=PG_DEFAULT, help="PostgreSQL server for streams")
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument(
        "--map-dir", type=Path, default=Path(tempfile.gettempdir()) / "haizhou-bench-mixed-map"
    )
    parser.add_argument("--airspace-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.airspace_worker:
        url, root, out = args.airspace_worker
        _airspace_worker(url, os.environ.get("HAIZHOU_NATS_URL", args.nats_url), root, out)
        return

    map_url = bench_map._store(args.map_dir, args.incidents)
    with tempfile.TemporaryDirectory(prefix="haizhou-bench-mixed-") as tmp:
        folder = Path(tmp)
        url, cleanup = _stream_store(args.database_url, folder)
        try:
            one = _drain_time(url, folder, args.nats_url, 1, args.drain_sightings)
            two = _drain_time(url, folder, args.nats_url, 2, args.drain_sightings)
            mixed = _mixed(args, url, folder, map_url)
        finally:
            cleanup()
    result = {
        "name": "mixed_load_streams_and_map",
        "ours_s": round(two["seconds"], 3),
        "baseline": f"1 sightings consumer draining {args.drain_sightings} sightings "
        "(ours: 2 consumers in one queue group, same amount)",
        "baseline_s": round(one["seconds"], 3),
        "ratio": round(one["seconds"] / two["seconds"], 2),
        "consumers_1_sightings_per_s": round(one["per_s"]),
        "consumers_2_sightings_per_s": round(two["per_s"]),
        "consumers_1_cpu_s": round(one["cpu_s"], 2),
        "consumers_2_cpu_s": round(two["cpu_s"], 2),
        "consumers_2_shares": two["shares"],
        "seconds": args.seconds,
        "messages_lost": mixed["lost_sightings"] + mixed["lost_airspace"],
        "sightings_lost": mixed["lost_sightings"],
        "airspace_lost": mixed["lost_airspace"],
        "sightings_published_per_s": mixed["sent"]["sightings_per_s"],
        "airspace_published_per_s": mixed["sent"]["airspace_per_s"],
        "sightings_stored": mixed["stored_sightings"],
        "airspace_stored": mixed["stored_airspace"],
        "drain_after_load_s": {k: round(v, 2) for k, v in mixed["drain_after_s"].items()},
        "alerts": mixed["alerts"],
        "intruders": mixed["intruders"],
        "message_to_alert_p50_ms": _r(mixed["alert_p50_ms"]),
        "message_to_alert_p99_ms": _r(mixed["alert_p99_ms"]),
        "map_p50_ms": round(mixed["map"]["p50_ms"], 1),
        "map_p95_ms": round(mixed["map"]["p95_ms"], 1),
        "map_rps": round(mixed["map"]["requests"] / mixed["map"]["duration_s"], 1),
        "map_errors": int(mixed["map"]["errors"]),
        "map_clients": args.clients,
        "elastic_nice": args.elastic_nice,
        "airspace_batches": mixed["airspace_batches"],
        "airspace_batch_messages_p50": mixed["airspace_batch_p50"],
        "airspace_batch_seconds_p50": round(mixed["airspace_batch_s_p50"], 3),
        "airspace_batch_seconds_p99": round(mixed["airspace_batch_s_p99"], 3),
        "airspace_backlog_age_p99_s": round(mixed["airspace_oldest_age_s_p99"], 3),
        "airspace_consumer_cpu_s": round(mixed["airspace_consumer_cpu_s"], 1),
        "sightings_consumers_cpu_s": round(mixed["sightings_consumers_cpu_s"], 1),
        "server_cpu_s": round(mixed["server_cpu_s"], 1),
        "publisher_cpu_s": round(mixed["publisher_cpu_s"], 1),
        "cpu_window": "load and drain (process start-up excluded)",
        "airspace_cpu_ms_per_1000": _per_1000(
            mixed["airspace_consumer_cpu_s"], mixed["stored_airspace"]
        ),
        "sightings_cpu_ms_per_1000": _per_1000(
            mixed["sightings_consumers_cpu_s"], mixed["stored_sightings"]
        ),
        "map_cpu_ms_per_request": round(
            mixed["server_cpu_s"] / max(mixed["map"]["requests"], 1) * 1000, 2
        ),
        "wrk": bool(shutil.which("wrk")),
        "targets": {"messages_lost": 0, "message_to_alert_p99_ms": 100, "map_p95_ms": 150},
        "store": "postgresql" if url.startswith("postgresql") else "sqlite",
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, ensure_ascii=False))


def _per_1000(cpu_s: float, n: int) -> float | None:
    """CPU milliseconds per 1,000 items."""
    return round(cpu_s / n * 1e6, 1) if n else None


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


if __name__ == "__main__":
    main()
