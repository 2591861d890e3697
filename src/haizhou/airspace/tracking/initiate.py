"""Track initiation (航迹起始): M-of-N confirmation.

References
----------
.. [1] Blackman, S. & Popoli, R. (1999). *Design and Analysis of Modern Tracking Systems*,
   §3.2 (sequential track initiation, M-of-N logic). Artech House.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

import numpy as np

from haizhou.airspace.tracking.types import STATE_DIM, Detection, Track

__all__ = ["Initiator", "MOfNInitiator"]


class Initiator(Protocol):
    """An initiator: start tentative tracks and decide their fate."""

    state_dim: ClassVar[int]

    def initiate(self, detection: Detection, *, track_id: int) -> Track | None: ...

    def review(self, track: Track) -> Literal["confirmed", "tentative", "drop"]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class MOfNInitiator:
    """M-of-N initiation (M/N航迹起始): confirm after ``m`` hits within the first ``n`` steps.

    A tentative track that cannot reach ``m`` hits within ``n`` steps is dropped. A detection
    carrying a serial (Remote ID, ADS-B) is cooperative evidence and confirms at once when
    ``confirm_on_serial``. Bearing-only detections never start a track (no range).

    Parameters
    ----------
    m, n : int
        Hits needed, and within how many tracker steps (1 <= m <= n).
    initial_speed_sigma_mps : float
        Prior velocity standard deviation of a new track, m/s.
    confirm_on_serial : bool
        Confirm a track started by a Remote ID / ADS-B report immediately.

    Examples
    --------
    >>> MOfNInitiator(m=3, n=2)
    Traceback (most recent call last):
    ...
    ValueError: MOfNInitiator needs 1 <= m <= n; got m=3, n=2.
    """

    m: int = 3
    n: int = 5
    initial_speed_sigma_mps: float = 20.0
    confirm_on_serial: bool = True
    state_dim: ClassVar[int] = STATE_DIM

    def __post_init__(self) -> None:
        if not (isinstance(self.m, int) and isinstance(self.n, int) and 1 <= self.m <= self.n):
            raise ValueError(f"MOfNInitiator needs 1 <= m <= n; got m={self.m!r}, n={self.n!r}.")
        v = self.initial_speed_sigma_mps
        if not (math.isfinite(v) and v > 0):
            raise ValueError(
                f"The 'initial_speed_sigma_mps' parameter of MOfNInitiator must be > 0; got {v!r}."
            )

    def initiate(self, detection: Detection, *, track_id: int) -> Track | None:
        """A new tentative track at a position detection, or ``None`` for a bearing."""
        if detection.model.kind != "position":
            return None
        state = np.zeros(STATE_DIM)
        state[:3] = detection.measurement
        cov = np.zeros((STATE_DIM, STATE_DIM))
        cov[:3, :3] = detection.model.matrix
        cov[3:, 3:] = np.eye(3) * self.initial_speed_sigma_mps**2
        cov[5, 5] = (self.initial_speed_sigma_mps / 4.0) ** 2
        confirmed = self.confirm_on_serial and detection.serial is not None
        return Track(
            track_id=track_id,
            state=state,
            covariance=cov,
            time_s=detection.time_s,
            status="confirmed" if confirmed else "tentative",
            created_s=detection.time_s,
            last_update_s=detection.time_s,
            hits=0,  # the tracker counts this step's hit when it reviews the track
            steps=0,
            serial=detection.serial,
        )

    def review(self, track: Track) -> Literal["confirmed", "tentative", "drop"]:
        """Fate of a track after a step: confirmed, still tentative, or dropped."""
        if track.status == "confirmed":
            return "confirmed"
        if track.hits >= self.m:
            return "confirmed"
        if track.steps - track.hits > self.n - self.m:
            return "drop"
        return "tentative"
