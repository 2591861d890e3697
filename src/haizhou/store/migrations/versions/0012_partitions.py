"""Monthly partitions of the append-only event tables on PostgreSQL (事件表按月分区).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 07:30:00

``sightings`` (by ``seen_at``) and ``airspace_messages`` (by ``received_at``) become range
partitioned by month, rows kept; partitions live in ``<schema>_partitions`` with a default
partition for months not created yet (see :mod:`haizhou.streams.partitions`). The primary keys
become ``(id, <time>)``: a partitioned table can only enforce keys that include the partition
column. SQLite is unchanged (no partitions); the chain stays the same for both back ends.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from haizhou.streams.partitions import PARTITIONED, partition_table, unpartition_table

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table in PARTITIONED:
        partition_table(conn, table)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table in PARTITIONED:
        unpartition_table(conn, table)
