"""Model-library fixtures: a migrated store with two stations and an incident writer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.models.context import RunContext, Window
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import IncidentRow, JurisdictionRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"
CENTRES = {STATION_A: (119.20, 34.60), STATION_B: (119.25, 34.60)}


def square(lon: float, lat: float, half: float = 0.01) -> dict[str, object]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass(frozen=True)
class Store:
    url: str
    factory: sessionmaker[Session]


def _store(url: str) -> Iterator[Store]:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        session.add_all(
            JurisdictionRow(
                code=code,
                name=f"{code[-1]}号派出所辖区",
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
        session.commit()
    yield Store(url=url, factory=factory)
    engine.dispose()


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """SQLite only: a migrated store with stations A and B."""
    yield from _store(sqlite_url)


@pytest.fixture
def any_store(database_url: str) -> Iterator[Store]:
    """The same on SQLite and PostgreSQL."""
    yield from _store(database_url)


AddIncidents = Callable[..., None]


@pytest.fixture
def add_incidents() -> AddIncidents:
    """``add_incidents(session, [(at, station_code_or_None, category), ...])``: commit rows.

    A row's point is its station's centre (or a point outside both stations for ``None``),
    with real H3 cells.
    """
    counter = iter(range(1_000_000))

    def add(session: Session, rows: list[tuple[datetime, str | None, str]]) -> None:
        for at, code, category in rows:
            lon, lat = CENTRES.get(code or "", (119.40, 34.70))
            session.add(
                IncidentRow(
                    source="test",
                    source_id=f"i{next(counter)}",
                    reported_at=at,
                    category=category,
                    lon=lon,
                    lat=lat,
                    h3_r7=int(cells_from_lonlat(lon, lat, 7)),
                    h3_r8=int(cells_from_lonlat(lon, lat, 8)),
                    h3_r9=int(cells_from_lonlat(lon, lat, 9)),
                    jurisdiction_code=code,
                    content_hash="h",
                )
            )
        session.commit()

    return add


@pytest.fixture
def make_context() -> Callable[..., RunContext]:
    def make(session: Session, start: datetime, end: datetime, **kwargs: object) -> RunContext:
        return RunContext(
            session=session,
            scope=kwargs.pop("scope", None),  # type: ignore[arg-type]
            now=end,
            window=Window(start, end),
            zone=SHANGHAI,
            log=logging.getLogger("test.models"),
            **kwargs,  # type: ignore[arg-type]
        )

    return make
