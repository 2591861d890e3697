"""Backup and restore of the store (备份与恢复).

- SQLite: SQLite's online backup API, a consistent copy while the platform runs; restore
  copies the file back the same way (stop the API and workers first).
- PostgreSQL: ``pg_dump --format=custom`` / ``pg_restore --clean`` when the client tools are
  installed (only the current schema when the URL sets a ``search_path``); otherwise, or with
  ``portable=True``, a portable dump: gzip'd JSON lines of every table, restorable into SQLite or
  PostgreSQL at the same schema revision.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine, Integer, select, text
from sqlalchemy.engine import make_url

from haizhou.errors import HaizhouError
from haizhou.store import migrate
from haizhou.store.engine import make_engine
from haizhou.store.tables import metadata

PORTABLE_FORMAT = "haizhou-portable"
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"


class BackupError(HaizhouError):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    """What was written or read: ``format`` (sqlite, pg_dump, portable), file, size."""

    format: str
    path: str
    bytes: int
    rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "path": self.path, "bytes": self.bytes, "rows": self.rows}


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq(url: str) -> tuple[str, str | None]:
    """The libpq URI of a SQLAlchemy PostgreSQL URL, and the schema its search_path names."""
    parsed = make_url(url)
    options = str(parsed.query.get("options", ""))
    schema = None
    for part in unquote(options).split():
        if part.startswith("-csearch_path="):
            schema = part.split("=", 1)[1].split(",")[0].strip('"')
    uri = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return uri, schema


def _pg_tools() -> bool:
    return shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip().splitlines()[-1:]}")


def backup(url: str, out: Path, *, portable: bool = False) -> BackupResult:
    """Write a backup of the store at ``url`` to ``out`` (replaced atomically)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    rows = None
    if url.startswith("sqlite") and not portable:
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        fmt = "sqlite"
    elif url.startswith("postgresql") and not portable and _pg_tools():
        uri, schema = _libpq(url)
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"]
            + ([f"--schema={schema}"] if schema else [])
            + [f"--dbname={uri}"]
        )
        fmt = "pg_dump"
    else:
        rows = _portable_dump(url, partial)
        fmt = "portable"
    os.replace(partial, out)
    return BackupResult(fmt, str(out), out.stat().st_size, rows)


def restore(url: str, file: Path) -> BackupResult:
    """Replace the store at ``url`` by the backup in ``file`` (stop the API and workers first)."""
    if not file.is_file():
        raise BackupError(f"{file} does not exist; give a file written by `haizhou backup`")
    with file.open("rb") as handle:
        magic = handle.read(16)
    rows = None
    if magic.startswith(SQLITE_MAGIC):
        if not url.startswith("sqlite"):
            raise BackupError("a SQLite backup restores into SQLite; use a portable backup")
        source = sqlite3.connect(file)
        target = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        fmt = "sqlite"
    elif magic.startswith(PGDUMP_MAGIC):
        if not url.startswith("postgresql") or not _pg_tools():
            raise BackupError("a pg_dump backup needs PostgreSQL and pg_restore installed")
        uri, _schema = _libpq(url)
        _run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
             "--single-transaction", f"--dbname={uri}", str(file)]
        )  # fmt: skip
        fmt = "pg_dump"
    elif magic.startswith(GZIP_MAGIC):
        rows = _portable_load(url, file)
        fmt = "portable"
    else:
        raise BackupError(f"{file} is not a Haizhou backup (SQLite, pg_dump or portable)")
    return BackupResult(fmt, str(file), file.stat().st_size, rows)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return {"$t": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        if "$t" in value:
            text_value = value["$t"]
            return (
                date.fromisoformat(text_value)
                if len(text_value) == 10
                else datetime.fromisoformat(text_value)
            )
        if "$b" in value:
            return base64.b64decode(value["$b"])
    return value


def _portable_dump(url: str, out: Path) -> int:
    engine = make_engine(url)
    total = 0
    try:
        with engine.connect() as conn, gzip.open(out, "wt", encoding="utf-8") as handle:
            header = {"format": PORTABLE_FORMAT, "version": 1, "revision": migrate.current(url)}
            handle.write(json.dumps(header) + "\n")
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)).mappings():
                    record = {key: _encode(value) for key, value in row.items()}
                    handle.write(json.dumps({"t": table.name, "r": record}, ensure_ascii=False))
                    handle.write("\n")
                    total += 1
    finally:
        engine.dispose()
    return total


def _portable_load(url: str, file: Path) -> int:
    with gzip.open(file, "rt", encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        if header.get("format") != PORTABLE_FORMAT:
            raise BackupError(f"{file} is not a Haizhou portable backup")
        migrate.upgrade(url)
        current = migrate.current(url)
        if header.get("revision") not in (None, current):
            raise BackupError(
                f"{file} is at schema revision {header['revision']} and the store at {current}; "
                "restore with the Haizhou version that made the backup"
            )
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())
                total = 0
                batch: dict[str, list[dict[str, Any]]] = {}
                for line in handle:
                    item = json.loads(line)
                    table = metadata.tables[item["t"]]
                    row = {k: _decode(v) for k, v in item["r"].items()}
                    batch.setdefault(item["t"], []).append(row)
                    total += 1
                    if len(batch[item["t"]]) >= 1000:
                        conn.execute(table.insert(), batch.pop(item["t"]))
                for name in [t.name for t in metadata.sorted_tables]:
                    if batch.get(name):
                        conn.execute(metadata.tables[name].insert(), batch.pop(name))
                _reset_sequences(engine, conn)
        finally:
            engine.dispose()
    return total


def _reset_sequences(engine: Engine, conn: Any) -> None:
    """After explicit ids were inserted, PostgreSQL's sequences must continue after them."""
    if engine.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false) "
                        f"WHERE pg_get_serial_sequence('{table.name}', '{column.name}') IS NOT NULL"
                    )
                )
