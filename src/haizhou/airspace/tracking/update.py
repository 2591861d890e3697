"""Updaters (量测更新): Kalman update for positions, extended Kalman update for bearings.

The updater owns the measurement functions, so the gate asks it for innovations; one
:class:`KalmanUpdater` handles every :class:`~haizhou.airspace.tracking.types.MeasurementModel`.

References
----------
.. [1] Bar-Shalom, Y., Li, X. R. & Kirubarajan, T. (2001). *Estimation with Applications to
   Tracking and Navigation*, §5.2 (KF), §10.3 (EKF). Wiley. https://doi.org/10.1002/0471221279
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from haizhou.airspace.tracking.types import STATE_DIM, Detection, PositionModel

__all__ = ["KalmanUpdater", "Updater"]

_H_POS = np.hstack([np.eye(3), np.zeros((3, 3))])
_EYE = np.eye(STATE_DIM)
_EYE.flags.writeable = False


class Updater(Protocol):
    """An updater: innovations for gating, and ``update`` for one pairing."""

    state_dim: ClassVar[int]
    measurement_kinds: ClassVar[frozenset[str]]

    def innovations(
        self, states: np.ndarray, covariances: np.ndarray, detection: Detection
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def update(
        self, state: np.ndarray, covariance: np.ndarray, detection: Detection
    ) -> tuple[np.ndarray, np.ndarray]: ...


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


@dataclass(frozen=True, slots=True, kw_only=True)
class KalmanUpdater:
    """Kalman update (卡尔曼更新); EKF linearisation for bearing-only detections.

    Parameters
    ----------
    min_range_m : float
        Bearing Jacobians are taken at no less than this horizontal range from the sensor,
        metres, so a track on top of a direction finder does not blow up.

    Examples
    --------
    >>> from haizhou.airspace.tracking.types import PositionModel
    >>> d = Detection(time_s=0.0, sensor_id="r1", sensor_kind="radar",
    ...               measurement=(10.0, 0.0, 0.0), model=PositionModel.isotropic(1.0, 1.0))
    >>> x, p = KalmanUpdater().update(np.zeros(6), np.eye(6), d)
    >>> round(float(x[0]), 3)
    5.0
    """

    min_range_m: float = 10.0
    state_dim: ClassVar[int] = STATE_DIM
    measurement_kinds: ClassVar[frozenset[str]] = frozenset({"position", "bearing"})

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min_range_m) and self.min_range_m > 0):
            raise ValueError(
                f"The 'min_range_m' parameter of KalmanUpdater must be > 0 metres; got {self.min_range_m!r}."
            )

    def _linearise(
        self, states: np.ndarray, detection: Detection
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Innovations ``nu`` (n, m), Jacobians ``H`` (n, m, 6) and ``R`` (m, m)."""
        model = detection.model
        z = np.asarray(detection.measurement, dtype=float)
        n = states.shape[0]
        if model.kind == "position":
            h = np.broadcast_to(_H_POS, (n, 3, STATE_DIM))
            return z[None, :] - states[:, :3], h, model.matrix
        dx = states[:, 0] - model.sensor_x_m
        dy = states[:, 1] - model.sensor_y_m
        r2 = np.maximum(dx * dx + dy * dy, self.min_range_m**2)
        predicted = np.arctan2(dx, dy)
        h = np.zeros((n, 1, STATE_DIM))
        h[:, 0, 0] = dy / r2
        h[:, 0, 1] = -dx / r2
        nu = _wrap(z[0] - predicted)[:, None]
        return nu, h, np.array([[model.sigma_rad**2]])

    def innovations(
        self, states: np.ndarray, covariances: np.ndarray, detection: Detection
    ) -> tuple[np.ndarray, np.ndarray]:
        """Innovation ``nu`` (n, m) and its covariance ``S`` (n, m, m) of one detection against
        every track."""
        nu, h, r = self._linearise(states, detection)
        s = np.einsum("nij,njk,nlk->nil", h, covariances, h) + r
        return nu, s

    def update(
        self, state: np.ndarray, covariance: np.ndarray, detection: Detection
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior state and covariance of one track given one detection (Joseph form)."""
        nu, h, r = self._linearise(state[None, :], detection)
        h0 = h[0]
        s = h0 @ covariance @ h0.T + r
        k = np.linalg.solve(s, h0 @ covariance).T
        x = state + k @ nu[0]
        i_kh = _EYE - k @ h0
        p = i_kh @ covariance @ i_kh.T + k @ r @ k.T
        return x, 0.5 * (p + p.T)

    def update_many(
        self, states: np.ndarray, covariances: np.ndarray, detections: Sequence[Detection]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior states ``(k, 6)`` and covariances ``(k, 6, 6)`` of ``k`` independent
        pairings (track ``i`` with ``detections[i]``).

        Position detections are updated together, in stacked arrays (the same Joseph form as
        :meth:`update`); other kinds one at a time.
        """
        x_out = np.array(states, dtype=float)
        p_out = np.array(covariances, dtype=float)
        pos = [i for i, d in enumerate(detections) if d.model.kind == "position"]
        for i, d in enumerate(detections):
            if d.model.kind != "position":
                x_out[i], p_out[i] = self.update(states[i], covariances[i], d)
        if pos:
            x_out[pos], p_out[pos] = _update_positions(
                x_out[pos], p_out[pos], [detections[i] for i in pos]
            )
        return x_out, p_out


def _update_positions(
    x: np.ndarray, p: np.ndarray, detections: Sequence[Detection]
) -> tuple[np.ndarray, np.ndarray]:
    """Stacked Kalman update of ``k`` tracks with ``k`` position detections (``H`` picks x, y,
    z, so ``H P = P[:3]`` and ``S = P[:3, :3] + R``: no matrix products with ``H``)."""
    z = np.array([d.measurement for d in detections], dtype=float)  # (k, 3)
    r = np.array([_covariance9(d.model) for d in detections], dtype=float).reshape(-1, 3, 3)
    nu = z - x[:, :3]
    s = p[:, :3, :3] + r
    k = np.swapaxes(np.linalg.solve(s, p[:, :3, :]), 1, 2)  # (k, 6, 3)
    x_new = x + np.einsum("kij,kj->ki", k, nu)
    i_kh = np.broadcast_to(_EYE, p.shape).copy()
    i_kh[:, :, :3] -= k
    p_new = i_kh @ p @ np.swapaxes(i_kh, 1, 2) + k @ r @ np.swapaxes(k, 1, 2)
    return x_new, 0.5 * (p_new + np.swapaxes(p_new, 1, 2))


def _covariance9(model: object) -> Sequence[float]:
    """``R`` of a position model as 9 numbers, row-major (no 3×3 array per detection)."""
    if isinstance(model, PositionModel):
        return model.covariance
    return np.asarray(model.matrix, dtype=float).ravel()  # type: ignore[attr-defined]
