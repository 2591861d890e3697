"""Sensing points (感知点位) and the pseudonymised population registry (人口登记)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base, JSONType, UTCDateTime


class SensorRow(Base):
    __tablename__ = "sensors"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    h3_r9: Mapped[int] = mapped_column(BigInteger, index=True)
    range_m: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    fov_deg: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="active")
    jurisdiction_code: Mapped[str | None] = mapped_column(String(64), index=True)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(Integer)


class PersonRow(Base):
    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    masked_id: Mapped[str] = mapped_column(String(64))
    registration: Mapped[str] = mapped_column(String(20), index=True)
    residence_lon: Mapped[float | None] = mapped_column(Float)
    residence_lat: Mapped[float | None] = mapped_column(Float)
    residence_address: Mapped[str | None] = mapped_column(Text)
    age_band: Mapped[str | None] = mapped_column(String(20))
    occupation: Mapped[str | None] = mapped_column(String(100))
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    jurisdiction_code: Mapped[str | None] = mapped_column(String(64), index=True)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(Integer)
