"""Monthly partitions of the append-only event tables on PostgreSQL (按月分区).

``sightings`` (by ``seen_at``) and ``airspace_messages`` (by ``received_at``) are range
partitioned by calendar month (UTC). Migration ``0012`` converts the plain tables in place
(:func:`partition_table`, data kept) and back (:func:`unpartition_table`); SQLite is unchanged.
The partitions live in a schema of their own (``<schema>_partitions``, e.g.
``public_partitions``) so the application schema holds exactly the tables of the models and
``haizhou db check`` stays exact. Each table has a ``…_pdefault`` partition for rows outside
the months created, so no insert ever fails; :func:`ensure_month_partitions` (called by the
migration and by the maintenance job) creates the coming months ahead and moves any rows the
default partition holds for a month it creates. :func:`drop_partitions_before` drops whole
months past the retention — far cheaper than ``DELETE``.

Keys: a unique key of a partitioned table must include the partition column. Both tables'
keys do: the primary key becomes ``(id, <time>)`` and the sightings idempotency key already is
``(pseudo_id, seen_at, sensor_id)``. Tables whose idempotency key does not include a time
(incidents: ``(source, source_id)``) stay unpartitioned — see ``docs/deployment.md``.

This module uses SQLAlchemy only (no store or application imports), so the migration can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, text

__all__ = [
    "PARTITIONED",
    "drop_partitions_before",
    "ensure_month_partitions",
    "is_partitioned",
    "maintain",
    "partition_table",
    "partitions",
    "partitions_schema",
    "unpartition_table",
]

# table -> partition column
PARTITIONED: dict[str, str] = {"sightings": "seen_at", "airspace_messages": "received_at"}


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition: its qualified name and month (``None`` for the default partition)."""

    name: str
    month: date | None
    rows: int | None = None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def partitions_schema(conn: Connection) -> str:
    """The schema the partitions of the current schema's tables live in."""
    return f"{conn.scalar(text('SELECT current_schema()'))}_partitions"


def _month(d: date) -> date:
    return date(d.year, d.month, 1)


def _next(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _bound(d: date) -> str:
    return f"'{d.isoformat()} 00:00:00+00'"


def is_partitioned(conn: Connection, table: str) -> bool:
    """Whether ``table`` (in the current schema) is a partitioned table."""
    return bool(
        conn.scalar(
            text(
                "SELECT c.relkind = 'p' FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                "AND c.relname = :t"
            ),
            {"t": table},
        )
    )


def partitions(conn: Connection, table: str, *, count_rows: bool = False) -> list[Partition]:
    """The partitions of ``table``, months in order, the default partition last."""
    rows = conn.execute(
        text(
            "SELECT n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE i.inhparent = (quote_ident(current_schema()) || '.' || quote_ident(:t))"
            "::regclass"
        ),
        {"t": table},
    ).all()
    out = []
    for schema, name, bound in rows:
        month = None
        if "DEFAULT" not in bound:
            month = datetime.fromisoformat(bound.split("'")[1]).astimezone(UTC).date()
        n = None
        if count_rows:
            n = int(conn.scalar(text(f"SELECT count(*) FROM {_q(schema)}.{_q(name)}")) or 0)
        out.append(Partition(f"{schema}.{name}", month, n))
    return sorted(out, key=lambda p: (p.month is None, p.month or date.min))


def ensure_month_partitions(
    conn: Connection, *, months_ahead: int = 3, today: date | None = None
) -> list[str]:
    """Create the monthly partitions from this month to ``months_ahead`` months on, for every
    partitioned table; rows the default partition holds for a new month are moved into it.

    Returns the partitions created. A no-op on SQLite or on unpartitioned tables.
    """
    if conn.dialect.name != "postgresql":
        return []
    start = _month(today or datetime.now(UTC).date())
    months = [start]
    for _ in range(months_ahead):
        months.append(_next(months[-1]))
    created = []
    for table in PARTITIONED:
        if is_partitioned(conn, table):
            created += _create_months(conn, table, months)
    return created


def _create_months(conn: Connection, table: str, months: list[date]) -> list[str]:
    schema = partitions_schema(conn)
    have = {p.month for p in partitions(conn, table)}
    col = PARTITIONED[table]
    parent = f"{_q(conn.scalar(text('SELECT current_schema()')))}.{_q(table)}"
    default = f"{_q(schema)}.{_q(table + '_pdefault')}"
    created = []
    for m in sorted(set(months) - have):
        name = f"{_q(schema)}.{_q(f'{table}_p{m:%Y_%m}')}"
        lo, hi = _bound(m), _bound(_next(m))
        where = f"{_q(col)} >= {lo} AND {_q(col)} < {hi}"
        conn.execute(text(f"CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS)"))
        # rows that went to the default partition for this month move to their own
        conn.execute(text(f"INSERT INTO {name} SELECT * FROM {default} WHERE {where}"))
        conn.execute(text(f"DELETE FROM {default} WHERE {where}"))
        conn.execute(
            text(f"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})")
        )
        created.append(name.replace('"', ""))
    return created


def drop_partitions_before(
    conn: Connection, cutoff: datetime, *, tables: Iterable[str] | None = None
) -> list[str]:
    """Drop the monthly partitions that end at or before ``cutoff``; returns their names.

    ``tables`` limits it to some of the partitioned tables (default: all of them).
    """
    if conn.dialect.name != "postgresql":
        return []
    dropped = []
    for table in PARTITIONED if tables is None else tables:
        if table not in PARTITIONED or not is_partitioned(conn, table):
            continue
        for p in partitions(conn, table):
            if p.month is not None and datetime.combine(
                _next(p.month), datetime.min.time(), UTC
            ) <= cutoff.astimezone(UTC):
                schema, name = p.name.split(".", 1)
                conn.execute(text(f"DROP TABLE {_q(schema)}.{_q(name)}"))
                dropped.append(p.name)
    return dropped


def maintain(
    conn: Connection,
    *,
    now: datetime,
    months_ahead: int = 3,
    retention_days: Mapping[str, int] | None = None,
) -> dict[str, list[str]]:
    """The daily partition upkeep (分区维护): months ahead created, months past retention dropped.

    Parameters
    ----------
    now
        The moment of the run (UTC-aware).
    months_ahead
        Months after the current one that must exist.
    retention_days
        Per partitioned table, days its rows are kept; a month is dropped only when all of it
        is older (the rest goes by the row-level purge). Tables not named keep everything.

    Returns
    -------
    ``{"created": [...], "dropped": [...]}``, qualified partition names; empty on SQLite.
    """
    created = ensure_month_partitions(conn, months_ahead=months_ahead, today=now.date())
    dropped: list[str] = []
    for table, days in (retention_days or {}).items():
        dropped += drop_partitions_before(conn, now - timedelta(days=days), tables=[table])
    return {"created": created, "dropped": dropped}


def _index_defs(conn: Connection, table: str) -> list[str]:
    """``CREATE INDEX`` statements of the indexes that back no constraint."""
    return list(
        conn.scalars(
            text(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident(:t))"
                "::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
                "WHERE k.conindid = i.indexrelid)"
            ),
            {"t": table},
        )
    )


