"""User accounts (用户账号) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from haizhou.errors import InputError
from haizhou.security.passwords import PasswordPolicyError, verify_password
from haizhou.security.roles import Role
from haizhou.security.users import (
    authenticate,
    create_user,
    deactivate,
    find_user,
    list_users,
    set_password,
)
from haizhou.store.engine import make_engine
from haizhou.store.tables import Base, UserRow

PASSWORD = "long enough password"
NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_create_list_and_authenticate(session: Session) -> None:
    li = create_user(session=session, username="Li.Wei", password=PASSWORD, role="analyst", now=NOW)
    wang = create_user(
        session=session,
        username="王芳",
        password="另一个足够长的口令句子",
        role=Role.STATION_OFFICER,
        jurisdiction_code="320703001",
    )
    session.commit()
    assert li.id is not None and li.active and li.role == "analyst" and li.jurisdiction_code is None
    assert li.created_at == NOW
    assert wang.created_at.tzinfo is not None
    assert li.password_hash.startswith("$argon2id$") and PASSWORD not in li.password_hash
    assert [u.username for u in list_users(session=session)] == ["Li.Wei", "王芳"]
    assert authenticate(session=session, username="li.wei", password=PASSWORD) is li
    assert authenticate(session=session, username="Li.Wei", password="wrong password!") is None
    assert authenticate(session=session, username="nobody", password=PASSWORD) is None
    assert authenticate(session=session, username="王芳", password="另一个足够长的口令句子") is wang


def test_duplicate_username_is_a_clear_error_regardless_of_case(session: Session) -> None:
    create_user(session=session, username="li.wei", password=PASSWORD, role="analyst")
    with pytest.raises(InputError, match=r"a user named 'li\.wei' already exists"):
        create_user(session=session, username="LI.WEI", password=PASSWORD, role="auditor")
    assert len(list_users(session=session)) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"role": "chief"}, InputError, "unknown role 'chief'; use one of: admin"),
        ({"role": "station_officer"}, InputError, "needs a jurisdiction"),
        ({"username": "li wei"}, InputError, "only letters, digits"),
        ({"username": "  "}, InputError, "username is empty"),
        ({"username": "x" * 101}, InputError, "at most 100"),
        ({"password": "short"}, PasswordPolicyError, "at least 10"),
    ],
)
def test_bad_accounts_are_refused(
    session: Session, kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    arguments = {"username": "li.wei", "password": PASSWORD, "role": "analyst"} | kwargs
    with pytest.raises(error, match=message):
        create_user(session=session, **arguments)  # type: ignore[arg-type]
    assert list_users(session=session) == []


def test_set_password_and_deactivate(session: Session) -> None:
    create_user(session=session, username="zhao", password=PASSWORD, role="commander")
    set_password(session=session, username="ZHAO", password="a brand new passphrase")
    assert authenticate(session=session, username="zhao", password=PASSWORD) is None
    user = authenticate(session=session, username="zhao", password="a brand new passphrase")
    assert user is not None
    deactivate(session=session, username="zhao")
    session.commit()
    assert authenticate(session=session, username="zhao", password="a brand new passphrase") is None
    assert [u.active for u in list_users(session=session)] == [False]
    assert list_users(session=session, include_inactive=False) == []
    with pytest.raises(InputError, match="no user named 'ghost'"):
        set_password(session=session, username="ghost", password=PASSWORD)
    with pytest.raises(InputError, match="no user named 'ghost'"):
        deactivate(session=session, username="ghost")


def test_old_weak_hash_is_upgraded_at_login(session: Session) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    session.add(
        UserRow(username="old", password_hash=weak, role="admin", active=True, created_at=NOW)
    )
    session.flush()
    user = authenticate(session=session, username="old", password=PASSWORD)
    assert user is not None
    assert user.password_hash != weak and user.password_hash.startswith("$argon2id$v=19$m=65536")
    assert verify_password(user.password_hash, PASSWORD)
    assert find_user(session=session, username="OLD") is user
