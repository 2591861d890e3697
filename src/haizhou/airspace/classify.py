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

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

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
        like = np.log(np.asarray(self.prior, dtype=float) / sum(self.prior))
        reasons: list[str] = []

        def add(lr: tuple[float, float, float], why: str) -> None:
            nonlocal like
            like = like + np.log(np.asarray(lr))
            reasons.append(why)

        if track.count("adsb"):
            add((0.001, 0.001, 1.0), "ADS-B broadcast")
        if track.count("remote_id"):
            add((1.0, 0.001, 0.01), "Remote ID broadcast")
        if track.count("rf"):
            add((1.0, 0.02, 0.05), "RF control link")
        if track.rcs_dbsm_mean is not None:
            r = track.rcs_dbsm_mean
            add(
                (_gauss(r, -17.5, 3.0), _gauss(r, -27.0, 3.0), _gauss(r, 9.5, 6.0)),
                f"radar cross-section {r:.0f} dBsm",
            )
        hist = track.history
        if len(hist) >= self.min_history:
            h = np.asarray(hist, dtype=float)
            dt = np.diff(h[:, 0])
            ok = dt > 0
            if ok.sum() >= 2:
                v = np.diff(h[:, 1:4], axis=0)[ok] / dt[ok, None]
                speed = float(np.median(np.hypot(v[:, 0], v[:, 1])))
                alt = float(np.median(h[:, 3]))
                vz_sd = float(np.std(v[:, 2]))
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
        post = np.exp(like - like.max())
        post /= post.sum()
        best = int(np.argmax(post))
        conf = float(post[best])
        label: TargetClass = CLASSES[best] if conf >= self.min_confidence and reasons else "unknown"  # type: ignore[assignment]
        return Classification(
            label=label,
            confidence=round(conf, 4),
            probabilities=tuple(
                (c, round(float(p), 4)) for c, p in zip(CLASSES, post, strict=True)
            ),
            reasons=tuple(reasons),
        )