def _key_defs(conn: Connection, table: str) -> list[tuple[str, str, str]]:
    """``(name, type, definition)`` of the primary key and unique constraints."""
    return [
        (r[0], r[1], r[2])
        for r in conn.execute(
            text(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = (quote_ident(current_schema()) || '.' || quote_ident(:t))"
                "::regclass AND contype IN ('p', 'u') ORDER BY contype"
            ),
            {"t": table},
        )
    ]


def _columns(definition: str) -> list[str]:
    inside = definition[definition.index("(") + 1 : definition.rindex(")")]
    return [c.strip().strip('"') for c in inside.split(",")]


def _rebuild(conn: Connection, table: str, *, partitioned: bool) -> None:
    """Replace ``table`` by a partitioned (or plain) copy with the same columns, keys, indexes
    and id sequence, moving the rows."""
    col = PARTITIONED[table]
    schema = conn.scalar(text("SELECT current_schema()"))
    keys = _key_defs(conn, table)
    indexes = _index_defs(conn, table)
    seq = conn.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
    old = f"{table}_rebuild"
    conn.execute(text(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}"))
    for name, _kind, _definition in keys:
        conn.execute(text(f"ALTER TABLE {_q(old)} DROP CONSTRAINT {_q(name)}"))
    for d in indexes:
        name = d.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
        conn.execute(text(f"DROP INDEX {_q(schema)}.{name}"))
    if seq:
        conn.execute(text(f"ALTER SEQUENCE {seq} OWNED BY NONE"))
    tail = f" PARTITION BY RANGE ({_q(col)})" if partitioned else ""
    conn.execute(text(f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS){tail}"))
    for name, kind, definition in keys:
        cols = _columns(definition)
        if kind == "p":
            cols = [c for c in cols if c != col] + [col] if partitioned else ["id"]
            conn.execute(
                text(
                    f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} PRIMARY KEY "
                    f"({', '.join(_q(c) for c in cols)})"
                )
            )
        else:
            if partitioned and col not in cols:
                raise RuntimeError(
                    f"{table}: unique key {name} lacks {col}; it cannot be kept on a partitioned "
                    "table"
                )
            conn.execute(text(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}"))
    for d in indexes:
        conn.execute(text(d))
    if partitioned:
        parts = partitions_schema(conn)
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {_q(parts)}"))
        conn.execute(
            text(
                f"CREATE TABLE {_q(parts)}.{_q(table + '_pdefault')} PARTITION OF "
                f"{_q(table)} DEFAULT"
            )
        )
        bounds = conn.execute(text(f"SELECT min({_q(col)}), max({_q(col)}) FROM {_q(old)}")).one()
        months = [_month(datetime.now(UTC).date())]
        if bounds[0] is not None:
            m = _month(bounds[0].astimezone(UTC).date())
            last = _month(bounds[1].astimezone(UTC).date())
            while m <= last:
                months.append(m)
                m = _next(m)
        for _ in range(3):
            months.append(_next(max(months)))
        _create_months(conn, table, months)
    conn.execute(text(f"INSERT INTO {_q(table)} SELECT * FROM {_q(old)}"))
    conn.execute(text(f"DROP TABLE {_q(old)}"))
    if seq:
        conn.execute(text(f"ALTER SEQUENCE {seq} OWNED BY {_q(table)}.id"))


def partition_table(conn: Connection, table: str) -> None:
    """Convert a plain event table to monthly partitions, keeping its rows (PostgreSQL)."""
    if not is_partitioned(conn, table):
        _rebuild(conn, table, partitioned=True)


def unpartition_table(conn: Connection, table: str) -> None:
    """Convert a partitioned event table back to a plain one, keeping its rows (PostgreSQL)."""
    if is_partitioned(conn, table):
        _rebuild(conn, table, partitioned=False)
        if not any(is_partitioned(conn, t) for t in PARTITIONED):
            conn.execute(text(f"DROP SCHEMA IF EXISTS {_q(partitions_schema(conn))} RESTRICT"))
