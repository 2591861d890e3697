"""Drop the incidents' caller-pseudonym index (删除报警人假名索引).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 10:00:00

No query filters incidents by ``caller_pseudonym``: the repeat-caller model and the reports
read the incidents of a time window (served by the time and jurisdiction indexes) and group by
caller in memory. The index only cost the bulk import its build (about 7 % of the index-build
CPU at a million rows, where 30 % of the incidents carry a caller).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_incidents_caller_pseudonym", table_name="incidents", if_exists=True)


def downgrade() -> None:
    op.create_index(
        "ix_incidents_caller_pseudonym",
        "incidents",
        ["caller_pseudonym"],
        unique=False,
        sqlite_where=sa.text("caller_pseudonym IS NOT NULL"),
        postgresql_where=sa.text("caller_pseudonym IS NOT NULL"),
    )
