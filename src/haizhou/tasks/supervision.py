"""Case supervision (三级盯案): 局领导牵头 — 专业警种支撑 — 派出所主战.

A serious case is put under supervision with three named tiers — the bureau leader in charge
(``lead``), the supporting specialist unit (``specialist_unit``) and the station doing the work
(``station_code``) — a priority level, a deadline, milestones with due dates, and progress
notes. :func:`overdue` lists what is late; :func:`supervision_stats` counts by level and by
the unit of each tier.

Keyword-only functions on an open session; the caller commits. The clock is passed in.
``scope`` limits reads to supervised cases whose station is in it (``None`` = all).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from haizhou.domain import Level
from haizhou.errors import HaizhouError
from haizhou.store.tables import CaseRow
from haizhou.store.tables.tasks import (
    SupervisedCaseRow,
    SupervisionMilestoneRow,
    SupervisionNoteRow,
)

__all__ = [
    "Milestone",
    "MilestoneIn",
    "OverdueReport",
    "ProgressNote",
    "SupervisedCase",
    "SupervisionStats",
    "Tier",
    "add_milestone",
    "add_note",
    "close_supervision",
    "complete_milestone",
    "get_supervised_case",
    "list_supervised",
    "overdue",
    "supervise_case",
    "supervision_stats",
]

_SUPERVISOR_ROLES = frozenset({"commander", "admin", "analyst"})


class Tier(StrEnum):
    """The three tiers of case supervision (三级)."""

    LEAD = "lead"  # 局领导牵头
    SPECIALIST = "specialist"  # 专业警种支撑
    STATION = "station"  # 派出所主战

    @property
    def title_zh(self) -> str:
        return {"lead": "局领导牵头", "specialist": "专业警种支撑", "station": "派出所主战"}[
            self.value
        ]


class MilestoneIn(BaseModel):
    """A milestone to add (节点): what, which tier owns it, due when (timezone-aware)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=2000)
    due_at: datetime
    tier: Tier = Tier.STATION


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestone:
    """A milestone (节点) of a supervised case; ``done_at`` is ``None`` until completed."""

    id: int
    supervised_case_id: int
    title: str
    tier: Tier
    due_at: datetime
    done_at: datetime | None
    done_by: str | None

    def is_late(self, now: datetime) -> bool:
        """Not done and past due at ``now``, or done after its due time."""
        if self.done_at is None:
            return now > self.due_at
        return self.done_at > self.due_at


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressNote:
    """A progress note (进展) by one tier."""

    id: int
    at: datetime
    author: str
    tier: Tier
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisedCase:
    """A case under three-level supervision (盯办案件) with its milestones and notes."""

    id: int
    title: str
    level: Level
    lead: str
    specialist_unit: str
    station_code: str
    deadline: datetime
    status: str
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closing_note: str | None
    case_source: str | None
    case_source_id: str | None
    milestones: tuple[Milestone, ...] = ()
    notes: tuple[ProgressNote, ...] = ()

    def is_late(self, now: datetime) -> bool:
        """Open past its deadline at ``now``, or closed after it."""
        if self.closed_at is None:
            return now > self.deadline
        return self.closed_at > self.deadline


