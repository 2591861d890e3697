"""Log-in, log-out and the current user (登录 · 退出 · 当前用户): ``/api/auth``.

See :mod:`haizhou.api.auth` for sessions, CSRF and the log-in throttle.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse

from haizhou.api.auth import (
    CSRF_COOKIE,
    MAX_FAILURES,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    AuthenticatedUser,
    create_session,
    login_throttle,
    record_failure,
    revoke_session,
    throttle_key,
)
from haizhou.api.deps import (
    CurrentUser,
    NowDep,
    ScopeDep,
    SessionDep,
    SettingsDep,
    resolve_scope,
)
from haizhou.api.schemas.auth import LoginRequest, Message, UserPublic
from haizhou.security import audit
from haizhou.security.roles import Role, Scope
from haizhou.security.users import authenticate
from haizhou.settings import Settings

public_router = APIRouter(prefix="/auth", tags=["auth"])
"""Log-in: the one route of this module that needs no session."""
router = APIRouter(prefix="/auth", tags=["auth"])
"""Log-out and the current user; mounted behind the session check."""

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "testserver"})


def _secure_cookies(request: Request, settings: Settings) -> bool:
    """``Secure`` cookies over HTTPS, in production, and on any host that is not loopback."""
    if request.url.scheme == "https" or settings.environment == "production":
        return True
    return (request.url.hostname or "") not in _LOCAL_HOSTS


def _check_origin(request: Request) -> None:
    """Refuse a log-in posted from another site's page (login CSRF)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    parts = urlsplit(origin)
    if parts.netloc != request.headers.get("host", request.url.netloc):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"log-in from another site ({origin}) is refused; open the platform's own page",
        )


def _public(user: AuthenticatedUser, scope: Scope) -> UserPublic:
    return UserPublic(
        username=user.username,
        role=user.role.value,
        role_title_zh=user.role.title_zh,
        role_title_en=user.role.title_en,
        jurisdiction_code=user.jurisdiction_code,
        scope=None if scope.codes is None else sorted(scope.codes),
        csrf_token=user.csrf_token,
        expires_at=user.expires_at,
    )


@public_router.post(
    "/login",
    response_model=UserPublic,
    summary="Log in (登录)",
    responses={
        status.HTTP_401_UNAUTHORIZED: {"model": Message, "description": "Wrong credentials"},
        status.HTTP_403_FORBIDDEN: {"model": Message, "description": "Posted from another site"},
        status.HTTP_429_TOO_MANY_REQUESTS: {
            "model": Message,
            "description": f"{MAX_FAILURES} failed log-ins of this user name in 10 minutes",
        },
    },
)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> UserPublic | JSONResponse:
    """Check the user name and password; on success set the session and CSRF cookies.

    401 for wrong credentials (the same answer for an unknown name). 429, with
    ``Retry-After``, once the name has had 5 failed log-ins in the last 10 minutes, even
    with the right password, until the window passes. Every attempt is audited.
    """
    _check_origin(request)
    client = request.client.host if request.client else None
    throttle = login_throttle(session=session, username=body.username, now=now)
    if throttle.blocked:
        audit.record(
            session=session,
            actor="anonymous",
            action="auth.login_throttled",
            target=throttle_key(body.username),
            detail={"client": client},
            at=now,
        )
        session.commit()
        minutes = max(1, (throttle.retry_after_s + 59) // 60)
        return JSONResponse(
            {
                "detail": f"too many failed log-ins for this user name; try again in about "
                f"{minutes} minute{'s' if minutes > 1 else ''} or ask an administrator"
            },
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(throttle.retry_after_s)},
        )
    user = authenticate(session=session, username=body.username, password=body.password)
    if user is None:
        record_failure(session=session, username=body.username, now=now, client=client)
        session.commit()
        return JSONResponse(
            {"detail": "wrong user name or password"},
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    issued = create_session(session=session, user=user, now=now)
    audit.record(
        session=session,
        actor=user.username,
        action="auth.login",
        target=user.username,
        detail={"client": client},
        at=now,
    )
    signed_in = AuthenticatedUser(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        jurisdiction_code=user.jurisdiction_code,
        csrf_token=issued.csrf_token,
        expires_at=issued.expires_at,
        session_hash="",
    )
    scope = resolve_scope(request, signed_in, session)
    session.commit()
    secure = _secure_cookies(request, settings)
    max_age = int(SESSION_LIFETIME.total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE,
        issued.csrf_token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=False,
        samesite="strict",
    )
    return _public(signed_in, scope)


@router.post("/logout", response_model=Message, summary="Log out (退出登录)")
def logout(
    user: CurrentUser, request: Request, response: Response, session: SessionDep, now: NowDep
) -> Message:
    """End this session (needs the ``X-CSRF-Token`` header) and clear the cookies."""
    revoke_session(session=session, session_hash=user.session_hash, now=now)
    audit.record(
        session=session,
        actor=user.username,
        action="auth.logout",
        target=user.username,
        detail={"client": request.client.host if request.client else None},
        at=now,
    )
    session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return Message(detail="logged out")


@router.get("/me", response_model=UserPublic, summary="The current user (当前用户)")
async def read_me(user: CurrentUser, scope: ScopeDep) -> UserPublic:
    """Who is logged in, their role, scope, CSRF token and session expiry (``async``: no
    I/O here, so no thread hand-off)."""
    return _public(user, scope)
