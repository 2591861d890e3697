"""Benchmark: drone detection in 1280 × 720 video on the CPU, frames per second and quality.

Ours: the motion detector (``haizhou.airspace.video.detect.MotionDetector``) alone, and the
whole chain (detector, tracker, drone/bird classifier). Baseline: OpenCV's MOG2 background
subtractor with the usual morphology and ``findContours`` (what most drone-detection code does
first), from ``opencv-python-headless`` (bench extra). Both see the same synthetic clip with
ground truth (frames rendered beforehand, so rendering is not timed), single-threaded
(``cv2.setNumThreads(1)``); detection recall and precision are scored the same way (a detection
matches a true box if its centre is within 20 px plus half the box size).

Run: ``.venv/bin/python benchmarks/bench_video.py [--frames 200] [--seed 11]``; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from haizhou.airspace.video.detect import Detection, MotionDetector
from haizhou.airspace.video.pipeline import VideoObject, VideoPipeline, score_clip
from haizhou.airspace.video.synthetic import SyntheticClip


def _as_objects(frame: int, detections: list[Detection]) -> list[VideoObject]:
    """Detections as reports without labels, for detection-level scoring."""
    return [VideoObject(0, frame, (d.x0, d.y0, d.x1, d.y1), "", 0.0, ()) for d in detections]


def _timed(frames: list[np.ndarray], step) -> tuple[float, float, list]:
    out = []
    wall, cpu = time.perf_counter(), time.process_time()
    for i, frame in enumerate(frames):
        out.append(step(i, frame))
    return time.perf_counter() - wall, time.process_time() - cpu, out


def run_mog2(frames: list[np.ndarray]) -> tuple[float, float, list]:
    import cv2

    cv2.setNumThreads(1)
    subtractor = cv2.createBackgroundSubtractorMOG2(
        history=200, varThreshold=16, detectShadows=False
    )
    kernel = np.ones((3, 3), np.uint8)

    def step(i: int, frame: np.ndarray) -> list[Detection]:
        mask = subtractor.apply(frame)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        mask = cv2.dilate(mask, kernel)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        found = []
        for c in contours:
            area = cv2.contourArea(c)
            if area < 12:
                continue
            x, y, w, h = cv2.boundingRect(c)
            found.append(Detection(x, y, x + w, y + h, score=1.0, area=area))
        return found if i >= 15 else []

    return _timed(frames, step)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    clip = SyntheticClip(width=1280, height=720, seed=args.seed)
    rendered = list(clip.frames(args.frames))
    frames = [f for f, _ in rendered]
    truth = [t for _, t in rendered]
    n = len(frames)

    detector = MotionDetector()
    d_wall, d_cpu, d_out = _timed(frames, lambda i, f: detector.detect(f))
    pipe = VideoPipeline()
    p_wall, p_cpu, p_out = _timed(frames, pipe.process)
    b_wall, b_cpu, b_out = run_mog2(frames)

    ours_det = score_clip([_as_objects(i, d) for i, d in enumerate(d_out)], truth)
    base_det = score_clip([_as_objects(i, d) for i, d in enumerate(b_out)], truth)
    chain = score_clip(p_out, truth)
    result = {
        "benchmark": "video_detection",
        "frame_size": [1280, 720],
        "frames": n,
        "ours_detector": {
            "fps": round(n / d_wall, 1),
            "cpu_ms_per_frame": round(1000 * d_cpu / n, 2),
            "recall": round(ours_det.recall, 4),
            "precision": round(ours_det.precision, 4),
        },
        "ours_chain": {
            "fps": round(n / p_wall, 1),
            "cpu_ms_per_frame": round(1000 * p_cpu / n, 2),
            **{k: v for k, v in chain.to_dict().items() if k != "frames"},
        },
        "baseline": {
            "name": "OpenCV MOG2 + findContours (1 thread)",
            "fps": round(n / b_wall, 1),
            "cpu_ms_per_frame": round(1000 * b_cpu / n, 2),
            "recall": round(base_det.recall, 4),
            "precision": round(base_det.precision, 4),
        },
        "speedup_detector_vs_baseline": round(b_wall / d_wall, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
