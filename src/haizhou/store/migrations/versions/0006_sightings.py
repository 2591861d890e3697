"""Sightings (感知记录) and device links (实名关联) for floating-population verification.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 06:30:00

Written from ``haizhou.store.tables.sightings``: pseudonymised ids only. The unique constraint
(pseudo_id, seen_at, sensor_id) makes re-imports and repeated stream deliveries idempotent and
serves the look-up by id; ``ix_sightings_seen_at`` serves the window reads and the retention
purge. Dropping a table drops its indexes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sightings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pseudo_id", sa.String(length=64), nullable=False),
        sa.Column("id_kind", sa.String(length=10), nullable=False),
        sa.Column("sensor_id", sa.String(length=100), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sightings")),
        sa.UniqueConstraint(
            "pseudo_id",
            "seen_at",
            "sensor_id",
            name=op.f("uq_sightings_pseudo_id_seen_at_sensor_id"),
        ),
    )
    op.create_index("ix_sightings_seen_at", "sightings", ["seen_at"], unique=False)
    op.create_table(
        "device_links",
        sa.Column("pseudo_id", sa.String(length=64), nullable=False),
        sa.Column("person_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pseudo_id", name=op.f("pk_device_links")),
    )
    op.create_index(
        op.f("ix_device_links_person_pseudonym"),
        "device_links",
        ["person_pseudonym"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("device_links")
    op.drop_table("sightings")
