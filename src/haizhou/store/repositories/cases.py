"""Recorded crimes (案件): counts, records and the analytics frame, filtered by scope.

Same shape as :mod:`haizhou.store.repositories.incidents`. A case carries an occurrence window
(发案时间起/止); the time filter selects on its start, ``start <= occurred_from < end``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from haizhou.domain import Case, CaseStatus, ModusOperandi
from haizhou.store.repositories._filters import (
    BBox,
    check_bbox,
    check_window,
    one_or_many,
    scope_filter,
)
from haizhou.store.repositories._frames import build_frame, keyset_pages, raw_time_column
from haizhou.store.tables import CaseRow

FRAME_COLUMNS = (
    "source",
    "source_id",
    "occurred_from",
    "occurred_to",
    "lon",
    "lat",
    "category",
    "status",
    "jurisdiction_code",
    "h3_r7",
    "h3_r8",
    "h3_r9",
)
"""Columns of :func:`case_frame`, in order."""

_TIME_COLUMNS = {"occurred_from", "occurred_to"}
_FRAME_DTYPES: dict[str, str | type] = {
    "source": object,
    "source_id": object,
    "occurred_from": "datetime64[ns, UTC]",
    "occurred_to": "datetime64[ns, UTC]",
    "lon": "float64",
    "lat": "float64",
    "category": object,
    "status": object,
    "jurisdiction_code": object,
    "h3_r7": "int64",
    "h3_r8": "int64",
    "h3_r9": "int64",
}

_RECORD_COLUMNS = (
    CaseRow.id,
    CaseRow.source_id,
    CaseRow.source,
    CaseRow.category,
    CaseRow.subcategory,
    CaseRow.occurred_from,
    CaseRow.occurred_to,
    CaseRow.lon,
    CaseRow.lat,
    CaseRow.incident_source_id,
    CaseRow.address,
    CaseRow.mo_entry_method,
    CaseRow.mo_target,
    CaseRow.mo_tools,
    CaseRow.mo_time_of_day,
    CaseRow.mo_extra,
    CaseRow.property_taken,
    CaseRow.loss_amount,
    CaseRow.narrative,
    CaseRow.status,
    CaseRow.solved_at,
    CaseRow.suspect_pseudonyms,
    CaseRow.jurisdiction_code,
)


def _filters(
    *,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    category: str | Collection[str] | None,
    bbox: BBox | None,
    status: CaseStatus | str | None,
) -> list[ColumnElement[bool]]:
    check_window(start, end)
    conditions = [
        scope_filter(CaseRow.jurisdiction_code, scope),
        CaseRow.occurred_from >= start,
        CaseRow.occurred_from < end,
    ]
    if category is not None:
        conditions.append(CaseRow.category.in_(one_or_many(category)))
    if status is not None:
        conditions.append(CaseRow.status == CaseStatus(status).value)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = check_bbox(bbox)
        conditions += [
            CaseRow.lon.between(min_lon, max_lon),
            CaseRow.lat.between(min_lat, max_lat),
        ]
    return conditions


def count_cases(
    *,
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    category: str | Collection[str] | None = None,
    bbox: BBox | None = None,
    status: CaseStatus | str | None = None,
) -> int:
    """Number of cases (案件数) whose occurrence starts in ``[start, end)``.

    Parameters
    ----------
    session
        An open SQLAlchemy session.
    scope
        Jurisdiction codes the caller may see; ``None`` for all.
    start, end
        Timezone-aware bounds of ``occurred_from``, half-open.
    category
        One category or several; ``None`` for all.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS-84 degrees, edges included.
    status
        ``"filed"`` (立案) or ``"solved"`` (破案); ``None`` for both.
    """
    conditions = _filters(
        scope=scope, start=start, end=end, category=category, bbox=bbox, status=status
    )
    return session.scalar(select(func.count()).select_from(CaseRow).where(*conditions)) or 0


def iter_cases(
    *,
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    category: str | Collection[str] | None = None,
    bbox: BBox | None = None,
    status: CaseStatus | str | None = None,
    chunk_size: int = 5000,
) -> Iterator[Case]:
    """Cases as :class:`~haizhou.domain.Case` records, in ``occurred_from`` order.

    Read ``chunk_size`` rows at a time (keyset pagination on ``(occurred_from, id)``).
    ``Case.id`` is the source's own id; ``Case.incident_id`` the linked incident's source id.
    """
    conditions = _filters(
        scope=scope, start=start, end=end, category=category, bbox=bbox, status=status
    )
    query = select(*_RECORD_COLUMNS).where(*conditions)
    for row in keyset_pages(session, query, CaseRow.occurred_from, CaseRow.id, chunk_size):
        yield to_case(row)


def case_frame(
    *,
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    category: str | Collection[str] | None = None,
    bbox: BBox | None = None,
    status: CaseStatus | str | None = None,
) -> pd.DataFrame:
    """Cases as a data frame for analytics, one row per case.

    Columns (:data:`FRAME_COLUMNS`): ``source``, ``source_id``, ``occurred_from``,
    ``occurred_to`` (``datetime64[ns, UTC]``), ``lon``, ``lat`` (float64, WGS-84 degrees),
    ``category``, ``status``, ``jurisdiction_code``, ``h3_r7``, ``h3_r8``, ``h3_r9`` (int64).
    No personal identifiers or narratives are included.
    """
    conditions = _filters(
        scope=scope, start=start, end=end, category=category, bbox=bbox, status=status
    )
    columns = [
        raw_time_column(getattr(CaseRow, name), session)
        if name in _TIME_COLUMNS
        else getattr(CaseRow, name)
        for name in FRAME_COLUMNS
    ]
    rows = session.execute(
        select(*columns).where(*conditions).order_by(CaseRow.occurred_from, CaseRow.id)
    ).all()
    return build_frame(rows, _FRAME_DTYPES, time_columns=_TIME_COLUMNS)


def to_case(row: CaseRow | Row[Any]) -> Case:
    """The domain record for a stored case (an ORM row or a row of its record columns)."""
    return Case(
        id=row.source_id,
        source=row.source,
        category=row.category,
        subcategory=row.subcategory,
        occurred_from=row.occurred_from,
        occurred_to=row.occurred_to,
        lon=row.lon,
        lat=row.lat,
        incident_id=row.incident_source_id,
        address=row.address,
        mo=ModusOperandi(
            entry_method=row.mo_entry_method,
            target=row.mo_target,
            tools=row.mo_tools,
            time_of_day=row.mo_time_of_day,
            extra=dict(row.mo_extra or {}),
        ),
        property_taken=row.property_taken,
        loss_amount=row.loss_amount,
        narrative=row.narrative,
        status=CaseStatus(row.status),
        solved_at=row.solved_at,
        suspect_pseudonyms=tuple(row.suspect_pseudonyms or ()),
        jurisdiction_code=row.jurisdiction_code,
    )
