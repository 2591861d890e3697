"""Records and enums every part shares. No I/O."""

from haizhou.domain.enums import (
    CaseStatus,
    InstructionStatus,
    Level,
    RegistrationType,
    Schedule,
    SensorKind,
    SensorStatus,
)
from haizhou.domain.records import (
    PERSONAL_EVIDENCE_KEYS,
    Case,
    Finding,
    Incident,
    Instruction,
    Jurisdiction,
    ModusOperandi,
    Person,
    Sensor,
)

__all__ = [
    "PERSONAL_EVIDENCE_KEYS",
    "Case",
    "CaseStatus",
    "Finding",
    "Incident",
    "Instruction",
    "InstructionStatus",
    "Jurisdiction",
    "Level",
    "ModusOperandi",
    "Person",
    "RegistrationType",
    "Schedule",
    "Sensor",
    "SensorKind",
    "SensorStatus",
]
