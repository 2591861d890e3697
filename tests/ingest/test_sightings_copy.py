"""The bulk sightings writer on both stores: PostgreSQL's COPY path and SQLite's INSERT path.

A stream consumer that dies between its commit and its acknowledgement gets the same batch
again; the write must then add nothing, on either store.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select

from haizhou.errors import InputError
from haizhou.ingest.sightings import write_sightings
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import SightingRow

T0 = 1_795_000_000  # 2026-11-18T11:06:40Z


@pytest.fixture
def sessions(database_url: str):  # type: ignore[no-untyped-def]
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _batch(n: int, offset: int = 0) -> dict[str, object]:
    """Sightings number ``offset`` … ``offset + n - 1`` (the same number: the same sighting)."""
    k = np.arange(offset, offset + n)
    return {
        "pseudo_ids": [f"p{i:06d}" for i in k],
        "kinds": ["plate" if i % 3 == 0 else "device" for i in k],
        "sensor_ids": [f"s{i % 7}" for i in k],
        "seen_at_s": T0 + k % 5,
    }


def _count(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(SightingRow)))


def test_a_redelivered_batch_adds_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    batch = _batch(3_000)
    with sessions() as s:
        assert write_sightings(s, **batch) == 3_000
        s.commit()
    with sessions() as s:  # the same batch again (redelivery after the commit)
        assert write_sightings(s, **batch) == 0
        s.commit()
    with sessions() as s:  # half old, half new
        mixed = _batch(3_000, offset=1_500)
        assert write_sightings(s, **mixed) == 1_500
        s.commit()
    assert _count(sessions) == 4_500


def test_repeats_inside_a_batch_and_two_writes_in_one_transaction_count_once(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s:
        first = write_sightings(
            s,
            pseudo_ids=["a", "a", "b"],
            kinds=["device", "device", "plate"],
            sensor_ids=["s1", "s1", "s1"],
            seen_at_s=[T0, T0, T0],
            batch_id=None,
        )
        second = write_sightings(
            s, pseudo_ids=["b", "c"], kinds=["plate", "device"], sensor_ids=["s1", "s2"],
            seen_at_s=[T0, T0 + 1],
        )  # fmt: skip
        s.commit()
    assert (first, second) == (2, 1)
    assert _count(sessions) == 3


def test_columns_round_trip(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s:
        write_sightings(
            s, pseudo_ids=["tok"], kinds=["plate"], sensor_ids=["gate-1"], seen_at_s=[T0],
            batch_id=None,
        )  # fmt: skip
        s.commit()
    with sessions() as s:
        row = s.scalars(select(SightingRow)).one()
    assert (row.pseudo_id, row.id_kind, row.sensor_id, row.batch_id) == (
        "tok",
        "plate",
        "gate-1",
        None,
    )
    assert row.seen_at == datetime.fromtimestamp(T0, UTC)


def test_a_rolled_back_write_leaves_nothing_behind(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s:
        assert write_sightings(s, **_batch(50)) == 50
        s.rollback()
    with sessions() as s:  # the staging rows went with the transaction too
        assert write_sightings(s, **_batch(10)) == 10
        s.commit()
    assert _count(sessions) == 10


def test_misaligned_columns_are_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s, pytest.raises(InputError):
        write_sightings(s, pseudo_ids=["a"], kinds=[], sensor_ids=["s"], seen_at_s=[T0])
