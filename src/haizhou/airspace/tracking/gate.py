"""Gates (波门): which track–detection pairs may be associated at all.

A gate is **required and finite**: with an infinite gate, plain GNN silently attaches a
detection to some far track (dstl/Stone-Soup#824), and ungated association explodes with ~50
radar targets (dstl/Stone-Soup#144). Construction fails on an infinite or non-positive gate.

References
----------
.. [1] Blackman, S. & Popoli, R. (1999). *Design and Analysis of Modern Tracking Systems*,
   §6.3 (ellipsoidal gates). Artech House. ISBN 978-1-58053-006-4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

import numpy as np
from scipy.stats import chi2

from haizhou.airspace.tracking.types import Detection
from haizhou.airspace.tracking.update import KalmanUpdater, Updater, _covariance9

__all__ = ["Gate", "GateResult", "MahalanobisGate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    """Gated distances and costs, shape (n_tracks, n_detections).

    Attributes
    ----------
    distance : numpy.ndarray
        Squared Mahalanobis distance of every pair.
    cost : numpy.ndarray
        ``distance + log det S`` where the pair is inside the gate, ``inf`` outside.
    """

    distance: np.ndarray
    cost: np.ndarray


class Gate(Protocol):
    """A gate: ``gate(states, covariances, detections, updater) -> GateResult``."""

    output: ClassVar[Literal["cost"]]

    def gate(
        self,
        states: np.ndarray,
        covariances: np.ndarray,
        detections: Sequence[Detection],
        updater: Updater,
    ) -> GateResult: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class MahalanobisGate:
    """Ellipsoidal gate on the squared Mahalanobis distance (马氏距离波门).

    Parameters
    ----------
    probability : float
        Probability that a true detection falls inside the gate, in (0, 1); the threshold is
        the chi-square quantile for the measurement's dimension (3 for positions, 1 for
        bearings). 0.9999 ≈ 4.5 sigma in 3-D.

    Examples
    --------
    >>> round(MahalanobisGate(probability=0.99).threshold(3), 2)
    11.34
    >>> MahalanobisGate(probability=1.0)
    Traceback (most recent call last):
    ...
    ValueError: The 'probability' parameter of MahalanobisGate must be in (0, 1) so the gate is finite; got 1.0.
    """

    probability: float = 0.9999
    output: ClassVar[Literal["cost"]] = "cost"

    def __post_init__(self) -> None:
        p = self.probability
        if not (isinstance(p, int | float) and math.isfinite(p) and 0.0 < p < 1.0):
            raise ValueError(
                f"The 'probability' parameter of MahalanobisGate must be in (0, 1) so the gate is "
                f"finite; got {p!r}."
            )

    def threshold(self, dimension: int) -> float:
        """Squared-distance threshold for a measurement of this dimension."""
        return float(chi2.ppf(self.probability, dimension))

    def gate(
        self,
        states: np.ndarray,
        covariances: np.ndarray,
        detections: Sequence[Detection],
        updater: Updater,
    ) -> GateResult:
        """Distances and gated costs of every track against every detection."""
        n, m = states.shape[0], len(detections)
        distance = np.full((n, m), np.inf)
        cost = np.full((n, m), np.inf)
        if n == 0 or m == 0:
            return GateResult(distance=distance, cost=cost)
        linear = [
            j
            for j, det in enumerate(detections)
            if det.model.kind == "position" and type(updater) is KalmanUpdater
        ]
        if linear:
            self._gate_positions(states, covariances, detections, linear, distance, cost)
        done = set(linear)
        for j, det in enumerate(detections):
            if j in done:
                continue
            nu, s = updater.innovations(states, covariances, det)
            d2 = np.einsum("ni,ni->n", nu, np.linalg.solve(s, nu[..., None])[..., 0])
            _, logdet = np.linalg.slogdet(s)
            distance[:, j] = d2
            inside = d2 <= self.threshold(nu.shape[1])
            cost[inside, j] = d2[inside] + logdet[inside]
        return GateResult(distance=distance, cost=cost)

    def _gate_positions(
        self,
        states: np.ndarray,
        covariances: np.ndarray,
        detections: Sequence[Detection],
        columns: list[int],
        distance: np.ndarray,
        cost: np.ndarray,
    ) -> None:
        """Every track against every 3-D position detection in one batched solve.

        The Kalman updater's position model is linear (``H`` picks x, y, z), so the
        innovation covariance is ``P[:3, :3] + R``: the same numbers as
        :meth:`KalmanUpdater.innovations`, for all pairs at once instead of one detection at
        a time. Each entry of ``S`` and ``nu`` is its own (tracks, detections) array (an outer
        sum): numpy then runs long loops, where the stacked 3×3 blocks cost a loop of three.
        """
        z = np.array([detections[j].measurement for j in columns], dtype=float)  # (m, 3)
        r = np.array([_covariance9(detections[j].model) for j in columns], dtype=float)  # (m, 9)
        s = [[covariances[:, i, j, None] + r[None, :, 3 * i + j] for j in range(3)]
             for i in range(3)]  # fmt: skip
        nu = [z[None, :, i] - states[:, i, None] for i in range(3)]
        d2, logdet = _quad_logdet3_parts(s, nu)
        inside = d2 <= self.threshold(3)
        distance[:, columns] = d2
        cost[:, columns] = np.where(inside, d2 + logdet, np.inf)


def _quad_logdet3(s: np.ndarray, nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``nu' S^-1 nu`` and ``log |det S|`` of stacked 3×3 matrices, in closed form.

    The cofactors give the determinant and the adjugate (``S^-1 = adj S / det S``) with a few
    element-wise products over the whole stack: no LAPACK call per pair, where ``solve`` and
    ``slogdet`` dominated the gate for hundreds of tracks times a batch of detections.
    """
    return _quad_logdet3_parts(
        [[s[..., i, j] for j in range(3)] for i in range(3)], [nu[..., i] for i in range(3)]
    )


def _quad_logdet3_parts(
    m: list[list[np.ndarray]], v: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_quad_logdet3` of ``S`` given entry by entry (``m[i][j]``) and ``nu`` (``v[i]``)."""
    c = [
        [
            m[(i + 1) % 3][(j + 1) % 3] * m[(i + 2) % 3][(j + 2) % 3]
            - m[(i + 1) % 3][(j + 2) % 3] * m[(i + 2) % 3][(j + 1) % 3]
            for j in range(3)
        ]
        for i in range(3)
    ]  # cofactors (the cyclic form carries the signs)
    det = m[0][0] * c[0][0] + m[0][1] * c[0][1] + m[0][2] * c[0][2]
    quad = sum(v[i] * c[j][i] * v[j] for i in range(3) for j in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        return quad / det, np.log(np.abs(det))
