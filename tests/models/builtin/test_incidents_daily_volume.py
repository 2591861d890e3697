"""Built-in model incidents.daily_volume on a tiny store."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from haizhou.domain import Level
from haizhou.models.registry import discover
from haizhou.models.runner import ParamsError, run_model

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"
DAY = datetime(2026, 3, 4, tzinfo=SHANGHAI)  # Wednesday; the window ends at its end


def test_levels_against_same_weekday_mean(store, add_incidents, make_context) -> None:  # type: ignore[no-untyped-def]
    rows = []
    for week in range(1, 5):  # the four previous Wednesdays: A 4 a day, B 5 a day
        wednesday = DAY - timedelta(days=7 * week)
        rows += [(wednesday + timedelta(hours=10), STATION_A, "theft")] * 4
        rows += [(wednesday + timedelta(hours=10), STATION_B, "theft")] * 5
    rows += [(DAY - timedelta(days=1, hours=-9), STATION_A, "fight")] * 30  # Tuesday: ignored
    rows += [(DAY + timedelta(hours=h % 24), STATION_A, "theft") for h in range(8)]  # 8 = 2.0x
    rows += [(DAY + timedelta(hours=12), STATION_B, "theft")] * 7  # 7 = 1.4x
    rows += [(DAY + timedelta(hours=12), None, "theft")] * 20  # no jurisdiction
    with store.factory() as session:
        add_incidents(session, rows)
    model = discover(entry_points=False, packaged_rules=False).get("incidents.daily_volume")
    with store.factory() as session:
        record = run_model(
            model, params={}, context=make_context(session, DAY, DAY + timedelta(days=1))
        )
        session.commit()
    assert record.ok, record.error
    found = {f.evidence["jurisdiction_code"]: f for f in record.findings}
    assert found[STATION_A].level is Level.YELLOW
    assert found[STATION_B].level is Level.BLUE
    assert found[STATION_A].evidence["observed"] == 8
    assert found[STATION_A].evidence["baseline_counts"] == [4, 4, 4, 4]
    assert found[STATION_B].evidence["ratio"] == 1.4
    assert "（星期三）接报警情8起，前4周同星期平均4.0起，为其2.00倍" in found[STATION_A].explanation
    assert found[STATION_A].window_start == DAY


def test_min_count_and_params_check(store, add_incidents, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        add_incidents(session, [(DAY + timedelta(hours=1), STATION_A, "theft")] * 3)
    model = discover(entry_points=False, packaged_rules=False).get("incidents.daily_volume")
    with store.factory() as session:
        ctx = make_context(session, DAY, DAY + timedelta(days=1))
        assert run_model(model, params={}, context=ctx).n_findings == 0  # 3 < min_count 5
        assert run_model(model, params={"min_count": 3}, context=ctx).n_findings == 1
        with pytest.raises(ParamsError, match=r"yellow_ratio \(1.2\) must be above blue_ratio"):
            run_model(model, params={"yellow_ratio": 1.2}, context=ctx)
