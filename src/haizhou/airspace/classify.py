"""Target classification (目标识别): drone / bird / manned aircraft / unknown, with confidence.

Evidence is combined as independent likelihood ratios (naive Bayes) from what a track has
gathered: cooperative broadcasts (Remote ID → drone, ADS-B → manned aircraft), an RF control
link (→ drone), radar cross-section, speed, altitude, hovering and vertical erraticness. A track
whose best class has less than ``min_confidence`` is ``unknown``.

References
----------
.. [1] Chen, V. C. (2019). *The Micro-Doppler Effect in Radar*, 2nd ed., ch. 8 (drones vs
   birds). Artech House. ISBN 978-1-63081-546-2.
.. [2] Torvik, B., Olsen, K. E. & Griffiths, H. (2016). Classification of birds and UAVs based
   on radar polarimetry. *IEEE Geosci. Remote Sens. Lett.* 13(9), 1305–1309.
   https://doi.org/10.1109/LGRS.2016.2582538
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

from haizhou.airspace.tracking.types import Track

__all__ = ["CLASSES", "Classification", "EvidenceClassifier", "TargetClass"]

TargetClass = Literal["drone", "bird", "manned", "unknown"]
CLASSES: tuple[str, ...] = ("drone", "bird", "manned")


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """Result of classifying one track.

    Attributes
    ----------
    label : {"drone", "bird", "manned", "unknown"}
    confidence : float
        Posterior probability of ``label`` (of the best class when ``unknown``), 0–1.
    probabilities : tuple of (str, float)
        Posterior of each of drone, bird, manned.
    reasons : tuple of str
        The evidence used, in words.
    """

    label: TargetClass
    confidence: float
    probabilities: tuple[tuple[str, float], ...]
    reasons: tuple[str, ...]


def _gauss(x: float, mean: float, sd: float) -> float:
    return math.exp(-0.5 * ((x - mean) / sd) ** 2) / sd


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceClassifier:
    """Kinematic and sensor-evidence classifier (运动学与传感器证据分类).

    Parameters
    ----------
    min_confidence : float
        Posterior below which the label is ``unknown`` (0–1).
    min_history : int
        Positions needed before kinematics count (without broadcasts the track stays unknown).
    prior : tuple of 3 floats
        Prior of drone, bird, manned.

    Examples
    --------
    >>> import numpy as np
    >>> t = Track(track_id=1, state=np.array([0, 0, 80, 0.2, 0, 0.0]), covariance=np.eye(6),
    ...           time_s=0.0, created_s=0.0, last_update_s=0.0, serial="1581F0000000001",
    ...           sensor_counts=(("remote_id", 5),))
    >>> EvidenceClassifier().classify(t).label
    'drone'
    """

    min_confidence: float = 0.6
    min_history: int = 5
    prior: tuple[float, float, float] = (0.4, 0.4, 0.2)

    def __post_init__(self) -> None:
        if not 0.0 < self.min_confidence < 1.0:
            raise ValueError(
                f"The 'min_confidence' parameter of EvidenceClassifier must be in (0, 1); got {self.min_confidence!r}."
            )
        if len(self.prior) != 3 or min(self.prior) <= 0:
            raise ValueError(
                f"EvidenceClassifier.prior needs 3 positive numbers; got {self.prior!r}."
            )

    def classify(self, track: Track) -> Classification:
        """Class and confidence of one track from the evidence it carries."""
        total = sum(self.prior)
        like = [math.log(p / total) for p in self.prior]
        reasons: list[str] = []

        def add(lr: tuple[float, float, float], why: str) -> None:
            for k in range(3):
                like[k] += math.log(lr[k]) if lr[k] > 0 else -math.inf
            reasons.append(why)

        counts = dict(track.sensor_counts)
        if counts.get("adsb"):
            add((0.001, 0.001, 1.0), "ADS-B broadcast")
        if counts.get("remote_id"):
            add((1.0, 0.001, 0.01), "Remote ID broadcast")
        if counts.get("rf"):
            add((1.0, 0.02, 0.05), "RF control link")
        if track.rcs_dbsm_mean is not None:
            r = track.rcs_dbsm_mean
            add(
                (_gauss(r, -17.5, 3.0), _gauss(r, -27.0, 3.0), _gauss(r, 9.5, 6.0)),
                f"radar cross-section {r:.0f} dBsm",
            )
        kinematics = _kinematics(track.history) if len(track.history) >= self.min_history else None
        if kinematics is not None:
            speed, alt, vz_sd = kinematics
            add(
                (
                    _gauss(speed, 8.0, 8.0) + 1e-3,
                    _gauss(speed, 10.0, 5.0) + 1e-3,
                    _gauss(speed, 70.0, 25.0) + 1e-3,
                ),
                f"speed {speed:.0f} m/s",
            )
            add(
                (
                    _gauss(alt, 80.0, 80.0) + 1e-4,
                    _gauss(alt, 60.0, 60.0) + 1e-4,
                    _gauss(alt, 600.0, 300.0) + 1e-4,
                ),
                f"altitude {alt:.0f} m",
            )
            if speed < 1.5:
                add((3.0, 0.3, 0.01), "hovering")
            if vz_sd > 1.5:
                add((0.5, 2.0, 0.5), f"erratic vertical motion ({vz_sd:.1f} m/s)")
        top = max(like)
        post = [math.exp(v - top) for v in like]
        norm = sum(post)
        post = [v / norm for v in post]
        best = max(range(3), key=post.__getitem__)  # the first of equal maxima, as np.argmax
        conf = post[best]
        label: TargetClass = CLASSES[best] if conf >= self.min_confidence and reasons else "unknown"  # type: ignore[assignment]
        return Classification(
            label=label,
            confidence=round(conf, 4),
            probabilities=tuple((c, round(p, 4)) for c, p in zip(CLASSES, post, strict=True)),
            reasons=tuple(reasons),
        )


def _median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def _kinematics(
    history: tuple[tuple[float, float, float, float], ...],
) -> tuple[float, float, float] | None:
    """Median ground speed, median altitude and the SD of vertical speed of a track's
    history (plain floats: a track's history is a few dozen points, numpy costs more)."""
    speeds: list[float] = []
    vz: list[float] = []
    for (t0, x0, y0, z0), (t1, x1, y1, z1) in itertools.pairwise(history):
        dt = t1 - t0
        if dt > 0:
            speeds.append(math.hypot((x1 - x0) / dt, (y1 - y0) / dt))
            vz.append((z1 - z0) / dt)
    if len(speeds) < 2:
        return None
    mean_vz = sum(vz) / len(vz)
    vz_sd = math.sqrt(sum((v - mean_vz) ** 2 for v in vz) / len(vz))
    return _median(speeds), _median([float(h[3]) for h in history]), vz_sd
