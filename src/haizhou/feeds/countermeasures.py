"""Countermeasure requests against the stored picture (反制请求与双人确认).

The API calls :func:`request_countermeasure` when an operator picks a track and an effector
(one action), and :func:`confirm_countermeasure` when a second person confirms. Both rebuild
the track's situation from the store (position, class, authorisation re-assessed against the
current zones and permits) and run the core's single door
:func:`haizhou.airspace.counter.request`: every policy check (role, interlocks such as no
jamming inside an airport approach, the second person at red) runs there, and only then is
the effector called. A request whose only refusal is the missing confirmation waits as
``pending_confirmation``; the decision, refusals and outcome are recorded either way, and the
incident timeline gets ``decided`` (and ``countered`` when the effect came).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from haizhou.airspace.classify import Classification
from haizhou.airspace.counter import (
    Confirmation,
    CounterDecision,
    CounterPolicy,
    Operator,
    TrackSituation,
    request,
)
from haizhou.airspace.effectors import Effector, all_effectors
from haizhou.airspace.tracking import Track
from haizhou.errors import HaizhouError
from haizhou.feeds.area import load_area
from haizhou.store.tables.airspace import (
    AirspaceCountermeasureRow,
    AirspaceIncidentRow,
    AirspaceTimelineRow,
    AirspaceTrackRow,
)

__all__ = [
    "STALE_AFTER_S",
    "CountermeasureConflict",
    "confirm_countermeasure",
    "request_countermeasure",
]

STALE_AFTER_S = 30.0
"""A track not updated for this long is no longer in the current picture."""


class CountermeasureConflict(HaizhouError):
    """The countermeasure cannot move that way (e.g. confirmed twice, or by the requester)."""


def _situation(
    session: Session, track_row_id: int, now: datetime
) -> tuple[dict[int, TrackSituation], CounterPolicy]:
    area = load_area(session)
    policy = CounterPolicy(area=area)
    row = session.get(AirspaceTrackRow, track_row_id)
    if row is None or not row.active or now - row.last_seen > timedelta(seconds=STALE_AFTER_S):
        return {}, policy
    track = Track(
        track_id=row.id,
        state=np.asarray(row.state, dtype=float),
        covariance=np.eye(6),
        time_s=0.0,
        status="confirmed",
        created_s=0.0,
        last_update_s=0.0,
        serial=row.serial_pseudonym,
        sensor_counts=tuple(sorted(row.sensors.items())),
        pilot_lon=row.pilot_lon,
        pilot_lat=row.pilot_lat,
    )
    cls = Classification(
        label=row.label,  # type: ignore[arg-type]
        confidence=row.confidence,
        probabilities=(),
        reasons=(),
    )
    assessment = area.assess(track, cls, now)
    return {row.id: TrackSituation(track=track, classification=cls, assessment=assessment)}, policy


def _decide(
    session: Session,
    row: AirspaceCountermeasureRow,
    *,
    operator: Operator,
    confirmations: list[Confirmation],
    now: datetime,
    effectors: dict[str, Effector] | None,
) -> CounterDecision:
    situation, policy = _situation(session, row.track_row_id, now)
    decision = request(
        row.track_row_id,
        row.effector,
        operator=operator,
        confirmations=confirmations,
        now=now.timestamp(),
        policy=policy,
        situation=situation,
        effectors=effectors if effectors is not None else all_effectors(),
        seed=row.id,
    )
    codes = {r.code for r in decision.refusals}
    row.threat_level = decision.threat_level.value if decision.threat_level else None
    row.refusals = [{"code": r.code, "message": r.message} for r in decision.refusals]
    row.decision_id = decision.decision_id
    if decision.approved and decision.outcome is not None:
        out = decision.outcome
        row.status = "executed" if out.success else "failed"
        row.outcome = {
            "success": out.success,
            "effect": out.effect,
            "effect_after_s": out.effect_after_s,
            "detail": out.detail,
        }
    elif codes == {"second_confirmation"} and not confirmations:
        row.status = "pending_confirmation"
    else:
        row.status = "refused"
    if row.status != "pending_confirmation":
        _timeline(session, row, now)
    return decision


def _timeline(session: Session, row: AirspaceCountermeasureRow, now: datetime) -> None:
    inc = session.scalar(
        select(AirspaceIncidentRow).where(AirspaceIncidentRow.track_row_id == row.track_row_id)
    )
    if inc is None:
        inc = AirspaceIncidentRow(track_row_id=row.track_row_id, opened_at=now)
        session.add(inc)
        session.flush()
    have = set(
        session.scalars(
            select(AirspaceTimelineRow.stage).where(AirspaceTimelineRow.incident_id == inc.id)
        )
    )
    stages = [("decided", now, f"{row.effector}: {row.status} ({row.requested_by})")]
    if row.status == "executed" and row.outcome is not None:
        at = now + timedelta(seconds=float(row.outcome["effect_after_s"]))
        stages.append(("countered", at, str(row.outcome["effect"])))
    for stage, at, detail in stages:
        if stage not in have:
            session.add(AirspaceTimelineRow(incident_id=inc.id, stage=stage, at=at, detail=detail))


def request_countermeasure(
    session: Session,
    *,
    track_row_id: int,
    effector: str,
    username: str,
    roles: frozenset[str],
    now: datetime,
    effectors: dict[str, Effector] | None = None,
) -> AirspaceCountermeasureRow:
    """Record an operator's request and decide it (one action). Not committed."""
    row = AirspaceCountermeasureRow(
        track_row_id=track_row_id,
        effector=effector,
        status="requested",
        requested_by=username,
        requested_at=now,
        refusals=[],
    )
    session.add(row)
    session.flush()
    _decide(
        session,
        row,
        operator=Operator(user_id=username, roles=roles),
        confirmations=[],
        now=now,
        effectors=effectors,
    )
    return row


def confirm_countermeasure(
    session: Session,
    *,
    countermeasure_id: int,
    username: str,
    roles: frozenset[str],
    requester_roles: frozenset[str],
    now: datetime,
    effectors: dict[str, Effector] | None = None,
) -> AirspaceCountermeasureRow:
    """A second person confirms a pending request; the checks run again, now. Not committed.

    Raises
    ------
    CountermeasureConflict
        The request is not waiting for confirmation, or the confirmer is the requester.
    """
    row = session.get(AirspaceCountermeasureRow, countermeasure_id)
    if row is None:
        raise LookupError(countermeasure_id)
    if row.status != "pending_confirmation":
        raise CountermeasureConflict(
            f"countermeasure {countermeasure_id} is {row.status}, not waiting for confirmation"
        )
    if username == row.requested_by:
        raise CountermeasureConflict(
            f"the second confirmation must come from another person than {row.requested_by} "
            "(双人确认)"
        )
    row.confirmed_by = username
    row.confirmed_at = now
    _decide(
        session,
        row,
        operator=Operator(user_id=row.requested_by, roles=requester_roles),
        confirmations=[Confirmation(user_id=username, roles=roles, at_s=now.timestamp())],
        now=now,
        effectors=effectors,
    )
    return row
