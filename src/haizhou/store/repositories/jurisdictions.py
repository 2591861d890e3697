"""Jurisdictions (辖区): the police units' areas, filtered by scope."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from haizhou.domain import Jurisdiction
from haizhou.store.repositories._filters import scope_filter
from haizhou.store.tables import JurisdictionRow

_RECORD_COLUMNS = (
    JurisdictionRow.code,
    JurisdictionRow.name,
    JurisdictionRow.station,
    JurisdictionRow.parent_code,
    JurisdictionRow.geometry,
)


def list_jurisdictions(
    *, session: Session, scope: Collection[str] | None, with_geometry: bool = True
) -> list[Jurisdiction]:
    """Jurisdictions the caller may see, ordered by code.

    Parameters
    ----------
    session
        An open SQLAlchemy session.
    scope
        Jurisdiction codes the caller may see; ``None`` for all.
    with_geometry
        ``False`` leaves ``geometry`` as ``None`` (cheaper for pick lists).
    """
    columns = _RECORD_COLUMNS if with_geometry else _RECORD_COLUMNS[:-1]
    rows = session.execute(
        select(*columns)
        .where(scope_filter(JurisdictionRow.code, scope))
        .order_by(JurisdictionRow.code)
    ).all()
    return [to_jurisdiction(row) for row in rows]


def get_jurisdiction(
    *, session: Session, scope: Collection[str] | None, code: str
) -> Jurisdiction | None:
    """The jurisdiction ``code``, or ``None`` if it does not exist or is outside ``scope``.

    Out of scope and missing look the same, so a caller cannot probe which codes exist.
    """
    row = session.execute(
        select(*_RECORD_COLUMNS).where(
            JurisdictionRow.code == code, scope_filter(JurisdictionRow.code, scope)
        )
    ).one_or_none()
    return None if row is None else to_jurisdiction(row)


def count_jurisdictions(*, session: Session, scope: Collection[str] | None) -> int:
    """Number of jurisdictions the caller may see."""
    query = select(func.count()).select_from(JurisdictionRow)
    return session.scalar(query.where(scope_filter(JurisdictionRow.code, scope))) or 0


def to_jurisdiction(row: JurisdictionRow | Row[Any]) -> Jurisdiction:
    """The domain record for a stored jurisdiction."""
    return Jurisdiction(
        code=row.code,
        name=row.name,
        station=row.station,
        parent_code=row.parent_code,
        geometry=getattr(row, "geometry", None),
    )
