"""Filters every repository shares: jurisdiction scope, time window, bounding box."""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute

BBox = tuple[float, float, float, float]
"""A WGS-84 bounding box ``(min_lon, min_lat, max_lon, max_lat)`` in degrees, longitude first."""


def scope_filter(
    column: InstrumentedAttribute[str | None], scope: Collection[str] | None
) -> ColumnElement[bool]:
    """Rows whose jurisdiction is in ``scope`` (辖区范围); ``None`` means every jurisdiction.

    An empty scope matches nothing, and rows without a jurisdiction only match ``None``: a user
    limited to some stations never sees unassigned records.

    Raises
    ------
    TypeError
        If ``scope`` is a single string (it would otherwise be read as a set of characters).
    """
    if scope is None:
        return true()
    if isinstance(scope, str | bytes):
        raise TypeError(
            f"scope must be a collection of jurisdiction codes, not the string {scope!r}; "
            f"pass [{scope!r}]"
        )
    codes = sorted(set(scope))
    if not codes:
        return false()
    return column.in_(codes)


def check_window(start: datetime, end: datetime) -> None:
    """Refuse naive datetimes and empty windows; the window is half-open ``[start, end)``."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime):
            raise TypeError(f"{name} must be a datetime; got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{name}={value.isoformat()} has no time zone; attach one "
                "(e.g. datetime(..., tzinfo=ZoneInfo('Asia/Shanghai')) or UTC)"
            )
    if end <= start:
        raise ValueError(
            f"time window is empty: end ({end.isoformat()}) must be after start ({start.isoformat()})"
        )


def check_bbox(bbox: BBox) -> BBox:
    """Validate ``(min_lon, min_lat, max_lon, max_lat)`` and return it as floats."""
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise ValueError(
            f"bbox must be four numbers (min_lon, min_lat, max_lon, max_lat); got {bbox!r}"
        ) from None
    values = (min_lon, min_lat, max_lon, max_lat)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"bbox must be finite; got {bbox!r}")
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ValueError(
            f"bbox {bbox!r} is not (min_lon, min_lat, max_lon, max_lat) in WGS-84 degrees "
            "with min <= max; longitude comes first"
        )
    return values


def one_or_many(value: str | Collection[str]) -> list[str]:
    """A category (or kind, level...) filter given as one value or several."""
    if isinstance(value, str):
        return [value]
    return sorted(set(value))
