"""Fraud early warnings (反诈预警) and dissuasion outcomes (劝阻结果).

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-28 07:25:00

Written from ``haizhou.store.tables.fraud``: pseudonymised persons only. The unique
(source, source_id) makes re-imports idempotent; ``ix_fraud_warnings_warned_at`` serves the
daily ranking's window read. One outcome per warning; deleting a warning deletes its outcome.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fraud_warnings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("person_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("feed", sa.String(length=100), nullable=True),
        sa.Column("contacts", sa.Float(), nullable=True),
        sa.Column("call_minutes", sa.Float(), nullable=True),
        sa.Column("transfer_amount", sa.Float(), nullable=True),
        sa.Column("potential_loss", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("jurisdiction_code", sa.String(length=64), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_warnings")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_fraud_warnings_source_source_id")),
    )
    op.create_index("ix_fraud_warnings_warned_at", "fraud_warnings", ["warned_at"], unique=False)
    op.create_index(
        op.f("ix_fraud_warnings_person_pseudonym"),
        "fraud_warnings",
        ["person_pseudonym"],
        unique=False,
    )
    op.create_index(
        op.f("ix_fraud_warnings_jurisdiction_code"),
        "fraud_warnings",
        ["jurisdiction_code"],
        unique=False,
    )
    op.create_table(
        "dissuasion_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("victimised", sa.Boolean(), nullable=False),
        sa.Column("loss", sa.Float(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["warning_id"],
            ["fraud_warnings.id"],
            name=op.f("fk_dissuasion_outcomes_warning_id_fraud_warnings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dissuasion_outcomes")),
        sa.UniqueConstraint("warning_id", name=op.f("uq_dissuasion_outcomes_warning_id")),
    )


def downgrade() -> None:
    op.drop_table("dissuasion_outcomes")
    op.drop_table("fraud_warnings")
