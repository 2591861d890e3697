"""Batch writers (批量写入): SQLite through ADBC (Arrow), PostgreSQL through COPY.

Each batch is one transaction holding its rows, its quarantine rows and the update of the
import's batch row, so a killed import leaves only whole batches behind.

A batch arrives as an Arrow table whose columns are named and typed like the store table
(timestamps as UTC text, JSON as text, nulls as nulls). On SQLite it goes in through
``adbc_driver_sqlite`` (``adbc_ingest``: the rows are bound column-wise in C, about 3.5 times
less CPU than ``sqlite3.executemany``); without that driver, or for an in-memory database, the
rows are bound through the ``sqlite3`` module instead. Rows whose ids may already be stored are
staged in a TEMP table and matched against the store with set-based SQL, never row by row.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
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
_QUARANTINE_SCHEMA = pa.schema(
    [
        ("batch_id", pa.int64()),
        ("kind", pa.string()),
        ("file_name", pa.string()),
        ("row_number", pa.int64()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)
STAGE_TABLE = "_haizhou_stage"
"""TEMP table (per connection) holding a batch while it is matched against the store."""


def table_rows(data: pa.Table) -> list[tuple[Any, ...]]:
    """Rows of an Arrow table as tuples of Python values, for a DBAPI ``executemany``/COPY."""
    if data.num_columns == 0:
        return [()] * data.num_rows
    return list(zip(*(column.to_pylist() for column in data.columns), strict=True))


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

    def insert_table(
        self, cur: Any, table: str, data: pa.Table, constants: dict[str, Any] | None = None
    ) -> int:
        """Insert the rows of ``data`` (plus ``constants``, column → value common to every
        row), skipping ids already stored; returns how many were written."""
        return self.insert_rows(cur, table, data.column_names, table_rows(data), constants)

    def match_stored(
        self, cur: Any, table: str, source: str, data: pa.Table
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which rows of ``data`` have their id already stored, and which of those with the
        same ``content_hash``; two boolean masks aligned with the rows."""
        key = _KEY.get(table, ("source_id",))[0]
        ids = data.column(key).to_pylist()
        stored = self.existing(table, source, ids)
        present = np.zeros(len(ids), dtype=bool)
        identical = np.zeros(len(ids), dtype=bool)
        if stored:
            hashes = data.column("content_hash").to_pylist()
            for j, (i, h) in enumerate(zip(ids, hashes, strict=True)):
                known = stored.get(str(i))
                if known is not None:
                    present[j] = True
                    identical[j] = known == h
        return present, identical

    def lock(self, cur: Any, batch_id: int) -> None:
        """Take the write lock at the start of a batch transaction (no-op by default)."""

    @contextmanager
    def batch_transaction(self) -> Iterator[Any]:
        """The transaction of one batch (its rows, quarantine rows and batch-row update)."""
        with self.transaction() as cur:
            yield cur

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

    def helper_cpu_seconds(self) -> float:
        """CPU seconds used so far by helper processes of this writer (none by default)."""
        return 0.0

    def index_statements(self, table: str) -> list[str]:
        """``CREATE INDEX IF NOT EXISTS`` of every index the schema declares on ``table``."""
        from sqlalchemy.schema import CreateIndex

        from haizhou.store.tables import metadata

        return [
            str(CreateIndex(index, if_not_exists=True).compile(dialect=self.engine.dialect))
            for index in sorted(metadata.tables[table].indexes, key=lambda ix: ix.name or "")
        ]

    def ensure_indexes(self, table: str) -> None:
        """Create any index of ``table`` that the schema declares and the database lacks."""
        statements = self.index_statements(table)
        if not statements:
            return
        self._before_index_build()
        try:
            with self.transaction() as cur:  # one transaction: one WAL write, one checkpoint
                for sql in statements:
                    cur.execute(sql)
        finally:
            self._after_index_build()

    def missing_indexes(self, table: str) -> list[str]:
        """Names of the indexes of ``table`` that the schema declares and the database lacks."""
        from haizhou.store.tables import metadata

        declared = {ix.name for ix in metadata.tables[table].indexes if ix.name}
        if self.dialect == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        else:
            sql = (
                "SELECT indexname FROM pg_indexes "
                "WHERE schemaname = current_schema() AND tablename = %s"
            )
        present = {str(name) for (name,) in self.query(sql, [table])}
        return sorted(declared - present)

    def _before_index_build(self) -> None:
        """Hook: tune the connection before ``CREATE INDEX`` statements."""

    def _after_index_build(self) -> None:
        """Hook: undo :meth:`_before_index_build`."""

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
        for pragma in _LOAD_PRAGMAS:
            self.conn.execute(f"PRAGMA {pragma}")
        # checkpoint once at the end instead of after every batch: index pages dirtied by
        # every batch are then copied to the database file once
        self._autocheckpoint = self.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")

    def _before_index_build(self) -> None:
        for pragma in INDEX_BUILD_PRAGMAS:
            self.conn.execute(f"PRAGMA {pragma}")

    def _after_index_build(self) -> None:
        for pragma in _LOAD_PRAGMAS:
            self.conn.execute(f"PRAGMA {pragma}")

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


