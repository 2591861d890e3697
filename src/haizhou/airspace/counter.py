"""Countermeasures (反制): policy checks, the human decision, then one effector call.

:func:`request` is the single door: an operator picks a track and an effector kind; every
policy check runs here, in the core, and only a request passing them all reaches
``effector.execute(command)``. Nothing calls an effector without an operator's request, and
every refusal names its reason with a stable code:

=============================  ==============================================================
code                           when
=============================  ==============================================================
``unknown_track``              the track id is not in the current picture
``unknown_effector``           no effector of that kind is available
``operator_role``              the operator is not an ``airspace_operator`` or ``commander``
``track_not_counterable``      the track is authorised or not a drone (only ``unauthorised``
                               and ``violation`` tracks may be countered)
``airport_approach``           RF jamming or takeover with the target in an airport approach
``hospital_clearance``         RF jamming or takeover within ``hospital_clearance_m`` of a
                               hospital
``second_confirmation``        red threat without a confirmation from a *different* person
                               holding an allowed role
=============================  ==============================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from haizhou.airspace.classify import Classification
from haizhou.airspace.control import Assessment, ControlArea
from haizhou.airspace.effectors import Command, Effector, Outcome
from haizhou.airspace.tracking.types import Track
from haizhou.domain.enums import Level

__all__ = [
    "Confirmation",
    "CounterDecision",
    "CounterPolicy",
    "Operator",
    "Refusal",
    "TrackSituation",
    "request",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    """The person asking (操作员): a user id and roles."""

    user_id: str
    roles: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirmation:
    """A second person's confirmation (双人确认)."""

    user_id: str
    roles: frozenset[str]
    at_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackSituation:
    """What the picture says about one track when the operator asks."""

    track: Track
    classification: Classification
    assessment: Assessment


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterPolicy:
    """Rules checked before any countermeasure (反制策略).

    Parameters
    ----------
    area : ControlArea
        Zones (airport approaches, hospitals) for the interlocks.
    allowed_roles : frozenset of str
        Roles allowed to request and to confirm.
    rf_effectors : frozenset of str
        Effector kinds that radiate (jammer, takeover): subject to the interlocks.
    hospital_clearance_m : float
        No RF countermeasure with the target closer than this to a hospital, metres.
    effector_x_m, effector_y_m : float
        Effector site in the local plane, metres.
    safe_point_x_m, safe_point_y_m : float
        Landing point for navigation takeover, metres.
    """

    area: ControlArea
    allowed_roles: frozenset[str] = frozenset({"airspace_operator", "commander"})
    rf_effectors: frozenset[str] = frozenset({"jammer", "takeover"})
    hospital_clearance_m: float = 300.0
    effector_x_m: float = 0.0
    effector_y_m: float = 0.0
    safe_point_x_m: float = 0.0
    safe_point_y_m: float = -600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """Why a request was refused: a stable code and a sentence."""

    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterDecision:
    """The record of one countermeasure request (反制决策记录).

    Attributes
    ----------
    decision_id : str
    track_id : int
    effector_kind : str
    operator : str
    confirmed_by : tuple of str
    at_s : float
    approved : bool
    refusals : tuple of Refusal
        Empty when approved.
    threat_level : Level or None
    command : Command or None
        Sent to the effector when approved.
    outcome : Outcome or None
        What the effector reported.
    """

    decision_id: str
    track_id: int
    effector_kind: str
    operator: str
    confirmed_by: tuple[str, ...]
    at_s: float
    approved: bool
    refusals: tuple[Refusal, ...] = ()
    threat_level: Level | None = None
    command: Command | None = None
    outcome: Outcome | None = field(default=None)


