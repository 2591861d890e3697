"""Tracking data types (跟踪数据类型): detections with their measurement model, tracks, hypotheses.

As in Stone Soup's ``stonesoup/types/``, a :class:`Detection` carries its own measurement model,
so a tracker fuses radar positions, RF bearings and Remote ID positions without knowing which
sensor sent what. Every position is in a local east-north-up plane, metres
(:class:`haizhou.geo.projection.LocalProjection` for lon/lat ↔ metres); times are seconds on
the caller's clock (``now`` is always passed in).

The state vector of a track is ``[x, y, z, vx, vy, vz]`` (m, m/s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "STATE_DIM",
    "BearingModel",
    "Detection",
    "Hypothesis",
    "MeasurementModel",
    "PositionModel",
    "SensorKind",
    "Track",
    "TrackStatus",
]

STATE_DIM = 6
"""Length of the state vector ``[x, y, z, vx, vy, vz]``."""

SensorKind = Literal["radar", "rf", "remote_id", "adsb", "camera"]
TrackStatus = Literal["tentative", "confirmed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionModel:
    """Linear position measurement (位置量测): ``z = [x, y, z] + v``, ``v ~ N(0, R)``.

    Used by radar plots (converted from range/azimuth/elevation), Remote ID and ADS-B positions.

    Parameters
    ----------
    covariance : tuple of 9 floats
        ``R`` row-major, m²; symmetric positive definite.
    """

    covariance: tuple[float, ...]
    kind: Literal["position"] = "position"

    def __post_init__(self) -> None:
        r = np.asarray(self.covariance, dtype=float)
        if r.shape != (9,) or not np.all(np.isfinite(r)):
            raise ValueError(
                f"PositionModel.covariance must be 9 finite numbers (3x3 row-major, m^2); got {self.covariance!r}."
            )
        if np.any(np.linalg.eigvalsh(r.reshape(3, 3)) <= 0):
            raise ValueError(
                "PositionModel.covariance must be positive definite; check the sensor noise."
            )

    @classmethod
    def isotropic(cls, sigma_h_m: float, sigma_v_m: float) -> PositionModel:
        """Diagonal covariance from a horizontal and a vertical standard deviation, metres."""
        h, v = float(sigma_h_m) ** 2, float(sigma_v_m) ** 2
        return cls(covariance=(h, 0.0, 0.0, 0.0, h, 0.0, 0.0, 0.0, v))

    @property
    def matrix(self) -> np.ndarray:
        """``R`` as a 3×3 array, m²."""
        return np.asarray(self.covariance, dtype=float).reshape(3, 3)


@dataclass(frozen=True, slots=True, kw_only=True)
class BearingModel:
    """Bearing-only measurement (测向量测) from an RF direction finder; needs an EKF.

    ``z = atan2(x - sx, y - sy) + v`` — compass bearing, radians clockwise from north.

    Parameters
    ----------
    sensor_x_m, sensor_y_m : float
        Sensor position in the local plane, metres.
    sigma_rad : float
        Bearing noise standard deviation, radians (> 0).
    """

    sensor_x_m: float
    sensor_y_m: float
    sigma_rad: float
    kind: Literal["bearing"] = "bearing"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.sigma_rad) and self.sigma_rad > 0):
            raise ValueError(f"BearingModel.sigma_rad must be > 0 radians; got {self.sigma_rad!r}.")


MeasurementModel = PositionModel | BearingModel


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    """One sensor report (探测): a measurement, its model, and the evidence that came with it.

    Parameters
    ----------
    time_s : float
        Measurement time, seconds.
    sensor_id : str
        Which sensor produced it.
    sensor_kind : {"radar", "rf", "remote_id", "adsb", "camera"}
    measurement : tuple of float
        ``(x, y, z)`` metres for :class:`PositionModel`, ``(bearing_rad,)`` for
        :class:`BearingModel`.
    model : PositionModel or BearingModel
    serial : str or None
        Remote ID serial number or ADS-B ICAO address: a strong identity hint.
    protocol : str or None
        RF protocol seen (e.g. ``"dji_ocusync"``), Remote ID or ADS-B standard.
    signal_dbm : float or None
        Received signal strength, dBm (RF).
    rcs_dbsm : float or None
        Radar cross-section, dBsm (radar).
    pilot_lon, pilot_lat : float or None
        Operator position, degrees, when Remote ID gives it.
    """

    time_s: float
    sensor_id: str
    sensor_kind: SensorKind
    measurement: tuple[float, ...]
    model: MeasurementModel
    serial: str | None = None
    protocol: str | None = None
    signal_dbm: float | None = None
    rcs_dbsm: float | None = None
    pilot_lon: float | None = None
    pilot_lat: float | None = None

    def __post_init__(self) -> None:
        want = 3 if self.model.kind == "position" else 1
        if len(self.measurement) != want or not all(math.isfinite(v) for v in self.measurement):
            raise ValueError(
                f"Detection from sensor {self.sensor_id!r} at t={self.time_s}: a {self.model.kind} "
                f"measurement needs {want} finite numbers; got {self.measurement!r}."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Track:
    """A tracked object (航迹): state, covariance and the evidence gathered so far.

    Parameters
    ----------
    track_id : int
        Stable identity, one per object across sensors.
    state : numpy.ndarray, shape (6,)
        ``[x, y, z, vx, vy, vz]``, m and m/s.
    covariance : numpy.ndarray, shape (6, 6)
    time_s : float
        Time the state refers to, seconds.
    status : {"tentative", "confirmed"}
    created_s, last_update_s : float
        Seconds.
    hits, steps : int
        Steps with an update, and steps since creation (for M-of-N).
    serial : str or None
        Remote ID serial or ICAO address once seen.
    sensor_counts : tuple of (str, int)
        Updates per sensor kind, e.g. ``(("radar", 12), ("rf", 3))``.
    rcs_dbsm_mean : float or None
        Mean radar cross-section over radar updates, dBsm.
    protocols : tuple of str
        RF / broadcast protocols seen.
    pilot_lon, pilot_lat : float or None
        Last operator position from Remote ID, degrees.
    history : tuple of (t, x, y, z)
        Recent updated positions (newest last), for the classifier.
    """

    track_id: int
    state: np.ndarray = field(compare=False)
    covariance: np.ndarray = field(compare=False)
    time_s: float
    status: TrackStatus = "tentative"
    created_s: float
    last_update_s: float
    hits: int = 1
    steps: int = 1
    serial: str | None = None
    sensor_counts: tuple[tuple[str, int], ...] = ()
    rcs_dbsm_mean: float | None = None
    protocols: tuple[str, ...] = ()
    pilot_lon: float | None = None
    pilot_lat: float | None = None
    history: tuple[tuple[float, float, float, float], ...] = ()

    @property
    def position(self) -> np.ndarray:
        """``[x, y, z]``, metres."""
        return self.state[:3]

    @property
    def velocity(self) -> np.ndarray:
        """``[vx, vy, vz]``, m/s."""
        return self.state[3:]

    @property
    def speed_mps(self) -> float:
        """Ground speed, m/s."""
        return float(math.hypot(self.state[3], self.state[4]))

    def count(self, sensor_kind: str) -> int:
        """Number of updates from one sensor kind."""
        return dict(self.sensor_counts).get(sensor_kind, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hypothesis:
    """A track–detection pairing that passed the gate (关联假设).

    Parameters
    ----------
    track_index, detection_index : int
        Positions in the arrays given to the associator.
    distance : float
        Squared Mahalanobis distance (dimensionless).
    cost : float
        Assignment cost (``distance + log det S``; lower is better).
    """

    track_index: int
    detection_index: int
    distance: float
    cost: float
