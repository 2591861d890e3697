"""Benchmark: multi-target tracker identity continuity (多目标跟踪) against open-source trackers.

The same simulated radar plots — 30 drones (transit, loiter, approach-and-hover, erratic),
two bird flocks and clutter around 连云港市体育中心, 300 s at 1 s revisit — go to:

* ours: :class:`haizhou.airspace.tracking.MultiSensorTracker` with default components
  (3-D positions with each plot's covariance);
* ``norfair`` (BSD-3-Clause): ``Tracker(distance_function="mean_euclidean")`` on (x, y) points;
* Roboflow ``trackers`` (Apache-2.0): ``SORTTracker`` and ``ByteTrackTracker`` on boxes of
  ±``--box-m`` metres around each plot (they associate by IoU), with ``lost_track_buffer=8`` frames.

Every output is scored by :func:`haizhou.airspace.evaluation.mot_metrics` and
:func:`~haizhou.airspace.evaluation.hota` on horizontal positions with a 100 m match distance.
Prints one JSON line per baseline ``{"name": "tracker_<baseline>", "ours_s", "baseline",
"baseline_s", "ratio", "mota", "idf1", "hota", "id_switches", "ours_mota", "ours_idf1",
"ours_hota", "ours_id_switches"}`` (unprefixed figures are the baseline's), then a summary line
with our own figures and time, saying whether our IDF1 beats every baseline. Times are process
CPU seconds of the tracking loop only. Baselines that are not installed are reported as skipped.

With ``--step-cost`` it measures instead the fixed cost of one live step (issue 10): the live
pipeline's tracker (:func:`haizhou.feeds.pipeline.live_tracker`) holds ``--live-tracks`` (100)
Remote ID drones, and each step gets ``--batch`` (25) of their position reports, every 20 ms.
Two shapes of batch: ``one_time`` (every report at the last step's time, as the live pipeline's
frame grid gives) and ``own_times`` (each report its own time: one update group per report).
Baseline: the same reports stepped one at a time (one ``step`` per report). Prints one JSON
line ``{"name": "tracker_step_cost", "<shape>_ms_per_step", "<shape>_baseline_ms_per_step",
...}`` (process CPU milliseconds, medians of ``--repeats`` runs) and the load average.

Run: ``.venv/bin/python benchmarks/bench_tracker.py [--seed 0] [--duration-s 300]`` or
``.venv/bin/python benchmarks/bench_tracker.py --step-cost [--steps 400]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import Callable

import numpy as np

from haizhou.airspace.evaluation import frames_from_run, hota, mot_metrics
from haizhou.airspace.scenario import parse_scenario, simulate
from haizhou.airspace.tracking import MultiSensorTracker

warnings.filterwarnings("ignore")

Outputs = list[tuple[float, list[tuple[int, np.ndarray]]]]


def scenario(duration_s: float) -> dict:
    """30 drones, 2 flocks of 5 birds, radar with 2 false plots per scan."""
    objects = [
        {
            "object_id": "T",
            "kind": "drone",
            "profile": "transit",
            "count": 10,
            "speed_mps": 12,
            "alt_m": 100,
            "spawn_radius_m": 3000,
            "radius_m": 1500,
            "duration_s": duration_s,
        },
        {
            "object_id": "L",
            "kind": "drone",
            "profile": "loiter",
            "count": 8,
            "speed_mps": 7,
            "alt_m": 80,
            "radius_m": 150,
            "duration_s": duration_s,
        },
        {
            "object_id": "H",
            "kind": "drone",
            "profile": "approach_hover",
            "count": 8,
            "speed_mps": 10,
            "alt_m": 90,
            "radius_m": 300,
            "spawn_radius_m": 3000,
            "duration_s": duration_s,
        },
        {
            "object_id": "E",
            "kind": "drone",
            "profile": "erratic",
            "count": 4,
            "speed_mps": 12,
            "alt_m": 60,
            "spawn_radius_m": 2000,
            "duration_s": duration_s,
        },
        {
            "object_id": "B1",
            "kind": "bird",
            "profile": "flocking",
            "count": 5,
            "speed_mps": 10,
            "alt_m": 50,
            "spawn_radius_m": 1500,
            "duration_s": duration_s,
        },
        {
            "object_id": "B2",
            "kind": "bird",
            "profile": "flocking",
            "count": 5,
            "speed_mps": 9,
            "alt_m": 70,
            "spawn_radius_m": 1500,
            "duration_s": duration_s,
        },
    ]
    return {
        "name": "bench_stadium_30",
        "start": "2026-05-01T19:00:00+08:00",
        "duration_s": duration_s,
        "centre": {"lon": 119.2280, "lat": 34.5800},
        "asset": {"name": "连云港市体育中心", "lon": 119.2280, "lat": 34.5800},
        "objects": objects,
        "sensors": [
            {
                "sensor_id": "radar-1",
                "kind": "radar",
                "range_m": 5000,
                "period_s": 1,
                "pd": 0.95,
                "range50_m": 3500,
                "false_alarms_per_scan": 2.0,
                "sigma_az_deg": 0.4,
            }
        ],
    }


def _batches(sim) -> list[tuple[float, list]]:
    out, k, dets = [], 0, sim.detections
    for t in sim.times_s:
        b = []
        while k < len(dets) and dets[k].time_s <= t + 1e-9:
            b.append(dets[k])
            k += 1
        out.append((float(t), b))
    return out


def run_ours(batches) -> Outputs:
    tracker = MultiSensorTracker.default()
    return [
        (t, [(tr.track_id, tr.position.copy()) for tr in tracker.step(b, t)]) for t, b in batches
    ]


def run_norfair(batches) -> Outputs:
    import norfair

    tracker = norfair.Tracker(
        distance_function="mean_euclidean",
        distance_threshold=60.0,
        hit_counter_max=8,
        initialization_delay=2,
    )
    out: Outputs = []
    for t, b in batches:
        dets = [
            norfair.Detection(points=np.array([[d.measurement[0], d.measurement[1]]])) for d in b
        ]
        objs = tracker.update(detections=dets)
        out.append(
            (t, [(int(o.id), np.array([o.estimate[0, 0], o.estimate[0, 1], 0.0])) for o in objs])
        )
    return out


def _boxes(b, box_m: float):
    import supervision as sv

    if not b:
        return sv.Detections.empty()
    xy = np.array([[d.measurement[0], d.measurement[1]] for d in b])
    xyxy = np.hstack([xy - box_m, xy + box_m])
    return sv.Detections(
        xyxy=xyxy, confidence=np.full(len(b), 0.9), class_id=np.zeros(len(b), dtype=int)
    )


def run_roboflow(kind: str, box_m: float) -> Callable:
    def run(batches) -> Outputs:
        from trackers import ByteTrackTracker, SORTTracker

        cls = SORTTracker if kind == "sort" else ByteTrackTracker
        # maximum frames lost = int(frame_rate / 30 * lost_track_buffer): keep frame_rate at its
        # default 30 so the buffer counts our 1 s frames (frame_rate=1 would make it 0).
        tracker = cls(lost_track_buffer=8, frame_rate=30.0)
        out: Outputs = []
        for t, b in batches:
            res = tracker.update(_boxes(b, box_m))
            hyps = []
            if len(res) and res.tracker_id is not None:
                for box, tid in zip(res.xyxy, res.tracker_id, strict=True):
                    if tid is None or int(tid) < 0:
                        continue
                    hyps.append(
                        (int(tid), np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 0.0]))
                    )
            out.append((t, hyps))
        return out

    return run


def score(sim, outputs: Outputs, threshold_m: float) -> dict:
    flat = [(t, [(h, np.array([p[0], p[1], 0.0])) for h, p in hyps]) for t, hyps in outputs]
    frames = frames_from_run(sim, flat)
    frames = [
        type(f)(
            gt_ids=f.gt_ids,
            gt_positions=f.gt_positions * np.array([1.0, 1.0, 0.0]),
            hyp_ids=f.hyp_ids,
            hyp_positions=f.hyp_positions,
        )
        for f in frames
    ]
    m = mot_metrics(frames, threshold_m=threshold_m)
    return {
        "mota": m.mota,
        "idf1": m.idf1,
        "hota": hota(frames, threshold_m=threshold_m),
        "id_switches": m.id_switches,
    }


def timed(fn, batches) -> tuple[Outputs, float]:
    t0 = time.process_time()
    out = fn(batches)
    return out, time.process_time() - t0


def _rid_reports(live: int, batch: int, steps: int, *, own_times: bool) -> list[tuple[float, list]]:
    """``steps`` batches of ``batch`` Remote ID reports from ``live`` drones on circles, one
    every 20 ms, after 3 warm-up batches in which every drone reports (so all are tracked).

    As the live pipeline's clock gives them: a batch's reports are all at the time of the last
    step (``one_time``: the frame grid) or each at its own time after it (``own_times``), and
    the step is at the time of the newest report.
    """
    from haizhou.airspace.tracking import Detection, PositionModel

    pm = PositionModel.isotropic(10.0, 15.0)
    angle = 2 * np.pi * np.arange(live) / live
    home = np.column_stack([3000 * np.cos(angle), 3000 * np.sin(angle)])

    def report(k: int, t: float) -> Detection:
        phase = 0.05 * t + k
        x, y = home[k] + 200.0 * np.array([np.cos(phase), np.sin(phase)])
        return Detection(
            time_s=t, sensor_id="rid-1", sensor_kind="remote_id",
            measurement=(float(x), float(y), 80.0), model=pm,
            serial=f"BG{k:014d}", protocol="astm_f3411",
        )  # fmt: skip

    out: list[tuple[float, list]] = []
    t = 0.0
    for _ in range(3):
        t += 1.0
        out.append((t, [report(k, t) for k in range(live)]))
    k = 0
    for _ in range(steps):
        gap = 0.02 / batch
        dets = [
            report((k + j) % live, t + (gap * (j + 1) if own_times else 0.0)) for j in range(batch)
        ]
        k += batch
        t += 0.02
        out.append((t, dets))
    return out


def step_cost(args: argparse.Namespace) -> dict:
    """CPU per live step, one shared time and one time per report, against one step per report."""
    from haizhou.feeds.pipeline import live_tracker

    def run(batches, per_report: bool) -> tuple[float, int]:
        tracker = live_tracker()
        for now, dets in batches[:3]:
            tracker.step(dets, now)
        t0 = time.process_time()
        for now, dets in batches[3:]:
            if per_report:
                for d in dets:
                    tracker.step([d], d.time_s)
            else:
                tracker.step(dets, now)
        return (time.process_time() - t0) / (len(batches) - 3) * 1000, len(tracker.tracks)

    out: dict = {"name": "tracker_step_cost", "batch": args.batch, "steps": args.steps}
    for shape in ("one_time", "own_times"):
        batches = _rid_reports(
            args.live_tracks, args.batch, args.steps, own_times=shape == "own_times"
        )
        for label, per in (("", False), ("_baseline", True)):
            runs = [run(batches, per) for _ in range(args.repeats)]
            out[f"{shape}{label}_ms_per_step"] = round(float(np.median([r[0] for r in runs])), 3)
            out[f"{shape}{label}_live_tracks"] = runs[0][1]
    out["baseline"] = "the same reports, one step() per report"
    out["loadavg"] = [round(v, 2) for v in os.getloadavg()]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--duration-s", type=float, default=300.0)
    ap.add_argument("--box-m", type=float, default=30.0)
    ap.add_argument("--threshold-m", type=float, default=100.0)
    ap.add_argument("--step-cost", action="store_true", help="CPU per live step (issue 10)")
    ap.add_argument("--live-tracks", type=int, default=100)
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if args.step_cost:
        print(json.dumps(step_cost(args)))
        return
    sim = simulate(parse_scenario(scenario(args.duration_s), source="bench"), seed=args.seed)
    batches = _batches(sim)
    ours_out, ours_s = timed(run_ours, batches)
    ours = score(sim, ours_out, args.threshold_m)
    baselines = {
        "norfair": run_norfair,
        "sort": run_roboflow("sort", args.box_m),
        "bytetrack": run_roboflow("bytetrack", args.box_m),
    }
    beats = True
    n_plots = len(sim.detections)
    for name, fn in baselines.items():
        try:
            out, base_s = timed(fn, batches)
        except ImportError as exc:
            print(json.dumps({"name": f"tracker_{name}", "skipped": f"not installed ({exc.name})"}))
            continue
        base = score(sim, out, args.threshold_m)
        beats = beats and ours["idf1"] > base["idf1"]
        print(
            json.dumps(
                {
                    "name": f"tracker_{name}",
                    "ours_s": round(ours_s, 3),
                    "baseline": name,
                    "baseline_s": round(base_s, 3),
                    "ratio": round(base_s / ours_s, 3) if ours_s else None,
                    **base,
                    **{f"ours_{k}": v for k, v in ours.items()},
                    "objects": len(sim.objects),
                    "plots": n_plots,
                    "frames": len(batches),
                }
            )
        )
    print(
        json.dumps(
            {
                "name": "tracker_summary",
                "ours_s": round(ours_s, 3),
                **{f"ours_{k}": v for k, v in ours.items()},
                "idf1_beats_all": beats,
                "loadavg": [round(v, 2) for v in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
