"""Incidents (警情) and cases (案件): the large event tables.

Rows are keyed by ``(source, source_id)`` so imports are idempotent; ``content_hash`` tells an
identical re-import (skipped) from a conflicting one (quarantined). Points carry H3 cells at
resolutions 7, 8 and 9 and the owning jurisdiction, computed once at ingest.

Indexes are few on purpose: every index costs the bulk import time. Coarser H3 cells need no
index of their own — the resolution-9 children of one cell are a contiguous id range, so a
range scan on ``h3_r9`` serves them; ``(jurisdiction_code, time)`` serves jurisdiction queries.
No index on ``caller_pseudonym`` (dropped by migration 0013): no query filters by it, the
repeat-caller analyses group the rows of a time window in memory.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base, JSONType, UTCDateTime


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_incidents_jurisdiction_time", "jurisdiction_code", "reported_at"),
        Index("ix_incidents_category_time", "category", "reported_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    category: Mapped[str] = mapped_column(String(100))
    subcategory: Mapped[str | None] = mapped_column(String(100))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    h3_r7: Mapped[int] = mapped_column(BigInteger)
    h3_r8: Mapped[int] = mapped_column(BigInteger)
    h3_r9: Mapped[int] = mapped_column(BigInteger, index=True)
    jurisdiction_code: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)
    caller_pseudonym: Mapped[str | None] = mapped_column(String(64))
    caller_masked: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(Text)
    disposition: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(Integer)


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_cases_jurisdiction_time", "jurisdiction_code", "occurred_from"),
        Index("ix_cases_category_time", "category", "occurred_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))
    incident_source_id: Mapped[str | None] = mapped_column(String(100), index=True)
    category: Mapped[str] = mapped_column(String(100))
    subcategory: Mapped[str | None] = mapped_column(String(100))
    occurred_from: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    occurred_to: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    h3_r7: Mapped[int] = mapped_column(BigInteger)
    h3_r8: Mapped[int] = mapped_column(BigInteger)
    h3_r9: Mapped[int] = mapped_column(BigInteger, index=True)
    jurisdiction_code: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)
    mo_entry_method: Mapped[str | None] = mapped_column(String(100))
    mo_target: Mapped[str | None] = mapped_column(String(100))
    mo_tools: Mapped[str | None] = mapped_column(String(100))
    mo_time_of_day: Mapped[str | None] = mapped_column(String(100))
    mo_extra: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    property_taken: Mapped[str | None] = mapped_column(Text)
    loss_amount: Mapped[float | None] = mapped_column(Float)
    narrative: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="filed", index=True)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspect_pseudonyms: Mapped[list[str] | None] = mapped_column(JSONType)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(Integer)
