"""User accounts (用户账号): create, list, authenticate, change password, deactivate.

Keyword-only functions over the caller's SQLAlchemy session (the caller commits). Usernames
are compared case-insensitively (``Li.Wei`` and ``li.wei`` are one account) and kept as first
written. Passwords are stored only as Argon2id hashes (:mod:`haizhou.security.passwords`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haizhou.errors import InputError
from haizhou.security.passwords import hash_password, needs_rehash, verify_password
from haizhou.security.roles import Role
from haizhou.store.tables import UserRow

__all__ = [
    "authenticate",
    "create_user",
    "deactivate",
    "find_user",
    "list_users",
    "set_password",
]

MAX_USERNAME_LENGTH = 100
# Letters (Chinese too), digits, and . _ @ -; police numbers (警号) are fine.
_USERNAME_RE = re.compile(r"[\w.@-]+")
# A valid hash of a random password: unknown usernames cost the same time as wrong passwords,
# so response times do not reveal which usernames exist.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$Atkcmrzu6k6O/pILcV2A4Q$"
    "MR+v/xASY6zHEuDas+A8pZG4gGr6WAgFRz1KgZqHhtk"
)


def _clean_username(username: str) -> str:
    if not isinstance(username, str):
        raise InputError(f"the username must be text, got {type(username).__name__}")
    name = unicodedata.normalize("NFKC", username).strip()
    if not name:
        raise InputError("the username is empty; give a name such as li.wei or a police number")
    if len(name) > MAX_USERNAME_LENGTH:
        raise InputError(
            f"the username has {len(name)} characters; use at most {MAX_USERNAME_LENGTH}"
        )
    if not _USERNAME_RE.fullmatch(name):
        raise InputError(
            f"the username {name!r} may hold only letters, digits and . _ @ - (no spaces)"
        )
    return name


def _parse_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(f"{r.value} ({r.title_zh})" for r in Role)
        raise InputError(f"unknown role {role!r}; use one of: {allowed}") from None


def find_user(*, session: Session, username: str) -> UserRow | None:
    """The account with this username (case-insensitive), active or not."""
    name = unicodedata.normalize("NFKC", username).strip() if isinstance(username, str) else ""
    if not name:
        return None
    return session.execute(
        select(UserRow).where(func.lower(UserRow.username) == name.lower())
    ).scalar_one_or_none()


def _require_user(session: Session, username: str) -> UserRow:
    user = find_user(session=session, username=username)
    if user is None:
        raise InputError(f"no user named {username!r}; see `haizhou users list`")
    return user


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: Role | str,
    jurisdiction_code: str | None = None,
    now: datetime | None = None,
) -> UserRow:
    """Create an account (新建用户).

    Parameters
    ----------
    session : Session
    username : str
        Letters (Chinese too), digits and ``. _ @ -``; at most 100 characters; unique
        regardless of case.
    password : str
        Meets :func:`~haizhou.security.passwords.check_password_policy` (≥ 10 characters).
    role : Role or str
        One of :class:`~haizhou.security.roles.Role`.
    jurisdiction_code : str, optional
        The owning jurisdiction (辖区代码). Required for station officers; ``None`` makes a
        bureau-level user who sees every jurisdiction.
    now : datetime, optional
        Creation time (timezone-aware); defaults to the current UTC time.

    Returns
    -------
    UserRow
        The new, active account, flushed (it has its ``id``).

    Raises
    ------
    InputError
        Duplicate or malformed username, unknown role, missing jurisdiction for a station
        officer; :class:`~haizhou.security.passwords.PasswordPolicyError` for a weak password.
    """
    name = _clean_username(username)
    parsed_role = _parse_role(role)
    code = jurisdiction_code.strip() if isinstance(jurisdiction_code, str) else None
    if parsed_role.requires_jurisdiction and not code:
        raise InputError(
            f"a {parsed_role.value} ({parsed_role.title_zh}) needs a jurisdiction; "
            "pass --jurisdiction CODE (the station's jurisdiction code)"
        )
    existing = find_user(session=session, username=name)
    if existing is not None:
        raise InputError(
            f"a user named {existing.username!r} already exists; choose another name, or change "
            "that user's password with set_password"
        )
    created_at = now if now is not None else datetime.now(UTC)
    if created_at.tzinfo is None:
        raise ValueError(f"creation time must be timezone-aware, got {created_at!r}")
    user = UserRow(
        username=name,
        password_hash=hash_password(password),
        role=parsed_role.value,
        jurisdiction_code=code or None,
        active=True,
        created_at=created_at,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        # Another process created the same name between our check and our insert.
        session.rollback()
        raise InputError(f"a user named {name!r} already exists; choose another name") from None
    return user


def list_users(*, session: Session, include_inactive: bool = True) -> list[UserRow]:
    """Every account, ordered by username."""
    statement = select(UserRow).order_by(func.lower(UserRow.username))
    if not include_inactive:
        statement = statement.where(UserRow.active.is_(True))
    return list(session.execute(statement).scalars())


def authenticate(*, session: Session, username: str, password: str) -> UserRow | None:
    """The active account matching username and password, else ``None`` (登录校验).

    Takes the same time for an unknown user as for a wrong password. A hash made with older,
    weaker parameters is replaced on success (the caller commits).
    """
    user = find_user(session=session, username=username)
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password if isinstance(password, str) else "")
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user


def set_password(*, session: Session, username: str, password: str) -> UserRow:
    """Replace an account's password (修改口令). Raises InputError for an unknown user."""
    user = _require_user(session, username)
    user.password_hash = hash_password(password)
    session.flush()
    return user


def deactivate(*, session: Session, username: str) -> UserRow:
    """Disable an account (停用账号); it stays for the audit trail and cannot log in."""
    user = _require_user(session, username)
    user.active = False
    session.flush()
    return user
