"""Findings (研判发现): what models found, stored with the owning jurisdiction."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from haizhou.domain import Finding, Level
from haizhou.store.repositories._filters import check_window, one_or_many, scope_filter
from haizhou.store.tables import FindingRow


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredFinding:
    """A finding as stored (已入库研判发现): its row id, owning jurisdiction and creation time.

    ``jurisdiction_code`` is the unit the finding was routed to (属地); ``None`` when it falls
    outside every jurisdiction. ``created_at`` is timezone-aware UTC.
    """

    id: int
    jurisdiction_code: str | None
    created_at: datetime
    finding: Finding


def add_findings(
    *,
    session: Session,
    findings: Iterable[Finding],
    jurisdiction_codes: Iterable[str | None],
    created_at: datetime | None = None,
) -> list[int]:
    """Store findings, each with the jurisdiction that owns it; return the new row ids.

    Parameters
    ----------
    session
        An open session; the caller commits.
    findings
        The findings of one model run.
    jurisdiction_codes
        The owning jurisdiction of each finding, aligned with ``findings`` (``None`` for a
        finding outside every jurisdiction). Both must have the same length.
    created_at
        Timezone-aware time of storage; default now (UTC).

    Raises
    ------
    ValueError
        If the two sequences differ in length, or a time is naive.
    """
    findings = list(findings)
    codes = list(jurisdiction_codes)
    if len(codes) != len(findings):
        raise ValueError(
            f"add_findings got {len(findings)} findings but {len(codes)} jurisdiction codes; "
            "give one code (or None) per finding, in the same order"
        )
    stamp = datetime.now(UTC) if created_at is None else created_at
    if stamp.tzinfo is None:
        raise ValueError(f"created_at={stamp.isoformat()} has no time zone; attach one")
    rows = [
        FindingRow(
            kind=finding.kind,
            key=finding.key,
            title=finding.title,
            level=Level(finding.level).value,
            geometry=finding.geometry,
            window_start=finding.window_start,
            window_end=finding.window_end,
            evidence=finding.evidence,
            explanation=finding.explanation,
            suggested_action=finding.suggested_action,
            model_id=finding.model_id,
            model_version=finding.model_version,
            jurisdiction_code=code,
            created_at=stamp,
        )
        for finding, code in zip(findings, codes, strict=True)
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def _filters(
    *,
    scope: Collection[str] | None,
    start: datetime | None,
    end: datetime | None,
    kind: str | Collection[str] | None,
    level: Level | str | Collection[Level | str] | None,
    model_id: str | None,
) -> list[ColumnElement[bool]]:
    conditions = [scope_filter(FindingRow.jurisdiction_code, scope)]
    if start is not None or end is not None:
        if start is None or end is None:
            raise ValueError("give both start and end, or neither")
        check_window(start, end)
        # Overlap of the finding's window with [start, end).
        conditions += [FindingRow.window_end > start, FindingRow.window_start < end]
    if kind is not None:
        conditions.append(FindingRow.kind.in_(one_or_many(kind)))
    if level is not None:
        levels = [level] if isinstance(level, str) else list(level)
        conditions.append(FindingRow.level.in_(sorted({Level(v).value for v in levels})))
    if model_id is not None:
        conditions.append(FindingRow.model_id == model_id)
    return conditions


def list_findings(
    *,
    session: Session,
    scope: Collection[str] | None,
    start: datetime | None = None,
    end: datetime | None = None,
    kind: str | Collection[str] | None = None,
    level: Level | str | Collection[Level | str] | None = None,
    model_id: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[StoredFinding]:
    """Stored findings the caller may see, newest window first.

    Parameters
    ----------
    session
        An open SQLAlchemy session.
    scope
        Jurisdiction codes the caller may see; ``None`` for all. Findings without a
        jurisdiction are visible only with ``None``.
    start, end
        Timezone-aware; keeps findings whose window overlaps ``[start, end)``. Both or neither.
    kind, level, model_id
        Optional filters; ``kind`` and ``level`` take one value or several.
    limit, offset
        Page of the result (``limit`` at most 10 000).
    """
    if not 1 <= limit <= 10_000:
        raise ValueError(f"limit must be between 1 and 10000; got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0; got {offset}")
    conditions = _filters(
        scope=scope, start=start, end=end, kind=kind, level=level, model_id=model_id
    )
    rows = session.execute(
        select(*FindingRow.__table__.columns)
        .where(*conditions)
        .order_by(FindingRow.window_start.desc(), FindingRow.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [to_stored_finding(row) for row in rows]


def count_findings(
    *,
    session: Session,
    scope: Collection[str] | None,
    start: datetime | None = None,
    end: datetime | None = None,
    kind: str | Collection[str] | None = None,
    level: Level | str | Collection[Level | str] | None = None,
    model_id: str | None = None,
) -> int:
    """Number of stored findings matching the filters of :func:`list_findings`."""
    conditions = _filters(
        scope=scope, start=start, end=end, kind=kind, level=level, model_id=model_id
    )
    return session.scalar(select(func.count()).select_from(FindingRow).where(*conditions)) or 0


def to_stored_finding(row: FindingRow | Row[Any]) -> StoredFinding:
    """The stored finding for a row of the ``findings`` table."""
    return StoredFinding(
        id=row.id,
        jurisdiction_code=row.jurisdiction_code,
        created_at=row.created_at,
        finding=Finding(
            kind=row.kind,
            title=row.title,
            level=Level(row.level),
            geometry=row.geometry,
            window_start=row.window_start,
            window_end=row.window_end,
            explanation=row.explanation,
            suggested_action=row.suggested_action,
            model_id=row.model_id,
            model_version=row.model_version,
            evidence=dict(row.evidence or {}),
            key=row.key,
        ),
    )
