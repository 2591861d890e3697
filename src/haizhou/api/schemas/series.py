"""Schemas of the series API (系列案): list items, detail with cases, pair evidence and leads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

LevelName = Literal["red", "orange", "yellow", "blue"]


class SeriesItem(BaseModel):
    """One series (系列案) of the latest linkage run, as listed.

    ``id`` is the finding's id; ``key`` stays the same from run to run while the series keeps
    its first case. ``lon``/``lat`` is the place of its latest case.
    """

    id: int
    key: str | None
    title: str
    level: LevelName
    rank: int = Field(description="Rank by strength × recency in its run (1 = first)")
    n_cases: int
    n_open: int = Field(description="Unsolved cases (未破)")
    n_solved: int
    strength: float = Field(description="Mean pair probability inside the series (0..1)")
    recency: float = Field(description="0.5 ** (days since the last case / half-life)")
    score: float
    first_at: datetime
    last_at: datetime
    categories: list[str]
    jurisdiction_code: str | None = Field(description="Lead unit (主办): most of the cases")
    jurisdiction_codes: list[str] = Field(description="Every unit holding a case of it")
    created_at: datetime = Field(description="When the linkage run found it")
    model_version: str
    lon: float | None
    lat: float | None


class SeriesPage(BaseModel):
    """A page of series; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[SeriesItem]
    next_cursor: str | None


class SeriesCase(BaseModel):
    """A case of a series, in time order (``order`` 1 = first)."""

    case_id: str
    order: int
    category: str
    occurred_from: datetime
    occurred_to: datetime
    lon: float
    lat: float
    jurisdiction_code: str | None
    status: Literal["filed", "solved"]
    entry_method: str | None = None
    target: str | None = None
    tools: str | None = None
    time_of_day: str | None = None


class PairEvidence(BaseModel):
    """Why two cases of the series are linked (串并理由), strongest pairs first."""

    case_a: str
    case_b: str
    probability: float
    reasons_zh: list[str]
    reasons_en: list[str]


class LinkedCase(BaseModel):
    """A likely linked case of a lead, with the evidence and its suspects (pseudonyms)."""

    case_id: str
    status: Literal["filed", "solved"]
    probability: float
    reasons_zh: list[str]
    reasons_en: list[str]
    suspects: list[str] | None = Field(
        description="Pseudonyms of the linked solved case's suspects; null when hidden from "
        "this role (series.leads)"
    )


class SeriesLead(BaseModel):
    """A lead (串并线索) for an unsolved case of the series."""

    finding_id: int
    case_id: str
    level: LevelName
    title: str
    linked: list[LinkedCase]


class SeriesDetail(SeriesItem):
    """A series with its cases in time order, the evidence per pair and the leads."""

    explanation: str
    suggested_action: str
    cases: list[SeriesCase]
    pairs: list[PairEvidence]
    leads: list[SeriesLead]
    suspects_hidden: bool = Field(
        description="True when the leads' suspects are withheld from this role"
    )
    instruction_id: int | None = Field(description="The instruction made from it, if any")
