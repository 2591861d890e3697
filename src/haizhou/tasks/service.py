"""Instructions in the store (指令服务): issue, route, move through the lifecycle, escalate.

Every function is keyword-only and takes an open ``session``; the caller owns the transaction
(commit or roll back). Every change appends to ``instruction_history`` with the actor and the
time. The clock is always passed in as ``now`` (timezone-aware); nothing here reads it.

``scope`` is the jurisdiction codes the caller may see (``None`` = all, see
:mod:`haizhou.store.repositories`). An instruction is visible when its lead or one of its
assisting units is in scope; the field actions (sign, start, feed back) need the lead in scope.
An instruction outside the scope looks exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from haizhou.analytics.kpis import RateResult, wilson_interval
from haizhou.domain import Instruction, InstructionStatus, Level
from haizhou.errors import HaizhouError
from haizhou.store.repositories.findings import to_stored_finding
from haizhou.store.repositories.jurisdictions import list_jurisdictions
from haizhou.store.tables import FindingRow, JurisdictionRow
from haizhou.store.tables.tasks import InstructionEventRow, InstructionRow, NotificationRow
from haizhou.tasks.lifecycle import Action, Step, overdue_step, transition
from haizhou.tasks.policy import Decision, InstructionPolicy
from haizhou.tasks.routing import Router

__all__ = [
    "FeedbackIn",
    "InstructionEvent",
    "InstructionNotFound",
    "InstructionRecord",
    "IssueResult",
    "ModelPrecision",
    "NotificationRecord",
    "SweepResult",
    "approve",
    "assign",
    "create_manual",
    "escalate_overdue",
    "feed_back",
    "get_instruction",
    "instruction_history",
    "issue_findings",
    "issue_from_finding",
    "list_instructions",
    "list_notifications",
    "model_precision",
    "reject",
    "review",
    "sign",
    "start",
]

S = InstructionStatus
OPEN_STATUSES = (S.ISSUED, S.SIGNED, S.IN_PROGRESS, S.FED_BACK, S.RETURNED)
_MANAGER_ROLES = frozenset({"analyst", "commander", "admin"})
SYSTEM_ACTOR = "system:escalation"


class InstructionNotFound(HaizhouError):
    """No instruction with this id in the caller's scope."""

    def __init__(self, instruction_id: int) -> None:
        self.instruction_id = instruction_id
        super().__init__(
            f"instruction {instruction_id} does not exist or is outside your jurisdictions; "
            "list yours with `haizhou instructions list`"
        )


