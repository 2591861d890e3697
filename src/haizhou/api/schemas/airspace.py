"""Schemas of the live airspace API (低空安保): messages, tracks, alerts, countermeasures."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from haizhou.api.schemas.map import FeatureCollection

__all__ = [
    "AlertPage",
    "AlertPublic",
    "CountermeasureIn",
    "CountermeasurePage",
    "CountermeasurePublic",
    "FeatureCollection",
    "MessageAccepted",
    "MessageIn",
    "PermitPublic",
    "TrackPage",
    "TrackPublic",
]

Kind = Literal["remoteid", "remoteid_ble", "remoteid_beacon", "remoteid_nan", "adsb", "radar", "rf"]


class MessageIn(BaseModel):
    """One sensor message posted over HTTP (same content as the MQTT topic and payload)."""

    sensor_id: str = Field(
        min_length=1, max_length=100, pattern=r"^[^/+#]+$", description="传感器编号 (no / + #)"
    )
    kind: Kind = Field(description="remoteid*/adsb: binary as hex in payload_hex; radar/rf: JSON")
    payload_hex: str | None = Field(
        default=None, max_length=4000, description="the raw bytes as hex (binary kinds)"
    )
    payload: dict[str, Any] | None = Field(
        default=None, description="the JSON message (radar, rf); see docs/airspace.md"
    )


class MessageAccepted(BaseModel):
    """The stored message; ``haizhou airspace run`` processes it within its poll interval."""

    id: int
    received_at: datetime


class TrackPublic(BaseModel):
    """A track of the live picture (航迹)."""

    id: int
    track_id: int = Field(description="the tracker's id within its run")
    active: bool
    first_seen: datetime
    last_seen: datetime
    label: str = Field(description="drone | bird | manned | unknown")
    confidence: float
    authorisation: str = Field(description="authorised | unauthorised | violation | not_applicable")
    reasons: list[str]
    zones: list[str]
    permit_id: str | None
    threat_score: float
    level: str
    distance_m: float
    lon: float
    lat: float
    alt_m: float
    speed_mps: float
    heading_deg: float
    sensors: dict[str, int]
    serial_masked: str | None = Field(description="无人机序列号(脱敏) — masked serial")
    pilot_lon: float | None = Field(description="飞手位置 — operator position (Remote ID)")
    pilot_lat: float | None


class TrackPage(BaseModel):
    items: list[TrackPublic]
    next_cursor: str | None


class AlertPublic(BaseModel):
    """An alert (告警)."""

    id: int
    track_id: int = Field(description="the track's id (TrackPublic.id)")
    raised_at: datetime
    kind: str = Field(description="unauthorised | violation | red")
    level: str
    title: str
    reasons: list[str]
    lon: float
    lat: float


class AlertPage(BaseModel):
    items: list[AlertPublic]
    next_cursor: str | None


class PermitPublic(BaseModel):
    """A flight permit (飞行许可)."""

    permit_id: str
    serial_masked: str
    operator: str
    polygon: list[list[float]]
    valid_from: datetime
    valid_to: datetime
    min_alt_m: float
    max_alt_m: float


class CountermeasureIn(BaseModel):
    """One action: the track and the effector (jammer, takeover, net)."""

    track_id: int = Field(ge=1, le=2**31 - 1, description="TrackPublic.id")
    effector: str = Field(min_length=1, max_length=40)


class CountermeasurePublic(BaseModel):
    """A countermeasure request, its decision and outcome (反制决策)."""

    id: int
    track_id: int
    effector: str
    status: str = Field(description="pending_confirmation | refused | executed | failed")
    requested_by: str
    requested_at: datetime
    threat_level: str | None
    refusals: list[dict[str, str]]
    confirmed_by: str | None
    confirmed_at: datetime | None
    decision_id: str | None
    outcome: dict[str, Any] | None


class CountermeasurePage(BaseModel):
    items: list[CountermeasurePublic]
    next_cursor: str | None
