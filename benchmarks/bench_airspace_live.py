"""Benchmark: sensor message → alert latency of the live airspace pipeline (报文到告警时延).

A publisher sends Remote ID message packs at ``--rate`` messages/s (default 1,000) over the
real MQTT broker on loopback (QoS 1) to ``haizhou airspace run``'s components — subscriber,
queue, :class:`~haizhou.feeds.runner.AirspaceRunner` (decode → tracker → classify → control →
alert) and the store (SQLite, one transaction per batch). Background traffic: ``--drones``
permitted drones flying their permit areas (authorised: no alert). Every ``1 / --intruders``
seconds a new drone appears inside a permanent no-fly zone around the stadium; the latency of
its first message (publish → alert written and reported) is one sample.

Three runs on the same schedule, in this process:

* ``ours`` — MQTT → batching runner (a step and a commit at 2,000 messages or 20 ms after the
  first, whichever comes first);
* ``in_process`` — the same runner fed directly, no MQTT (what the broker costs);
* baseline ``naive`` — MQTT → the same pipeline one message at a time, one commit per message
  (it cannot keep up at 1,000 messages/s: its latencies are ``null`` when no alert came within
  30 s of the last message, and ``processed`` says how far it got).

Prints one JSON line: ``ours_s`` / ``baseline_s`` are p99 latencies in seconds, p50 and the
in-process figures beside them, the message rate achieved, alerts expected and seen, the
process CPU time of each run, the worker's CPU time per batch (p50, p99: the latency the
pipeline itself adds, whatever else the machine runs) and the load average (shared machine).
``alerts_seen`` below ``alerts_expected`` means the tracker folded a new intruder into another
intruder's gate (see the report of issue 8: tracker ``_batch`` duplicate check). Run:
``.venv/bin/python benchmarks/bench_airspace_live.py [--seconds 20] [--rate 1000]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt

from haizhou.feeds.area import add_permit, save_scenario_area
from haizhou.feeds.messages import FeedMessage, topic_for
from haizhou.feeds.mqtt import MqttSubscriber
from haizhou.feeds.runner import AirspaceRunner
from haizhou.feeds.synthetic import remote_id_pack
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables.airspace import AirspaceZoneRow

KEY = b"bench-airspace-key-0123456789abcdef"
LON0, LAT0 = 119.2280, 34.5800
D = 0.004  # half-size of the no-fly square, degrees (~400 m)


def _world(folder: Path, drones: int) -> Any:
    url = f"sqlite:///{folder / f'air-{uuid.uuid4().hex[:6]}.db'}"
    migrate.upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    now = datetime.now(UTC)
    ps = Pseudonymiser(KEY)
    with factory() as session:
        save_scenario_area(session, "stadium_match_day")
        session.add(
            AirspaceZoneRow(
                name="体育中心禁飞区",
                kind="no_fly",
                polygon=[
                    [LON0 - D, LAT0 - D],
                    [LON0 + D, LAT0 - D],
                    [LON0 + D, LAT0 + D],
                    [LON0 - D, LAT0 + D],
                ],
                floor_m=0,
                ceiling_m=500,
                active=[],
            )
        )
        for k in range(drones):
            lon, lat = _home(k)
            add_permit(
                session,
                pseudonymiser=ps,
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
                valid_to=now + timedelta(hours=2),
            )
        session.commit()
    return factory


def _home(k: int) -> tuple[float, float]:
    angle = 2 * np.pi * k / 37.0
    radius = 0.03 + 0.002 * (k % 5)  # 3-4 km out, clear of the no-fly zone
    return LON0 + radius * np.cos(angle), LAT0 + radius * np.sin(angle)


def _schedule(
    seconds: float, rate: int, drones: int, intruders_per_s: float
) -> list[tuple[float, str, bytes]]:
    """(send time, serial, payload) in time order; intruders' first messages are the samples."""
    rng = np.random.default_rng(8)
    n = int(seconds * rate)
    times = np.arange(n) / rate
    out: list[tuple[float, str, bytes]] = []
    intruder_every = int(rate / intruders_per_s)
    intruder = 0
    for i, t in enumerate(times):
        if i % intruder_every == intruder_every // 2 and t > 1.0:
            serial = f"IN{intruder:014d}"
            intruder += 1
            dx, dy = rng.uniform(-0.8 * D, 0.8 * D, 2)
            out.append((float(t), serial, remote_id_pack(serial, LON0 + dx, LAT0 + dy, 60.0)))
            continue
        k = i % drones
        lon, lat = _home(k)
        phase = t * 0.05 + k
        out.append(
            (
                float(t),
                f"BG{k:014d}",
                remote_id_pack(
                    f"BG{k:014d}", lon + 0.002 * np.cos(phase), lat + 0.002 * np.sin(phase), 80.0
                ),
            )
        )
    return out


