"""A small bureau for the security and map API tests: two stations, users of every role.

Bureau ``3207`` has two stations, ``320706001`` (A) and ``320706002`` (B); station A has a
sub-unit ``320706001-1`` (A1). Incidents: 30 in A around (119.20, 34.60), 6 in A1 (inside A's
area), 20 in B around (119.30, 34.65), 4 with no jurisdiction, all in January 2026.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from haizhou.api.app import create_app
from haizhou.api.auth import SESSION_COOKIE, create_session
from haizhou.api.deps import utc_now
from haizhou.domain import Finding, Level
from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.security.passwords import hash_password
from haizhou.settings import Settings
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.repositories.findings import add_findings
from haizhou.store.tables import IncidentRow, JurisdictionRow, SensorRow, UserRow

PASSWORD = "correct horse battery staple"
STATION_A, STATION_A1, STATION_B = "320706001", "320706001-1", "320706002"
BUREAU = "3207"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}
BBOX_ALL = "119.0,34.4,119.5,34.9"
# username -> (role, jurisdiction)
USERS: dict[str, tuple[str, str | None]] = {
    "admin1": ("admin", None),
    "analyst1": ("analyst", None),
    "commander1": ("commander", None),
    "officer_a": ("station_officer", STATION_A),
    "officer_a1": ("station_officer", STATION_A1),
    "officer_b": ("station_officer", STATION_B),
    "airspace1": ("airspace_operator", None),
    "auditor1": ("auditor", None),
}
# (jurisdiction, centre lon, centre lat, how many)
INCIDENT_GROUPS = (
    (STATION_A, 119.20, 34.60, 30),
    (STATION_A1, 119.21, 34.61, 6),
    (STATION_B, 119.30, 34.65, 20),
    (None, 119.40, 34.70, 4),
)

_HASH: list[str] = []


def _password_hash() -> str:
    if not _HASH:  # one Argon2 hash for every test user: hashing costs ~0.1 s
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def _square(lon: float, lat: float, half: float) -> dict:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def build_world(url: str) -> None:
    """Migrate ``url`` and fill it with the bureau described in the module docstring."""
    migrate.upgrade(url)
    engine = make_engine(url)
    rng = np.random.default_rng(7)
    with make_sessionmaker(engine)() as session:
        for code, parent, lon, lat, half in (
            (BUREAU, None, 119.25, 34.65, 0.2),
            (STATION_A, BUREAU, 119.20, 34.60, 0.04),
            (STATION_A1, STATION_A, 119.21, 34.61, 0.01),
            (STATION_B, BUREAU, 119.30, 34.65, 0.04),
        ):
            session.add(
                JurisdictionRow(
                    code=code,
                    name=f"unit {code}",
                    station=f"station {code}",
                    parent_code=parent,
                    geometry=_square(lon, lat, half),
                    min_lon=lon - half,
                    min_lat=lat - half,
                    max_lon=lon + half,
                    max_lat=lat + half,
                    source="test",
                )
            )
        n = 0
        for code, lon, lat, count in INCIDENT_GROUPS:
            lons = lon + rng.uniform(-0.005, 0.005, count)
            lats = lat + rng.uniform(-0.005, 0.005, count)
            cells = {r: cells_from_lonlat(lons, lats, r) for r in (7, 8, 9)}
            for k in range(count):
                session.add(
                    IncidentRow(
                        source="test",
                        source_id=f"i{n}",
                        reported_at=T0 + timedelta(hours=3 * k + 1),
                        category="theft" if k % 2 else "fight",
                        lon=float(lons[k]),
                        lat=float(lats[k]),
                        h3_r7=int(cells[7][k]),
                        h3_r8=int(cells[8][k]),
                        h3_r9=int(cells[9][k]),
                        jurisdiction_code=code,
                        caller_pseudonym="p" * 64,
                        caller_masked="138****0000",
                        content_hash="h",
                    )
                )
                n += 1
        for code, lon, lat in ((STATION_A, 119.2, 34.6), (STATION_B, 119.3, 34.65)):
            for k in range(3):
                session.add(
                    SensorRow(
                        source="test",
                        source_id=f"s-{code}-{k}",
                        kind="camera",
                        lon=lon + 0.001 * k,
                        lat=lat,
                        h3_r9=int(cells_from_lonlat([lon], [lat], 9)[0]),
                        jurisdiction_code=code,
                        content_hash="h",
                    )
                )
        findings = [
            Finding(
                kind="hotspot",
                title=f"hot spot {code}",
                level=Level.RED if code == STATION_A else Level.ORANGE,
                geometry={"type": "Point", "coordinates": [119.2, 34.6]},
                window_start=T0,
                window_end=T0 + timedelta(days=7),
                explanation="many incidents",
                suggested_action="patrol",
                model_id="test_model",
                model_version="1",
                evidence={"count": 12},
            )
            for code in (STATION_A, STATION_B)
        ]
        add_findings(
            session=session,
            findings=findings,
            jurisdiction_codes=[STATION_A, STATION_B],
            created_at=T0,
        )
        for username, (role, code) in USERS.items():
            session.add(
                UserRow(
                    username=username,
                    password_hash=_password_hash(),
                    role=role,
                    jurisdiction_code=code,
                    active=True,
                    created_at=T0,
                )
            )
        session.commit()
    engine.dispose()


@dataclass
class Clock:
    """A settable clock the app reads instead of the wall clock."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 1, 8, tzinfo=UTC))

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    """A running app over the test bureau."""

    url: str
    app: object
    clock: Clock
    client_factory: Callable[[], TestClient]

    def client(self) -> TestClient:
        return self.client_factory()

    def login_with_password(self, username: str, password: str = PASSWORD) -> TestClient:
        """A new client logged in through ``POST /api/auth/login`` (Argon2: ~0.7 s here)."""
        client = self.client()
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def login(self, username: str) -> TestClient:
        """A new client with a fresh session of ``username``, made without the password check."""
        engine = make_engine(self.url)
        with make_sessionmaker(engine)() as session:
            user = session.query(UserRow).filter_by(username=username).one()
            issued = create_session(session=session, user=user, now=self.clock.now)
            session.commit()
        engine.dispose()
        client = self.client()
        client.cookies.set(SESSION_COOKIE, issued.token)
        client.headers["X-CSRF-Token"] = issued.csrf_token
        return client


def _world(url: str, tmp_path: Path) -> Iterator[World]:
    build_world(url)
    clock = Clock()
    app = create_app(
        Settings(data_dir=tmp_path / "data", database_url=url), static_dir=tmp_path / "none"
    )
    app.dependency_overrides[utc_now] = lambda: clock.now
    clients: list[TestClient] = []

    def factory() -> TestClient:
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        return client

    yield World(url=url, app=app, clock=clock, client_factory=factory)
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    """The test bureau on SQLite and on PostgreSQL."""
    yield from _world(database_url, tmp_path)


@pytest.fixture
def sqlite_world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    """The test bureau on SQLite only (for tests whose logic does not depend on the back end)."""
    yield from _world(sqlite_url, tmp_path)


@pytest.fixture(scope="session")
def bureau() -> object:
    """The constants of the test bureau (this module), for the test modules."""
    import sys

    return sys.modules[__name__]
