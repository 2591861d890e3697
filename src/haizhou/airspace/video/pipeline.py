"""One camera's chain (视频处理链): detect → track → classify, and its scoring on ground truth.

Examples
--------
>>> from haizhou.airspace.video.synthetic import SyntheticClip
>>> clip = SyntheticClip(width=640, height=360, n_drones=1, n_birds=0, seed=2)
>>> pipe = VideoPipeline()
>>> for t, (frame, _) in enumerate(clip.frames(60)):
...     objects = pipe.process(t, frame)
>>> [o.label for o in objects]
['drone']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from haizhou.airspace.video.classify import TrackClassifier, VideoClassification
from haizhou.airspace.video.detect import Detection, MotionDetector
from haizhou.airspace.video.synthetic import GroundTruthBox
from haizhou.airspace.video.track import VideoTrack, VideoTracker

__all__ = ["Detector", "VideoObject", "VideoPipeline", "VideoScore", "score_clip"]


class Detector(Protocol):
    """Anything that finds objects in a frame."""

    def detect(self, frame: np.ndarray) -> list[Detection]: ...


@dataclass(frozen=True, slots=True)
class VideoObject:
    """A confirmed track as seen in the current frame."""

    track_id: int
    frame: int
    box: tuple[float, float, float, float]
    label: str
    confidence: float
    reasons: tuple[str, ...]


@dataclass
class VideoPipeline:
    """Detector, tracker and classifier for one camera.

    Parameters
    ----------
    detector : Detector
        :class:`MotionDetector` by default, or a
        :class:`~haizhou.airspace.video.onnx.YoloOnnxDetector`.
    tracker : VideoTracker
    classifier : TrackClassifier
    """

    detector: Detector = field(default_factory=MotionDetector)
    tracker: VideoTracker = field(default_factory=VideoTracker)
    classifier: TrackClassifier = field(default_factory=TrackClassifier)

    def process(self, frame_index: int, frame: np.ndarray) -> list[VideoObject]:
        """The confirmed objects seen in this frame, each labelled."""
        tracks = self.tracker.update(frame_index, self.detector.detect(frame))
        out = []
        for track in tracks:
            det = track.history[-1][1]
            result = self.classifier.classify(track)
            out.append(
                VideoObject(
                    track.track_id,
                    frame_index,
                    (det.x0, det.y0, det.x1, det.y1),
                    result.label,
                    result.confidence,
                    result.reasons,
                )
            )
        return out

    def final_labels(self) -> dict[int, tuple[VideoTrack, VideoClassification]]:
        """Every confirmed track with its label from its whole history."""
        return {t.track_id: (t, self.classifier.classify(t)) for t in self.tracker.all_confirmed()}


@dataclass(frozen=True)
class VideoScore:
    """Detection and classification quality on a clip with ground truth.

    Attributes
    ----------
    frames : int
    recall : float
        Share of ground-truth boxes (after warm-up) with a confirmed object within the match
        distance in the same frame.
    precision : float
        Share of reported objects that match a ground-truth box.
    classification_accuracy : float
        Share of matched reports whose label equals the truth (``unknown`` counts as wrong).
    drone_recall : float
        Share of drone boxes matched by an object labelled drone.
    """

    frames: int
    recall: float
    precision: float
    classification_accuracy: float
    drone_recall: float

    def to_dict(self) -> dict[str, float]:
        return {
            "frames": self.frames,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "classification_accuracy": round(self.classification_accuracy, 4),
            "drone_recall": round(self.drone_recall, 4),
        }


def score_clip(
    reports: list[list[VideoObject]],
    truth: list[list[GroundTruthBox]],
    skip: int = 30,
    match_px: float = 20.0,
) -> VideoScore:
    """Score per-frame reports against per-frame ground truth (frames before ``skip`` ignored).

    A report matches the nearest unmatched truth box whose centre is within ``match_px`` plus
    half its size.
    """
    n_truth = n_reports = hit_truth = hit_reports = correct = drones = drone_hits = 0
    for objects, boxes in list(zip(reports, truth, strict=True))[skip:]:
        n_truth += len(boxes)
        n_reports += len(objects)
        drones += sum(b.label == "drone" for b in boxes)
        free = list(boxes)
        for obj in objects:
            cx, cy = (obj.box[0] + obj.box[2]) / 2, (obj.box[1] + obj.box[3]) / 2
            best, best_d = None, np.inf
            for b in free:
                bx, by = b.centre
                d = float(np.hypot(cx - bx, cy - by))
                if d <= match_px + max(b.x1 - b.x0, b.y1 - b.y0) / 2 and d < best_d:
                    best, best_d = b, d
            if best is None:
                continue
            free.remove(best)
            hit_truth += 1
            hit_reports += 1
            correct += obj.label == best.label
            drone_hits += best.label == "drone" and obj.label == "drone"
    return VideoScore(
        frames=len(reports),
        recall=hit_truth / n_truth if n_truth else 1.0,
        precision=hit_reports / n_reports if n_reports else 1.0,
        classification_accuracy=correct / hit_reports if hit_reports else 0.0,
        drone_recall=drone_hits / drones if drones else 1.0,
    )
