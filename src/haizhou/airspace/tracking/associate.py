"""Data association (数据关联): global nearest neighbour on the gated cost matrix.

References
----------
.. [1] Kuhn, H. W. (1955). The Hungarian method for the assignment problem. *Naval Research
   Logistics Quarterly* 2(1–2), 83–97. https://doi.org/10.1002/nav.3800020109
.. [2] Crouse, D. F. (2016). On implementing 2D rectangular assignment algorithms. *IEEE
   Trans. Aerospace and Electronic Systems* 52(4), 1679–1696. https://doi.org/10.1109/TAES.2016.140952
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

import numpy as np
from scipy.optimize import linear_sum_assignment

from haizhou.airspace.tracking.gate import GateResult
from haizhou.airspace.tracking.types import Hypothesis

__all__ = ["Associator", "GlobalNearestNeighbour"]


class Associator(Protocol):
    """An associator: ``associate(gated) -> list[Hypothesis]`` (one detection per track)."""

    needs: ClassVar[Literal["cost"]]

    def associate(self, gated: GateResult) -> list[Hypothesis]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalNearestNeighbour:
    """Global nearest neighbour (全局最近邻): the assignment of least total gated cost.

    Pairs outside the gate (``inf`` cost) are never assigned: they get a finite stand-in cost
    larger than any feasible assignment, and any pair assigned at that cost is dropped.

    Examples
    --------
    >>> from haizhou.airspace.tracking.gate import GateResult
    >>> cost = np.array([[1.0, np.inf], [0.5, 2.0]])
    >>> pairs = GlobalNearestNeighbour().associate(GateResult(distance=cost, cost=cost))
    >>> [(h.track_index, h.detection_index) for h in pairs]
    [(0, 0), (1, 1)]
    """

    needs: ClassVar[Literal["cost"]] = "cost"

    def associate(self, gated: GateResult) -> list[Hypothesis]:
        """Pairs of least total cost; each track and each detection used at most once."""
        cost = gated.cost
        if cost.size == 0:
            return []
        feasible = np.isfinite(cost)
        if not feasible.any():
            return []
        span = float(np.abs(cost[feasible]).max())
        big = (span + 1.0) * (min(cost.shape) + 1) * 2.0
        rows, cols = linear_sum_assignment(np.where(feasible, cost, big))
        return [
            Hypothesis(
                track_index=int(r),
                detection_index=int(c),
                distance=float(gated.distance[r, c]),
                cost=float(cost[r, c]),
            )
            for r, c in zip(rows, cols, strict=True)
            if feasible[r, c]
        ]
