"""Simulated net capture (网捕): a net launcher or interceptor drone, short range, no RF."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from haizhou.airspace.effectors import Command, EffectorSpec, Outcome

__all__ = ["EFFECTOR", "SimulatedNetCapture"]

EFFECTOR = EffectorSpec(
    kind="net", title_zh="网捕", title_en="net capture", uses_rf=False, max_range_m=300.0
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedNetCapture:
    """Net capture within ``spec.max_range_m``; success falls linearly with range.

    Parameters
    ----------
    p_at_zero_range : float
        Capture probability at point-blank range; it falls to half at the maximum range.
    flight_speed_mps : float
        Net (or interceptor) closing speed, m/s.
    """

    spec: EffectorSpec = EFFECTOR
    p_at_zero_range: float = 0.9
    flight_speed_mps: float = 40.0

    def execute(self, command: Command) -> Outcome:
        """Simulate firing a net at the target of ``command``."""
        if command.range_m > self.spec.max_range_m:
            return Outcome(
                success=False,
                effect="out_of_range",
                effect_after_s=0.0,
                detail=f"target at {command.range_m:.0f} m, net range {self.spec.max_range_m:.0f} m",
            )
        p = self.p_at_zero_range * (1.0 - 0.5 * command.range_m / self.spec.max_range_m)
        t = command.range_m / self.flight_speed_mps
        if np.random.default_rng(command.seed).uniform() > p:
            return Outcome(success=False, effect="no_effect", effect_after_s=t, detail="net missed")
        return Outcome(
            success=True,
            effect="captured",
            effect_after_s=t,
            landing_x_m=command.target_x_m,
            landing_y_m=command.target_y_m,
            detail="captured and lowered under the net's parachute",
        )
