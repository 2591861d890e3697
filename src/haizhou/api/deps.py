"""Dependencies every route shares (依赖注入): settings, database session, user, scope, audit.

Routes declare what they need with these ``Annotated`` aliases, as in the FastAPI full-stack
template's ``deps.py``; the objects themselves are built once in
:func:`haizhou.api.app.create_app` and kept on ``app.state``, never at import.

- :data:`SessionDep`: a database session for the request.
- :data:`CurrentUser`: the signed-in user (401 without a valid session; 403 on an unsafe
  method without the session's CSRF token).
- :data:`ScopeDep`: the user's jurisdiction scope, from the unit tree in the store; pass
  ``scope.codes`` as ``scope`` to every repository.
- :data:`AuditDep`: writes audit entries as the current user.
- :func:`require`: a dependency refusing (403) roles the policy does not allow.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from haizhou.api.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    AuthenticatedUser,
    SessionLookup,
    csrf_matches,
)
from haizhou.api.policy import Permission, allowed
from haizhou.security import audit
from haizhou.security.roles import Scope
from haizhou.settings import Settings
from haizhou.store.tables import JurisdictionRow

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


FIRST_YEAR, LAST_YEAR = 1971, 2099  # moments a window may start or end at (dates stay real)


def check_year(name: str, moment: datetime | None) -> None:
    """Refuse (422) a query moment outside FIRST_YEAR–LAST_YEAR: windows computed from it
    (a year back, a period ahead) must stay real dates."""
    if moment is not None and not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"{name} must fall in {FIRST_YEAR}–{LAST_YEAR}; got {moment.isoformat()}",
        )


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with (``async``: no thread hop for a pure read)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for one request; closed (and rolled back if uncommitted) afterwards.

    The route, or the service it calls, commits what it writes. Making the session does no
    I/O, so it happens on the event loop; closing it returns a connection (a rollback on the
    wire), so that runs in the thread pool, and only when the request used a connection.
    Each sync dependency costs a thread hop (about a tenth of a map request's CPU).
    """
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


async def utc_now() -> datetime:
    """The current time (UTC); one place, so tests can override it with dependency overrides.

    ``async`` only so that FastAPI calls it on the event loop instead of in a thread.
    """
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(utc_now)]


async def get_current_user(request: Request, now: NowDep) -> AuthenticatedUser:
    """The user of the request's session cookie (当前用户).

    The session is read from the store on every request (no per-process cache: a log-out or
    revocation on any process ends it everywhere at once) by the app's
    :class:`~haizhou.api.auth.SessionLookup`: on the event loop for SQLite, in the thread
    pool for a server database; no lookup without a cookie.

    Raises
    ------
    HTTPException
        401 without a valid session; 403 for an unsafe method whose ``X-CSRF-Token`` header
        does not match the session's token.
    """
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token:
        lookup: SessionLookup = request.app.state.session_lookup
        user = lookup(token, now) if lookup.inline else await run_in_threadpool(lookup, token, now)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="not logged in, or the session has expired; log in with POST /api/auth/login",
        )
    if request.method in UNSAFE_METHODS and not csrf_matches(
        user.csrf_token, request.headers.get(CSRF_HEADER)
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"missing or wrong {CSRF_HEADER} header; send the csrf_token of "
            "GET /api/auth/me (also in the haizhou_csrf cookie)",
        )
    return user


CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]


UNIT_TREE_TTL_S = 30.0
"""How long the unit tree (code → parent) is kept per process: an edit of the jurisdictions
takes effect within this time. Sessions are checked on every request regardless."""


def _unit_tree(request: Request, session: Session) -> dict[str, str | None]:
    """The unit tree, read at most once per :data:`UNIT_TREE_TTL_S` per process (it was one
    query of the whole jurisdictions table per request of every station user)."""
    cached = _cached_unit_tree(request)
    if cached is not None:
        return cached
    rows = session.execute(select(JurisdictionRow.code, JurisdictionRow.parent_code)).all()
    parent_of: dict[str, str | None] = {code: parent for code, parent in rows}  # noqa: C416
    request.app.state.unit_tree = (time.monotonic(), parent_of)
    return parent_of


def _cached_unit_tree(request: Request) -> dict[str, str | None] | None:
    """The unit tree kept on the app if still fresh, else ``None``."""
    cached = getattr(request.app.state, "unit_tree", None)
    if cached is not None and time.monotonic() - cached[0] < UNIT_TREE_TTL_S:
        tree: dict[str, str | None] = cached[1]
        return tree
    return None


def resolve_scope(request: Request, user: AuthenticatedUser, session: Session) -> Scope:
    """The jurisdictions ``user`` may see (数据权限范围): their unit and every unit below it.

    Reads the unit tree from the store when the process's copy is stale (blocking I/O: call
    it from a thread, as the log-in route does).
    """
    if user.jurisdiction_code is None:
        return Scope.everything()
    return Scope.for_user(user.jurisdiction_code, _unit_tree(request, session))


def _read_scope(request: Request, user: AuthenticatedUser) -> Scope:
    """:func:`resolve_scope` in a session of its own (for the thread pool)."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        return resolve_scope(request, user, session)


async def get_scope(request: Request, user: CurrentUser) -> Scope:
    """The request's scope (see :func:`resolve_scope`), on the event loop when no read is
    needed (bureau-level users, or a fresh unit tree) and in the thread pool otherwise."""
    if user.jurisdiction_code is None:
        return Scope.everything()
    tree = _cached_unit_tree(request)
    if tree is not None:
        return Scope.for_user(user.jurisdiction_code, tree)
    return await run_in_threadpool(_read_scope, request, user)


ScopeDep = Annotated[Scope, Depends(get_scope)]


class AuditWriter:
    """Writes audit entries (审计记录) as the request's user, committed at once.

    Call it for every read of personal data and every change::

        audit("person.read", target=str(person_id), detail={"fields": ["masked_id"]})
    """

    def __init__(self, *, session: Session, actor: str, now: datetime) -> None:
        self._session = session
        self._actor = actor
        self._now = now

    def __call__(
        self, action: str, *, target: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        audit.record(
            session=self._session,
            actor=self._actor,
            action=action,
            target=target,
            detail=detail,
            at=self._now,
        )
        self._session.commit()


async def get_audit(user: CurrentUser, session: SessionDep, now: NowDep) -> AuditWriter:
    """An :class:`AuditWriter` for the current user (made on the event loop: no I/O here;
    the writes happen when the route, in its thread, calls it)."""
    return AuditWriter(session=session, actor=user.username, now=now)


AuditDep = Annotated[AuditWriter, Depends(get_audit)]


def require(
    permission: Permission,
) -> Callable[[AuthenticatedUser], Coroutine[Any, Any, AuthenticatedUser]]:
    """A dependency that lets through only roles allowed ``permission`` (else 403).

    Use it in a route's or router's ``dependencies=[Depends(require(Permission.X))]``. The
    check is ``async`` (a pure comparison) so it runs on the event loop, not in a thread.
    """

    async def check(user: CurrentUser) -> AuthenticatedUser:
        if not allowed(user.role, permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"the role {user.role.value} ({user.role.title_zh}) may not use "
                f"{permission.value}; ask an administrator for another role",
            )
        return user

    check.__name__ = f"require_{permission.name.lower()}"
    return check
