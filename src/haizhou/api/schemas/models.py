"""Schemas of the model-library API (模型库)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class LastRun(BaseModel):
    """The latest run of a model."""

    at: datetime
    status: Literal["ok", "error"]
    n_findings: int
    duration_s: float


class ModelItem(BaseModel):
    """A model of the library: built-in, plug-in or an analyst's YAML rule."""

    id: str
    version: str
    title_zh: str
    title_en: str
    schedule: str
    source: str
    finding_kinds: list[str]
    last_run: LastRun | None


class RunOut(BaseModel):
    """One run (运行记录): window, timing, findings stored, error text for a failed run."""

    run_id: int | None
    model_id: str
    model_version: str
    params: dict[str, Any]
    window_start: datetime
    window_end: datetime
    started_at: datetime
    finished_at: datetime
    duration_s: float
    n_findings: int
    status: Literal["ok", "error"]
    error: str | None
    trigger: str
    scheduled_for: datetime | None
    finding_ids: list[int] = Field(default_factory=list)
    instructions: dict[str, int] | None = Field(
        default=None,
        description="For a run made here: its findings by instruction outcome (issued, "
        "pending, updated, unchanged, ignored)",
    )
    unrouted_findings: list[int] = Field(
        default_factory=list, description="Findings outside every unit, not turned into one"
    )


class ModelDetail(ModelItem):
    """A model with its card, parameter schema and recent runs."""

    card: dict[str, Any] | None
    params_schema: dict[str, Any]
    runs: list[RunOut]


class RunRequest(BaseModel):
    """Run a model now over ``[start, end)`` (default: the last full period of its schedule)."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
