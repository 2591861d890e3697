"""Model runs (模型运行记录): one row per run of a model, by hand or by the scheduler.

Every run is recorded, successful or not, with its parameters, data window, timing, the number
of findings it stored and, for a failed run, the error text. The scheduler reads
``scheduled_for`` (the schedule slot a run was made for) to know what is still due.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base, JSONType, UTCDateTime


class ModelRunRow(Base):
    """One run of a model (模型运行).

    ``status`` is ``"ok"`` or ``"error"``; ``trigger`` is ``"manual"`` (CLI, API) or
    ``"schedule"``; ``scheduled_for`` is the schedule slot (UTC) for scheduled runs, else NULL.
    ``duration_s`` is wall-clock seconds from start to finish.
    """

    __tablename__ = "model_runs"
    __table_args__ = (
        Index("ix_model_runs_model_started", "model_id", "started_at"),
        Index("ix_model_runs_model_slot", "model_id", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[float] = mapped_column(Float)
    n_findings: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
