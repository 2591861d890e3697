"""CPU per airspace message of the live pipeline, in process (实时处理链单条报文CPU).

A recording of ``--seconds`` (30) of Remote ID traffic at ``--rate`` (1,000) messages/s is built
first with the real encoder (:func:`haizhou.feeds.synthetic.remote_id_pack`): ``--drones`` (200)
permitted drones flying circles in their permit areas (no alert) and, every ``--intruder-every``
(1.0) s, a new drone appearing inside a no-fly square around the stadium (its first message must
raise an alert in the batch that carries it). The recording is then fed to
:class:`~haizhou.feeds.pipeline.LivePipeline` with ``now`` = the last message's receive time +
10 ms (as the runner closes a batch 10 ms after its first message):

* baseline — batches of 1 (per-message processing);
* ours — batches of ``--batch`` (64), as the live runner drains its queue.

CPU is ``time.process_time`` over the feed only (encoding excluded). Prints one JSON line:
``ours_s`` / ``baseline_s`` (CPU seconds), ``cpu_ms_per_1000`` of each, the intruder alerts
expected and raised in their first batch, the top functions of a cProfile of ours
(``--profile``), the load average (shared machine: timings are noisy). Run:
``.venv/bin/python benchmarks/bench_airspace_pipeline.py [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from haizhou.airspace.control import Permit, Zone
from haizhou.airspace.scenario import load_scenario
from haizhou.feeds.messages import FeedMessage
from haizhou.feeds.pipeline import LivePipeline
from haizhou.feeds.synthetic import remote_id_pack

LON0, LAT0 = 119.2280, 34.5800
D = 0.004  # half-size of the no-fly square, degrees (~400 m)
EPOCH = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _home(k: int) -> tuple[float, float]:
    angle = 2 * np.pi * k / 37.0
    radius = 0.03 + 0.002 * (k % 5)  # 3-4 km out, clear of the no-fly zone
    return LON0 + radius * np.cos(angle), LAT0 + radius * np.sin(angle)


def _pseudonymise(serial: str) -> tuple[str, str]:
    return f"P:{serial}", f"{serial[:4]}****{serial[-2:]}"


def _pipeline(drones: int) -> LivePipeline:
    scenario = load_scenario("stadium_match_day")
    square = (
        (LON0 - D, LAT0 - D),
        (LON0 + D, LAT0 - D),
        (LON0 + D, LAT0 + D),
        (LON0 - D, LAT0 + D),
    )
    permits = []
    for k in range(drones):
        lon, lat = _home(k)
        permits.append(
            Permit(
                permit_id=f"P-{k}",
                serial=_pseudonymise(f"BG{k:014d}")[0],
                operator="测试单位",
                polygon=(
                    (lon - 0.01, lat - 0.01),
                    (lon + 0.01, lat - 0.01),
                    (lon + 0.01, lat + 0.01),
                    (lon - 0.01, lat + 0.01),
                ),
                valid_from=EPOCH - timedelta(days=1),
                valid_to=EPOCH + timedelta(days=1),
            )
        )
    nofly = Zone(name="体育中心禁飞区", kind="no_fly", polygon=square, floor_m=0, ceiling_m=500)
    area = scenario.control_area(tuple(permits))
    area = type(area).build(
        asset=area.asset, zones=(*area.zones, nofly), permits=area.permits,
        projection=area.projection,
    )  # fmt: skip
    return LivePipeline(area=area, epoch=EPOCH, pseudonymise=_pseudonymise)


def recording(
    seconds: float, rate: float, drones: int, intruder_every: float
) -> tuple[list[FeedMessage], dict[int, str]]:
    """The messages, and the index of each intruder's first message → its masked serial."""
    rng = np.random.default_rng(10)
    out: list[FeedMessage] = []
    firsts: dict[int, str] = {}
    next_at, n_in = 1.0, 0
    for i in range(int(seconds * rate)):
        t = i / rate
        if t >= next_at:
            next_at += intruder_every
            dx, dy = rng.uniform(-0.8 * D, 0.8 * D, 2)
            serial = f"IN{n_in:014d}"
            payload = remote_id_pack(serial, LON0 + dx, LAT0 + dy, 60.0)
            n_in += 1
            firsts[len(out)] = _pseudonymise(serial)[1]
        else:
            k = i % drones
            lon, lat = _home(k)
            phase = t * 0.05 + k
            payload = remote_id_pack(
                f"BG{k:014d}", lon + 0.002 * np.cos(phase), lat + 0.002 * np.sin(phase), 80.0,
                direction=float(np.degrees(phase)) % 360.0,
            )  # fmt: skip
        at = EPOCH + timedelta(seconds=t)
        out.append(FeedMessage(sensor_id="rid-1", kind="remoteid", payload=payload, received_at=at))
    return out, firsts


def feed(
    messages: list[FeedMessage], firsts: dict[int, str], batch: int, drones: int
) -> dict[str, Any]:
    """Feed ``messages`` in batches of ``batch``; CPU seconds and intruder alerts on time."""
    pipe = _pipeline(drones)
    on_time = alerts = 0
    lag = timedelta(milliseconds=10)
    start = time.process_time()
    for i in range(0, len(messages), batch):
        chunk = messages[i : i + batch]
        result = pipe.process(chunk, chunk[-1].received_at + lag)
        alerts += len(result.alerts)
        titles = " ".join(a.title for a in result.alerts)
        on_time += sum(1 for j in range(i, i + len(chunk)) if j in firsts and firsts[j] in titles)
    cpu = time.process_time() - start
    return {"cpu_s": cpu, "alerts": alerts, "on_time": on_time}


def main() -> None:
    """Parse arguments, build the recording, run both feeds, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--drones", type=int, default=200)
    parser.add_argument("--intruder-every", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--baseline-seconds", type=float, default=3.0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    messages, firsts = recording(args.seconds, args.rate, args.drones, args.intruder_every)
    n_base = int(args.baseline_seconds * args.rate)
    base = feed(messages[:n_base], {j: m for j, m in firsts.items() if j < n_base}, 1, args.drones)
    ours = feed(messages, firsts, args.batch, args.drones)
    top: list[str] = []
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        feed(messages, firsts, args.batch, args.drones)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
        top = [ln.strip() for ln in buf.getvalue().splitlines() if ln.strip()[:1].isdigit()]
    print(
        json.dumps(
            {
                "messages": len(messages),
                "baseline_messages": n_base,
                "batch": args.batch,
                "ours_s": round(ours["cpu_s"], 3),
                "baseline_s": round(base["cpu_s"], 3),
                "cpu_ms_per_1000": round(1000 * ours["cpu_s"] / len(messages) * 1000, 1),
                "baseline_cpu_ms_per_1000": round(1000 * base["cpu_s"] / n_base * 1000, 1),
                "intruders": len(firsts),
                "intruder_alerts_first_batch": ours["on_time"],
                "baseline_intruder_alerts_first_batch": base["on_time"],
                "alerts": ours["alerts"],
                "profile_tottime": top,
                "loadavg": [round(v, 2) for v in os.getloadavg()],
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
