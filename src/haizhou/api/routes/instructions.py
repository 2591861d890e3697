"""Instructions (指令): ``/api/instructions`` and the map layer ``/api/map/instructions``.

Scope is enforced on the server by :mod:`haizhou.tasks.service`: a station sees the
instructions it leads or assists in, and those of its sub-units; the bureau sees all. An
instruction outside the scope answers 404, exactly like a missing one. Only the lead unit
signs, starts and feeds back (403 for an assisting unit). An action the state does not allow
answers 409 with the state machine's message; every transition is kept in the history with
who and when (the service writes it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import shapely.geometry
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status

from haizhou.api.deps import (
    AuditDep,
    CurrentUser,
    NowDep,
    ScopeDep,
    SessionDep,
    SettingsDep,
    require,
)
from haizhou.api.policy import Permission
from haizhou.api.routes.map import resolve_window
from haizhou.api.schemas.instructions import (
    CreateBody,
    CreateResult,
    FeedbackBody,
    InstructionDetail,
    InstructionItem,
    InstructionPage,
    NotificationPage,
    RejectBody,
    ReviewBody,
    SignBody,
    StatusName,
)
from haizhou.api.schemas.map import FeatureCollection
from haizhou.domain import PERSONAL_EVIDENCE_KEYS, InstructionStatus, Level
from haizhou.errors import HaizhouError
from haizhou.settings import Settings
from haizhou.tasks import service
from haizhou.tasks.lifecycle import ActionNotPermitted, IllegalTransition, Step
from haizhou.tasks.policy import InstructionPolicy, policy_from_mapping
from haizhou.tasks.service import InstructionNotFound, InstructionRecord

router = APIRouter(prefix="/instructions", tags=["instructions"])
map_router = APIRouter(prefix="/map", tags=["map"])
notifications_router = APIRouter(prefix="/notifications", tags=["instructions"])

IdPath = Annotated[int, Path(ge=1, le=2**62, description="Instruction id")]
_CURSOR = re.compile(r"^([0-3])-([0-9]{1,18})$")


def instruction_policy(settings: Settings) -> InstructionPolicy:
    """The instruction policy of the settings (``instruction_policy``), else the defaults."""
    return policy_from_mapping(settings.instruction_policy)


@contextmanager
def http_errors() -> Iterator[None]:
    """The service's errors as HTTP answers: 404 not found or out of scope, 409 an illegal
    transition or a state that does not allow the action, 403 a role that may not act.
    """
    try:
        yield
    except InstructionNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except ActionNotPermitted as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from None
    except IllegalTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except HaizhouError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


def point_of(geometry: dict[str, Any] | None) -> tuple[float | None, float | None]:
    """A point of the geometry (the point itself, else a point inside it); ``None`` if none."""
    if not geometry:
        return None, None
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None, None
    if shape.is_empty:
        return None, None
    point = shape if shape.geom_type == "Point" else shape.representative_point()
    return float(point.x), float(point.y)


def _deadline(record: InstructionRecord) -> datetime | None:
    waiting = {
        InstructionStatus.ISSUED: Step.SIGN,
        InstructionStatus.SIGNED: Step.FEEDBACK,
        InstructionStatus.IN_PROGRESS: Step.FEEDBACK,
        InstructionStatus.RETURNED: Step.FEEDBACK,
        InstructionStatus.FED_BACK: Step.REVIEW,
    }.get(record.status)
    return {
        Step.SIGN: record.sign_due_at,
        Step.FEEDBACK: record.feedback_due_at,
        Step.REVIEW: record.review_due_at,
        None: None,
    }[waiting]


def item_of(record: InstructionRecord, now: datetime) -> dict[str, Any]:
    """The list item of the contract (docs/api.md) for one instruction."""
    step = record.overdue_step(now)
    lon, lat = point_of(record.geometry)
    return {
        "id": record.id,
        "finding_id": record.finding_id,
        "model_id": record.model_id,
        "kind": record.kind,
        "title": record.title,
        "level": record.level.value,
        "status": record.status.value,
        "approval": record.approval,
        "jurisdiction_code": record.jurisdiction_code,
        "assisting_codes": list(record.assisting_codes),
        "assignee": record.assignee,
        "deadline": _deadline(record),
        "overdue": step is not None,
        "overdue_step": None if step is None else step.value,
        "escalated": record.escalation_level > 0,
        "escalation_level": record.escalation_level,
        "sign_due_at": record.sign_due_at,
        "feedback_due_at": record.feedback_due_at,
        "review_due_at": record.review_due_at,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "lon": lon,
        "lat": lat,
    }


def _sort_key(record: InstructionRecord) -> tuple[int, int]:
    return (record.level.rank, record.id)


def _parse_cursor(cursor: str | None) -> tuple[int, int] | None:
    if cursor is None or cursor == "":
        return None
    match = _CURSOR.match(cursor)
    if match is None:
        raise HTTPException(
            422, detail=f"cursor {cursor!r} is not valid; pass the next_cursor of the last page"
        )
    return int(match.group(1)), int(match.group(2))


@router.get(
    "",
    response_model=InstructionPage,
    summary="Instructions in scope (指令列表), most urgent level first",
    dependencies=[Depends(require(Permission.INSTRUCTIONS_READ))],
)
def list_instructions(
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
    status_: Annotated[
        StatusName | None, Query(alias="status", description="Only this status")
    ] = None,
    overdue: Annotated[bool, Query(description="Only those with a late step now")] = False,
    mine: Annotated[
        bool,
        Query(description="Only those assigned to me, or led by my own unit (not sub-units)"),
    ] = False,
    pending: Annotated[
        bool, Query(description="Also those awaiting an analyst's approval (待审批)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=40, description="next_cursor of the last page")
    ] = None,
) -> dict[str, Any]:
    """Instructions the user may see, ordered by level (red first), then id (keyset pages)."""
    after = _parse_cursor(cursor)
    records = service.list_instructions(
        session=session,
        scope=None if scope.codes is None else scope.codes,
        status=status_,
        overdue=overdue,
        now=now,
        include_pending=pending,
        limit=10_000,
    )
    if mine:
        records = [
            r
            for r in records
            if r.assignee == user.username
            or (
                user.jurisdiction_code is not None and r.jurisdiction_code == user.jurisdiction_code
            )
        ]
    records.sort(key=_sort_key)
    if after is not None:
        records = [r for r in records if _sort_key(r) > after]
    page = records[:limit]
    next_cursor = None
    if len(records) > limit:
        rank, last_id = _sort_key(page[-1])
        next_cursor = f"{rank}-{last_id}"
    return {"items": [item_of(r, now) for r in page], "next_cursor": next_cursor}


def _detail(record: InstructionRecord, session: Any, scope: Any, now: datetime) -> dict[str, Any]:
    history = service.instruction_history(session=session, scope=scope, instruction_id=record.id)
    return {
        **item_of(record, now),
        "explanation": record.explanation,
        "suggested_action": record.suggested_action,
        "evidence": record.evidence,
        "geometry": record.geometry,
        "feedback": {
            "verified": record.feedback_verified,
            "text": record.feedback_text,
            "attachments": list(record.feedback_attachments),
            "fed_back_at": record.fed_back_at,
        },
        "review_note": record.review_note,
        "returned_count": record.returned_count,
        "refound_count": record.refound_count,
        "history": [
            {
                "at": e.at,
                "by": e.actor,
                "role": e.actor_role,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
            }
            for e in history
        ],
    }


@router.get(
    "/{instruction_id}",
    response_model=InstructionDetail,
    summary="One instruction with explanation, evidence, feedback and history (指令详情)",
    dependencies=[Depends(require(Permission.INSTRUCTIONS_READ))],
)
def read_instruction(
    instruction_id: IdPath, session: SessionDep, scope: ScopeDep, now: NowDep, audit: AuditDep
) -> dict[str, Any]:
    """The instruction (404 if missing or outside the user's jurisdictions)."""
    codes = scope.codes
    with http_errors():
        record = service.get_instruction(
            session=session, scope=codes, instruction_id=instruction_id
        )
        detail = _detail(record, session, codes, now)
    people = {k: len(record.evidence[k]) for k in PERSONAL_EVIDENCE_KEYS if record.evidence.get(k)}
    if people:
        audit("instruction.read", target=str(instruction_id), detail={"personal_fields": people})
    return detail


def _lead_only(record: InstructionRecord, scope: ScopeDep) -> None:
    if scope.codes is not None and record.jurisdiction_code not in scope.codes:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"instruction {record.id} is led by {record.jurisdiction_code}; your unit "
            "assists and may read it, but only the lead unit signs, starts and feeds back",
        )


