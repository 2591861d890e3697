"""Engines and sessions for the embedded SQLite default and PostgreSQL.

Nothing connects at import: engines are built by :func:`make_engine` from a URL that the CLI or
``create_app`` takes from settings.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SERVER_POOL_SIZE = 20
"""Connections a server database's pool keeps open (see :func:`make_engine`)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL mode, foreign keys and a busy timeout.

    The SQLite file's folder is created if missing. Server databases check each connection as
    it leaves the pool (``pool_pre_ping``, a round trip); a caller that retries a failed unit
    of work anyway, such as a stream consumer whose batch is redelivered, may pass
    ``pool_pre_ping=False``: a connection found dead then fails that one unit, and SQLAlchemy
    drops the pool's other connections with it.

    A server database's pool keeps up to :data:`SERVER_POOL_SIZE` connections open. Each
    request an API process serves at once may hold one (in the thread pool), and a connection
    beyond the pool's size is closed when given back: with SQLAlchemy's default of 5, 20 map
    clients on two API processes opened and closed a PostgreSQL connection (a new server
    process) on most requests, and the map's p95 rose from about 60 ms to 400–700 ms
    (``bench_map.py``, PostgreSQL, session 5). Connections open only as concurrency needs them.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", SERVER_POOL_SIZE)
    return create_engine(url, **kwargs)


_WAL_SWITCH_SECONDS = 30.0


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL, retrying while another process holds the switch.

    Changing the journal mode needs an exclusive lock and SQLite reports ``database is locked``
    at once, without the busy handler, when two processes open a fresh file together.
    """
    deadline = time.monotonic() + _WAL_SWITCH_SECONDS
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
