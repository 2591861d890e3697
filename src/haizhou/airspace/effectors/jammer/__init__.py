"""Simulated RF jammer (无线电干扰): the control link drops; the drone returns home or lands."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from haizhou.airspace.effectors import Command, EffectorSpec, Outcome

__all__ = ["EFFECTOR", "SimulatedJammer"]

EFFECTOR = EffectorSpec(
    kind="jammer", title_zh="无线电干扰", title_en="RF jammer", uses_rf=True, max_range_m=2000.0
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedJammer:
    """Link jamming: within range the link is lost; the drone then returns home with
    probability ``p_return_home`` or lands in place after ``land_delay_s``.

    Parameters
    ----------
    p_effective : float
        Probability the link is lost when in range.
    p_return_home : float
        Probability a drone that lost its link flies home rather than landing.
    link_loss_s, land_delay_s : float
        Seconds to lose the link, and from loss to touchdown.
    """

    spec: EffectorSpec = EFFECTOR
    p_effective: float = 0.9
    p_return_home: float = 0.6
    link_loss_s: float = 3.0
    land_delay_s: float = 20.0

    def execute(self, command: Command) -> Outcome:
        """Simulate jamming the target of ``command``."""
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
                effect_after_s=self.link_loss_s,
                detail="link held (frequency hopping outside the jammed bands)",
            )
        if rng.uniform() < self.p_return_home:
            return Outcome(
                success=True,
                effect="returned_home",
                effect_after_s=self.link_loss_s,
                detail="link lost; drone returning to its home point",
            )
        return Outcome(
            success=True,
            effect="landed",
            effect_after_s=self.link_loss_s + self.land_delay_s,
            landing_x_m=command.target_x_m,
            landing_y_m=command.target_y_m,
            detail="link lost; drone landed in place",
        )