def _as_lead(
    action: Callable[..., InstructionRecord],
    instruction_id: int,
    session: Any,
    scope: Any,
    user: Any,
    now: datetime,
    **extra: Any,
) -> dict[str, Any]:
    """Run a lifecycle ``action`` of the service as the lead unit, commit, and answer the item."""
    with http_errors():
        record = service.get_instruction(
            session=session, scope=scope.codes, instruction_id=instruction_id
        )
        _lead_only(record, scope)
    return _as_user(action, instruction_id, session, scope, user, now, **extra)


def _as_user(
    action: Callable[..., InstructionRecord],
    instruction_id: int,
    session: Any,
    scope: Any,
    user: Any,
    now: datetime,
    **extra: Any,
) -> dict[str, Any]:
    """Run a lifecycle ``action`` of the service as the user, commit, and answer the item."""
    with http_errors():
        record = action(
            session=session,
            instruction_id=instruction_id,
            now=now,
            actor=user.username,
            actor_role=user.role.value,
            scope=scope.codes,
            **extra,
        )
    return _acted(record, session, now)


def _acted(record: InstructionRecord, session: Any, now: datetime) -> dict[str, Any]:
    session.commit()
    return item_of(record, now)


_WORK = [Depends(require(Permission.INSTRUCTIONS_WORK))]
_REVIEW = [Depends(require(Permission.INSTRUCTIONS_REVIEW))]
_CREATE = [Depends(require(Permission.INSTRUCTIONS_CREATE))]


