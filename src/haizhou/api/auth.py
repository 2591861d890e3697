"""Log-in sessions and the log-in throttle (登录会话与登录限流), kept in the database.

Sessions
    A log-in creates a random 256-bit token, sent to the browser in the HttpOnly cookie
    :data:`SESSION_COOKIE`; the database keeps only its SHA-256 (:class:`WebSessionRow`), so a
    leaked dump cannot be replayed. A session is valid until :data:`SESSION_LIFETIME` after
    log-in, or until log-out revokes it, or until the account is deactivated.
CSRF (跨站请求伪造防护)
    Double submit bound to the session: each session has its own ``csrf_token``, sent in the
    readable cookie :data:`CSRF_COOKIE` and in ``GET /api/auth/me``. Every unsafe request
    (POST, PUT, PATCH, DELETE) with a session must carry it in the header
    :data:`CSRF_HEADER`. Both cookies are ``SameSite=Strict``; log-in itself (no session yet)
    is refused when an ``Origin`` header names another site.
Throttle (登录限流)
    Each failed log-in is an audit entry ``auth.login_failed`` whose target is the normalised
    user name. Once a name has :data:`MAX_FAILURES` failures in the last
    :data:`FAILURE_WINDOW` (sliding), log-in for that name answers 429, even with the right
    password, until the oldest of those failures leaves the window. The state is the audit
    log, so it survives restarts and holds across processes and machines sharing the store.

All functions are keyword-only over the caller's SQLAlchemy session; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from haizhou.security import audit
from haizhou.security.roles import Role
from haizhou.store.tables import AuditRow, UserRow
from haizhou.store.tables.web import WebSessionRow

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "FAILURE_WINDOW",
    "MAX_FAILURES",
    "SESSION_COOKIE",
    "SESSION_LIFETIME",
    "AuthenticatedUser",
    "IssuedSession",
    "SessionLookup",
    "Throttle",
    "create_session",
    "csrf_matches",
    "login_throttle",
    "lookup_session",
    "record_failure",
    "resolve_session",
    "revoke_session",
    "throttle_key",
]

SESSION_COOKIE = "haizhou_session"
CSRF_COOKIE = "haizhou_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_LIFETIME = timedelta(hours=8)
"""One duty shift (一个班次); log in again afterwards."""
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=10)
FAILED_ACTION = "auth.login_failed"
_MAX_KEY = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticatedUser:
    """The user behind a valid session (当前登录用户).

    Attributes
    ----------
    user_id, username, role
        The account; ``role`` is a :class:`~haizhou.security.roles.Role`.
    jurisdiction_code : str or None
        The account's jurisdiction (辖区); ``None`` for bureau-level accounts.
    csrf_token : str
        The session's CSRF token.
    expires_at : datetime
        When the session ends (UTC).
    session_hash : str
        SHA-256 of the session token: identifies the session without revealing it.
    """

    user_id: int
    username: str
    role: Role
    jurisdiction_code: str | None
    csrf_token: str
    expires_at: datetime
    session_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedSession:
    """A new session: the token for the cookie (never stored), its CSRF token and expiry."""

    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Throttle:
    """Log-in throttle state of one user name.

    Attributes
    ----------
    failures : int
        Failed log-ins in the window ending now.
    blocked : bool
        Whether log-in is refused (``failures >= MAX_FAILURES``).
    retry_after_s : int
        Seconds until a log-in may be tried again (0 when not blocked).
    """

    failures: int
    blocked: bool
    retry_after_s: int


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a session token, the key it is stored under."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def throttle_key(username: str) -> str:
    """The name failures are counted under: NFKC, trimmed, lower case, at most 100 characters.

    ``Li.Wei`` and ``li.wei `` are one account (as in :mod:`haizhou.security.users`), so they
    share one counter.

    Examples
    --------
    >>> throttle_key(" Li.Wei ")
    'li.wei'
    """
    return unicodedata.normalize("NFKC", username).strip().lower()[:_MAX_KEY]


def login_throttle(*, session: Session, username: str, now: datetime) -> Throttle:
    """Whether ``username`` may try to log in at ``now`` (see the module docstring)."""
    since = now - FAILURE_WINDOW
    times = list(
        session.execute(
            select(AuditRow.at)
            .where(
                AuditRow.action == FAILED_ACTION,
                AuditRow.target == throttle_key(username),
                AuditRow.at > since,
            )
            .order_by(AuditRow.at.desc())
            .limit(MAX_FAILURES)
        ).scalars()
    )
    if len(times) < MAX_FAILURES:
        return Throttle(failures=len(times), blocked=False, retry_after_s=0)
    # Blocked until the oldest of the last MAX_FAILURES failures leaves the window.
    release = min(times) + FAILURE_WINDOW
    wait = max(1, int((release - now).total_seconds() + 0.999))
    return Throttle(failures=len(times), blocked=True, retry_after_s=wait)


def record_failure(*, session: Session, username: str, now: datetime, client: str | None) -> None:
    """Append a failed log-in to the audit log (it counts towards the throttle)."""
    audit.record(
        session=session,
        actor="anonymous",
        action=FAILED_ACTION,
        target=throttle_key(username),
        detail={"client": client},
        at=now,
    )


def create_session(*, session: Session, user: UserRow, now: datetime) -> IssuedSession:
    """Start a session for ``user``; the returned token goes into the cookie and nowhere else."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + SESSION_LIFETIME
    session.add(
        WebSessionRow(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
            revoked_at=None,
        )
    )
    session.flush()
    return IssuedSession(token=token, csrf_token=csrf, expires_at=expires)


_MAX_TOKEN_LENGTH = 200
"""Longer cookie values are refused unread (ours are 43 characters)."""

