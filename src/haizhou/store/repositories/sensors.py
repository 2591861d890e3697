"""Sensing points (感知点位): cameras, plate readers, probes, radars, RF and ADS-B receivers."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from haizhou.domain import Sensor, SensorKind, SensorStatus
from haizhou.store.repositories._filters import BBox, check_bbox, scope_filter
from haizhou.store.tables import SensorRow

_RECORD_COLUMNS = (
    SensorRow.source_id,
    SensorRow.kind,
    SensorRow.lon,
    SensorRow.lat,
    SensorRow.range_m,
    SensorRow.heading_deg,
    SensorRow.fov_deg,
    SensorRow.status,
    SensorRow.jurisdiction_code,
)


def _filters(
    *,
    scope: Collection[str] | None,
    kind: SensorKind | str | Collection[SensorKind | str] | None,
    status: SensorStatus | str | None,
    bbox: BBox | None,
) -> list[ColumnElement[bool]]:
    conditions = [scope_filter(SensorRow.jurisdiction_code, scope)]
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        conditions.append(SensorRow.kind.in_(sorted({SensorKind(k).value for k in kinds})))
    if status is not None:
        conditions.append(SensorRow.status == SensorStatus(status).value)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = check_bbox(bbox)
        conditions += [
            SensorRow.lon.between(min_lon, max_lon),
            SensorRow.lat.between(min_lat, max_lat),
        ]
    return conditions


def list_sensors(
    *,
    session: Session,
    scope: Collection[str] | None,
    kind: SensorKind | str | Collection[SensorKind | str] | None = None,
    status: SensorStatus | str | None = None,
    bbox: BBox | None = None,
) -> list[Sensor]:
    """Sensing points the caller may see, ordered by source and id.

    Parameters
    ----------
    session
        An open SQLAlchemy session.
    scope
        Jurisdiction codes the caller may see; ``None`` for all.
    kind
        One :class:`~haizhou.domain.SensorKind` or several; ``None`` for all.
        An unknown kind raises ``ValueError``.
    status
        ``"active"``, ``"fault"`` or ``"retired"``; ``None`` for all.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS-84 degrees, edges included.
    """
    conditions = _filters(scope=scope, kind=kind, status=status, bbox=bbox)
    rows = session.execute(
        select(*_RECORD_COLUMNS).where(*conditions).order_by(SensorRow.source, SensorRow.source_id)
    ).all()
    return [to_sensor(row) for row in rows]


def count_sensors(
    *,
    session: Session,
    scope: Collection[str] | None,
    kind: SensorKind | str | Collection[SensorKind | str] | None = None,
    status: SensorStatus | str | None = None,
) -> int:
    """Number of sensing points the caller may see (filters as in :func:`list_sensors`)."""
    conditions = _filters(scope=scope, kind=kind, status=status, bbox=None)
    return session.scalar(select(func.count()).select_from(SensorRow).where(*conditions)) or 0


def to_sensor(row: SensorRow | Row[Any]) -> Sensor:
    """The domain record for a stored sensing point; ``Sensor.id`` is the source's id."""
    return Sensor(
        id=row.source_id,
        kind=SensorKind(row.kind),
        lon=row.lon,
        lat=row.lat,
        range_m=row.range_m,
        heading_deg=row.heading_deg,
        fov_deg=row.fov_deg,
        status=SensorStatus(row.status),
        jurisdiction_code=row.jurisdiction_code,
    )