@router.post(
    "/{instruction_id}/sign",
    response_model=InstructionItem,
    summary="Sign for an instruction (签收)",
    dependencies=_WORK,
)
def sign_instruction(
    instruction_id: IdPath,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
    body: SignBody | None = None,
) -> dict[str, Any]:
    """issued → signed; by the lead unit (409 from any other state)."""
    assignee = body.assignee if body else None
    return _as_lead(service.sign, instruction_id, session, scope, user, now, assignee=assignee)


@router.post(
    "/{instruction_id}/start",
    response_model=InstructionItem,
    summary="Start the work (开始处置)",
    dependencies=_WORK,
)
def start_instruction(
    instruction_id: IdPath, session: SessionDep, scope: ScopeDep, user: CurrentUser, now: NowDep
) -> dict[str, Any]:
    """signed or returned → in_progress; by the lead unit."""
    return _as_lead(service.start, instruction_id, session, scope, user, now)


@router.post(
    "/{instruction_id}/feedback",
    response_model=InstructionItem,
    summary="Feed back the result (反馈)",
    dependencies=_WORK,
)
def feed_back_instruction(
    instruction_id: IdPath,
    body: FeedbackBody,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """signed, in_progress or returned → fed_back, with verified true/false/null and text."""
    if not body.text.strip():
        raise HTTPException(422, detail="feedback text is blank; say what was found and done")
    feedback = service.FeedbackIn(
        verified=body.verified, text=body.text, attachments=body.attachments
    )
    return _as_lead(
        service.feed_back,
        instruction_id,
        session,
        scope,
        user,
        now,
        feedback=feedback,
        policy=instruction_policy(settings),
    )


@router.post(
    "/{instruction_id}/review",
    response_model=InstructionItem,
    summary="Review the feedback: close (办结) or return (退回)",
    dependencies=_REVIEW,
)
def review_instruction(
    instruction_id: IdPath,
    body: ReviewBody,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """fed_back → closed (``accept: true``) or returned (``accept: false``, a note required)."""
    if not body.accept and not (body.note and body.note.strip()):
        raise HTTPException(
            422, detail="say why the instruction is returned (note); the station needs to know"
        )
    return _as_user(
        service.review,
        instruction_id,
        session,
        scope,
        user,
        now,
        accept=body.accept,
        note=body.note,
        policy=instruction_policy(settings),
    )


@router.post(
    "/{instruction_id}/approve",
    response_model=InstructionItem,
    summary="Approve an instruction awaiting approval (审批下发)",
    dependencies=_CREATE,
)
def approve_instruction(
    instruction_id: IdPath,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """A pending instruction is issued now, with its deadlines (409 if not pending)."""
    policy = instruction_policy(settings)
    return _as_user(service.approve, instruction_id, session, scope, user, now, policy=policy)


@router.post(
    "/{instruction_id}/reject",
    response_model=InstructionItem,
    summary="Reject an instruction awaiting approval (不予下发)",
    dependencies=_CREATE,
)
def reject_instruction(
    instruction_id: IdPath,
    body: RejectBody,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
) -> dict[str, Any]:
    """A pending instruction is closed without being issued (409 if not pending)."""
    if not body.reason.strip():
        raise HTTPException(422, detail="give a reason for rejecting the instruction")
    reason = body.reason
    return _as_user(service.reject, instruction_id, session, scope, user, now, reason=reason)


@router.post(
    "",
    response_model=CreateResult,
    status_code=status.HTTP_201_CREATED,
    summary="Create an instruction from a finding or by hand (下发指令)",
    dependencies=_CREATE,
)
def create_instruction(
    body: CreateBody,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """From ``finding_id`` (by the policy: issued, or pending approval; a re-found place
    refreshes its open instruction), or by hand from ``title``, ``level`` and a place.

    The lead unit must lie in the user's jurisdictions (404 otherwise).
    """
    policy = instruction_policy(settings)
    codes = scope.codes
    with http_errors():
        if body.finding_id is not None:
            _check_finding_scope(session, body.finding_id, codes)
            result = service.issue_from_finding(
                session=session,
                finding_id=body.finding_id,
                now=now,
                actor=user.username,
                policy=policy,
                assignee=body.assignee,
            )
            if result.instruction is None:
                raise HaizhouError(
                    f"the instruction policy turns no finding of this kind and level into an "
                    f"instruction; create one by hand (title, level, place) for finding "
                    f"{body.finding_id}"
                )
            record, outcome = result.instruction, result.outcome
        else:
            geometry = None
            if body.lon is not None and body.lat is not None:
                geometry = {"type": "Point", "coordinates": [body.lon, body.lat]}
            record = service.create_manual(
                session=session,
                title=body.title or "",
                level=Level(body.level),
                now=now,
                actor=user.username,
                actor_role=user.role.value,
                jurisdiction_code=body.jurisdiction_code,
                geometry=geometry,
                assignee=body.assignee,
                suggested_action=body.text,
                policy=policy,
            )
            outcome = "issued"
        if codes is not None and record.jurisdiction_code not in codes:
            session.rollback()
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"the place lies in {record.jurisdiction_code}, outside your "
                "jurisdictions; ask the bureau to issue it",
            )
    session.commit()
    return {**item_of(record, now), "outcome": outcome}


def _check_finding_scope(session: Any, finding_id: int, codes: frozenset[str] | None) -> None:
    from haizhou.store.tables import FindingRow

    row = session.get(FindingRow, finding_id)
    if row is None or (codes is not None and row.jurisdiction_code not in codes):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"finding {finding_id} does not exist or is outside your jurisdictions",
        )


@map_router.get(
    "/instructions",
    response_model=FeatureCollection,
    summary="Instructions as map points (指令图层)",
    dependencies=[Depends(require(Permission.INSTRUCTIONS_READ))],
)
def map_instructions(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    now: NowDep,
    start: Annotated[datetime | None, Query(description="Window start, ISO 8601")] = None,
    end: Annotated[datetime | None, Query(description="Window end (excluded); default now")] = None,
    status_: Annotated[
        list[StatusName] | None, Query(alias="status", description="Only these statuses")
    ] = None,
) -> dict[str, Any]:
    """Instructions open at some time in ``[start, end)`` (created before the end, not closed
    before the start), as GeoJSON points with ``{id, title, level, status, overdue}``.
    """
    window_start, window_end = resolve_window(start, end, request)
    records = service.list_instructions(
        session=session,
        scope=scope.codes,
        status=status_ or None,
        now=now,
        limit=10_000,
    )
    features = []
    for record in records:
        if record.created_at >= window_end:
            continue
        if record.closed_at is not None and record.closed_at < window_start:
            continue
        lon, lat = point_of(record.geometry)
        if lon is None or lat is None:
            continue
        step = record.overdue_step(now)
        features.append(
            {
                "type": "Feature",
                "id": record.id,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "id": record.id,
                    "title": record.title,
                    "level": record.level.value,
                    "status": record.status.value,
                    "overdue": step is not None,
                    "jurisdiction_code": record.jurisdiction_code,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@notifications_router.get(
    "",
    response_model=NotificationPage,
    summary="Notifications to your units, newest first (通知, e.g. 督办)",
    dependencies=[Depends(require(Permission.INSTRUCTIONS_READ))],
)
def list_notifications(
    session: SessionDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=20, pattern="^[0-9]{1,18}$")] = None,
) -> dict[str, Any]:
    """Escalations (督办) and other notices sent to the units in scope; those to the whole
    bureau only for bureau-level users. ``cursor``: the ``next_cursor`` of the last page.
    """
    notes = service.list_notifications(session=session, scope=scope.codes, limit=10_000)
    if cursor:
        notes = [n for n in notes if n.id < int(cursor)]
    notes.sort(key=lambda n: -n.id)
    page = notes[:limit]
    return {
        "items": [
            {
                "id": n.id,
                "created_at": n.created_at,
                "kind": n.kind,
                "recipient_unit": n.recipient_unit,
                "recipient_role": n.recipient_role,
                "instruction_id": n.instruction_id,
                "supervised_case_id": n.supervised_case_id,
                "message": n.message,
            }
            for n in page
        ],
        "next_cursor": str(page[-1].id) if len(notes) > limit else None,
    }
