"""Schemas of the jobs API (后台作业): imports, model runs and reports on the work queue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["queued", "running", "done", "failed"]


class JobItem(BaseModel):
    """One job as the ``jobs`` table records it."""

    id: str
    kind: Literal["import", "model", "report", "probe"]
    params: dict[str, Any]
    status: JobStatus
    attempts: int = Field(description="Deliveries a worker started")
    submitted_by: str | None
    submitted_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_s: float | None
    worker: str | None
    result: dict[str, Any] | None
    error: str | None


class JobPage(BaseModel):
    """A page of jobs, most recently submitted first."""

    items: list[JobItem]
    next_cursor: str | None


class ImportParams(BaseModel):
    """Import one file already on the server, under the data folder's ``inbox/``."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        min_length=1, max_length=40, description="Record kind, as `haizhou import --kind`"
    )
    path: str = Field(
        min_length=1,
        max_length=500,
        description="File path relative to <data_dir>/inbox (no '..')",
    )
    source: str | None = Field(default=None, max_length=100)
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    encoding: str | None = Field(default=None, max_length=40)
    column_map: dict[str, str] | None = None


class ModelParams(BaseModel):
    """Run one model of the library over a window (default: its schedule's last window)."""

    model_config = ConfigDict(extra="forbid")

    model_id: str = Field(min_length=1, max_length=100)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ReportParams(BaseModel):
    """Generate one bureau-wide report into ``<data_dir>/reports``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["daily", "weekly", "monthly"]
    date: dt.date
    lang: Literal["zh", "en"] = "zh"
    format: Literal["html", "pdf"] = "pdf"


class ImportJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["import"]
    params: ImportParams


class ModelJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["model"]
    params: ModelParams


class ReportJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["report"]
    params: ReportParams


JobRequest = Annotated[
    ImportJobRequest | ModelJobRequest | ReportJobRequest, Field(discriminator="kind")
]
"""``POST /api/jobs`` body: ``{"kind": "import"|"model"|"report", "params": {...}}``."""
