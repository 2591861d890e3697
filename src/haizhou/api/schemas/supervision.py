"""Schemas of the case-supervision API (三级盯案)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TierName = Literal["lead", "specialist", "station"]
LevelName = Literal["red", "orange", "yellow", "blue"]


class MilestoneOut(BaseModel):
    """A milestone (节点) with its due time and, once done, who did it and when."""

    id: int
    title: str
    tier: TierName
    due_at: datetime
    done_at: datetime | None
    done_by: str | None
    late: bool = Field(description="Not done and past due, or done after its due time")


class NoteOut(BaseModel):
    """A progress note (进展记录) by one of the three tiers."""

    id: int
    at: datetime
    author: str
    tier: TierName
    text: str


class SupervisedCaseItem(BaseModel):
    """A case under supervision: the three tiers (局领导 lead, 专业警种 specialist unit, 派出所
    station), level, deadline, state, and whether it or one of its milestones is late now.
    """

    id: int
    title: str
    level: LevelName
    lead: str
    specialist_unit: str
    station_code: str
    deadline: datetime
    status: Literal["open", "closed"]
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closing_note: str | None
    case_source: str | None
    case_source_id: str | None
    late: bool = Field(description="Open and past its deadline, or closed after it")
    late_milestones: int = Field(description="Open milestones past their due time")
    milestones: list[MilestoneOut]


class SupervisedCaseDetail(SupervisedCaseItem):
    """A supervised case with its progress notes."""

    notes: list[NoteOut]


class SupervisionPage(BaseModel):
    """A page of supervised cases; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[SupervisedCaseItem]
    next_cursor: str | None


class MilestoneBody(BaseModel):
    """A milestone to add."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=2000)
    due_at: datetime = Field(description="ISO 8601 with a zone (a time without zone: UTC)")
    tier: TierName = "station"


class SuperviseBody(BaseModel):
    """Put a case under supervision (挂牌盯办)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    level: LevelName = "orange"
    lead: str = Field(min_length=1, max_length=200, description="局领导 the bureau leader")
    specialist_unit: str = Field(min_length=1, max_length=200, description="专业警种 e.g. 刑警大队")
    station_code: str = Field(min_length=1, max_length=64, description="派出所 jurisdiction code")
    deadline: datetime
    case_source: str | None = Field(default=None, max_length=100)
    case_source_id: str | None = Field(default=None, max_length=200)
    milestones: list[MilestoneBody] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _both_or_neither(self) -> SuperviseBody:
        if (self.case_source is None) != (self.case_source_id is None):
            raise ValueError("give both case_source and case_source_id, or neither")
        return self


class NoteBody(BaseModel):
    """A progress note; station officers write as the ``station`` tier."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    tier: TierName = "station"


class CloseBody(BaseModel):
    """Close the supervision (销号) with a note (e.g. 已破案)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=20_000)


class StatsRow(BaseModel):
    """Counts of supervised cases."""

    total: int
    open: int
    closed: int
    late_open: int
    closed_late: int
    late_milestones: int


class LevelStats(StatsRow):
    level: LevelName


class UnitStats(StatsRow):
    tier: TierName
    unit: str


class SupervisionStatsOut(BaseModel):
    """Statistics by level and by the unit of each tier (按级别、按单位统计)."""

    now: datetime
    by_level: list[LevelStats]
    by_unit: list[UnitStats]