def request(
    track_id: int,
    effector_kind: str,
    *,
    operator: Operator,
    confirmations: Sequence[Confirmation],
    now: float,
    policy: CounterPolicy,
    situation: Mapping[int, TrackSituation],
    effectors: Mapping[str, Effector],
    seed: int = 0,
) -> CounterDecision:
    """Check policy, then (only if every check passes) send the command and record the outcome.

    Parameters
    ----------
    track_id : int
        The track the operator picked.
    effector_kind : str
        ``"jammer"``, ``"takeover"``, ``"net"`` or another available kind.
    operator : Operator
        The human asking; their roles are checked.
    confirmations : sequence of Confirmation
        Confirmations by other people (needed at red threat).
    now : float
        Seconds.
    policy : CounterPolicy
    situation : mapping of track id to TrackSituation
        The current picture.
    effectors : mapping of kind to Effector
    seed : int
        Seed handed to a simulated effector.

    Returns
    -------
    CounterDecision
        ``approved`` with ``command`` and ``outcome``, or refused with every reason found.
    """
    decision_id = f"CM-{track_id}-{round(now * 1000)}"
    refusals: list[Refusal] = []
    sit = situation.get(track_id)
    effector = effectors.get(effector_kind)
    if sit is None:
        refusals.append(
            Refusal(code="unknown_track", message=f"track {track_id} is not in the current picture")
        )
    if effector is None:
        refusals.append(
            Refusal(
                code="unknown_effector",
                message=f"no effector {effector_kind!r}; available: {', '.join(sorted(effectors)) or 'none'}",
            )
        )
    if not operator.roles & policy.allowed_roles:
        refusals.append(
            Refusal(
                code="operator_role",
                message=f"operator {operator.user_id} has roles {sorted(operator.roles)}; "
                f"countermeasures need one of {sorted(policy.allowed_roles)}",
            )
        )
    level: Level | None = None
    if sit is not None:
        a = sit.assessment
        level = a.threat.level
        if a.status not in ("unauthorised", "violation"):
            refusals.append(
                Refusal(
                    code="track_not_counterable",
                    message=f"track {track_id} is {a.status} ({'; '.join(a.reasons)}); only "
                    "unauthorised or violating drones may be countered",
                )
            )
        x, y, _ = (float(v) for v in sit.track.position)
        if effector_kind in policy.rf_effectors:
            if policy.area.distance_to_kind_m(x, y, "airport_approach") == 0.0:
                refusals.append(
                    Refusal(
                        code="airport_approach",
                        message=f"no {effector_kind} inside an airport approach: track {track_id} is in it; use net capture or wait",
                    )
                )
            dh = policy.area.distance_to_kind_m(x, y, "hospital")
            if dh < policy.hospital_clearance_m:
                refusals.append(
                    Refusal(
                        code="hospital_clearance",
                        message=f"no {effector_kind} within {policy.hospital_clearance_m:.0f} m of a hospital: "
                        f"track {track_id} is {dh:.0f} m away",
                    )
                )
        if level == Level.RED:
            valid = [
                c
                for c in confirmations
                if c.user_id != operator.user_id and c.roles & policy.allowed_roles
            ]
            if not valid:
                refusals.append(
                    Refusal(
                        code="second_confirmation",
                        message="red threat: a second person with role "
                        f"{' or '.join(sorted(policy.allowed_roles))}, other than {operator.user_id}, must confirm",
                    )
                )
    confirmed_by = tuple(c.user_id for c in confirmations)
    if refusals or sit is None or effector is None:
        return CounterDecision(
            decision_id=decision_id,
            track_id=track_id,
            effector_kind=effector_kind,
            operator=operator.user_id,
            confirmed_by=confirmed_by,
            at_s=now,
            approved=False,
            refusals=tuple(refusals),
            threat_level=level,
        )
    x, y, alt = (float(v) for v in sit.track.position)
    command = Command(
        decision_id=decision_id,
        track_id=track_id,
        effector_kind=effector_kind,
        target_x_m=x,
        target_y_m=y,
        target_alt_m=alt,
        range_m=math.hypot(x - policy.effector_x_m, y - policy.effector_y_m),
        safe_point_x_m=policy.safe_point_x_m,
        safe_point_y_m=policy.safe_point_y_m,
        issued_s=now,
        seed=seed,
    )
    outcome = effector.execute(command)
    return CounterDecision(
        decision_id=decision_id,
        track_id=track_id,
        effector_kind=effector_kind,
        operator=operator.user_id,
        confirmed_by=confirmed_by,
        at_s=now,
        approved=True,
        threat_level=level,
        command=command,
        outcome=outcome,
    )
