"""Web sessions (登录会话) of the platform's users.

A session is a random token handed to the browser in an HttpOnly cookie; only its SHA-256 is
stored, so a copy of the database does not let anyone log in. Failed log-ins are not kept here:
they are entries of the audit log (``auth.login_failed``), which the log-in throttle counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base, UTCDateTime


class WebSessionRow(Base):
    """One log-in session (会话).

    ``token_hash`` is the SHA-256 (hex) of the cookie's token; ``csrf_token`` the value the
    browser must echo in ``X-CSRF-Token`` on unsafe requests (not a secret from the user, only
    from other sites). A session is valid while ``revoked_at`` is NULL and now < ``expires_at``.
    """

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user_expires", "user_id", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
