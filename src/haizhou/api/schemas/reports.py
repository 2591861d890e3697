"""Schemas of the reports API (报告): daily inspection, weekly bulletin, monthly assessment."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

KindName = Literal["daily", "weekly", "monthly"]


class ReportItem(BaseModel):
    """A generated report file.

    ``unit`` is the jurisdiction the report covers (its subtree), ``None`` for the whole bureau.
    """

    id: str = Field(description="e.g. monthly-2026-02-01-zh-pdf, or …~<unit> for one unit")
    kind: KindName
    date: dt.date
    lang: Literal["zh", "en"]
    format: Literal["html", "pdf"]
    unit: str | None
    created_at: dt.datetime
    size: int = Field(description="Bytes")
    warnings: list[str] = Field(default_factory=list)


class ReportPage(BaseModel):
    """A page of reports, newest report date first."""

    items: list[ReportItem]
    next_cursor: str | None


class ReportRequest(BaseModel):
    """Generate a report now (synchronously) for the user's jurisdictions."""

    model_config = ConfigDict(extra="forbid")

    kind: KindName
    date: dt.date = Field(description="A local day in the period (daily: the day inspected)")
    lang: Literal["zh", "en"] = "zh"
    format: Literal["html", "pdf"] = "pdf"
