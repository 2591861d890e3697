"""Airspace security tables (低空安保): sensor messages, tracks, alerts, incidents, countermeasures.

Every sensor message is kept as received (``airspace_messages``), with its receive time and, once
the pipeline has read it, the decode result and the processing time. Tracks are the live picture
written by ``haizhou airspace run`` (one row per track and run); alerts, incidents with their
timeline, and countermeasure decisions are the record of what happened and who decided.
Zones, permits and the protected site are the control register the pipeline and the API read.

Drone serial numbers are device identifiers: only their keyed pseudonym and masked form are
stored outside the raw message payload (DESIGN.md, Storage).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base, JSONType, UTCDateTime

__all__ = [
    "AirspaceAlertRow",
    "AirspaceCountermeasureRow",
    "AirspaceIncidentRow",
    "AirspaceMessageRow",
    "AirspacePermitRow",
    "AirspaceSiteRow",
    "AirspaceTimelineRow",
    "AirspaceTrackRow",
    "AirspaceZoneRow",
]


class AirspaceMessageRow(Base):
    """One sensor message as received (传感器报文), from MQTT or HTTP."""

    __tablename__ = "airspace_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    transport: Mapped[str] = mapped_column(String(10))  # mqtt | http
    sensor_id: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # remoteid | adsb | radar | rf
    topic: Mapped[str | None] = mapped_column(String(300))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    decoded: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    track_row_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_airspace_messages_pending", "transport", "processed_at"),)


class AirspaceTrackRow(Base):
    """A track of the live picture (航迹): latest state, class, authorisation and threat."""

    __tablename__ = "airspace_tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(40))
    track_id: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    active: Mapped[bool] = mapped_column(default=True, index=True)
    label: Mapped[str] = mapped_column(String(20))  # drone | bird | manned | unknown
    confidence: Mapped[float] = mapped_column(Float)
    authorisation: Mapped[str] = mapped_column(String(20))
    threat_score: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(10))
    distance_m: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    alt_m: Mapped[float] = mapped_column(Float)
    speed_mps: Mapped[float] = mapped_column(Float)
    heading_deg: Mapped[float] = mapped_column(Float)
    state: Mapped[list[float]] = mapped_column(JSONType)  # [x, y, z, vx, vy, vz], local metres
    sensors: Mapped[dict[str, int]] = mapped_column(JSONType)
    reasons: Mapped[list[str]] = mapped_column(JSONType)
    zones: Mapped[list[str]] = mapped_column(JSONType)
    permit_id: Mapped[str | None] = mapped_column(String(100))
    serial_pseudonym: Mapped[str | None] = mapped_column(String(64), index=True)
    serial_masked: Mapped[str | None] = mapped_column(String(64))
    pilot_lon: Mapped[float | None] = mapped_column(Float)
    pilot_lat: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (UniqueConstraint("run_id", "track_id"),)


class AirspaceAlertRow(Base):
    """An alert (告警): a track became unauthorised or in violation, or its level rose to red."""

    __tablename__ = "airspace_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    track_row_id: Mapped[int] = mapped_column(ForeignKey("airspace_tracks.id"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    message_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))  # unauthorised | violation | red
    level: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[str]] = mapped_column(JSONType)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)


class AirspaceIncidentRow(Base):
    """An airspace incident (空域事件): one track from detection to resolution."""

    __tablename__ = "airspace_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    track_row_id: Mapped[int] = mapped_column(ForeignKey("airspace_tracks.id"), unique=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    serial_masked: Mapped[str | None] = mapped_column(String(64))
    pilot_lon: Mapped[float | None] = mapped_column(Float)
    pilot_lat: Mapped[float | None] = mapped_column(Float)


class AirspaceTimelineRow(Base):
    """One timeline stage of an incident (时间线): detected … resolved, first time only."""

    __tablename__ = "airspace_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("airspace_incidents.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("incident_id", "stage"),)


class AirspaceCountermeasureRow(Base):
    """A countermeasure request and its decision (反制请求与决策) with the outcome."""

    __tablename__ = "airspace_countermeasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    track_row_id: Mapped[int] = mapped_column(ForeignKey("airspace_tracks.id"), index=True)
    effector: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30), index=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    threat_level: Mapped[str | None] = mapped_column(String(10))
    refusals: Mapped[list[dict[str, str]]] = mapped_column(JSONType)
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_id: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class AirspaceZoneRow(Base):
    """A controlled zone (管控区域): no-fly, event, school, airport approach, hospital."""

    __tablename__ = "airspace_zones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    polygon: Mapped[list[list[float]]] = mapped_column(JSONType)  # [[lon, lat], ...]
    floor_m: Mapped[float] = mapped_column(Float)
    ceiling_m: Mapped[float] = mapped_column(Float)
    active: Mapped[list[list[str]]] = mapped_column(JSONType)  # [[from, to] ISO-8601], [] = always


class AirspacePermitRow(Base):
    """A flight permit (飞行许可); the drone serial only as pseudonym and masked form."""

    __tablename__ = "airspace_permits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    permit_id: Mapped[str] = mapped_column(String(100), unique=True)
    serial_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    serial_masked: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(200))
    polygon: Mapped[list[list[float]]] = mapped_column(JSONType)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)
    min_alt_m: Mapped[float] = mapped_column(Float)
    max_alt_m: Mapped[float] = mapped_column(Float)


class AirspaceSiteRow(Base):
    """The protected site (保护目标) the threat is scored against, and the local origin."""

    __tablename__ = "airspace_sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
