"""Fit the shipped drone-versus-bird weights on synthetic clips.

``python -m haizhou.airspace.video.train [--clips 24] [--frames 200] [--out weights.json]``
runs the motion detector and tracker on clips of seeds ``1000…``, labels each confirmed track
by the ground-truth object it follows most often, takes features over sliding windows and fits
a logistic regression (scikit-learn). The weights are written as JSON beside this module; the
test suite checks that the shipped file still classifies fresh clips (other seeds) well.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from haizhou.airspace.video.classify import FEATURES, track_features
from haizhou.airspace.video.detect import MotionDetector
from haizhou.airspace.video.synthetic import SyntheticClip
from haizhou.airspace.video.track import VideoTrack, VideoTracker

__all__ = ["clip_samples", "fit"]


def _truth_label(track: VideoTrack, truth: dict[int, list]) -> str | None:
    votes: Counter[str] = Counter()
    for frame, det in track.history:
        cx, cy = det.centre
        for box in truth.get(frame, []):
            bx, by = box.centre
            if np.hypot(cx - bx, cy - by) <= 20 + max(box.x1 - box.x0, box.y1 - box.y0) / 2:
                votes[box.label] += 1
    if not votes:
        return None
    label, n = votes.most_common(1)[0]
    return label if n >= len(track.history) / 2 else None


def clip_samples(seed: int, frames: int, width: int = 1280, height: int = 720) -> tuple[list, list]:
    """Feature windows and true labels from one synthetic clip."""
    clip = SyntheticClip(width=width, height=height, seed=seed, n_drones=2, n_birds=3)
    detector, tracker = MotionDetector(), VideoTracker()
    truth: dict[int, list] = {}
    snapshots: list[tuple[VideoTrack, np.ndarray]] = []
    for t, (frame, boxes) in enumerate(clip.frames(frames)):
        truth[t] = boxes
        for track in tracker.update(t, detector.detect(frame)):
            if t % 8 == 0:
                features = track_features(track, clip.fps)
                if features is not None:
                    snapshots.append((track, features))
    xs, ys = [], []
    for track, features in snapshots:
        label = _truth_label(track, truth)
        if label is not None:
            xs.append(features)
            ys.append(1 if label == "drone" else 0)
    return xs, ys


def fit(clips: int = 24, frames: int = 200, first_seed: int = 1000) -> dict:
    """Weights as a JSON-ready dict."""
    from sklearn.linear_model import LogisticRegression

    xs, ys = [], []
    for seed in range(first_seed, first_seed + clips):
        x, y = clip_samples(seed, frames)
        xs += x
        ys += y
    features, labels = np.array(xs), np.array(ys)
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-9
    model = LogisticRegression(C=1.0, max_iter=1000).fit((features - mean) / scale, labels)
    return {
        "features": list(FEATURES),
        "coef": [round(float(c), 6) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "mean": [round(float(m), 6) for m in mean],
        "scale": [round(float(s), 6) for s in scale],
        "trained_on": {
            "clips": clips,
            "frames": frames,
            "seeds": [first_seed, first_seed + clips - 1],
            "samples": len(labels),
            "drone_share": round(float(labels.mean()), 4),
            "training_accuracy": round(float(model.score((features - mean) / scale, labels)), 4),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("weights.json"))
    args = parser.parse_args(argv)
    weights = fit(args.clips, args.frames)
    args.out.write_text(json.dumps(weights, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(weights["trained_on"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
