"""Effectors (反制设备): one folder per kind, one verb, ``execute(command) -> Outcome``.

Policy checks and the human decision happen in :mod:`haizhou.airspace.counter` before any
effector is called; an effector never decides whether it may act. The shipped effectors are
simulations: :mod:`.jammer` (link jamming), :mod:`.takeover` (navigation takeover, forced
landing) and :mod:`.net` (net capture, range-limited).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["Command", "Effector", "EffectorSpec", "Outcome", "all_effectors"]

EffectorKind = Literal["jammer", "takeover", "net"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EffectorSpec:
    """What an effector is, readable without running it."""

    kind: str
    title_zh: str
    title_en: str
    uses_rf: bool
    max_range_m: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """An approved countermeasure order (反制指令).

    Parameters
    ----------
    decision_id : str
        The decision record that approved it.
    track_id : int
    effector_kind : str
    target_x_m, target_y_m, target_alt_m : float
        Target position in the local plane at the decision, metres.
    range_m : float
        Distance from the effector site to the target, metres.
    safe_point_x_m, safe_point_y_m : float
        Where a forced landing should go, metres.
    issued_s : float
        Time the order was issued, seconds.
    seed : int
        Seed of the simulated outcome.
    """

    decision_id: str
    track_id: int
    effector_kind: str
    target_x_m: float
    target_y_m: float
    target_alt_m: float
    range_m: float
    safe_point_x_m: float = 0.0
    safe_point_y_m: float = 0.0
    issued_s: float = 0.0
    seed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What happened (处置结果).

    Attributes
    ----------
    success : bool
    effect : str
        ``returned_home``, ``landed``, ``forced_landing``, ``captured``, ``out_of_range``,
        ``no_effect``.
    effect_after_s : float
        Seconds from the order to the effect.
    landing_x_m, landing_y_m : float or None
        Where the drone came down, metres, when it did.
    detail : str
    """

    success: bool
    effect: str
    effect_after_s: float
    landing_x_m: float | None = None
    landing_y_m: float | None = None
    detail: str = ""


class Effector(Protocol):
    """An effector: its spec and ``execute(command) -> Outcome``."""

    spec: EffectorSpec

    def execute(self, command: Command) -> Outcome: ...


def all_effectors() -> dict[str, Effector]:
    """One simulated effector of each shipped kind, by kind."""
    from haizhou.airspace.effectors.jammer import SimulatedJammer
    from haizhou.airspace.effectors.net import SimulatedNetCapture
    from haizhou.airspace.effectors.takeover import SimulatedTakeover

    return {
        "jammer": SimulatedJammer(),
        "takeover": SimulatedTakeover(),
        "net": SimulatedNetCapture(),
    }
