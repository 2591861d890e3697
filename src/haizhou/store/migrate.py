"""Schema migrations (数据库迁移) on SQLite and PostgreSQL, driven from code.

The Alembic scripts ship inside the package (``haizhou/store/migrations``); there is no
``alembic.ini``. Every function here builds the Alembic configuration in code, opens its own
connection from the URL the caller gives, and runs under a migration lock so two processes
upgrading the same database at once do not both create the tables:

- PostgreSQL: a transaction-scoped advisory lock (``pg_advisory_xact_lock``) keyed on the
  current schema, and the whole upgrade in one transaction (PostgreSQL has transactional DDL);
- SQLite: ``BEGIN IMMEDIATE``, which takes the database's write lock before Alembic reads the
  current revision; the other process waits (busy timeout) and then finds the schema at head.

Examples
--------
>>> import tempfile, pathlib
>>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'doc.db'}"
>>> upgrade(url) == head()
True
>>> check(url)
[]
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from haizhou.errors import HaizhouError
from haizhou.store import tables
from haizhou.store.engine import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# First key of PostgreSQL's two-key advisory lock: "HZmg" as a 32-bit integer. The second key
# is hashtext(current_schema()), so two schemas of one database migrate independently.
_PG_LOCK_CLASS = 0x485A6D67

__all__ = [
    "MIGRATIONS_DIR",
    "DatabaseUnreachableError",
    "MigrationError",
    "autogenerate_revision",
    "check",
    "complete_metadata",
    "current",
    "downgrade",
    "head",
    "revision_of",
    "safe_url",
    "upgrade",
]


class MigrationError(HaizhouError):
    """A migration could not run; the message says on which database and what to do."""


class DatabaseUnreachableError(MigrationError):
    """The database does not answer (wrong URL, server down, file not writable)."""


def complete_metadata() -> MetaData:
    """The table metadata with every module of :mod:`haizhou.store.tables` imported.

    ``tables/__init__.py`` is meant to import them all; importing each module here as well
    means a table module that was forgotten there is still migrated and checked, instead of
    appearing or vanishing with whatever the process happened to import first.
    """
    for module in pkgutil.iter_modules(tables.__path__):
        importlib.import_module(f"{tables.__name__}.{module.name}")
    return tables.metadata


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs.

    >>> safe_url("postgresql+psycopg://haizhou:s3cret@db:5432/haizhou")
    'postgresql+psycopg://haizhou:***@db:5432/haizhou'
    """
    return make_url(url).render_as_string(hide_password=True)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` built in code.

    ``script_location`` is the ``migrations`` folder inside the installed package; the open
    ``connection`` (if any) is handed to ``env.py`` through ``config.attributes``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision shipped with this version of Haizhou.

    Raises
    ------
    MigrationError
        If the scripts have more than one head (two branches to merge).
    """
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise MigrationError(
            f"the migration scripts have {len(heads)} heads ({', '.join(heads) or 'none'}); "
            "merge them with a merge revision before upgrading"
        )
    return heads[0]


def upgrade(url: str | URL, revision: str = "head") -> str | None:
    """Migrate the database at ``url`` up to ``revision`` (default: the newest).

    Idempotent: a database already at ``revision`` is left as it is. Safe to call from several
    processes at once (see the module docstring).

    Parameters
    ----------
    url
        SQLAlchemy URL, e.g. ``sqlite:////var/lib/haizhou/haizhou.db`` or
        ``postgresql+psycopg://haizhou@db:5432/haizhou``.
    revision
        Target revision id, ``"head"`` or a relative step such as ``"+1"``.

    Returns
    -------
    str or None
        The revision the database is at afterwards.

    Raises
    ------
    DatabaseUnreachableError
        If the database cannot be opened.
    MigrationError
        If a migration fails; the transaction is rolled back and the database keeps its
        previous revision.
    """
    with _locked_connection(url) as connection:
        _run(lambda cfg: command.upgrade(cfg, revision), connection, url, f"upgrade to {revision}")
        return revision_of(connection)


def downgrade(url: str | URL, revision: str) -> str | None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops every table).

    There is no default: dropping data must be asked for by name.

    Returns
    -------
    str or None
        The revision afterwards (``None`` at base).
    """
    with _locked_connection(url) as connection:
        _run(
            lambda cfg: command.downgrade(cfg, revision),
            connection,
            url,
            f"downgrade to {revision}",
        )
        return revision_of(connection)


def current(url: str | URL) -> str | None:
    """The revision the database at ``url`` is at; ``None`` for an empty (unmigrated) database.

    Raises
    ------
    DatabaseUnreachableError
        If the database cannot be opened.
    """
    engine = _engine(url)
    try:
        with _connect(engine, url) as connection:
            return revision_of(connection)
    finally:
        engine.dispose()


def revision_of(connection: Connection) -> str | None:
    """The revision recorded in an open connection's database (``None`` if unmigrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def check(url: str | URL) -> list[str]:
    """Differences between the table models and the database at ``url``, like ``alembic check``.

    Returns
    -------
    list of str
        One readable line per difference; empty when the database is at the newest revision
        and matches the table models (:func:`complete_metadata`) exactly. A database behind the
        newest revision gives one line saying so (run ``haizhou db upgrade``).
    """
    engine = _engine(url)
    try:
        with _connect(engine, url) as connection:
            at = revision_of(connection)
            expected = head()
            if at != expected:
                return [
                    f"database {safe_url(url)} is at revision {at or 'none (empty)'} but this "
                    f"version of Haizhou expects {expected}: run `haizhou db upgrade`"
                ]
            metadata = complete_metadata()
            context = MigrationContext.configure(
                connection,
                opts={
                    "target_metadata": metadata,
                    "compare_type": True,
                    "compare_server_default": True,
                },
            )
            return [_describe(diff) for diff in compare_metadata(context, metadata)]
    finally:
        engine.dispose()


def autogenerate_revision(url: str | URL, message: str, *, rev_id: str | None = None) -> Path:
    """Write a new revision script from the difference between the models and ``url``.

    For developers: the database must be at head. Read the generated file before committing
    it; autogenerate misses renames and some constraint changes.

    Returns
    -------
    pathlib.Path
        The new file in ``migrations/versions``.
    """
    with _locked_connection(url) as connection:
        at, expected = revision_of(connection), head()
        if at != expected:
            raise MigrationError(
                f"database {safe_url(url)} is at {at or 'base'}, not head {expected}; "
                "upgrade it before generating a revision"
            )
        config = alembic_config(connection)
        script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
    if script is None or isinstance(script, list):
        raise MigrationError("Alembic produced no single revision script")
    return Path(script.path)


# --- internals -----------------------------------------------------------------------------


def _engine(url: str | URL) -> Engine:
    """An engine for migrations: no pool, and on SQLite transactions we begin ourselves."""
    url_text = make_url(url).render_as_string(hide_password=False)
    engine = make_engine(url_text, poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        # pysqlite defers BEGIN until the first DML statement, which would leave the DDL and
        # the revision check outside any lock. Take the write lock ourselves.

        @event.listens_for(engine, "connect")
        def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def _connect(engine: Engine, url: str | URL) -> Iterator[Connection]:
    try:
        connection = engine.connect()
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseUnreachableError(
            f"cannot open the database {safe_url(url)}: {_first_line(exc)}. Check "
            "HAIZHOU_DATABASE_URL (or --database-url) and that the server is running."
        ) from None
    with connection:
        yield connection


@contextmanager
def _locked_connection(url: str | URL) -> Iterator[Connection]:
    """A connection inside one transaction that holds the migration lock; commits on success."""
    engine = _engine(url)
    try:
        with _connect(engine, url) as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"),
                    {"cls": _PG_LOCK_CLASS},
                )
            else:
                # SQLite: BEGIN IMMEDIATE was issued by the "begin" listener. Touch the
                # database so a locked file fails here, with the busy timeout applied.
                connection.exec_driver_sql("SELECT 1")
            yield connection
    finally:
        engine.dispose()


def _run(action: Any, connection: Connection, url: str | URL, what: str) -> None:
    try:
        action(alembic_config(connection))
    except HaizhouError:
        raise
    except (DBAPIError, OperationalError) as exc:
        raise MigrationError(
            f"{what} failed on {safe_url(url)}: {_first_line(exc)}. The transaction was rolled "
            "back; the database keeps its previous revision."
        ) from exc
    except Exception as exc:  # alembic.util.CommandError and friends: bad revision names
        raise MigrationError(f"{what} failed on {safe_url(url)}: {exc}") from exc


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__


def _describe(diff: Any) -> str:
    """One readable line for an Alembic autogenerate difference."""
    if isinstance(diff, list):  # column modifications come grouped per column
        return "; ".join(_describe(item) for item in diff)
    kind = diff[0]
    if kind in {"add_table", "remove_table"}:
        return f"{kind}: table {diff[1].name!r}"
    if kind in {"add_column", "remove_column"}:
        _, _schema, table, column = diff
        return f"{kind}: {table}.{column.name}"
    if kind in {"add_index", "remove_index"}:
        index = diff[1]
        columns = ", ".join(c.name for c in index.columns)
        return f"{kind}: {index.name} on {index.table.name}({columns})"
    if kind in {"add_constraint", "remove_constraint", "add_fk", "remove_fk"}:
        constraint = diff[1]
        table = getattr(constraint.table, "name", "?")
        return f"{kind}: {constraint.name or type(constraint).__name__} on {table}"
    if kind.startswith("modify_"):
        _, _schema, table, column, _existing, old, new = diff
        return f"{kind}: {table}.{column} from {old!r} to {new!r}"
    return repr(diff)
