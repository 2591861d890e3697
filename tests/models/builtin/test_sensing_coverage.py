"""Built-in model sensing.coverage on a tiny store: a blind spot where no sensor looks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from haizhou.domain import Level
from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.models.registry import discover
from haizhou.models.runner import run_model
from haizhou.store.tables import SensorRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"
DAY = datetime(2026, 3, 4, tzinfo=SHANGHAI)


def test_blind_spot_at_the_unwatched_station(store, add_incidents, make_context) -> None:  # type: ignore[no-untyped-def]
    rows = [(DAY - timedelta(days=d), STATION_A, "theft") for d in range(1, 20)]
    rows += [(DAY - timedelta(days=d), STATION_B, "robbery") for d in range(1, 20)]
    with store.factory() as session:
        add_incidents(session, rows)
        lon, lat = 119.20, 34.60  # a Wi-Fi probe on station A's centre
        session.add(
            SensorRow(
                source="test",
                source_id="S1",
                kind="wifi_probe",
                lon=lon,
                lat=lat,
                h3_r9=int(cells_from_lonlat(lon, lat, 9)),
                range_m=100.0,
                heading_deg=0.0,
                fov_deg=360.0,
                status="active",
                jurisdiction_code=STATION_A,
                content_hash="h",
            )
        )
        session.commit()
    model = discover(entry_points=False, packaged_rules=False).get("sensing.coverage")
    with store.factory() as session:
        record = run_model(
            model, params={}, context=make_context(session, DAY - timedelta(days=1), DAY)
        )
        session.commit()
    assert record.ok, record.error
    assert len(record.findings) == 1
    f = record.findings[0]
    assert f.kind == "blind_spot" and f.level is Level.RED
    assert f.evidence["uncovered_weighted"] == 19 * 5.0  # robbery weighs 5
    centre = f.evidence["centre"]
    assert abs(centre[0] - 119.25) < 0.003 and abs(centre[1] - 34.60) < 0.003
