"""Drone or bird from how a track looks and moves (视频目标分类).

A bird beats its wings several times a second, so the area and the aspect of its silhouette
pulse; it turns often; it flies fast for its size. A multirotor keeps its outline, flies
smooth lines or hovers. Six numbers describe a track's recent history (:func:`track_features`)
and a logistic regression turns them into a probability of *drone*. Its weights ship with the
package (``weights.json``); ``python -m haizhou.airspace.video.train`` re-fits them on
synthetic clips (:mod:`haizhou.airspace.video.synthetic`) and writes that file.

A model detector that names classes itself (YOLO) is trusted instead: its labels are
averaged over the track, weighted by score.

References
----------
.. [1] Rosa, R. et al. (2019). Drone vs. bird detection: deep learning algorithms and results
   from a grand challenge. *Sensors* 21(8), 2824. https://doi.org/10.3390/s21082824
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from haizhou.airspace.video.track import VideoTrack

__all__ = ["FEATURES", "TrackClassifier", "VideoClassification", "track_features"]

FEATURES = ("area_cv", "aspect_cv", "speed_per_size", "turn_rate", "pulse_power", "fill")
"""Names of the features, in the order of the weights."""


@dataclass(frozen=True, slots=True)
class VideoClassification:
    """Label of one track.

    Attributes
    ----------
    label : {"drone", "bird", "unknown"}
    confidence : float
        Probability of the label (of the likelier class when ``unknown``).
    p_drone : float
    reasons : tuple of str
    """

    label: str
    confidence: float
    p_drone: float
    reasons: tuple[str, ...]


def _cv(values: np.ndarray) -> float:
    mean = float(values.mean())
    return float(values.std() / mean) if mean > 0 else 0.0


def track_features(track: VideoTrack, fps: float, window: int = 48) -> np.ndarray | None:
    """The feature vector of ``track``'s latest ``window`` detections, or ``None`` if too short.

    ``pulse_power`` is the share of the detrended area signal's power at 2–12 Hz (wing beats).
    """
    items = list(track.history)[-window:]
    if len(items) < 8:
        return None
    frames = np.array([f for f, _ in items], dtype=float)
    area = np.array([d.area for _, d in items], dtype=float)
    width = np.array([d.width for _, d in items], dtype=float)
    height = np.array([d.height for _, d in items], dtype=float)
    centres = np.array([d.centre for _, d in items], dtype=float)
    steps = np.diff(centres, axis=0) / np.diff(frames)[:, None]
    speed = np.hypot(steps[:, 0], steps[:, 1])
    size = float(np.sqrt(max(area.mean(), 1.0)))
    moving = speed > 0.3
    if moving.sum() >= 3:
        heading = np.unwrap(np.arctan2(steps[moving, 1], steps[moving, 0]))
        turn = float(np.abs(np.diff(heading)).mean()) if len(heading) > 1 else 0.0
    else:
        turn = 0.0
    detrended = area - np.polyval(np.polyfit(frames, area, 1), frames)
    spectrum = np.abs(np.fft.rfft(detrended)) ** 2
    freqs = np.fft.rfftfreq(len(detrended), d=1.0 / fps)
    total = float(spectrum[1:].sum())
    band = (freqs >= 2.0) & (freqs <= 12.0)
    pulse = float(spectrum[band].sum() / total) if total > 0 else 0.0
    fill = float(np.mean(area / np.maximum(width * height, 1.0)))
    return np.array(
        [
            _cv(area),
            _cv(width / np.maximum(height, 1.0)),
            float(speed.mean()) / size,
            turn,
            pulse,
            fill,
        ]
    )


@lru_cache(maxsize=1)
def _shipped() -> dict:
    text = resources.files("haizhou.airspace.video").joinpath("weights.json").read_text("utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class TrackClassifier:
    """Logistic drone-versus-bird classifier over :func:`track_features`.

    Parameters
    ----------
    coef, intercept, mean, scale : array-like or None
        Weights on standardised features; ``None`` takes the shipped ones.
    fps : float
        Frame rate of the video (wing beats are in hertz).
    min_confidence : float
        Below this the label is ``unknown``.
    """

    coef: tuple[float, ...] | None = None
    intercept: float | None = None
    mean: tuple[float, ...] | None = None
    scale: tuple[float, ...] | None = None
    fps: float = 25.0
    min_confidence: float = 0.7

    def _weights(self) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        if self.coef is not None:
            return (
                np.asarray(self.coef),
                float(self.intercept or 0.0),
                np.asarray(self.mean),
                np.asarray(self.scale),
            )
        w = _shipped()
        return (
            np.asarray(w["coef"]),
            float(w["intercept"]),
            np.asarray(w["mean"]),
            np.asarray(w["scale"]),
        )

    def p_drone(self, features: np.ndarray) -> np.ndarray:
        """Probability of *drone* for rows of features."""
        coef, intercept, mean, scale = self._weights()
        z = (np.atleast_2d(features) - mean) / scale @ coef + intercept
        return 1.0 / (1.0 + np.exp(-z))

    def classify(self, track: VideoTrack) -> VideoClassification:
        """The label of ``track`` with its reasons."""
        labelled = [(d.label, d.score) for _, d in track.history if d.label]
        if labelled:
            votes: dict[str, float] = {}
            for label, score in labelled:
                votes[label] = votes.get(label, 0.0) + score
            best = max(votes, key=lambda k: votes[k])
            confidence = votes[best] / sum(votes.values())
            p = confidence if best == "drone" else votes.get("drone", 0.0) / sum(votes.values())
            label = best if confidence >= self.min_confidence else "unknown"
            return VideoClassification(
                label, confidence, p, (f"detector said {best} on {len(labelled)} frames",)
            )
        features = track_features(track, self.fps)
        if features is None:
            return VideoClassification("unknown", 0.5, 0.5, ("too few frames",))
        p = float(self.p_drone(features)[0])
        best, confidence = ("drone", p) if p >= 0.5 else ("bird", 1.0 - p)
        named = dict(zip(FEATURES, features, strict=True))
        reasons = (
            f"outline pulse {named['pulse_power']:.0%} of area power at 2–12 Hz",
            f"moves {named['speed_per_size'] * self.fps:.1f} body sizes a second",
            f"area varies {named['area_cv']:.0%}",
            f"turns {np.degrees(named['turn_rate']):.1f}° per frame",
        )
        return VideoClassification(
            best if confidence >= self.min_confidence else "unknown", confidence, p, reasons
        )
