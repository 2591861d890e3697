"""Alembic environment for Haizhou (数据库迁移环境).

Alembic executes this file as a script when :mod:`haizhou.store.migrate` runs a command. The
caller opens the connection (holding the migration lock) and passes it in
``config.attributes["connection"]``; this file never reads a URL from an ini file or the
environment, and importing it outside an Alembic run (for instance by pytest's doctest
collection) does nothing.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import JSON, Connection

from haizhou.store.migrate import complete_metadata
from haizhou.store.tables import UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render Haizhou's column types as plain SQLAlchemy types in generated migrations.

    A migration must not import application code that may change after it was written, so
    :class:`~haizhou.store.tables.base.UTCDateTime` is written as ``sa.DateTime(timezone=True)``
    and the JSON variant as ``sa.JSON()``.
    """
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, JSON):
        return "sa.JSON()"
    return False


def configure_and_run(connection: Connection) -> None:
    """Run the migrations Alembic asked for on ``connection``.

    SQLite cannot ALTER most things in place, so operations are rendered and run in batch
    mode (copy and move) there; PostgreSQL runs them directly.
    """
    context.configure(
        connection=connection,
        target_metadata=complete_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if context.is_offline_mode() or connection is None:
        raise RuntimeError(
            "Haizhou's migrations run through haizhou.store.migrate (or `haizhou db upgrade`), "
            "which passes an open connection; the plain `alembic` command and offline SQL "
            "generation are not supported."
        )
    configure_and_run(connection)


# Run only when Alembic executes this file: outside a run the context has no ``config``.
if getattr(context, "config", None) is not None:
    main()
