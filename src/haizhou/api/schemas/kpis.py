"""Schemas of the KPI API (考核指标); definitions and formulas in docs/kpis.md."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Rate(BaseModel):
    """A proportion with its parts; ``rate`` is ``None`` when the denominator is 0."""

    numerator: int
    denominator: int
    rate: float | None


class CategoryCount(BaseModel):
    """Counts of one category (or ``all``) in the period, the previous period and a year ago.

    ``pop`` (环比) and ``yoy`` (同比) are relative changes, ``(current - base) / base``;
    ``None`` when the base is 0.
    """

    category: str
    current: int
    previous: int
    last_year: int
    pop: float | None
    yoy: float | None


class Change(BaseModel):
    """Change of the totals (all categories) against the comparison period."""

    incidents: float | None
    cases: float | None


class RankingRow(BaseModel):
    """One station in the rankings (排名); ranks with ties (1, 1, 3), ``None`` without data."""

    jurisdiction_code: str
    name: str
    incidents: int
    incidents_rank: int | None = Field(description="Most incidents = 1")
    clearance_rate: float | None
    clearance_rank: int | None = Field(description="Highest clearance rate (flow) = 1")
    on_time_sign_rate: float | None
    on_time_sign_rank: int | None = Field(description="Highest on-time signing rate = 1")


class ModelPrecisionOut(BaseModel):
    """Verified precision of a model from the feedback on its instructions (模型核实准确率)."""

    model_id: str
    verified_true: int
    verified_false: int
    unverified: int
    precision: float | None
    low: float | None = Field(description="Wilson 95 % interval, lower bound")
    high: float | None = Field(description="Wilson 95 % interval, upper bound")


class InstructionKpis(BaseModel):
    """Instruction performance of instructions issued in the period."""

    on_time_sign_rate: Rate
    on_time_feedback_rate: Rate
    precision_by_model: list[ModelPrecisionOut]


class ClearanceRate(BaseModel):
    """破案率 under both conventions (docs/kpis.md)."""

    cohort: Rate = Field(description="Cases filed in the period that are solved by now")
    flow: Rate = Field(description="Cases solved in the period / cases filed in the period")


class KpisOut(BaseModel):
    """The KPIs of one period (``[start, end)`` in the bureau's zone), for the user's scope."""

    period: Literal["day", "week", "month", "quarter", "year"]
    start: datetime
    end: datetime
    tz: str
    now: datetime
    compare: Literal["yoy", "pop"]
    incidents_by_category: list[CategoryCount]
    cases: list[CategoryCount]
    clearance_rate: ClearanceRate
    solved: int
    suspects: int
    yoy: Change
    pop: Change
    rankings: list[RankingRow]
    instructions: InstructionKpis
