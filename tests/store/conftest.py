"""Store fixtures: a migrated database on both back ends and a tiny hand-made city."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import h3
import pytest
from sqlalchemy.orm import Session

from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import CaseRow, IncidentRow, JurisdictionRow, SensorRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=SHANGHAI)  # 2026-03-01 00:00 UTC
STATION_A, STATION_B, STATION_C = "320706001", "320706002", "320706003"


def cell(lon: float, lat: float, res: int) -> int:
    return h3.str_to_int(h3.latlng_to_cell(lat, lon, res))


def square(lon: float, lat: float, half: float = 0.01) -> dict[str, object]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def migrated_url(database_url: str) -> str:
    migrate.upgrade(database_url)
    return database_url


@pytest.fixture
def session(migrated_url: str) -> Iterator[Session]:
    engine = make_engine(migrated_url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        yield session
    engine.dispose()


@dataclass(frozen=True)
class City:
    """What the tiny city holds, for assertions."""

    t0: datetime
    stations: tuple[str, str, str]
    incident_codes: dict[str, str | None]  # source_id -> jurisdiction code
    incident_times: dict[str, datetime]
    centre: dict[str, tuple[float, float]]  # jurisdiction -> (lon, lat)


CENTRES = {
    STATION_A: (119.20, 34.60),
    STATION_B: (119.25, 34.60),
    STATION_C: (119.30, 34.60),
}


def incident_row(
    source_id: str,
    *,
    at: datetime,
    code: str | None,
    lon: float,
    lat: float,
    category: str = "theft",
) -> IncidentRow:
    return IncidentRow(
        source="test",
        source_id=source_id,
        reported_at=at,
        category=category,
        lon=lon,
        lat=lat,
        h3_r7=cell(lon, lat, 7),
        h3_r8=cell(lon, lat, 8),
        h3_r9=cell(lon, lat, 9),
        jurisdiction_code=code,
        caller_pseudonym="p" * 64,
        caller_masked="138****0000",
        content_hash="h",
    )


@pytest.fixture
def city(session: Session) -> City:
    """Three stations, 9 incidents (two share a timestamp), one outside every station."""
    session.add_all(
        JurisdictionRow(
            code=code,
            name=f"Station {code[-1]}",
            station=f"派出所 {code[-1]}",
            parent_code="320706",
            geometry=square(lon, lat),
            min_lon=lon - 0.01,
            min_lat=lat - 0.01,
            max_lon=lon + 0.01,
            max_lat=lat + 0.01,
            source="test",
        )
        for code, (lon, lat) in CENTRES.items()
    )
    plan: list[tuple[str, int, str | None, str]] = [
        # source_id, hours after T0, jurisdiction, category
        ("i1", 0, STATION_A, "theft"),
        ("i2", 1, STATION_A, "fight"),
        ("i3", 1, STATION_B, "theft"),  # same instant as i2
        ("i4", 2, STATION_B, "theft"),
        ("i5", 3, STATION_C, "fraud"),
        ("i6", 4, STATION_C, "theft"),
        ("i7", 5, None, "theft"),  # outside every jurisdiction
        ("i8", 6, STATION_A, "theft"),
        ("i9", 24, STATION_A, "theft"),  # the next day
    ]
    codes, times = {}, {}
    for source_id, hours, code, category in plan:
        lon, lat = CENTRES.get(code or "", (119.40, 34.70))
        at = T0 + timedelta(hours=hours)
        session.add(incident_row(source_id, at=at, code=code, lon=lon, lat=lat, category=category))
        codes[source_id], times[source_id] = code, at
    session.add_all(
        [
            CaseRow(
                source="test",
                source_id="c1",
                incident_source_id="i1",
                category="burglary",
                occurred_from=T0 - timedelta(hours=10),
                occurred_to=T0 - timedelta(hours=2),
                lon=119.20,
                lat=34.60,
                h3_r7=cell(119.20, 34.60, 7),
                h3_r8=cell(119.20, 34.60, 8),
                h3_r9=cell(119.20, 34.60, 9),
                jurisdiction_code=STATION_A,
                mo_entry_method="撬锁",
                mo_target="residence",
                mo_extra={"floor": "3"},
                loss_amount=1200.5,
                status="solved",
                solved_at=T0 + timedelta(days=3),
                suspect_pseudonyms=["s" * 64],
                content_hash="h",
            ),
            CaseRow(
                source="test",
                source_id="c2",
                category="burglary",
                occurred_from=T0,
                occurred_to=T0 + timedelta(hours=1),
                lon=119.25,
                lat=34.60,
                h3_r7=cell(119.25, 34.60, 7),
                h3_r8=cell(119.25, 34.60, 8),
                h3_r9=cell(119.25, 34.60, 9),
                jurisdiction_code=STATION_B,
                content_hash="h",
            ),
        ]
    )
    session.add_all(
        [
            SensorRow(
                source="test",
                source_id="cam-1",
                kind="camera",
                lon=119.20,
                lat=34.60,
                h3_r9=cell(119.20, 34.60, 9),
                range_m=80.0,
                heading_deg=90.0,
                fov_deg=60.0,
                jurisdiction_code=STATION_A,
                content_hash="h",
            ),
            SensorRow(
                source="test",
                source_id="radar-1",
                kind="radar",
                lon=119.30,
                lat=34.60,
                h3_r9=cell(119.30, 34.60, 9),
                range_m=3000.0,
                status="fault",
                jurisdiction_code=STATION_C,
                content_hash="h",
            ),
        ]
    )
    session.commit()
    return City(
        t0=T0,
        stations=(STATION_A, STATION_B, STATION_C),
        incident_codes=codes,
        incident_times=times,
        centre=CENTRES,
    )


@pytest.fixture
def make_incident():
    """The row builder the city uses, for tests that add their own incidents."""
    return incident_row
