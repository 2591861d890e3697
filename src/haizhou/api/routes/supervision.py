"""Case supervision (三级盯案): ``/api/supervision``.

A case is supervised on three tiers — the bureau leader (局领导), the specialist unit (专业警种)
and the station (派出所) — with milestones, progress notes and a deadline. A user sees the
supervised cases of the stations in their jurisdictions (404 for the others); analysts,
commanders and administrators put cases under supervision and close them; every police role
writes progress notes, station officers as the station tier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from haizhou.api.deps import CurrentUser, NowDep, ScopeDep, SessionDep, require
from haizhou.api.policy import Permission
from haizhou.api.schemas.supervision import (
    CloseBody,
    MilestoneBody,
    MilestoneOut,
    NoteBody,
    NoteOut,
    SuperviseBody,
    SupervisedCaseDetail,
    SupervisionPage,
    SupervisionStatsOut,
)
from haizhou.errors import HaizhouError
from haizhou.security.roles import Role
from haizhou.store.tables import JurisdictionRow
from haizhou.tasks import supervision as sup
from haizhou.tasks.supervision import Milestone, MilestoneIn, SupervisedCase

router = APIRouter(prefix="/supervision", tags=["supervision"])

CaseId = Annotated[int, Path(ge=1, le=2**62, description="Supervised case id")]
_CURSOR = re.compile(r"^(-?[0-9]{1,12})-([0-9]{1,18})$")
_READ = [Depends(require(Permission.SUPERVISION_READ))]
_MANAGE = [Depends(require(Permission.SUPERVISION_MANAGE))]
_NOTE = [Depends(require(Permission.SUPERVISION_NOTE))]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@contextmanager
def _conflicts() -> Iterator[None]:
    """The service's refusals (closed case, done milestone, past deadline) as 409."""
    try:
        yield
    except HaizhouError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


def _load(session: Any, case_id: int, scope: ScopeDep) -> SupervisedCase:
    try:
        return sup.get_supervised_case(
            session=session, supervised_case_id=case_id, scope=scope.codes
        )
    except HaizhouError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


def _open_late(m: Milestone, now: datetime) -> bool:
    return m.done_at is None and now > m.due_at


def _milestone(m: Milestone, now: datetime) -> dict[str, Any]:
    return {
        "id": m.id,
        "title": m.title,
        "tier": m.tier.value,
        "due_at": m.due_at,
        "done_at": m.done_at,
        "done_by": m.done_by,
        "late": m.is_late(now),
    }


def case_item(case: SupervisedCase, now: datetime) -> dict[str, Any]:
    """A supervised case as the API shows it (without the notes)."""
    is_open = case.status == "open"
    return {
        "id": case.id,
        "title": case.title,
        "level": case.level.value,
        "lead": case.lead,
        "specialist_unit": case.specialist_unit,
        "station_code": case.station_code,
        "deadline": case.deadline,
        "status": case.status,
        "opened_at": case.opened_at,
        "opened_by": case.opened_by,
        "closed_at": case.closed_at,
        "closing_note": case.closing_note,
        "case_source": case.case_source,
        "case_source_id": case.case_source_id,
        "late": case.is_late(now),
        "late_milestones": sum(is_open and _open_late(m, now) for m in case.milestones),
        "milestones": [_milestone(m, now) for m in case.milestones],
    }


def _detail(case: SupervisedCase, now: datetime) -> dict[str, Any]:
    return {
        **case_item(case, now),
        "notes": [
            {"id": n.id, "at": n.at, "author": n.author, "tier": n.tier.value, "text": n.text}
            for n in case.notes
        ],
    }


def _key(case: SupervisedCase) -> tuple[int, int]:
    return (int(case.deadline.timestamp()), case.id)


@router.get(
    "/stats",
    response_model=SupervisionStatsOut,
    summary="Supervision statistics by level and unit (盯案统计)",
    dependencies=_READ,
)
def supervision_stats(session: SessionDep, scope: ScopeDep, now: NowDep) -> dict[str, Any]:
    """Total, open, closed, late, closed late and late milestones per level and per unit."""
    stats = sup.supervision_stats(session=session, now=now, scope=scope.codes)
    return {
        "now": now,
        "by_level": stats.by_level.to_dict(orient="records"),
        "by_unit": stats.by_unit.to_dict(orient="records"),
    }


