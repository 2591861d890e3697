"""Storage (存储): SQLAlchemy tables, engines, Alembic migrations and repositories.

- :mod:`haizhou.store.tables` — the table models (one module per area);
- :mod:`haizhou.store.engine` — engines (SQLite in WAL mode, or PostgreSQL) and sessions;
- :mod:`haizhou.store.migrate` — ``upgrade``, ``current``, ``check`` on a URL;
- :mod:`haizhou.store.repositories` — keyword-only queries taking ``session`` and ``scope``.

Importing this package never connects to a database.
"""
