"""Fixtures for the analytics built-in models: incidents at any point, with address and caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pytest
from sqlalchemy.orm import Session

from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.store.tables import IncidentRow


@dataclass(frozen=True)
class Point:
    """One incident to store; ``code`` is the jurisdiction (None: none)."""

    at: datetime
    lon: float
    lat: float
    category: str = "盗窃"
    code: str | None = None
    address: str | None = None
    caller: str | None = None
    caller_masked: str | None = None


AddPoints = Callable[[Session, list[Point]], None]


@pytest.fixture
def add_points() -> AddPoints:
    """``add_points(session, [Point(...), ...])``: store and commit the incidents."""
    counter = iter(range(10_000_000))

    def add(session: Session, points: list[Point]) -> None:
        lon = np.array([p.lon for p in points])
        lat = np.array([p.lat for p in points])
        cells = {r: cells_from_lonlat(lon, lat, r).reshape(-1) for r in (7, 8, 9)}
        for i, p in enumerate(points):
            session.add(
                IncidentRow(
                    source="test",
                    source_id=f"T{next(counter)}",
                    reported_at=p.at,
                    category=p.category,
                    lon=p.lon,
                    lat=p.lat,
                    h3_r7=int(cells[7][i]),
                    h3_r8=int(cells[8][i]),
                    h3_r9=int(cells[9][i]),
                    jurisdiction_code=p.code,
                    address=p.address,
                    caller_pseudonym=p.caller,
                    caller_masked=p.caller_masked,
                    content_hash="h",
                )
            )
        session.commit()

    return add
