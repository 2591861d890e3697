"""Helpers for the task tests: a tiny bureau with three stations and findings on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from haizhou.domain import Finding, Level
from haizhou.store.repositories.findings import add_findings

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday, 08:00 in Shanghai
BUREAU, A, B, C = "320706", "320706001", "320706002", "320706003"
# Stations A, B, C side by side: [x0, x0 + 0.02] x [34.59, 34.61].
X0 = {A: 119.19, B: 119.21, C: 119.23}


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def station_box(code: str) -> dict[str, Any]:
    return box(X0[code], 34.59, X0[code] + 0.02, 34.61)


def centre(code: str) -> dict[str, Any]:
    return point(X0[code] + 0.01, 34.60)


def make_finding(
    *,
    level: Level | str = Level.RED,
    key: str | None = "hotspot:cell-1",
    geometry: dict[str, Any] | None = None,
    kind: str = "hotspot",
    model_id: str = "hotspot_kde",
    evidence: dict[str, Any] | None = None,
    day: int = 0,
) -> Finding:
    start = T0 + timedelta(days=day)
    return Finding(
        kind=kind,
        title=f"Burglary hot spot, day {day}",
        level=Level(level),
        geometry=geometry or centre(A),
        window_start=start - timedelta(days=7),
        window_end=start,
        explanation="More burglaries than usual.",
        suggested_action="Patrol at night.",
        model_id=model_id,
        model_version="1",
        evidence=evidence if evidence is not None else {"count": 5 + day},
        key=key,
    )


def store_finding(session: Session, finding: Finding, *, code: str | None = None) -> int:
    (finding_id,) = add_findings(
        session=session, findings=[finding], jurisdiction_codes=[code], created_at=T0
    )
    session.commit()
    return finding_id


def incident(source_id: str, at: datetime, code: str | None, category: str = "theft") -> Any:
    """An incident row at the centre of station ``code`` (H3 cells are not used by the KPIs)."""
    from haizhou.store.tables import IncidentRow

    lon = X0.get(code or "", 119.5) + 0.01
    return IncidentRow(
        source="test",
        source_id=source_id,
        reported_at=at,
        category=category,
        lon=lon,
        lat=34.6,
        h3_r7=0,
        h3_r8=0,
        h3_r9=0,
        jurisdiction_code=code,
        content_hash="h",
    )


def case(
    source_id: str,
    filed: datetime,
    code: str,
    *,
    solved: datetime | None = None,
    suspects: list[str] | None = None,
    category: str = "burglary",
) -> Any:
    """A case row filed (occurring) at ``filed``, solved at ``solved`` if given."""
    from haizhou.store.tables import CaseRow

    return CaseRow(
        source="test",
        source_id=source_id,
        category=category,
        occurred_from=filed,
        occurred_to=filed + timedelta(hours=1),
        lon=X0[code] + 0.01,
        lat=34.6,
        h3_r7=0,
        h3_r8=0,
        h3_r9=0,
        jurisdiction_code=code,
        status="solved" if solved else "filed",
        solved_at=solved,
        suspect_pseudonyms=suspects,
        content_hash="h",
    )
