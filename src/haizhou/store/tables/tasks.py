"""Instructions (指令), their history, notifications and case supervision (三级盯案).

- ``instructions``: a finding (or a hand-written order) handed to the owning unit (属地), with
  its deadlines, lifecycle status, escalation flag (督办) and structured feedback (反馈).
- ``instruction_history``: one row per transition or notable event, with who and when; never
  updated or deleted.
- ``notifications``: messages for supervisors (escalations, overdue milestones).
- ``supervised_cases``, ``supervision_milestones``, ``supervision_notes``: cases put under
  three-level supervision (局领导牵头—专业警种支撑—派出所主战), with milestones and progress notes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base, JSONType, UTCDateTime


class InstructionRow(Base):
    """An instruction (指令).

    ``status`` is a :class:`haizhou.domain.InstructionStatus` value. ``approval`` says how it
    was issued: ``auto`` (by policy), ``manual`` (created by hand), ``pending`` (waiting for an
    analyst's approval, not yet issued), ``approved`` or ``rejected``. ``escalation_level`` is 0
    until a step runs late (督办), then counts the escalations; ``escalated_steps`` lists the
    overdue steps already escalated (e.g. ``["sign", "feedback:1"]``) so each fires once.
    ``dedup_key`` is the finding's stable ``key``: an open instruction with the same key and
    model is updated instead of duplicated.
    """

    __tablename__ = "instructions"
    __table_args__ = (
        Index("ix_instructions_dedup", "dedup_key", "model_id", "status"),
        Index("ix_instructions_jurisdiction_status", "jurisdiction_code", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(100), index=True)
    level: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    approval: Mapped[str] = mapped_column(String(20), index=True)
    jurisdiction_code: Mapped[str | None] = mapped_column(String(64))
    assisting_codes: Mapped[list[str] | None] = mapped_column(JSONType)
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    finding_id: Mapped[int | None] = mapped_column(Integer, index=True)
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    model_id: Mapped[str | None] = mapped_column(String(100), index=True)
    model_version: Mapped[str | None] = mapped_column(String(40))
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    explanation: Mapped[str | None] = mapped_column(Text)
    suggested_action: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sign_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_fed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_feedback_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_verified: Mapped[bool | None] = mapped_column(Boolean)
    feedback_text: Mapped[str | None] = mapped_column(Text)
    feedback_attachments: Mapped[list[str] | None] = mapped_column(JSONType)
    feedback_by: Mapped[str | None] = mapped_column(String(100))
    review_note: Mapped[str | None] = mapped_column(Text)
    returned_count: Mapped[int] = mapped_column(Integer, default=0)
    refound_count: Mapped[int] = mapped_column(Integer, default=0)
    last_found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_steps: Mapped[list[str] | None] = mapped_column(JSONType)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InstructionEventRow(Base):
    """One entry of an instruction's history (指令流转记录): who did what, when.

    ``action`` is a lifecycle action (``sign``, ``feed_back``...) or an event (``issue``,
    ``refound``, ``escalate``, ``approve``, ``reject``). ``from_status``/``to_status`` are equal
    for events that do not move the state (re-found, escalation).
    """

    __tablename__ = "instruction_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instruction_id: Mapped[int] = mapped_column(
        ForeignKey("instructions.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class NotificationRow(Base):
    """A message for a unit or role (通知), e.g. an escalation to the supervisor (督办通知).

    ``recipient_unit`` is a jurisdiction code (the supervising unit) or ``None`` for the whole
    bureau; ``recipient_role`` a :class:`haizhou.security.roles.Role` value.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    recipient_unit: Mapped[str | None] = mapped_column(String(64), index=True)
    recipient_role: Mapped[str | None] = mapped_column(String(40))
    instruction_id: Mapped[int | None] = mapped_column(
        ForeignKey("instructions.id", ondelete="CASCADE"), index=True
    )
    supervised_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervised_cases.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SupervisedCaseRow(Base):
    """A case under three-level supervision (三级盯案).

    ``lead`` is the bureau leader in charge (局领导牵头), ``specialist_unit`` the supporting
    specialist unit (专业警种支撑), ``station_code`` the station doing the work (派出所主战).
    ``level`` is the supervision priority (red/orange/yellow/blue). ``status`` is ``open`` or
    ``closed``.
    """

    __tablename__ = "supervised_cases"
    __table_args__ = (Index("ix_supervised_cases_case", "case_source", "case_source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_source: Mapped[str | None] = mapped_column(String(100))
    case_source_id: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(10), index=True)
    lead: Mapped[str] = mapped_column(String(100), index=True)
    specialist_unit: Mapped[str] = mapped_column(String(100), index=True)
    station_code: Mapped[str] = mapped_column(String(64), index=True)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closing_note: Mapped[str | None] = mapped_column(Text)


class SupervisionMilestoneRow(Base):
    """A milestone of a supervised case (节点), due by ``due_at``, done at ``done_at``."""

    __tablename__ = "supervision_milestones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    supervised_case_id: Mapped[int] = mapped_column(
        ForeignKey("supervised_cases.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(Text)
    tier: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(100))


class SupervisionNoteRow(Base):
    """A progress note on a supervised case (进展记录), written by one of the three tiers."""

    __tablename__ = "supervision_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    supervised_case_id: Mapped[int] = mapped_column(
        ForeignKey("supervised_cases.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    author: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