_SESSION_LOOKUP = (
    select(
        WebSessionRow.csrf_token,
        WebSessionRow.expires_at,
        UserRow.id,
        UserRow.username,
        UserRow.role,
        UserRow.jurisdiction_code,
    )
    .join(UserRow, UserRow.id == WebSessionRow.user_id)
    .where(
        WebSessionRow.token_hash == bindparam("digest"),
        WebSessionRow.revoked_at.is_(None),
        WebSessionRow.expires_at > bindparam("now", type_=WebSessionRow.expires_at.type),
        UserRow.active.is_(True),
    )
)
"""The session → user lookup, parameterised by ``digest`` and ``now``."""


def resolve_session(
    *, session: Session, token: str | None, now: datetime
) -> AuthenticatedUser | None:
    """The user of a valid, unexpired, unrevoked session of an active account, else ``None``."""
    return lookup_session(connection=session.connection(), token=token, now=now)


def _token_digest(token: str | None) -> str | None:
    """The stored key of a token that could be a session's; ``None`` for no or an absurd one."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token_hash(token)


def _unchanged(value: Any) -> Any:
    return value


def _user_from_row(
    row: Sequence[Any], digest: str, read_time: Callable[[Any], datetime] = _unchanged
) -> AuthenticatedUser:
    """The user of one row of :data:`_SESSION_LOOKUP` (its columns in the statement's order);
    ``read_time`` turns the stored expiry into a datetime where the driver does not."""
    csrf_token, expires_at, user_id, username, role, jurisdiction_code = row
    return AuthenticatedUser(
        user_id=user_id,
        username=username,
        role=Role(role),
        jurisdiction_code=jurisdiction_code,
        csrf_token=csrf_token,
        expires_at=read_time(expires_at),
        session_hash=digest,
    )


def lookup_session(
    *, connection: Connection, token: str | None, now: datetime
) -> AuthenticatedUser | None:
    """:func:`resolve_session` on a Core connection (no ORM session)."""
    digest = _token_digest(token)
    if digest is None:
        return None
    # Core execution of a statement built once (no ORM compile step).
    row = connection.execute(_SESSION_LOOKUP, {"digest": digest, "now": now}).one_or_none()
    if row is None:
        return None
    return _user_from_row(row, digest)


class SessionLookup:
    """The per-request session lookup of one engine (会话校验): ``lookup(token, now)``.

    The same answer as :func:`resolve_session`, read from the store on every call: there is
    no cache, so a log-out, expiry or revocation on any process ends the session everywhere
    at the next request.

    ``inline`` says whether the lookup may run on the event loop. It may on SQLite: a
    primary-key read of a local file in WAL mode, where readers never wait for writers, costs
    less CPU than the thread hand-off it would otherwise take; and lookups one at a time hold
    one connection, where lookups in threads, as many as the concurrent requests, overflowed
    the pool and opened a new SQLite connection per request. There the statement of
    :func:`lookup_session`, compiled once, runs on a DBAPI connection (about 0.02 ms of CPU
    instead of 0.1 ms through SQLAlchemy's per-execution steps); the time bound in and the
    expiry read back pass through the column type's own processors, so stored values compare
    exactly as in the Core statement. The connection comes from a pool of the lookup's own
    (same settings and connect hooks as the engine's), so the event loop never waits for one
    of the engine's connections, which requests it has yet to finish may all hold.

    A server database answers over the network: ``inline`` is false, the caller runs the
    lookup in a thread, and it is :func:`lookup_session` on a pooled Core connection.

    Parameters
    ----------
    engine
        The store's engine. Call :meth:`close` when it is disposed.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        compiled = _SESSION_LOOKUP.compile(dialect=dialect)
        # A file database: an in-memory one lives in its pool's one connection.
        file_sqlite = dialect.name == "sqlite" and isinstance(engine.pool, QueuePool)
        self.inline = file_sqlite and compiled.positional
        self._sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        time_type = WebSessionRow.expires_at.type.dialect_impl(dialect)
        self._bind_time = time_type.bind_processor(dialect) or _unchanged
        self._read_time = time_type.result_processor(dialect, None) or _unchanged
        self._pool = engine.pool.recreate() if self.inline else None  # connects when used

    def __call__(self, token: str | None, now: datetime) -> AuthenticatedUser | None:
        """The user of a valid, unexpired, unrevoked session of an active account, else
        ``None`` (blocking: call it from a thread unless :attr:`inline`)."""
        if self._pool is None:
            with self.engine.connect() as connection:
                return lookup_session(connection=connection, token=token, now=now)
        digest = _token_digest(token)
        if digest is None:
            return None
        values = {"digest": digest, "now": self._bind_time(now)}
        connection = self._pool.connect()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._sql, tuple(values[name] for name in self._names))
                rows = cursor.fetchall()  # at most one: token_hash is the key
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the lookup's pool
        if not rows:
            return None
        return _user_from_row(rows[0], digest, self._read_time)

    def close(self) -> None:
        """Close the lookup's own connections (the engine's are the engine's)."""
        if self._pool is not None:
            self._pool.dispose()


def revoke_session(*, session: Session, session_hash: str, now: datetime) -> bool:
    """End a session (退出登录); ``True`` if it was still open."""
    result = session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.token_hash == session_hash, WebSessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


def open_sessions(*, session: Session, user_id: int, now: datetime) -> int:
    """Number of open sessions of a user."""
    return (
        session.scalar(
            select(func.count())
            .select_from(WebSessionRow)
            .where(
                WebSessionRow.user_id == user_id,
                WebSessionRow.revoked_at.is_(None),
                WebSessionRow.expires_at > now,
            )
        )
        or 0
    )


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of the session's CSRF token with the header's."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
