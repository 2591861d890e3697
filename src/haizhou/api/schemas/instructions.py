"""Schemas of the instructions API (指令): list items, detail, actions, creation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

StatusName = Literal["issued", "signed", "in_progress", "fed_back", "closed", "returned"]
LevelName = Literal["red", "orange", "yellow", "blue"]


class InstructionItem(BaseModel):
    """One instruction as listed (指令).

    ``deadline`` is the deadline of the step the instruction waits for (sign, feedback or
    review; ``None`` once closed); ``overdue`` whether that step is late now; ``escalated``
    whether it was ever escalated (督办). ``lon``/``lat`` is a point of its place (the point
    itself, or a point inside the area), ``None`` without a geometry.
    """

    id: int
    finding_id: int | None
    model_id: str | None
    kind: str
    title: str
    level: LevelName
    status: StatusName
    approval: str = Field(description="auto, manual, approved, pending (待审批) or rejected")
    jurisdiction_code: str | None = Field(description="The lead unit (主办单位)")
    assisting_codes: list[str] = Field(description="Assisting units (协办单位)")
    assignee: str | None
    deadline: datetime | None
    overdue: bool
    overdue_step: Literal["sign", "feedback", "review"] | None
    escalated: bool
    escalation_level: int
    sign_due_at: datetime | None
    feedback_due_at: datetime | None
    review_due_at: datetime | None
    created_at: datetime
    updated_at: datetime | None
    lon: float | None
    lat: float | None


class InstructionPage(BaseModel):
    """A page of instructions; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[InstructionItem]
    next_cursor: str | None


class HistoryItem(BaseModel):
    """One entry of the history (流转记录): who did what, when."""

    at: datetime
    by: str
    role: str | None
    action: str
    from_status: str | None
    to_status: str
    note: str | None


class FeedbackOut(BaseModel):
    """The station's feedback (反馈)."""

    verified: bool | None
    text: str | None
    attachments: list[str]
    fed_back_at: datetime | None


class InstructionDetail(InstructionItem):
    """One instruction with its explanation, evidence, feedback and full history."""

    explanation: str | None
    suggested_action: str | None
    evidence: dict[str, Any]
    geometry: dict[str, Any] | None
    feedback: FeedbackOut
    review_note: str | None
    returned_count: int
    refound_count: int
    history: list[HistoryItem]


class EmptyBody(BaseModel):
    """No fields (``{}``)."""

    model_config = ConfigDict(extra="forbid")


class SignBody(BaseModel):
    """Sign for an instruction (签收), optionally naming who will carry it out."""

    model_config = ConfigDict(extra="forbid")

    assignee: str | None = Field(default=None, max_length=200)


class FeedbackBody(BaseModel):
    """Feedback (反馈): was the finding true on the ground, and what was done."""

    model_config = ConfigDict(extra="forbid")

    verified: bool | None = Field(description="属实 true, 不属实 false, null: could not verify")
    text: str = Field(min_length=1, max_length=20_000)
    attachments: list[str] = Field(default_factory=list, max_length=50)


class ReviewBody(BaseModel):
    """Review (审核): accept closes (办结), otherwise return for more work (退回, needs a note)."""

    model_config = ConfigDict(extra="forbid")

    accept: bool
    note: str | None = Field(default=None, max_length=20_000)


class RejectBody(BaseModel):
    """Reject an instruction awaiting approval (不予下发), with the reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=20_000)


class CreateBody(BaseModel):
    """Create an instruction: from a finding (``finding_id``), or by hand (``title``, ``level``
    and a place: ``lon``/``lat`` routed to its jurisdiction, or ``jurisdiction_code``).
    """

    model_config = ConfigDict(extra="forbid")

    finding_id: int | None = Field(default=None, ge=1)
    title: str | None = Field(default=None, min_length=1, max_length=500)
    level: LevelName | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    jurisdiction_code: str | None = Field(default=None, min_length=1, max_length=64)
    text: str | None = Field(default=None, max_length=20_000, description="What is to be done")
    assignee: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_way(self) -> CreateBody:
        if self.finding_id is not None:
            return self
        if not self.title or not self.title.strip() or self.level is None:
            raise ValueError(
                "give finding_id, or title and level (and lon/lat or jurisdiction_code)"
            )
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        if self.lon is None and self.jurisdiction_code is None:
            raise ValueError("give the place (lon and lat) or the lead unit (jurisdiction_code)")
        return self


class CreateResult(InstructionItem):
    """The created (or, for a re-found place, updated) instruction and what happened.

    ``outcome``: ``issued`` (new, issued), ``pending`` (new, awaiting approval), ``updated`` (an
    open instruction for the same place was refreshed), ``unchanged`` (the finding already has
    its instruction).
    """

    outcome: Literal["issued", "pending", "updated", "unchanged"]


class NotificationItem(BaseModel):
    """A notification (通知), e.g. an escalation (督办) to the supervising unit."""

    id: int
    created_at: datetime
    kind: str
    recipient_unit: str | None = Field(description="None: the whole bureau")
    recipient_role: str | None
    instruction_id: int | None
    supervised_case_id: int | None
    message: str


class NotificationPage(BaseModel):
    """A page of notifications, newest first."""

    items: list[NotificationItem]
    next_cursor: str | None
