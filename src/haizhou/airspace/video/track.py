"""Frame-to-frame tracking of detections (视频目标跟踪).

Each track predicts its centre with an alpha-beta filter (constant velocity), detections are
assigned to tracks by the Hungarian method on centre distance inside a gate that grows with
the object's size and speed, a track is confirmed after ``confirm_hits`` hits in its first
``confirm_window`` frames and ended after ``max_misses`` frames unseen (a hovering drone that
the background slowly learns is carried through short gaps).

The track keeps the history the classifier reads: boxes, changed-pixel areas and labels.

References
----------
.. [1] Kalata, P. R. (1984). The tracking index: a generalized parameter for α-β and α-β-γ
   target trackers. *IEEE Trans. Aerospace and Electronic Systems*, AES-20(2), 174–182.
   https://doi.org/10.1109/TAES.1984.4502038
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from haizhou.airspace.video.detect import Detection

__all__ = ["VideoTrack", "VideoTracker"]

_HISTORY = 64


@dataclass
class VideoTrack:
    """One object followed through the frames.

    Attributes
    ----------
    track_id : int
    first_frame, last_frame : int
        Frames of the first and the latest detection.
    hits, misses : int
        Detections assigned so far; frames missed in a row.
    confirmed : bool
    position, velocity : ndarray
        Filtered centre (px) and velocity (px per frame).
    history : deque of (frame, Detection)
        The latest detections, oldest first.
    """

    track_id: int
    first_frame: int
    last_frame: int
    position: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    hits: int = 1
    misses: int = 0
    confirmed: bool = False
    history: deque[tuple[int, Detection]] = field(default_factory=lambda: deque(maxlen=_HISTORY))

    @property
    def size(self) -> float:
        """Typical span of the object, px (median over recent boxes)."""
        spans = [max(d.width, d.height) for _, d in self.history]
        return float(np.median(spans)) if spans else 0.0

    def predicted(self, frame: int) -> np.ndarray:
        return self.position + self.velocity * (frame - self.last_frame)


@dataclass
class VideoTracker:
    """Multi-object tracker for one camera.

    Parameters
    ----------
    alpha, beta : float
        Gains of the alpha-beta filter for position and velocity.
    gate_px : float
        Smallest association gate (px); the gate also grows with size and speed.
    confirm_hits, confirm_window : int
        Hits needed within the first frames of a track to confirm it.
    max_misses : int
        Frames a confirmed track may go unseen before it ends.
    """

    alpha: float = 0.6
    beta: float = 0.2
    gate_px: float = 24.0
    confirm_hits: int = 3
    confirm_window: int = 5
    max_misses: int = 25
    _tracks: list[VideoTrack] = field(default_factory=list, init=False, repr=False)
    _next_id: int = field(default=1, init=False, repr=False)
    ended: list[VideoTrack] = field(default_factory=list, init=False)

    @property
    def tracks(self) -> list[VideoTrack]:
        """Live tracks (confirmed and tentative)."""
        return list(self._tracks)

    def _gate(self, track: VideoTrack, frame: int) -> float:
        lag = frame - track.last_frame
        return self.gate_px + 1.5 * track.size + 2.0 * float(np.hypot(*track.velocity)) * lag

    def update(self, frame: int, detections: list[Detection]) -> list[VideoTrack]:
        """Assign ``detections`` of ``frame`` to tracks; returns the confirmed live tracks."""
        centres = np.array([d.centre for d in detections], dtype=float).reshape(-1, 2)
        assigned: dict[int, int] = {}
        if self._tracks and len(detections):
            predicted = np.array([t.predicted(frame) for t in self._tracks])
            cost = np.linalg.norm(predicted[:, None, :] - centres[None, :, :], axis=2)
            gates = np.array([self._gate(t, frame) for t in self._tracks])
            big = 1e6
            cost = np.where(cost <= gates[:, None], cost, big)
            rows, cols = linear_sum_assignment(cost)
            assigned = {int(r): int(c) for r, c in zip(rows, cols, strict=True) if cost[r, c] < big}
        used = set(assigned.values())
        survivors: list[VideoTrack] = []
        for i, track in enumerate(self._tracks):
            if i in assigned:
                det = detections[assigned[i]]
                lag = frame - track.last_frame
                prediction = track.predicted(frame)
                residual = centres[assigned[i]] - prediction
                track.position = prediction + self.alpha * residual
                track.velocity = track.velocity + (self.beta / max(lag, 1)) * residual
                track.last_frame = frame
                track.hits += 1
                track.misses = 0
                track.history.append((frame, det))
                if track.hits >= self.confirm_hits:
                    track.confirmed = True
            else:
                track.misses += 1
            alive = track.misses <= (self.max_misses if track.confirmed else 1)
            if not track.confirmed and frame - track.first_frame >= self.confirm_window:
                alive = False  # not confirmed in time: clutter
            if alive:
                survivors.append(track)
            elif track.confirmed:
                self.ended.append(track)
        for j, det in enumerate(detections):
            if j in used:
                continue
            track = VideoTrack(
                track_id=self._next_id,
                first_frame=frame,
                last_frame=frame,
                position=centres[j].copy(),
            )
            track.history.append((frame, det))
            self._next_id += 1
            survivors.append(track)
        self._tracks = survivors
        return [t for t in survivors if t.confirmed and t.misses == 0]

    def all_confirmed(self) -> list[VideoTrack]:
        """Every confirmed track so far, ended and live."""
        return self.ended + [t for t in self._tracks if t.confirmed]
