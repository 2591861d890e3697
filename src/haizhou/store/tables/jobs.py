"""Queued jobs (后台作业): one row per job submitted to the NATS JetStream work queue.

The row is the job's record and its idempotency key: a worker marks it ``running``, does the
job's work and marks it ``done`` with its result **in the same transaction** as the work's own
writes where the work allows it (model runs). A redelivered job whose row is already ``done``
is acknowledged without running again, so a job's effect happens once even when a worker dies
between its commit and its acknowledgement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base, JSONType, UTCDateTime


class JobRow(Base):
    """One job (作业).

    ``status`` is ``queued``, ``running``, ``done`` or ``failed``; ``attempts`` counts
    deliveries a worker started; ``result`` is the job's JSON result once ``done``.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_submitted", "status", "submitted_at"),
        Index("ix_jobs_submitted", "submitted_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    worker: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
