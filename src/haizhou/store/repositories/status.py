"""Database status (数据库状态) for the health check and ``haizhou db current``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haizhou.store.migrate import head, revision_of
from haizhou.store.tables import CaseRow, IncidentRow, JurisdictionRow, SensorRow

_COUNTED = {
    "incidents": IncidentRow,
    "cases": CaseRow,
    "jurisdictions": JurisdictionRow,
    "sensors": SensorRow,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseStatus:
    """What the database holds and whether its schema matches this version of Haizhou.

    ``counts`` is ``None`` when the schema is not at ``expected_revision`` (the tables may not
    exist or may differ); otherwise it maps ``incidents``, ``cases``, ``jurisdictions`` and
    ``sensors`` to row counts over every jurisdiction.
    """

    backend: str
    revision: str | None
    expected_revision: str
    counts: dict[str, int] | None

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.expected_revision


def database_status(*, session: Session) -> DatabaseStatus:
    """Read the schema revision and, if it is current, the main tables' row counts.

    Raises whatever the driver raises when the database does not answer
    (:class:`sqlalchemy.exc.OperationalError`); the caller decides how to report it.
    """
    connection = session.connection()
    revision = revision_of(connection)
    expected = head()
    counts = None
    if revision == expected:
        counts = {
            name: session.scalar(select(func.count()).select_from(row)) or 0
            for name, row in _COUNTED.items()
        }
    return DatabaseStatus(
        backend=connection.dialect.name,
        revision=revision,
        expected_revision=expected,
        counts=counts,
    )
