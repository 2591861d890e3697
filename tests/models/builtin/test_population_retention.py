"""Built-in job population.retention: raw sightings older than the retention go, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from haizhou.models.registry import discover
from haizhou.models.runner import run_model
from haizhou.store.tables import AuditRow, SightingRow

NOW = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


def _add(session, days_ago: list[float]) -> None:  # type: ignore[no-untyped-def]
    for i, d in enumerate(days_ago):
        session.add(
            SightingRow(
                pseudo_id=f"p{i}", id_kind="device", sensor_id="S", seen_at=NOW - timedelta(days=d)
            )
        )
    session.commit()


def _run(store, make_context, params):  # type: ignore[no-untyped-def]
    model = discover(entry_points=False, packaged_rules=False).get("population.retention")
    with store.factory() as session:
        record = run_model(
            model, params=params, context=make_context(session, NOW - timedelta(days=1), NOW)
        )
        session.commit()
    assert record.ok, record.error
    return record


def test_expired_sightings_deleted_and_audited(store, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        _add(session, [40, 30.5, 29.5, 1])
    record = _run(store, make_context, {"retention_days": 30})
    # the 40-day-old row was held beyond retention + 2 days of grace: reported, then deleted
    (finding,) = record.findings
    assert finding.kind == "retention_overdue" and finding.evidence["overdue"] == 1
    assert finding.evidence["oldest_days"] == 40.0
    with store.factory() as session:
        left = sorted(session.execute(select(SightingRow.pseudo_id)).scalars())
        audit = session.execute(
            select(AuditRow).where(AuditRow.action == "population.sightings.purge")
        ).scalar_one()
    assert left == ["p2", "p3"]
    assert audit.detail["deleted"] == 2 and audit.detail["retention_days"] == 30


def test_default_retention_comes_from_settings(store, make_context, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HAIZHOU_SIGHTINGS_RETENTION_DAYS", "7")
    with store.factory() as session:
        _add(session, [8, 6])
    record = _run(store, make_context, {})
    assert record.findings == ()  # 8 days old against 7 + 2 days of grace: not overdue
    with store.factory() as session:
        assert list(session.execute(select(SightingRow.pseudo_id)).scalars()) == ["p1"]
