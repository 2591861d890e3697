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
