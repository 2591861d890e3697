"""Built-in model repeats.caller: a repeat caller is found and shown masked only."""

from __future__ import annotations

import json
from datetime import timedelta

from haizhou.domain import Level

from ._helpers import DAY, STATION_A, STATION_B, run
from .conftest import Point

PSEUDONYM = "p3f9a1c2d4e5b6a7980"


def test_repeat_caller_is_found_and_masked(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    points = [
        Point(at=DAY - timedelta(days=1 + 6 * i, hours=3), lon=119.20, lat=34.60,
              code=STATION_A if i < 10 else STATION_B, category="纠纷",
              caller=PSEUDONYM, caller_masked="138****5678")
        for i in range(13)
    ]  # fmt: skip
    points += [
        Point(at=DAY - timedelta(days=2 + i), lon=119.25, lat=34.60, code=STATION_B,
              caller=f"other{i % 5}", caller_masked="139****0000")
        for i in range(10)  # five callers with two calls each
    ]  # fmt: skip
    points += [Point(at=DAY - timedelta(days=4), lon=119.2, lat=34.6, code=STATION_A)] * 3
    with store.factory() as session:
        add_points(session, points)
    record = run(store, make_context, "repeats.caller")
    assert len(record.findings) == 1
    f = record.findings[0]
    assert f.level is Level.RED  # 13 calls >= 12
    assert f.evidence["count"] == 13 and f.evidence["caller_masked"] == "138****5678"
    assert f.evidence["jurisdiction_code"] == STATION_A  # where most calls came from
    text = json.dumps([f.title, f.explanation, f.evidence, f.key], ensure_ascii=False)
    assert PSEUDONYM not in text and PSEUDONYM[:8] not in text  # never the pseudonym itself
    assert f.evidence["caller_ref"] == "p3f9****"


def test_reading_callers_is_audited(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    points = [
        Point(at=DAY - timedelta(days=1 + i), lon=119.2, lat=34.6, code=STATION_A,
              caller=PSEUDONYM, caller_masked="138****5678")
        for i in range(3)
    ]  # fmt: skip
    with store.factory() as session:
        add_points(session, points)
    run(store, make_context, "repeats.caller")
    with store.factory() as session:
        rows = session.execute(
            sa.text("SELECT actor, detail FROM audit_log WHERE action = 'incidents.personal.read'")
        ).all()
    assert [r[0] for r in rows] == ["system:repeats.caller"]
    assert "caller_pseudonym" in str(rows[0][1])
