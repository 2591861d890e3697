"""Head of the hash-chained audit log (审计日志链头): one row, the writers' lock.

Every :func:`haizhou.security.audit.record` first updates this row, which serialises writers on
both back ends (a row lock on PostgreSQL, the database write lock on SQLite), so the chain
cannot fork. The row also remembers how many entries the chain has and the last hash, so
deleting the newest entries (truncation) is detected too.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base


class AuditHeadRow(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    last_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
