"""Batch writers (批量写入): SQLite through the raw DBAPI, PostgreSQL through COPY.

Each batch is one transaction holding its rows, its quarantine rows and the update of the
import's batch row, so a killed import leaves only whole batches behind.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

QUARANTINE_COLUMNS = (
    "batch_id",
    "kind",
    "file_name",
    "row_number",
    "column",
    "value",
    "reason",
    "raw",
)
_KEY = {"jurisdictions": ("code",)}


class BatchWriter:
    """Writes batches for one import; use :func:`open_writer`."""

    dialect = "?"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._proxy = engine.raw_connection()
        self.conn: Any = self._proxy.driver_connection

    def close(self) -> None:
        self._proxy.close()

    # -- reads -------------------------------------------------------------------------
    def existing(self, table: str, source: str, ids: Sequence[str]) -> dict[str, str]:
        """``source_id → content_hash`` of rows already stored among ``ids``."""
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return list(cur.fetchall())
        finally:
            cur.close()

    # -- writes ------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def insert_rows(
        self,
        cur: Any,
        table: str,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
        constants: dict[str, Any] | None = None,
    ) -> int:
        """Insert rows, skipping ids already stored; returns how many were written.

        ``constants`` (SQLite only): column → value common to every row, written as a literal.
        """
        raise NotImplementedError

    def insert_quarantine(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._insert_plain(cur, "quarantine", QUARANTINE_COLUMNS, rows)

    def _insert_plain(
        self, cur: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        p = self.placeholder
        cols = ", ".join(f'"{c}"' for c in columns)
        cur.executemany(
            f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join([p] * len(columns))})', rows
        )

    placeholder = "?"

    def ensure_indexes(self, table: str) -> None:
        """Create any index of ``table`` that the schema declares and the database lacks."""
        from sqlalchemy.schema import CreateIndex

        from haizhou.store.tables import metadata

        statements = [
            str(CreateIndex(index, if_not_exists=True).compile(dialect=self.engine.dialect))
            for index in sorted(metadata.tables[table].indexes, key=lambda ix: ix.name or "")
        ]
        with self.transaction() as cur:  # one transaction: one WAL write, one checkpoint
            for sql in statements:
                cur.execute(sql)

    def new_batch(self, values: dict[str, Any]) -> int:
        with self.transaction() as cur:
            cols = list(values)
            p = self.placeholder
            sql = (
                f"INSERT INTO import_batches ({', '.join(cols)}) "
                f"VALUES ({', '.join([p] * len(cols))})"
            )
            if self.dialect == "postgresql":
                cur.execute(sql + " RETURNING id", list(values.values()))
                return int(cur.fetchone()[0])
            cur.execute(sql, list(values.values()))
            return int(cur.lastrowid)

    def update_batch(
        self,
        cur: Any,
        batch_id: int,
        *,
        accepted: int,
        quarantined: int,
        skipped: int,
        status: str | None = None,
        finished_at: str | None = None,
    ) -> None:
        p = self.placeholder
        sets = [
            f"accepted = accepted + {p}",
            f"quarantined = quarantined + {p}",
            f"skipped_duplicates = skipped_duplicates + {p}",
        ]
        params: list[Any] = [accepted, quarantined, skipped]
        if status is not None:
            sets.append(f"status = {p}")
            params.append(status)
        if finished_at is not None:
            sets.append(f"finished_at = {p}")
            params.append(finished_at)
        params.append(batch_id)
        cur.execute(f"UPDATE import_batches SET {', '.join(sets)} WHERE id = {p}", params)


class SqliteWriter(BatchWriter):
    dialect = "sqlite"

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._isolation = self.conn.isolation_level
        self.conn.isolation_level = None  # explicit BEGIN/COMMIT
        # a big page cache keeps index inserts in memory during the batch
        self.conn.execute("PRAGMA cache_size = -262144")
        self.conn.execute("PRAGMA temp_store = MEMORY")
        # checkpoint once at the end instead of after every batch: index pages dirtied by
        # every batch are then copied to the database file once
        self._autocheckpoint = self.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")

    def close(self) -> None:
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {int(self._autocheckpoint)}")
        with contextlib.suppress(Exception):  # a checkpoint is only an optimisation
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.conn.execute("PRAGMA cache_size = -2000")
        self.conn.isolation_level = self._isolation
        super().close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    # -- bulk loading -----------------------------------------------------------------
    def table_is_empty(self, table: str) -> bool:
        return not self.query(f'SELECT 1 FROM "{table}" LIMIT 1')

    def drop_secondary_indexes(self, table: str) -> list[str]:
        """Drop the table's non-unique indexes (a bulk load rebuilds them at the end, which
        sorts once instead of updating nine B-trees per row). Returns their names."""
        dropped = []
        for name, sql in self.query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]
        ):
            if sql and not sql.lstrip().upper().startswith("CREATE UNIQUE"):
                self.conn.execute(f'DROP INDEX "{name}"')
                dropped.append(name)
        return dropped

    def existing(self, table: str, source: str, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        key = _KEY.get(table, ("source_id",))[0]
        where = "" if table in _KEY else "source = ? AND "
        params: list[Any] = [] if table in _KEY else [source]
        params.append(json.dumps(list(ids), ensure_ascii=False))
        rows = self.query(
            f"SELECT {key}, content_hash FROM {table} WHERE {where}"
            f"{key} IN (SELECT value FROM json_each(?))",
            params,
        )
        return {str(k): v for k, v in rows}

    def insert_rows(
        self,
        cur: Any,
        table: str,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
        constants: dict[str, Any] | None = None,
    ) -> int:
        if not rows:
            return 0
        constants = constants or {}
        cols = ", ".join(f'"{c}"' for c in [*columns, *constants])
        values = ", ".join(["?"] * len(columns) + [_sql_literal(v) for v in constants.values()])
        before = self.conn.total_changes
        cur.executemany(f'INSERT OR IGNORE INTO "{table}" ({cols}) VALUES ({values})', rows)
        return self.conn.total_changes - before


class PostgresWriter(BatchWriter):
    dialect = "postgresql"
    placeholder = "%s"

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        cur = self.conn.cursor()
        try:
            yield cur
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()
        finally:
            cur.close()

    def existing(self, table: str, source: str, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        key = _KEY.get(table, ("source_id",))[0]
        if table in _KEY:
            rows = self.query(
                f"SELECT {key}, content_hash FROM {table} WHERE {key} = ANY(%s)", [list(ids)]
            )
        else:
            rows = self.query(
                f"SELECT {key}, content_hash FROM {table} WHERE source = %s AND {key} = ANY(%s)",
                [source, list(ids)],
            )
        self.conn.commit()
        return {str(k): v for k, v in rows}

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = super().query(sql, params)
        self.conn.commit()
        return rows

    def insert_rows(
        self,
        cur: Any,
        table: str,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
        constants: dict[str, Any] | None = None,
    ) -> int:
        if not rows:
            return 0
        if constants:
            columns = [*columns, *constants]
            extra = tuple(constants.values())
            rows = [row + extra for row in rows]
        cols = ", ".join(f'"{c}"' for c in columns)
        cur.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "_load_{table}" AS SELECT {cols} FROM "{table}" WITH NO DATA'
        )
        cur.execute(f'TRUNCATE "_load_{table}"')
        with cur.copy(f'COPY "_load_{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        conflict = ", ".join(_KEY.get(table, ("source", "source_id")))
        cur.execute(
            f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "_load_{table}" '
            f"ON CONFLICT ({conflict}) DO NOTHING"
        )
        return int(cur.rowcount)


def _sql_literal(value: Any) -> str:
    """A SQL literal for a constant of the batch (an int or a text)."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"unsupported constant {value!r}")
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def open_writer(engine: Engine) -> BatchWriter:
    """The writer for the engine's database (SQLite or PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        return SqliteWriter(engine)
    if engine.dialect.name == "postgresql":
        return PostgresWriter(engine)
    raise ValueError(f"imports support SQLite and PostgreSQL, not {engine.dialect.name}")
