"""Sightings into the store: pseudonymised at the boundary, idempotent, purged by retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from haizhou.errors import InputError
from haizhou.ingest.sightings import (
    count_sightings,
    device_link_frame,
    import_device_links,
    import_sightings,
    purge_sightings,
    sighting_frame,
)
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables import SightingRow

KEY = b"haizhou-test-key-0123456789abcdef"
MAC = "02:1F:FD:D6:6F:2D"
PLATE = "苏G12345"


@pytest.fixture
def sessions(database_url: str):  # type: ignore[no-untyped-def]
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def ps() -> Pseudonymiser:
    return Pseudonymiser(KEY)


def _parquet(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """Write sightings the way ``haizhou sim --out`` does: tz-aware ms timestamps."""
    seen = pd.to_datetime([r[2] for r in rows]).tz_localize("Asia/Shanghai")
    pq.write_table(
        pa.table(
            {
                "device_or_plate": [r[0] for r in rows],
                "sensor_id": [r[1] for r in rows],
                "seen_at": pa.array(seen.tz_convert("UTC").as_unit("ms")).cast(
                    pa.timestamp("ms", tz="Asia/Shanghai")
                ),
            }
        ),
        path,
    )
    return path


def test_parquet_import_stores_pseudonyms_only_and_is_idempotent(sessions, ps, tmp_path):  # type: ignore[no-untyped-def]
    path = _parquet(
        tmp_path / "s.parquet",
        [(MAC, "S1", "2026-03-01 22:10:00"), (PLATE, "S2", "2026-03-01 23:00:00")],
    )
    with sessions() as session:
        first = import_sightings(session, path, pseudonymiser=ps)
        again = import_sightings(session, path, pseudonymiser=ps)
        rows = session.execute(select(SightingRow).order_by(SightingRow.seen_at)).scalars().all()
        assert (first.read, first.written, first.duplicates, first.rejected) == (2, 2, 0, 0)
        assert (again.written, again.duplicates) == (0, 2)
        assert [r.pseudo_id for r in rows] == [
            ps.pseudonymise(MAC, IdentifierKind.DEVICE).token,
            ps.pseudonymise(PLATE, IdentifierKind.PLATE).token,
        ]
        assert [r.id_kind for r in rows] == ["device", "plate"]
        # stored in UTC: 22:10 in Shanghai is 14:10 UTC
        assert rows[0].seen_at == datetime(2026, 3, 1, 14, 10, tzinfo=UTC)
        clear = {MAC, PLATE}
        assert not any(v in clear for r in rows for v in (r.pseudo_id, r.sensor_id))


def test_csv_rows_without_time_or_id_are_rejected_and_named(sessions, ps, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "s.csv"
    path.write_text(
        "device_or_plate,sensor_id,seen_at\n"
        f"{MAC},S1,2026-03-01 22:10\n"
        f"{MAC},S1,yesterday\n"
        ",S1,2026-03-01 22:11\n",
        encoding="utf-8",
    )
    with sessions() as session:
        out = import_sightings(session, path, pseudonymiser=ps)
        assert (out.read, out.written, out.rejected) == (3, 1, 2)
        assert out.first_problem is not None and "row 3" in out.first_problem
        assert "seen_at" in out.first_problem
        assert count_sightings(session) == 1


def test_missing_columns_is_a_clear_error(sessions, ps, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "s.csv"
    path.write_text("mac,when\nx,y\n", encoding="utf-8")
    with sessions() as session, pytest.raises(InputError, match="device_or_plate"):
        import_sightings(session, path, pseudonymiser=ps)


def test_device_links_from_the_sim_truth_layout(sessions, ps, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "floating_residents.csv"
    path.write_text(
        "pseudo_id,device_id,plate,id_number\n"
        f"FR1,{MAC},{PLATE},320706199205026389\n"
        "FR2,02:00:00:00:00:01,,\n",  # unregistered: no link
        encoding="utf-8",
    )
    with sessions() as session:
        n = import_device_links(
            session, path, pseudonymiser=ps, source="sim", now=datetime.now(UTC)
        )
        session.commit()
        links = device_link_frame(session)
    person = ps.pseudonymise("320706199205026389", IdentifierKind.ID_CARD).token
    assert n == 2
    assert set(links["person_id"]) == {person}
    assert set(links["pseudo_id"]) == {
        ps.pseudonymise(MAC, IdentifierKind.DEVICE).token,
        ps.pseudonymise(PLATE, IdentifierKind.PLATE).token,
    }


def test_window_read_gives_local_wall_time_and_purge_keeps_the_young(sessions, ps, tmp_path):  # type: ignore[no-untyped-def]
    now = datetime(2026, 3, 31, 3, 0, tzinfo=UTC)
    old, young = now - timedelta(days=31), now - timedelta(days=29)
    rows = [
        (MAC, "S1", old.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        (MAC, "S1", young.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
    ]
    path = tmp_path / "s.csv"
    path.write_text(
        "device_or_plate,sensor_id,seen_at\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows),
        encoding="utf-8",
    )
    with sessions() as session:
        import_sightings(session, path, pseudonymiser=ps)
        frame = sighting_frame(session, start=young, end=now, zone="Asia/Shanghai")
        assert frame["seen_at"].tolist() == [
            pd.Timestamp(young).tz_convert("Asia/Shanghai").tz_localize(None)
        ]
        deleted = purge_sightings(session, now=now, retention_days=30)
        session.commit()
        assert deleted == 1
        left = session.execute(select(SightingRow.seen_at)).scalars().all()
        assert left == [young]
        with pytest.raises(InputError, match="time zone"):
            purge_sightings(session, now=now.replace(tzinfo=None), retention_days=30)
