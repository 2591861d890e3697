"""Password hashing (口令哈希) with Argon2id, and the password policy (口令策略).

Hashes are PHC strings (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``) made by argon2-cffi with
the RFC 9106 "second recommended" (low-memory) parameters: 64 MiB, 3 passes, 4 lanes. The
parameters travel inside each hash, so raising them later only needs :func:`needs_rehash` at
the next successful log-in.

References
----------
Biryukov, A., Dinu, D., Khovratovich, D., & Josefsson, S. (2021). *Argon2 Memory-Hard Function
for Password Hashing and Proof-of-Work Applications*. RFC 9106. https://doi.org/10.17487/RFC9106
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from haizhou.errors import InputError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PasswordPolicyError",
    "check_password_policy",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # beyond this, hashing is a denial-of-service lever, not security

# Immutable after construction and thread-safe: one hasher shared by every call.
_HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


class PasswordPolicyError(InputError):
    """A new password does not meet the policy; the message says which rule and what to do."""


def check_password_policy(password: str) -> None:
    """Refuse a password that breaks the policy (口令策略).

    Rules: at least 10 characters, at most 1024, and not only white space.

    Raises
    ------
    PasswordPolicyError
        Naming the rule that failed (the password itself is never echoed).

    Examples
    --------
    >>> check_password_policy("correct horse battery")
    >>> check_password_policy("short")
    Traceback (most recent call last):
    ...
    haizhou.security.passwords.PasswordPolicyError: the password has 5 characters; use at least 10 (a passphrase of several words is easiest to remember)
    """
    if not isinstance(password, str):
        raise PasswordPolicyError(f"the password must be text, got {type(password).__name__}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"the password has {_characters(len(password))}; use at least {MIN_PASSWORD_LENGTH} "
            "(a passphrase of several words is easiest to remember)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"the password has {_characters(len(password))}; use at most {MAX_PASSWORD_LENGTH}"
        )
    if not password.strip():
        raise PasswordPolicyError("the password is only white space; choose a real one")


def _characters(count: int) -> str:
    return f"{count} character" if count == 1 else f"{count} characters"


def hash_password(password: str) -> str:
    """Argon2id hash of a new password, after checking the policy.

    Parameters
    ----------
    password : str
        The new password in clear.

    Returns
    -------
    str
        A PHC-format string, salted (16 random bytes), safe to store.

    Raises
    ------
    PasswordPolicyError
        If the password breaks the policy (see :func:`check_password_policy`).
    """
    check_password_policy(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (constant-time comparison).

    A malformed or foreign hash gives ``False`` rather than an error, so a damaged user row
    cannot be used to probe the log-in.
    """
    if not isinstance(password_hash, str) or not isinstance(password, str):
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's (rehash at log-in)."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True
