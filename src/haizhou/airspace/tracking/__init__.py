"""Fusion and tracking (融合跟踪): Stone Soup–style components and the multi-sensor tracker.

=================  ============================================================
module             component
=================  ============================================================
:mod:`.types`      ``Detection`` (+ measurement model), ``Track``, ``Hypothesis``
:mod:`.predict`    ``ConstantVelocity``, ``ConstantTurn`` (vectorised Kalman)
:mod:`.update`     ``KalmanUpdater`` (KF for positions, EKF for bearings)
:mod:`.gate`       ``MahalanobisGate`` (required, finite)
:mod:`.associate`  ``GlobalNearestNeighbour`` (``linear_sum_assignment``)
:mod:`.initiate`   ``MOfNInitiator``
:mod:`.delete`     ``CoastingDeleter``
:mod:`.tracker`    ``MultiSensorTracker.step(detections, now)``
:mod:`.messages`   ``parse_message``: radar plot / RF bearing / position JSON
=================  ============================================================
"""

from haizhou.airspace.tracking.associate import GlobalNearestNeighbour
from haizhou.airspace.tracking.delete import CoastingDeleter
from haizhou.airspace.tracking.gate import GateResult, MahalanobisGate
from haizhou.airspace.tracking.initiate import MOfNInitiator
from haizhou.airspace.tracking.messages import MessageError, parse_message
from haizhou.airspace.tracking.predict import ConstantTurn, ConstantVelocity
from haizhou.airspace.tracking.tracker import MultiSensorTracker, TrackerConfigError
from haizhou.airspace.tracking.types import (
    BearingModel,
    Detection,
    Hypothesis,
    PositionModel,
    Track,
)
from haizhou.airspace.tracking.update import KalmanUpdater

__all__ = [
    "BearingModel",
    "CoastingDeleter",
    "ConstantTurn",
    "ConstantVelocity",
    "Detection",
    "GateResult",
    "GlobalNearestNeighbour",
    "Hypothesis",
    "KalmanUpdater",
    "MOfNInitiator",
    "MahalanobisGate",
    "MessageError",
    "MultiSensorTracker",
    "PositionModel",
    "Track",
    "TrackerConfigError",
    "parse_message",
]