class FeedbackIn(BaseModel):
    """Structured feedback on an instruction (反馈).

    Parameters
    ----------
    verified
        Was the finding right on the ground? ``True`` (属实), ``False`` (不属实), ``None`` (could
        not be verified). Only ``True``/``False`` count towards a model's precision.
    text
        What was found and done (处置情况), not empty.
    attachments
        References to attached files (photos, documents), e.g. storage keys or URLs.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    verified: bool | None
    text: str = Field(min_length=1, max_length=20_000)
    attachments: list[str] = Field(default_factory=list)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("feedback text is blank; say what was found and done")
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class InstructionRecord:
    """An instruction as stored (指令), with deadlines, escalation and feedback.

    Times are timezone-aware UTC. ``approval`` is ``auto``, ``manual``, ``pending``,
    ``approved`` or ``rejected``; a pending instruction is not issued yet and has no deadlines.
    """

    id: int
    title: str
    kind: str
    level: Level
    status: InstructionStatus
    approval: str
    jurisdiction_code: str | None
    assisting_codes: tuple[str, ...]
    assignee: str | None
    finding_id: int | None
    dedup_key: str | None
    model_id: str | None
    model_version: str | None
    geometry: dict[str, Any] | None
    evidence: dict[str, Any]
    explanation: str | None
    suggested_action: str | None
    created_at: datetime
    created_by: str
    issued_at: datetime | None
    sign_due_at: datetime | None
    feedback_due_at: datetime | None
    review_due_at: datetime | None
    signed_at: datetime | None
    fed_back_at: datetime | None
    closed_at: datetime | None
    feedback_verified: bool | None
    feedback_text: str | None
    feedback_attachments: tuple[str, ...]
    review_note: str | None
    returned_count: int
    refound_count: int
    escalation_level: int
    escalated_steps: tuple[str, ...]
    updated_at: datetime | None = None

    def overdue_step(self, now: datetime) -> Step | None:
        """The step that is late at ``now`` (see :func:`haizhou.tasks.lifecycle.overdue_step`)."""
        if self.approval in {"pending", "rejected"}:
            return None
        return overdue_step(
            self.status,
            now=now,
            sign_due_at=self.sign_due_at,
            feedback_due_at=self.feedback_due_at,
            review_due_at=self.review_due_at,
        )

    def to_instruction(self) -> Instruction:
        """The shared domain record (:class:`haizhou.domain.Instruction`)."""
        return Instruction(
            id=str(self.id),
            title=self.title,
            level=self.level,
            jurisdiction_code=self.jurisdiction_code or "",
            deadline=self.feedback_due_at or self.created_at,
            status=self.status,
            finding_id=None if self.finding_id is None else str(self.finding_id),
            assisting_codes=self.assisting_codes,
            assignee=self.assignee,
            created_at=self.created_at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InstructionEvent:
    """One history entry (流转记录)."""

    id: int
    instruction_id: int
    at: datetime
    actor: str
    actor_role: str | None
    action: str
    from_status: str | None
    to_status: str
    note: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueResult:
    """What :func:`issue_from_finding` did.

    ``outcome`` is ``issued`` (new, issued by policy), ``pending`` (new, awaiting approval),
    ``updated`` (an open instruction with the same key and model was refreshed), ``unchanged``
    (this finding already has its instruction) or ``ignored`` (policy says no instruction).
    """

    outcome: Literal["issued", "pending", "updated", "unchanged", "ignored"]
    instruction: InstructionRecord | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationRecord:
    """A notification (通知), e.g. an escalation to the supervising unit (督办)."""

    id: int
    created_at: datetime
    kind: str
    recipient_unit: str | None
    recipient_role: str | None
    instruction_id: int | None
    supervised_case_id: int | None
    message: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelPrecision:
    """A model's verified precision (模型核实准确率) from structured feedback.

    ``precision`` is verified-true / (verified-true + verified-false), ``None`` without any;
    ``low``/``high`` the Wilson score interval at 95 %. ``unverified`` counts feedback with
    ``verified=None`` (not in the ratio).
    """

    model_id: str
    verified_true: int
    verified_false: int
    unverified: int
    precision: float | None
    low: float | None
    high: float | None


# --- reading ---------------------------------------------------------------------------------


def _record(row: InstructionRow) -> InstructionRecord:
    return InstructionRecord(
        id=row.id,
        title=row.title,
        kind=row.kind,
        level=Level(row.level),
        status=InstructionStatus(row.status),
        approval=row.approval,
        jurisdiction_code=row.jurisdiction_code,
        assisting_codes=tuple(row.assisting_codes or ()),
        assignee=row.assignee,
        finding_id=row.finding_id,
        dedup_key=row.dedup_key,
        model_id=row.model_id,
        model_version=row.model_version,
        geometry=row.geometry,
        evidence=dict(row.evidence or {}),
        explanation=row.explanation,
        suggested_action=row.suggested_action,
        created_at=row.created_at,
        created_by=row.created_by,
        issued_at=row.issued_at,
        sign_due_at=row.sign_due_at,
        feedback_due_at=row.feedback_due_at,
        review_due_at=row.review_due_at,
        signed_at=row.signed_at,
        fed_back_at=row.fed_back_at,
        closed_at=row.closed_at,
        feedback_verified=row.feedback_verified,
        feedback_text=row.feedback_text,
        feedback_attachments=tuple(row.feedback_attachments or ()),
        review_note=row.review_note,
        returned_count=row.returned_count,
        refound_count=row.refound_count,
        escalation_level=row.escalation_level,
        escalated_steps=tuple(row.escalated_steps or ()),
        updated_at=row.updated_at,
    )


def _visible(row: InstructionRow, scope: Collection[str] | None) -> bool:
    if scope is None:
        return True
    if isinstance(scope, str | bytes):
        raise TypeError(f"scope must be a collection of codes, not the string {scope!r}")
    codes = {row.jurisdiction_code, *(row.assisting_codes or ())}
    return bool(codes & set(scope))


def _load(
    session: Session,
    instruction_id: int,
    scope: Collection[str] | None,
    *,
    lead_only: bool = False,
) -> InstructionRow:
    row = session.execute(
        select(InstructionRow).where(InstructionRow.id == instruction_id).with_for_update()
    ).scalar_one_or_none()
    if row is None or not _visible(row, scope):
        raise InstructionNotFound(instruction_id)
    if lead_only and scope is not None and row.jurisdiction_code not in set(scope):
        raise HaizhouError(
            f"instruction {instruction_id} is led by {row.jurisdiction_code}; your unit assists "
            "and may read it, but only the lead unit signs and feeds back"
        )
    return row


def get_instruction(
    *, session: Session, scope: Collection[str] | None, instruction_id: int
) -> InstructionRecord:
    """One instruction; :class:`InstructionNotFound` if missing or out of scope."""
    row = session.get(InstructionRow, instruction_id)
    if row is None or not _visible(row, scope):
        raise InstructionNotFound(instruction_id)
    return _record(row)


def list_instructions(
    *,
    session: Session,
    scope: Collection[str] | None,
    status: InstructionStatus | str | Collection[InstructionStatus | str] | None = None,
    overdue: bool = False,
    now: datetime | None = None,
    include_pending: bool = False,
    jurisdiction_code: str | None = None,
    limit: int = 1000,
) -> list[InstructionRecord]:
    """Instructions the caller may see, most urgent level first, then oldest first.

    Parameters
    ----------
    session
        An open session.
    scope
        Jurisdiction codes the caller may see; ``None`` for all.
    status
        One status or several; ``None`` for all.
    overdue
        Only those with a late step at ``now`` (which is then required).
    include_pending
        Include instructions awaiting approval (and rejected ones); off by default, since they
        are not issued to anyone yet.
    jurisdiction_code
        Only those led by this unit.
    limit
        At most this many (1..10 000).
    """
    if not 1 <= limit <= 10_000:
        raise ValueError(f"limit must be between 1 and 10000; got {limit}")
    if overdue and now is None:
        raise ValueError("overdue=True needs now= (the time to judge lateness at)")
    query = select(InstructionRow)
    if status is not None:
        values = [status] if isinstance(status, str) else list(status)
        query = query.where(InstructionRow.status.in_(sorted({S(v).value for v in values})))
    if not include_pending:
        query = query.where(InstructionRow.approval.not_in(["pending", "rejected"]))
    if jurisdiction_code is not None:
        query = query.where(InstructionRow.jurisdiction_code == jurisdiction_code)
    rows = session.execute(query.order_by(InstructionRow.id)).scalars().all()
    records = [_record(r) for r in rows if _visible(r, scope)]
    if overdue:
        assert now is not None
        records = [r for r in records if r.overdue_step(now) is not None]
    records.sort(key=lambda r: (r.level.rank, r.created_at, r.id))
    return records[:limit]


def instruction_history(
    *, session: Session, scope: Collection[str] | None, instruction_id: int
) -> list[InstructionEvent]:
    """The full history of one instruction, oldest first."""
    get_instruction(session=session, scope=scope, instruction_id=instruction_id)
    rows = (
        session.execute(
            select(InstructionEventRow)
            .where(InstructionEventRow.instruction_id == instruction_id)
            .order_by(InstructionEventRow.at, InstructionEventRow.id)
        )
        .scalars()
        .all()
    )
    return [
        InstructionEvent(
            id=r.id,
            instruction_id=r.instruction_id,
            at=r.at,
            actor=r.actor,
            actor_role=r.actor_role,
            action=r.action,
            from_status=r.from_status,
            to_status=r.to_status,
            note=r.note,
            detail=dict(r.detail or {}),
        )
        for r in rows
    ]


# --- creating --------------------------------------------------------------------------------


def _event(
    session: Session,
    row: InstructionRow,
    *,
    at: datetime,
    actor: str,
    actor_role: str | None,
    action: str,
    from_status: str | None,
    note: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        InstructionEventRow(
            instruction_id=row.id,
            at=at,
            actor=actor,
            actor_role=actor_role,
            action=action,
            from_status=from_status,
            to_status=row.status,
            note=note,
            detail=detail,
        )
    )


def _check_now(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise HaizhouError(f"now={now!r} must be a timezone-aware datetime")


def _set_issued(row: InstructionRow, policy: InstructionPolicy, now: datetime) -> None:
    deadlines = policy.deadlines(level=row.level, issued_at=now)
    row.issued_at = now
    row.sign_due_at = deadlines.sign_due_at
    row.feedback_due_at = deadlines.feedback_due_at
    row.first_feedback_due_at = deadlines.feedback_due_at


def _router_from_store(session: Session) -> Router | None:
    """A router over the stored unit tree: the most specific unit holding a place leads (a
    station, not the bureau whose area also holds it; see ``Router.from_jurisdictions``).
    """
    jurisdictions = list_jurisdictions(session=session, scope=None)
    if not any(j.geometry for j in jurisdictions):
        return None
    return Router.from_jurisdictions(jurisdictions, nested=True)


def issue_from_finding(
    *,
    session: Session,
    finding_id: int,
    now: datetime,
    actor: str = "system:policy",
    policy: InstructionPolicy | None = None,
    router: Router | None = None,
    fallback_code: str | None = None,
    assignee: str | None = None,
) -> IssueResult:
    """Turn a stored finding into an instruction by policy, or refresh the open one.

    Deduplication (去重): when the finding has a ``key`` and an open instruction (not closed,
    not rejected) has the same key and model, that instruction is updated instead — level
    raised if the new finding's is higher (deadlines still ahead are tightened to the new
    level's), evidence, geometry and finding id refreshed, ``refound_count`` increased — and
    its history notes ``refound``. A pending instruction re-found at a level the policy issues
    automatically is issued then.

    Parameters
    ----------
    session
        An open session; the caller commits.
    finding_id
        Row id of the finding (``findings.id``).
    now
        Timezone-aware time of issue.
    actor
        Who issues (the scheduler, or an analyst's user name).
    policy
        The :class:`~haizhou.tasks.policy.InstructionPolicy`; default policy if ``None``.
    router
        Routes the geometry to lead and assisting jurisdictions; built from the stored
        jurisdictions if ``None``. Without any polygon, the finding's stored jurisdiction is used.
    fallback_code
        Lead unit for a finding outside every jurisdiction (e.g. the bureau's code); without it
        such a finding raises.
    assignee
        Person or team to assign (承办人), optional.

    Raises
    ------
    HaizhouError
        If the finding does not exist, or it has no owning jurisdiction and no fallback.
    """
    _check_now(now)
    policy = policy or InstructionPolicy()
    found = session.get(FindingRow, finding_id)
    if found is None:
        raise HaizhouError(
            f"finding {finding_id} does not exist; list findings with `haizhou models runs` "
            "or the findings page"
        )
    stored = to_stored_finding(found)
    finding = stored.finding
    already = (
        session.execute(
            select(InstructionRow)
            .where(InstructionRow.finding_id == finding_id)
            .order_by(InstructionRow.id)
        )
        .scalars()
        .first()
    )
    if already is not None:
        return IssueResult(outcome="unchanged", instruction=_record(already))
    decision = policy.decide_finding(finding)
    if finding.key is not None:
        open_row = session.execute(
            select(InstructionRow)
            .where(
                InstructionRow.dedup_key == finding.key,
                InstructionRow.model_id == finding.model_id,
                InstructionRow.status.in_([s.value for s in OPEN_STATUSES]),
                InstructionRow.approval != "rejected",
            )
            .order_by(InstructionRow.id.desc())
            .limit(1)
            .with_for_update()
        ).scalar_one_or_none()
        if open_row is not None:
            _refound(session, open_row, stored.id, finding, decision, policy, now, actor)
            return IssueResult(outcome="updated", instruction=_record(open_row))
    if decision is Decision.IGNORE:
        return IssueResult(outcome="ignored", instruction=None)

    router = router if router is not None else _router_from_store(session)
    lead, assisting = stored.jurisdiction_code, ()
    if router is not None:
        routing = router.route(finding.geometry)
        if routing.lead is not None:
            lead, assisting = routing.lead, routing.assisting
    lead = lead or fallback_code
    if lead is None:
        raise HaizhouError(
            f"finding {finding_id} lies outside every jurisdiction and no fallback unit was "
            "given; pass fallback_code (e.g. the bureau's code) or fix the jurisdictions"
        )
    row = InstructionRow(
        title=finding.title,
        kind=finding.kind,
        level=finding.level.value,
        status=S.ISSUED.value,
        approval="auto" if decision is Decision.AUTO else "pending",
        jurisdiction_code=lead,
        assisting_codes=list(assisting),
        assignee=assignee,
        finding_id=stored.id,
        dedup_key=finding.key,
        model_id=finding.model_id,
        model_version=finding.model_version,
        geometry=finding.geometry,
        evidence=finding.evidence,
        explanation=finding.explanation,
        suggested_action=finding.suggested_action,
        created_at=now,
        created_by=actor,
        updated_at=now,
        last_found_at=now,
        returned_count=0,
        refound_count=0,
        escalation_level=0,
        escalated_steps=[],
    )
    if decision is Decision.AUTO:
        _set_issued(row, policy, now)
    session.add(row)
    session.flush()
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=None,
        action="issue" if decision is Decision.AUTO else "propose",
        from_status=None,
        note=None if decision is Decision.AUTO else "awaiting an analyst's approval (待审批)",
        detail={"finding_id": stored.id, "lead": lead, "assisting": list(assisting)},
    )
    session.flush()
    return IssueResult(
        outcome="issued" if decision is Decision.AUTO else "pending", instruction=_record(row)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepResult:
    """What :func:`issue_findings` did: how many findings had each outcome, and the
    findings it could not route (outside every unit, no bureau to fall back to)."""

    counts: dict[str, int]
    unrouted: tuple[int, ...] = ()


def _processed_findings(session: Session, candidates: list[int]) -> set[int]:
    """Findings already turned into, or folded into, an instruction (kept in the history)."""
    if not candidates:
        return set()
    done = set(
        session.execute(
            select(InstructionRow.finding_id).where(InstructionRow.finding_id.in_(candidates))
        ).scalars()
    )
    wanted = set(candidates)
    details = session.execute(
        select(InstructionEventRow.detail).where(
            InstructionEventRow.action.in_(["issue", "propose", "refound"])
        )
    ).scalars()
    for detail in details:
        finding_id = (detail or {}).get("finding_id")
        if finding_id in wanted:
            done.add(finding_id)
    return done


def issue_findings(
    *,
    session: Session,
    now: datetime,
    since: datetime | None = None,
    finding_ids: Collection[int] | None = None,
    actor: str = "system:policy",
    policy: InstructionPolicy | None = None,
    fallback_code: str | None = None,
) -> SweepResult:
    """Turn new findings into instructions by policy (自动下发), oldest first.

    Every finding not yet turned into (or folded into) an instruction — those created at or
    after ``since``, or exactly ``finding_ids`` — goes through :func:`issue_from_finding`:
    issued, pending approval, folded into the open instruction for the same place
    (``updated``), or ignored. Run after the models (the scheduler, ``haizhou instructions
    sweep``, or ``POST /api/models/{id}/run``); running it twice changes nothing.

    Parameters
    ----------
    fallback_code
        Lead unit for findings outside every jurisdiction; default the root of the unit tree
        when there is exactly one (the bureau). Findings still unrouted are listed, not raised.
    """
    _check_now(now)
    policy = policy or InstructionPolicy()
    query = select(FindingRow.id).order_by(FindingRow.created_at, FindingRow.id)
    if finding_ids is not None:
        query = query.where(FindingRow.id.in_(sorted(set(finding_ids))))
    elif since is not None:
        query = query.where(FindingRow.created_at >= since)
    candidates = list(session.execute(query).scalars())
    done = _processed_findings(session, candidates)
    if fallback_code is None:
        roots = list(
            session.execute(
                select(JurisdictionRow.code).where(JurisdictionRow.parent_code.is_(None))
            ).scalars()
        )
        fallback_code = roots[0] if len(roots) == 1 else None
    router = _router_from_store(session)
    counts = {"issued": 0, "pending": 0, "updated": 0, "unchanged": 0, "ignored": 0}
    unrouted: list[int] = []
    for finding_id in candidates:
        if finding_id in done:
            continue
        try:  # refusals (no owning unit) come before anything is written
            result = issue_from_finding(
                session=session,
                finding_id=finding_id,
                now=now,
                actor=actor,
                policy=policy,
                router=router,
                fallback_code=fallback_code,
            )
        except HaizhouError:
            unrouted.append(finding_id)
            continue
        counts[result.outcome] += 1
    return SweepResult(counts=counts, unrouted=tuple(unrouted))


def _refound(
    session: Session,
    row: InstructionRow,
    finding_row_id: int,
    finding: Any,
    decision: Decision,
    policy: InstructionPolicy,
    now: datetime,
    actor: str,
) -> None:
    old_level = Level(row.level)
    new_level = Level(finding.level)
    detail: dict[str, Any] = {"finding_id": finding_row_id, "previous_finding_id": row.finding_id}
    note = "re-found (再次发现)"
    if new_level.rank < old_level.rank:
        row.level = new_level.value
        detail["level"] = [old_level.value, new_level.value]
        note += f"; level raised {old_level.value} → {new_level.value}"
        if row.issued_at is not None:
            tighter = policy.deadlines(level=new_level, issued_at=now)
            if row.status == S.ISSUED.value and row.sign_due_at and row.sign_due_at > now:
                row.sign_due_at = min(row.sign_due_at, tighter.sign_due_at)
            if row.feedback_due_at and row.feedback_due_at > now:
                row.feedback_due_at = min(row.feedback_due_at, tighter.feedback_due_at)
    row.finding_id = finding_row_id
    row.evidence = finding.evidence
    row.geometry = finding.geometry
    row.title = finding.title
    row.explanation = finding.explanation
    row.model_version = finding.model_version
    row.refound_count = (row.refound_count or 0) + 1
    row.last_found_at = now
    row.updated_at = now
    if (
        row.approval == "pending"
        and policy.decide(kind=row.kind, level=row.level, evidence=finding.evidence)
        is Decision.AUTO
        and decision is Decision.AUTO
    ):
        row.approval = "auto"
        _set_issued(row, policy, now)
        note += "; now issued by policy"
        detail["issued"] = True
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=None,
        action="refound",
        from_status=row.status,
        note=note,
        detail=detail,
    )
    session.flush()


def create_manual(
    *,
    session: Session,
    title: str,
    level: Level | str,
    now: datetime,
    actor: str,
    actor_role: str,
    jurisdiction_code: str | None = None,
    geometry: dict[str, Any] | None = None,
    assignee: str | None = None,
    kind: str = "manual",
    explanation: str | None = None,
    suggested_action: str | None = None,
    policy: InstructionPolicy | None = None,
    router: Router | None = None,
) -> InstructionRecord:
    """Create and issue an instruction by hand (人工下发指令).

    Give ``jurisdiction_code`` (the lead unit) or a ``geometry`` to route. Only analysts,
    commanders and administrators may create instructions.

    Raises
    ------
    ActionNotPermitted
        For other roles.
    HaizhouError
        If neither a unit nor a routable geometry is given, or the unit does not exist.
    """
    _check_now(now)
    _require_manager(actor_role, "create")
    if not title.strip():
        raise HaizhouError("an instruction needs a title; say what is to be done")
    level = Level(level)
    policy = policy or InstructionPolicy()
    assisting: tuple[str, ...] = ()
    if jurisdiction_code is None:
        if geometry is None:
            raise HaizhouError("give the lead unit (jurisdiction_code) or a geometry to route")
        router = router if router is not None else _router_from_store(session)
        routing = router.route(geometry) if router is not None else None
        if routing is None or routing.lead is None:
            raise HaizhouError(
                "the geometry lies outside every jurisdiction; give jurisdiction_code instead"
            )
        jurisdiction_code, assisting = routing.lead, routing.assisting
    elif session.get(JurisdictionRow, jurisdiction_code) is None:
        raise HaizhouError(
            f"jurisdiction {jurisdiction_code!r} does not exist; check the code "
            "(the jurisdictions are imported with `haizhou import`)"
        )
    row = InstructionRow(
        title=title.strip(),
        kind=kind,
        level=level.value,
        status=S.ISSUED.value,
        approval="manual",
        jurisdiction_code=jurisdiction_code,
        assisting_codes=list(assisting),
        assignee=assignee,
        geometry=geometry,
        evidence={},
        explanation=explanation,
        suggested_action=suggested_action,
        created_at=now,
        created_by=actor,
        updated_at=now,
        returned_count=0,
        refound_count=0,
        escalation_level=0,
        escalated_steps=[],
    )
    _set_issued(row, policy, now)
    session.add(row)
    session.flush()
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=actor_role,
        action="issue",
        from_status=None,
        note="created by hand (人工下发)",
        detail={"lead": jurisdiction_code, "assisting": list(assisting)},
    )
    session.flush()
    return _record(row)


def _require_manager(actor_role: str | None, what: str) -> None:
    if actor_role not in _MANAGER_ROLES:
        raise HaizhouError(
            f"the role {actor_role or 'none'} may not {what} instructions; "
            f"ask a user with one of these roles: {', '.join(sorted(_MANAGER_ROLES))}."
        )


def approve(
    *,
    session: Session,
    instruction_id: int,
    now: datetime,
    actor: str,
    actor_role: str,
    scope: Collection[str] | None = None,
    policy: InstructionPolicy | None = None,
) -> InstructionRecord:
    """Approve an instruction awaiting approval (审批下发): it is issued now, with deadlines."""
    _check_now(now)
    _require_manager(actor_role, "approve")
    row = _load(session, instruction_id, scope)
    if row.approval != "pending":
        raise HaizhouError(
            f"instruction {instruction_id} is not awaiting approval (it is {row.approval}); "
            "only pending instructions can be approved"
        )
    row.approval = "approved"
    _set_issued(row, policy or InstructionPolicy(), now)
    row.updated_at = now
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=actor_role,
        action="approve",
        from_status=row.status,
    )
    session.flush()
    return _record(row)


def reject(
    *,
    session: Session,
    instruction_id: int,
    now: datetime,
    actor: str,
    actor_role: str,
    reason: str,
    scope: Collection[str] | None = None,
) -> InstructionRecord:
    """Reject an instruction awaiting approval (不予下发); it is closed without being issued."""
    _check_now(now)
    _require_manager(actor_role, "reject")
    if not reason.strip():
        raise HaizhouError("give a reason for rejecting the instruction")
    row = _load(session, instruction_id, scope)
    if row.approval != "pending":
        raise HaizhouError(
            f"instruction {instruction_id} is not awaiting approval (it is {row.approval}); "
            "only pending instructions can be rejected"
        )
    before = row.status
    row.approval = "rejected"
    row.status = S.CLOSED.value
    row.closed_at = now
    row.updated_at = now
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=actor_role,
        action="reject",
        from_status=before,
        note=reason.strip(),
    )
    session.flush()
    return _record(row)


def assign(
    *,
    session: Session,
    instruction_id: int,
    assignee: str,
    now: datetime,
    actor: str,
    actor_role: str,
    scope: Collection[str] | None = None,
) -> InstructionRecord:
    """Set the person or team carrying the instruction out (承办人)."""
    _check_now(now)
    row = _load(session, instruction_id, scope, lead_only=True)
    if row.status == S.CLOSED.value:
        raise HaizhouError(f"instruction {instruction_id} is closed; it cannot be reassigned")
    previous = row.assignee
    row.assignee = assignee
    row.updated_at = now
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=actor_role,
        action="assign",
        from_status=row.status,
        detail={"from": previous, "to": assignee},
    )
    session.flush()
    return _record(row)


# --- lifecycle -------------------------------------------------------------------------------


def _act(
    session: Session,
    instruction_id: int,
    action: Action,
    *,
    now: datetime,
    actor: str,
    actor_role: str,
    scope: Collection[str] | None,
    lead_only: bool,
) -> tuple[InstructionRow, str]:
    _check_now(now)
    row = _load(session, instruction_id, scope, lead_only=lead_only)
    if row.approval == "pending":
        raise HaizhouError(
            f"instruction {instruction_id} is awaiting an analyst's approval and is not issued "
            "yet; approve it first"
        )
    if row.approval == "rejected":
        raise HaizhouError(f"instruction {instruction_id} was rejected and never issued")
    before = row.status
    row.status = transition(before, action, actor_role=actor_role, now=now).value
    row.updated_at = now
    return row, before


def sign(
    *,
    session: Session,
    instruction_id: int,
    now: datetime,
    actor: str,
    actor_role: str,
    scope: Collection[str] | None = None,
    assignee: str | None = None,
) -> InstructionRecord:
    """Sign for an instruction (签收): the lead unit acknowledges it.

    Raises
    ------
    IllegalTransition
        If the instruction is not ``issued``.
    ActionNotPermitted
        If the role may not sign.
    """
    row, before = _act(
        session,
        instruction_id,
        Action.SIGN,
        now=now,
        actor=actor,
        actor_role=actor_role,
        scope=scope,
        lead_only=True,
    )
    row.signed_at = now
    if assignee:
        row.assignee = assignee
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=actor_role,
        action=Action.SIGN.value,
        from_status=before,
    )
    session.flush()
    return _record(row)


def start(
    *,
    session: Session,
    instruction_id: int,
    now: datetime,
    actor: str,
    actor_role: str,
    scope: Collection[str] | None = None,
) -> InstructionRecord:
    """Start the work (开始处置), from ``signed`` or after a return."""
    row, before = _act(
        session,
        instruction_id,
        Action.START,
        now=now,
        actor=actor,
        actor_role=actor_role,
        scope=scope,
        lead_only=True,
    )
    row.started_at = now
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=actor_role,
        action=Action.START.value,
        from_status=before,
    )
    session.flush()
    return _record(row)


def feed_back(
    *,
    session: Session,
    instruction_id: int,
    feedback: FeedbackIn,
    now: datetime,
    actor: str,
    actor_role: str,
    scope: Collection[str] | None = None,
    policy: InstructionPolicy | None = None,
) -> InstructionRecord:
    """Feed back the result (反馈): verified true/false/None, text and attachments.

    The review deadline starts now (policy ``review_within_h``).
    """
    row, before = _act(
        session,
        instruction_id,
        Action.FEED_BACK,
        now=now,
        actor=actor,
        actor_role=actor_role,
        scope=scope,
        lead_only=True,
    )
    policy = policy or InstructionPolicy()
    row.fed_back_at = now
    if row.first_fed_back_at is None:
        row.first_fed_back_at = now
    row.review_due_at = policy.review_due(level=row.level, fed_back_at=now)
    row.feedback_verified = feedback.verified
    row.feedback_text = feedback.text
    row.feedback_attachments = list(feedback.attachments)
    row.feedback_by = actor
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=actor_role,
        action=Action.FEED_BACK.value,
        from_status=before,
        note=feedback.text,
        detail={"verified": feedback.verified, "attachments": list(feedback.attachments)},
    )
    session.flush()
    return _record(row)


def review(
    *,
    session: Session,
    instruction_id: int,
    accept: bool,
    now: datetime,
    actor: str,
    actor_role: str,
    note: str | None = None,
    scope: Collection[str] | None = None,
    policy: InstructionPolicy | None = None,
) -> InstructionRecord:
    """Review the feedback (审核): accept closes the instruction (办结); return sends it back
    for more work (退回) with a fresh feedback deadline. A return needs a note saying why.
    """
    action = Action.ACCEPT if accept else Action.RETURN
    if not accept and not (note and note.strip()):
        raise HaizhouError("say why the instruction is returned (note); the station needs to know")
    row, before = _act(
        session,
        instruction_id,
        action,
        now=now,
        actor=actor,
        actor_role=actor_role,
        scope=scope,
        lead_only=False,
    )
    row.review_note = note
    row.review_due_at = None
    if accept:
        row.closed_at = now
    else:
        row.returned_count = (row.returned_count or 0) + 1
        row.feedback_due_at = (policy or InstructionPolicy()).feedback_due_after_return(
            level=row.level, returned_at=now
        )
    _event(
        session,
        row,
        at=now,
        actor=actor,
        actor_role=actor_role,
        action=action.value,
        from_status=before,
        note=note,
    )
    session.flush()
    return _record(row)


# --- escalation ------------------------------------------------------------------------------


def _step_key(step: Step, row: InstructionRow) -> str:
    return step.value if step is Step.SIGN else f"{step.value}:{row.returned_count or 0}"


def escalate_overdue(
    *, session: Session, now: datetime, actor: str = SYSTEM_ACTOR
) -> list[NotificationRecord]:
    """Escalate every instruction with a late step (督办) and notify the supervisors.

    Each late step escalates once (a returned instruction's new feedback round counts as a new
    step): ``escalation_level`` goes up by one, the step is added to ``escalated_steps``, the
    history records ``escalate`` without changing the status, and a notification goes to the
    supervising unit (the lead unit's parent; the bureau, ``recipient_unit=None``, when there
    is none or from the second escalation on), for role ``commander``.

    Returns
    -------
    list of NotificationRecord
        The notifications created, one per escalation.
    """
    _check_now(now)
    rows = (
        session.execute(
            select(InstructionRow)
            .where(
                InstructionRow.status.in_([s.value for s in OPEN_STATUSES]),
                InstructionRow.approval.not_in(["pending", "rejected"]),
            )
            .order_by(InstructionRow.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    parents = dict(session.execute(select(JurisdictionRow.code, JurisdictionRow.parent_code)).all())
    created: list[NotificationRow] = []
    for row in rows:
        step = overdue_step(
            row.status,
            now=now,
            sign_due_at=row.sign_due_at,
            feedback_due_at=row.feedback_due_at,
            review_due_at=row.review_due_at,
        )
        if step is None:
            continue
        key = _step_key(step, row)
        done = list(row.escalated_steps or [])
        if key in done:
            continue
        due = {
            Step.SIGN: row.sign_due_at,
            Step.FEEDBACK: row.feedback_due_at,
            Step.REVIEW: row.review_due_at,
        }[step]
        row.escalated_steps = [*done, key]
        row.escalation_level = (row.escalation_level or 0) + 1
        row.escalated_at = now
        row.updated_at = now
        recipient = parents.get(row.jurisdiction_code) if row.escalation_level == 1 else None
        late_h = (now - due).total_seconds() / 3600 if due else 0.0
        message = (
            f"督办 · 指令 {row.id}「{row.title}」({Level(row.level).title_zh}) "
            f"{_STEP_ZH[step]}超时 {late_h:.1f} 小时 — instruction {row.id} is late for "
            f"{step.value} by {late_h:.1f} h (unit {row.jurisdiction_code})"
        )
        _event(
            session,
            row,
            at=now,
            actor=actor,
            actor_role=None,
            action="escalate",
            from_status=row.status,
            note=f"{step.value} overdue",
            detail={
                "step": key,
                "due_at": due.isoformat() if due else None,
                "level": row.escalation_level,
            },
        )
        note = NotificationRow(
            created_at=now,
            kind="escalation",
            recipient_unit=recipient,
            recipient_role="commander",
            instruction_id=row.id,
            message=message,
            detail={
                "step": key,
                "escalation_level": row.escalation_level,
                "jurisdiction_code": row.jurisdiction_code,
            },
        )
        session.add(note)
        created.append(note)
    session.flush()
    return [_notification(n) for n in created]


_STEP_ZH = {Step.SIGN: "签收", Step.FEEDBACK: "反馈", Step.REVIEW: "审核"}


def _notification(row: NotificationRow) -> NotificationRecord:
    return NotificationRecord(
        id=row.id,
        created_at=row.created_at,
        kind=row.kind,
        recipient_unit=row.recipient_unit,
        recipient_role=row.recipient_role,
        instruction_id=row.instruction_id,
        supervised_case_id=row.supervised_case_id,
        message=row.message,
        detail=dict(row.detail or {}),
    )


def list_notifications(
    *,
    session: Session,
    scope: Collection[str] | None,
    unread_only: bool = False,
    limit: int = 1000,
) -> list[NotificationRecord]:
    """Notifications for the caller's units, newest first.

    Bureau-wide notifications (``recipient_unit=None``) are seen only with scope ``None``.
    """
    query = select(NotificationRow)
    if scope is not None:
        query = query.where(NotificationRow.recipient_unit.in_(sorted(set(scope))))
    if unread_only:
        query = query.where(NotificationRow.read_at.is_(None))
    rows = session.execute(
        query.order_by(NotificationRow.created_at.desc(), NotificationRow.id.desc()).limit(limit)
    ).scalars()
    return [_notification(r) for r in rows]


# --- model precision -------------------------------------------------------------------------


def model_precision(
    *, session: Session, scope: Collection[str] | None = None, reviewed_only: bool = False
) -> list[ModelPrecision]:
    """Each model's verified precision from the feedback on its instructions (模型准确率).

    The current feedback of every instruction with a model counts once: ``fed_back`` and
    ``closed`` instructions (only ``closed`` ones, i.e. accepted by review, when
    ``reviewed_only``). A returned instruction's rejected feedback does not count.

    Returns
    -------
    list of ModelPrecision
        One per model with feedback, by model id.
    """
    statuses = [S.CLOSED.value] if reviewed_only else [S.FED_BACK.value, S.CLOSED.value]
    rows = (
        session.execute(
            select(InstructionRow).where(
                InstructionRow.model_id.is_not(None),
                InstructionRow.status.in_(statuses),
                InstructionRow.fed_back_at.is_not(None),
            )
        )
        .scalars()
        .all()
    )
    tallies: dict[str, list[int]] = {}
    for row in rows:
        if not _visible(row, scope):
            continue
        t = tallies.setdefault(row.model_id or "", [0, 0, 0])
        if row.feedback_verified is True:
            t[0] += 1
        elif row.feedback_verified is False:
            t[1] += 1
        else:
            t[2] += 1
    out = []
    for model_id in sorted(tallies):
        true_n, false_n, unverified = tallies[model_id]
        rate: RateResult = wilson_interval(true_n, true_n + false_n)
        out.append(
            ModelPrecision(
                model_id=model_id,
                verified_true=true_n,
                verified_false=false_n,
                unverified=unverified,
                precision=rate.rate,
                low=rate.low,
                high=rate.high,
            )
        )
    return out
