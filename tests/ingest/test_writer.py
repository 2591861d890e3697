"""The batch writers: ADBC (Arrow, in a writer process) against sqlite3, set-based dedup,
index restoration after a killed bulk load, and the vectorised in-file dedup."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.ingest import writer as writer_module
from haizhou.ingest.pipeline import first_occurrence, restore_indexes
from haizhou.ingest.writer import AdbcSqliteWriter, SqliteWriter, _inline, open_writer

pytest.importorskip("adbc_driver_sqlite")

TEST_KEY = "haizhou-test-key-0123456789abcdef"

# every stored column but the surrogate id and the batch (which differ between stores)
_COLUMNS = (
    "source, source_id, reported_at, category, subcategory, lon, lat, h3_r7, h3_r8, h3_r9, "
    "jurisdiction_code, address, caller_pseudonym, caller_masked, summary, disposition, "
    "attributes, content_hash"
)


def _incidents(store) -> list[tuple]:
    return store.rows(f"SELECT {_COLUMNS} FROM incidents ORDER BY source, source_id")


def _quarantine(store) -> list[tuple]:
    return store.rows(
        'SELECT kind, file_name, row_number, "column", value, reason, raw FROM quarantine '
        "ORDER BY row_number, id"
    )


def _secondary_indexes(store, table: str) -> set[str]:
    return {
        name
        for (name,) in store.rows(
            "SELECT name FROM sqlite_master WHERE type = 'index' "
            f"AND tbl_name = '{table}' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
        )
    }


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _records(n: int, *, start: int = 0) -> list[dict[str, str]]:
    return [
        {
            "incident_id": f"W{i:04d}",
            "reported_at": f"2024-03-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
            "category": ["盗窃", "纠纷", "诈骗"][i % 3],
            "lon": f"{119.16 + (i % 7) * 0.005:.4f}",
            "lat": f"{34.585 + (i % 5) * 0.002:.4f}",
            "caller_phone": f"138{i:08d}" if i % 2 else "",
            "summary": f"报警人称被盗，回拨139{i:08d}" if i % 3 == 0 else "求助",
        }
        for i in range(start, start + n)
    ]


class _Store:
    """A SQLite store and data folder (like the ``sqlite_store`` fixture)."""

    def __init__(self, folder: Path) -> None:
        from haizhou.store.engine import make_engine
        from haizhou.store.tables import metadata

        self.engine = make_engine(f"sqlite:///{folder / 'haizhou.db'}")
        metadata.create_all(self.engine)
        self.data_dir = folder / "data"

    def run(self, kind: str, path: Path, **kwargs):
        from haizhou.ingest import import_file

        kwargs.setdefault("pseudonym_key", TEST_KEY)
        return import_file(kind, path, engine=self.engine, data_dir=self.data_dir, **kwargs)

    def rows(self, sql: str) -> list[tuple]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]


@pytest.fixture
def two_stores(tmp_path: Path, files: Path):
    """Two SQLite stores with the test jurisdictions: one for each writer."""
    made = [_Store(tmp_path / name) for name in ("adbc", "sqlite3")]
    for store in made:
        assert store.run("jurisdictions", files / "jurisdictions.geojson").accepted == 2
    yield made[0], made[1]
    for store in made:
        store.engine.dispose()


def test_open_writer_picks_adbc_for_files_and_sqlite3_otherwise(tmp_path, monkeypatch) -> None:
    from haizhou.store.engine import make_engine
    from haizhou.store.tables import metadata

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    metadata.create_all(engine)
    w = open_writer(engine)
    try:
        assert isinstance(w, AdbcSqliteWriter)
    finally:
        w.close()
    w = open_writer(engine, arrow=False)
    assert type(w) is SqliteWriter
    w.close()
    monkeypatch.setattr(writer_module, "_adbc_sqlite", lambda: None)
    w = open_writer(engine)
    assert type(w) is SqliteWriter  # no driver: the sqlite3 fallback
    w.close()
    engine.dispose()
    memory = make_engine("sqlite://")
    w = open_writer(memory)
    assert type(w) is SqliteWriter  # another process cannot see an in-memory database
    w.close()


def test_adbc_and_sqlite3_writers_store_identical_rows_and_quarantine(
    two_stores, files: Path, tmp_path: Path
) -> None:
    adbc, plain = two_stores
    clean = _write_csv(tmp_path / "clean.csv", _records(40))
    for name in ("good_utf8", "duplicates", "bad_dates"):
        a = adbc.run("incidents", files / f"{name}.csv", arrow=True, batch_size=3)
        b = plain.run("incidents", files / f"{name}.csv", arrow=False, batch_size=3)
        assert (a.rows, a.accepted, a.quarantined, a.skipped_duplicates) == (
            b.rows,
            b.accepted,
            b.quarantined,
            b.skipped_duplicates,
        )
    a = adbc.run("incidents", clean, arrow=True, bulk=True, batch_size=16)
    b = plain.run("incidents", clean, arrow=False, bulk=True, batch_size=16)
    assert a.accepted == b.accepted == 40
    stored = _incidents(adbc)
    assert stored == _incidents(plain)
    assert sum(1 for row in stored if row[0] == "clean") == 40
    assert _quarantine(adbc) == _quarantine(plain)
    assert len(_quarantine(adbc)) > 0
    # phones are stored only as pseudonyms and masks, times as UTC text
    assert not any("13800000001" in str(v) for row in stored for v in row)
    first = adbc.rows("SELECT reported_at, typeof(lon), typeof(h3_r9) FROM incidents LIMIT 1")[0]
    assert first[1:] == ("real", "integer") and len(first[0]) == len("2024-03-01 00:00:00.000000")
    counts = adbc.rows("SELECT sum(accepted), sum(quarantined) FROM import_batches")[0]
    assert counts == plain.rows("SELECT sum(accepted), sum(quarantined) FROM import_batches")[0]
    assert _secondary_indexes(adbc, "incidents") == _secondary_indexes(plain, "incidents") != set()


def test_adbc_reimport_skips_identical_rows_and_quarantines_changed_ones(
    two_stores, tmp_path: Path
) -> None:
    store, _ = two_stores
    records = _records(30)
    first = store.run(
        "incidents", _write_csv(tmp_path / "a.csv", records), source="110", arrow=True
    )
    assert (first.accepted, first.skipped_duplicates, first.quarantined) == (30, 0, 0)
    again = store.run(
        "incidents", _write_csv(tmp_path / "b.csv", records), source="110", arrow=True
    )
    assert (again.accepted, again.skipped_duplicates, again.quarantined) == (0, 30, 0)
    changed = [dict(r) for r in records] + _records(5, start=30)
    changed[7]["category"] = "火警"
    changed[11]["lon"] = "119.1712"
    third = store.run(
        "incidents", _write_csv(tmp_path / "c.csv", changed), source="110", arrow=True, batch_size=8
    )
    assert (third.accepted, third.skipped_duplicates, third.quarantined) == (5, 28, 2)
    reasons = store.rows(
        "SELECT row_number, value, reason FROM quarantine WHERE batch_id = "
        f"{third.batch_id} ORDER BY row_number"
    )
    assert [(r, v) for r, v, _ in reasons] == [(9, "W0007"), (13, "W0011")]
    assert all(why.startswith("id already loaded with different content") for *_, why in reasons)
    # the stored rows kept their first content
    assert store.rows("SELECT category FROM incidents WHERE source_id = 'W0007'") == [("纠纷",)]
    assert store.rows("SELECT count(*) FROM incidents") == [(35,)]


def test_every_import_restores_indexes_a_killed_bulk_load_left_out(sqlite_store, files) -> None:
    expected = _secondary_indexes(sqlite_store, "incidents")
    assert expected
    w = open_writer(sqlite_store.engine, arrow=False)
    try:
        w.drop_secondary_indexes("incidents")  # what a killed bulk load leaves
        assert _secondary_indexes(sqlite_store, "incidents") == set()
        assert restore_indexes(w, skip="incidents") == []  # the table being bulk-loaded
        assert sorted(w.missing_indexes("incidents")) == sorted(expected)
    finally:
        w.close()
    # an import of another kind restores them
    sqlite_store.run("jurisdictions", files / "jurisdictions.geojson")
    assert _secondary_indexes(sqlite_store, "incidents") == expected


def test_inline_writes_parameters_as_literals() -> None:
    assert _inline("UPDATE t SET a = a + ?, s = ? WHERE id = ?", [3, "it's", 7]) == (
        "UPDATE t SET a = a + 3, s = 'it''s' WHERE id = 7"
    )
    assert _inline("SELECT ?", [None]) == "SELECT NULL"
    with pytest.raises(ValueError, match="2 placeholders for 1"):
        _inline("SELECT ?, ?", [1])


@given(st.lists(st.none() | st.sampled_from(["a", "b", "c", "", "甲", "J1"]), max_size=60))
@settings(max_examples=150, deadline=None)
def test_first_occurrence_matches_a_dictionary_scan(values: list[str | None]) -> None:
    seen: dict[str | None, int] = {}
    expected = [seen.setdefault(v, i) for i, v in enumerate(values)]
    got = first_occurrence(pa.array(values, type=pa.string()))
    assert got.dtype == np.int64
    assert got.tolist() == expected


def _pragma(w, name: str) -> int:
    if isinstance(w, AdbcSqliteWriter):
        cur = w.adbc.cursor()
        cur.execute(f"PRAGMA {name}")
        return int(cur.fetchall()[0][0])
    return int(w.conn.execute(f"PRAGMA {name}").fetchone()[0])


@pytest.mark.parametrize("arrow", [True, False], ids=["adbc", "sqlite3"])
@pytest.mark.parametrize("staged", [False, True], ids=["fresh", "after-a-staged-batch"])
def test_index_build_sorts_on_files_and_restores_the_load_settings(
    two_stores, tmp_path: Path, arrow: bool, staged: bool
) -> None:
    """The build switches SQLite's sorter to file runs (helper threads) and back; after a
    staged batch (a TEMP table: temp_store cannot change) it still builds every index."""
    store = two_stores[0]
    assert store.run("incidents", _write_csv(tmp_path / "a.csv", _records(300))).accepted == 300
    expected = _secondary_indexes(store, "incidents")
    w = open_writer(store.engine, arrow=arrow)
    try:
        if staged and arrow:
            data = pa.table({"source_id": ["W0001"], "content_hash": ["x"]})
            with w.batch_transaction() as cur:
                present, _ = w.match_stored(cur, "incidents", "a", data)
            assert present.tolist() == [True]
        w.drop_secondary_indexes("incidents")
        w.ensure_indexes("incidents")
        assert w.missing_indexes("incidents") == []
        assert _pragma(w, "temp_store") == 2  # MEMORY again, for the staged batches
        assert _pragma(w, "cache_size") == -262144
    finally:
        w.close()
    assert _secondary_indexes(store, "incidents") == expected
    assert store.rows("PRAGMA integrity_check") == [("ok",)]
