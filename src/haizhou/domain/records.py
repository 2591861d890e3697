"""Records every part of Haizhou shares (领域记录). Plain frozen data; no I/O.

Coordinates are WGS-84 ``lon``, ``lat`` in degrees, longitude first. Times are timezone-aware
UTC :class:`datetime.datetime`. Personal identifiers never appear in clear: a record holds the
keyed pseudonym (for joining) and the masked display form (for people), see
:mod:`haizhou.security.pseudonym`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from haizhou.domain.enums import (
    CaseStatus,
    InstructionStatus,
    Level,
    RegistrationType,
    SensorKind,
    SensorStatus,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Jurisdiction:
    """A police unit's area (辖区): a station (派出所) and the bureau above it.

    ``geometry`` is a GeoJSON geometry mapping (Polygon or MultiPolygon) in WGS-84.
    """

    code: str
    name: str
    station: str
    parent_code: str | None = None
    geometry: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """A call for service (警情)."""

    id: str
    source: str
    reported_at: datetime
    category: str
    subcategory: str | None = None
    lon: float
    lat: float
    address: str | None = None
    caller_pseudonym: str | None = None
    caller_masked: str | None = None
    summary: str | None = None
    disposition: str | None = None
    jurisdiction_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModusOperandi:
    """Modus-operandi attributes of a case (作案手段). ``None`` means not recorded."""

    entry_method: str | None = None  # 侵入方式, e.g. 撬锁
    target: str | None = None  # 侵害目标
    tools: str | None = None  # 作案工具
    time_of_day: str | None = None  # 作案时段
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """A recorded crime (案件) with its occurrence window (发案时间起/止)."""

    id: str
    source: str
    category: str
    occurred_from: datetime
    occurred_to: datetime
    lon: float
    lat: float
    incident_id: str | None = None
    subcategory: str | None = None
    address: str | None = None
    mo: ModusOperandi = field(default_factory=ModusOperandi)
    property_taken: str | None = None
    loss_amount: float | None = None
    narrative: str | None = None
    status: CaseStatus = CaseStatus.FILED
    solved_at: datetime | None = None
    suspect_pseudonyms: tuple[str, ...] = ()
    jurisdiction_code: str | None = None

    def __post_init__(self) -> None:
        if self.occurred_to < self.occurred_from:
            raise ValueError(
                f"Case {self.id!r}: occurrence window ends ({self.occurred_to.isoformat()}) "
                f"before it starts ({self.occurred_from.isoformat()})."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Sensor:
    """A sensing point (感知点位). ``range_m``, ``heading_deg`` and ``fov_deg`` describe coverage."""

    id: str
    kind: SensorKind
    lon: float
    lat: float
    range_m: float | None = None
    heading_deg: float | None = None
    fov_deg: float | None = None
    status: SensorStatus = SensorStatus.ACTIVE
    jurisdiction_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """A pseudonymised registry record (人口登记). No name, no clear identifier, no biometrics."""

    pseudonym: str
    masked_id: str
    registration: RegistrationType
    residence_lon: float | None = None
    residence_lat: float | None = None
    residence_address: str | None = None
    age_band: str | None = None  # e.g. "30-39"
    occupation: str | None = None
    registered_at: datetime | None = None
    jurisdiction_code: str | None = None


PERSONAL_EVIDENCE_KEYS: tuple[str, ...] = ("person_pseudonyms",)
"""Keys of :attr:`Finding.evidence` that name people (pseudonyms): personal data, so every read
of them through an interface is audited."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """What a model found (研判发现), levelled and explained.

    ``geometry`` is a GeoJSON geometry mapping; ``evidence`` holds numbers and record ids.
    """

    kind: str
    title: str
    level: Level
    geometry: dict[str, Any]
    window_start: datetime
    window_end: datetime
    explanation: str
    suggested_action: str
    model_id: str
    model_version: str
    evidence: dict[str, Any] = field(default_factory=dict)
    key: str | None = None  # stable identity: the same hot spot tomorrow has the same key


@dataclass(frozen=True, slots=True, kw_only=True)
class Instruction:
    """A finding handed to a unit (指令) with its deadline and lifecycle state."""

    id: str
    title: str
    level: Level
    jurisdiction_code: str
    deadline: datetime
    status: InstructionStatus = InstructionStatus.ISSUED
    finding_id: str | None = None
    assisting_codes: tuple[str, ...] = ()
    assignee: str | None = None
    created_at: datetime | None = None