def _publish(
    schedule: list[tuple[float, str, bytes]],
    host: str,
    port: int,
    topic: str,
    conn: Any,
) -> None:
    """Publisher process: QoS 1 on schedule; sends back intruders' send times and the span."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"benchpub-{uuid.uuid4().hex[:6]}"
    )
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    client.connect(host, port)
    client.loop_start()
    conn.send("ready")
    start_at = conn.recv()  # chosen by the parent once this process is up and connected
    sent: dict[str, float] = {}
    for t, serial, payload in schedule:
        delay = start_at + t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if serial.startswith("IN"):
            sent[serial] = time.perf_counter()
        client.publish(topic, payload, qos=1)
    span = time.perf_counter() - start_at
    client.loop_stop()
    client.disconnect()
    conn.send((sent, span))


def _send_in_process(
    runner: AirspaceRunner,
    schedule: list[tuple[float, str, bytes]],
    sensor: str,
    topic: str,
    start_at: float,
) -> tuple[dict[str, float], float]:
    sent: dict[str, float] = {}
    for t, serial, payload in schedule:
        delay = start_at + t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if serial.startswith("IN"):
            sent[serial] = time.perf_counter()
        runner.submit(
            FeedMessage(
                sensor_id=sensor,
                kind="remoteid",
                payload=payload,
                received_at=datetime.now(UTC),
                topic=topic,
            )
        )
    return sent, time.perf_counter() - start_at


def _run(
    mode: str,
    folder: Path,
    schedule: list[tuple[float, str, bytes]],
    drones: int,
    host: str,
    port: int,
) -> dict[str, Any]:
    factory = _world(folder, drones)
    ps = Pseudonymiser(KEY)
    if mode == "naive":
        runner = AirspaceRunner(factory, ps, max_batch=1, max_wait_s=0.0)
    else:
        runner = AirspaceRunner(factory, ps)  # defaults: flush at 2,000 messages or 20 ms
    token_of = {
        ps.pseudonymise(s, IdentifierKind.DEVICE).token: s
        for _, s, _ in schedule
        if s.startswith("IN")
    }
    alerted: dict[str, float] = {}

    def on_alert(alert: Any, _alert_id: int, _at: Any) -> None:
        done = time.perf_counter()
        track = next(
            (t for t in runner.pipeline.tracker.tracks if t.track_id == alert.track_id), None
        )
        serial = token_of.get(track.serial) if track is not None and track.serial else None
        if serial is not None:
            alerted.setdefault(serial, done)

    runner.listeners.append(on_alert)
    batch_cpu: list[float] = []
    process = runner.process

    def timed(messages: list[FeedMessage], now: datetime | None = None) -> Any:
        start = time.thread_time()
        out = process(messages, now)
        batch_cpu.append(time.thread_time() - start)
        return out

    runner.process = timed  # type: ignore[method-assign]
    sensor = f"bench-{uuid.uuid4().hex[:6]}"
    topic = topic_for(sensor, "remoteid")
    stop = threading.Event()
    subscriber = None
    if mode != "in_process":
        subscriber = MqttSubscriber(
            host,
            port,
            runner.submit,
            client_id=f"bench-{uuid.uuid4().hex[:6]}",
            topic=f"haizhou/airspace/{sensor}/+",
            clean_session=True,
        )
        subscriber.start()
        if not subscriber.subscribed.wait(10):
            raise SystemExit("MQTT broker did not accept the subscription")
    worker = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    worker.start()
    cpu0 = time.process_time()
    if mode == "in_process":
        start_at = time.perf_counter() + 0.5
        sent, send_s = _send_in_process(runner, schedule, sensor, topic, start_at)
    else:  # a separate publisher process, as sensors are (CLOCK_MONOTONIC is shared)
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_publish, args=(schedule, host, port, topic, child))
        proc.start()
        if parent.recv() != "ready":
            raise SystemExit("the publisher process did not start")
        parent.send(time.perf_counter() + 0.5)
        sent, send_s = parent.recv()
        proc.join(30)
    expected = len(sent)
    deadline = time.perf_counter() + 30
    while len(alerted) < expected and time.perf_counter() < deadline:
        time.sleep(0.05)
    stop.set()
    worker.join(30)
    cpu = time.process_time() - cpu0
    if subscriber is not None:
        subscriber.stop()
    latencies = [alerted[s] - sent[s] for s in sent if s in alerted]

    def pct(q: float) -> float | None:  # None (JSON null) when no alert came at all
        return round(float(np.percentile(latencies, q)), 5) if latencies else None

    return {
        "p50_s": pct(50),
        "p99_s": pct(99),
        "max_s": pct(100),
        "alerts_expected": expected,
        "alerts_seen": len(latencies),
        "messages": len(schedule),
        "sent_per_s": round(len(schedule) / send_s, 1),
        "processed": runner.stats.messages,
        "batches": runner.stats.batches,
        "cpu_s": round(cpu, 2),
        "batch_cpu_ms_p50": round(float(np.percentile(batch_cpu, 50)) * 1000, 2),
        "batch_cpu_ms_p99": round(float(np.percentile(batch_cpu, 99)) * 1000, 2),
        "cpu_ms_per_message": round(sum(batch_cpu) / max(runner.stats.messages, 1) * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=1000, help="messages per second")
    parser.add_argument("--drones", type=int, default=40, help="permitted background drones")
    parser.add_argument("--intruders", type=float, default=5.0, help="new intruders per second")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    args = parser.parse_args()
    schedule = _schedule(args.seconds, args.rate, args.drones, args.intruders)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours = _run("ours", folder, schedule, args.drones, args.host, args.port)
        inproc = _run("in_process", folder, schedule, args.drones, args.host, args.port)
        naive = _run("naive", folder, schedule, args.drones, args.host, args.port)
    print(
        json.dumps(
            {
                "name": "airspace_live_alert_latency",
                "ours_s": ours["p99_s"],
                "baseline": "naive: same pipeline over MQTT, one message per step and one commit per message",
                "baseline_s": naive["p99_s"],
                "ratio": (
                    round(naive["p99_s"] / ours["p99_s"], 2)
                    if ours["p99_s"] and naive["p99_s"]
                    else None
                ),
                "ours_p50_s": ours["p50_s"],
                "baseline_p50_s": naive["p50_s"],
                "target_p99_s": 0.1,
                "rate_per_s": args.rate,
                "ours": ours,
                "in_process_no_mqtt": inproc,
                "naive": naive,
                "load_average_1m": round(os.getloadavg()[0], 2),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
