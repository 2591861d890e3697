"""Every table module is imported here, so the metadata is complete whatever a caller imports
first (fastapi/full-stack-fastapi-template#28)."""

from haizhou.store.tables.airspace import AirspaceMessageRow  # noqa: F401  (airspace tables)
from haizhou.store.tables.audit_head import AuditHeadRow
from haizhou.store.tables.base import Base, UTCDateTime
from haizhou.store.tables.events import CaseRow, IncidentRow
from haizhou.store.tables.findings import FindingRow
from haizhou.store.tables.fraud import (  # noqa: F401  (fraud early warnings, outcomes)
    DissuasionOutcomeRow,
    FraudWarningRow,
)
from haizhou.store.tables.geography import JurisdictionRow
from haizhou.store.tables.ingest import ImportBatchRow, QuarantineRow
from haizhou.store.tables.jobs import JobRow  # noqa: F401  (job queue records)
from haizhou.store.tables.models import ModelRunRow
from haizhou.store.tables.security import AuditRow, UserRow
from haizhou.store.tables.sensing import PersonRow, SensorRow
from haizhou.store.tables.sightings import DeviceLinkRow, SightingRow  # noqa: F401  (sightings)
from haizhou.store.tables.tasks import InstructionRow  # noqa: F401  (registers every task table)
from haizhou.store.tables.web import WebSessionRow  # noqa: F401  (log-in sessions)

metadata = Base.metadata

__all__ = [
    "AuditHeadRow",
    "AuditRow",
    "Base",
    "CaseRow",
    "FindingRow",
    "ImportBatchRow",
    "IncidentRow",
    "JurisdictionRow",
    "ModelRunRow",
    "PersonRow",
    "QuarantineRow",
    "SensorRow",
    "UTCDateTime",
    "UserRow",
    "metadata",
]
