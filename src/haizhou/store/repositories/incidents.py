"""Incidents (警情): counts, records and the analytics frame, filtered by scope.

Every function is keyword-only and takes ``session`` and ``scope`` (the jurisdiction codes the
caller may see; ``None`` = all, see :func:`~haizhou.store.repositories._filters.scope_filter`).
Times select ``start <= reported_at < end``; both must be timezone-aware.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from haizhou.domain import Incident
from haizhou.store.repositories._filters import (
    BBox,
    check_bbox,
    check_window,
    one_or_many,
    scope_filter,
)
from haizhou.store.repositories._frames import build_frame, keyset_pages, raw_time_column
from haizhou.store.tables import IncidentRow

FRAME_COLUMNS = (
    "source",
    "source_id",
    "reported_at",
    "lon",
    "lat",
    "category",
    "jurisdiction_code",
    "h3_r7",
    "h3_r8",
    "h3_r9",
)
"""Columns of :func:`incident_frame`, in order."""

_FRAME_DTYPES: dict[str, str | type] = {
    "source": object,
    "source_id": object,
    "reported_at": "datetime64[ns, UTC]",
    "lon": "float64",
    "lat": "float64",
    "category": object,
    "jurisdiction_code": object,
    "h3_r7": "int64",
    "h3_r8": "int64",
    "h3_r9": "int64",
}

# Plain column rows, not ORM objects: iterating never fills the caller's identity map.
_RECORD_COLUMNS = (
    IncidentRow.id,
    IncidentRow.source_id,
    IncidentRow.source,
    IncidentRow.reported_at,
    IncidentRow.category,
    IncidentRow.subcategory,
    IncidentRow.lon,
    IncidentRow.lat,
    IncidentRow.address,
    IncidentRow.caller_pseudonym,
    IncidentRow.caller_masked,
    IncidentRow.summary,
    IncidentRow.disposition,
    IncidentRow.jurisdiction_code,
)


def _filters(
    *,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    category: str | Collection[str] | None,
    bbox: BBox | None,
) -> list[ColumnElement[bool]]:
    check_window(start, end)
    conditions = [
        scope_filter(IncidentRow.jurisdiction_code, scope),
        IncidentRow.reported_at >= start,
        IncidentRow.reported_at < end,
    ]
    if category is not None:
        conditions.append(IncidentRow.category.in_(one_or_many(category)))
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = check_bbox(bbox)
        conditions += [
            IncidentRow.lon.between(min_lon, max_lon),
            IncidentRow.lat.between(min_lat, max_lat),
        ]
    return conditions


def count_incidents(
    *,
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    category: str | Collection[str] | None = None,
    bbox: BBox | None = None,
) -> int:
    """Number of incidents (警情数) in the window, scope, categories and bounding box.

    Parameters
    ----------
    session
        An open SQLAlchemy session.
    scope
        Jurisdiction codes the caller may see; ``None`` for all.
    start, end
        Timezone-aware bounds of ``reported_at``, half-open ``[start, end)``.
    category
        One category or several; ``None`` for all.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS-84 degrees, edges included.
    """
    conditions = _filters(scope=scope, start=start, end=end, category=category, bbox=bbox)
    return session.scalar(select(func.count()).select_from(IncidentRow).where(*conditions)) or 0


def iter_incidents(
    *,
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    category: str | Collection[str] | None = None,
    bbox: BBox | None = None,
    chunk_size: int = 5000,
) -> Iterator[Incident]:
    """Incidents as :class:`~haizhou.domain.Incident` records, in ``reported_at`` order.

    Rows are read ``chunk_size`` at a time by keyset pagination on ``(reported_at, id)``, so
    memory stays bounded and no server-side cursor is held between chunks. Parameters as in
    :func:`count_incidents`; ``Incident.id`` is the source's own id (``source_id``).
    """
    conditions = _filters(scope=scope, start=start, end=end, category=category, bbox=bbox)
    query = select(*_RECORD_COLUMNS).where(*conditions)
    for row in keyset_pages(session, query, IncidentRow.reported_at, IncidentRow.id, chunk_size):
        yield to_incident(row)


def incident_frame(
    *,
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    category: str | Collection[str] | None = None,
    bbox: BBox | None = None,
) -> pd.DataFrame:
    """Incidents as a data frame for analytics (分析数据框), one row per incident.

    Columns (:data:`FRAME_COLUMNS`): ``source``, ``source_id`` (str), ``reported_at``
    (``datetime64[ns, UTC]``), ``lon``, ``lat`` (float64, WGS-84 degrees), ``category``,
    ``jurisdiction_code`` (str or None), ``h3_r7``, ``h3_r8``, ``h3_r9`` (int64 H3 cell ids).
    Sorted by ``reported_at`` then insertion order. No personal identifiers are included.
    Parameters as in :func:`count_incidents`.
    """
    conditions = _filters(scope=scope, start=start, end=end, category=category, bbox=bbox)
    columns = [
        raw_time_column(IncidentRow.reported_at, session)
        if name == "reported_at"
        else getattr(IncidentRow, name)
        for name in FRAME_COLUMNS
    ]
    rows = session.execute(
        select(*columns).where(*conditions).order_by(IncidentRow.reported_at, IncidentRow.id)
    ).all()
    return build_frame(rows, _FRAME_DTYPES, time_columns={"reported_at"})


def to_incident(row: IncidentRow | Row[Any]) -> Incident:
    """The domain record for a stored incident (an ORM row or a row of :data:`_RECORD_COLUMNS`)."""
    return Incident(
        id=row.source_id,
        source=row.source,
        reported_at=row.reported_at,
        category=row.category,
        subcategory=row.subcategory,
        lon=row.lon,
        lat=row.lat,
        address=row.address,
        caller_pseudonym=row.caller_pseudonym,
        caller_masked=row.caller_masked,
        summary=row.summary,
        disposition=row.disposition,
        jurisdiction_code=row.jurisdiction_code,
    )
