"""Simulated navigation takeover (导航诱骗接管): the drone is steered to a safe point and landed."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from haizhou.airspace.effectors import Command, EffectorSpec, Outcome

__all__ = ["EFFECTOR", "SimulatedTakeover"]

EFFECTOR = EffectorSpec(
    kind="takeover",
    title_zh="导航接管迫降",
    title_en="navigation takeover landing",
    uses_rf=True,
    max_range_m=1500.0,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedTakeover:
    """Forced landing at the command's safe point, flown at ``ferry_speed_mps``.

    Parameters
    ----------
    p_effective : float
        Probability the takeover succeeds in range.
    capture_s : float
        Seconds to take the navigation over.
    ferry_speed_mps, descent_mps : float
        Speed to the safe point and descent rate, m/s.
    """

    spec: EffectorSpec = EFFECTOR
    p_effective: float = 0.85
    capture_s: float = 8.0
    ferry_speed_mps: float = 8.0
    descent_mps: float = 3.0

    def execute(self, command: Command) -> Outcome:
        """Simulate taking over the target of ``command``."""
        rng = np.random.default_rng(command.seed)
        if command.range_m > self.spec.max_range_m:
            return Outcome(
                success=False,
                effect="out_of_range",
                effect_after_s=0.0,
                detail=f"target at {command.range_m:.0f} m, range {self.spec.max_range_m:.0f} m",
            )
        if rng.uniform() > self.p_effective:
            return Outcome(
                success=False,
                effect="no_effect",
                effect_after_s=self.capture_s,
                detail="navigation receiver not captured (multi-constellation / INS)",
            )
        ferry = math.hypot(
            command.safe_point_x_m - command.target_x_m, command.safe_point_y_m - command.target_y_m
        )
        t = (
            self.capture_s
            + ferry / self.ferry_speed_mps
            + max(command.target_alt_m, 0.0) / self.descent_mps
        )
        return Outcome(
            success=True,
            effect="forced_landing",
            effect_after_s=t,
            landing_x_m=command.safe_point_x_m,
            landing_y_m=command.safe_point_y_m,
            detail="landed at the safe point",
        )
