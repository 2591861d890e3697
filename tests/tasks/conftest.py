"""Task fixtures: a store (both back ends) with three stations under one bureau.

The tables are created from the metadata, which is several times faster than running every
migration for each test; ``test_migration.py`` checks that the migrations build the same schema.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session
from tests.tasks._helpers import BUREAU, A, B, C, station_box

from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.migrate import complete_metadata
from haizhou.store.tables import JurisdictionRow


@pytest.fixture
def store(database_url: str) -> Iterator[Session]:
    """A session on a fresh store holding the bureau and stations A, B, C."""
    engine = make_engine(database_url)
    complete_metadata().create_all(engine)
    with make_sessionmaker(engine)() as session:
        session.add(JurisdictionRow(code=BUREAU, name="海州分局", station="分局", source="test"))
        for code in (A, B, C):
            session.add(
                JurisdictionRow(
                    code=code,
                    name=f"Station {code[-1]}",
                    station=f"派出所 {code[-1]}",
                    parent_code=BUREAU,
                    geometry=station_box(code),
                    source="test",
                )
            )
        session.commit()
        yield session
    engine.dispose()
