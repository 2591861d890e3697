"""Password hashing (口令哈希) and policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.errors import InputError
from haizhou.security.passwords import (
    PasswordPolicyError,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first = hash_password("correct horse battery staple")
    second = hash_password("correct horse battery staple")
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # random salt
    assert verify_password(first, "correct horse battery staple")
    assert verify_password(second, "correct horse battery staple")
    assert not verify_password(first, "correct horse battery stapl")
    assert not needs_rehash(first)


@settings(max_examples=3, deadline=None)
@given(password=st.text(min_size=10, max_size=40).filter(lambda p: p.strip()))
def test_any_policy_compliant_password_round_trips(password: str) -> None:
    hashed = hash_password(password)
    assert verify_password(hashed, password)
    assert not verify_password(hashed, password + "x")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "has 0 characters; use at least 10"),
        ("123456789", "has 9 characters; use at least 10"),
        (" " * 12, "only white space"),
        ("x" * 1025, "use at most 1024"),
    ],
)
def test_policy_refusals_name_the_rule(password: str, message: str) -> None:
    with pytest.raises(PasswordPolicyError, match=message) as caught:
        hash_password(password)
    assert isinstance(caught.value, InputError)
    assert password.strip() == "" or password not in str(caught.value)


def test_exactly_ten_characters_is_enough() -> None:
    check_password_policy("abcdefghij")
    check_password_policy("十个汉字的口令就够长了")


@pytest.mark.parametrize("bad_hash", ["", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$", None])
def test_malformed_hash_is_false_not_an_error(bad_hash: str | None) -> None:
    assert verify_password(bad_hash, "whatever password") is False  # type: ignore[arg-type]


def test_weaker_old_hash_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("an old password")
    assert verify_password(weak, "an old password")
    assert needs_rehash(weak)
    assert needs_rehash("garbage")
