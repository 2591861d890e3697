"""Predictors (状态预测): constant-velocity and constant-turn Kalman prediction, vectorised.

Both work on arrays of track states, shape ``(n, 6)``, and covariances ``(n, 6, 6)``, each
track with its own time step, so the tracker predicts every track in one call.

References
----------
.. [1] Bar-Shalom, Y., Li, X. R. & Kirubarajan, T. (2001). *Estimation with Applications to
   Tracking and Navigation*, ch. 6 (white-noise acceleration) and 11.7 (coordinated turn).
   Wiley. https://doi.org/10.1002/0471221279
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from haizhou.airspace.tracking.types import STATE_DIM

__all__ = ["ConstantTurn", "ConstantVelocity", "Predictor"]


def _check_positive(owner: str, name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(
            f"The {name!r} parameter of {owner} must be a finite number > 0; got {value!r}."
        )


def _noise(dt: np.ndarray, q_h: float, q_v: float) -> np.ndarray:
    """Continuous white-noise-acceleration Q for each dt, shape (n, 6, 6)."""
    n = dt.shape[0]
    q = np.zeros((n, STATE_DIM, STATE_DIM))
    d3, d2, d1 = dt**3 / 3.0, dt**2 / 2.0, dt
    for axis, spectral in ((0, q_h), (1, q_h), (2, q_v)):
        q[:, axis, axis] = d3 * spectral
        q[:, axis, axis + 3] = q[:, axis + 3, axis] = d2 * spectral
        q[:, axis + 3, axis + 3] = d1 * spectral
    return q


class Predictor(Protocol):
    """A predictor: ``predict(states, covariances, dt_s) -> (states, covariances)``."""

    state_dim: ClassVar[int]

    def predict(
        self, states: np.ndarray, covariances: np.ndarray, dt_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstantVelocity:
    """Nearly-constant-velocity model (匀速模型) with white-noise acceleration.

    Parameters
    ----------
    accel_noise_mps2 : float
        Horizontal acceleration noise standard deviation over one second, m/s² (spectral
        density ``q = accel_noise_mps2**2``). Drones manoeuvre: 2–5 m/s².
    vertical_accel_noise_mps2 : float
        Same for the vertical axis, m/s².

    Examples
    --------
    >>> p = ConstantVelocity(accel_noise_mps2=1.0, vertical_accel_noise_mps2=0.5)
    >>> x = np.array([[0.0, 0.0, 50.0, 10.0, 0.0, 0.0]])
    >>> s, c = p.predict(x, np.eye(6)[None], np.array([2.0]))
    >>> s[0, :3].tolist()
    [20.0, 0.0, 50.0]
    """

    accel_noise_mps2: float = 3.0
    vertical_accel_noise_mps2: float = 1.0
    state_dim: ClassVar[int] = STATE_DIM

    def __post_init__(self) -> None:
        _check_positive("ConstantVelocity", "accel_noise_mps2", self.accel_noise_mps2)
        _check_positive(
            "ConstantVelocity", "vertical_accel_noise_mps2", self.vertical_accel_noise_mps2
        )

    def transition(self, dt_s: np.ndarray) -> np.ndarray:
        """Transition matrices ``F``, shape (n, 6, 6)."""
        dt = np.asarray(dt_s, dtype=float)
        f = np.broadcast_to(np.eye(STATE_DIM), (dt.shape[0], STATE_DIM, STATE_DIM)).copy()
        for axis in range(3):
            f[:, axis, axis + 3] = dt
        return f

    def predict(
        self, states: np.ndarray, covariances: np.ndarray, dt_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predict every track ``dt_s`` seconds ahead (each its own dt; negative dt is clipped to 0).

        Returns new arrays; the inputs are not modified.
        """
        dt = np.clip(np.asarray(dt_s, dtype=float), 0.0, None)
        # F = [[I, dt I], [0, I]]: F x and F P F' as two shears of the blocks, the same sums
        # as the matrix products without the products by 0 and 1 (which cost ~4x the time
        # for a hundred tracks, and the live tracker predicts every track on every step).
        d = dt[:, None]
        x = np.array(states, dtype=float)
        x[:, :3] += d * x[:, 3:]
        p = np.array(covariances, dtype=float)
        p[:, :3, :] += d[:, :, None] * p[:, 3:, :]  # F P
        p[:, :, :3] += d[:, None, :] * p[:, :, 3:]  # (F P) F'
        _add_noise(p, dt, self.accel_noise_mps2**2, self.vertical_accel_noise_mps2**2)
        return x, p


_Q_ROWS = np.array([0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
_Q_COLS = np.array([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5])


def _add_noise(p: np.ndarray, dt: np.ndarray, q_h: float, q_v: float) -> None:
    """``p += Q`` (:func:`_noise`) in place, on the twelve entries where Q is not zero."""
    q = np.array([q_h, q_h, q_v])
    d3, d2 = (dt**3 / 3.0)[:, None] * q, (dt**2 / 2.0)[:, None] * q
    p[:, _Q_ROWS, _Q_COLS] += np.concatenate([d3, d2, d2, dt[:, None] * q], axis=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstantTurn:
    """Coordinated turn at a known rate (协调转弯模型), horizontal plane; vertical is CV.

    Parameters
    ----------
    turn_rate_radps : float
        Turn rate, radians per second, positive counter-clockwise (non-zero; use
        :class:`ConstantVelocity` for straight flight).
    accel_noise_mps2, vertical_accel_noise_mps2 : float
        As for :class:`ConstantVelocity`.
    """

    turn_rate_radps: float = 0.1
    accel_noise_mps2: float = 3.0
    vertical_accel_noise_mps2: float = 1.0
    state_dim: ClassVar[int] = STATE_DIM

    def __post_init__(self) -> None:
        w = self.turn_rate_radps
        if not (isinstance(w, int | float) and math.isfinite(w) and w != 0):
            raise ValueError(
                f"The 'turn_rate_radps' parameter of ConstantTurn must be finite and non-zero; got {w!r}. "
                "For straight flight use ConstantVelocity."
            )
        _check_positive("ConstantTurn", "accel_noise_mps2", self.accel_noise_mps2)
        _check_positive("ConstantTurn", "vertical_accel_noise_mps2", self.vertical_accel_noise_mps2)

    def transition(self, dt_s: np.ndarray) -> np.ndarray:
        """Transition matrices ``F``, shape (n, 6, 6)."""
        dt = np.asarray(dt_s, dtype=float)
        w = self.turn_rate_radps
        s, c = np.sin(w * dt), np.cos(w * dt)
        f = np.broadcast_to(np.eye(STATE_DIM), (dt.shape[0], STATE_DIM, STATE_DIM)).copy()
        f[:, 0, 3] = s / w
        f[:, 0, 4] = -(1 - c) / w
        f[:, 1, 3] = (1 - c) / w
        f[:, 1, 4] = s / w
        f[:, 3, 3] = c
        f[:, 3, 4] = -s
        f[:, 4, 3] = s
        f[:, 4, 4] = c
        f[:, 2, 5] = dt
        return f

    def predict(
        self, states: np.ndarray, covariances: np.ndarray, dt_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`ConstantVelocity.predict`."""
        dt = np.clip(np.asarray(dt_s, dtype=float), 0.0, None)
        f = self.transition(dt)
        x = np.einsum("nij,nj->ni", f, states)
        p = np.einsum("nij,njk,nlk->nil", f, covariances, f)
        p += _noise(dt, self.accel_noise_mps2**2, self.vertical_accel_noise_mps2**2)
        return x, p
