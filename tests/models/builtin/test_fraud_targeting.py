"""Built-in model fraud.targeting on a tiny store: one station with a planted high fraud rate."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from haizhou.domain import Level
from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.models.registry import discover
from haizhou.models.runner import run_model
from haizhou.store.tables import CaseRow, PersonRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"
CENTRES = {STATION_A: (119.20, 34.60), STATION_B: (119.25, 34.60)}
DAY = datetime(2026, 3, 4, tzinfo=SHANGHAI)


def test_high_fraud_rate_station_is_found(store, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        k = 0
        for code, n_persons, n_cases in ((STATION_A, 1000, 60), (STATION_B, 1000, 10)):
            lon, lat = CENTRES[code]
            for i in range(n_persons):
                session.add(
                    PersonRow(
                        source="test",
                        source_id=f"{code}-{i}",
                        pseudonym=f"p{code}{i}",
                        masked_id="***",
                        registration="permanent",
                        jurisdiction_code=code,
                        content_hash="h",
                    )
                )
            for i in range(n_cases):
                k += 1
                t = DAY - timedelta(days=1 + i % 200)
                session.add(
                    CaseRow(
                        source="test",
                        source_id=f"c{k}",
                        category="诈骗",
                        occurred_from=t,
                        occurred_to=t,
                        lon=lon,
                        lat=lat,
                        h3_r7=int(cells_from_lonlat(lon, lat, 7)),
                        h3_r8=int(cells_from_lonlat(lon, lat, 8)),
                        h3_r9=int(cells_from_lonlat(lon, lat, 9)),
                        jurisdiction_code=code,
                        status="filed",
                        content_hash="h",
                    )
                )
        session.commit()
    model = discover(entry_points=False, packaged_rules=False).get("fraud.targeting")
    with store.factory() as session:
        record = run_model(
            model, params={}, context=make_context(session, DAY - timedelta(days=1), DAY)
        )
        session.commit()
    assert record.ok, record.error
    found = {f.evidence["jurisdiction_code"]: f for f in record.findings}
    assert set(found) == {STATION_A}
    f = found[STATION_A]
    assert f.level is Level.RED and f.evidence["test"] == "poisson"  # the squares do not touch
    assert f.evidence["cases"] == 60 and f.evidence["population"] == 1000