class AdbcSqliteWriter(SqliteWriter):
    """SQLite writer whose batches go through ADBC (``adbc_driver_sqlite``) as Arrow tables.

    The ``sqlite3`` connection of the engine keeps the small statements (the batch row,
    lookups, index builds); the batches are written by an ADBC connection that lives in a
    child process (:class:`_AdbcProcess`). Why a process: the ADBC driver carries its own copy
    of the SQLite library, and two copies in one process do not see each other's POSIX locks,
    so on a WAL database they lose updates and delete each other's WAL
    (https://sqlite.org/howtocorrupt.html, section 2.2.1). In its own process the copy is an
    ordinary second client, and the batch writes run on the second core while this process
    reads and validates the next chunk. The child's transactions are explicit and always end
    in a commit or a rollback.
    """

    def __init__(self, engine: Engine, path: str) -> None:
        super().__init__(engine)
        try:
            self.adbc = _AdbcProcess(path)
        except BaseException:
            super().close()
            raise
        self._staged: str | None = None

    def close(self) -> None:
        try:
            self.adbc.close()
        finally:
            super().close()

    @contextmanager
    def batch_transaction(self) -> Iterator[Any]:
        cur = self.adbc.cursor()
        self.adbc.rollback()  # a fresh transaction: no snapshot older than this batch
        try:
            yield cur
        except BaseException:
            self.adbc.rollback()
            raise
        else:
            if self._staged is not None:
                cur.execute(f'DROP TABLE IF EXISTS temp."{STAGE_TABLE}"')
            self.adbc.commit()
        finally:
            self._staged = None
            cur.close()

    def helper_cpu_seconds(self) -> float:
        return self.adbc.cpu_seconds()

    def ensure_indexes(self, table: str) -> None:
        """Build missing indexes in the writer process: its SQLite is newer (a faster sorter,
        about 15 % less CPU) and its page cache still holds the rows just written."""
        if not self.missing_indexes(table):
            return
        cur = self.adbc.cursor()
        self.adbc.rollback()
        try:
            for pragma in INDEX_BUILD_PRAGMAS:
                # temp_store cannot change once this connection has a TEMP table (a batch was
                # staged): the sort then stays in memory on one core, as before
                with contextlib.suppress(_AdbcError):
                    cur.execute(f"PRAGMA {pragma}")
            for sql in self.index_statements(table):
                cur.execute(sql)
        except BaseException:
            self.adbc.rollback()
            raise
        else:
            self.adbc.commit()
        finally:
            for pragma in _LOAD_PRAGMAS:
                with contextlib.suppress(_AdbcError):
                    cur.execute(f"PRAGMA {pragma}")
            cur.close()

    def lock(self, cur: Any, batch_id: int) -> None:
        """Take the write lock first (waiting for other writers), before any read."""
        cur.execute("UPDATE import_batches SET status = status WHERE id = ?", [batch_id])

    def match_stored(
        self, cur: Any, table: str, source: str, data: pa.Table
    ) -> tuple[np.ndarray, np.ndarray]:
        n = data.num_rows
        present = np.zeros(n, dtype=bool)
        identical = np.zeros(n, dtype=bool)
        if n == 0:
            return present, identical
        key = _KEY.get(table, ("source_id",))[0]
        staged = data.append_column("_position", pa.array(np.arange(n, dtype=np.int64)))
        cur.execute(f'DROP TABLE IF EXISTS temp."{STAGE_TABLE}"')
        cur.adbc_ingest(STAGE_TABLE, staged, mode="create", temporary=True)
        self._staged = table
        where, params = ("", []) if table in _KEY else ("t.source = ? AND ", [source])
        cur.execute(
            f'SELECT s._position, t.content_hash = s.content_hash FROM temp."{STAGE_TABLE}" s '
            f'JOIN "{table}" t ON {where}t."{key}" = s."{key}"',
            params,
        )
        found = cur.fetch_arrow_table()
        if found.num_rows:
            idx = found.column(0).to_numpy()
            present[idx] = True
            identical[idx] = found.column(1).fill_null(0).to_numpy(zero_copy_only=False) == 1
        return present, identical

    def insert_table(
        self, cur: Any, table: str, data: pa.Table, constants: dict[str, Any] | None = None
    ) -> int:
        """Append the rows; rows whose id is stored (the batch was staged by
        :meth:`match_stored`) are left out by the unique key. Without staging, a stored id
        aborts the statement and 0 is returned: the caller rolls back and stages."""
        n = data.num_rows
        if n == 0:
            return 0
        constants = constants or {}
        if self._staged == table:
            cols = [*data.column_names, *constants]
            names = ", ".join(f'"{c}"' for c in cols)
            values = ", ".join(
                [f's."{c}"' for c in data.column_names]
                + [_sql_literal(v) for v in constants.values()]
            )
            cur.execute(
                f'INSERT OR IGNORE INTO "{table}" ({names}) SELECT {values} '
                f'FROM temp."{STAGE_TABLE}" s ORDER BY s._position'
            )
            cur.execute("SELECT changes()")
            return int(cur.fetchall()[0][0])
        for name, value in constants.items():
            data = data.append_column(name, pa.repeat(pa.scalar(value), n))
        try:
            return int(cur.adbc_ingest(table, data, mode="append"))
        except Exception as exc:
            if "UNIQUE constraint failed" in str(exc):
                return 0
            raise

    def insert_quarantine(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            columns = list(zip(*rows, strict=True))
            data = pa.Table.from_arrays(
                [
                    pa.array(list(values), type=f.type)
                    for values, f in zip(columns, _QUARANTINE_SCHEMA, strict=True)
                ],
                schema=_QUARANTINE_SCHEMA,
            )
            cur.adbc_ingest("quarantine", data, mode="append")


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


_LOAD_PRAGMAS = ("cache_size = -262144", "temp_store = MEMORY")
"""While batches are written: a big page cache keeps index inserts in memory, TEMP tables (the
staged batch) in memory."""

INDEX_BUILD_PRAGMAS = ("temp_store = FILE", "threads = 2", "cache_size = -16384")
"""While ``CREATE INDEX`` sorts: SQLite's sorter uses helper threads only when its runs go to
temporary files (never with ``temp_store = MEMORY``) and there is more than one run, i.e. when
the keys exceed its memory limit (the page cache size). So: file runs of 16 MB (unlinked
temporary files, mostly in the OS page cache) sorted by two helper threads while the main
thread reads the table; at a million incidents the main thread then does about 40 % of the
sorting CPU instead of all of it."""

_ADBC_PRAGMAS = (
    "busy_timeout = 30000",
    *_LOAD_PRAGMAS,
    "wal_autocheckpoint = 0",
    "foreign_keys = ON",
)


class _AdbcProcess:
    """An ADBC SQLite connection in a child process, driven like a DBAPI connection.

    Only what the batch writer needs: ``cursor()`` (``execute``, ``fetchall``,
    ``fetch_arrow_table``, ``adbc_ingest``), ``commit``, ``rollback`` and ``close``. Arrow
    tables cross the pipe as Arrow IPC buffers. If this process dies, the child sees the pipe
    close, rolls back and exits.
    """

    def __init__(self, path: str) -> None:
        import os
        import socket
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        # a plain interpreter (not multiprocessing's spawn, which re-imports the caller's
        # __main__), talking over a socket pair with multiprocessing's message framing
        mine, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    f"PRAGMAS = {_ADBC_PRAGMAS!r}\n{_CHILD_SOURCE}",
                    str(theirs.fileno()),
                    path,
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            theirs.close()
        self._pipe = Connection(mine.detach())
        # No handshake here: the child starts (about half a second: an interpreter, pyarrow,
        # the driver) while this process reads and validates the first chunk; the first call
        # waits for it, and a child that failed to start is reported there.

    def _call(self, op: str, *args: Any, payload: pa.Buffer | None = None) -> Any:
        try:
            self._pipe.send((op, args))
            if payload is not None:  # Arrow IPC bytes as they are, not pickled
                self._pipe.send_bytes(memoryview(payload))
            status, value = self._pipe.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            raise RuntimeError(
                f"the ADBC writer process stopped (exit code {self._process.poll()})"
            ) from exc
        if status == "error":
            kind, message = value
            raise _AdbcError(f"{kind}: {message}")
        return value

    def cursor(self) -> _AdbcCursor:
        return _AdbcCursor(self)

    def cpu_seconds(self) -> float:
        """CPU seconds the writer process has used so far (Linux ``/proc``; 0 elsewhere)."""
        import os

        try:
            with open(f"/proc/{self._process.pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def commit(self) -> None:
        self._call("commit")

    def rollback(self) -> None:
        self._call("rollback")

    def close(self) -> None:
        import subprocess

        if self._process.poll() is None:
            with contextlib.suppress(Exception):
                self._call("close")
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck child
            self._process.kill()
            self._process.wait()
        self._pipe.close()


class _AdbcError(Exception):
    """An error raised by the ADBC connection in the writer process."""


class _AdbcCursor:
    def __init__(self, conn: _AdbcProcess) -> None:
        self._conn = conn
        self._result: pa.Table | None = None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        # parameters are written into the statement as literals: binding them in the child
        # would make pyarrow import pandas there (a second of CPU per import)
        self._result = self._conn._call("execute", _inline(sql, params or ()))

    def fetch_arrow_table(self) -> pa.Table:
        if self._result is None:
            raise _AdbcError("the last statement returned no rows")
        return self._result

    def fetchall(self) -> list[tuple[Any, ...]]:
        return table_rows(self.fetch_arrow_table())

    def adbc_ingest(
        self, table: str, data: pa.Table, mode: str = "append", *, temporary: bool = False
    ) -> int:
        return int(self._conn._call("ingest", table, mode, temporary, payload=_to_ipc(data)))

    def close(self) -> None:
        self._result = None


def _inline(sql: str, params: Sequence[Any]) -> str:
    """``sql`` with each ``?`` replaced by the SQL literal of its parameter (our own
    statements only: no ``?`` inside their string literals)."""
    pieces = sql.split("?")
    if len(pieces) != len(params) + 1:
        raise ValueError(f"{len(pieces) - 1} placeholders for {len(params)} parameters: {sql}")
    out = [pieces[0]]
    for value, piece in zip(params, pieces[1:], strict=True):
        out.append("NULL" if value is None else _sql_literal(value))
        out.append(piece)
    return "".join(out)


def _to_ipc(data: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as stream:
        stream.write_table(data)
    return sink.getvalue()


# The writer process runs this with ``python -c``: it imports only pyarrow and the ADBC driver
# manager (about 0.3 s of CPU; the DBAPI layer of ADBC would pull in pandas, and this package
# everything else).
_CHILD_SOURCE = """
import sys
from multiprocessing.connection import Connection

import adbc_driver_manager as adbc
import adbc_driver_sqlite
import pyarrow as pa
from adbc_driver_manager import _lib

pipe = Connection(int(sys.argv[1]))
database = adbc_driver_sqlite.connect(sys.argv[2])
conn = adbc.AdbcConnection(database)
conn.set_autocommit(False)
MODES = {
    "append": _lib.INGEST_OPTION_MODE_APPEND,
    "create": _lib.INGEST_OPTION_MODE_CREATE,
}


def run(sql):
    stmt = adbc.AdbcStatement(conn)
    try:
        stmt.set_sql_query(sql)
        if sql.lstrip()[:6].upper() in ("SELECT", "PRAGMA"):
            handle, _ = stmt.execute_query()
            return pa.RecordBatchReader._import_from_c_capsule(handle.__arrow_c_stream__()).read_all()
        stmt.execute_update()
        return None
    finally:
        stmt.close()


def ingest(table, data, mode, temporary):
    stmt = adbc.AdbcStatement(conn)
    try:
        options = {_lib.INGEST_OPTION_TARGET_TABLE: table, _lib.INGEST_OPTION_MODE: MODES[mode]}
        if temporary:
            options[adbc.StatementOptions.INGEST_TEMPORARY.value] = "true"
        stmt.set_options(**options)
        stmt.bind_stream(data)
        return stmt.execute_update()
    finally:
        stmt.close()


for pragma in PRAGMAS:
    run("PRAGMA " + pragma)
conn.commit()
try:
    while True:
        try:
            op, args = pipe.recv()
        except EOFError:
            conn.rollback()
            break
        try:
            value = None
            if op == "execute":
                value = run(*args)
            elif op == "ingest":
                value = ingest(*args[:1], pa.ipc.open_stream(pipe.recv_bytes()).read_all(), *args[1:])
            elif op == "commit":
                conn.commit()
            elif op == "rollback":
                conn.rollback()
            elif op == "close":
                conn.rollback()
                pipe.send(("ok", None))
                break
            pipe.send(("ok", value))
        except Exception as exc:
            pipe.send(("error", (type(exc).__name__, str(exc))))
finally:
    conn.close()
    database.close()
"""


def _sql_literal(value: Any) -> str:
    """A SQL literal for a constant of the batch (an int or a text)."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"unsupported constant {value!r}")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def _adbc_sqlite() -> Any:
    """The ``adbc_driver_sqlite.dbapi`` module, or None if it is not installed."""
    try:
        import adbc_driver_sqlite.dbapi
    except ImportError:
        return None
    return adbc_driver_sqlite.dbapi


def open_writer(engine: Engine, *, arrow: bool = True) -> BatchWriter:
    """The writer for the engine's database (SQLite or PostgreSQL).

    Parameters
    ----------
    engine
        The store's engine.
    arrow
        SQLite: write batches through ADBC when ``adbc_driver_sqlite`` is installed and the
        database is a file; False: always through ``sqlite3``.
    """
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        usable = arrow and _adbc_sqlite() is not None
        if usable and path and path != ":memory:" and not path.startswith("file:"):
            return AdbcSqliteWriter(engine, path)
        return SqliteWriter(engine)
    if engine.dialect.name == "postgresql":
        return PostgresWriter(engine)
    raise ValueError(f"imports support SQLite and PostgreSQL, not {engine.dialect.name}")