@dataclass(frozen=True, slots=True, kw_only=True)
class OverdueReport:
    """What is late at ``now`` (超期清单): open cases past their deadline, and open cases'
    milestones past due and not done, most overdue first."""

    now: datetime
    cases: tuple[SupervisedCase, ...]
    milestones: tuple[Milestone, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisionStats:
    """Statistics of supervised cases (盯案统计).

    ``by_level``: one row per level (red..blue order), columns ``level``, ``total``, ``open``,
    ``closed``, ``late_open`` (open past deadline), ``closed_late`` (closed after deadline),
    ``late_milestones`` (open milestones past due).
    ``by_unit``: the same counts per ``tier`` and ``unit`` (the leader, the specialist unit or
    the station), sorted by tier then unit.
    """

    by_level: pd.DataFrame
    by_unit: pd.DataFrame


def _check_now(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise HaizhouError(f"now={now!r} must be a timezone-aware datetime")


def _require(actor_role: str | None) -> None:
    if actor_role not in _SUPERVISOR_ROLES:
        raise HaizhouError(
            f"the role {actor_role or 'none'} may not put cases under supervision or close "
            f"them; ask a user with one of these roles: {', '.join(sorted(_SUPERVISOR_ROLES))}."
        )


def _milestone(row: SupervisionMilestoneRow) -> Milestone:
    return Milestone(
        id=row.id,
        supervised_case_id=row.supervised_case_id,
        title=row.title,
        tier=Tier(row.tier),
        due_at=row.due_at,
        done_at=row.done_at,
        done_by=row.done_by,
    )


def _record(session: Session, row: SupervisedCaseRow) -> SupervisedCase:
    milestones = session.execute(
        select(SupervisionMilestoneRow)
        .where(SupervisionMilestoneRow.supervised_case_id == row.id)
        .order_by(SupervisionMilestoneRow.due_at, SupervisionMilestoneRow.id)
    ).scalars()
    notes = session.execute(
        select(SupervisionNoteRow)
        .where(SupervisionNoteRow.supervised_case_id == row.id)
        .order_by(SupervisionNoteRow.at, SupervisionNoteRow.id)
    ).scalars()
    return SupervisedCase(
        id=row.id,
        title=row.title,
        level=Level(row.level),
        lead=row.lead,
        specialist_unit=row.specialist_unit,
        station_code=row.station_code,
        deadline=row.deadline,
        status=row.status,
        opened_at=row.opened_at,
        opened_by=row.opened_by,
        closed_at=row.closed_at,
        closing_note=row.closing_note,
        case_source=row.case_source,
        case_source_id=row.case_source_id,
        milestones=tuple(_milestone(m) for m in milestones),
        notes=tuple(
            ProgressNote(id=n.id, at=n.at, author=n.author, tier=Tier(n.tier), text=n.text)
            for n in notes
        ),
    )


def _load(
    session: Session, supervised_case_id: int, scope: Collection[str] | None
) -> SupervisedCaseRow:
    row = session.get(SupervisedCaseRow, supervised_case_id)
    if row is None or (scope is not None and row.station_code not in set(scope)):
        raise HaizhouError(
            f"supervised case {supervised_case_id} does not exist or is outside your jurisdictions"
        )
    return row


def supervise_case(
    *,
    session: Session,
    title: str,
    level: Level | str,
    lead: str,
    specialist_unit: str,
    station_code: str,
    deadline: datetime,
    now: datetime,
    actor: str,
    actor_role: str,
    case_source: str | None = None,
    case_source_id: str | None = None,
    milestones: Iterable[MilestoneIn] = (),
) -> SupervisedCase:
    """Put a case under three-level supervision (挂牌盯办).

    Parameters
    ----------
    title
        What the case is (案件名称).
    level
        Supervision priority, red (most urgent) to blue.
    lead, specialist_unit, station_code
        The bureau leader (局领导), the specialist unit (专业警种, e.g. 刑警大队) and the
        station's jurisdiction code (派出所).
    deadline
        When the case should be solved or closed, timezone-aware, after ``now``.
    case_source, case_source_id
        The recorded case (``cases`` table), when it is one; both or neither.
    milestones
        Initial milestones.

    Raises
    ------
    HaizhouError
        For a role that may not supervise, a missing name, a deadline not after ``now``, an
        unknown case, or a case already under open supervision.
    """
    _check_now(now)
    _require(actor_role)
    for name, value in (
        ("title", title),
        ("lead", lead),
        ("specialist_unit", specialist_unit),
        ("station_code", station_code),
    ):
        if not value or not value.strip():
            raise HaizhouError(f"supervision needs a {name}; got an empty value")
    _check_now(deadline)
    if deadline <= now:
        raise HaizhouError(
            f"the deadline {deadline.isoformat()} is not after now ({now.isoformat()}); "
            "give a future deadline"
        )
    if (case_source is None) != (case_source_id is None):
        raise HaizhouError("give both case_source and case_source_id, or neither")
    if case_source is not None:
        exists = session.execute(
            select(CaseRow.id).where(
                CaseRow.source == case_source, CaseRow.source_id == case_source_id
            )
        ).first()
        if exists is None:
            raise HaizhouError(
                f"case {case_source_id!r} from source {case_source!r} does not exist; "
                "check the case number"
            )
        open_one = session.execute(
            select(SupervisedCaseRow.id).where(
                SupervisedCaseRow.case_source == case_source,
                SupervisedCaseRow.case_source_id == case_source_id,
                SupervisedCaseRow.status == "open",
            )
        ).first()
        if open_one is not None:
            raise HaizhouError(
                f"case {case_source_id!r} is already under supervision ({open_one[0]}); "
                "add milestones or notes to it instead"
            )
    row = SupervisedCaseRow(
        case_source=case_source,
        case_source_id=case_source_id,
        title=title.strip(),
        level=Level(level).value,
        lead=lead.strip(),
        specialist_unit=specialist_unit.strip(),
        station_code=station_code.strip(),
        deadline=deadline,
        status="open",
        opened_at=now,
        opened_by=actor,
    )
    session.add(row)
    session.flush()
    for item in milestones:
        _add_milestone_row(session, row, item)
    session.flush()
    return _record(session, row)


def _add_milestone_row(
    session: Session, row: SupervisedCaseRow, item: MilestoneIn
) -> SupervisionMilestoneRow:
    _check_now(item.due_at)
    milestone = SupervisionMilestoneRow(
        supervised_case_id=row.id, title=item.title, tier=item.tier.value, due_at=item.due_at
    )
    session.add(milestone)
    return milestone


def add_milestone(
    *,
    session: Session,
    supervised_case_id: int,
    milestone: MilestoneIn,
    scope: Collection[str] | None = None,
) -> Milestone:
    """Add a milestone (节点) to an open supervised case."""
    row = _load(session, supervised_case_id, scope)
    if row.status != "open":
        raise HaizhouError(f"supervised case {supervised_case_id} is closed")
    added = _add_milestone_row(session, row, milestone)
    session.flush()
    return _milestone(added)


def complete_milestone(
    *,
    session: Session,
    milestone_id: int,
    now: datetime,
    actor: str,
    scope: Collection[str] | None = None,
) -> Milestone:
    """Mark a milestone done (节点完成) at ``now``; a milestone is completed once."""
    _check_now(now)
    row = session.get(SupervisionMilestoneRow, milestone_id)
    if row is None:
        raise HaizhouError(f"milestone {milestone_id} does not exist")
    _load(session, row.supervised_case_id, scope)
    if row.done_at is not None:
        raise HaizhouError(
            f"milestone {milestone_id} was already completed at {row.done_at.isoformat()} "
            f"by {row.done_by}"
        )
    row.done_at, row.done_by = now, actor
    session.flush()
    return _milestone(row)


def add_note(
    *,
    session: Session,
    supervised_case_id: int,
    author: str,
    tier: Tier | str,
    text: str,
    now: datetime,
    scope: Collection[str] | None = None,
) -> ProgressNote:
    """Record progress (进展记录) by one of the three tiers."""
    _check_now(now)
    if not text.strip():
        raise HaizhouError("a progress note needs text; say what was done")
    row = _load(session, supervised_case_id, scope)
    note = SupervisionNoteRow(
        supervised_case_id=row.id, at=now, author=author, tier=Tier(tier).value, text=text.strip()
    )
    session.add(note)
    session.flush()
    return ProgressNote(id=note.id, at=note.at, author=author, tier=Tier(tier), text=note.text)


def close_supervision(
    *,
    session: Session,
    supervised_case_id: int,
    now: datetime,
    actor: str,
    actor_role: str,
    note: str,
    scope: Collection[str] | None = None,
) -> SupervisedCase:
    """Close the supervision (销号) with a closing note; open milestones stay as they are."""
    _check_now(now)
    _require(actor_role)
    if not note.strip():
        raise HaizhouError("closing a supervised case needs a note (e.g. 已破案, suspects caught)")
    row = _load(session, supervised_case_id, scope)
    if row.status != "open":
        raise HaizhouError(f"supervised case {supervised_case_id} is already closed")
    row.status, row.closed_at, row.closing_note = "closed", now, note.strip()
    session.flush()
    return _record(session, row)


def get_supervised_case(
    *, session: Session, supervised_case_id: int, scope: Collection[str] | None = None
) -> SupervisedCase:
    """One supervised case with its milestones and notes."""
    return _record(session, _load(session, supervised_case_id, scope))


def list_supervised(
    *,
    session: Session,
    scope: Collection[str] | None,
    status: str | None = None,
) -> list[SupervisedCase]:
    """Supervised cases in scope, by deadline; ``status`` ``open``, ``closed`` or ``None``."""
    if status not in {None, "open", "closed"}:
        raise ValueError(f"status must be 'open', 'closed' or None; got {status!r}")
    query = select(SupervisedCaseRow)
    if status is not None:
        query = query.where(SupervisedCaseRow.status == status)
    if scope is not None:
        query = query.where(SupervisedCaseRow.station_code.in_(sorted(set(scope))))
    rows = session.execute(
        query.order_by(SupervisedCaseRow.deadline, SupervisedCaseRow.id)
    ).scalars()
    return [_record(session, r) for r in rows]


def overdue(
    *, session: Session, now: datetime, scope: Collection[str] | None = None
) -> OverdueReport:
    """What is late at ``now`` (strictly after the due time), most overdue first."""
    _check_now(now)
    open_cases = list_supervised(session=session, scope=scope, status="open")
    late_cases = sorted(
        (c for c in open_cases if now > c.deadline), key=lambda c: (c.deadline, c.id)
    )
    late_milestones = sorted(
        (m for c in open_cases for m in c.milestones if m.done_at is None and now > m.due_at),
        key=lambda m: (m.due_at, m.id),
    )
    return OverdueReport(now=now, cases=tuple(late_cases), milestones=tuple(late_milestones))


_STAT_COLUMNS = ["total", "open", "closed", "late_open", "closed_late", "late_milestones"]


def _tally(cases: list[SupervisedCase], now: datetime) -> dict[str, int]:
    return {
        "total": len(cases),
        "open": sum(c.status == "open" for c in cases),
        "closed": sum(c.status == "closed" for c in cases),
        "late_open": sum(c.status == "open" and now > c.deadline for c in cases),
        "closed_late": sum(c.closed_at is not None and c.closed_at > c.deadline for c in cases),
        "late_milestones": sum(
            m.done_at is None and now > m.due_at
            for c in cases
            if c.status == "open"
            for m in c.milestones
        ),
    }


def supervision_stats(
    *, session: Session, now: datetime, scope: Collection[str] | None = None
) -> SupervisionStats:
    """Counts by level and by the unit of each tier (按级别、按单位统计)."""
    _check_now(now)
    cases = list_supervised(session=session, scope=scope)
    by_level = pd.DataFrame(
        [{"level": lv.value, **_tally([c for c in cases if c.level is lv], now)} for lv in Level],
        columns=["level", *_STAT_COLUMNS],
    )
    unit_rows = []
    for tier, attr in (
        (Tier.LEAD, "lead"),
        (Tier.SPECIALIST, "specialist_unit"),
        (Tier.STATION, "station_code"),
    ):
        for unit in sorted({getattr(c, attr) for c in cases}):
            chosen = [c for c in cases if getattr(c, attr) == unit]
            unit_rows.append({"tier": tier.value, "unit": unit, **_tally(chosen, now)})
    by_unit = pd.DataFrame(unit_rows, columns=["tier", "unit", *_STAT_COLUMNS])
    return SupervisionStats(by_level=by_level, by_unit=by_unit)