@router.get(
    "",
    response_model=SupervisionPage,
    summary="Supervised cases in scope (盯案列表), by deadline",
    dependencies=_READ,
)
def list_supervised(
    session: SessionDep,
    scope: ScopeDep,
    now: NowDep,
    late: Annotated[
        bool, Query(description="Only open cases past their deadline or with a late milestone")
    ] = False,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(open|closed)$", description="open or closed")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Supervised cases of the stations in the user's jurisdictions, earliest deadline first."""
    after = None
    if cursor:
        match = _CURSOR.match(cursor)
        if match is None:
            raise HTTPException(422, detail=f"cursor {cursor!r} is not valid; pass next_cursor")
        after = (int(match.group(1)), int(match.group(2)))
    cases = sup.list_supervised(session=session, scope=scope.codes, status=status_)
    if late:
        cases = [
            c
            for c in cases
            if c.status == "open"
            and (c.is_late(now) or any(_open_late(m, now) for m in c.milestones))
        ]
    cases.sort(key=_key)
    if after is not None:
        cases = [c for c in cases if _key(c) > after]
    page = cases[:limit]
    next_cursor = None
    if len(cases) > limit:
        ts, last = _key(page[-1])
        next_cursor = f"{ts}-{last}"
    return {"items": [case_item(c, now) for c in page], "next_cursor": next_cursor}


@router.get(
    "/{case_id}",
    response_model=SupervisedCaseDetail,
    summary="One supervised case with milestones and notes",
    dependencies=_READ,
)
def read_supervised(
    case_id: CaseId, session: SessionDep, scope: ScopeDep, now: NowDep
) -> dict[str, Any]:
    """404 when missing or its station is outside the user's jurisdictions."""
    return _detail(_load(session, case_id, scope), now)


@router.post(
    "",
    response_model=SupervisedCaseDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Put a case under three-level supervision (挂牌盯办)",
    dependencies=_MANAGE,
)
def supervise(
    body: SuperviseBody, session: SessionDep, scope: ScopeDep, user: CurrentUser, now: NowDep
) -> dict[str, Any]:
    """The station must be a unit in the user's jurisdictions (404 otherwise)."""
    if session.get(JurisdictionRow, body.station_code) is None:
        raise HTTPException(
            422, detail=f"station_code {body.station_code!r} is not a known jurisdiction code"
        )
    if _aware(body.deadline) <= now:
        raise HTTPException(
            422,
            detail=f"the deadline {body.deadline.isoformat()} is not in the future; give a later one",
        )
    if not scope.allows(body.station_code):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"station {body.station_code} is outside your jurisdictions",
        )
    with _conflicts():
        case = sup.supervise_case(
            session=session,
            title=body.title,
            level=body.level,
            lead=body.lead,
            specialist_unit=body.specialist_unit,
            station_code=body.station_code,
            deadline=_aware(body.deadline),
            now=now,
            actor=user.username,
            actor_role=user.role.value,
            case_source=body.case_source,
            case_source_id=body.case_source_id,
            milestones=[
                MilestoneIn(title=m.title, due_at=_aware(m.due_at), tier=m.tier)
                for m in body.milestones
            ],
        )
    session.commit()
    return _detail(case, now)


@router.post(
    "/{case_id}/notes",
    response_model=NoteOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a progress note (进展记录)",
    dependencies=_NOTE,
)
def add_note(
    case_id: CaseId,
    body: NoteBody,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
) -> dict[str, Any]:
    """Station officers write as the ``station`` tier (403 for another tier)."""
    _load(session, case_id, scope)
    if user.role is Role.STATION_OFFICER and body.tier != "station":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="station officers write progress notes as the station tier (tier: station)",
        )
    if not body.text.strip():
        raise HTTPException(422, detail="a progress note needs text; say what was done")
    with _conflicts():
        note = sup.add_note(
            session=session,
            supervised_case_id=case_id,
            author=user.username,
            tier=body.tier,
            text=body.text,
            now=now,
            scope=scope.codes,
        )
    session.commit()
    return {
        "id": note.id,
        "at": note.at,
        "author": note.author,
        "tier": note.tier.value,
        "text": note.text,
    }


@router.post(
    "/{case_id}/milestones",
    response_model=MilestoneOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a milestone (节点)",
    dependencies=_MANAGE,
)
def add_milestone(
    case_id: CaseId, body: MilestoneBody, session: SessionDep, scope: ScopeDep, now: NowDep
) -> dict[str, Any]:
    """409 when the supervision is closed."""
    _load(session, case_id, scope)
    with _conflicts():
        milestone = sup.add_milestone(
            session=session,
            supervised_case_id=case_id,
            milestone=MilestoneIn(title=body.title, due_at=_aware(body.due_at), tier=body.tier),
            scope=scope.codes,
        )
    session.commit()
    return _milestone(milestone, now)


@router.post(
    "/{case_id}/milestones/{milestone_id}/done",
    response_model=MilestoneOut,
    summary="Mark a milestone done (节点完成)",
    dependencies=_NOTE,
)
def complete_milestone(
    case_id: CaseId,
    milestone_id: Annotated[int, Path(ge=1, le=2**62)],
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
) -> dict[str, Any]:
    """409 when it is done already; 404 when it is not a milestone of this case."""
    case = _load(session, case_id, scope)
    if milestone_id not in {m.id for m in case.milestones}:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"milestone {milestone_id} is not a milestone of supervised case {case_id}",
        )
    with _conflicts():
        milestone = sup.complete_milestone(
            session=session,
            milestone_id=milestone_id,
            now=now,
            actor=user.username,
            scope=scope.codes,
        )
    session.commit()
    return _milestone(milestone, now)


@router.post(
    "/{case_id}/close",
    response_model=SupervisedCaseDetail,
    summary="Close the supervision (销号)",
    dependencies=_MANAGE,
)
def close(
    case_id: CaseId,
    body: CloseBody,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
) -> dict[str, Any]:
    """409 when it is closed already."""
    _load(session, case_id, scope)
    if not body.note.strip():
        raise HTTPException(422, detail="closing a supervised case needs a note (e.g. 已破案)")
    with _conflicts():
        case = sup.close_supervision(
            session=session,
            supervised_case_id=case_id,
            now=now,
            actor=user.username,
            actor_role=user.role.value,
            note=body.note,
            scope=scope.codes,
        )
    session.commit()
    return _detail(case, now)
