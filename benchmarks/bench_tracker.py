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
saying whether our IDF1 beats every baseline. Times are process CPU seconds of the tracking
loop only. Baselines that are not installed are reported as skipped.

Run: ``.venv/bin/python benchmarks/bench_tracker.py [--seed 0] [--duration-s 300]``.
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--duration-s", type=float, default=300.0)
    ap.add_argument("--box-m", type=float, default=30.0)
    ap.add_argument("--threshold-m", type=float, default=100.0)
    args = ap.parse_args()
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
        json.dumps({"name": "tracker_summary", "ours_idf1": ours["idf1"], "idf1_beats_all": beats})
    )


if __name__ == "__main__":
    main()
